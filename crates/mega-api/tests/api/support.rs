//! Shared helpers: a server with accounts, TOTP codes and content from
//! `mega_testserver::support`; clients with fast retries, a logged-in session and event syncing
//! from `test-support`'s `session.rs`, compiled in here from that one file (this crate cannot
//! depend on `test-support`, which depends on it).

#[path = "../../../test-support/src/session.rs"]
#[allow(dead_code, unreachable_pub)] // Shared with other crates; not every helper is used here.
mod session;

pub(crate) use mega_testserver::support::{content, now, server_with_account, totp_at, EMAIL, PASSWORD};
pub(crate) use session::{client, logged_in, policy, sync_until};
