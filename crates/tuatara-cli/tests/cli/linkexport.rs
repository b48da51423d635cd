//! `links export` with metadata (csv, json), keys apart, `#P!` links and the folder as one
//! link; `links get --keys` on another machine joining a keyless list with its key file.

use std::path::Path;

use serde_json::Value;
use tuatara_core::links::{formats, KeyFile, ListFormat};

use crate::support::{content, logged_in, mode, Cli, EMAIL};

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `/Out` with three files; returns their contents by name.
fn seed(server: &test_support::TestServer) -> Vec<(&'static str, Vec<u8>)> {
    let files = vec![("a.txt", b"alpha".to_vec()), ("b.bin", content(200_000, 7)), ("c.txt", b"gamma".to_vec())];
    let paths = ["/Out/a.txt", "/Out/b.bin", "/Out/sub/c.txt"];
    for ((_, data), path) in files.iter().zip(paths) {
        server.seed_bytes(EMAIL, path, data, 1_700_000_000).unwrap();
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_in_each_format_reads_back() {
    let (server, cli) = logged_in().await;
    seed(&server);
    let tmp = tempfile::tempdir().unwrap();

    let plain = cli.run(&["links", "export", "/Out"]).await;
    let links = plain.ok().lines();
    assert_eq!(links.len(), 3, "{}", plain.stdout);
    assert!(links.iter().all(|l| l.starts_with("https://mega.nz/file/") && l.contains('#')), "{links:?}");

    let csv = cli.run(&["links", "export", "/Out", "--format", "csv"]).await;
    assert_eq!(csv.ok().lines()[0], formats::CSV_HEADER);
    let rows = formats::parse(&csv.stdout).unwrap().unwrap();
    let got: Vec<_> = rows.iter().map(|r| (r.meta.path.as_str(), r.meta.size, r.meta.mtime)).collect();
    assert_eq!(
        got,
        [
            ("/Out/a.txt", 5, Some(1_700_000_000)),
            ("/Out/b.bin", 200_000, Some(1_700_000_000)),
            ("/Out/sub/c.txt", 5, Some(1_700_000_000))
        ]
    );
    assert!(rows.iter().all(|r| r.meta.fingerprint.as_ref().is_some_and(|f| !f.is_empty())));
    assert_eq!(rows.iter().map(|r| r.link.as_str()).collect::<Vec<_>>(), links, "the same links");

    let out = tmp.path().join("list.json");
    let json = cli.run(&["links", "export", "/Out", "--format", "json", "-o", &s(&out)]).await;
    assert!(json.ok().stdout.is_empty(), "the list went to the file: {}", json.stdout);
    assert_eq!(mode(&out), 0o600);
    let body = std::fs::read_to_string(&out).unwrap();
    assert_eq!(formats::detect(&body), ListFormat::Json);
    assert_eq!(formats::parse(&body).unwrap().unwrap(), rows);

    // --json keeps giving path and link per file (and now the metadata).
    let v = cli.run(&["--json", "links", "export", "/Out"]).await.json();
    assert_eq!(v[0]["path"], "/Out/a.txt");
    assert_eq!(v[0]["link"], links[0]);
    assert_eq!(v[1]["size"], 200_000);

    // The folder as one link.
    let folder = cli.run(&["links", "export", "/Out", "--as-folder"]).await;
    assert_eq!(folder.ok().lines().len(), 1);
    assert!(folder.stdout.starts_with("https://mega.nz/folder/"), "{}", folder.stdout);
    let opened =
        Cli::new(server.url()).run_with_stdin(&["--json", "links", "get", "-", "--check"], &folder.stdout).await;
    let v = opened.json();
    assert_eq!((v[0]["status"].as_str(), v[0]["name"].as_str()), (Some("alive"), Some("Out")));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_apart_travel_apart_and_download_intact() {
    let (server, cli) = logged_in().await;
    let files = seed(&server);
    let tmp = tempfile::tempdir().unwrap();
    let (list, keys) = (tmp.path().join("share/list.csv"), tmp.path().join("keys/list.keys"));
    cli.run(&["links", "export", "/Out", "--format", "csv", "--keys-apart", &s(&keys), "-o", &s(&list)]).await.ok();
    assert_eq!((mode(&list), mode(&keys)), (0o600, 0o600));
    let body = std::fs::read_to_string(&list).unwrap();
    let key_file = KeyFile::load(&keys).unwrap();
    assert_eq!(key_file.len(), 3);
    let key_text = std::fs::read_to_string(&keys).unwrap();
    let key_lines: Vec<&str> = key_text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(key_lines.len(), 3);
    for line in &key_lines {
        let (handle, key) = line.split_once(' ').unwrap();
        assert!(body.contains(handle), "the list names {handle}");
        assert!(!body.contains(key), "no key in the keyless list: {body}");
    }

    // Another machine, no account: without the keys every link is dead (exit 6).
    let receiver = Cli::new(server.url());
    let out = tmp.path().join("dl");
    let no_keys = receiver.run(&["--json", "links", "get", &s(&list), "--to", &s(&out)]).await;
    assert_eq!(no_keys.code, 6, "{}", no_keys.stderr);
    let rows: Value = serde_json::from_str(&no_keys.stdout).unwrap();
    assert!(rows.as_array().unwrap().iter().all(|r| r["status"] == "dead"), "{rows}");
    assert!(rows[0]["error"].as_str().unwrap().contains("--keys"), "{rows}");

    // With the key file: each file comes down intact; each row keeps what the list said.
    let got = receiver.run(&["--json", "links", "get", &s(&list), "--keys", &s(&keys), "--to", &s(&out)]).await;
    let rows = got.json();
    assert!(rows.as_array().unwrap().iter().all(|r| r["status"] == "done"), "{rows}");
    assert_eq!(rows[1]["expected"]["path"], "/Out/b.bin");
    assert_eq!(rows[1]["expected"]["size"], 200_000);
    for (name, data) in &files {
        assert_eq!(&std::fs::read(out.join(name)).unwrap(), data, "{name}");
    }

    // A key missing, one cut short, one of another file: each of those links dead, the rest
    // fine; exit 6. (A fresh receiver: its ledger knows nothing.)
    let (h0, k0) = key_lines[0].split_once(' ').unwrap();
    let (h1, k1) = key_lines[1].split_once(' ').unwrap();
    let damaged = tmp.path().join("damaged.keys");
    std::fs::write(&damaged, format!("{h0} {}\n{h1} {k0}\n", &k1[..20])).unwrap();
    let other = Cli::new(server.url());
    let checked = other.run(&["--json", "links", "get", &s(&list), "--keys", &s(&damaged), "--check"]).await;
    assert_eq!(checked.code, 6, "{}", checked.stderr);
    let rows: Value = serde_json::from_str(&checked.stdout).unwrap();
    let errors: Vec<(&str, &str)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["status"].as_str().unwrap(), r["error"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(errors[0], ("dead", "the key given does not fit the link"), "{rows}");
    assert_eq!(errors[1].0, "dead", "{rows}");
    assert!(errors[1].1.contains("does not fit"), "{rows}");
    assert!(errors[2].1.starts_with("the link has no key"), "{rows}");
    assert!(!checked.stdout.contains(k0) && !checked.stderr.contains(k0), "no key shown");

    // A key file that is not one says which line.
    std::fs::write(&damaged, "one two three\n").unwrap();
    other.run(&["links", "get", &s(&list), "--keys", &s(&damaged)]).await.fails(2, "line 1 of the key file");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_exports_open_with_their_password() {
    let (server, cli) = logged_in().await;
    seed(&server);
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("p.txt");
    cli.run(&["links", "export", "/Out", "--password", "pw", "-o", &s(&list)]).await.ok();
    let body = std::fs::read_to_string(&list).unwrap();
    assert_eq!(body.lines().count(), 3);
    assert!(body.lines().all(|l| l.starts_with("https://mega.nz/#P!")), "{body}");
    let receiver = Cli::new(server.url());
    let locked = receiver.run(&["--json", "links", "get", &s(&list), "--check"]).await;
    assert_eq!(locked.code, 6);
    let opened = receiver.run(&["--json", "links", "get", &s(&list), "--check", "--password", "pw"]).await.json();
    let names: Vec<_> = opened.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["a.txt", "b.bin", "c.txt"]);
    cli.run(&["links", "export", "/Out", "--password", "pw", "--keys-apart", &s(&tmp.path().join("k"))])
        .await
        .fails(2, "cannot be used with");
    server.stop().await;
}
