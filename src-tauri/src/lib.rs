//! Tuatara's desktop app: a thin Tauri shell over `mega-api` (sessions, the node tree, links)
//! and `mega-transfer` (the verified, resumable transfer engine and watched folders).
//!
//! The web UI in `ui/` talks to it through the commands and events of docs/IPC.md: commands in
//! [`commands`] unpack the state, make one library call and map errors to the UI's kinds
//! ([`error`]); transfer progress goes over one channel per window ([`bridge`]); the DTOs in
//! [`dto`] generate the UI's TypeScript types. The commands are declared once, in the table
//! of [`command_list`]: the handler, the permissions and the UI's typed wrappers ([`ipc`])
//! come from it. Nothing here knows HTTP or crypto. [`setup`] is
//! generic over the runtime so tests run every command on Tauri's mock runtime against a real
//! `mega-testserver`; [`run`] adds the OS plugins and opens the window.

pub mod background;
pub mod bridge;
pub mod command_list;
pub mod commands;
pub mod demo;
pub mod dto;
pub mod error;
pub mod ipc;
pub mod nodes;
pub mod state;
pub mod viewer;

use tauri::{Emitter, Manager, Runtime};
pub use tuatara_core::dirs;

use crate::dto::LinksOpened;
use crate::state::AppState;

/// `tauri::generate_handler!` over the command table; the debug-only commands in debug builds.
macro_rules! handler {
    (
        app: [$($mode:ident $module:ident :: $name:ident $inj:tt $args:tt -> $ret:ty;)*]
        debug_only: [$($dmode:ident $dmodule:ident :: $dname:ident $dinj:tt $dargs:tt -> $dret:ty;)*]
    ) => {
        tauri::generate_handler![
            $(commands::$module::$name,)*
            $(#[cfg(debug_assertions)] commands::$dmodule::$dname,)*
        ]
    };
}

/// The commands, the state (over `dirs`) and the drop record: everything but the OS plugins.
pub fn setup<R: Runtime>(builder: tauri::Builder<R>, dirs: dirs::Dirs) -> Result<tauri::Builder<R>, error::IpcError> {
    setup_with_streams(builder, dirs, None)
}

/// [`setup`] with the viewer's stream server bound already (its origin in the window's CSP,
/// [`viewer`]); without one it is bound at its first use.
pub fn setup_with_streams<R: Runtime>(
    builder: tauri::Builder<R>,
    dirs: dirs::Dirs,
    streams: Option<tuatara_core::serve::Streams>,
) -> Result<tauri::Builder<R>, error::IpcError> {
    let state = AppState::new(dirs)?;
    if let Some(streams) = streams {
        let _ = state.streams.set(streams);
    }
    Ok(builder
        .manage(state)
        .on_window_event(|window, event| {
            background::on_window_event(window, event);
            if let tauri::WindowEvent::DragDrop(tauri::DragDropEvent::Drop { paths, .. }) = event {
                let paths = paths.iter().map(|p| p.to_string_lossy().into_owned()).collect();
                window.state::<AppState>().drops.lock().unwrap_or_else(|e| e.into_inner()).push(paths);
            }
        })
        .invoke_handler(command_list::ipc_commands!(handler)))
}

/// The app's context (config, icons, the frontend, the capabilities' ACL), for any runtime:
/// the tests boot the real ACL on the mock runtime.
pub fn context<R: Runtime>() -> tauri::Context<R> {
    tauri::generate_context!()
}

/// Tells the windows about links that came from outside (deep link, second launch,
/// clipboard) and brings the main window forward.
pub fn links_opened<R: Runtime>(app: &tauri::AppHandle<R>, text: String) {
    if tuatara_core::links::extract(&text).is_empty() {
        return;
    }
    background::show_main(app);
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

/// Runs the app: single instance (a second launch hands its links over and brings the window
/// forward), the links of its own launch (`mega:` and `https://mega.nz/`), deep links, the tray
/// and start at login ([`background`]), dialogs, notifications, window state, logs, the opener
/// and the clipboard.
pub fn run() {
    let dirs = match tuatara_core::Dirs::from_env() {
        Ok(d) => d,
        Err(e) => {
            log::error!("tuatara cannot start: {e}");
            std::process::exit(1);
        }
    };
    let builder = tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, argv, _cwd| background::from_outside(app, &argv)))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(background::autostart_plugin())
        .plugin(tauri_plugin_log::Builder::new().level(log::LevelFilter::Info).build())
        .plugin(tauri_plugin_window_state::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            let args: Vec<String> = std::env::args().collect();
            let launch = tuatara_core::links::links_in_args(&args);
            app.state::<AppState>().outside_links.lock().unwrap_or_else(|e| e.into_inner()).extend(launch);
            if args.iter().any(|a| a == background::AUTOSTART_ARG) {
                if let Some(w) = app.get_webview_window("main") {
                    let _ = w.minimize();
                }
            }
            // On Linux and Windows a URL opened from outside starts the app with it as its
            // argument: the launch's own arguments or the single-instance callback take it.
            // macOS hands it over to the running app instead.
            #[cfg(target_os = "macos")]
            {
                use tauri_plugin_deep_link::DeepLinkExt;
                let handle = app.handle().clone();
                app.deep_link().on_open_url(move |event| {
                    let text = event.urls().iter().map(|u| u.to_string()).collect::<Vec<_>>().join("\n");
                    links_opened(&handle, text);
                });
            }
            background::register_handler(app.handle());
            background::setup_tray(app.handle());
            tauri::async_runtime::spawn(watch_clipboard(app.handle().clone()));
            Ok(())
        });
    // The stream server first: its origin goes into the window's CSP.
    let streams = viewer::bind_streams();
    let mut context = context();
    if let Some(s) = &streams {
        viewer::allow_stream_origin(&mut context, &s.origin());
    }
    let built = match setup_with_streams(builder, dirs, streams) {
        Ok(b) => b,
        Err(e) => {
            log::error!("tuatara cannot start: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = built.run(context) {
        log::error!("tuatara stopped: {e}");
        std::process::exit(1);
    }
}
