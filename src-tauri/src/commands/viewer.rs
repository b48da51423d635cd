//! The viewer's commands: a file's URL on the app's loopback stream server (own drive,
//! incoming shares, a file inside a public folder link before any import), what its stream
//! says of its integrity, the start of a text file, pieces of a file (the PDF viewer's), the
//! stored preview, and opening a stream in the system's player. The server, its token and the reading are `tuatara_core::serve`'s
//! ([`Streams`](tuatara_core::serve::Streams)).

use mega_transfer::Integrity;
use tauri::{AppHandle, Manager, Runtime, State};
use tuatara_core::serve::FileTarget;

use crate::dto::{Handle, StreamDto, StreamIntegrity, StreamVerdict, TextPreview};
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// How much of a text file the viewer shows.
const TEXT_PREVIEW_BYTES: u64 = 64 * 1024;

/// The stream of `file` in the signed-in session.
async fn stream_of(state: &AppState, file: FileTarget) -> IpcResult<StreamDto> {
    let (name, size) = (file.name.clone(), file.size);
    let url = state.streams().await?.url(file)?;
    Ok(StreamDto { id: url.id, url: url.url, name, size })
}

/// The stream URL of a file of the account (the drive, the rubbish bin, an incoming share).
#[tauri::command]
pub async fn stream_url(state: State<'_, AppState>, handle: Handle) -> IpcResult<StreamDto> {
    let signed = state.signed().await?;
    let file = FileTarget::own(&*signed.tree.lock().await, handle.0)?;
    stream_of(&state, file).await
}

/// The stream URL of a file inside a public folder link, before anything is imported (the
/// link is opened once a session).
#[tauri::command]
pub async fn folder_link_stream_url(state: State<'_, AppState>, link: String, handle: Handle) -> IpcResult<StreamDto> {
    let signed = state.signed().await?;
    let link = tuatara_core::links::resolve(&link, None, None).await?;
    let file = state.streams().await?.folder_link_file(signed.session.client(), &link, handle.0).await?;
    stream_of(&state, file).await
}

/// What stream `id` can say of its file: verified only once every byte was read.
#[tauri::command]
pub async fn stream_integrity(state: State<'_, AppState>, id: String) -> IpcResult<StreamIntegrity> {
    let integrity = state.streams().await?.integrity(&id).ok_or_else(|| unknown(&id))?;
    Ok(match integrity {
        Integrity::Verified => StreamIntegrity { verdict: StreamVerdict::Verified, seen: 0, chunks: 0 },
        Integrity::Unverified { seen, chunks } => StreamIntegrity { verdict: StreamVerdict::Unverified, seen, chunks },
        Integrity::Mismatch => StreamIntegrity { verdict: StreamVerdict::Mismatch, seen: 0, chunks: 0 },
    })
}

/// The start of stream `id`'s file as text (its first 64 KiB).
#[tauri::command]
pub async fn stream_text(state: State<'_, AppState>, id: String) -> IpcResult<TextPreview> {
    let streams = state.streams().await?;
    let bytes = streams.read(&id, 0..TEXT_PREVIEW_BYTES + 1).await?.ok_or_else(|| unknown(&id))?;
    let truncated = bytes.len() as u64 > TEXT_PREVIEW_BYTES;
    let shown = &bytes[..bytes.len().min(TEXT_PREVIEW_BYTES as usize)];
    Ok(TextPreview { text: String::from_utf8_lossy(shown).into_owned(), truncated })
}

/// The most [`stream_read`] gives at once.
const READ_MAX: u64 = 1 << 20;

/// Bytes `offset..offset + length` of stream `id`'s file (at most 1 MiB, cut to its size), as
/// base64: the pieces the UI's PDF viewer asks for, over IPC (no `connect-src` in the CSP).
#[tauri::command]
pub async fn stream_read(state: State<'_, AppState>, id: String, offset: u64, length: u64) -> IpcResult<String> {
    use base64::Engine as _;
    if length > READ_MAX {
        return Err(IpcError::invalid(format!("at most {READ_MAX} bytes at once")));
    }
    let end = offset.saturating_add(length);
    let bytes = state.streams().await?.read(&id, offset..end).await?.ok_or_else(|| unknown(&id))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Opens stream `id` in the system's player for its type.
#[tauri::command]
pub async fn stream_open_external<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
) -> IpcResult<()> {
    let url = state.streams().await?.url_of(&id).ok_or_else(|| unknown(&id))?;
    let opener = app
        .try_state::<tauri_plugin_opener::Opener<R>>()
        .ok_or_else(|| IpcError::internal("no player to open it in"))?;
    opener.open_url(url, None::<&str>).map_err(|e| IpcError::new(crate::error::IpcErrorKind::Io, e.to_string()))
}

/// A file's stored preview (a larger picture than the thumbnail) as a `data:` URL, or `None`.
#[tauri::command]
pub async fn preview(state: State<'_, AppState>, handle: Handle) -> IpcResult<Option<String>> {
    crate::commands::drive::picture(&state, handle, mega_api::FileAttribute::Preview).await
}

fn unknown(id: &str) -> IpcError {
    IpcError::not_found(format!("no stream {id} in this session"))
}
