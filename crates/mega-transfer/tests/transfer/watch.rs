//! Watched upload folders and watched links files against `mega-testserver` on 127.0.0.1,
//! with real filesystem events in a temporary folder. Waits poll with a deadline; nothing
//! asserts a duration.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use mega_api::NodeHandle;
use mega_transfer::watch::{self, LinkState, RunOptions, WatchHandle, WatchKind, WatchStore};
use mega_transfer::{Engine, EngineConfig, Event};
use test_support::{Config, Drive as Ctx, EMAIL};

#[path = "watch/restart.rs"]
mod restart;

// Only a guard against a hang (two shared cores: 5,000 uploads took 77-108 s here).
const DEADLINE: Duration = Duration::from_secs(600);

/// What the watch tests do on a drive.
trait Watching {
    /// An engine with the default configuration.
    fn engine(&self) -> Engine;
    /// The watch store, in the scratch directory.
    fn store(&self) -> WatchStore;
    /// The watched local folder (made on first use).
    fn local(&self) -> PathBuf;
    /// Every file under the remote folder `path` (from a fresh tree): relative path -> nodes.
    async fn remote_files(&self, path: &str) -> BTreeMap<String, Vec<NodeHandle>>;
    /// Is `h` in the rubbish bin (in a fresh tree)?
    async fn in_rubbish(&self, h: NodeHandle) -> bool;
    /// The content of file `h`.
    async fn bytes(&self, h: NodeHandle) -> Vec<u8>;
}

impl Watching for Ctx {
    fn engine(&self) -> Engine {
        let config = EngineConfig::new(self.tmp.path().join("journal"));
        Engine::new(config, self.session.client().clone(), Some(self.session.clone()), Some(self.tree.clone())).unwrap()
    }

    fn store(&self) -> WatchStore {
        WatchStore::open(self.tmp.path().join("watches")).unwrap()
    }

    fn local(&self) -> PathBuf {
        let local = self.tmp.path().join("local");
        std::fs::create_dir_all(&local).unwrap();
        local
    }

    async fn remote_files(&self, path: &str) -> BTreeMap<String, Vec<NodeHandle>> {
        test_support::remote_files(&self.session, path).await
    }

    async fn in_rubbish(&self, h: NodeHandle) -> bool {
        let fresh = self.session.fetch_tree().await.unwrap();
        fresh.rubbish().is_some_and(|r| fresh.get(h).is_some() && fresh.is_within(h, r))
    }

    async fn bytes(&self, h: NodeHandle) -> Vec<u8> {
        let fresh = self.session.fetch_tree().await.unwrap();
        self.session.download_bytes(&fresh, h).await.unwrap()
    }
}

fn options() -> RunOptions {
    RunOptions { settle: Duration::from_millis(400), ..RunOptions::default() }
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, f: impl FnMut() -> F) {
    test_support::until(what, DEADLINE, f).await;
}

async fn idle(h: &WatchHandle) {
    tokio::time::timeout(DEADLINE, h.wait_idle()).await.expect("the watch became idle");
}

async fn start_upload_watch(ctx: &Ctx, engine: &Engine, trash_deleted: bool) -> (WatchStore, WatchHandle) {
    start_upload_watch_with(ctx, engine, trash_deleted, options()).await
}

async fn start_upload_watch_with(
    ctx: &Ctx,
    engine: &Engine,
    trash_deleted: bool,
    options: RunOptions,
) -> (WatchStore, WatchHandle) {
    let store = ctx.store();
    let w = store
        .add(WatchKind::Upload {
            local: ctx.local(),
            remote: "/Backup".into(),
            trash_deleted,
            ignore: vec!["*.skip".into()],
        })
        .unwrap();
    let h = watch::start(engine, &store, &w.id, options).await.unwrap();
    idle(&h).await;
    (store, h)
}

/// Exactly one node per expected file, with the expected content (downloaded back).
async fn assert_remote(ctx: &Ctx, expected: &BTreeMap<String, Vec<u8>>) {
    let remote = ctx.remote_files("/Backup").await;
    let names: Vec<&String> = remote.keys().collect();
    assert_eq!(names, expected.keys().collect::<Vec<_>>());
    for (name, data) in expected {
        let nodes = &remote[name];
        assert_eq!(nodes.len(), 1, "{name} is on the server exactly once");
        assert_eq!(&ctx.bytes(nodes[0]).await, data, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_folder_uploads_settled_files_once() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    // Settle 1 s: the debounce window is 250 ms, so the slow writer's 500 ms pauses pass the
    // debouncer and only the size-and-mtime check keeps the file back.
    let settle = RunOptions { settle: Duration::from_secs(1), ..options() };
    let (store, h) = start_upload_watch_with(&ctx, &engine, false, settle).await;
    let local = ctx.local();
    let mut expected = BTreeMap::new();

    // Created at once; written slowly (appended over ~3 s); renamed into place from a
    // temporary name; a new folder with a file; ignored files.
    std::fs::write(local.join("a.txt"), b"alpha").unwrap();
    expected.insert("a.txt".to_string(), b"alpha".to_vec());
    std::fs::create_dir_all(local.join("sub/deeper")).unwrap();
    std::fs::write(local.join("sub/deeper/d.bin"), vec![7u8; 300_000]).unwrap();
    expected.insert("sub/deeper/d.bin".to_string(), vec![7u8; 300_000]);
    for ignored in [".DS_Store", "x.part", "~$doc.docx", "y.tmp", ".~lock.z#", "mine.skip"] {
        std::fs::write(local.join(ignored), b"no").unwrap();
    }
    let mut slow = std::fs::File::create(local.join("slow.bin")).unwrap();
    let mut slow_data = Vec::new();
    for i in 0..6u8 {
        let piece = vec![i; 10_000];
        slow.write_all(&piece).unwrap();
        slow.flush().unwrap();
        slow_data.extend_from_slice(&piece);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    drop(slow);
    expected.insert("slow.bin".to_string(), slow_data);
    std::fs::write(local.join("r.docx.tmp"), b"renamed into place").unwrap();
    std::fs::rename(local.join("r.docx.tmp"), local.join("r.docx")).unwrap();
    expected.insert("r.docx".to_string(), b"renamed into place".to_vec());

    until("every file on the server", || async { ctx.remote_files("/Backup").await.len() >= expected.len() }).await;
    idle(&h).await;
    assert_remote(&ctx, &expected).await;
    let status = h.status();
    // Four uploads, nothing replaced: no half-written copy was ever sent.
    assert_eq!((status.done, status.trashed, status.failed), (4, 0, 0), "{status:?}");

    // Deleted locally: not propagated (a backup). A marker written after the deletion, once
    // uploaded, proves the deletion's event was handled.
    std::fs::remove_file(local.join("a.txt")).unwrap();
    std::fs::write(local.join("marker"), b"m").unwrap();
    expected.insert("marker".to_string(), b"m".to_vec());
    until("the marker", || async { ctx.remote_files("/Backup").await.contains_key("marker") }).await;
    idle(&h).await;
    assert_remote(&ctx, &expected).await;

    // Changed: uploaded again, the older copy in the rubbish bin, the folder holds it once.
    let old = ctx.remote_files("/Backup").await["slow.bin"][0];
    std::fs::write(local.join("slow.bin"), b"new content").unwrap();
    expected.insert("slow.bin".to_string(), b"new content".to_vec());
    until("the older copy in the rubbish bin", || ctx.in_rubbish(old)).await;
    idle(&h).await;
    assert_remote(&ctx, &expected).await;

    h.stop().await;
    let w = &store.list().unwrap()[0];
    assert!(w.last_activity.is_some());
    assert!(w.done >= 6, "{w:?}");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_go_to_the_rubbish_bin_when_asked() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let (_store, h) = start_upload_watch(&ctx, &engine, true).await;
    let local = ctx.local();
    std::fs::create_dir_all(local.join("dir")).unwrap();
    std::fs::write(local.join("dir/gone.txt"), b"soon gone").unwrap();
    std::fs::write(local.join("kept.txt"), b"kept").unwrap();
    until("both files", || async { ctx.remote_files("/Backup").await.len() == 2 }).await;
    idle(&h).await;
    let gone = ctx.remote_files("/Backup").await["dir/gone.txt"][0];
    assert_eq!(ctx.bytes(gone).await, b"soon gone");
    std::fs::remove_file(local.join("dir/gone.txt")).unwrap();
    until("the deleted file in the rubbish bin", || ctx.in_rubbish(gone)).await;
    idle(&h).await;
    let remote = ctx.remote_files("/Backup").await;
    assert_eq!(remote.keys().collect::<Vec<_>>(), ["kept.txt"]);
    assert_eq!(h.status().trashed, 1);
    h.stop().await;
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_catches_up_with_what_changed_meanwhile() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let local = ctx.local();
    std::fs::write(local.join("before.txt"), b"there before the first start").unwrap();
    let (store, h) = start_upload_watch(&ctx, &engine, false).await;
    std::fs::write(local.join("one.txt"), b"one").unwrap();
    until("one.txt", || async { ctx.remote_files("/Backup").await.len() == 2 }).await;
    idle(&h).await;
    let id = h.id().to_string();
    h.stop().await;

    // While stopped: a new file, a changed one, a new folder, a deletion (not propagated).
    std::fs::write(local.join("one.txt"), b"one, changed while stopped").unwrap();
    std::fs::create_dir_all(local.join("new/empty")).unwrap();
    std::fs::write(local.join("new/two.txt"), b"two").unwrap();
    std::fs::remove_file(local.join("before.txt")).unwrap();

    let h = watch::start(&engine, &store, &id, options()).await.unwrap();
    until("the catch-up", || async { ctx.remote_files("/Backup").await.contains_key("new/two.txt") }).await;
    idle(&h).await;
    let expected = BTreeMap::from([
        ("before.txt".to_string(), b"there before the first start".to_vec()),
        ("new/two.txt".to_string(), b"two".to_vec()),
        ("one.txt".to_string(), b"one, changed while stopped".to_vec()),
    ]);
    assert_remote(&ctx, &expected).await;
    let fresh = ctx.session.fetch_tree().await.unwrap();
    assert!(fresh.resolve("/Backup/new/empty").is_some(), "folders are mirrored, empty ones too");
    h.stop().await;

    // A third start with nothing changed uploads nothing.
    let h = watch::start(&engine, &store, &id, options()).await.unwrap();
    idle(&h).await;
    let s = h.status();
    assert_eq!((s.done, s.failed), (0, 0), "{s:?}");
    h.stop().await;
    assert_remote(&ctx, &expected).await;
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_5000_files_each_ends_on_the_server_once() {
    let n = std::env::var("WATCH_BURST_N").ok().and_then(|v| v.parse().ok());
    let count: usize = n.unwrap_or(5000);
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let (_store, h) = start_upload_watch(&ctx, &engine, false).await;
    let local = ctx.local();
    let started = Instant::now();
    let mut expected = BTreeMap::new();
    for i in 0..count {
        let dir = format!("d{}", i % 10);
        if i < 10 {
            std::fs::create_dir_all(local.join(&dir)).unwrap();
        }
        let name = format!("{dir}/f{i:05}.txt");
        let data = format!("file {i}").into_bytes();
        std::fs::write(local.join(&name), &data).unwrap();
        expected.insert(name, data);
    }
    // Polled through the watch's status (a tree fetch of thousands of nodes per poll would
    // compete with the uploads for the two cores).
    until("all files", || async {
        let s = h.status();
        if std::env::var_os("WATCH_PROGRESS").is_some() {
            eprintln!("{:?} {s:?}", started.elapsed());
        }
        s.done as usize >= count || s.failed > 0
    })
    .await;
    idle(&h).await;
    let uploaded = started.elapsed();
    let remote = ctx.remote_files("/Backup").await;
    assert_eq!(remote.len(), count);
    let fresh = ctx.session.fetch_tree().await.unwrap();
    for name in expected.keys() {
        assert_eq!(remote[name].len(), 1, "{name} is on the server exactly once");
    }
    // Every one downloaded back, several at once.
    let (fresh, remote, session) = (&fresh, &remote, &ctx.session);
    let back: Vec<(&String, Vec<u8>)> = futures_util::stream::iter(expected.keys())
        .map(|name| async move { (name, session.download_bytes(fresh, remote[name][0]).await.unwrap()) })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(back.len(), count);
    for (name, data) in back {
        assert_eq!(data, expected[name], "{name}");
    }
    let s = h.status();
    assert_eq!(s.failed, 0, "{s:?}");
    eprintln!("{count} files: uploaded in {uploaded:?}, verified in {:?}", started.elapsed() - uploaded);
    h.stop().await;
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_links_file_downloads_new_links_once() {
    let ctx = Ctx::new(Config::default()).await;
    let one = vec![1u8; 3 << 20];
    let h_one = ctx.server.seed_bytes(EMAIL, "/shared/one.bin", &one, 1_700_000_000).unwrap();
    ctx.server.seed_bytes(EMAIL, "/shared/folder/two.txt", b"two", 1_700_000_000).unwrap();
    ctx.server.seed_bytes(EMAIL, "/shared/folder/sub/three.txt", b"three", 1_700_000_000).unwrap();
    let file_link = ctx.server.file_link(EMAIL, h_one).unwrap();
    let folder_link = ctx.server.folder_link(EMAIL, "/shared/folder").unwrap();
    let h_four = ctx.server.seed_bytes(EMAIL, "/shared/four.bin", b"four", 1_700_000_000).unwrap();
    let parsed = mega_proto::link::parse_plain(&ctx.server.file_link(EMAIL, h_four).unwrap()).unwrap();
    let protected = mega_api::protect_link(&parsed, "secret").await.unwrap();

    let links_file = ctx.tmp.path().join("links.txt");
    std::fs::write(&links_file, format!("my downloads:\n{file_link}\n")).unwrap();
    let dest = ctx.tmp.path().join("dl");
    let store = ctx.store();
    let w = store.add(WatchKind::Links { source: links_file.clone(), dest: dest.clone() }).unwrap();
    // Slow enough that the first download is still running when links are appended.
    ctx.server.set_throttle(Some(2 << 20), None);
    let engine = ctx.engine();
    let h = watch::start(&engine, &store, &w.id, options()).await.unwrap();
    until("the first download running", || async { h.status().in_flight == 1 }).await;
    let mut f = std::fs::OpenOptions::new().append(true).open(&links_file).unwrap();
    writeln!(f, "more: {folder_link} and again {file_link}\nprotected: {protected}").unwrap();
    drop(f);
    until("both links done", || async {
        let l = watch::ledger(&store, &w.id).unwrap();
        l.values().filter(|e| e.state == LinkState::Done).count() == 2
    })
    .await;
    ctx.server.set_throttle(None, None);
    idle(&h).await;
    assert_eq!(std::fs::read(dest.join("one.bin")).unwrap(), one);
    assert_eq!(std::fs::read(dest.join("folder/two.txt")).unwrap(), b"two");
    assert_eq!(std::fs::read(dest.join("folder/sub/three.txt")).unwrap(), b"three");
    let ledger = watch::ledger(&store, &w.id).unwrap();
    let states: Vec<LinkState> = ledger.values().map(|e| e.state).collect();
    assert_eq!(ledger.len(), 3, "{ledger:?}");
    assert_eq!(states.iter().filter(|s| **s == LinkState::NeedsPassword).count(), 1, "{ledger:?}");
    let text = std::fs::read_to_string(store.ledger_path(&w.id)).unwrap();
    assert!(!text.contains(parsed.key_b64().unwrap().as_str()), "no link key in the ledger");
    assert_eq!(h.status().needs_password, 1);
    h.stop().await;

    // A re-run with the password: the done links are not fetched again, the protected one is.
    let engine = ctx.engine();
    let mut events = engine.subscribe();
    let opts = RunOptions { passwords: vec!["secret".into()], ..options() };
    let h = watch::start(&engine, &store, &w.id, opts).await.unwrap();
    idle(&h).await;
    h.stop().await;
    let mut queued = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let Event::Queued { name, .. } = e {
            queued.push(name);
        }
    }
    assert_eq!(queued, ["four.bin"], "nothing is downloaded twice");
    assert_eq!(std::fs::read(dest.join("four.bin")).unwrap(), b"four");
    let mut names: Vec<_> = std::fs::read_dir(&dest).unwrap().flatten().map(|e| e.file_name()).collect();
    names.sort();
    assert_eq!(names, ["folder", "four.bin", "one.bin"]);
    let ledger = watch::ledger(&store, &w.id).unwrap();
    assert!(ledger.values().all(|e| e.state == LinkState::Done), "{ledger:?}");
    assert!(Path::new(&dest.join("folder")).is_dir());
    ctx.server.stop().await;
}

#[test]
fn the_store_persists_adds_pauses_errors_and_removals() {
    let tmp = tempfile::tempdir().unwrap();
    let store = WatchStore::open(tmp.path().join("w")).unwrap();
    let up = WatchKind::Upload {
        local: tmp.path().join("a"),
        remote: "Backups/a/".into(),
        trash_deleted: false,
        ignore: vec![],
    };
    let a = store.add(up.clone()).unwrap();
    assert!(matches!(&a.kind, WatchKind::Upload { remote, .. } if remote == "/Backups/a"));
    assert!(matches!(store.add(up), Err(watch::WatchError::AlreadyWatched(_))));
    let l = store.add(WatchKind::Links { source: tmp.path().join("l.txt"), dest: tmp.path().join("dl") }).unwrap();
    store.set_paused(&a.id, true).unwrap();
    for i in 0..25 {
        store.record_error(&l.id, &format!("error {i}")).unwrap();
    }
    store.record_activity(&l.id, 3).unwrap();
    // A second store on the same directory (a restart) reads the same.
    let again = WatchStore::open(tmp.path().join("w")).unwrap();
    let list = again.list().unwrap();
    assert_eq!(list.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), [a.id.as_str(), l.id.as_str()]);
    assert!(list[0].paused && !list[1].paused);
    assert_eq!(list[1].errors.len(), 20, "the last 20 errors are kept");
    assert_eq!(list[1].errors.last().unwrap().message, "error 24");
    assert_eq!((list[1].done, list[1].last_activity.is_some()), (3, true));
    again.remove(&a.id).unwrap();
    assert!(matches!(again.remove(&a.id), Err(watch::WatchError::NoSuchWatch(_))));
    assert_eq!(store.list().unwrap().len(), 1);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tmp.path().join("w/watches.json")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}
