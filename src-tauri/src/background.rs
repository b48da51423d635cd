//! The app as a desktop citizen: links from outside (a launch's arguments, a second launch
//! handing its own over), transfers that outlive the window (closing it hides it while
//! transfers run, as the `closeAction` setting says), the tray where a tray host exists, and
//! start at login (`startAtLogin`, through tauri-plugin-autostart).
//!
//! The decisions are `tuatara-core`'s ([`tuatara_core::links::links_in_args`],
//! [`tuatara_core::settings::CloseAction`]); this is the Tauri glue around them.

use tauri::{AppHandle, Emitter, Manager, Runtime, Window, WindowEvent};
use tuatara_core::links::links_in_args;

use crate::dto::LinksOpened;
use crate::error::{IpcError, IpcResult};
use crate::state::{show_notification, AppState};

/// The argument a start at login passes (the window starts minimized; the session restored
/// by the window continues the unfinished transfers).
pub const AUTOSTART_ARG: &str = "--autostart";

/// The main window's label.
const MAIN: &str = "main";

/// Whether closing the window now keeps the app running (transfers running or not, and the
/// `closeAction` setting).
pub fn close_keeps_running(state: &AppState) -> bool {
    state.settings().close_action.keeps_running(state.bridge.running())
}

/// The window events of the background mode: a close request hides the main window instead
/// when the app keeps running ([`close_keeps_running`]) and says so (the tray icon shows it is
/// there; without a tray host, a desktop notification).
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else { return };
    if window.label() != MAIN || !close_keeps_running(&window.state::<AppState>()) {
        return;
    }
    api.prevent_close();
    if let Err(e) = window.hide() {
        log::warn!("the window could not be hidden: {e}");
    }
    log::info!("the window is closed; Tuatara keeps running in the background");
    let app = window.app_handle();
    if !app.try_state::<Tray>().is_some_and(|t| t.0) {
        show_notification(
            app,
            "Tuatara keeps running".to_string(),
            "Transfers go on in the background. Open Tuatara again to see them.".to_string(),
        );
    }
}

/// Brings the main window forward: shown, unminimized, focused.
pub fn show_main<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN) {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

/// A launch handed over by a second one (the single-instance callback): the window comes
/// forward and the links among its arguments open in the links dialog.
pub fn from_outside<R: Runtime>(app: &AppHandle<R>, argv: &[String]) {
    show_main(app);
    let links = links_in_args(argv);
    if !links.is_empty() {
        log::info!("{} links came from another launch", links.len());
        open_links(app, links);
    }
}

/// Links from outside to the links dialog: told to a signed-in window (`links://opened`), or
/// kept for the window to take once signed in ([`startup_links`]).
pub fn open_links<R: Runtime>(app: &AppHandle<R>, links: Vec<String>) {
    let state = app.state::<AppState>();
    let signed = state.signed.try_read().is_ok_and(|s| s.is_some());
    if signed {
        let _ = app.emit("links://opened", LinksOpened { text: links.join("\n") });
    } else {
        state.outside_links.lock().unwrap_or_else(|e| e.into_inner()).extend(links);
    }
}

/// Links from outside kept for the window: those of the launch and those handed over before
/// signing in, each given once.
pub fn startup_links(state: &AppState) -> Vec<String> {
    std::mem::take(&mut *state.outside_links.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Turns start at login on or off (the autostart entry: `~/.config/autostart/Tuatara.desktop`
/// on Linux, starting the app with [`AUTOSTART_ARG`]). Without the plugin (the tests' usual
/// mock app) there is nothing to turn.
pub fn set_start_at_login<R: Runtime>(app: &AppHandle<R>, on: bool) -> IpcResult<()> {
    use tauri_plugin_autostart::AutoLaunchManager;
    let Some(manager) = app.try_state::<AutoLaunchManager>() else { return Ok(()) };
    let done = if on { manager.enable() } else { manager.disable() };
    done.map_err(|e| IpcError::new(crate::error::IpcErrorKind::Io, format!("start at login: {e}")))
}

/// The autostart plugin, starting the app with [`AUTOSTART_ARG`].
pub fn autostart_plugin<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_autostart::Builder::new().arg(AUTOSTART_ARG).build()
}

/// Whether the app has a tray icon (managed once the tray was set up).
struct Tray(bool);

/// A tray icon with Open, Pause all and Quit, where a tray host (a StatusNotifierItem watcher
/// on the session bus) exists; without one nothing is made and closing the window notifies
/// instead.
pub fn setup_tray<R: Runtime>(app: &AppHandle<R>) {
    let made = tray_host() && make_tray(app).inspect_err(|e| log::warn!("no tray icon: {e}")).is_ok();
    log::info!("tray icon: {}", if made { "shown" } else { "none (no tray host)" });
    app.manage(Tray(made));
}

fn make_tray<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    use tauri::menu::{Menu, MenuItem};
    use tauri::tray::TrayIconBuilder;
    let open = MenuItem::with_id(app, "open", "Open Tuatara", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause-all", "Pause all transfers", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &pause, &quit])?;
    let mut tray =
        TrayIconBuilder::with_id(MAIN).tooltip("Tuatara").menu(&menu).on_menu_event(|app, event| {
            match event.id().as_ref() {
                "open" => show_main(app),
                "pause-all" => {
                    let app = app.clone();
                    tauri::async_runtime::spawn(async move {
                        if let Ok(signed) = app.state::<AppState>().signed().await {
                            signed.engine.pause_all();
                        }
                    });
                }
                "quit" => app.exit(0),
                _ => {}
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// Whether a tray host is there: the StatusNotifierItem watcher owns its name on the session
/// bus (the desktop's panel, or an AppIndicator extension). Under Xvfb there is none.
#[cfg(target_os = "linux")]
fn tray_host() -> bool {
    let has_owner = || -> zbus::Result<bool> {
        let bus = zbus::blocking::Connection::session()?;
        let name = zbus::names::BusName::try_from("org.kde.StatusNotifierWatcher")?;
        Ok(zbus::blocking::fdo::DBusProxy::new(&bus)?.name_has_owner(name)?)
    };
    has_owner().unwrap_or(false)
}

/// Elsewhere the system tray is always there.
#[cfg(not(target_os = "linux"))]
fn tray_host() -> bool {
    true
}

/// Makes this run the handler of `mega:` URLs where no installed package is: a run from a
/// build (`make run`, an unpacked binary) writes its desktop entry into the user's
/// applications (tauri-plugin-deep-link's `register_all`). An installed package's desktop
/// entry (`MimeType=x-scheme-handler/mega;`, `Exec=tuatara %u`) declares it already, and a run
/// with directories of its own (`TUATARA_CONFIG_DIR`: the tests) leaves the user's desktop
/// alone.
pub fn register_handler<R: Runtime>(app: &AppHandle<R>) {
    use tauri_plugin_deep_link::DeepLinkExt;
    let installed = std::env::current_exe().is_ok_and(|p| p.starts_with("/usr") || p.starts_with("/opt"));
    if installed || std::env::var_os("TUATARA_CONFIG_DIR").is_some() {
        return;
    }
    // Another handler (an installed package's) stays; this run's own entry is brought up to
    // date (its `Exec` follows the binary).
    let ours = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|n| format!("{}-handler.desktop", n.to_string_lossy())));
    let handler = std::process::Command::new("xdg-mime")
        .args(["query", "default", "x-scheme-handler/mega"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if !handler.is_empty() && Some(&handler) != ours.as_ref() {
        return;
    }
    if let Err(e) = app.deep_link().register_all() {
        log::warn!("mega: links are not handled by this run: {e}");
    }
}
