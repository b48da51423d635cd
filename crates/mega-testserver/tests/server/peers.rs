//! Real third-party MEGA clients against the server (`shared/interop/PEERS.md`): megajs 1.3.10
//! and rclone's mega backend (go-mega) log in, upload, list and download, and files cross
//! between them and a `mega-proto` client in every direction, each verified byte for byte (and
//! by MAC where the downloader checks one).
//!
//! The peers are installed by `make deps` (`scripts/peers.sh`) under `$TUATARA_PEERS`. Without
//! them the test is skipped, except under `CI`, where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::client::{self, Client};
use mega_testserver::support::content;
use mega_testserver::{TestServer, Version};

fn peers() -> Option<PathBuf> {
    let dir = std::env::var_os("TUATARA_PEERS")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/tuatara/peers")))?;
    let ok = dir.join("megajs/node_modules/megajs/package.json").exists() && dir.join("venv/bin/rclone").exists();
    ok.then_some(dir)
}

#[allow(clippy::print_stderr)]
fn require_peers() -> Option<PathBuf> {
    match peers() {
        Some(p) => Some(p),
        None if std::env::var_os("CI").is_some() => panic!("peers are not installed: run `make deps`"),
        None => {
            eprintln!("skipping: megajs/rclone not installed (run `make deps`)");
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{cmd:?} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

struct Peers {
    dir: PathBuf,
    url: String,
    email: String,
    password: String,
    conf: PathBuf,
}

impl Peers {
    fn megajs(&self, args: &[&str]) -> String {
        // Written atomically: tests run side by side, and node must never read a half-written
        // script (it sits in the megajs folder so that `import 'megajs'` resolves).
        let script = self.dir.join("megajs/tuatara-peer.mjs");
        let tmp =
            self.dir.join(format!("megajs/.tuatara-peer-{}-{:?}.tmp", std::process::id(), std::thread::current().id()));
        std::fs::write(&tmp, include_str!("peers/megajs.mjs")).unwrap();
        std::fs::rename(&tmp, &script).unwrap();
        run(Command::new("node").arg(&script).args([&self.url, &self.email, &self.password]).args(args))
    }

    fn rclone(&self, args: &[&str]) -> String {
        let rclone = self.dir.join("venv/bin/rclone");
        let obscured = run(Command::new(&rclone).args(["obscure", &self.password]));
        let remote = format!(":mega,user={},pass={}:", self.email, obscured.trim());
        let args: Vec<String> = args.iter().map(|a| a.replace("REMOTE:", &remote)).collect();
        run(Command::new(&rclone)
            .args(&args)
            .args(["--config", &self.conf.to_string_lossy(), "--low-level-retries", "1", "--retries", "1"])
            // go-mega reads the API URL from here, without the trailing slash.
            .env("X_MEGA_API_URL", self.url.trim_end_matches('/')))
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_cross_between_megajs_rclone_and_tuatara() {
    let Some(dir) = require_peers() else { return };
    let server = TestServer::start().await.unwrap();
    server.add_user("Peer@Example.com", "peer password", Version::V2).unwrap();
    // Both peers solve hashcash on every login (an easy challenge keeps the test short; the
    // full exchange of 402, solve and re-send happens all the same).
    server.set_hashcash(Some(230));
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    let peers = Peers {
        dir,
        url: server.url().to_string(),
        email: "peer@example.com".into(),
        password: "peer password".into(),
        conf,
    };
    let t = tmp.path();
    // Sizes off chunk boundaries: megajs 1.3.10 MACs boundary sizes wrongly (PEERS.md).
    let (a, b, c) = (content(2_500_017, 0), content(777_777, 0), content(1_234_567, 0));
    std::fs::write(t.join("a.bin"), &a).unwrap();
    std::fs::write(t.join("b.bin"), &b).unwrap();

    // megajs up, rclone down.
    peers.megajs(&["upload", &t_str(t, "a.bin"), "from-megajs.bin"]);
    peers.rclone(&["copyto", "REMOTE:from-megajs.bin", &t_str(t, "a-via-rclone.bin")]);
    assert_eq!(read(&t.join("a-via-rclone.bin")), a);

    // rclone up, megajs down (megajs checks the MAC).
    peers.rclone(&["copyto", &t_str(t, "b.bin"), "REMOTE:from-rclone.bin"]);
    peers.megajs(&["download", "from-rclone.bin", &t_str(t, "b-via-megajs.bin")]);
    assert_eq!(read(&t.join("b-via-megajs.bin")), b);

    // Both, downloaded by the mega-proto client with the SDK's MAC rule.
    let mut ours = Client::new(server.url());
    ours.login("peer@example.com", "peer password").await.unwrap();
    let files = ours.files().await;
    for (name, want) in [("from-megajs.bin", &a), ("from-rclone.bin", &b)] {
        let (_, h, fk, size) = files.iter().find(|f| f.0 == name).unwrap_or_else(|| panic!("{name} not listed"));
        assert_eq!(*size as usize, want.len());
        assert_eq!(&ours.download_verified(h, fk).await, want, "{name}");
    }

    // Ours up; both peers list it and download it.
    let root = ours.root(2).await;
    ours.upload(&root, "from-tuatara.bin", &c).await;
    assert!(peers.megajs(&["ls"]).lines().any(|l| l == "from-tuatara.bin"));
    assert!(peers.rclone(&["lsf", "REMOTE:"]).lines().any(|l| l == "from-tuatara.bin"));
    peers.megajs(&["download", "from-tuatara.bin", &t_str(t, "c-via-megajs.bin")]);
    peers.rclone(&["copyto", "REMOTE:from-tuatara.bin", &t_str(t, "c-via-rclone.bin")]);
    assert_eq!(read(&t.join("c-via-megajs.bin")), c);
    assert_eq!(read(&t.join("c-via-rclone.bin")), c);

    // Sizes at the edges of the chunk layout, through each peer and back, and across. megajs
    // 1.3.10 MACs a 0-byte file wrongly (PEERS.md), so only rclone uploads that one.
    let sizes: [(usize, bool); 4] = [(0, false), (1, true), (131_073, true), (5 * 1024 * 1024 + 17, true)];
    for (size, megajs_too) in sizes {
        let data = content(size, 0);
        let local = t.join(format!("s{size}"));
        std::fs::write(&local, &data).unwrap();
        peers.rclone(&["copyto", &local.to_string_lossy(), &format!("REMOTE:sizes/r{size}")]);
        let back = t.join(format!("s{size}.via-megajs"));
        if megajs_too {
            peers.megajs(&["upload", &local.to_string_lossy(), &format!("m{size}")]);
            peers.rclone(&["copyto", &format!("REMOTE:m{size}"), &back.to_string_lossy()]);
            assert_eq!(read(&back), data, "megajs -> rclone, {size} bytes");
        }
        let back = t.join(format!("s{size}.via-rclone"));
        peers.rclone(&["copyto", &format!("REMOTE:sizes/r{size}"), &back.to_string_lossy()]);
        assert_eq!(read(&back), data, "rclone round trip, {size} bytes");
    }
    let listed = peers.rclone(&["ls", "REMOTE:sizes"]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(peers.rclone(&["lsd", "REMOTE:"]).lines().any(|l| l.ends_with(" sizes")));

    // Duplicate names (two uploads of the same name): rclone's dedupe renames one, which sends
    // go-mega's `a` with `attr` and `key`.
    let mut dup_dir_owner = Client::new(server.url());
    dup_dir_owner.login("peer@example.com", "peer password").await.unwrap();
    let root = dup_dir_owner.root(2).await;
    let dups = dup_dir_owner.mkdir(&root, "dups").await["f"][0]["h"].as_str().unwrap().to_string();
    dup_dir_owner.upload(&dups, "same.txt", b"first").await;
    dup_dir_owner.upload(&dups, "same.txt", b"second").await;
    peers.rclone(&["dedupe", "--dedupe-mode", "rename", "REMOTE:dups"]);
    let names = peers.rclone(&["lsf", "REMOTE:dups"]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_ne!(names[0], names[1], "dedupe gave them different names: {names:?}");

    // A file link made by megajs opens in megajs without a session's keys.
    let link = peers.megajs(&["link", "from-rclone.bin"]);
    let parsed = mega_proto::link::parse_plain(link.trim()).unwrap();
    assert!(parsed.key.is_some());
    peers.megajs(&["download-link", link.trim(), &t_str(t, "b-via-link.bin")]);
    assert_eq!(read(&t.join("b-via-link.bin")), b);

    // A folder exported by megajs (s2 with its share keys, then l): megajs opens the folder
    // link, and so does the mega-proto client with only the link's key.
    peers.megajs(&["mkdir-upload", "album", &t_str(t, "b.bin"), "in-folder.bin"]);
    let folder_link = peers.megajs(&["link", "album"]);
    assert!(folder_link.contains("/folder/"), "{folder_link}");
    assert_eq!(peers.megajs(&["link-ls", folder_link.trim()]).trim(), "in-folder.bin");
    peers.megajs(&["link-get", folder_link.trim(), "in-folder.bin", &t_str(t, "b-via-folder-link.bin")]);
    assert_eq!(read(&t.join("b-via-folder-link.bin")), b);
    let link = mega_proto::link::parse_plain(folder_link.trim()).unwrap();
    let listing = ours.folder_link_files(&link).await;
    assert_eq!(listing.len(), 1);
    assert_eq!(listing[0].0, "in-folder.bin");
    server.stop().await;
}

/// Starts the `mega-testserver` binary; returns it, its URL and what it said on stderr up to a
/// line containing `until`.
fn spawn_server(args: &[&str], until: &str) -> (std::process::Child, String, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_mega-testserver"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut url = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut url).unwrap();
    let mut said = String::new();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    while !said.contains(until) {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            break;
        }
        said.push_str(&line);
    }
    (child, url.trim().to_string(), said)
}

fn stop(mut child: std::process::Child) {
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success(), "SIGTERM ends it cleanly");
}

/// The `--demo` drive, as a user starts it, loads in both peers: they list exactly the files our
/// client decrypts (duplicate names included), download them verified, open the folder link,
/// and find it all again after a restart from the data directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_drive_loads_in_megajs_and_rclone() {
    use mega_testserver::demo;
    let Some(dir) = require_peers() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data_arg = data.to_string_lossy().into_owned();
    let (child, url, said) = spawn_server(&["--demo", "--data", &data_arg, "--hashcash", "230"], "#P! link");
    let folder_link = said.lines().find_map(|l| l.trim().strip_prefix("folder link:")).unwrap().trim().to_string();
    let conf = tmp.path().join("rclone.conf");
    std::fs::write(&conf, "").unwrap();
    let peers = Peers { dir, url: url.clone(), email: demo::EMAIL.into(), password: demo::PASSWORD.into(), conf };

    let mut ours = Client::new(&url);
    ours.login(demo::EMAIL, demo::PASSWORD).await.unwrap();
    let nodes = ours.decrypted_tree().await;
    let root = ours.root(2).await;
    let all = client::paths_below(&nodes, &root);
    let mut want: Vec<String> =
        all.iter().map(|(p, n)| if n.t == 0 { format!("{p}\t{}", n.size) } else { p.clone() }).collect();
    want.sort();
    assert!(want.len() > 250, "{} nodes", want.len());

    let mut megajs: Vec<String> = peers.megajs(&["tree"]).lines().map(str::to_string).collect();
    megajs.sort();
    assert_eq!(megajs, want, "megajs lists the demo drive as we decrypt it");

    let mut rclone: Vec<String> = peers
        .rclone(&["ls", "REMOTE:"])
        .lines()
        .map(|l| {
            let (size, path) = l.trim_start().split_once(' ').unwrap();
            format!("{path}\t{size}")
        })
        .collect();
    rclone.sort();
    let want_files: Vec<String> = want.iter().filter(|l| l.contains('\t')).cloned().collect();
    assert_eq!(rclone, want_files, "rclone lists the same files");
    assert_eq!(want_files.iter().filter(|l| l.starts_with("Documents/report.pdf\t")).count(), 2, "duplicates");

    // Downloads, verified by each peer's own MAC check (megajs) and against ours.
    let t = tmp.path();
    for (path, local) in [("Photos/2024/Winter/IMG_5001.jpg", "photo.jpg"), ("Documents/Personal/CV.pdf", "cv.pdf")] {
        let (_, n) = all.iter().find(|(p, _)| p == path).unwrap_or_else(|| panic!("{path}"));
        let Some(mega_proto::NodeKey::File(fk)) = n.key.clone() else { panic!("{path}: no key") };
        let expected = ours.download_verified(&n.h, &fk).await;
        peers.megajs(&["get", path, &t_str(t, local)]);
        assert_eq!(read(&t.join(local)), expected, "megajs {path}");
        peers.rclone(&["copyto", &format!("REMOTE:{path}"), &t_str(t, &format!("r-{local}"))]);
        assert_eq!(read(&t.join(format!("r-{local}"))), expected, "rclone {path}");
    }
    let big = "Datasets/weather-archive.bin";
    peers.rclone(&["copyto", &format!("REMOTE:{big}"), &t_str(t, "big.bin")]);
    assert_eq!(std::fs::metadata(t.join("big.bin")).unwrap().len(), 52_000_000);

    // The folder link opens in megajs with the names we decrypt with the link key alone.
    let link = mega_proto::link::parse_plain(&folder_link).unwrap();
    let mut ours_in_link: Vec<String> = ours.folder_link_files(&link).await.into_iter().map(|f| f.0).collect();
    ours_in_link.sort();
    let mut names: Vec<String> = peers.megajs(&["link-ls", &folder_link]).lines().map(str::to_string).collect();
    names.sort();
    assert_eq!(names, ["Screenshots", "Winter"], "the link's top level");
    assert_eq!(ours_in_link.len(), 45, "30 photos and 15 screenshots below it");
    stop(child);

    // Restarted from the data directory: no new seeding, the same drive.
    let (child, url, said) = spawn_server(&["--demo", "--data", &data_arg], "#P! link");
    assert!(said.contains(&folder_link), "the same folder link after a restart:\n{said}");
    let peers = Peers { url, ..peers };
    let mut again: Vec<String> = peers.megajs(&["tree"]).lines().map(str::to_string).collect();
    again.sort();
    assert_eq!(again, want);
    stop(child);
}

fn t_str(dir: &Path, name: &str) -> String {
    dir.join(name).to_string_lossy().into_owned()
}
