//! The session file at rest (issue 21, 9): where no keyring is reachable the session goes to a
//! 0600 file, and that file holds the master key only sealed with the server-kept `sek`; a file
//! written the old way (the key in clear) still works and is sealed by the next command.

use mega_proto::login::{self, Prelogin};
use mega_proto::{b64, Key128};
use mega_testserver::TestServer;
use serde_json::json;
use test_support::server_with_account;

use crate::support::{client, stored_session, Cli, EMAIL, PASSWORD};

/// The account's master key as any client finds it: `ug`'s `k` opened with the password key.
async fn known_master(server: &TestServer) -> Key128 {
    let session = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let pre = session.command(json!({"a": "us0", "user": EMAIL})).await.unwrap();
    let salt = b64::decode_all(pre["s"].as_str().unwrap(), "salt").unwrap();
    let secrets = login::login_secrets(EMAIL, PASSWORD, &Prelogin::V2 { salt }).unwrap();
    let k = session.command(json!({"a": "ug"})).await.unwrap()["k"].as_str().unwrap().to_string();
    login::decrypt_master_key(&secrets.password_key, &k).unwrap()
}

fn holds_master(file_body: &str, master: &Key128) -> bool {
    let raw = b64::decode_all(file_body.trim(), "session").unwrap();
    raw.windows(16).any(|w| w == master.as_bytes()) || file_body.contains(&master.to_b64())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_file_holds_no_master_key_and_an_old_one_is_sealed_on_next_use() {
    let server = server_with_account().await;
    let master = known_master(&server).await;
    let cli = Cli::new(server.url()).without_dbus();
    cli.login(EMAIL, PASSWORD).await.ok();
    let file = cli.session_files().pop().unwrap();
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(!holds_master(&body, &master), "the session file holds the master key");
    assert!(stored_session(&cli).is_sealed());
    assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), EMAIL);

    // The same session as the previous version wrote it: `1 || master || sid || user || e-mail`.
    let raw = b64::decode_all(body.trim(), "session").unwrap();
    let mut old = vec![1u8];
    old.extend_from_slice(master.as_bytes());
    old.extend_from_slice(&raw[17..]);
    std::fs::write(&file, b64::encode(&old)).unwrap();
    assert!(!stored_session(&cli).is_sealed());
    assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), EMAIL, "the old session still works");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(stored_session(&cli).is_sealed(), "the old session was stored again, sealed");
    assert!(!holds_master(&body, &master));
    assert_eq!(cli.run(&["whoami"]).await.ok().stdout.trim(), EMAIL);
    server.stop().await;
}
