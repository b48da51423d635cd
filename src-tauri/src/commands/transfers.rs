//! Transfer commands: the progress channel, downloads, uploads and control.

use std::path::{Path, PathBuf};

use mega_transfer::Conflict;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State, WebviewWindow};

use crate::dto::{Handle, Handles, TransferAction, TransferDto, TransferEvent};
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// Subscribes this window to transfer events; returns every job now.
#[tauri::command]
pub fn transfers_subscribe<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    on_event: Channel<TransferEvent>,
) -> Vec<TransferDto> {
    state.bridge.subscribe(window.label(), on_event)
}

/// A destination folder from the UI, or the settings' download folder; created if missing.
pub(crate) fn download_dir(state: &AppState, dest: Option<String>) -> IpcResult<PathBuf> {
    let dir = PathBuf::from(dest.filter(|d| !d.trim().is_empty()).unwrap_or_else(|| state.settings().download_dir));
    if !dir.is_absolute() {
        return Err(IpcError::invalid(format!("{} is not an absolute path", dir.display())));
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Downloads nodes (folders recursively) into `dest` or the download folder.
#[tauri::command]
pub async fn download(state: State<'_, AppState>, handles: Handles, dest: Option<String>) -> IpcResult<Vec<String>> {
    let list = handles.0;
    let dir = download_dir(&state, dest)?;
    let signed = state.signed().await?;
    let mut ids = Vec::new();
    for h in list {
        ids.extend(signed.engine.download_node(h, &dir, Conflict::Rename).await?);
    }
    Ok(ids)
}

/// Uploads local files and folders (recursively) into a folder.
#[tauri::command]
pub async fn upload(state: State<'_, AppState>, paths: Vec<String>, parent: Handle) -> IpcResult<Vec<String>> {
    let parent = parent.0;
    if paths.is_empty() {
        return Err(IpcError::invalid("nothing to upload"));
    }
    let signed = state.signed().await?;
    let mut ids = Vec::new();
    for p in &paths {
        let path = Path::new(p);
        if !path.exists() {
            return Err(IpcError::not_found(format!("{p} does not exist")));
        }
        ids.extend(signed.engine.upload_path(path, parent).await?);
    }
    Ok(ids)
}

/// Pauses, resumes, cancels, retries or moves a job to the top.
#[tauri::command]
pub async fn transfer_control(state: State<'_, AppState>, id: String, action: TransferAction) -> IpcResult<()> {
    let signed = state.signed().await?;
    let e = &signed.engine;
    let known = match action {
        TransferAction::Pause => e.pause(&id),
        TransferAction::Resume => e.resume(&id),
        TransferAction::Cancel => e.cancel(&id),
        TransferAction::Retry => e.retry(&id),
        TransferAction::Top => e.move_to_top(&id),
    };
    known.then_some(()).ok_or_else(|| IpcError::not_found(format!("no transfer {id} to {action:?}")))
}

/// Pauses or resumes every job.
#[tauri::command]
pub async fn transfers_pause_all(state: State<'_, AppState>, paused: bool) -> IpcResult<()> {
    let signed = state.signed().await?;
    if paused {
        signed.engine.pause_all();
    } else {
        signed.engine.resume_all();
    }
    Ok(())
}

/// Removes finished, failed and cancelled jobs from the list.
#[tauri::command]
pub fn transfers_clear_finished(state: State<'_, AppState>) {
    state.bridge.clear_finished();
}

/// Shows a finished download in the file manager.
#[tauri::command]
pub fn reveal<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, id: String) -> IpcResult<()> {
    let job = state.bridge.job(&id).ok_or_else(|| IpcError::not_found(format!("no transfer {id}")))?;
    let path = job.path.ok_or_else(|| IpcError::invalid("only a finished download can be shown"))?;
    let opener = app
        .try_state::<tauri_plugin_opener::Opener<R>>()
        .ok_or_else(|| IpcError::internal("no file manager to show it in"))?;
    opener.reveal_item_in_dir(&path).map_err(|e| IpcError::new(crate::error::IpcErrorKind::Io, e.to_string()))
}

/// Paths the OS dropped on windows, newest last (kept for the end-to-end tests; the UI gets
/// drops from Tauri's own `tauri://drag-drop` event). Not granted to the webview by default.
#[tauri::command]
pub fn dropped_paths(state: State<'_, AppState>) -> Vec<Vec<String>> {
    state.drops.lock().unwrap_or_else(|e| e.into_inner()).clone()
}
