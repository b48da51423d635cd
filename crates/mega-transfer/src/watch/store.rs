//! The watch configuration: one JSON file (`watches.json`, 0600, written atomically) in a
//! directory the caller gives, beside each watch's own state (`<id>.ledger.json` for links
//! files, `<id>.files.json` for upload folders). Add, list, pause, remove; the runners record
//! their last activity and errors here.
//!
//! Several processes share the store (the app, `tuatara-cli watch run`, `watch add`): every
//! change takes an exclusive lock on `watches.lock` (flock), reads the file again, changes it
//! and writes it atomically, so no change of another process is lost; reads need no lock (the
//! file is only ever replaced whole). A running watch holds `<id>.run.lock`, so one watch is
//! never run twice at once ([`RunLock`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::WatchError;
use crate::journal::write_atomic;

/// How many recent errors a watch keeps.
const KEEP_ERRORS: usize = 20;

/// A watch's id.
pub type WatchId = String;

/// What is watched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum WatchKind {
    /// A local folder backed up into a remote folder.
    Upload {
        /// The local folder (watched recursively).
        local: PathBuf,
        /// The remote folder, as a path from the cloud drive's root (`/Backups/photos`);
        /// created when missing.
        remote: String,
        /// Move remote files to the rubbish bin when their local file is deleted (off: a
        /// backup, never a sync).
        #[serde(default)]
        trash_deleted: bool,
        /// Extra ignore globs (`*` and `?`), matched against each path component.
        #[serde(default)]
        ignore: Vec<String>,
    },
    /// A text file of links (or a folder of `.txt` / `.links` files) whose new MEGA links are
    /// downloaded.
    Links {
        /// The file or folder.
        source: PathBuf,
        /// Where downloads go.
        dest: PathBuf,
    },
}

/// One recorded error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WatchErrorEntry {
    /// When (unix seconds).
    pub at: u64,
    /// What failed (never a key).
    pub message: String,
}

/// One watch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Watch {
    /// Its id.
    pub id: WatchId,
    /// What is watched.
    pub kind: WatchKind,
    /// Paused by the user: a runner does nothing until resumed.
    #[serde(default)]
    pub paused: bool,
    /// When it was added (unix seconds).
    pub created: u64,
    /// The last time something was uploaded or downloaded (unix seconds).
    #[serde(default)]
    pub last_activity: Option<u64>,
    /// Files (or links) done since the watch was added.
    #[serde(default)]
    pub done: u64,
    /// The most recent errors, oldest first.
    #[serde(default)]
    pub errors: Vec<WatchErrorEntry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    watches: Vec<Watch>,
}

/// The persisted list of watches. Cheap to clone; clones share a lock (one process), and
/// changes are locked across processes too (see the module docs).
#[derive(Debug, Clone)]
pub struct WatchStore {
    dir: PathBuf,
    lock: Arc<Mutex<()>>,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Reads a JSON file, or the default when it does not exist.
pub(crate) fn read_json<T: Default + for<'de> Deserialize<'de>>(path: &Path) -> Result<T, WatchError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| WatchError::Damaged { path: path.to_path_buf(), why: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(WatchError::Io { path: path.to_path_buf(), source: e }),
    }
}

/// Writes a JSON file atomically (0600).
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), WatchError> {
    let data = serde_json::to_vec_pretty(value)
        .map_err(|e| WatchError::Damaged { path: path.to_path_buf(), why: e.to_string() })?;
    write_atomic(path, &data).map_err(|e| WatchError::Io { path: path.to_path_buf(), source: e })
}

impl WatchStore {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, WatchError> {
        use std::os::unix::fs::DirBuilderExt;
        let dir = dir.into();
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .map_err(|e| WatchError::Io { path: dir.clone(), source: e })?;
        Ok(WatchStore { dir, lock: Arc::new(Mutex::new(())) })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self) -> PathBuf {
        self.dir.join("watches.json")
    }

    /// Where a links watch keeps its ledger.
    pub fn ledger_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.ledger.json"))
    }

    /// Every watch, in the order added.
    pub fn list(&self) -> Result<Vec<Watch>, WatchError> {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        Ok(read_json::<File>(&self.path())?.watches)
    }

    /// One watch.
    pub fn get(&self, id: &str) -> Result<Watch, WatchError> {
        self.list()?.into_iter().find(|w| w.id == id).ok_or_else(|| WatchError::NoSuchWatch(id.to_string()))
    }

    /// When `watches.json` last changed (`None` before the first watch is added): a running
    /// process polls it to pick up what another one changed.
    pub fn modified(&self) -> Option<SystemTime> {
        std::fs::metadata(self.path()).and_then(|m| m.modified()).ok()
    }

    /// Changes the file under both locks, reading it again first (another process may have
    /// changed it).
    fn update<R>(&self, f: impl FnOnce(&mut Vec<Watch>) -> Result<R, WatchError>) -> Result<R, WatchError> {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let lock_path = self.dir.join("watches.lock");
        let io = |e| WatchError::Io { path: lock_path.clone(), source: e };
        let lock = open_private(&lock_path).map_err(io)?;
        fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(io)?;
        let path = self.path();
        let mut file: File = read_json(&path)?;
        let r = f(&mut file.watches)?;
        write_json(&path, &file)?;
        Ok(r)
    }

    fn with_watch<R>(&self, id: &str, f: impl FnOnce(&mut Watch) -> R) -> Result<R, WatchError> {
        self.update(|ws| {
            let w = ws.iter_mut().find(|w| w.id == id).ok_or_else(|| WatchError::NoSuchWatch(id.to_string()))?;
            Ok(f(w))
        })
    }

    /// Adds a watch. The same local folder (or links source) cannot be watched twice.
    pub fn add(&self, kind: WatchKind) -> Result<Watch, WatchError> {
        let kind = match kind {
            WatchKind::Upload { local, remote, trash_deleted, ignore } => {
                let local = std::path::absolute(&local).map_err(|e| WatchError::Io { path: local, source: e })?;
                let remote = format!("/{}", remote.trim_matches('/'));
                WatchKind::Upload { local, remote, trash_deleted, ignore }
            }
            WatchKind::Links { source, dest } => {
                let source = std::path::absolute(&source).map_err(|e| WatchError::Io { path: source, source: e })?;
                let dest = std::path::absolute(&dest).map_err(|e| WatchError::Io { path: dest, source: e })?;
                WatchKind::Links { source, dest }
            }
        };
        self.update(|ws| {
            if ws.iter().any(|w| watched_path(&w.kind) == watched_path(&kind)) {
                return Err(WatchError::AlreadyWatched(watched_path(&kind).to_path_buf()));
            }
            let mut b = [0u8; 6];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
            let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
            let w =
                Watch { id, kind, paused: false, created: now_secs(), last_activity: None, done: 0, errors: vec![] };
            ws.push(w.clone());
            Ok(w)
        })
    }

    /// Where an upload watch keeps the files it knows are on the server.
    pub(crate) fn files_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.files.json"))
    }

    fn run_lock_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.run.lock"))
    }

    /// Removes a watch (and its ledger). Nothing local or remote is deleted. A process running
    /// it stops it on its own when it sees the change.
    pub fn remove(&self, id: &str) -> Result<Watch, WatchError> {
        let w = self.update(|ws| {
            let i = ws.iter().position(|w| w.id == id).ok_or_else(|| WatchError::NoSuchWatch(id.to_string()))?;
            Ok(ws.remove(i))
        })?;
        let _ = std::fs::remove_file(self.ledger_path(id));
        let _ = std::fs::remove_file(self.files_path(id));
        if let Ok(Some(lock)) = self.try_run_lock(id) {
            let _ = std::fs::remove_file(self.run_lock_path(id));
            drop(lock);
        }
        Ok(w)
    }

    /// Takes the run lock of a watch: `None` when another runner (this process or another)
    /// holds it.
    pub fn try_run_lock(&self, id: &str) -> Result<Option<RunLock>, WatchError> {
        use std::io::Write;
        let path = self.run_lock_path(id);
        let io = |e| WatchError::Io { path: path.clone(), source: e };
        let mut file = open_private(&path).map_err(io)?;
        if !fs4::fs_std::FileExt::try_lock_exclusive(&file).map_err(io)? {
            return Ok(None);
        }
        // Who holds it, for the message another runner prints.
        file.set_len(0).and_then(|()| write!(file, "{}", std::process::id())).map_err(io)?;
        Ok(Some(RunLock { _file: file }))
    }

    /// Is the watch running now (in this process or another)? Changes nothing.
    pub fn is_running(&self, id: &str) -> bool {
        let Ok(file) = std::fs::File::open(self.run_lock_path(id)) else { return false };
        !fs4::fs_std::FileExt::try_lock_shared(&file).unwrap_or(true)
    }

    /// The process id written by the holder of a watch's run lock (when it is held).
    pub fn run_lock_holder(&self, id: &str) -> Option<u32> {
        std::fs::read_to_string(self.run_lock_path(id)).ok()?.trim().parse().ok()
    }

    /// Pauses or resumes a watch (a running watcher sees it on its next tick).
    pub fn set_paused(&self, id: &str, paused: bool) -> Result<(), WatchError> {
        self.with_watch(id, |w| w.paused = paused)
    }

    /// Records that `done` files (or links) were finished just now.
    pub fn record_activity(&self, id: &str, done: u64) -> Result<(), WatchError> {
        self.with_watch(id, |w| {
            w.last_activity = Some(now_secs());
            w.done += done;
        })
    }

    /// Records an error (the last few are kept).
    pub fn record_error(&self, id: &str, message: &str) -> Result<(), WatchError> {
        self.with_watch(id, |w| {
            w.errors.push(WatchErrorEntry { at: now_secs(), message: message.to_string() });
            let extra = w.errors.len().saturating_sub(KEEP_ERRORS);
            w.errors.drain(..extra);
        })
    }

    /// Forgets the recorded errors.
    pub fn clear_errors(&self, id: &str) -> Result<(), WatchError> {
        self.with_watch(id, |w| w.errors.clear())
    }
}

/// A watch's run lock: held while it runs, released when dropped (or when the process ends,
/// however it ends).
#[derive(Debug)]
pub struct RunLock {
    _file: std::fs::File,
}

/// Opens (creating, 0600) a lock file without truncating it.
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
}

fn watched_path(k: &WatchKind) -> &Path {
    match k {
        WatchKind::Upload { local, .. } => local,
        WatchKind::Links { source, .. } => source,
    }
}
