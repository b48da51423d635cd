//! Integrity before download: a csv links file exported, a file behind one of its links
//! renamed on the server; `links check FILE` and `links get` say `changed` with what differs,
//! `links get` skips it (exit 6) and `--allow-changed` downloads it; the intact link downloads
//! with its fingerprint verified; one whose content is not what its fingerprint says fails.

use std::path::Path;

use serde_json::Value;

use crate::support::{client, content, logged_in, Cli, EMAIL, PASSWORD};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_link_is_reported_and_skipped_unless_allowed() {
    let (server, cli) = logged_in().await;
    let big = content(200_000, 3);
    server.seed_bytes(EMAIL, "/Out/a.txt", b"alpha", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/Out/b.bin", &big, 1_700_000_000).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.csv");
    cli.run(&["links", "export", "/Out", "--format", "csv", "-o", &s(&list)]).await.ok();

    // Intact: both alive.
    let receiver = Cli::new(server.url());
    let intact = receiver.run(&["--json", "links", "check", &s(&list)]).await;
    let rows = intact.ok().json();
    assert!(rows.as_array().unwrap().iter().all(|r| r["status"] == "alive"), "{rows}");

    // The uploader renames b.bin: its link now opens to another name.
    cli.run(&["mv", "/Out/b.bin", "/Out/b-renamed.bin"]).await.ok();
    let checked = receiver.run(&["--json", "links", "check", &s(&list)]).await;
    assert_eq!(checked.code, 6, "{}", checked.stderr);
    let rows: Value = serde_json::from_str(&checked.stdout).unwrap();
    assert_eq!((rows[0]["status"].as_str(), rows[1]["status"].as_str()), (Some("alive"), Some("changed")), "{rows}");
    let change = &rows[1]["changes"][0];
    assert_eq!((change["what"].as_str(), change["expected"].as_str()), (Some("name"), Some("b.bin")), "{rows}");
    assert_eq!(change["now"], "b-renamed.bin");
    let text = receiver.run(&["links", "check", &s(&list)]).await;
    assert!(text.stdout.contains("changed") && text.stdout.contains("name: expected b.bin, now b-renamed.bin"));

    // links get --check says so too; links get downloads the intact one only, exit 6.
    let dl = tmp.path().join("dl");
    let only = receiver.run(&["--json", "links", "get", &s(&list), "--check"]).await;
    assert_eq!(only.code, 6, "{}", only.stderr);
    let rows: Value = serde_json::from_str(&only.stdout).unwrap();
    assert_eq!(rows[1]["status"], "changed");
    let got = receiver.run(&["--json", "links", "get", &s(&list), "--to", &s(&dl)]).await;
    assert_eq!(got.code, 6, "{}", got.stderr);
    assert!(got.stderr.contains("--allow-changed"), "{}", got.stderr);
    let rows: Value = serde_json::from_str(&got.stdout).unwrap();
    assert_eq!((rows[0]["status"].as_str(), rows[1]["status"].as_str()), (Some("done"), Some("changed")), "{rows}");
    assert_eq!(rows[1]["changes"][0]["what"], "name");
    assert_eq!(std::fs::read(dl.join("a.txt")).unwrap(), b"alpha", "downloaded, its fingerprint verified");
    assert!(!dl.join("b-renamed.bin").exists() && !dl.join("b.bin").exists(), "the changed link is not downloaded");

    // --allow-changed: downloaded as it is now (its fingerprint verified: the content is the same).
    let allowed = receiver.run(&["--json", "links", "get", &s(&list), "--to", &s(&dl), "--allow-changed"]).await;
    let rows = allowed.ok().json();
    assert!(rows.as_array().unwrap().iter().all(|r| r["status"] == "done"), "{rows}");
    assert_eq!(rows[1]["changes"][0]["what"], "name");
    assert!(allowed.stderr.contains("changed, downloaded as it is now"), "{}", allowed.stderr);
    assert_eq!(std::fs::read(dl.join("b-renamed.bin")).unwrap(), big);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_whose_fingerprint_does_not_match_fails() {
    let (server, cli) = logged_in().await;
    server.seed_bytes(EMAIL, "/Out/d.txt", b"delta", 1_700_000_000).unwrap();
    // The file's fingerprint says other content (as an uploader's client may have set it).
    let session = test_support::session(&client(server.url()), EMAIL, PASSWORD).await;
    let mut tree = session.fetch_tree().await.unwrap();
    let h = tree.resolve("/Out/d.txt").unwrap();
    let mut attrs = tree.get(h).unwrap().attributes();
    attrs.set_fingerprint(&mega_proto::fingerprint::Fingerprint::of(b"not delta", 1_700_000_000).to_attr());
    session.set_attributes(&mut tree, h, attrs).await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("list.json");
    cli.run(&["links", "export", "/Out", "--format", "json", "-o", &s(&list)]).await.ok();

    let receiver = Cli::new(server.url());
    let got = receiver.run(&["--json", "links", "get", &s(&list), "--to", &s(&tmp.path().join("dl"))]).await;
    assert_eq!(got.code, 1, "a failed download: {}", got.stderr);
    let rows: Value = serde_json::from_str(&got.stdout).unwrap();
    let why = rows[0]["error"].as_str().unwrap();
    assert!(why.contains("d.txt") && why.contains("fingerprint does not match"), "{rows}");
    // The ledger has it failed: a second run tries it again.
    let again = receiver.run(&["--json", "links", "get", &s(&list), "--check"]).await;
    let rows: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(rows[0]["status"], "alive", "not done: {rows}");
    server.stop().await;
}
