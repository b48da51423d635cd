//! The desktop citizen: what closing the window does with transfers running or not, start at
//! login's autostart entry, and links from outside (a launch's arguments, a second launch).

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tauri::{Listener, Manager};
use tuatara_app::background::{close_keeps_running, from_outside, AUTOSTART_ARG};
use tuatara_app::state::AppState;

use crate::support::{content, wait_for, Harness, EMAIL};

/// Sets the close action and whatever else `change` says, through `settings_set`.
fn set(h: &Harness, change: impl FnOnce(&mut Value)) {
    let mut s = h.ok("settings_get", json!({}));
    change(&mut s);
    h.ok("settings_set", json!({ "settings": s }));
}

/// Whether closing the window now keeps the app running, for each close action.
fn keeps_running(h: &Harness) -> [bool; 3] {
    ["background-while-transferring", "background-always", "quit"].map(|action| {
        set(h, |s| s["closeAction"] = json!(action));
        close_keeps_running(&h.window.state::<AppState>())
    })
}

#[test]
fn closing_the_window_keeps_the_app_while_transfers_run_as_the_setting_says() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/slow.bin", &content(3 << 20, 7), 1_700_000_000).unwrap();
    h.sign_in();
    assert_eq!(keeps_running(&h), [false, true, false], "no transfers: only background-always stays");

    // A download held at 100 kB/s runs for half a minute.
    set(&h, |s| s["downloadLimit"] = json!(100_000));
    let file = h.child(&h.cloud(), "slow.bin").unwrap();
    let id = h.ok("download", json!({"handles": [file["handle"]]}))[0].as_str().unwrap().to_string();
    let state = |h: &Harness| {
        let jobs = h.ok("transfers_subscribe", json!({"onEvent": "__CHANNEL__:1"}));
        jobs.as_array().unwrap().iter().find(|j| j["id"] == id.as_str()).map(|j| j["state"].clone())
    };
    wait_for(30, "the download to run", || (state(&h) == Some(json!("active"))).then_some(()));
    assert_eq!(keeps_running(&h), [true, true, false], "a download running");

    // Paused transfers do not hold the app: they continue at the next start.
    h.ok("transfers_pause_all", json!({"paused": true}));
    wait_for(30, "the download to pause", || (state(&h) == Some(json!("paused"))).then_some(()));
    assert_eq!(keeps_running(&h), [false, true, false], "the download paused");
    h.ok("transfer_control", json!({"id": id, "action": "cancel"}));
}

#[test]
fn start_at_login_writes_the_autostart_entry_and_removes_it() {
    // auto-launch writes to $HOME/.config/autostart (XDG_CONFIG_HOME is not read): both point
    // into a throwaway home. Each test runs in a process of its own (nextest).
    let home = tempfile::tempdir().unwrap();
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CONFIG_HOME", home.path().join(".config"));
    let h = Harness::with_plugins(|b| b.plugin(tuatara_app::background::autostart_plugin()));
    let entry = home.path().join(".config/autostart/Tuatara.desktop");
    assert!(!entry.exists());

    set(&h, |s| s["startAtLogin"] = json!(true));
    let text = std::fs::read_to_string(&entry).expect("the autostart entry");
    let exec = text.lines().find_map(|l| l.strip_prefix("Exec=")).unwrap_or_default().to_string();
    let exe = std::env::current_exe().unwrap();
    assert!(exec.starts_with(exe.to_str().unwrap()) && exec.ends_with(AUTOSTART_ARG), "{text}");
    assert!(text.contains("Type=Application"), "{text}");
    assert_eq!(h.ok("settings_get", json!({}))["startAtLogin"], true);

    set(&h, |s| s["startAtLogin"] = json!(false));
    assert!(!entry.exists(), "turned off: the entry is removed");
    assert_eq!(h.reopen().ok("settings_get", json!({}))["startAtLogin"], false, "kept across a restart");
}

#[test]
fn links_from_outside_wait_for_sign_in_then_open_the_links_dialog() {
    let h = Harness::new();
    let app = h.window.app_handle().clone();
    let key = "A".repeat(43);
    let scheme = format!("mega://file/AbCdEfGh#{key}");
    let https = format!("https://mega.nz/folder/AbCdEfGh#{}", "B".repeat(22));
    let argv =
        |links: &[&str]| ["/usr/bin/tuatara"].iter().chain(links).map(|s| s.to_string()).collect::<Vec<String>>();

    // Before sign-in: kept for the window, given once.
    from_outside(&app, &argv(&[&scheme, "--verbose", &https]));
    from_outside(&app, &argv(&[]));
    assert_eq!(h.ok("startup_links", json!({})), json!([scheme, https]));
    assert_eq!(h.ok("startup_links", json!({})), json!([]), "each link is given once");

    // Signed in: the window hears of them at once.
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = heard.clone();
    app.listen("links://opened", move |e| sink.lock().unwrap().push(e.payload().to_string()));
    h.sign_in();
    from_outside(&app, &argv(&[&scheme]));
    from_outside(&app, &argv(&["--no-links-here"]));
    let heard = heard.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "{heard:?}");
    let opened: Value = serde_json::from_str(&heard[0]).unwrap();
    assert_eq!(opened, json!({"text": scheme}));
    assert_eq!(h.ok("startup_links", json!({})), json!([]));
}
