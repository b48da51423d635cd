//! What needs a `mega-api` client: fast retries, a logged-in session, syncing a tree with the
//! event channel, the files of a remote folder.
//!
//! This file is also compiled into `mega-api`'s own tests (`#[path]`), which cannot depend on
//! this crate (it depends on `mega-api`: a dev-dependency cycle, two `mega_api` crates in one
//! test build). So it names only `mega_api`, `mega_testserver`, `tokio` and `std`.

use std::collections::BTreeMap;
use std::time::Duration;

use mega_api::{Client, NodeHandle, RetryPolicy, Session, Tree};
use mega_testserver::support::{server_with_account, EMAIL, PASSWORD};
use mega_testserver::TestServer;

/// How long [`sync_until`] waits for the events it needs.
pub const SYNC_DEADLINE: Duration = Duration::from_secs(20);

/// Fast retries (5 ms to 40 ms, 30 attempts), so that tests with faults stay quick.
pub fn policy() -> RetryPolicy {
    RetryPolicy { max_attempts: 30, base_delay: Duration::from_millis(5), max_delay: Duration::from_millis(40) }
}

/// A client of the API at `api_url`, with [`policy`]'s fast retries.
pub fn client(api_url: &str) -> Client {
    client_with(api_url, policy())
}

/// A client of the API at `api_url` with these retries.
pub fn client_with(api_url: &str, retry: RetryPolicy) -> Client {
    Client::builder().api_url(api_url).retry(retry).build().expect("a client")
}

/// Logs in (an account without two-factor) and returns the session.
pub async fn session(client: &Client, email: &str, password: &str) -> Session {
    let login = client.login(email, password).await.unwrap_or_else(|e| panic!("logging in as {email}: {e}"));
    login.session().unwrap_or_else(|e| panic!("a session for {email}: {e}"))
}

/// A server with the default account ([`EMAIL`] / [`PASSWORD`], v2) and a session on it (fast
/// retries).
pub async fn logged_in() -> (TestServer, Session) {
    let server = server_with_account().await;
    let session = session(&client(server.url()), EMAIL, PASSWORD).await;
    (server, session)
}

/// Applies the session's events to `tree` until `done` holds; panics "timed out waiting for
/// {what}" after [`SYNC_DEADLINE`].
pub async fn sync_until(session: &Session, tree: &mut Tree, what: &str, done: impl Fn(&Tree) -> bool) {
    let mut events = session.events(tree);
    let deadline = tokio::time::Instant::now() + SYNC_DEADLINE;
    while !done(tree) {
        let batch = tokio::time::timeout_at(deadline, events.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
            .unwrap_or_else(|e| panic!("the event channel failed while waiting for {what}: {e}"));
        tree.apply_batch(&batch);
    }
}

/// Every file below the remote folder `path`, from a freshly fetched tree: path relative to
/// the folder -> the nodes of that name (none when the folder does not exist).
pub async fn remote_files(session: &Session, path: &str) -> BTreeMap<String, Vec<NodeHandle>> {
    let tree = session.fetch_tree().await.expect("the tree");
    let mut out: BTreeMap<String, Vec<NodeHandle>> = BTreeMap::new();
    let Some(top) = tree.resolve(path) else { return out };
    let prefix = format!("{}/", path.trim_end_matches('/'));
    for h in tree.subtree(top).into_iter().filter(|h| tree.get(*h).is_some_and(|n| n.is_file())) {
        let full = tree.path(h).expect("a path within the tree");
        out.entry(full.strip_prefix(&prefix).unwrap_or(&full).to_string()).or_default().push(h);
    }
    out
}
