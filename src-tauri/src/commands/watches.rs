//! Watched folders: a local folder backed up into a remote one (`mega_transfer::watch`),
//! persisted in the data dir and started again at each sign-in.

use std::path::PathBuf;

use mega_transfer::watch::{self, Watch, WatchKind};
use tauri::State;

use crate::dto::{WatchDto, WatchKindDto};
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

fn dto(w: Watch) -> WatchDto {
    let (kind, local, remote) = match w.kind {
        WatchKind::Upload { local, remote, .. } => (WatchKindDto::Upload, local, remote),
        WatchKind::Links { source, dest } => (WatchKindDto::Links, source, dest.to_string_lossy().into_owned()),
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
    }
}

/// Every watch.
#[tauri::command]
pub fn watch_list(state: State<'_, AppState>) -> IpcResult<Vec<WatchDto>> {
    Ok(state.watch_store.list()?.into_iter().map(dto).collect())
}

/// Backs a local folder up into a remote folder (a path from the cloud drive, created when
/// missing) and starts it.
#[tauri::command]
pub async fn watch_add(state: State<'_, AppState>, local: String, remote: String) -> IpcResult<WatchDto> {
    let local = PathBuf::from(local.trim());
    if !local.is_absolute() || !local.is_dir() {
        return Err(IpcError::invalid(format!("{} is not a folder", local.display())));
    }
    let remote = format!("/{}", remote.trim().trim_start_matches('/'));
    let signed = state.signed().await?;
    let w = state.watch_store.add(WatchKind::Upload { local, remote, trash_deleted: false, ignore: Vec::new() })?;
    match watch::start(&signed.engine, &state.watch_store, &w.id, watch::RunOptions::default()).await {
        Ok(h) => {
            signed.watches.lock().await.insert(w.id.clone(), h);
            Ok(dto(w))
        }
        Err(e) => {
            // A watch that cannot run is not kept half-added.
            let _ = state.watch_store.remove(&w.id);
            Err(e.into())
        }
    }
}

/// Pauses or resumes a watch.
#[tauri::command]
pub async fn watch_pause(state: State<'_, AppState>, id: String, paused: bool) -> IpcResult<()> {
    state.watch_store.set_paused(&id, paused)?;
    let signed = state.signed().await?;
    let mut running = signed.watches.lock().await;
    if paused {
        if let Some(h) = running.remove(&id) {
            h.stop().await;
        }
    } else if let std::collections::hash_map::Entry::Vacant(slot) = running.entry(id.clone()) {
        slot.insert(watch::start(&signed.engine, &state.watch_store, &id, watch::RunOptions::default()).await?);
    }
    Ok(())
}

/// Stops and forgets a watch (nothing is deleted, locally or remotely).
#[tauri::command]
pub async fn watch_remove(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    if let Some(signed) = state.signed.read().await.clone() {
        if let Some(h) = signed.watches.lock().await.remove(&id) {
            h.stop().await;
        }
    }
    state.watch_store.remove(&id)?;
    Ok(())
}
