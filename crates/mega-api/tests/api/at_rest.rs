//! The session at rest (issue 21, 9): a saved session holds the master key sealed with the
//! `sek` the server keeps for the sid (spec §2.4, §2.7), so the saved session alone gives no key;
//! resuming gets the `sek` back and opens it. Sessions saved the old way (master key in clear)
//! still resume, and save sealed afterwards.

use mega_api::{Client, ErrorKind, SavedSession, Session};
use mega_proto::login::{self, Prelogin};
use mega_proto::rsa::PrivateKey;
use mega_proto::{b64, Key128, UserHandle};
use mega_testserver::TestServer;
use serde_json::{json, Value};

use crate::support::{client, logged_in, EMAIL, PASSWORD};

/// One anonymous command, straight through the client.
async fn raw(client: &Client, cmd: Value) -> Value {
    client.request(vec![cmd]).await.unwrap().remove(0).unwrap()
}

async fn password_key(client: &Client) -> Key128 {
    let pre = raw(client, json!({"a": "us0", "user": EMAIL})).await;
    let salt = b64::decode_all(pre["s"].as_str().unwrap(), "salt").unwrap();
    login::login_secrets(EMAIL, PASSWORD, &Prelogin::V2 { salt }).unwrap().password_key
}

/// The account's master key, found as any client would: `k` from `ug`, opened with the
/// password key.
async fn known_master(server: &TestServer, session: &Session) -> Key128 {
    let k = session.command(json!({"a": "ug"})).await.unwrap()["k"].as_str().unwrap().to_string();
    login::decrypt_master_key(&password_key(&client(server.url())).await, &k).unwrap()
}

/// The master key in any form the saved session could carry it.
fn holds_master(secret: &str, master: &Key128) -> bool {
    let raw = b64::decode_all(secret, "saved session").unwrap();
    raw.windows(16).any(|w| w == master.as_bytes())
        || secret.contains(&master.to_b64())
        || secret.contains(&b64::encode(master.as_bytes()))
}

/// A folder only the master key opens: a resumed session with a wrong key would not see it.
async fn mkdir(session: &Session, name: &str) {
    let mut tree = session.fetch_tree().await.unwrap();
    let root = tree.root().unwrap();
    session.mkdir(&mut tree, root, name).await.unwrap();
}

async fn opens(session: &Session, name: &str) -> bool {
    let tree = session.fetch_tree().await.unwrap();
    tree.resolve(&format!("/{name}")).is_some_and(|h| tree.get(h).unwrap().is_decrypted())
}

#[tokio::test]
async fn a_saved_session_holds_no_master_key_and_resumes() {
    let (server, session) = logged_in().await;
    let master = known_master(&server, &session).await;
    mkdir(&session, "kept").await;
    let saved = session.save();
    assert!(saved.is_sealed());
    let secret = saved.to_secret_string();
    assert!(!holds_master(&secret, &master), "the saved session holds the master key");
    let json = serde_json::to_string(&saved).unwrap();
    assert!(!json.contains(&master.to_b64()));

    let back: SavedSession = serde_json::from_str(&json).unwrap();
    let resumed = client(server.url()).resume(&back).await.unwrap();
    assert_eq!(resumed.user(), session.user());
    assert!(opens(&resumed, "kept").await, "the resumed session opens what the master key wraps");
    assert_eq!(known_master(&server, &resumed).await, master);
    // Saved again: still sealed, and it resumes too.
    let again = resumed.save();
    assert!(again.is_sealed() && !holds_master(&again.to_secret_string(), &master));
    assert!(opens(&client(server.url()).resume(&again).await.unwrap(), "kept").await);
    server.stop().await;
}

#[tokio::test]
async fn a_copied_session_whose_sid_was_ended_gives_no_key() {
    let (server, session) = logged_in().await;
    let master = known_master(&server, &session).await;
    let copied = session.save().to_secret_string();
    session.logout().await.unwrap();
    // The copy holds no key of its own, and the server no longer hands out the sek.
    assert!(!holds_master(&copied, &master));
    let saved = SavedSession::from_secret_string(&copied).unwrap();
    let err = client(server.url()).resume(&saved).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SessionExpired);
    server.stop().await;
}

/// A session as Tuatara saved it before the master key was sealed:
/// `b64(1 || master || sid || user || e-mail)`, from a login that sent a `sek` (as it did).
async fn old_format_session(server: &TestServer) -> (String, Key128) {
    let c = client(server.url());
    let pk = password_key(&c).await;
    let pre = raw(&c, json!({"a": "us0", "user": EMAIL})).await;
    let salt = b64::decode_all(pre["s"].as_str().unwrap(), "salt").unwrap();
    let secrets = login::login_secrets(EMAIL, PASSWORD, &Prelogin::V2 { salt }).unwrap();
    let sek = b64::encode(&[5u8; 16]);
    let r = raw(&c, json!({"a": "us", "user": EMAIL, "uh": secrets.uh.as_str(), "sek": sek})).await;
    assert_eq!(r["sek"], json!(sek), "the server echoes the sek at login (spec §2.4)");
    let master = login::decrypt_master_key(&pk, r["k"].as_str().unwrap()).unwrap();
    let user = UserHandle::from_b64(r["u"].as_str().unwrap()).unwrap();
    let key = PrivateKey::decrypt_privk(r["privk"].as_str().unwrap(), &master).unwrap();
    let sid = key.decrypt_csid(r["csid"].as_str().unwrap(), user).unwrap();
    let mut blob = vec![1u8];
    blob.extend_from_slice(master.as_bytes());
    blob.extend_from_slice(sid.as_bytes());
    blob.extend_from_slice(&user.0);
    blob.extend_from_slice(EMAIL.as_bytes());
    (b64::encode(&blob), master)
}

#[tokio::test]
async fn an_old_session_with_the_key_in_clear_resumes_and_saves_sealed() {
    let (server, session) = logged_in().await;
    mkdir(&session, "kept").await;
    let (old, master) = old_format_session(&server).await;
    let saved = SavedSession::from_secret_string(&old).unwrap();
    assert!(!saved.is_sealed());
    assert_eq!(saved.email(), EMAIL);
    let resumed = client(server.url()).resume(&saved).await.unwrap();
    assert!(opens(&resumed, "kept").await);
    // The resume brought back the sek the old login sent: the next save seals the key.
    let upgraded = resumed.save();
    assert!(upgraded.is_sealed());
    assert!(!holds_master(&upgraded.to_secret_string(), &master));
    assert!(opens(&client(server.url()).resume(&upgraded).await.unwrap(), "kept").await);
    server.stop().await;
}

#[tokio::test]
async fn a_sealed_key_the_sek_does_not_open_is_a_clear_error() {
    let (server, session) = logged_in().await;
    let mut raw = b64::decode_all(&session.save().to_secret_string(), "saved session").unwrap();
    raw[1] ^= 1;
    let tampered = SavedSession::from_secret_string(&b64::encode(&raw)).unwrap();
    let err = client(server.url()).resume(&tampered).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("does not open the saved session"), "{err}");
    server.stop().await;
}
