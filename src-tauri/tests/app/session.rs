//! Signing in and out, errors by kind, and the keyring (under scripts/with-keyring.sh).

use serde_json::json;

use crate::support::{Harness, EMAIL, PASSWORD};

#[test]
fn login_errors_have_kinds_and_nothing_works_before_sign_in() {
    let h = Harness::new();
    assert_eq!(h.err_kind("roots", json!({})), "notSignedIn");
    assert_eq!(h.err_kind("download", json!({"handles": ["AAAAAAAA"]})), "notSignedIn");
    assert_eq!(
        h.err_kind("download", json!({"handles": ["not a handle!"]})),
        "invalid",
        "a handle that does not parse"
    );
    let wrong = json!({"email": EMAIL, "password": "wrong", "remember": false, "apiUrl": h.server.url()});
    assert_eq!(h.err_kind("login", wrong), "auth");
    let empty = json!({"email": " ", "password": "x", "remember": false, "apiUrl": h.server.url()});
    assert_eq!(h.err_kind("login", empty), "invalid");
    assert_eq!(h.err_kind("submit_mfa", json!({"code": "123456"})), "invalid", "no login waits for a code");
    let info = h.ok("app_info", json!({}));
    assert_eq!(info["demoAvailable"], true);
    assert!(info["defaultApiUrl"].as_str().unwrap().starts_with("https://"));
}

#[test]
fn sign_in_and_out() {
    let h = Harness::new();
    let account = h.sign_in();
    assert_eq!(account["email"], EMAIL);
    assert_eq!(account["apiUrl"], h.server.url());
    assert_eq!(account["remembered"], false);
    assert_eq!(account["demo"], false);
    let quota = h.ok("quota", json!({}));
    assert!(quota["storageTotal"].as_u64().unwrap() > 0, "{quota}");
    assert_eq!(h.ok("session_restore", json!({}))["email"], EMAIL, "restore while signed in: the account");
    h.ok("logout", json!({}));
    assert_eq!(h.err_kind("roots", json!({})), "notSignedIn");
    assert!(h.ok("session_restore", json!({})).is_null(), "nothing was remembered");
}

#[test]
fn two_factor_login_asks_for_the_code() {
    let h = Harness::new();
    let secret = "JBSWY3DPEHPK3PXP";
    h.server.set_mfa(EMAIL, secret).unwrap();
    let step =
        h.ok("login", json!({"email": EMAIL, "password": PASSWORD, "remember": false, "apiUrl": h.server.url()}));
    assert_eq!(step, json!({"step": "needsMfa"}));
    assert_eq!(h.err_kind("submit_mfa", json!({"code": "12"})), "invalid");
    let wrong = if crate::support::totp(secret) == "000000" { "111111" } else { "000000" };
    assert_eq!(h.err_kind("submit_mfa", json!({"code": wrong})), "auth");
    let account = h.ok("submit_mfa", json!({"code": crate::support::totp(secret)}));
    assert_eq!(account["email"], EMAIL);
}

/// Runs only inside scripts/with-keyring.sh (a throwaway gnome-keyring): a remembered session
/// comes back in a new app over the same directories, without the password.
#[test]
fn remembered_sessions_come_back_from_the_keyring() {
    if std::env::var_os("TUATARA_KEYRING").is_none() {
        eprintln!("skipped: no keyring (run under scripts/with-keyring.sh)");
        return;
    }
    let h = Harness::new();
    let step = h.ok("login", json!({"email": EMAIL, "password": PASSWORD, "remember": true, "apiUrl": h.server.url()}));
    assert_eq!(step["account"]["remembered"], true);
    let again = h.reopen();
    assert_eq!(again.ok("session_restore", json!({}))["email"], EMAIL);
    assert!(again.ok("roots", json!({}))["cloud"]["handle"].is_string());
    again.ok("logout", json!({}));
    let third = h.reopen();
    assert!(third.ok("session_restore", json!({})).is_null(), "logged out: forgotten");
}

/// A sign-in goes on when the session cannot be kept: here the account list beside it is
/// damaged. The user is signed in, not remembered, and told nothing wrong about the password.
#[test]
fn a_session_that_cannot_be_kept_still_signs_in() {
    let h = Harness::new();
    std::fs::create_dir_all(h.dir.path().join("config")).unwrap();
    std::fs::write(h.dir.path().join("config/accounts.json"), b"{ damaged").unwrap();
    let step = h.ok("login", json!({"email": EMAIL, "password": PASSWORD, "remember": true, "apiUrl": h.server.url()}));
    assert_eq!(step["step"], "signedIn");
    assert_eq!(step["account"]["remembered"], false);
    assert!(h.ok("roots", json!({}))["cloud"]["handle"].is_string());
    assert!(h.reopen().ok("session_restore", json!({})).is_null(), "nothing to restore");
}

/// "Export diagnostics" after a sign-in and a download: the report names the account and the
/// face, is the user's alone, and holds no password, session id or master key.
#[test]
fn diagnostics_are_exported_without_a_secret() {
    let h = Harness::new();
    h.server.seed_bytes(EMAIL, "/d.bin", &[5u8; 2000], 1_700_000_000).unwrap();
    h.sign_in();
    let file = h.child(&h.cloud(), "d.bin").unwrap();
    h.ok("download", json!({"handles": [file["handle"]], "dest": h.downloads().to_string_lossy()}));
    let report = h.dir.path().join("diag.txt");
    assert_eq!(h.err_kind("diagnostics_export", json!({"path": " "})), "invalid");
    h.ok("diagnostics_export", json!({"path": report.to_string_lossy()}));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&report).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(text.contains("face: tuatara ") && text.contains("## Unfinished transfers"), "{text}");
    let (master, sids) = h.server.account_secrets(EMAIL).unwrap();
    let hex: String = master.iter().map(|b| format!("{b:02x}")).collect();
    let mut secrets = vec![PASSWORD.to_string(), mega_proto::b64::encode(&master), hex];
    secrets.extend(sids);
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret is in the diagnostics");
    }
}
