//! The node cache (issue 17): a command after the first starts from the encrypted cache and
//! catches up through the event channel (no `f`); changes made elsewhere while the CLI was not
//! running show; a server that no longer knows the cache's `sn` (restart), a damaged file, and
//! two processes at once all end in the right listing; the file holds no name nor key.

use std::net::SocketAddr;
use std::path::PathBuf;

use mega_api::{Session, Tree};
use mega_proto::b64;
use mega_testserver::support::{EMAIL, PASSWORD};
use mega_testserver::{TestServer, Version};
use test_support::server_with_account;

use crate::support::{client, Cli};

fn cache_files(cli: &Cli) -> Vec<PathBuf> {
    match std::fs::read_dir(cli.data_dir().join("node-cache")) {
        Ok(d) => d.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The one cache file (`.sqlite`).
fn cache_file(cli: &Cli) -> PathBuf {
    let files: Vec<PathBuf> =
        cache_files(cli).into_iter().filter(|p| p.extension().is_some_and(|e| e == "sqlite")).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn fetches(server: &TestServer) -> u64 {
    server.command_stats("f").commands
}

async fn other_client(server: &TestServer) -> (Session, Tree) {
    let session = test_support::session(&client(server.url()), EMAIL, PASSWORD).await;
    let tree = session.fetch_tree().await.unwrap();
    (session, tree)
}

async fn ls(cli: &Cli, path: &str) -> String {
    cli.run(&["ls", path]).await.ok().stdout.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warm_start_lists_from_the_cache_and_shows_what_changed_elsewhere() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    let docs = other.mkdir(&mut tree, root, "Docs").await.unwrap();
    let secret = other.upload_bytes(&mut tree, docs, "secret-name-quokka.txt", b"hello", 1).await.unwrap();
    let gone = other.upload_bytes(&mut tree, root, "to-delete.txt", b"x", 1).await.unwrap();
    let moved = other.upload_bytes(&mut tree, root, "to-move.txt", b"y", 1).await.unwrap();

    let before = fetches(&server);
    assert!(ls(&cli, "/Docs").await.contains("secret-name-quokka.txt"));
    assert_eq!(fetches(&server), before + 1, "the first command fetches the tree");
    assert!(ls(&cli, "/").await.contains("to-move.txt"));
    assert_eq!(fetches(&server), before + 1, "the second one starts from the cache");

    // Changes made by another client while the CLI is not running.
    other.rename(&mut tree, secret, "renamed-kiwi.txt").await.unwrap();
    other.move_node(&mut tree, moved, docs).await.unwrap();
    other.remove(&mut tree, gone).await.unwrap();
    other.upload_bytes(&mut tree, root, "new-upload.txt", b"z", 1).await.unwrap();
    let top = ls(&cli, "/").await;
    assert!(top.contains("new-upload.txt") && !top.contains("to-delete.txt") && !top.contains("to-move.txt"), "{top}");
    let docs_listing = ls(&cli, "/Docs").await;
    assert!(docs_listing.contains("renamed-kiwi.txt") && docs_listing.contains("to-move.txt"), "{docs_listing}");
    assert!(!docs_listing.contains("secret-name-quokka.txt"), "{docs_listing}");
    assert_eq!(fetches(&server), before + 1, "caught up through the event channel, no fetch");

    // Nothing readable in the file: no name, no node key (b64 or raw).
    let key = tree.get(secret).unwrap().key().unwrap().to_bytes();
    let mut bytes = Vec::new();
    for f in cache_files(&cli) {
        bytes.extend(std::fs::read(f).unwrap());
    }
    let holds = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(!bytes.is_empty());
    for name in ["renamed-kiwi", "secret-name-quokka", "new-upload", "Docs"] {
        assert!(!holds(name.as_bytes()), "the cache holds {name}");
    }
    assert!(!holds(&key), "the cache holds a node key");
    assert!(!holds(b64::encode(&key).as_bytes()), "the cache holds a node key in b64");
    assert!(!holds(secret.to_b64().as_bytes()), "the cache holds a handle");

    // Logging out deletes it.
    cli.run(&["logout"]).await.ok();
    assert!(cache_files(&cli).is_empty(), "{:?}", cache_files(&cli));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sn_the_restarted_server_no_longer_knows_falls_back_to_a_full_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let start = |listen: Option<SocketAddr>| {
        let data = Some(dir.path().to_path_buf());
        async move { TestServer::start_with(mega_testserver::Config { listen, data }).await.unwrap() }
    };
    let server = start(None).await;
    server.add_user(EMAIL, PASSWORD, Version::V2).unwrap();
    let addr: SocketAddr = server.url().trim_start_matches("http://").trim_end_matches('/').parse().unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    assert!(!ls(&cli, "/").await.contains("after-restart.txt"));
    // A change the CLI has not seen, whose packet the restart forgets: the CLI's `sn` is then
    // older than what the server keeps.
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    other.upload_bytes(&mut tree, root, "before-restart.txt", b"r", 1).await.unwrap();
    server.stop().await;

    let server = start(Some(addr)).await;
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    other.upload_bytes(&mut tree, root, "after-restart.txt", b"r", 1).await.unwrap();
    let before = fetches(&server);
    let top = ls(&cli, "/").await;
    assert!(top.contains("after-restart.txt") && top.contains("before-restart.txt"), "{top}");
    assert_eq!(fetches(&server), before + 1, "-6: the tree is fetched again");
    // And the cache rewritten: the next start needs no fetch.
    assert!(ls(&cli, "/").await.contains("after-restart.txt"));
    assert_eq!(fetches(&server), before + 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_cache_is_set_aside_and_rebuilt() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    other.upload_bytes(&mut tree, root, "kept.txt", b"k", 1).await.unwrap();
    assert!(ls(&cli, "/").await.contains("kept.txt"));
    let file = cache_file(&cli);

    // Garbage bytes.
    std::fs::write(&file, vec![0x5a; 64 * 1024]).unwrap();
    let before = fetches(&server);
    assert!(ls(&cli, "/").await.contains("kept.txt"));
    assert_eq!(fetches(&server), before + 1);
    assert!(cache_files(&cli).iter().any(|p| p.to_string_lossy().contains(".corrupt-")));
    assert!(ls(&cli, "/").await.contains("kept.txt"));
    assert_eq!(fetches(&server), before + 1, "rebuilt: the next start uses it");

    // Truncated (after the pages are written back from the WAL).
    let len = std::fs::metadata(&file).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    assert!(ls(&cli, "/").await.contains("kept.txt"));

    // Another account's cache in its place: a rebuilt one, not a wrong listing.
    let stranger = Cli::new(server.url());
    server.add_user("other@example.com", PASSWORD, Version::V2).unwrap();
    stranger.login("other@example.com", PASSWORD).await.ok();
    assert!(!ls(&stranger, "/").await.contains("kept.txt"));
    std::fs::copy(cache_file(&cli), cache_file(&stranger)).unwrap();
    let _ = std::fs::remove_file(PathBuf::from(format!("{}-wal", cache_file(&stranger).display())));
    assert!(!ls(&stranger, "/").await.contains("kept.txt"), "another account's cache is never read");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_at_once_share_one_cache() {
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    ls(&cli, "/").await;
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    for i in 0..5 {
        other.upload_bytes(&mut tree, root, &format!("both-{i}.txt"), b"b", 1).await.unwrap();
    }
    let (a, b) = tokio::join!(cli.run(&["ls", "/"]), cli.run(&["ls", "/"]));
    for run in [a, b] {
        run.ok();
        assert!((0..5).all(|i| run.stdout.contains(&format!("both-{i}.txt"))), "{}", run.stdout);
    }
    let listing = ls(&cli, "/").await;
    assert!((0..5).all(|i| listing.contains(&format!("both-{i}.txt"))), "{listing}");
    server.stop().await;
}

/// `TUATARA_LOG`'s debug line of the cache: how many nodes the command held.
fn nodes_held(stderr: &str) -> usize {
    let line = stderr
        .lines()
        .find(|l| l.contains("the tree as read from the node cache"))
        .unwrap_or_else(|| panic!("{stderr}"));
    let at = line.find("nodes=").unwrap() + "nodes=".len();
    line[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_one_folder_reads_that_folder_not_the_whole_tree() {
    let server = server_with_account().await;
    server.seed_bulk(EMAIL, 30, 40).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let all = cli.run(&["ls", "-R", "/bulk"]).await.ok().stdout.lines().count();
    assert_eq!(all, 30 + 30 * 40);

    let mut cmd = cli.command(&["ls", "/bulk/dir-00007"]);
    cmd.env("TUATARA_LOG", "tuatara_core=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = cmd.output().await.unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    assert_eq!(listing.lines().count(), 40, "{listing}");
    assert!(listing.lines().all(|l| l.starts_with("file-")), "{listing}");
    // The roots, /bulk, its 30 folders and one folder's 40 files; not the 1,200 others.
    let held = nodes_held(&String::from_utf8_lossy(&out.stderr));
    assert!((40..=80).contains(&held), "held {held} nodes");

    // What is below a folder (-R, sizes) is read whole; the rest of the tree is not.
    let mut cmd = cli.command(&["ls", "-l", "/bulk/dir-00003"]);
    cmd.env("TUATARA_LOG", "tuatara_core=debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let out = cmd.output().await.unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 40);
    assert!(nodes_held(&String::from_utf8_lossy(&out.stderr)) < 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_by_megajs_while_the_cli_was_not_running_show_from_the_cache() {
    let Some(peers) = crate::peers::megajs_dir() else { return };
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    let docs = other.mkdir(&mut tree, root, "Album").await.unwrap();
    other.upload_bytes(&mut tree, docs, "inside.txt", b"i", 1).await.unwrap();
    other.upload_bytes(&mut tree, root, "old-name.txt", b"o", 1).await.unwrap();
    assert!(ls(&cli, "/").await.contains("old-name.txt"));

    // megajs, while the CLI is not running: an upload, a rename, and a folder link.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("from-megajs.bin");
    std::fs::write(&local, b"bytes from megajs").unwrap();
    crate::peers::megajs(&peers, server.url(), &["upload", local.to_str().unwrap(), "from-megajs.bin"]).await;
    crate::peers::megajs(&peers, server.url(), &["rename", "old-name.txt", "new-name.txt"]).await;
    let link = crate::peers::megajs(&peers, server.url(), &["link", "Album"]).await.trim().to_string();
    assert!(link.contains("/folder/"), "{link}");
    // (megajs fetches the tree at each of its logins; the CLI's own count from here.)
    let before = fetches(&server);

    let top = ls(&cli, "/").await;
    assert!(top.contains("from-megajs.bin") && top.contains("new-name.txt") && !top.contains("old-name.txt"), "{top}");
    let got = dir.path().join("got");
    cli.run(&["get", "/from-megajs.bin", got.to_str().unwrap()]).await.ok();
    assert_eq!(std::fs::read(got.join("from-megajs.bin")).unwrap(), b"bytes from megajs");
    // The folder link megajs made is known from the cache caught up: `link` gives it back
    // without exporting again.
    let exports = server.command_stats("s2").commands;
    let ours = cli.run(&["link", "/Album"]).await.ok().stdout.trim().to_string();
    let handle = |l: &str| l.split("/folder/").nth(1).unwrap().split('#').next().unwrap().to_string();
    assert_eq!(handle(&ours), handle(&link), "{ours} vs {link}");
    assert_eq!(server.command_stats("s2").commands, exports, "no new export");
    assert_eq!(fetches(&server), before, "all of it from the cache and the event channel");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_while_the_cache_is_written_never_leaves_a_wrong_tree() {
    let server = server_with_account().await;
    server.seed_bulk(EMAIL, 40, 500).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let (other, mut tree) = other_client(&server).await;
    let root = tree.root().unwrap();
    let want_top = |tree: &Tree| {
        let mut names: Vec<String> = tree.children(tree.root().unwrap()).map(|n| n.name().to_string()).collect();
        names.sort();
        names
    };
    let listed = |s: String| {
        let mut names: Vec<String> = s.lines().map(|l| l.trim_end_matches('/').to_string()).collect();
        names.sort();
        names
    };
    // Killed at several points of a cold start (fetching, writing) and of a catch-up.
    for (i, delay) in [5u64, 30, 80, 150, 250, 400, 600].into_iter().enumerate() {
        if i % 2 == 1 {
            other.upload_bytes(&mut tree, root, &format!("during-{i}.txt"), b"d", 1).await.unwrap();
        } else {
            for f in cache_files(&cli) {
                std::fs::remove_file(f).unwrap();
            }
        }
        let mut child = cli.command(&["ls", "/bulk/dir-00001"]).spawn().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
        let _ = child.start_kill(); // SIGKILL
        let _ = child.wait().await;
        let got = listed(ls(&cli, "/").await);
        assert_eq!(got, want_top(&tree), "after a kill at {delay} ms");
        assert_eq!(ls(&cli, "/bulk/dir-00001").await.lines().count(), 500);
        assert!(!cache_files(&cli).iter().any(|p| p.to_string_lossy().contains(".corrupt-")), "a kill is not damage");
    }
    server.stop().await;
}
