//! Injected faults: `-3` and HTTP 500 are retried with the same request id; `-15` is a session
//! expiry; a client without retries reports the temporary failure.

use std::time::Duration;

use mega_api::{Client, ErrorKind, RetryPolicy};
use mega_testserver::faults::Faults;

use crate::support::{content, logged_in};

fn faults(spec: &str) -> Faults {
    spec.parse().unwrap()
}

#[tokio::test]
async fn congestion_and_server_errors_are_retried_until_they_pass() {
    let (server, a) = logged_in().await;
    let mut t = a.fetch_tree().await.unwrap();
    let root = t.root().unwrap();
    let h = a.upload_bytes(&mut t, root, "r.bin", &content(200_000, 0), 0).await.unwrap();
    for spec in ["eagain=0.5", "500=0.5", "eagain=0.3,500=0.3"] {
        server.set_faults(faults(spec));
        // Mutations are safe to resend: each happens once.
        for i in 0..6 {
            let name = format!("{spec}-{i}");
            let d = a.mkdir(&mut t, root, &name).await.unwrap();
            a.rename(&mut t, d, &format!("{name}-renamed")).await.unwrap();
        }
        assert!(a.quota().await.is_ok());
        assert_eq!(a.fetch_tree().await.unwrap().len(), t.len());
        assert_eq!(a.download_bytes(&t, h).await.unwrap(), content(200_000, 0));
        server.set_faults(Faults::default());
    }
    let fresh = a.fetch_tree().await.unwrap();
    assert_eq!(fresh.len(), t.len(), "no command ran twice");
    assert!(fresh.all_duplicates().is_empty());

    // Without retries, the temporary failure surfaces as such.
    let once = Client::builder()
        .api_url(server.url())
        .retry(RetryPolicy { max_attempts: 1, base_delay: Duration::ZERO, max_delay: Duration::ZERO })
        .build()
        .unwrap();
    let session = once.resume(&a.save()).await.unwrap();
    server.set_faults(faults("eagain=1"));
    let err = session.quota().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Temporary);
    assert!(err.is_temporary());
    server.set_faults(faults("500=1"));
    assert_eq!(session.quota().await.unwrap_err().kind(), ErrorKind::Temporary);
    server.set_faults(Faults::default());
    server.stop().await;
}

#[tokio::test]
async fn a_dropped_session_is_session_expired() {
    let (server, a) = logged_in().await;
    let tree = a.fetch_tree().await.unwrap();
    server.set_faults(faults("esid=1"));
    let err = a.quota().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SessionExpired);
    server.set_faults(Faults::default());
    assert_eq!(a.fetch_tree().await.unwrap_err().kind(), ErrorKind::SessionExpired);
    assert_eq!(a.events(&tree).next().await.unwrap_err().kind(), ErrorKind::SessionExpired);
    server.stop().await;
}

/// A scripted HTTP server: answers each request with the next (status, body), records the
/// request targets and bodies.
async fn scripted(
    replies: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for (status, body) in replies {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let head_end = loop {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            while buf.len() < head_end + len {
                let n = sock.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            let target = head.split_whitespace().nth(1).unwrap().to_string();
            log.lock().unwrap().push((target, String::from_utf8_lossy(&buf[head_end..]).to_string()));
            let reply = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (url, seen)
}

#[tokio::test]
async fn a_resent_request_keeps_its_id_and_a_new_one_gets_the_next() {
    let (url, seen) = scripted(vec![(200, "-3"), (500, ""), (200, "-4"), (200, "[0,-9]"), (200, "[{\"v\":1}]")]).await;
    let c = Client::builder().api_url(url).retry(crate::support::policy()).build().unwrap();
    let results = c.request(vec![serde_json::json!({"a": "x"}), serde_json::json!({"a": "y"})]).await.unwrap();
    assert_eq!(results[0].as_ref().unwrap(), &serde_json::json!(0));
    assert_eq!(results[1].as_ref().unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(c.request(vec![serde_json::json!({"a": "us0"})]).await.unwrap()[0].as_ref().unwrap()["v"], 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 5);
    let id = |t: &str| t.split("id=").nth(1).unwrap().split('&').next().unwrap().parse::<u64>().unwrap();
    let first = id(&seen[0].0);
    for (target, body) in &seen[..4] {
        assert_eq!(id(target), first, "a re-send keeps its id");
        assert_eq!(body, &seen[0].1, "and its body");
    }
    assert_eq!(id(&seen[4].0), first + 1, "a new request gets the next id");
    assert!(seen[0].0.starts_with("/cs?id="));
    assert_eq!(seen[0].1, r#"[{"a":"x"},{"a":"y"}]"#, "several commands in one POST");
}
