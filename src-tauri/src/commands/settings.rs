//! Settings commands: read, and validate-save-apply (speed limits at once).

use tauri::{AppHandle, Manager, Runtime, State};
use tuatara_core::diagnostics::{write, Face};

use crate::dto::Settings;
use crate::error::{IpcError, IpcResult};
use crate::state::AppState;

/// The settings in force.
#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> Settings {
    state.settings()
}

/// Validates and saves the settings, then applies the speed limits and schedule to the running engine. A
/// bad value is refused and nothing changes. Connections and files at once apply from the next
/// sign-in. Start at login is turned on or off at once (its entry written or removed) when it
/// changes; the close action holds from the next close.
#[tauri::command]
pub async fn settings_set<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    settings: Settings,
) -> IpcResult<()> {
    settings.validate()?;
    if settings.start_at_login != state.settings().start_at_login {
        crate::background::set_start_at_login(&app, settings.start_at_login)?;
    }
    state.settings_file.save(&settings)?;
    if let Some(signed) = state.signed.read().await.as_ref() {
        settings.apply_limits(&signed.engine);
    }
    *state.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    Ok(())
}

/// Writes a report for a bug report to `path` (the user's alone): versions, where things live,
/// the settings, the unfinished transfers, the watches, the links ledger's counts and the last
/// lines of the app's log, every line with session ids, keys and link keys redacted
/// (`tuatara_core::diagnostics`).
#[tauri::command]
pub fn diagnostics_export<R: Runtime>(app: AppHandle<R>, state: State<'_, AppState>, path: String) -> IpcResult<()> {
    let path = path.trim();
    if path.is_empty() {
        return Err(IpcError::invalid("no file given"));
    }
    // tauri-plugin-log's file: the app's log dir, named after the app.
    let log = app.path().app_log_dir().ok().map(|d| d.join(format!("{}.log", app.package_info().name)));
    let face = Face { name: "tuatara", version: env!("CARGO_PKG_VERSION"), log: log.as_deref() };
    Ok(write(std::path::Path::new(path), &state.dirs, face)?)
}
