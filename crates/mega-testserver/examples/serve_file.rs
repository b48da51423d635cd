//! Serves one local file for throughput measurements with plain HTTP clients:
//! `cargo run --release -p mega-testserver --example serve_file -- FILE`
//! seeds FILE (encrypted as a client would), exports it, and prints the server URL, the file
//! link, a ready download URL of its ciphertext (for `curl -o /dev/null URL`) and an upload URL
//! for as many bytes (for `curl --data-binary @FILE URL/0`). Runs until Ctrl-C.
#![allow(clippy::print_stdout)] // Printing the URLs is what it is for.

use mega_testserver::{TestServer, Version};

#[tokio::main]
async fn main() {
    let path = std::env::args().nth(1).expect("usage: serve_file FILE");
    let server = TestServer::start().await.expect("start");
    server.add_user("bench@example.com", "bench", Version::V2).expect("account");
    let node = server.seed_file("bench@example.com", "/bench/file", std::path::Path::new(&path)).expect("seed");
    let link = server.file_link("bench@example.com", node).expect("link");
    let ph = mega_proto::link::parse_plain(&link).expect("parse").handle;
    let body = format!(r#"[{{"a":"g","g":1,"p":"{ph}"}}]"#);
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{}cs?id=1", server.url()))
        .body(body)
        .send()
        .await
        .expect("g")
        .json()
        .await
        .expect("json");
    println!("{}", server.url());
    println!("{link}");
    println!("{}", reply[0]["g"].as_str().expect("download URL"));
    let size = std::fs::metadata(&path).expect("size").len();
    println!("{}", server.upload_url("bench@example.com", size).expect("upload URL"));
    tokio::signal::ctrl_c().await.expect("signal");
    server.stop().await;
}
