//! The capabilities decide what the webview may call: commands and plugin calls they do not
//! grant are refused before they run.

use serde_json::json;

use crate::support::Harness;

#[test]
fn commands_the_capabilities_do_not_grant_are_refused() {
    let h = Harness::new();
    assert!(h.invoke("app_info", json!({})).is_ok(), "a granted command runs");
    // A registered command that no capability grants (a record for the e2e run only).
    let refused = h.invoke("dropped_paths", json!({})).expect_err("not granted");
    assert!(refused.to_string().contains("not allowed"), "{refused}");
    // The UI may write the clipboard, never read it.
    let read = h.invoke("plugin:clipboard-manager|read_text", json!({})).expect_err("not granted");
    assert!(read.to_string().contains("not allowed") || read.to_string().contains("not found"), "{read}");
    // A command nobody registered.
    assert!(h.invoke("shell_exec", json!({"cmd": "true"})).is_err());
}

#[test]
fn the_capabilities_grant_every_listed_command_but_the_test_record() {
    let caps: serde_json::Value = serde_json::from_str(include_str!("../../capabilities/default.json")).unwrap();
    let granted: Vec<&str> = caps["permissions"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    let permission = |cmd: &str| format!("allow-{}", cmd.replace('_', "-"));
    for cmd in tuatara_app::command_list::ALL {
        let debug_only = tuatara_app::command_list::DEBUG_ONLY.contains(cmd);
        assert_eq!(granted.contains(&permission(cmd).as_str()), !debug_only, "{}", permission(cmd));
    }
    assert!(tuatara_app::command_list::DEBUG_ONLY.contains(&"dropped_paths"));
    // Nothing granted that the command table does not declare.
    let declared: Vec<String> = tuatara_app::command_list::ALL.iter().map(|c| permission(c)).collect();
    for p in granted.iter().filter(|p| p.starts_with("allow-")) {
        assert!(declared.iter().any(|d| d == p), "{p} is granted but no command declares it");
    }
}
