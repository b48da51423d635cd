//! Tuatara's desktop app: a thin Tauri shell over `mega-api` (sessions, the node tree, links)
//! and `mega-transfer` (the verified, resumable transfer engine and watched folders).
//!
//! The web UI in `ui/` talks to it through the commands and events of docs/IPC.md: commands in
//! [`commands`] unpack the state, make one library call and map errors to the UI's kinds
//! ([`error`]); transfer progress goes over one channel per window ([`bridge`]); the DTOs in
//! [`dto`] generate the UI's TypeScript types. Nothing here knows HTTP or crypto. [`setup`] is
//! generic over the runtime so tests run every command on Tauri's mock runtime against a real
//! `mega-testserver`; [`run`] adds the OS plugins and opens the window.

pub mod bridge;
pub mod command_list;
pub mod commands;
pub mod dedupe;
pub mod demo;
pub mod dirs;
pub mod dto;
pub mod error;
pub mod links;
pub mod nodes;
pub mod settings;
pub mod state;
pub mod thumbs;
pub mod vault;

use tauri::{Emitter, Manager, Runtime};

use crate::dto::LinksOpened;
use crate::state::AppState;

/// The commands, the state (over `dirs`) and the drop record: everything but the OS plugins.
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, dirs: dirs::Dirs) -> Result<tauri::Builder<R>, error::IpcError> {
    let state = AppState::new(dirs)?;
    Ok(builder
        .manage(state)
        .on_window_event(|window, event| {
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                let paths = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                window.state::<AppState>().drops.lock().unwrap_or_else(|e| e.into_inner()).push(paths);
            }
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::app_info,
            commands::session::session_restore,
            commands::session::login,
            commands::session::submit_mfa,
            commands::session::open_demo,
            commands::session::logout,
            commands::drive::quota,
            commands::drive::roots,
            commands::drive::list_folder,
            commands::drive::subfolders,
            commands::drive::search,
            commands::drive::thumbnail,
            commands::drive::properties,
            commands::drive::mkdir,
            commands::drive::rename,
            commands::drive::move_nodes,
            commands::drive::trash,
            commands::drive::restore,
            commands::drive::delete_forever,
            commands::drive::get_link,
            commands::drive::export_folder_links,
            commands::drive::resolve_duplicates,
            commands::transfers::transfers_subscribe,
            commands::transfers::download,
            commands::transfers::upload,
            commands::transfers::transfer_control,
            commands::transfers::transfers_pause_all,
            commands::transfers::transfers_clear_finished,
            commands::transfers::reveal,
            commands::transfers::dropped_paths,
            commands::links::links_check,
            commands::links::links_unlock,
            commands::links::links_download,
            commands::links::links_import,
            commands::links::folder_link_open,
            commands::links::folder_link_download,
            commands::watches::watch_list,
            commands::watches::watch_add,
            commands::watches::watch_add_links,
            commands::watches::watch_pause,
            commands::watches::watch_remove,
            commands::settings::settings_get,
            commands::settings::settings_set,
        ]))
}

/// The app's context (config, icons, the frontend, the capabilities' ACL), for any runtime:
/// the tests boot the real ACL on the mock runtime.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// Tells the windows about links that came from outside (deep link, second launch,
/// clipboard) and brings the main window forward.
pub fn links_opened<R: Runtime>(app: &tauri::AppHandle<R>, text: String) {
    if mega_proto::extract::extract_links(&text).is_empty() {
        return;
    }
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
    let _ = app.emit("links://opened", LinksOpened { text });
}

/// Watches the clipboard for MEGA links while the setting is on.
async fn watch_clipboard<R: Runtime>(app: tauri::AppHandle<R>) {
    use tauri_plugin_clipboard_manager::ClipboardExt;
    let mut last = String::new();
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        if !app.state::<AppState>().settings().watch_clipboard {
            continue;
        }
        let Ok(text) = app.clipboard().read_text() else { continue };
        if text != last {
            last.clone_from(&text);
            links_opened(&app, text);
        }
    }
}

/// Runs the app: single instance (a second launch hands its links over), deep links
/// (`mega:` and `https://mega.nz/`), dialogs, notifications, window state, logs, the opener and
/// the clipboard.
pub fn run() {
    let dirs = match dirs::Dirs::from_env() {
        Ok(d) => d,
        Err(e) => {
            log::error!("tuatara cannot start: {e}");
            std::process::exit(1);
        }
    };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| links_opened(app, argv.join("\n"))))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_log::Builder::new().level(log::LevelFilter::Info).build())
        .plugin(tauri_plugin_window_state::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            use tauri_plugin_deep_link::DeepLinkExt;
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                let text = event.urls().iter().map(|u| u.to_string()).collect::<Vec<_>>().join("\n");
                links_opened(&handle, text);
            });
            tauri::async_runtime::spawn(watch_clipboard(app.handle().clone()));
            Ok(())
        });
    let built = match setup(builder, dirs) {
        Ok(b) => b,
        Err(e) => {
            log::error!("tuatara cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = built.run(context()) {
        log::error!("tuatara stopped: {e}");
        std::process::exit(1);
    }
}
