//! Every wait of the engine ends: storage that refuses every URL, a transfer quota that frees
//! in a month. Against `mega-testserver` with its faults and quota switched on.

use std::time::{Duration, Instant};

use mega_api::{ErrorKind, RetryPolicy};
use mega_transfer::{Conflict, Engine, Event, Outcome};
use test_support::{content, server_with_account, Drive as Setup, EMAIL};

use crate::support::Engines;

/// A server with one account holding `/f.bin` (1 MB), a session on it with `retry`, and a
/// scratch folder.
async fn setup(retry: RetryPolicy) -> Setup {
    let server = server_with_account().await;
    server.seed_bytes(EMAIL, "/f.bin", &content(1_000_000, 0), 1).unwrap();
    Setup::login(server, retry).await
}

/// Downloads `/f.bin` into `to`; the job's id.
async fn start_download(s: &Setup, engine: &Engine, to: &str) -> String {
    let h = s.tree.lock().await.resolve("/f.bin").unwrap();
    engine.download_node(h, &s.tmp.path().join(to), Conflict::Rename).await.unwrap().remove(0)
}

/// The job's outcome, or a panic when it still runs after `limit`.
async fn outcome(engine: &Engine, id: &str, limit: Duration) -> Outcome {
    tokio::time::timeout(limit, engine.wait(id))
        .await
        .unwrap_or_else(|_| panic!("the job still runs after {limit:?}: an endless loop"))
        .expect("the job is known")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_answering_403_forever_gives_up_with_backoff() {
    let retry =
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(50), max_delay: Duration::from_millis(400) };
    let ctx = setup(retry).await;
    let engine = ctx.engine(|c| {
        c.connections_per_file = 2;
        c.max_retries = 3;
    });
    let mut events = engine.subscribe();
    ctx.server.set_faults("expired=1".parse().unwrap());
    let urls_before = ctx.server.command_stats("g").commands;
    let started = Instant::now();
    let id = start_download(&ctx, &engine, "dl").await;
    let outcome = outcome(&engine, &id, Duration::from_secs(30)).await;
    let took = started.elapsed();
    let Outcome::Failed { kind, message } = outcome else { panic!("{outcome:?}") };
    assert_eq!(kind, ErrorKind::Expired, "{message}");
    assert!(message.contains("HTTP status 403") && message.contains("gave up after"), "{message}");
    // Bounded: the first URL and at most one fresh one per round of the policy (two workers
    // fail once each per URL), the job not run again for the same failure.
    let urls = ctx.server.command_stats("g").commands - urls_before;
    assert!((2..=1 + 8).contains(&urls), "{urls} download URLs asked for");
    // With backoff: the waits of rounds 1 to 3 are at least 25 + 50 + 100 ms.
    assert!(took >= Duration::from_millis(175), "{took:?}");
    // And said: each new URL is announced with its wait.
    let said: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::Retrying { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert!(
        said.iter().any(|r| r.contains("HTTP status 403") && r.contains("asking for a new download URL in")),
        "{said:?}"
    );
    assert!(!ctx.tmp.path().join("dl").join("f.bin").exists());
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_509_wait_is_capped_and_reported() {
    let ctx = setup(RetryPolicy::default()).await;
    // 64 KiB per 30-day window: the server says the quota frees in about 30 days.
    ctx.server.set_transfer_quota(EMAIL, 64 << 10).unwrap();
    ctx.server.set_quota_window(Duration::from_secs(30 * 86400));
    let capped = ctx.engine(|_| {});
    let id = start_download(&ctx, &capped, "dl").await;
    let outcome = outcome(&capped, &id, Duration::from_secs(20)).await;
    let Outcome::Failed { kind, message } = outcome else { panic!("{outcome:?}") };
    let ErrorKind::Quota { time_left: Some(left) } = kind else { panic!("{kind:?}: {message}") };
    assert!(left > Duration::from_secs(29 * 86400), "{left:?}");
    assert!(message.contains("frees in 29 d") || message.contains("frees in 30 d"), "{message}");
    assert!(message.contains("longer than the 6 h this waits"), "{message}");

    // A wait within the cap is waited, and said with its end.
    let patient = ctx.engine(|c| c.max_quota_wait = Duration::from_secs(40 * 86400));
    let mut events = patient.subscribe();
    let id = start_download(&ctx, &patient, "dl2").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let until = loop {
        match tokio::time::timeout_at(deadline.into(), events.recv()).await.expect("a waiting event").unwrap() {
            Event::Waiting { until, .. } => break until.expect("the end of the wait"),
            _ => continue,
        }
    };
    assert!(until > std::time::SystemTime::now() + Duration::from_secs(29 * 86400));
    assert!(patient.cancel(&id));
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_refused_at_every_chunk_gives_up_with_backoff() {
    let retry =
        RetryPolicy { max_attempts: 4, base_delay: Duration::from_millis(40), max_delay: Duration::from_millis(160) };
    let ctx = setup(retry).await;
    let engine = ctx.engine(|c| c.max_retries = 2);
    let mut events = engine.subscribe();
    let local = ctx.tmp.path().join("up.bin");
    std::fs::write(&local, vec![7u8; 300_000]).unwrap();
    let root = ctx.tree.lock().await.root().unwrap();
    // Every chunk is answered `-8`: the upload URL expired.
    ctx.server.set_faults("expired=1".parse().unwrap());
    let urls_before = ctx.server.command_stats("u").commands;
    let started = Instant::now();
    let id = engine.upload_path(&local, root).await.unwrap().remove(0);
    let outcome = outcome(&engine, &id, Duration::from_secs(30)).await;
    let Outcome::Failed { kind, message } = outcome else { panic!("{outcome:?}") };
    // `-8` from a storage server: the upload must start over (spec §1.5).
    assert_eq!(kind, ErrorKind::RestartUpload, "{message}");
    // Bounded: the file starts over twice (`max_retries`), with a new URL each time.
    let urls = ctx.server.command_stats("u").commands - urls_before;
    assert_eq!(urls, 3, "upload URLs asked for");
    // With backoff, said with its wait.
    let said: Vec<String> = std::iter::from_fn(|| events.try_recv().ok())
        .filter_map(|e| match e {
            Event::Retrying { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert!(said.iter().any(|r| r.contains("starting this file over in")), "{said:?}");
    // The waits after restarts 1 and 2 are at least 20 + 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(60), "{:?}", started.elapsed());
    ctx.server.stop().await;
}
