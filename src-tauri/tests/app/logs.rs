//! The libraries' `tracing` events reach the app's log (issue 15, "logs that arrive"): with no
//! tracing subscriber in the app, they arrive as `log` records, which `tauri-plugin-log` writes
//! to the log file. Here a logger of the test's own stands where the plugin stands (the plugin
//! needs a real runtime), and a sign-in, an upload and a download with the server failing some
//! requests must show the client's retries, and never the password, a session id or the
//! master key.

use std::sync::Mutex;

use serde_json::json;

use crate::support::{wait_for, Harness, EMAIL, PASSWORD};

/// Every record, one line each.
static LINES: Mutex<String> = Mutex::new(String::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, r: &log::Record<'_>) {
        let line = format!("{} {} {}\n", r.level(), r.target(), r.args());
        LINES.lock().unwrap_or_else(|e| e.into_inner()).push_str(&line);
    }

    fn flush(&self) {}
}

#[test]
fn library_events_reach_the_apps_log_and_hold_no_secret() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
    let h = Harness::new();
    h.server.set_faults(mega_testserver::faults::Faults { eagain: 0.15, http500: 0.1, ..Default::default() });
    h.sign_in();
    let local = h.dir.path().join("logged.bin");
    std::fs::write(&local, vec![7u8; 300_000]).unwrap();
    let ids = h.ok("upload", json!({"paths": [local.to_string_lossy()], "parent": h.cloud()}));
    let id = ids[0].as_str().unwrap().to_string();
    wait_for(60, "the upload to finish", || {
        let jobs = h.ok("transfers_subscribe", json!({"onEvent": "__CHANNEL__:1"}));
        jobs.as_array()?.iter().find(|j| j["id"] == id && j["state"] == "done").cloned()
    });
    // The faults are random: should no request of those have failed, a few more commands
    // until one is retried (each fails at least once with a chance of one in four).
    let retried = || LINES.lock().unwrap_or_else(|e| e.into_inner()).contains("retrying request");
    for _ in 0..60 {
        if retried() {
            break;
        }
        h.ok("quota", json!({}));
    }
    h.server.set_faults(mega_testserver::faults::Faults::default());

    let logs = LINES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(logs.contains("mega_api"), "the client's events arrive as log records: {logs}");
    assert!(logs.contains("retrying request"), "the retries of the server's faults are in the log: {logs}");
    let (master, sids) = h.server.account_secrets(EMAIL).unwrap();
    assert!(!sids.is_empty());
    let hex: String = master.iter().map(|b| format!("{b:02x}")).collect();
    let mut secrets = vec![PASSWORD.to_string(), mega_proto::b64::encode(&master), hex];
    secrets.extend(sids);
    for s in &secrets {
        assert!(!logs.contains(s.as_str()), "a secret reached the log");
    }
}
