//! Shared helpers: a server with accounts, clients pointed at it, event syncing.

use std::time::Duration;

use mega_api::{Client, RetryPolicy, Session, Tree};
use mega_testserver::{TestServer, Version};

pub(crate) const EMAIL: &str = "alice@example.com";
pub(crate) const PASSWORD: &str = "correct horse";

/// Fast retries, so fault tests stay quick.
pub(crate) fn policy() -> RetryPolicy {
    RetryPolicy { max_attempts: 30, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) }
}

pub(crate) fn client(server: &TestServer) -> Client {
    Client::builder().api_url(server.url()).retry(policy()).build().unwrap()
}

/// A server with one v2 account and a session on it.
pub(crate) async fn logged_in() -> (TestServer, Session) {
    let server = TestServer::start().await.unwrap();
    server.add_user(EMAIL, PASSWORD, Version::V2).unwrap();
    let session = client(&server).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    (server, session)
}

/// Applies events to `tree` until `done` holds (or fails after 10 s).
pub(crate) async fn sync_until(session: &Session, tree: &mut Tree, what: &str, done: impl Fn(&Tree) -> bool) {
    let mut events = session.events(tree);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !done(tree) {
        let batch = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap();
        tree.apply_batch(&batch);
    }
}

/// Deterministic content.
pub(crate) fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + 7) as u8).collect()
}
