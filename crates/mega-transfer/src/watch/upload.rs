//! The runner of an upload watch: events and scans feed a de-duplicated queue of paths; a path
//! is handed to the engine once its size and mtime have settled; at most `max_in_flight` at
//! once. What is known to be on the server is kept ([`Files`]) so that a scan notices files
//! deleted while nothing ran; unfinished uploads of the folder left in the engine's journal
//! are continued, not started over.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mega_api::{NodeHandle, Session, Tree};
use notify::EventKind;
use notify_debouncer_full::DebounceEventResult;
use tokio::sync::{mpsc, Mutex};

use super::files::Files;
use super::{
    fs_watch_or_report, is_paused, ticker, Ignore, RunOptions, Signals, Watch, WatchError, WatchKind, WatchStatus,
    WatchStore,
};
use crate::engine::{Engine, Outcome};
use crate::journal::{JobSpec, Journal};

/// What a file looked like when last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    size: u64,
    mtime: SystemTime,
}

fn seen(meta: &std::fs::Metadata) -> Seen {
    Seen { size: meta.len(), mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH) }
}

fn unix_secs(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// One file waiting to settle.
struct Pending {
    seen: Seen,
    since: Instant,
}

pub(crate) struct UploadRun {
    engine: Engine,
    session: Session,
    tree: Arc<Mutex<Tree>>,
    store: WatchStore,
    id: String,
    root: PathBuf,
    remote: NodeHandle,
    trash_deleted: bool,
    ignore: Ignore,
    options: RunOptions,
    /// Remote folders by local relative path ("" is the remote root).
    dirs: HashMap<PathBuf, NodeHandle>,
    pending: HashMap<PathBuf, Pending>,
    ready: VecDeque<PathBuf>,
    queued: HashSet<PathBuf>,
    in_flight: HashSet<PathBuf>,
    done_tx: mpsc::UnboundedSender<(PathBuf, Option<Outcome>)>,
    done_rx: mpsc::UnboundedReceiver<(PathBuf, Option<Outcome>)>,
    status: WatchStatus,
    /// Finished since the store was last told.
    unrecorded: u64,
    /// What is known to be on the server.
    files: Files,
}

impl UploadRun {
    pub(crate) async fn new(
        engine: &Engine,
        store: &WatchStore,
        watch: &Watch,
        options: RunOptions,
    ) -> Result<Self, WatchError> {
        let WatchKind::Upload { local, remote, trash_deleted, ignore } = &watch.kind else {
            return Err(WatchError::NoSuchWatch(watch.id.clone()));
        };
        let session = engine.session()?.clone();
        let tree = engine.tree()?.clone();
        let remote_h = {
            let mut t = tree.lock().await;
            match t.resolve(remote) {
                Some(h) => h,
                None => session.mkdir_p(&mut t, remote).await.map_err(crate::TransferError::from)?,
            }
        };
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Ok(UploadRun {
            engine: engine.clone(),
            session,
            tree,
            store: store.clone(),
            id: watch.id.clone(),
            root: local.clone(),
            remote: remote_h,
            trash_deleted: *trash_deleted,
            ignore: Ignore::new(ignore),
            options,
            dirs: HashMap::from([(PathBuf::new(), remote_h)]),
            pending: HashMap::new(),
            ready: VecDeque::new(),
            queued: HashSet::new(),
            in_flight: HashSet::new(),
            done_tx,
            done_rx,
            status: WatchStatus::default(),
            unrecorded: 0,
            files: Files::load(store, &watch.id)?,
        })
    }

    pub(crate) async fn run(mut self, mut sig: Signals) {
        let (_watcher, mut events) = {
            let (root, settle) = (self.root.clone(), self.options.settle);
            fs_watch_or_report(&root, true, settle, |e| self.error(e))
        };
        self.status.paused = is_paused(&self.store, &self.id);
        self.adopt_journal();
        self.scan().await;
        let mut tick = ticker(self.options.settle);
        let mut last_scan = Instant::now();
        let mut last_store = Instant::now();
        loop {
            tokio::select! {
                _ = sig.stop.changed() => break,
                Some(()) = sig.rescan.recv() => {
                    self.scan().await;
                    last_scan = Instant::now();
                }
                Some(batch) = events.recv() => {
                    if self.on_events(batch).await {
                        self.scan().await;
                        last_scan = Instant::now();
                    }
                }
                Some((path, outcome)) = self.done_rx.recv() => self.on_done(path, outcome).await,
                _ = tick.tick() => {
                    if last_store.elapsed() >= Duration::from_secs(1) {
                        last_store = Instant::now();
                        self.status.paused = is_paused(&self.store, &self.id);
                        if self.unrecorded > 0 && self.store.record_activity(&self.id, self.unrecorded).is_ok() {
                            self.unrecorded = 0;
                        }
                        self.save_files();
                    }
                    if last_scan.elapsed() >= self.options.rescan_every {
                        self.scan().await;
                        last_scan = Instant::now();
                    }
                    self.settle();
                    if !self.status.paused {
                        self.dispatch().await;
                    }
                }
            }
            self.publish(&sig);
        }
        if self.unrecorded > 0 {
            let _ = self.store.record_activity(&self.id, self.unrecorded);
        }
        self.save_files();
    }

    fn save_files(&mut self) {
        if let Err(e) = self.files.save() {
            self.error(&e.to_string());
        }
    }

    /// Continues the unfinished uploads of this folder that the engine's journal holds (a run
    /// stopped or killed mid-upload): they count as in flight, so no scan queues them again.
    fn adopt_journal(&mut self) {
        let Ok(journal) = Journal::open(self.engine.journal_dir()) else { return };
        for (rec, _) in journal.load_all().into_iter().flatten() {
            let JobSpec::Upload { local, .. } = &rec.spec else { continue };
            if self.rel(local).is_none() || self.in_flight.contains(local) || !local.is_file() {
                continue;
            }
            match self.engine.resume_job(&rec.id) {
                Ok(()) => self.follow(local.clone(), vec![rec.id.clone()]),
                Err(e) => self.error(&format!("continuing {}: {e}", local.display())),
            }
        }
    }

    /// Counts `path` in flight until its jobs end.
    fn follow(&mut self, path: PathBuf, ids: Vec<crate::JobId>) {
        self.in_flight.insert(path.clone());
        let (engine, tx) = (self.engine.clone(), self.done_tx.clone());
        tokio::spawn(async move {
            let mut last = None;
            for id in ids {
                last = engine.wait(&id).await;
            }
            let _ = tx.send((path, last));
        });
    }

    fn publish(&mut self, sig: &Signals) {
        self.status.pending = self.pending.len() + self.ready.len();
        self.status.in_flight = self.in_flight.len();
        sig.publish(&self.status);
    }

    fn error(&mut self, message: &str) {
        super::report_error(&self.store, &self.id, &mut self.status, message);
    }

    fn rel<'a>(&self, path: &'a Path) -> Option<&'a Path> {
        let rel = path.strip_prefix(&self.root).ok()?;
        (!rel.as_os_str().is_empty() && !self.ignore.is_ignored(rel)).then_some(rel)
    }

    /// Notes a path that may have changed. Returns whether it exists.
    fn touch(&mut self, path: &Path) -> bool {
        let Ok(meta) = std::fs::symlink_metadata(path) else { return false };
        if meta.is_file() {
            let s = seen(&meta);
            let since = Instant::now();
            self.pending
                .entry(path.to_path_buf())
                .and_modify(|p| {
                    if p.seen != s {
                        *p = Pending { seen: s, since };
                    }
                })
                .or_insert(Pending { seen: s, since });
        }
        true
    }

    /// Handles a batch of debounced events; true when a rescan is needed.
    async fn on_events(&mut self, batch: DebounceEventResult) -> bool {
        let events = match batch {
            Ok(events) => events,
            Err(errors) => {
                let message = errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ");
                self.error(&format!("filesystem events lost, rescanning: {message}"));
                return true;
            }
        };
        let mut rescan = false;
        let mut new_dirs = Vec::new();
        let mut gone = Vec::new();
        for e in events {
            rescan |= e.need_rescan();
            if matches!(e.kind, EventKind::Access(_)) {
                continue;
            }
            for p in &e.paths {
                if self.rel(p).is_none() {
                    continue;
                }
                if !self.touch(p) {
                    self.pending.remove(p);
                    gone.push(p.clone());
                } else if p.is_dir() {
                    new_dirs.push(p.clone());
                }
            }
        }
        // A folder that appeared (made, or moved in whole): mirror it and take all in it.
        for d in new_dirs {
            self.walk_into_pending(&d).await;
        }
        if self.trash_deleted {
            for p in gone {
                self.trash_remote_of(&p).await;
            }
        }
        rescan
    }

    async fn walk_into_pending(&mut self, dir: &Path) {
        let (mut dirs, files) = walk(dir, &self.root, &self.ignore).await;
        if let Some(rel) = self.rel(dir) {
            dirs.insert(0, rel.to_path_buf());
        }
        for d in dirs {
            if let Err(e) = self.remote_dir(&d).await {
                self.error(&format!("{}: {e}", d.display()));
            }
        }
        for (f, _) in files {
            self.touch(&self.root.join(f));
        }
    }

    /// The remote folder of a local relative folder, made when missing.
    async fn remote_dir(&mut self, rel: &Path) -> Result<NodeHandle, mega_api::Error> {
        let mut t = self.tree.lock().await;
        let mut at = PathBuf::new();
        let mut h = self.remote;
        for c in rel.components() {
            at.push(c);
            let cached = self.dirs.get(&at).copied().filter(|h| t.get(*h).is_some());
            h = match cached {
                Some(found) => found,
                None => {
                    let name = c.as_os_str().to_string_lossy();
                    let existing = t.children_named(h, &name).find(|n| n.is_container()).map(|n| n.handle());
                    let made = match existing {
                        Some(e) => e,
                        None => self.session.mkdir(&mut t, h, &name).await?,
                    };
                    self.dirs.insert(at.clone(), made);
                    made
                }
            };
        }
        Ok(h)
    }

    /// The remote folder of a local relative folder, if it exists.
    fn find_remote_dir(&self, t: &Tree, rel: &Path) -> Option<NodeHandle> {
        let mut h = self.remote;
        for c in rel.components() {
            let name = c.as_os_str().to_string_lossy();
            h = t.children_named(h, &name).find(|n| n.is_container())?.handle();
        }
        Some(h)
    }

    /// A full reconciliation: every local file not on the server with the same name, size and
    /// mtime goes into the queue; every local folder is mirrored.
    async fn scan(&mut self) {
        let root = self.root.clone();
        if !root.is_dir() {
            self.error(&format!("{} is not a folder (not there, or not mounted)", root.display()));
            return;
        }
        let (dirs, files) = walk(&root, &root, &self.ignore).await;
        for d in &dirs {
            if let Err(e) = self.remote_dir(d).await {
                self.error(&format!("{}: {e}", d.display()));
            }
        }
        let mut stale = Vec::new();
        {
            let t = self.tree.lock().await;
            for (rel, s) in files {
                match self.on_server(&t, &rel, s) {
                    Some(node) => self.files.insert(&rel, node),
                    None => stale.push(root.join(rel)),
                }
            }
        }
        for p in stale {
            self.touch(&p);
        }
        self.deleted_meanwhile().await;
        self.save_files();
        self.status.scanned = true;
        self.status.scans += 1;
    }

    /// The node that holds this local file (same name, size and mtime, not in the rubbish bin).
    fn on_server(&self, t: &Tree, rel: &Path, s: Seen) -> Option<NodeHandle> {
        let name = rel.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        let parent = self.find_remote_dir(t, rel.parent().unwrap_or(Path::new("")))?;
        let rubbish = t.rubbish();
        let found = t.children_named(parent, &name).find(|n| {
            n.is_file()
                && n.size() == s.size
                && rubbish.is_none_or(|r| !t.is_within(n.handle(), r))
                && n.fingerprint().is_some_and(|fp| fp.mtime == unix_secs(s.mtime))
        });
        found.map(|n| n.handle())
    }

    /// Files known to be on the server whose local file is gone (deleted while nothing ran, or
    /// an event lost): with propagation on, their nodes go to the rubbish bin (never deleted);
    /// without it nothing remote changes. Either way they are forgotten.
    async fn deleted_meanwhile(&mut self) {
        let missing = self.files.take_missing(&self.root);
        if !self.trash_deleted || missing.is_empty() {
            return;
        }
        let mut t = self.tree.lock().await;
        let mut failed = Vec::new();
        for (rel, node) in missing {
            let Some(h) = node else { continue };
            let live = t.get(h).is_some() && t.rubbish().is_none_or(|r| !t.is_within(h, r));
            if !live {
                continue;
            }
            match self.session.trash(&mut t, h).await {
                Ok(()) => self.status.trashed += 1,
                Err(e) => failed.push(format!("{}: moving to the rubbish bin: {e}", rel.display())),
            }
        }
        drop(t);
        for f in failed {
            self.error(&f);
        }
    }

    /// Moves settled files to the ready queue.
    fn settle(&mut self) {
        let now = Instant::now();
        let mut settled = Vec::new();
        let mut gone = Vec::new();
        for (path, p) in self.pending.iter_mut() {
            if self.in_flight.contains(path) || self.queued.contains(path) {
                continue;
            }
            match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.is_file() => {
                    let s = seen(&meta);
                    if s != p.seen {
                        *p = Pending { seen: s, since: now };
                    } else if now.duration_since(p.since) >= self.options.settle {
                        settled.push(path.clone());
                    }
                }
                _ => gone.push(path.clone()),
            }
        }
        for p in gone {
            self.pending.remove(&p);
        }
        settled.sort();
        for p in settled {
            self.pending.remove(&p);
            self.queued.insert(p.clone());
            self.ready.push_back(p);
        }
    }

    /// Hands ready files to the engine while there is room.
    async fn dispatch(&mut self) {
        while self.in_flight.len() < self.options.max_in_flight.max(1) {
            let Some(path) = self.ready.pop_front() else { break };
            self.queued.remove(&path);
            let Some(rel) = self.rel(&path).map(Path::to_path_buf) else { continue };
            let parent = match self.remote_dir(rel.parent().unwrap_or(Path::new(""))).await {
                Ok(h) => h,
                Err(e) => {
                    self.error(&format!("{}: {e}", rel.display()));
                    continue;
                }
            };
            match self.engine.upload_path(&path, parent).await {
                Ok(ids) => self.follow(path, ids),
                Err(crate::TransferError::Local { .. }) if !path.exists() => {}
                Err(e) => {
                    self.status.failed += 1;
                    self.error(&format!("{}: {e}", rel.display()));
                }
            }
        }
    }

    async fn on_done(&mut self, path: PathBuf, outcome: Option<Outcome>) {
        self.in_flight.remove(&path);
        match outcome {
            Some(Outcome::Done { node: Some(node), .. }) => {
                self.status.done += 1;
                self.unrecorded += 1;
                if let Some(rel) = self.rel(&path).map(Path::to_path_buf) {
                    self.files.insert(&rel, node);
                }
                self.trash_older(node).await;
            }
            Some(Outcome::Done { node: None, .. }) => self.status.done += 1,
            Some(Outcome::Skipped) => self.status.skipped += 1,
            Some(Outcome::Failed { message, .. }) => {
                self.status.failed += 1;
                let rel = self.rel(&path).map(Path::to_path_buf).unwrap_or_default();
                self.error(&format!("{}: {message}", rel.display()));
            }
            Some(Outcome::Cancelled) | None => {}
        }
    }

    /// After a changed file was uploaded again: its older copies (same name, same folder) go
    /// to the rubbish bin, so the folder holds each file once.
    async fn trash_older(&mut self, node: NodeHandle) {
        let mut t = self.tree.lock().await;
        let Some(n) = t.get(node) else { return };
        let (Some(parent), name) = (n.parent(), n.name().to_string()) else { return };
        let older: Vec<NodeHandle> =
            t.children_named(parent, &name).filter(|o| o.is_file() && o.handle() != node).map(|o| o.handle()).collect();
        for h in older {
            match self.session.trash(&mut t, h).await {
                Ok(()) => self.status.trashed += 1,
                Err(e) => {
                    drop(t);
                    self.error(&format!("{name}: moving the older copy to the rubbish bin: {e}"));
                    return;
                }
            }
        }
    }

    /// A local file or folder was deleted: its remote copy goes to the rubbish bin.
    async fn trash_remote_of(&mut self, path: &Path) {
        let Some(rel) = self.rel(path).map(Path::to_path_buf) else { return };
        let name = rel.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut t = self.tree.lock().await;
        let Some(parent) = self.find_remote_dir(&t, rel.parent().unwrap_or(Path::new(""))) else { return };
        let victims: Vec<NodeHandle> = t.children_named(parent, &name).map(|n| n.handle()).collect();
        let mut failed = None;
        for h in victims {
            match self.session.trash(&mut t, h).await {
                Ok(()) => self.status.trashed += 1,
                Err(e) => failed = Some(e),
            }
        }
        drop(t);
        self.dirs.retain(|d, _| !d.starts_with(&rel));
        self.files.remove_below(&rel);
        if let Some(e) = failed {
            self.error(&format!("{}: moving to the rubbish bin: {e}", rel.display()));
        }
    }
}

/// Every folder and file under `dir`, as paths relative to `root` (folders parents first),
/// ignored ones left out, symlinks not followed.
async fn walk(dir: &Path, root: &Path, ignore: &Ignore) -> (Vec<PathBuf>, Vec<(PathBuf, Seen)>) {
    let (dir, root, ignore) = (dir.to_path_buf(), root.to_path_buf(), ignore.clone());
    tokio::task::spawn_blocking(move || {
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&d) else { continue };
            for e in entries.flatten() {
                let path = e.path();
                let Ok(rel) = path.strip_prefix(&root) else { continue };
                if ignore.is_ignored(rel) {
                    continue;
                }
                let Ok(meta) = e.metadata() else { continue };
                if meta.is_dir() {
                    dirs.push(rel.to_path_buf());
                    stack.push(path);
                } else if meta.is_file() {
                    files.push((rel.to_path_buf(), seen(&meta)));
                }
            }
        }
        dirs.sort();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        (dirs, files)
    })
    .await
    .unwrap_or_default()
}
