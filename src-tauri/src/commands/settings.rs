//! Settings commands: read, and validate-save-apply (speed limits at once).

use tauri::State;

use crate::dto::Settings;
use crate::error::IpcResult;
use crate::state::AppState;

/// The settings in force.
#[tauri::command]
pub fn settings_get(state: State<'_, AppState>) -> Settings {
    state.settings()
}

/// Validates and saves the settings, then applies the speed limits and schedule to the running engine. A
/// bad value is refused and nothing changes. Connections and files at once apply from the next
/// sign-in.
#[tauri::command]
pub async fn settings_set(state: State<'_, AppState>, settings: Settings) -> IpcResult<()> {
    state.settings_file.save(&settings)?;
    if let Some(signed) = state.signed.read().await.as_ref() {
        settings.apply_limits(&signed.engine);
    }
    *state.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    Ok(())
}
