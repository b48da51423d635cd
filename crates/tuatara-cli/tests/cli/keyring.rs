//! Where the session is kept: the Secret Service (inside `scripts/with-keyring.sh`, which
//! `make test` uses), or a 0600 file with a warning when no D-Bus session is reachable.

use test_support::server_with_account;

use crate::support::{mode, Cli, EMAIL, PASSWORD};

/// `secret-tool lookup service tuatara account ACCOUNT`: the stored value, if any.
async fn lookup(account: &str) -> Option<String> {
    let out = tokio::process::Command::new("secret-tool")
        .args(["lookup", "service", "tuatara", "account", account])
        .output()
        .await
        .expect("secret-tool (libsecret-tools) is installed");
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned()).filter(|s| !s.is_empty())
}

/// Inside with-keyring.sh (it sets `TUATARA_KEYRING`), or skipped; under CI, `make test` runs
/// nextest through the wrapper, so a missing keyring there is a failure.
fn keyring_available() -> bool {
    if std::env::var_os("TUATARA_KEYRING").is_some() && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "under CI the tests run inside scripts/with-keyring.sh");
    eprintln!("skipping: no Secret Service (run through scripts/with-keyring.sh)");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_lands_in_the_keyring() {
    if !keyring_available() {
        return;
    }
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    let login = cli.run_with_stdin(&["--json", "login", EMAIL, "--password-stdin"], &format!("{PASSWORD}\n")).await;
    assert_eq!(login.json()["storage"], "keyring");
    assert!(!login.stderr.contains("warning"), "{}", login.stderr);
    let account = format!("{EMAIL} @ {}", server.url());
    let secret = lookup(&account).await.expect("the session is in the keyring");
    // It is the saved session (not the password), and no file holds it.
    assert!(mega_api::SavedSession::from_secret_string(&secret).is_ok());
    assert!(!secret.contains(PASSWORD));
    assert!(cli.session_files().is_empty(), "{:?}", cli.session_files());
    let config = std::fs::read_to_string(cli.config_dir().join("accounts.json")).unwrap();
    assert!(!config.contains(secret.trim()), "no secret in the account list");
    // Later commands use it; logout removes it.
    cli.run(&["whoami"]).await.ok();
    cli.run(&["logout"]).await.ok();
    assert_eq!(lookup(&account).await, None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dbus_the_session_goes_to_a_private_file() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url()).without_dbus();
    let login = cli.run_with_stdin(&["--json", "login", EMAIL, "--password-stdin"], &format!("{PASSWORD}\n")).await;
    assert_eq!(login.json()["storage"], "file");
    let warnings: Vec<&str> = login.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 1, "{}", login.stderr);
    assert!(warnings[0].contains("Secret Service"), "{}", warnings[0]);
    let files = cli.session_files();
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    let body = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!body.contains(PASSWORD));
    // Session resume from the file, then logout removes the file.
    assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), EMAIL);
    cli.run(&["logout"]).await.ok();
    assert!(cli.session_files().is_empty());
    server.stop().await;
}
