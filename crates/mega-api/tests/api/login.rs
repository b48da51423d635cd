//! Logins (v1, v2, 2FA, hashcash), saved sessions, whoami, quota, logout.

use mega_api::{ErrorKind, Login, SavedSession};
use mega_testserver::{TestServer, Version};

use crate::support::{client, content, logged_in, now, server_with_account, totp_at, EMAIL, PASSWORD};

#[tokio::test]
async fn v1_and_v2_accounts_log_in_and_wrong_passwords_are_bad_credentials() {
    let server = TestServer::start().await.unwrap();
    let v2 = server.add_user("Alice@Example.com", "pässwörd €", Version::V2).unwrap();
    let v1 = server.add_user("bob@example.com", "bobs-password", Version::V1).unwrap();
    let c = client(server.url());
    let alice = c.login("alice@EXAMPLE.com", "pässwörd €").await.unwrap().session().unwrap();
    assert_eq!(alice.user(), v2);
    let me = alice.whoami().await.unwrap();
    assert_eq!((me.user, me.email.as_str()), (v2, "alice@example.com"));
    let bob = c.login("bob@example.com", "bobs-password").await.unwrap().session().unwrap();
    assert_eq!(bob.whoami().await.unwrap().user, v1);
    assert!(!format!("{bob:?}").contains(&bob.save().to_secret_string().as_str()[..20]));

    for (email, pw) in [("bob@example.com", "wrong"), ("alice@example.com", "pässwörd"), ("nobody@example.com", "x")]
    {
        let err = c.login(email, pw).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadCredentials, "{email}");
        assert!(!err.is_temporary());
    }
    server.stop().await;
}

#[tokio::test]
async fn two_factor_login_asks_for_the_code_and_does_not_derive_again() {
    let server = server_with_account().await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    server.set_mfa(EMAIL, secret).unwrap();
    let c = client(server.url());
    let pending = match c.login(EMAIL, PASSWORD).await.unwrap() {
        Login::NeedsMfa(p) => p,
        Login::Done(_) => panic!("2FA account logged in without a code"),
    };
    assert_eq!(pending.email(), EMAIL);
    let now = now();
    // A code from 10 minutes ago is outside the accepted window.
    let stale = totp_at(secret, now - 600);
    assert_eq!(pending.complete(&stale).await.unwrap_err().kind(), ErrorKind::MfaRequired);
    assert_eq!(pending.complete("12a").await.unwrap_err().kind(), ErrorKind::BadInput);
    let session = pending.complete(&totp_at(secret, now)).await.unwrap();
    assert_eq!(session.whoami().await.unwrap().email, EMAIL);
    // Without completing, the typed answer converts into an error of the MFA kind.
    assert_eq!(c.login(EMAIL, PASSWORD).await.unwrap().session().unwrap_err().kind(), ErrorKind::MfaRequired);
    server.stop().await;
}

#[tokio::test]
async fn hashcash_challenges_are_solved_and_the_login_goes_through() {
    let server = TestServer::start().await.unwrap();
    server.add_user(EMAIL, PASSWORD, Version::V1).unwrap();
    server.set_hashcash(Some(255));
    let session = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    assert_eq!(session.whoami().await.unwrap().email, EMAIL);
    server.stop().await;
}

#[tokio::test]
async fn saved_sessions_resume_until_logout() {
    let (server, session) = logged_in().await;
    let saved = session.save();
    assert!(!format!("{saved:?}").contains(saved.to_secret_string().as_str()));
    let json = serde_json::to_string(&saved).unwrap();
    let back: SavedSession = serde_json::from_str(&json).unwrap();
    assert_eq!(back.email(), EMAIL);
    let resumed = client(server.url()).resume(&back).await.unwrap();
    assert_eq!(resumed.user(), session.user());
    assert_eq!(resumed.fetch_tree().await.unwrap().len(), 3, "the resumed session opens the tree");
    session.logout().await.unwrap();
    let err = client(server.url()).resume(&back).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SessionExpired);
    assert_eq!(resumed.whoami().await.unwrap_err().kind(), ErrorKind::SessionExpired);
    server.stop().await;
}

#[tokio::test]
async fn quota_counts_what_is_stored() {
    let (server, session) = logged_in().await;
    let before = session.quota().await.unwrap();
    assert_eq!(before.storage_used, 0);
    assert!(before.storage_max > 0 && before.transfer_max > 0);
    let mut tree = session.fetch_tree().await.unwrap();
    let root = tree.root().unwrap();
    session.upload_bytes(&mut tree, root, "q.bin", &content(1000, 0), 0).await.unwrap();
    assert_eq!(session.quota().await.unwrap().storage_used, 1000);
    server.stop().await;
}
