//! `get`, `put` and `copy` against the test server: round trips of several sizes (0 bytes
//! too), folders recursively, file links, folder links and `#P!` links, identical files
//! skipped, and the exit codes of what goes wrong.

use serde_json::Value;

use crate::support::{content, files_below, logged_in, Cli, EMAIL};

const SIZES: [usize; 6] = [0, 1, 15, 16 * 1024 + 3, 1024 * 1024 + 5, 5 * 1024 * 1024 + 17];

fn statuses(v: &Value) -> Vec<String> {
    let mut s: Vec<String> =
        v.as_array().unwrap().iter().map(|e| format!("{} {}", e["status"].as_str().unwrap(), e["name"])).collect();
    s.sort();
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_get_round_trip_files_and_folders() {
    let (server, cli) = logged_in().await;
    let tmp = tempfile::tempdir().unwrap();
    let up = tmp.path().join("up");
    std::fs::create_dir_all(up.join("sub/deeper")).unwrap();
    for (i, n) in SIZES.iter().enumerate() {
        std::fs::write(up.join(format!("f{n}.bin")), content(*n, i as u8)).unwrap();
    }
    std::fs::write(up.join("sub/deeper/leaf.txt"), b"leaf").unwrap();
    std::fs::write(tmp.path().join("single.bin"), content(70_000, 9)).unwrap();
    let up_s = up.to_string_lossy().into_owned();
    let single = tmp.path().join("single.bin").to_string_lossy().into_owned();

    let put = cli.run(&["--json", "put", &up_s, &single, "/"]).await.json();
    assert_eq!(put.as_array().unwrap().len(), SIZES.len() + 2, "{put}");
    assert!(statuses(&put).iter().all(|s| s.starts_with("done")), "{put}");
    let listed = cli.run(&["ls", "-R", "/up"]).await.ok().stdout.clone();
    assert!(listed.contains("leaf.txt"), "{listed}");
    // Again: everything is already there.
    let again = cli.run(&["--json", "put", &up_s, &single, "/"]).await.json();
    assert!(statuses(&again).iter().all(|s| s.starts_with("skipped")), "{again}");

    // Folders come back recursively, files by name; one argument means the current folder.
    let down = tmp.path().join("down");
    cli.run(&["get", "/up", "/single.bin", &down.to_string_lossy()]).await.ok();
    assert_eq!(files_below(&down.join("up")), files_below(&up));
    assert_eq!(std::fs::read(down.join("single.bin")).unwrap(), content(70_000, 9));
    let again = cli.run(&["--json", "get", "/up", &down.to_string_lossy()]).await.json();
    assert!(statuses(&again).iter().all(|s| s.starts_with("skipped")), "{again}");
    let names: Vec<String> =
        std::fs::read_dir(down.join("up")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
    assert_eq!(names.len(), SIZES.len() + 1, "no copies beside identical files: {names:?}");

    // Nothing left in the journal.
    assert_eq!(cli.run(&["--json", "transfers"]).await.json(), serde_json::json!([]));

    // Errors: unknown remote, unknown local, uploading to a file.
    cli.run(&["get", "/nope", &down.to_string_lossy()]).await.fails(3, "/nope");
    cli.run(&["put", "/definitely/not/here", "/"]).await.fails(3, "no such local file");
    cli.run(&["put", &single, "/single.bin"]).await.fails(1, "not a folder");
    assert_eq!(cli.run(&["get", "/up", "--connections", "0"]).await.code, 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_of_every_kind_download() {
    let (server, cli) = logged_in().await;
    let big = content(3 * 1024 * 1024 + 1, 4);
    let h = server.seed_bytes(EMAIL, "/pub/file.bin", &big, 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/pub/folder/a.txt", b"alpha", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/pub/folder/sub/empty", b"", 1_700_000_000).unwrap();
    let file_link = server.file_link(EMAIL, h).unwrap();
    let folder_link = server.folder_link(EMAIL, "/pub/folder").unwrap();
    let protected = cli.run(&["link", "/pub/file.bin", "--password", "s3cret"]).await.ok().stdout.trim().to_string();
    assert!(protected.contains("#P!"), "{protected}");

    // Links need no account: a fresh CLI that never logged in.
    let anon = Cli::new(server.url());
    let tmp = tempfile::tempdir().unwrap();
    let d = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();
    anon.run(&["get", &file_link, &folder_link, &d("a")]).await.ok();
    assert_eq!(std::fs::read(tmp.path().join("a/file.bin")).unwrap(), big);
    assert_eq!(
        files_below(&tmp.path().join("a/folder")),
        [("a.txt".to_string(), b"alpha".to_vec()), ("sub/empty".to_string(), Vec::new())]
    );
    anon.run(&["get", &protected, &d("p")]).await.fails(6, "--password");
    anon.run(&["get", &protected, "--password", "wrong", &d("p")]).await.fails(6, "wrong password");
    assert!(!tmp.path().join("p/file.bin").exists());
    anon.run(&["get", &protected, "--password", "s3cret", &d("p")]).await.ok();
    assert_eq!(std::fs::read(tmp.path().join("p/file.bin")).unwrap(), big);
    // A removed file's link is a bad link (exit 6).
    cli.run(&["rm", "--permanent", "/pub/file.bin"]).await.ok();
    anon.run(&["get", &file_link, &d("gone")]).await.fails(6, "removed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_goes_both_ways_and_skips_identical_files() {
    let (server, cli) = logged_in().await;
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("nested")).unwrap();
    std::fs::write(src.join("a.bin"), content(200_000, 1)).unwrap();
    std::fs::write(src.join("zero"), b"").unwrap();
    std::fs::write(src.join("nested/b.txt"), b"bee").unwrap();
    let src_s = src.to_string_lossy().into_owned();

    // The remote folder is created; the contents of the local one go into it.
    let first = cli.run(&["--json", "copy", &src_s, "remote:/Backup/2024"]).await.json();
    assert_eq!(statuses(&first), ["done \"a.bin\"", "done \"b.txt\"", "done \"zero\""]);
    let second = cli.run(&["--json", "copy", &src_s, "remote:/Backup/2024"]).await.json();
    assert_eq!(statuses(&second), ["skipped \"a.bin\"", "skipped \"b.txt\"", "skipped \"zero\""]);
    // A new file goes; the others are skipped.
    std::fs::write(src.join("new.txt"), b"new").unwrap();
    let third = cli.run(&["--json", "copy", &src_s, "remote:/Backup/2024"]).await.json();
    assert_eq!(statuses(&third), ["done \"new.txt\"", "skipped \"a.bin\"", "skipped \"b.txt\"", "skipped \"zero\""]);

    // And back: the remote folder's contents into a local one, then nothing moves again.
    let back = tmp.path().join("back");
    let back_s = back.to_string_lossy().into_owned();
    let down = cli.run(&["--json", "copy", "remote:/Backup/2024", &back_s]).await.json();
    assert!(statuses(&down).iter().all(|s| s.starts_with("done")), "{down}");
    assert_eq!(files_below(&back), files_below(&src));
    let again = cli.run(&["--json", "copy", "remote:/Backup/2024", &back_s]).await.json();
    assert_eq!(statuses(&again).len(), 4, "{again}");
    assert!(statuses(&again).iter().all(|s| s.starts_with("skipped")), "{again}");

    cli.run(&["copy", &src_s, &back_s]).await.fails(2, "remote:PATH");
    cli.run(&["copy", "remote:/a", "remote:/b"]).await.fails(2, "both sides are remote");
    server.stop().await;
}

/// The server's stored ciphertext damaged by one bit: the download fails with a clear message
/// and exit 1, and nothing is left at the final path (nor a temporary file).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mac_mismatch_fails_plainly_and_leaves_no_file() {
    let (server, cli) = logged_in().await;
    server.seed_bytes(EMAIL, "/damaged.bin", &content(700_000, 3), 1).unwrap();
    server.corrupt_stored_content(EMAIL, "/damaged.bin", 400_000).unwrap();
    let down = tempfile::tempdir().unwrap();
    let d = down.path().to_string_lossy().into_owned();
    cli.run(&["get", "/damaged.bin", &d]).await.fails(1, "does not match the file's MAC");
    assert_eq!(std::fs::read_dir(down.path()).unwrap().count(), 0, "nothing left behind");
    server.stop().await;
}

/// `--bwlimit` as rclone takes it: one rate, `UP:DOWN`, or a timetable; a wrong one is a usage
/// error (exit 2) naming what is wrong. Limits hold the transfer back, never its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bwlimit_takes_rates_and_timetables() {
    let (server, cli) = logged_in().await;
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("limited.bin");
    std::fs::write(&file, content(300_000, 3)).unwrap();
    let file_s = file.to_string_lossy().into_owned();
    cli.run(&["put", &file_s, "/", "--bwlimit", "100M"]).await.ok();
    let down = tmp.path().join("down");
    let down_s = down.to_string_lossy().into_owned();
    // Every day from midnight: 50 MiB/s up, 100 MiB/s down; Sundays from 23:59 unlimited.
    cli.run(&["get", "/limited.bin", &down_s, "--bwlimit", "00:00,50M:100M Sun-23:59,off"]).await.ok();
    assert_eq!(std::fs::read(down.join("limited.bin")).unwrap(), content(300_000, 3));
    cli.run(&["get", "/limited.bin", &down_s, "--bwlimit", "25:00,1M"]).await.fails(2, "08:00");
    cli.run(&["get", "/limited.bin", &down_s, "--bwlimit", "fast"]).await.fails(2, "--bwlimit");
    cli.run(&["get", "/limited.bin", &down_s, "--bwlimit", "1M", "--limit-rate", "5"]).await.fails(2, "");
    server.stop().await;
}
