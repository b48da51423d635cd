//! What a transfer waits for is said on stderr even when stderr is not a terminal (here a
//! pipe, as in a script or a log), and a wait too long to hold is a quota failure that names
//! the time left.

use std::time::Duration;

use test_support::server_with_account;

use crate::support::{content, Cli, EMAIL, PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_wait_is_said_on_stderr_when_it_is_not_a_terminal() {
    let server = server_with_account().await;
    for (name, seed) in [("/a.bin", 3), ("/b.bin", 4)] {
        server.seed_bytes(EMAIL, name, &content(768 << 10, seed), 1).unwrap();
    }
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let down = tmp.path().to_string_lossy().into_owned();

    // 1 MiB per 2-second window: one of the two files waits for the next, and says so.
    server.set_transfer_quota(EMAIL, 1 << 20).unwrap();
    server.set_quota_window(Duration::from_secs(2));
    let run = cli.run(&["get", "/a.bin", "/b.bin", &down]).await;
    run.ok();
    assert!(run.stderr.contains("waiting for the transfer quota"), "stderr: {}", run.stderr);
    assert_eq!(std::fs::read(tmp.path().join("b.bin")).unwrap(), content(768 << 10, 4));

    // A month to wait is not waited: exit code 8 (quota), the time left named.
    server.set_quota_window(Duration::from_secs(30 * 86400));
    std::fs::remove_file(tmp.path().join("a.bin")).unwrap();
    std::fs::remove_file(tmp.path().join("b.bin")).unwrap();
    let run = tokio::time::timeout(Duration::from_secs(60), cli.run(&["get", "/a.bin", "/b.bin", &down]))
        .await
        .expect("a month's quota wait is not waited");
    run.fails(8, "the transfer quota is used up and frees in");
    assert!(run.stderr.contains(" d") && run.stderr.contains("longer than the 6 h"), "stderr: {}", run.stderr);
    server.stop().await;
}
