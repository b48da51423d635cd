//! `tuatara_core::watches`: checks on adding, a supervised upload watch (new files, ignore
//! globs, pause and resume, deletions to the rubbish bin, removal), and a links-file watch
//! that downloads the links appended to its file, with real filesystem events. Waits poll
//! with a deadline; nothing asserts a duration.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mega_api::{Client, Session};
use mega_testserver::{TestServer, Version};
use mega_transfer::{Engine, EngineConfig};
use tokio::sync::mpsc;
use tuatara_core::watches::{RunOptions, SupervisorEvent, WatchError, WatchEvent, WatchKind, Watches};
use tuatara_core::{Dirs, Error};

const EMAIL: &str = "w@example.com";
const DEADLINE: Duration = Duration::from_secs(120);

async fn until<F: std::future::Future<Output = bool>>(what: &str, mut f: impl FnMut() -> F) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next event that `pick` accepts (others are skipped).
async fn event<T>(rx: &mut mpsc::UnboundedReceiver<WatchEvent>, mut pick: impl FnMut(WatchEvent) -> Option<T>) -> T {
    let deadline = tokio::time::sleep(DEADLINE);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => panic!("timed out waiting for a watch event"),
            e = rx.recv() => if let Some(t) = pick(e.expect("the events go on while running")) {
                return t;
            },
        }
    }
}

fn options() -> RunOptions {
    RunOptions { settle: Duration::from_millis(300), ..RunOptions::default() }
}

struct Ctx {
    server: TestServer,
    session: Session,
    tmp: tempfile::TempDir,
    dirs: Dirs,
}

impl Ctx {
    async fn new() -> Self {
        let server = TestServer::start().await.unwrap();
        server.add_user(EMAIL, "pw", Version::V2).unwrap();
        let client = Client::builder().api_url(server.url()).build().unwrap();
        let session = client.login(EMAIL, "pw").await.unwrap().session().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(tmp.path().join("config"), tmp.path().join("data"));
        Ctx { server, session, tmp, dirs }
    }

    /// An engine with the account (and its tree), or without one.
    async fn engine(&self, signed_in: bool) -> Engine {
        let config = EngineConfig::new(self.dirs.journal());
        if signed_in {
            let tree = std::sync::Arc::new(tokio::sync::Mutex::new(self.session.fetch_tree().await.unwrap()));
            Engine::new(config, self.session.client().clone(), Some(self.session.clone()), Some(tree)).unwrap()
        } else {
            Engine::new(config, self.session.client().clone(), None, None).unwrap()
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// The names of the files in a remote folder, and of those in the rubbish bin.
    async fn remote(&self, folder: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let t = self.session.fetch_tree().await.unwrap();
        let names = |h| t.children(h).filter(|n| n.is_file()).map(|n| n.name().to_string()).collect();
        let files = t.resolve(folder).map(names).unwrap_or_default();
        (files, t.rubbish().map(names).unwrap_or_default())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_upload_watch_uploads_new_files_and_follows_pauses() {
    let ctx = Ctx::new().await;
    let watches = Watches::open(&ctx.dirs).unwrap();
    let local = ctx.path("local");
    std::fs::create_dir_all(&local).unwrap();
    std::fs::write(local.join("before.txt"), b"there before").unwrap();

    // What is checked before anything is stored.
    let upload =
        |local: PathBuf| WatchKind::Upload { local, remote: "/X".into(), trash_deleted: false, ignore: vec![] };
    assert!(matches!(watches.add(upload("relative".into())), Err(Error::Invalid(_))));
    assert!(matches!(watches.add(upload(ctx.path("none"))), Err(Error::NotFound(_))));
    std::fs::write(ctx.path("file.txt"), b"x").unwrap();
    assert!(matches!(watches.add(upload(ctx.path("file.txt"))), Err(Error::Invalid(_))));
    let w = watches
        .add(WatchKind::Upload {
            local: local.clone(),
            remote: " Backup/ ".into(),
            trash_deleted: true,
            ignore: vec!["*.skip".into(), " ".into()],
        })
        .unwrap();
    assert_eq!(
        w.kind,
        WatchKind::Upload {
            local: local.clone(),
            remote: "/Backup".into(),
            trash_deleted: true,
            ignore: vec!["*.skip".into()]
        }
    );
    assert!(matches!(watches.add(upload(local.clone())), Err(Error::Watch(WatchError::AlreadyWatched(_)))));
    assert!(watches.needs_account(None).unwrap());
    let bad = vec![w.id.clone(), "nosuchid".to_string()];
    assert!(matches!(watches.set_paused(&bad, true), Err(Error::Watch(WatchError::NoSuchWatch(_)))));
    assert!(!watches.get(&w.id).unwrap().paused, "nothing changed when one id is unknown");
    assert!(matches!(watches.remove(&bad), Err(Error::Watch(WatchError::NoSuchWatch(_)))));
    assert_eq!(watches.list().unwrap().len(), 1);

    let engine = ctx.engine(true).await;
    let (running, mut events) = watches.run(&engine, None, options());
    let started = event(&mut events, |e| match e {
        WatchEvent::Supervisor(SupervisorEvent::Started(id)) => Some(id),
        _ => None,
    })
    .await;
    assert_eq!(started, w.id);
    assert!(watches.is_running(&w.id));
    assert!(matches!(watches.ensure_not_running(&w.id), Err(Error::Watch(WatchError::Busy { .. }))));
    std::fs::write(local.join("new.txt"), b"new").unwrap();
    std::fs::write(local.join("mine.skip"), b"ignored").unwrap();
    until("the new file uploaded", || async { ctx.remote("/Backup").await.0.contains("new.txt") }).await;
    assert_eq!(ctx.remote("/Backup").await.0, BTreeSet::from(["before.txt".into(), "new.txt".into()]));

    // Paused: nothing moves; resumed: it catches up.
    watches.set_paused(std::slice::from_ref(&w.id), true).unwrap();
    until("the pause seen", || async { running.statuses().iter().any(|(id, s)| *id == w.id && s.paused) }).await;
    std::fs::write(local.join("later.txt"), b"later").unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(!ctx.remote("/Backup").await.0.contains("later.txt"), "nothing uploads while paused");
    watches.set_paused(std::slice::from_ref(&w.id), false).unwrap();
    until("the paused file uploaded", || async { ctx.remote("/Backup").await.0.contains("later.txt") }).await;

    // Deletions go to the rubbish bin, as asked.
    std::fs::remove_file(local.join("new.txt")).unwrap();
    until("the deletion propagated", || async {
        let (files, rubbish) = ctx.remote("/Backup").await;
        !files.contains("new.txt") && rubbish.contains("new.txt")
    })
    .await;

    // Removed while running: stopped here, nothing deleted.
    watches.remove(std::slice::from_ref(&w.id)).unwrap();
    let stopped = event(&mut events, |e| match e {
        WatchEvent::Supervisor(SupervisorEvent::Stopped(id)) => Some(id),
        _ => None,
    })
    .await;
    assert_eq!(stopped, w.id);
    assert!(local.join("later.txt").exists());
    running.stop().await;
    let end = tokio::time::timeout(DEADLINE, async { while events.recv().await.is_some() {} }).await;
    assert!(end.is_ok(), "the events end with the watches");
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_links_file_watch_downloads_the_links_appended_to_it() {
    let ctx = Ctx::new().await;
    let h_one = ctx.server.seed_bytes(EMAIL, "/one.bin", &[1u8; 200_000], 1_700_000_000).unwrap();
    let h_two = ctx.server.seed_bytes(EMAIL, "/two.txt", b"two", 1_700_000_000).unwrap();
    let h_three = ctx.server.seed_bytes(EMAIL, "/three.txt", b"three", 1_700_000_000).unwrap();
    let parsed = mega_proto::link::parse_plain(&ctx.server.file_link(EMAIL, h_three).unwrap()).unwrap();
    let protected = mega_api::protect_link(&parsed, "secret").await.unwrap();
    let file = ctx.path("links.txt");
    std::fs::write(&file, format!("first {}\n", ctx.server.file_link(EMAIL, h_one).unwrap())).unwrap();
    let dest = ctx.path("dl");

    let watches = Watches::open_links_files(&ctx.dirs).unwrap();
    assert!(matches!(watches.links_file(&ctx.path("none.txt"), &dest), Err(Error::NotFound(_))));
    let id = watches.links_file(&file, &dest).unwrap();
    assert!(dest.is_dir(), "the download folder is created");
    assert_eq!(watches.links_file(&file, &dest).unwrap(), id, "one watch per links file");
    let other = watches.links_file(&file, &ctx.path("elsewhere")).unwrap();
    assert_ne!(other, id, "another folder: a fresh watch");
    let id = watches.links_file(&file, &dest).unwrap();
    assert_eq!(watches.list().unwrap().len(), 1);
    assert!(Watches::open(&ctx.dirs).unwrap().list().unwrap().is_empty(), "kept apart from the watch list");
    assert!(!watches.needs_account(None).unwrap());

    // No account needed for links.
    let engine = ctx.engine(false).await;
    let (running, mut events) = watches.run(&engine, Some(vec![id.clone()]), options());
    until("the first link downloaded", || async { dest.join("one.bin").exists() }).await;
    assert!(matches!(watches.links_file(&file, &dest), Err(Error::Watch(WatchError::Busy { .. }))));
    let mut f = std::fs::OpenOptions::new().append(true).open(&file).unwrap();
    writeln!(f, "then {}\nand {protected}", ctx.server.file_link(EMAIL, h_two).unwrap()).unwrap();
    drop(f);
    let waiting = event(&mut events, |e| matches!(e, WatchEvent::NeedsPassword { .. }).then_some(e)).await;
    assert!(waiting.is_warning() && waiting.to_string().contains("password-protected"), "{waiting}");
    let WatchEvent::NeedsPassword { watch, link } = waiting else { unreachable!() };
    assert_eq!(watch, id);
    assert!(!link.contains(parsed.key_b64().unwrap().as_str()), "no key in the event");
    until("the appended link downloaded", || async { dest.join("two.txt").exists() }).await;
    assert_eq!(std::fs::read(dest.join("two.txt")).unwrap(), b"two");
    assert_eq!(std::fs::read(dest.join("one.bin")).unwrap(), vec![1u8; 200_000]);
    running.stop().await;
    let rest: Vec<WatchEvent> = std::iter::from_fn(|| events.try_recv().ok()).collect();
    assert!(!rest.iter().any(|e| matches!(e, WatchEvent::NeedsPassword { .. })), "said once: {rest:?}");
    ctx.server.stop().await;
}
