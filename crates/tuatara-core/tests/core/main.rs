//! tuatara-core against a real mega-testserver: one binary, a module per topic; set-up from
//! the shared `test-support`.

mod bulk;
mod cache;
mod changes;
mod export;
mod integrity;
mod links;
mod rot;
mod serve;
mod shared;
mod thumbnails;
mod watches;

use mega_api::Session;
use mega_testserver::TestServer;
pub(crate) use test_support::logged_in;

/// Another session on the test account.
pub(crate) async fn login(server: &TestServer) -> Session {
    test_support::session(&test_support::client(server.url()), test_support::EMAIL, test_support::PASSWORD).await
}
