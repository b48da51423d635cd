//! Watched folders (a local folder backed up into a remote one) and watched links files (new
//! links downloaded into a folder), through `tuatara_core::watches`: kept in the data dir,
//! shared with `tuatara-cli watch`, and run at each sign-in (a watch added, paused or removed
//! here is picked up by the running watches within a second).

use std::path::PathBuf;

use tauri::State;
use tuatara_core::watches::{Watch, WatchKind};

use crate::dto::{WatchDto, WatchKindDto};
use crate::error::IpcResult;
use crate::state::AppState;

fn dto(w: Watch) -> WatchDto {
    let (kind, local, remote, trash_deleted, ignore) = match w.kind {
        WatchKind::Upload { local, remote, trash_deleted, ignore } => {
            (WatchKindDto::Upload, local, remote, trash_deleted, ignore)
        }
        WatchKind::Links { source, dest } => {
            (WatchKindDto::Links, source, dest.to_string_lossy().into_owned(), false, Vec::new())
        }
    };
    WatchDto {
        id: w.id,
        kind,
        local: local.to_string_lossy().into_owned(),
        remote,
        paused: w.paused,
        last_activity: w.last_activity,
        error: w.errors.last().map(|e| e.message.clone()),
        uploaded: w.done,
        trash_deleted,
        ignore,
    }
}

/// Every watch.
#[tauri::command]
pub fn watch_list(state: State<'_, AppState>) -> IpcResult<Vec<WatchDto>> {
    Ok(state.watches.list()?.into_iter().map(dto).collect())
}

/// Backs a local folder up into a remote folder (a path from the cloud drive, created when
/// missing), skipping names that match `ignore` (`*` and `?`); local deletions go to the
/// rubbish bin only with `trashDeleted`.
#[tauri::command]
pub async fn watch_add(
    state: State<'_, AppState>,
    local: String,
    remote: String,
    ignore: Option<Vec<String>>,
    trash_deleted: Option<bool>,
) -> IpcResult<WatchDto> {
    state.signed().await?;
    let kind = WatchKind::Upload {
        local: PathBuf::from(local.trim()),
        remote,
        trash_deleted: trash_deleted.unwrap_or(false),
        ignore: ignore.unwrap_or_default(),
    };
    Ok(dto(state.watches.add(kind)?))
}

/// Watches a links file (or a folder of `.txt` / `.links` files): the MEGA links in it now and
/// those added later are downloaded into `dest` (created), each once.
#[tauri::command]
pub async fn watch_add_links(state: State<'_, AppState>, source: String, dest: String) -> IpcResult<WatchDto> {
    state.signed().await?;
    let kind = WatchKind::Links { source: PathBuf::from(source.trim()), dest: PathBuf::from(dest.trim()) };
    Ok(dto(state.watches.add(kind)?))
}

/// Pauses or resumes a watch.
#[tauri::command]
pub async fn watch_pause(state: State<'_, AppState>, id: String, paused: bool) -> IpcResult<()> {
    Ok(state.watches.set_paused(&[id], paused)?)
}

/// Stops and forgets a watch (nothing is deleted, locally or remotely).
#[tauri::command]
pub async fn watch_remove(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    state.watches.remove(&[id])?;
    Ok(())
}
