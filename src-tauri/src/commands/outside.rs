//! Links from outside: those the app was launched with, or handed over by a second launch
//! before the window signed in (`crate::background`).

use tauri::State;

use crate::state::AppState;

/// The links from outside waiting for the window (`mega:` and `https://mega.nz/` arguments),
/// each given once.
#[tauri::command]
pub fn startup_links(state: State<'_, AppState>) -> Vec<String> {
    crate::background::startup_links(&state)
}
