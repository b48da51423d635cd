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
    let h = a.upload_bytes(&mut t, root, "r.bin", &content(200_000), 0).await.unwrap();
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
        assert_eq!(a.download_bytes(&t, h).await.unwrap(), content(200_000));
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
