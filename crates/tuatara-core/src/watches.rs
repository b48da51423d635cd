//! Watches, for both faces: watched folders (backed up into the drive as their files settle)
//! and watched links files (their new MEGA links downloaded), kept in the stores of
//! `mega_transfer::watch` and run under its [`supervise`](watch::supervise).
//!
//! Two stores, each a [`Watches`]:
//!
//! - [`Watches::open`] (`Dirs::watches()`): the watches of `tuatara-cli watch ...` and of the
//!   app, shared by every process of the user (a watch runs in one of them at a time);
//! - [`Watches::open_links_files`] (`Dirs::links_watches()`): one watch per links file of
//!   `tuatara-cli links get FILE --watch`, kept apart from the list.
//!
//! [`Watches::add`] checks what it is given before anything is stored (an absolute local folder
//! that exists, a normalised remote path, ignore globs without blanks; a links file that exists
//! and a download folder, created). [`Watches::run`] runs the watches on an [`Engine`] and
//! returns a [`Running`] handle (stopped at sign-out or on Ctrl-C) and the [`WatchEvent`]s a
//! face shows or logs: what the supervisor did, and links waiting for a password, each once.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mega_transfer::watch::{self, Supervisor, WatchStore};
use mega_transfer::Engine;
use tokio::sync::{mpsc, watch as signal};

use crate::dirs::Dirs;
use crate::error::{Error, Result};

pub use mega_transfer::watch::{
    LinkState, RunOptions, SupervisorEvent, Watch, WatchError, WatchId, WatchKind, WatchStatus,
};

/// How often running watches look at the store (watches added, removed or paused by any
/// process) and at the links that wait for a password.
pub const POLL: Duration = Duration::from_secs(1);

/// One store of watches.
#[derive(Debug, Clone)]
pub struct Watches {
    store: WatchStore,
}

/// What running watches report, for a face to show or log.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WatchEvent {
    /// A watch started, stopped (removed), is run by another process, or could not start
    /// (its message is also recorded as the watch's last error; it is tried again later).
    Supervisor(SupervisorEvent),
    /// A `#P!` link of a links watch that none of the passwords opens (said once per link).
    NeedsPassword {
        /// The watch.
        watch: WatchId,
        /// The link's id in the ledger (public handle only, never a key).
        link: String,
    },
}

impl WatchEvent {
    /// Something the user may need to act on (a watch that cannot start, a link that waits
    /// for its password), as opposed to news.
    pub fn is_warning(&self) -> bool {
        matches!(self, WatchEvent::Supervisor(SupervisorEvent::Failed { .. }) | WatchEvent::NeedsPassword { .. })
    }
}

/// One line for a log.
impl std::fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchEvent::Supervisor(SupervisorEvent::Started(id)) => write!(f, "watch {id} running"),
            WatchEvent::Supervisor(SupervisorEvent::Stopped(id)) => write!(f, "watch {id} removed and stopped"),
            WatchEvent::Supervisor(SupervisorEvent::Busy { id, pid }) => {
                let by = pid.map(|p| format!(" (process {p})")).unwrap_or_default();
                write!(f, "watch {id} runs in another process{by}; taken over when it stops")
            }
            WatchEvent::Supervisor(SupervisorEvent::Failed { id, message }) => {
                write!(f, "watch {id} could not start: {message} (tried again later)")
            }
            WatchEvent::NeedsPassword { watch, link } => {
                write!(f, "watch {watch}: {link} is password-protected (#P!) and waits for its password")
            }
        }
    }
}

/// Watches running on an engine; see [`Watches::run`]. Dropping it stops them too, without
/// waiting.
#[derive(Debug)]
pub struct Running {
    stop: signal::Sender<bool>,
    statuses: Arc<Mutex<Vec<(WatchId, WatchStatus)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// The watches running here and what each is doing (as of the last [`POLL`]).
    pub fn statuses(&self) -> Vec<(WatchId, WatchStatus)> {
        self.statuses.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stops every watch (jobs already in the engine go on; the next run continues them).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

impl Watches {
    /// The watches of the watch list (the CLI's `watch` commands and the app).
    pub fn open(dirs: &Dirs) -> Result<Self> {
        Ok(Watches { store: WatchStore::open(dirs.watches())? })
    }

    /// The watches of `links get FILE --watch`, one per links file.
    pub fn open_links_files(dirs: &Dirs) -> Result<Self> {
        Ok(Watches { store: WatchStore::open(dirs.links_watches())? })
    }

    /// Every watch, in the order added.
    pub fn list(&self) -> Result<Vec<Watch>> {
        Ok(self.store.list()?)
    }

    /// One watch.
    pub fn get(&self, id: &str) -> Result<Watch> {
        Ok(self.store.get(id)?)
    }

    /// Is the watch running now, in this process or another?
    pub fn is_running(&self, id: &str) -> bool {
        self.store.is_running(id)
    }

    /// Fails with [`WatchError::Busy`] when the watch runs somewhere already.
    pub fn ensure_not_running(&self, id: &str) -> Result<()> {
        if self.store.is_running(id) {
            return Err(WatchError::Busy { id: id.to_string(), pid: self.store.run_lock_holder(id) }.into());
        }
        Ok(())
    }

    /// Checks and adds a watch; a running [`Running`] of this store picks it up by itself.
    ///
    /// An upload watch needs an absolute path to a folder that exists; its remote path becomes
    /// `/a/b` (created when it first runs) and blank ignore globs are dropped. A links watch
    /// needs an absolute path to a links file (or a folder of them) that exists; its download
    /// folder is created.
    pub fn add(&self, kind: WatchKind) -> Result<Watch> {
        let kind = match kind {
            WatchKind::Upload { local, remote, trash_deleted, ignore } => {
                existing(&local)?;
                if !local.is_dir() {
                    return Err(Error::Invalid(format!("{}: not a folder", local.display())));
                }
                let remote = format!("/{}", remote.trim().trim_matches('/'));
                let ignore = ignore.iter().map(|g| g.trim()).filter(|g| !g.is_empty()).map(String::from).collect();
                WatchKind::Upload { local, remote, trash_deleted, ignore }
            }
            WatchKind::Links { source, dest } => {
                existing(&source)?;
                absolute(&dest)?;
                std::fs::create_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
                WatchKind::Links { source, dest }
            }
        };
        Ok(self.store.add(kind)?)
    }

    /// Pauses or resumes watches; every id is checked before anything changes.
    pub fn set_paused(&self, ids: &[String], paused: bool) -> Result<()> {
        for id in ids {
            self.store.get(id)?;
        }
        for id in ids {
            self.store.set_paused(id, paused)?;
        }
        Ok(())
    }

    /// Removes watches (nothing local or remote is deleted; a process running one stops it);
    /// every id is checked before anything changes.
    pub fn remove(&self, ids: &[String]) -> Result<Vec<Watch>> {
        for id in ids {
            self.store.get(id)?;
        }
        ids.iter().map(|id| Ok(self.store.remove(id)?)).collect()
    }

    /// Whether running these watches (all with `None`) needs a signed-in account with its
    /// tree: upload watches do, links watches do not.
    pub fn needs_account(&self, only: Option<&[WatchId]>) -> Result<bool> {
        Ok(self
            .list()?
            .iter()
            .filter(|w| only.is_none_or(|o| o.contains(&w.id)))
            .any(|w| matches!(w.kind, WatchKind::Upload { .. })))
    }

    /// The watch of a links file downloading into `dest` (both absolute), added when there is
    /// none: its ledger is kept between runs, so a link is downloaded once. Given another
    /// folder this time, the file starts over with a fresh ledger. Fails when the watch runs
    /// somewhere already.
    pub fn links_file(&self, source: &Path, dest: &Path) -> Result<WatchId> {
        absolute(source)?;
        absolute(dest)?;
        if !source.is_file() {
            return Err(Error::NotFound(format!("{}: no such file", source.display())));
        }
        std::fs::create_dir_all(dest).map_err(|e| Error::io(dest, e))?;
        let existing = self.list()?.into_iter().find_map(|w| match w.kind {
            WatchKind::Links { source: s, dest: d } if s == source => Some((w.id, d == dest)),
            _ => None,
        });
        let add = || self.add(WatchKind::Links { source: source.to_path_buf(), dest: dest.to_path_buf() });
        let id = match existing {
            Some((id, true)) => id,
            Some((id, false)) => {
                self.ensure_not_running(&id)?;
                self.store.remove(&id)?;
                add()?.id
            }
            None => add()?.id,
        };
        self.ensure_not_running(&id)?;
        Ok(id)
    }

    /// Runs the watches of this store (or only those of `only`) on `engine`, following the
    /// store as any process changes it, until [`Running::stop`]. Upload watches need an engine
    /// with a session and a tree. The events end when the watches are stopped.
    pub fn run(
        &self,
        engine: &Engine,
        only: Option<Vec<WatchId>>,
        options: RunOptions,
    ) -> (Running, mpsc::UnboundedReceiver<WatchEvent>) {
        let supervisor = watch::supervise(engine, &self.store, only, options, POLL);
        let (stop, stopped) = signal::channel(false);
        let (events, rx) = mpsc::unbounded_channel();
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let follow = Follow { store: self.store.clone(), events, statuses: statuses.clone(), said: HashSet::new() };
        let task = tokio::spawn(follow.run(supervisor, stopped));
        (Running { stop, statuses, task }, rx)
    }
}

/// An absolute path, or [`Error::Invalid`].
fn absolute(p: &Path) -> Result<()> {
    if p.is_absolute() {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{}: not an absolute path", p.display())))
    }
}

/// An absolute path to something that exists.
fn existing(p: &Path) -> Result<()> {
    absolute(p)?;
    if !p.exists() {
        return Err(Error::NotFound(format!("{}: no such local file or folder", p.display())));
    }
    Ok(())
}

/// Forwards what a supervisor does, and the links that wait for a password.
struct Follow {
    store: WatchStore,
    events: mpsc::UnboundedSender<WatchEvent>,
    statuses: Arc<Mutex<Vec<(WatchId, WatchStatus)>>>,
    /// Links already said to wait for a password.
    said: HashSet<String>,
}

impl Follow {
    async fn run(mut self, mut supervisor: Supervisor, mut stop: signal::Receiver<bool>) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                // A stop, or the handle dropped.
                _ = stop.changed() => break,
                e = supervisor.next_event() => match e {
                    Some(e) => self.supervisor(e),
                    None => break,
                },
                _ = tick.tick() => self.poll(supervisor.statuses()),
            }
        }
        supervisor.stop().await;
        self.statuses.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn supervisor(&self, e: SupervisorEvent) {
        if let SupervisorEvent::Failed { id, message } = &e {
            // Shown with the watch in every face's list.
            let _ = self.store.record_error(id, message);
        }
        let _ = self.events.send(WatchEvent::Supervisor(e));
    }

    fn poll(&mut self, statuses: Vec<(WatchId, WatchStatus)>) {
        for (id, _) in statuses.iter().filter(|(_, s)| s.needs_password > 0) {
            let Ok(ledger) = watch::ledger(&self.store, id) else { continue };
            for (link, entry) in ledger {
                if entry.state == LinkState::NeedsPassword && self.said.insert(link.clone()) {
                    let _ = self.events.send(WatchEvent::NeedsPassword { watch: id.clone(), link });
                }
            }
        }
        *self.statuses.lock().unwrap_or_else(|e| e.into_inner()) = statuses;
    }
}
