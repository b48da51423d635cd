//! Watched folders and watched links files (issue 8): a backup of a local folder into a remote
//! one, and a text file of MEGA links whose new links are downloaded as they are added.
//!
//! * [`WatchStore`] persists the watches (`watches.json` in a directory the caller gives,
//!   written atomically): [`WatchStore::add`], [`WatchStore::list`],
//!   [`WatchStore::set_paused`], [`WatchStore::remove`], with each watch's last activity and
//!   recent errors.
//!   Several processes may share one store (the app, `tuatara-cli watch add` and
//!   `watch run`): changes are locked across processes (flock on `watches.lock`) and re-read
//!   before they are made; files are replaced atomically.
//! * [`start`] runs one watch on an [`Engine`] and returns a [`WatchHandle`] (status, rescan,
//!   wait until idle, stop). It holds the watch's [`RunLock`] while it runs: a watch never runs
//!   twice, in one process or in two ([`WatchError::Busy`] names the process that has it).
//! * [`supervise`] runs every watch of a store (or a chosen few) and follows the store: watches
//!   added elsewhere start, removed ones stop, busy ones are taken over when freed
//!   ([`Supervisor`], [`SupervisorEvent`]).
//! * A restarted watch continues its own unfinished jobs from the engine's journal (a run
//!   killed mid-transfer), counted as in flight, so nothing is uploaded or downloaded twice.
//!
//! **Upload watches.** Filesystem events come from `notify` through its full debouncer
//! (renames paired, rescans flagged). A file that appears or changes is uploaded only once its
//! size and modification time have stayed the same for [`RunOptions::settle`], so a file still
//! being written is never sent half-done. Folders are mirrored. Files already in the remote
//! folder with the same name and content are skipped; a changed file is uploaded again and its
//! older copy moved to the rubbish bin. Events are not trusted alone: a scan on start catches
//! up with what changed while nothing ran, and a rescan runs periodically and whenever the
//! watcher reports an overflow or an error. Local deletions are propagated only when the watch
//! says so, and then to the rubbish bin (never destroyed): a deletion seen as an event, and one
//! made while nothing ran, which a scan finds in the watch's list of files known to be on the
//! server (`<id>.files.json`, each with its node) and no longer on disk. A watched folder that
//! is missing (unmounted) is reported, never taken for deleted files. Ignored: [`DEFAULT_IGNORES`] and the
//! watch's own globs. The engine is fed at most [`RunOptions::max_in_flight`] files at once: a
//! burst of thousands of files waits in the watcher's de-duplicated queue, not in the engine.
//!
//! **Links watches.** Whenever the file (or a `.txt` / `.links` file in the folder) has been
//! stable for the settle time, its links are extracted ([`mega_proto::extract`]), compared with
//! the watch's [`Ledger`] (done, queued, failed, waiting for a password) and the new ones are
//! downloaded with the engine. `#P!` links are opened with [`RunOptions::passwords`]; without a
//! matching password they wait in the ledger ([`LinkState::NeedsPassword`]). The ledger keeps
//! public handles only, never link keys.

mod files;
mod ignore;
mod links;
mod store;
mod supervise;
mod upload;

use std::path::PathBuf;
use std::time::Duration;

use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};
use tokio::sync::{mpsc, watch as signal};

use crate::engine::{Engine, TransferError};

pub use ignore::{Ignore, DEFAULT_IGNORES};
pub use links::{ledger, link_id, LedgerEntry, LinkState};
pub use store::{RunLock, Watch, WatchErrorEntry, WatchId, WatchKind, WatchStore};
pub use supervise::{supervise, Supervisor, SupervisorEvent};

/// The ledger of a links watch.
pub type Ledger = std::collections::BTreeMap<String, LedgerEntry>;

/// Why a watch could not be read, changed or started.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A file of the store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the store is not valid JSON.
    #[error("{path} is damaged: {why}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// No watch has this id.
    #[error("no watch {0}")]
    NoSuchWatch(String),
    /// The folder or file is watched already.
    #[error("{0} is already watched")]
    AlreadyWatched(PathBuf),
    /// The filesystem watcher could not start.
    #[error("watching {path}: {message}")]
    Notify {
        /// What was to be watched.
        path: PathBuf,
        /// Why it failed.
        message: String,
    },
    /// The watch is running already (in this process or another).
    #[error("watch {id} is already running{}", pid.map(|p| format!(" (process {p})")).unwrap_or_default())]
    Busy {
        /// The watch.
        id: String,
        /// The process that runs it, when known.
        pid: Option<u32>,
    },
    /// The engine or the API failed (e.g. creating the remote folder).
    #[error(transparent)]
    Transfer(#[from] TransferError),
}

/// How a watch runs.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How long a file must stay unchanged (size and modification time) before it is uploaded;
    /// also the debounce window of the filesystem events and of a links file.
    pub settle: Duration,
    /// How often a full rescan reconciles what events may have missed.
    pub rescan_every: Duration,
    /// Files (upload watches) or links (links watches) handed to the engine at once.
    pub max_in_flight: usize,
    /// Passwords to try on `#P!` links (never logged or persisted).
    pub passwords: Vec<String>,
}

impl Default for RunOptions {
    /// 2 s settle, a rescan every 15 minutes, 16 at once, no passwords.
    fn default() -> Self {
        RunOptions {
            settle: Duration::from_secs(2),
            rescan_every: Duration::from_secs(15 * 60),
            max_in_flight: 16,
            passwords: Vec::new(),
        }
    }
}

/// What a running watch is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchStatus {
    /// The first scan has finished.
    pub scanned: bool,
    /// Paused (in the store).
    pub paused: bool,
    /// Scans done (the first included).
    pub scans: u64,
    /// Files waiting to settle or for a slot (upload); links found but not started (links).
    pub pending: usize,
    /// In the engine now.
    pub in_flight: usize,
    /// Uploaded, or links downloaded, in this run.
    pub done: u64,
    /// Already there (same content), in this run.
    pub skipped: u64,
    /// Failed in this run.
    pub failed: u64,
    /// Remote files moved to the rubbish bin in this run (deleted locally or replaced).
    pub trashed: u64,
    /// Links waiting for a password.
    pub needs_password: usize,
    /// The last error, if any.
    pub last_error: Option<String>,
}

impl WatchStatus {
    /// Scanned, and nothing waiting or moving.
    pub fn is_idle(&self) -> bool {
        self.scanned && self.pending == 0 && self.in_flight == 0
    }
}

/// A running watch.
#[derive(Debug)]
pub struct WatchHandle {
    id: WatchId,
    stop: signal::Sender<bool>,
    rescan: mpsc::UnboundedSender<()>,
    status: signal::Receiver<WatchStatus>,
    task: tokio::task::JoinHandle<()>,
}

impl WatchHandle {
    /// The watch's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What it is doing now.
    pub fn status(&self) -> WatchStatus {
        self.status.borrow().clone()
    }

    /// Status updates.
    pub fn subscribe(&self) -> signal::Receiver<WatchStatus> {
        self.status.clone()
    }

    /// Asks for a full rescan now.
    pub fn rescan(&self) {
        let _ = self.rescan.send(());
    }

    /// Waits until the watch is idle (see [`WatchStatus::is_idle`]).
    pub async fn wait_idle(&self) {
        let mut rx = self.status.clone();
        let _ = rx.wait_for(WatchStatus::is_idle).await;
    }

    /// Stops watching (jobs already in the engine go on; the next start catches up).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// What a runner gets: its stop and rescan signals, and where it reports.
pub(crate) struct Signals {
    pub(crate) stop: signal::Receiver<bool>,
    pub(crate) rescan: mpsc::UnboundedReceiver<()>,
    pub(crate) status: signal::Sender<WatchStatus>,
}

impl Signals {
    /// Publishes the status when it changed.
    pub(crate) fn publish(&self, status: &WatchStatus) {
        self.status.send_if_modified(|s| {
            let changed = s != status;
            if changed {
                *s = status.clone();
            }
            changed
        });
    }
}

/// Logs an error, records it in the store and in the status.
pub(crate) fn report_error(store: &WatchStore, id: &str, status: &mut WatchStatus, message: &str) {
    tracing::warn!(watch = %id, "{message}");
    let _ = store.record_error(id, message);
    status.last_error = Some(message.to_string());
}

/// Starts running the watch `id` of `store` on `engine` (which must have a session and a tree
/// for upload watches). The watch's run lock is held while it runs: a second start, in this
/// process or another, fails with [`WatchError::Busy`]. Unfinished jobs of the watch in the
/// engine's journal (a run killed mid-transfer) are continued, not started over.
pub async fn start(
    engine: &Engine,
    store: &WatchStore,
    id: &str,
    options: RunOptions,
) -> Result<WatchHandle, WatchError> {
    let watch = store.get(id)?;
    let lock = store
        .try_run_lock(id)?
        .ok_or_else(|| WatchError::Busy { id: id.to_string(), pid: store.run_lock_holder(id) })?;
    let (stop_tx, stop) = signal::channel(false);
    let (rescan_tx, rescan) = mpsc::unbounded_channel();
    let (status_tx, status) = signal::channel(WatchStatus { paused: watch.paused, ..Default::default() });
    let signals = Signals { stop, rescan, status: status_tx };
    let task = match &watch.kind {
        WatchKind::Upload { .. } => {
            let run = upload::UploadRun::new(engine, store, &watch, options).await?;
            tokio::spawn(async move {
                run.run(signals).await;
                drop(lock);
            })
        }
        WatchKind::Links { .. } => {
            let run = links::LinksRun::new(engine, store, &watch, options)?;
            tokio::spawn(async move {
                run.run(signals).await;
                drop(lock);
            })
        }
    };
    Ok(WatchHandle { id: watch.id, stop: stop_tx, rescan: rescan_tx, status, task })
}

/// A debounced filesystem watcher feeding a channel.
pub(crate) type FsWatcher = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// Watches `path` (recursively or not); debounced events arrive on the returned channel.
pub(crate) fn fs_watch(
    path: &std::path::Path,
    recursive: bool,
    settle: Duration,
) -> Result<(FsWatcher, mpsc::UnboundedReceiver<DebounceEventResult>), WatchError> {
    let (tx, rx) = mpsc::unbounded_channel();
    // Shorter than the settle time: a pause in writing longer than this window but shorter
    // than the settle time is caught by the size-and-mtime check, not by the debouncer alone.
    let window = (settle / 4).max(Duration::from_millis(50));
    let fail = |e: notify::Error| WatchError::Notify { path: path.to_path_buf(), message: e.to_string() };
    let mut w = new_debouncer(window, None, move |r: DebounceEventResult| {
        let _ = tx.send(r);
    })
    .map_err(fail)?;
    let mode = if recursive { notify::RecursiveMode::Recursive } else { notify::RecursiveMode::NonRecursive };
    w.watch(path, mode).map_err(fail)?;
    Ok((w, rx))
}

/// [`fs_watch`], or with an error reported no events at all (periodic scans still run, e.g.
/// while the folder is missing).
pub(crate) fn fs_watch_or_report(
    path: &std::path::Path,
    recursive: bool,
    settle: Duration,
    report: impl FnOnce(&str),
) -> (Option<FsWatcher>, mpsc::UnboundedReceiver<DebounceEventResult>) {
    match fs_watch(path, recursive, settle) {
        Ok((w, rx)) => (Some(w), rx),
        Err(e) => {
            report(&e.to_string());
            (None, mpsc::unbounded_channel().1)
        }
    }
}

/// The runners' clock: a quarter of the settle time.
pub(crate) fn ticker(settle: Duration) -> tokio::time::Interval {
    let mut tick = tokio::time::interval((settle / 4).max(Duration::from_millis(25)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick
}

/// Reads the paused flag from the store (a removed watch counts as paused).
pub(crate) fn is_paused(store: &WatchStore, id: &str) -> bool {
    store.get(id).map_or(true, |w| w.paused)
}
