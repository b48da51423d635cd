//! Test support for the crates above `mega-api`: everything of `mega_testserver::support`
//! (a server with accounts, TOTP codes, deterministic content, temporary directories, waits),
//! plus a logged-in session, its tree and syncing with the event channel.
//!
//! `mega-api`'s own tests use `mega_testserver::support` and compile [`mod@session`]'s file
//! directly (see there); every other crate's tests use this crate. It is never published.

use std::sync::Arc;

use mega_api::{NodeHandle, RetryPolicy, Session, Tree};
pub use mega_testserver::support::*;
pub use mega_testserver::{Config, TestServer, Version};

pub mod session;
pub use session::*;

/// A tree shared between a test and what it drives (an engine, a watch).
pub type SharedTree = Arc<tokio::sync::Mutex<Tree>>;

/// A server, a session of the default account on it, that account's tree and a scratch
/// directory.
pub struct Drive {
    /// The server.
    pub server: TestServer,
    /// A session of [`EMAIL`] on it.
    pub session: Session,
    /// The session's tree, fetched at log-in.
    pub tree: SharedTree,
    /// A scratch directory, removed when dropped.
    pub tmp: tempfile::TempDir,
}

impl Drive {
    /// A server started with `config` and the default account ([`server_with_account`]), a
    /// session on it (the client's default retries) and its tree.
    pub async fn new(config: Config) -> Self {
        let server = server().config(config).account(EMAIL, PASSWORD, Version::V2).start().await;
        Self::login(server, RetryPolicy::default()).await
    }

    /// Logs in to `server` as [`EMAIL`] / [`PASSWORD`] (an account the server has) with these
    /// retries, and fetches the tree.
    pub async fn login(server: TestServer, retry: RetryPolicy) -> Self {
        let session = session(&client_with(server.url(), retry), EMAIL, PASSWORD).await;
        let tree = Arc::new(tokio::sync::Mutex::new(session.fetch_tree().await.expect("the tree")));
        Drive { server, session, tree, tmp: temp_dir() }
    }

    /// Fetches the tree again.
    pub async fn refresh(&self) {
        *self.tree.lock().await = self.session.fetch_tree().await.expect("the tree");
    }

    /// The node at `path`, in a freshly fetched tree.
    pub async fn node(&self, path: &str) -> NodeHandle {
        self.refresh().await;
        self.tree.lock().await.resolve(path).unwrap_or_else(|| panic!("{path} not in the tree"))
    }
}
