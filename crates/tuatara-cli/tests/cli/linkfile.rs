//! `links get`: a links file with duplicates, a dead link, a `#P!` link and junk text; each
//! link checked, the live ones downloaded, a ledger kept so that a second run skips what is
//! done.

use serde_json::Value;
use test_support::server_with_account;

use crate::support::{content, Cli, EMAIL, PASSWORD};

fn by_status(v: &Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["status"].as_str().unwrap().to_string(), r["name"].as_str().unwrap_or("").to_string()))
        .collect();
    rows.sort();
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_links_file_is_checked_downloaded_and_remembered() {
    let server = server_with_account().await;
    let a = content(300_000, 1);
    let ha = server.seed_bytes(EMAIL, "/a.bin", &a, 1_700_000_000).unwrap();
    let hgone = server.seed_bytes(EMAIL, "/gone.bin", b"gone", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/F/inner.txt", b"inner", 1_700_000_000).unwrap();
    server.seed_bytes(EMAIL, "/secret.txt", b"secret", 1_700_000_000).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let link_a = server.file_link(EMAIL, ha).unwrap();
    let dead = server.file_link(EMAIL, hgone).unwrap();
    let folder = server.folder_link(EMAIL, "/F").unwrap();
    let protected = cli.run(&["link", "/secret.txt", "--password", "pw"]).await.ok().stdout.trim().to_string();
    cli.run(&["rm", "--permanent", "/gone.bin"]).await.ok();

    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("links.txt");
    std::fs::write(
        &list,
        format!(
            "My downloads!!\n{link_a}\nsee also <a href=\"{folder}\">this folder</a>, and again {link_a}\n\
             dead: {dead}\nprotected: {protected}\nnot a link: https://example.com/file/AAAA#BBBB\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (list_s, out_s) = (list.to_string_lossy().into_owned(), out.to_string_lossy().into_owned());

    // --check downloads nothing and says what is alive.
    let checked = cli.run(&["--json", "links", "get", &list_s, "--check"]).await;
    assert_eq!(checked.code, 6, "{}", checked.stderr);
    let rows: Value = serde_json::from_str(&checked.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 4, "duplicates removed, junk ignored: {rows}");
    assert_eq!(
        by_status(&rows),
        [
            ("alive".into(), "F".into()),
            ("alive".into(), "a.bin".into()),
            ("dead".into(), String::new()),
            ("needs_password".into(), String::new())
        ]
    );
    assert!(!out.exists());

    // Without the password: the live links come down, the #P! one waits, the dead one is dead.
    let first = cli.run(&["--json", "links", "get", &list_s, "--to", &out_s]).await;
    assert_eq!(first.code, 6, "{}", first.stderr);
    let rows: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(
        by_status(&rows),
        [
            ("dead".into(), String::new()),
            ("done".into(), "F".into()),
            ("done".into(), "a.bin".into()),
            ("needs_password".into(), String::new())
        ]
    );
    assert_eq!(std::fs::read(out.join("a.bin")).unwrap(), a);
    assert_eq!(std::fs::read(out.join("F/inner.txt")).unwrap(), b"inner");

    // Second run, with the password: the ledger skips what is done (a removed local copy is not
    // fetched again), the #P! link comes down; the dead link still makes it exit 6.
    std::fs::remove_file(out.join("a.bin")).unwrap();
    let second = cli.run(&["--json", "links", "get", &list_s, "--to", &out_s, "--password", "pw"]).await;
    assert_eq!(second.code, 6, "{}", second.stderr);
    let rows: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(
        by_status(&rows),
        [
            ("dead".into(), String::new()),
            ("done".into(), "F".into()),
            ("done".into(), "a.bin".into()),
            ("done".into(), "secret.txt".into())
        ]
    );
    assert!(!out.join("a.bin").exists(), "the ledger said done: not fetched again");
    assert_eq!(std::fs::read(out.join("secret.txt")).unwrap(), b"secret");
    assert!(cli.data_dir().join("links-ledger.json").exists());

    // From stdin, only live links: exit 0.
    let ok = cli.run_with_stdin(&["links", "get", "-", "--to", &out_s], &format!("junk {link_a} junk")).await;
    ok.ok();
    cli.run(&["links", "get", &tmp.path().join("none.txt").to_string_lossy()]).await.fails(3, "no such file");
    cli.run_with_stdin(&["links", "get", "-"], "no links here").await.fails(3, "no MEGA links");
    server.stop().await;
}
