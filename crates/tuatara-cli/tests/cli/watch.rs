//! `watch add|list|run|remove` and `links get --watch` with the real binary, real filesystem
//! events and a loopback server: files created, written slowly, renamed into place; `watch run`
//! stopped by SIGTERM mid-upload and started again (it continues, and catches up with what
//! changed meanwhile, deletions included, propagated only where asked); a second runner
//! refused; links appended to a watched file while a download runs. Every file is checked on
//! the server exactly once and downloaded back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use mega_api::{NodeHandle, Session};
use serde_json::Value;
use test_support::{remote_files, server_with_account};

use crate::support::{client, content, Cli, EMAIL, PASSWORD};

const DEADLINE: Duration = Duration::from_secs(300);

async fn until<F: std::future::Future<Output = bool>>(what: &str, f: impl FnMut() -> F) {
    test_support::until_every(what, DEADLINE, Duration::from_millis(200), f).await;
}

/// Each expected file on the server exactly once, with its content (downloaded back).
async fn assert_remote(session: &Session, path: &str, expected: &BTreeMap<&str, Vec<u8>>) {
    let remote = remote_files(session, path).await;
    assert_eq!(remote.keys().map(String::as_str).collect::<Vec<_>>(), expected.keys().copied().collect::<Vec<_>>());
    let tree = session.fetch_tree().await.unwrap();
    for (name, data) in expected {
        assert_eq!(remote[*name].len(), 1, "{path}/{name} is on the server exactly once");
        assert!(session.download_bytes(&tree, remote[*name][0]).await.unwrap() == *data, "{path}/{name} differs");
    }
}

async fn in_rubbish(session: &Session, h: NodeHandle) -> bool {
    let t = session.fetch_tree().await.unwrap();
    t.rubbish().is_some_and(|r| t.get(h).is_some() && t.is_within(h, r))
}

/// The binary running in the background, its output collected.
fn spawn(cli: &Cli, args: &[&str]) -> tokio::process::Child {
    let mut cmd = cli.command(args);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// SIGTERM, then its exit code and output.
async fn terminate(child: tokio::process::Child) -> (i32, String, String) {
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output()).await.unwrap().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watched_folders_upload_settled_files_and_survive_a_restart() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let session = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (backup, kept) = (tmp.path().join("backup"), tmp.path().join("kept"));
    std::fs::create_dir_all(&backup).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    std::fs::write(backup.join("before.txt"), b"there before").unwrap();
    std::fs::write(kept.join("k.txt"), b"kept").unwrap();

    let added = cli
        .run(&["--json", "watch", "add", &s(&backup), "/Backup", "--propagate-deletes", "--ignore", "*.skip"])
        .await
        .json();
    let id = added["id"].as_str().unwrap().to_string();
    cli.run(&["watch", "add", &s(&backup), "/Other"]).await.fails(1, "already watched");
    cli.run(&["watch", "add", &s(&tmp.path().join("none")), "/X"]).await.fails(3, "no such local");
    cli.run(&["watch", "pause", "nosuchid"]).await.fails(3, "no watch nosuchid");
    let list = cli.run(&["--json", "watch", "list"]).await.json();
    let row = &list.as_array().unwrap()[0];
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(row["kind"], "upload");
    assert_eq!(row["local"], s(&backup));
    assert_eq!(row["remote"], "/Backup");
    assert_eq!((row["propagate_deletes"].as_bool(), row["paused"].as_bool()), (Some(true), Some(false)));
    assert_eq!((row["running"].as_bool(), row["done"].as_u64()), (Some(false), Some(0)));
    assert_eq!(row["ignore"], serde_json::json!(["*.skip"]));
    assert!(row["last_error"].is_null() && row["last_activity"].is_null());

    let run_args = ["watch", "run", "--settle", "1"];
    let runner = spawn(&cli, &run_args);
    // Created at once; written slowly (pauses shorter than the settle time); renamed into place;
    // ignored names.
    std::fs::write(backup.join("a.txt"), b"alpha").unwrap();
    std::fs::write(backup.join("x.part"), b"partial").unwrap();
    std::fs::write(backup.join("mine.skip"), b"skipped").unwrap();
    let mut slow = std::fs::File::create(backup.join("slow.bin")).unwrap();
    let mut slow_data = Vec::new();
    for i in 0..5u8 {
        let piece = content(20_000, i);
        slow.write_all(&piece).unwrap();
        slow.flush().unwrap();
        slow_data.extend_from_slice(&piece);
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    drop(slow);
    std::fs::create_dir_all(backup.join("sub")).unwrap();
    std::fs::write(backup.join("sub/r.docx.tmp"), b"renamed into place").unwrap();
    std::fs::rename(backup.join("sub/r.docx.tmp"), backup.join("sub/r.docx")).unwrap();
    let mut expected: BTreeMap<&str, Vec<u8>> = BTreeMap::from([
        ("a.txt", b"alpha".to_vec()),
        ("before.txt", b"there before".to_vec()),
        ("slow.bin", slow_data),
        ("sub/r.docx", b"renamed into place".to_vec()),
    ]);
    until("the first files", || async { remote_files(&session, "/Backup").await.len() >= expected.len() }).await;

    // A watch added by another process while it runs is picked up; a second runner of a
    // running watch is refused.
    let kept_id =
        cli.run(&["--json", "watch", "add", &s(&kept), "/Kept"]).await.json()["id"].as_str().unwrap().to_string();
    until("the added watch", || async { remote_files(&session, "/Kept").await.contains_key("k.txt") }).await;
    cli.run(&["watch", "run", &id]).await.fails(1, "already running");
    let listed = cli.run(&["--json", "watch", "list"]).await.json();
    assert!(listed.as_array().unwrap().iter().all(|w| w["running"] == true), "{listed}");

    // A large upload, cut by SIGTERM in the middle.
    server.set_throttle(Some(2 << 20), None);
    let big = content(6 << 20, 9);
    std::fs::write(backup.join("big.bin"), &big).unwrap();
    until("the big upload in the journal", || async {
        cli.run(&["--json", "transfers"]).await.json().as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (code, stdout, stderr) = terminate(runner).await;
    assert_eq!(code, 0, "watch run exits cleanly on SIGTERM: {stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("uploaded") && l.contains("slow.bin")), "{stdout}");
    assert!(!remote_files(&session, "/Backup").await.contains_key("big.bin"), "stopped mid-upload");
    server.set_throttle(None, None);

    // While stopped: deletions in both folders (only the first propagates them), a new file.
    let before = remote_files(&session, "/Backup").await;
    std::fs::remove_file(backup.join("a.txt")).unwrap();
    std::fs::remove_file(kept.join("k.txt")).unwrap();
    std::fs::write(backup.join("late.txt"), b"late").unwrap();
    expected.remove("a.txt");
    expected.insert("late.txt", b"late".to_vec());
    expected.insert("big.bin", big);

    let runner = spawn(&cli, &run_args);
    until("the catch-up", || async {
        let r = remote_files(&session, "/Backup").await;
        r.contains_key("late.txt") && r.contains_key("big.bin") && !r.contains_key("a.txt")
    })
    .await;
    until("the journal emptied", || async {
        cli.run(&["--json", "transfers"]).await.json().as_array().is_some_and(|a| a.is_empty())
    })
    .await;
    let (code, _, stderr) = terminate(runner).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(in_rubbish(&session, before["a.txt"][0]).await, "a.txt went to the rubbish bin, not destroyed");
    assert_remote(&session, "/Backup", &expected).await;
    assert_remote(&session, "/Kept", &BTreeMap::from([("k.txt", b"kept".to_vec())])).await;

    let list = cli.run(&["--json", "watch", "list"]).await.json();
    let row = list.as_array().unwrap().iter().find(|w| w["id"] == id.as_str()).unwrap().clone();
    assert!(row["done"].as_u64().unwrap() >= 6, "{row}");
    assert!(row["last_activity"].as_u64().is_some() && row["running"] == false, "{row}");
    cli.run(&["watch", "remove", &kept_id]).await.ok();
    assert_eq!(cli.run(&["--json", "watch", "list"]).await.json().as_array().unwrap().len(), 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_links_file_downloads_links_as_they_are_added() {
    let server = server_with_account().await;
    let big = content(5 << 20, 3);
    let h_big = server.seed_bytes(EMAIL, "/big.bin", &big, 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/F/inner.txt", b"inner", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/secret.txt", b"secret", 1_700_000_000).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let link_big = server.file_link(EMAIL, h_big).unwrap();
    let folder = server.folder_link(EMAIL, "/F").unwrap();
    let protected = cli.run(&["link", "/secret.txt", "--password", "pw"]).await.ok().stdout.trim().to_string();
    let tmp = tempfile::tempdir().unwrap();
    let (list, dl) = (tmp.path().join("links.txt"), tmp.path().join("dl"));
    std::fs::write(&list, format!("first: {link_big}\n")).unwrap();
    cli.run(&["links", "get", "-", "--watch"]).await.fails(2, "not stdin");

    server.set_throttle(Some(2 << 20), None);
    let args = ["links", "get", &s(&list), "--watch", "--to", &s(&dl), "--settle", "0.3"];
    let watcher = spawn(&cli, &args);
    until("the first download running", || async {
        std::fs::read_dir(&dl).is_ok_and(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".part")))
    })
    .await;
    let mut f = std::fs::OpenOptions::new().append(true).open(&list).unwrap();
    writeln!(f, "more: {folder} and again {link_big}\nprotected: {protected}").unwrap();
    drop(f);
    until("both links done", || async { dl.join("big.bin").exists() && dl.join("F/inner.txt").exists() }).await;
    server.set_throttle(None, None);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (code, stdout, stderr) = terminate(watcher).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.lines().any(|l| l.starts_with("waiting") && l.contains("password")), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("downloaded")).count(), 2, "{stdout}");
    assert!(std::fs::read(dl.join("big.bin")).unwrap() == big);
    assert_eq!(std::fs::read(dl.join("F/inner.txt")).unwrap(), b"inner");

    // Again with the password: only the protected link comes down; the ledger skips the rest.
    let with_pw = ["links", "get", &s(&list), "--watch", "--to", &s(&dl), "--settle", "0.3", "--password", "pw"];
    let watcher = spawn(&cli, &with_pw);
    until("the protected file", || async { dl.join("secret.txt").exists() }).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let (code, stdout, stderr) = terminate(watcher).await;
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("downloaded")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert_eq!(std::fs::read(dl.join("secret.txt")).unwrap(), b"secret");
    let mut names: Vec<String> =
        std::fs::read_dir(&dl).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["F", "big.bin", "secret.txt"], "each file once, no copies or leftovers");
    let v: Value = cli.run(&["--json", "watch", "list"]).await.json();
    assert_eq!(v.as_array().unwrap().len(), 0, "`links get --watch` keeps its watch apart");
    server.stop().await;
}
