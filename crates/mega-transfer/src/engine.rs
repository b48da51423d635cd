//! The queue: jobs, the file slots they take, and their control (pause, resume, cancel,
//! priority). Each running job moves one file with several chunk workers (`download`,
//! `upload`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use mega_api::{Client, ErrorKind, FileKey, Link, LinkKind, NodeHandle, NodeKey, Session, Tree};
use mega_proto::b64;
use mega_proto::fingerprint::Fingerprint;
use tokio::sync::{broadcast, watch, Semaphore};

use crate::events::{Direction, Event, JobId, WaitReason};
use crate::journal::{JobRecord, JobSpec, Journal, JournalError, Source};
use crate::limit::Limit;
use crate::names;
use crate::{download, upload};

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the journal lives (in the app's data directory).
    pub journal_dir: PathBuf,
    /// Chunk workers per file (1 to 32).
    pub connections_per_file: usize,
    /// Files moving at once.
    pub max_files: usize,
    /// Bytes per request: whole chunks up to about this much.
    pub piece_size: u64,
    /// Download limit, bytes per second.
    pub download_limit: Option<u64>,
    /// Upload limit, bytes per second.
    pub upload_limit: Option<u64>,
    /// How often a job retries a temporary failure before it fails (the journal keeps it).
    pub max_retries: u32,
}

impl EngineConfig {
    /// Defaults: 8 connections per file, 4 files, 4 MiB pieces, no limits.
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            journal_dir: journal_dir.into(),
            connections_per_file: 8,
            max_files: 4,
            piece_size: 4 << 20,
            download_limit: None,
            upload_limit: None,
            max_retries: 5,
        }
    }
}

/// What happens when a download's file exists already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conflict {
    /// Skip it when identical (size and content fingerprint), else save under a new name.
    #[default]
    Rename,
    /// Skip it when identical, else replace it (only once the new one is verified).
    Overwrite,
}

/// Why a job stopped short of done.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The API or storage failed.
    #[error(transparent)]
    Api(#[from] mega_api::Error),
    /// The journal could not be written or read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Local file trouble (disk full, permission denied, folder removed).
    #[error("{path}: {source}")]
    Local {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The job needs something the engine was not given (a session for own files).
    #[error("{0}")]
    Unavailable(String),
    /// Paused by the user (not a failure).
    #[error("paused")]
    Paused,
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

impl TransferError {
    /// The kind, for callers and events.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransferError::Api(e) => e.kind(),
            TransferError::Journal(_) | TransferError::Local { .. } | TransferError::Unavailable(_) => {
                ErrorKind::Failed
            }
            TransferError::Paused | TransferError::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// Worth trying again later (network, busy servers, quota).
    pub fn is_temporary(&self) -> bool {
        matches!(self, TransferError::Api(e) if e.is_temporary() || matches!(e.kind(), ErrorKind::Network | ErrorKind::Expired))
    }

    pub(crate) fn local(path: &Path) -> impl FnOnce(std::io::Error) -> TransferError + '_ {
        move |source| TransferError::Local { path: path.to_path_buf(), source }
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done and verified.
    Done {
        /// Downloads: the file.
        path: Option<PathBuf>,
        /// Uploads: the node.
        node: Option<NodeHandle>,
    },
    /// An identical file was there already.
    Skipped,
    /// Failed (kept in the journal if it can resume).
    Failed {
        /// The kind.
        kind: ErrorKind,
        /// The message.
        message: String,
    },
    /// Cancelled.
    Cancelled,
}

/// What the engine knows of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// The job.
    pub id: JobId,
    /// Which way.
    pub direction: Direction,
    /// The file name.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// Position in the queue.
    pub priority: i64,
    /// Paused by the user.
    pub paused: bool,
    /// How it ended, once it has.
    pub outcome: Option<Outcome>,
}

/// Pause/cancel signals of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    Run,
    Pause,
    Cancel,
}

struct JobState {
    record: JobRecord,
    /// Holding a file slot.
    running: bool,
    control: watch::Sender<Control>,
    outcome: watch::Sender<Option<Outcome>>,
}

pub(crate) struct Inner {
    pub(crate) config: EngineConfig,
    pub(crate) journal: Journal,
    pub(crate) client: Client,
    pub(crate) session: Option<Session>,
    pub(crate) tree: Option<Arc<tokio::sync::Mutex<Tree>>>,
    pub(crate) events: broadcast::Sender<Event>,
    jobs: Mutex<BTreeMap<JobId, JobState>>,
    slots: Semaphore,
    /// Until when the transfer quota is exhausted (every job waits).
    pub(crate) quota_until: Mutex<Option<Instant>>,
    /// Local paths that jobs of this run write to.
    claimed: Mutex<std::collections::HashSet<PathBuf>>,
    pub(crate) down: Limit,
    pub(crate) up: Limit,
}

impl Inner {
    pub(crate) fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    /// Waits out the transfer quota (every job waits with the same deadline); a pause or a
    /// cancel ends the wait.
    pub(crate) async fn quota_wait(
        &self,
        id: &str,
        time_left: Option<Duration>,
        control: &watch::Receiver<Control>,
    ) -> Result<(), TransferError> {
        let until = {
            let mut q = self.quota_until.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(left) = time_left {
                let t = Instant::now() + left.max(Duration::from_secs(1));
                *q = Some(q.map_or(t, |old| old.max(t)));
            } else if q.is_none_or(|t| t <= Instant::now()) {
                *q = Some(Instant::now() + Duration::from_secs(30));
            }
            q.unwrap_or_else(Instant::now)
        };
        let left = until.saturating_duration_since(Instant::now());
        self.emit(Event::Waiting {
            id: id.to_string(),
            reason: WaitReason::TransferQuota,
            until: Some(SystemTime::now() + left),
        });
        let mut control = control.clone();
        let sleep = tokio::time::sleep(left);
        tokio::pin!(sleep);
        loop {
            crate::pieces::check(&control)?;
            tokio::select! {
                _ = &mut sleep => return Ok(()),
                changed = control.changed() => if changed.is_err() { return Err(TransferError::Cancelled) },
            }
        }
    }
}

/// The transfer engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("journal", &self.inner.journal.dir()).finish_non_exhaustive()
    }
}

fn new_id() -> JobId {
    let mut b = [0u8; 9];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("{t:013}-{}", b64::encode(&b))
}

impl Engine {
    /// An engine. `session` and `tree` are needed for own files and uploads; public links work
    /// without them. Call [`Engine::resume_journal`] to continue what a previous run left.
    pub fn new(
        config: EngineConfig,
        client: Client,
        session: Option<Session>,
        tree: Option<Arc<tokio::sync::Mutex<Tree>>>,
    ) -> Result<Self, TransferError> {
        let journal = Journal::open(&config.journal_dir)?;
        let (events, _) = broadcast::channel(4096);
        let mut config = config;
        config.connections_per_file = config.connections_per_file.clamp(1, 32);
        config.max_files = config.max_files.max(1);
        let inner = Inner {
            down: Limit::new(config.download_limit),
            up: Limit::new(config.upload_limit),
            slots: Semaphore::new(config.max_files),
            config,
            journal,
            client,
            session,
            tree,
            events,
            jobs: Mutex::new(BTreeMap::new()),
            quota_until: Mutex::new(None),
            claimed: Mutex::new(std::collections::HashSet::new()),
        };
        Ok(Engine { inner: Arc::new(inner) })
    }

    /// The journal's directory (watches continue their own unfinished jobs from it).
    pub fn journal_dir(&self) -> &Path {
        self.inner.journal.dir()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Changes the speed limits (bytes per second; `None` unlimited), at once.
    pub fn set_limits(&self, download: Option<u64>, upload: Option<u64>) {
        self.inner.down.set(download);
        self.inner.up.set(upload);
    }

    /// Continues every unfinished job in the journal. Damaged entries are returned as errors
    /// (and left where they are), never a crash.
    pub fn resume_journal(&self) -> (Vec<JobId>, Vec<JournalError>) {
        let (mut ids, mut errors) = (Vec::new(), Vec::new());
        for r in self.inner.journal.load_all() {
            match r {
                Ok((rec, _)) => {
                    if self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&rec.id) {
                        continue;
                    }
                    ids.push(rec.id.clone());
                    self.start(rec);
                }
                Err(e) => errors.push(e),
            }
        }
        (ids, errors)
    }

    /// Continues one unfinished job of the journal (a command repeated after a crash asks for
    /// the same file again). Known jobs are left as they are.
    pub fn resume_job(&self, id: &str) -> Result<(), JournalError> {
        if self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(id) {
            return Ok(());
        }
        let (rec, _) = self.inner.journal.load(id)?;
        self.start(rec);
        Ok(())
    }

    /// The jobs this engine knows (running, queued, finished in this run).
    pub fn jobs(&self) -> Vec<JobInfo> {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<JobInfo> = jobs.values().map(info).collect();
        out.sort_by_key(|j| j.priority);
        out
    }

    /// Waits until a job ends.
    pub async fn wait(&self, id: &str) -> Option<Outcome> {
        let mut rx = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id)?.outcome.subscribe();
        loop {
            if let Some(o) = rx.borrow_and_update().clone() {
                return Some(o);
            }
            rx.changed().await.ok()?;
        }
    }

    /// Waits for every job and returns their outcomes in queue order.
    pub async fn wait_all(&self) -> Vec<(JobId, Outcome)> {
        let ids: Vec<JobId> = self.jobs().into_iter().map(|j| j.id).collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(o) = self.wait(&id).await {
                out.push((id, o));
            }
        }
        out
    }

    fn control(&self, id: &str, c: Control) -> bool {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        match jobs.get(id) {
            Some(j) if j.outcome.borrow().is_none() => {
                j.control.send_replace(c);
                true
            }
            _ => false,
        }
    }

    /// Pauses a job (its verified chunks are kept).
    pub fn pause(&self, id: &str) -> bool {
        self.set_paused(id, true) && self.control(id, Control::Pause)
    }

    /// Resumes a paused job.
    pub fn resume(&self, id: &str) -> bool {
        self.set_paused(id, false) && self.control(id, Control::Run)
    }

    /// Cancels a job: it stops, and its partial data and journal entry are removed.
    pub fn cancel(&self, id: &str) -> bool {
        self.control(id, Control::Cancel)
    }

    /// Starts a failed job again from its journal entry (what it had verified is kept).
    pub fn retry(&self, id: &str) -> bool {
        let failed = {
            let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
            jobs.get(id).is_some_and(|j| matches!(*j.outcome.borrow(), Some(Outcome::Failed { .. })))
        };
        let Ok((rec, _)) = self.inner.journal.load(id) else { return false };
        if !failed {
            return false;
        }
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.start(rec);
        true
    }

    /// Pauses every job.
    pub fn pause_all(&self) {
        for j in self.jobs() {
            self.pause(&j.id);
        }
    }

    /// Resumes every job.
    pub fn resume_all(&self) {
        for j in self.jobs() {
            self.resume(&j.id);
        }
    }

    /// Moves a job to the front of the queue (it takes the next free slot).
    pub fn move_to_top(&self, id: &str) -> bool {
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let top = jobs.values().map(|j| j.record.priority).min().unwrap_or(0) - 1;
        let Some(j) = jobs.get_mut(id).filter(|j| j.outcome.borrow().is_none()) else { return false };
        j.record.priority = top;
        let _ = self.inner.journal.save(&j.record);
        true
    }

    fn set_paused(&self, id: &str, paused: bool) -> bool {
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(j) = jobs.get_mut(id).filter(|j| j.outcome.borrow().is_none()) else { return false };
        j.record.paused = paused;
        let _ = self.inner.journal.save(&j.record);
        true
    }

    pub(crate) fn session(&self) -> Result<&Session, TransferError> {
        self.inner.session.as_ref().ok_or_else(|| TransferError::Unavailable("not logged in".into()))
    }

    pub(crate) fn tree(&self) -> Result<&Arc<tokio::sync::Mutex<Tree>>, TransferError> {
        self.inner.tree.as_ref().ok_or_else(|| TransferError::Unavailable("no node tree".into()))
    }

    /// Downloads a node of the account (a file, or a folder recursively, keeping its structure)
    /// into `dest_dir`.
    pub async fn download_node(
        &self,
        h: NodeHandle,
        dest_dir: &Path,
        conflict: Conflict,
    ) -> Result<Vec<JobId>, TransferError> {
        self.session()?;
        let tree = self.tree()?.lock().await;
        let mut ids = Vec::new();
        self.download_from_tree(&tree, h, dest_dir, conflict, &|n| Source::Own { node: n.to_b64() }, &mut ids)?;
        Ok(ids)
    }

    /// Downloads what a public link points at: a file link, or a folder link (all of it, or the
    /// sub-node the link names).
    pub async fn download_link(
        &self,
        link: &Link,
        dest_dir: &Path,
        conflict: Conflict,
    ) -> Result<Vec<JobId>, TransferError> {
        match link.kind {
            LinkKind::File => {
                let file = self.inner.client.open_file_link(link).await?;
                let source = Source::Public { handle: link.handle.to_b64() };
                let fp = file.attributes.fingerprint().and_then(|c| Fingerprint::parse(c).ok());
                let meta = FileMeta {
                    size: file.size,
                    name: &file.name,
                    mtime: fp.as_ref().map(|f| f.mtime),
                    fingerprint: fp,
                };
                let id = self.add_download(source, file.key(), meta, dest_dir, conflict)?;
                Ok(id.into_iter().collect())
            }
            LinkKind::Folder => {
                let folder = self.inner.client.open_folder_link(link)?;
                let tree = folder.fetch_tree().await?;
                let start = match &link.sub {
                    Some(sub) => sub.handle(),
                    None => tree.root().ok_or_else(|| TransferError::Unavailable("the folder link is empty".into()))?,
                };
                let url = link.to_url();
                let mut ids = Vec::new();
                let source = |n: NodeHandle| Source::InFolderLink { link: url.clone(), node: n.to_b64() };
                self.download_from_tree(&tree, start, dest_dir, conflict, &source, &mut ids)?;
                Ok(ids)
            }
        }
    }

    fn download_from_tree(
        &self,
        tree: &Tree,
        h: NodeHandle,
        dest_dir: &Path,
        conflict: Conflict,
        source: &dyn Fn(NodeHandle) -> Source,
        ids: &mut Vec<JobId>,
    ) -> Result<(), TransferError> {
        let node = tree.node(h)?;
        if node.is_file() {
            let key = node
                .file_key()
                .ok_or_else(|| TransferError::Unavailable(format!("{} cannot be decrypted", node.name())))?;
            let meta =
                FileMeta { size: node.size(), name: node.name(), mtime: node.mtime(), fingerprint: node.fingerprint() };
            if let Some(id) = self.add_download(source(h), &key, meta, dest_dir, conflict)? {
                ids.push(id);
            }
            return Ok(());
        }
        let dir =
            if node.kind().is_root() { dest_dir.to_path_buf() } else { names::join_inside(dest_dir, &[node.name()]) };
        std::fs::create_dir_all(&dir).map_err(TransferError::local(&dir))?;
        let kids: Vec<NodeHandle> = tree.children(h).map(|n| n.handle()).collect();
        for k in kids {
            self.download_from_tree(tree, k, &dir, conflict, source, ids)?;
        }
        Ok(())
    }

    fn add_download(
        &self,
        source: Source,
        key: &FileKey,
        meta: FileMeta<'_>,
        dest_dir: &Path,
        conflict: Conflict,
    ) -> Result<Option<JobId>, TransferError> {
        let FileMeta { size, name, mtime, fingerprint } = meta;
        std::fs::create_dir_all(dest_dir).map_err(TransferError::local(dest_dir))?;
        let wanted = names::join_inside(dest_dir, &[name]);
        let id = new_id();
        let mut claimed = self.inner.claimed.lock().unwrap_or_else(|e| e.into_inner());
        let path = if !claimed.contains(&wanted)
            && wanted.exists()
            && download::is_identical(&wanted, size, fingerprint.as_ref())?
        {
            drop(claimed);
            self.inner
                .emit(Event::Skipped { id: id.clone(), reason: format!("{} is already there", wanted.display()) });
            self.finished_now(id.clone(), Direction::Download, name, size, Outcome::Skipped);
            return Ok(Some(id));
        } else if claimed.contains(&wanted) {
            // Another running job writes there (MEGA allows duplicate names, and safe names can
            // coincide): this one gets a name of its own.
            names::unique_among(&wanted, &claimed)
        } else if wanted.exists() {
            match conflict {
                Conflict::Rename => names::unique_among(&wanted, &claimed),
                Conflict::Overwrite => wanted,
            }
        } else {
            wanted
        };
        claimed.insert(path.clone());
        drop(claimed);
        let rec = JobRecord {
            id: id.clone(),
            spec: JobSpec::Download { source, key: b64::encode(&key.to_node_key()), size, path, mtime },
            priority: self.next_priority(),
            paused: false,
        };
        self.inner.journal.save(&rec)?;
        self.start(rec);
        Ok(Some(id))
    }

    /// Uploads a local file, or a folder recursively (its folders created remotely), into the
    /// remote folder `parent`. Files already there with the same name and fingerprint are
    /// skipped.
    pub async fn upload_path(&self, local: &Path, parent: NodeHandle) -> Result<Vec<JobId>, TransferError> {
        let session = self.session()?.clone();
        let tree = self.tree()?.clone();
        let mut ids = Vec::new();
        let meta = std::fs::metadata(local).map_err(TransferError::local(local))?;
        let name = local
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| TransferError::Unavailable(format!("{} has no file name", local.display())))?;
        if meta.is_dir() {
            let existing = {
                let t = tree.lock().await;
                let found = t.children_named(parent, &name).find(|n| n.is_container()).map(|n| n.handle());
                found
            };
            let folder = match existing {
                Some(h) => h,
                None => session.mkdir(&mut *tree.lock().await, parent, &name).await?,
            };
            let mut entries: Vec<PathBuf> =
                std::fs::read_dir(local).map_err(TransferError::local(local))?.flatten().map(|e| e.path()).collect();
            entries.sort();
            for e in entries {
                ids.extend(Box::pin(self.upload_path(&e, folder)).await?);
            }
            return Ok(ids);
        }
        let mtime = upload::mtime_of(&meta);
        let id = new_id();
        if upload::is_on_server(&*tree.lock().await, parent, &name, local, meta.len())? {
            self.inner.emit(Event::Skipped { id: id.clone(), reason: format!("{name} is already in the folder") });
            self.finished_now(id.clone(), Direction::Upload, &name, meta.len(), Outcome::Skipped);
            return Ok(vec![id]);
        }
        let rec = JobRecord {
            id: id.clone(),
            spec: JobSpec::Upload {
                local: local.to_path_buf(),
                parent: parent.to_b64(),
                name,
                size: meta.len(),
                mtime,
                url: None,
                cipher: None,
            },
            priority: self.next_priority(),
            paused: false,
        };
        self.inner.journal.save(&rec)?;
        self.start(rec);
        ids.push(id);
        Ok(ids)
    }

    fn next_priority(&self) -> i64 {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.values().map(|j| j.record.priority).max().map_or(0, |p| p + 1)
    }

    /// Records a job that ended before it started (skipped).
    fn finished_now(&self, id: JobId, direction: Direction, name: &str, size: u64, outcome: Outcome) {
        let (control, _) = watch::channel(Control::Run);
        let (tx, _) = watch::channel(Some(outcome));
        let spec = match direction {
            Direction::Download => JobSpec::Download {
                source: Source::Public { handle: String::new() },
                key: String::new(),
                size,
                path: PathBuf::from(name),
                mtime: None,
            },
            Direction::Upload => JobSpec::Upload {
                local: PathBuf::from(name),
                parent: String::new(),
                name: name.to_string(),
                size,
                mtime: 0,
                url: None,
                cipher: None,
            },
        };
        let record = JobRecord { id: id.clone(), spec, priority: self.next_priority(), paused: false };
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, JobState { record, running: false, control, outcome: tx });
    }

    fn start(&self, rec: JobRecord) {
        let (control, control_rx) = watch::channel(if rec.paused { Control::Pause } else { Control::Run });
        let (outcome, _) = watch::channel(None);
        let id = rec.id.clone();
        let i = info_of(&rec);
        self.inner.emit(Event::Queued { id: id.clone(), direction: i.0, name: i.1, size: i.2 });
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), JobState { record: rec, running: false, control, outcome });
        let engine = self.clone();
        tokio::spawn(async move { engine.run(id, control_rx).await });
    }

    async fn run(&self, id: JobId, mut control: watch::Receiver<Control>) {
        let mut retries = 0;
        let outcome = loop {
            // Paused: wait for resume (or cancel) before taking a slot.
            while *control.borrow_and_update() == Control::Pause {
                self.inner.emit(Event::Paused { id: id.clone() });
                if control.changed().await.is_err() {
                    return;
                }
            }
            if *control.borrow() == Control::Cancel {
                break self.cancelled(&id);
            }
            let slot = match self.wait_for_slot(&id, &control).await {
                Ok(slot) => slot,
                Err(Some(Control::Cancel)) => break self.cancelled(&id),
                Err(Some(_)) => continue,
                Err(None) => return,
            };
            let Some(rec) = self.record(&id) else { return };
            self.set_running(&id, true);
            self.inner.emit(Event::Started { id: id.clone() });
            let result = match &rec.spec {
                JobSpec::Download { .. } => download::run(&self.inner, &rec, control.clone()).await,
                JobSpec::Upload { .. } => upload::run(&self.inner, &rec, control.clone()).await,
            };
            self.set_running(&id, false);
            drop(slot);
            match result {
                Ok(o) => {
                    let _ = self.inner.journal.remove(&id);
                    if let Outcome::Done { path, node } = &o {
                        self.inner.emit(Event::Done { id: id.clone(), path: path.clone(), node: *node });
                    }
                    break o;
                }
                Err(TransferError::Paused) => continue,
                Err(TransferError::Cancelled) => break self.cancelled(&id),
                Err(e) if e.is_temporary() && retries < self.inner.config.max_retries => {
                    retries += 1;
                    self.inner.emit(Event::Retrying { id: id.clone(), reason: e.to_string() });
                    let backoff = Duration::from_millis(500 * (1 << retries.min(6)));
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => {
                    if e.kind() == ErrorKind::Crypto {
                        // A verified failure (MAC mismatch twice): nothing to resume.
                        let _ = self.inner.journal.remove(&id);
                    }
                    let (kind, message) = (e.kind(), e.to_string());
                    self.inner.emit(Event::Failed { id: id.clone(), kind, message: message.clone() });
                    break Outcome::Failed { kind, message };
                }
            }
        };
        if let Some(JobSpec::Download { path, .. }) = self.record(&id).map(|r| r.spec) {
            self.inner.claimed.lock().unwrap_or_else(|e| e.into_inner()).remove(&path);
        }
        if let Some(j) = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            j.outcome.send_replace(Some(outcome));
        }
    }

    fn cancelled(&self, id: &str) -> Outcome {
        if let Some(rec) = self.record(id) {
            if let JobSpec::Download { path, .. } = &rec.spec {
                let _ = std::fs::remove_file(download::part_path(path));
            }
        }
        let _ = self.inner.journal.remove(id);
        self.inner.emit(Event::Cancelled { id: id.to_string() });
        Outcome::Cancelled
    }

    /// A file slot, taken in priority order; a pause or cancel while queued is returned as
    /// `Err(Some(control))`, a job that vanished as `Err(None)`.
    async fn wait_for_slot(
        &self,
        id: &str,
        control: &watch::Receiver<Control>,
    ) -> Result<tokio::sync::SemaphorePermit<'_>, Option<Control>> {
        loop {
            let c = *control.borrow();
            if c != Control::Run {
                return Err(Some(c));
            }
            if self.is_next(id) {
                if let Ok(p) = self.inner.slots.try_acquire() {
                    return Ok(p);
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.record(id).is_none() {
                return Err(None);
            }
        }
    }

    /// Is `id` the first waiting job in priority order?
    fn is_next(&self, id: &str) -> bool {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mine = jobs.get(id).map_or(i64::MAX, |j| j.record.priority);
        !jobs.values().any(|j| {
            j.outcome.borrow().is_none()
                && !j.running
                && *j.control.borrow() == Control::Run
                && j.record.priority < mine
        })
    }

    fn set_running(&self, id: &str, running: bool) {
        if let Some(j) = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            j.running = running;
        }
    }

    fn record(&self, id: &str) -> Option<JobRecord> {
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id).map(|j| j.record.clone())
    }
}

fn info_of(rec: &JobRecord) -> (Direction, String, u64) {
    match &rec.spec {
        JobSpec::Download { path, size, .. } => {
            (Direction::Download, path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), *size)
        }
        JobSpec::Upload { name, size, .. } => (Direction::Upload, name.clone(), *size),
    }
}

fn info(j: &JobState) -> JobInfo {
    let (direction, name, size) = info_of(&j.record);
    JobInfo {
        id: j.record.id.clone(),
        direction,
        name,
        size,
        priority: j.record.priority,
        paused: j.record.paused,
        outcome: j.outcome.borrow().clone(),
    }
}

/// What a download needs to know of its file.
struct FileMeta<'a> {
    size: u64,
    name: &'a str,
    mtime: Option<i64>,
    fingerprint: Option<Fingerprint>,
}

/// The file key of a journal record.
pub(crate) fn file_key(b64_key: &str) -> Result<FileKey, TransferError> {
    let raw = b64::decode(b64_key);
    match NodeKey::from_bytes(&raw) {
        Ok(NodeKey::File(k)) => Ok(k),
        _ => Err(TransferError::Unavailable("the journal's file key is damaged".into())),
    }
}
