//! Watches across restarts and processes: deletions made while nothing ran, one runner per
//! watch, the store changed by several processes at once, a supervisor following the store.

use std::collections::BTreeMap;
use std::time::Duration;

use mega_transfer::watch::{self, SupervisorEvent, WatchError, WatchKind, WatchStore};

use test_support::Config;

use super::{assert_remote, idle, options, until, Ctx, Watching, DEADLINE};

fn upload(local: std::path::PathBuf, remote: &str, trash_deleted: bool) -> WatchKind {
    WatchKind::Upload { local, remote: remote.into(), trash_deleted, ignore: vec![] }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_while_stopped_go_to_the_rubbish_bin_only_when_asked() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let store = ctx.store();
    let (synced, kept) = (ctx.local(), ctx.tmp.path().join("kept"));
    std::fs::create_dir_all(synced.join("sub")).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    for dir in [&synced, &kept] {
        std::fs::write(dir.join("a.txt"), b"a").unwrap();
        std::fs::write(dir.join("b.txt"), b"b").unwrap();
    }
    std::fs::write(synced.join("sub/c.txt"), b"c").unwrap();
    let w1 = store.add(upload(synced.clone(), "/Backup", true)).unwrap();
    let w2 = store.add(upload(kept.clone(), "/Kept", false)).unwrap();
    for id in [&w1.id, &w2.id] {
        let h = watch::start(&engine, &store, id, options()).await.unwrap();
        idle(&h).await;
        h.stop().await;
    }
    let before = ctx.remote_files("/Backup").await;
    assert_eq!(before.len(), 3, "{before:?}");
    let kept_before = ctx.remote_files("/Kept").await;

    // While stopped: deleted in both folders (a whole sub-folder in the propagating one).
    std::fs::remove_file(synced.join("a.txt")).unwrap();
    std::fs::remove_dir_all(synced.join("sub")).unwrap();
    std::fs::remove_file(kept.join("a.txt")).unwrap();

    let h = watch::start(&engine, &store, &w1.id, options()).await.unwrap();
    idle(&h).await;
    assert_eq!(h.status().trashed, 2, "{:?}", h.status());
    h.stop().await;
    assert!(ctx.in_rubbish(before["a.txt"][0]).await, "a.txt went to the rubbish bin, not destroyed");
    assert!(ctx.in_rubbish(before["sub/c.txt"][0]).await);
    assert_remote(&ctx, &BTreeMap::from([("b.txt".to_string(), b"b".to_vec())])).await;

    let h = watch::start(&engine, &store, &w2.id, options()).await.unwrap();
    idle(&h).await;
    assert_eq!(h.status().trashed, 0);
    h.stop().await;
    assert_eq!(ctx.remote_files("/Kept").await, kept_before, "without propagation nothing remote changes");

    // A folder that is not there (unmounted) is never taken for deleted files.
    std::fs::rename(&synced, ctx.tmp.path().join("away")).unwrap();
    let h = watch::start(&engine, &store, &w1.id, options()).await.unwrap();
    until("the failed scan reported", || async { h.status().last_error.is_some() }).await;
    h.stop().await;
    assert_remote(&ctx, &BTreeMap::from([("b.txt".to_string(), b"b".to_vec())])).await;
    ctx.server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_runs_in_one_place_at_a_time() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let store = ctx.store();
    let w = store.add(upload(ctx.local(), "/Backup", false)).unwrap();
    let h = watch::start(&engine, &store, &w.id, options()).await.unwrap();
    assert!(store.is_running(&w.id));
    // Another store on the same directory stands for another process.
    let other = WatchStore::open(store.dir()).unwrap();
    match watch::start(&engine, &other, &w.id, options()).await {
        Err(WatchError::Busy { id, pid }) => assert_eq!((id, pid), (w.id.clone(), Some(std::process::id()))),
        r => panic!("a second runner started: {r:?}"),
    }
    h.stop().await;
    assert!(!store.is_running(&w.id));
    let h = watch::start(&engine, &other, &w.id, options()).await.unwrap();
    h.stop().await;
    ctx.server.stop().await;
}

#[test]
fn changes_from_several_processes_are_all_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("w");
    let first = WatchStore::open(&dir).unwrap().add(upload(tmp.path().join("x"), "/x", false)).unwrap();
    // Each thread opens its own store (no shared in-process lock): only the file lock keeps
    // their read-modify-write rounds apart.
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let (dir, root, id) = (dir.clone(), tmp.path().to_path_buf(), first.id.clone());
            std::thread::spawn(move || {
                let store = WatchStore::open(&dir).unwrap();
                for i in 0..15 {
                    store.add(upload(root.join(format!("t{t}-{i}")), "/r", false)).unwrap();
                    store.record_activity(&id, 1).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let list = WatchStore::open(&dir).unwrap().list().unwrap();
    assert_eq!(list.len(), 1 + 6 * 15);
    assert_eq!(list[0].done, 6 * 15, "no activity record was lost");
}

async fn next(sup: &mut watch::Supervisor) -> SupervisorEvent {
    tokio::time::timeout(DEADLINE, sup.next_event()).await.expect("an event in time").expect("running")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_follows_the_store() {
    let ctx = Ctx::new(Config::default()).await;
    let engine = ctx.engine();
    let store = ctx.store();
    let mut sup = watch::supervise(&engine, &store, None, options(), Duration::from_millis(200));
    // Added by "another process" while the supervisor runs.
    let other = WatchStore::open(store.dir()).unwrap();
    let w = other.add(upload(ctx.local(), "/Backup", false)).unwrap();
    assert_eq!(next(&mut sup).await, SupervisorEvent::Started(w.id.clone()));
    std::fs::write(ctx.local().join("f.txt"), b"f").unwrap();
    until("f.txt", || async { ctx.remote_files("/Backup").await.contains_key("f.txt") }).await;

    // Paused elsewhere: nothing new goes up.
    other.set_paused(&w.id, true).unwrap();
    until("the pause seen", || async { sup.statuses().first().is_some_and(|(_, s)| s.paused) }).await;
    std::fs::write(ctx.local().join("g.txt"), b"g").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(!ctx.remote_files("/Backup").await.contains_key("g.txt"), "uploaded while paused");
    other.set_paused(&w.id, false).unwrap();
    until("g.txt", || async { ctx.remote_files("/Backup").await.contains_key("g.txt") }).await;

    other.remove(&w.id).unwrap();
    assert_eq!(next(&mut sup).await, SupervisorEvent::Stopped(w.id.clone()));
    assert!(sup.statuses().is_empty());
    sup.stop().await;
    ctx.server.stop().await;
}
