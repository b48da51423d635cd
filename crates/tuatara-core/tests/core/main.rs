//! tuatara-core against a real mega-testserver: one binary, a module per topic.

mod changes;
mod links;
mod thumbnails;

use mega_api::{Client, Session};
use mega_testserver::{TestServer, Version};

pub(crate) const EMAIL: &str = "core@example.com";
pub(crate) const PASSWORD: &str = "core pass phrase";

/// A server with one v2 account and a session on it.
pub(crate) async fn logged_in() -> (TestServer, Session) {
    let server = TestServer::start().await.unwrap();
    server.add_user(EMAIL, PASSWORD, Version::V2).unwrap();
    let session = login(&server).await;
    (server, session)
}

/// Another session on the test account.
pub(crate) async fn login(server: &TestServer) -> Session {
    let client = Client::builder().api_url(server.url()).build().unwrap();
    client.login(EMAIL, PASSWORD).await.unwrap().session().unwrap()
}
