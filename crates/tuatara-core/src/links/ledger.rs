//! The links ledger (`links-ledger.json` in the data dir, 0600): which links were downloaded and
//! which failed, by link id ([`mega_transfer::watch::link_id`]: kind and public handles, never
//! a key), so that the CLI's `links get` and the app skip what is done. One file for both faces;
//! every change is made under a lock (`links-ledger.lock`) on the file as it is then, so two
//! processes recording at once lose nothing. A download's outcome is appended to a log beside
//! it (`links-ledger.log`, one JSON line each, synced) instead of rewriting the whole file, so
//! recording stays cheap at 100,000 links; the log is folded into the file once it holds
//! [`FOLD_AT`] lines, and whenever the file is written anyway (a ledger of fewer than
//! [`LOG_FROM`] links is written whole each time). Re-checks (`links check --ledger`) add to a
//! link's line when it was last checked and what was found, with a short history
//! ([`super::rot::LinkHealth`]); files without it (older versions) load as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mega_api::Link;
use serde::{Deserialize, Serialize};

use super::rot::LinkHealth;
use crate::error::{Error, Result};
use crate::files::{read_json, write_json};

/// How a link's download ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LedgerStatus {
    /// Downloaded and verified (or identical files were there).
    Done,
    /// Failed.
    Failed,
}

/// One link's line in the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerEntry {
    /// How it ended.
    pub status: LedgerStatus,
    /// The file's or folder's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One line of the file: the entry, and what the last re-checks found (absent in files of
/// older versions).
#[derive(Deserialize)]
struct Line {
    #[serde(flatten)]
    entry: LedgerEntry,
    #[serde(default)]
    checked: Option<LinkHealth>,
}

/// A line as written.
#[derive(Serialize)]
struct LineOut<'a> {
    #[serde(flatten)]
    entry: &'a LedgerEntry,
    #[serde(skip_serializing_if = "Option::is_none")]
    checked: Option<&'a LinkHealth>,
}

/// Log lines from which the log is folded into the file.
pub const FOLD_AT: usize = 500;

/// Ledgers of fewer links are written whole at every record (it costs little), without a log.
pub const LOG_FROM: usize = 2000;

/// One line of the log: a link's outcome.
#[derive(Serialize, Deserialize)]
struct Logged<E> {
    id: String,
    entry: E,
}

/// Which file a ledger was read from, and how much of its log: when the file is not that one
/// any more (another process rewrote it), everything is read again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Read {
    file: Option<(u64, std::time::SystemTime)>,
    log_bytes: u64,
    log_lines: usize,
}

/// What the file holds, by link id.
#[derive(Debug, Clone, Default)]
pub(super) struct Lines {
    /// How each link's download ended.
    pub(super) entries: BTreeMap<String, LedgerEntry>,
    /// What re-checks found.
    pub(super) checks: BTreeMap<String, LinkHealth>,
}

/// The ledger, as read from its file.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    lines: Lines,
    read: Read,
}

impl Ledger {
    /// Reads the ledger at `path` (none yet: an empty one). Entries written by older versions
    /// (`folder:H:SUB`) are taken under today's ids (`folder:H/SUB`). A file that does not parse
    /// is [`Error::Damaged`], naming it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let mut ledger = Ledger { path, lines: Lines::default(), read: Read::default() };
        ledger.reload()?;
        Ok(ledger)
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the ledger says of a link.
    pub fn entry(&self, link: &Link) -> Option<&LedgerEntry> {
        self.lines.entries.get(&mega_transfer::watch::link_id(link))
    }

    /// The link's entry if it is done.
    pub fn done(&self, link: &Link) -> Option<&LedgerEntry> {
        self.done_by_id(&mega_transfer::watch::link_id(link))
    }

    /// The entry of a link id if it is done.
    pub fn done_by_id(&self, id: &str) -> Option<&LedgerEntry> {
        self.lines.entries.get(id).filter(|e| e.status == LedgerStatus::Done)
    }

    /// Every entry, by link id.
    pub fn entries(&self) -> &BTreeMap<String, LedgerEntry> {
        &self.lines.entries
    }

    /// What the re-checks of a link id found, when it was re-checked.
    pub fn health(&self, id: &str) -> Option<&LinkHealth> {
        self.lines.checks.get(id)
    }

    /// Records how a link ended: one line appended to the log (0600, synced), the ledger
    /// brought up to date first with what another process may have recorded since it was read.
    pub fn record(&mut self, link: &Link, entry: LedgerEntry) -> Result<()> {
        let id = mega_transfer::watch::link_id(link);
        let lock = self.lock()?;
        let logged = self.catch_up().and_then(|()| {
            if self.lines.entries.len() < LOG_FROM || self.read.log_lines + 1 >= FOLD_AT {
                self.lines.entries.insert(id, entry);
                return self.write();
            }
            let mut line = serde_json::to_vec(&Logged { id: id.clone(), entry: &entry })
                .map_err(|e| Error::Internal(e.to_string()))?;
            line.push(b'\n');
            let log = self.log_path();
            let mut f = append_private(&log).map_err(|e| Error::io(&log, e))?;
            // A line cut short by a crash is cut off, so that this one starts a line.
            let len = f.metadata().map_err(|e| Error::io(&log, e))?.len();
            if len > self.read.log_bytes {
                f.set_len(self.read.log_bytes).map_err(|e| Error::io(&log, e))?;
            }
            std::io::Write::write_all(&mut f, &line).and_then(|()| f.sync_data()).map_err(|e| Error::io(&log, e))?;
            self.read.log_bytes += line.len() as u64;
            self.read.log_lines += 1;
            self.lines.entries.insert(id, entry);
            Ok(())
        });
        drop(lock);
        logged
    }

    /// Forgets links (their outcome and their re-checks) by id, as the file is now; a later
    /// `links get` downloads them again. Returns how many it knew.
    pub fn forget(&mut self, ids: &[String]) -> Result<usize> {
        let mut known = 0;
        self.update(|lines| {
            for id in ids {
                let had = lines.entries.remove(id).is_some();
                let checked = lines.checks.remove(id).is_some();
                known += usize::from(had || checked);
            }
        })?;
        Ok(known)
    }

    /// When the link least recently re-checked was (Unix seconds; `Some(0)` when one never was),
    /// `None` for an empty ledger: what a periodic re-check waits on.
    pub fn oldest_check(&self) -> Option<u64> {
        self.lines.entries.keys().map(|id| self.lines.checks.get(id).map_or(0, |h| h.at)).min()
    }

    /// Changes the ledger as it is in its file now, under the lock, and writes it once
    /// (atomically, 0600): many links are recorded at the cost of one.
    pub(super) fn update(&mut self, change: impl FnOnce(&mut Lines)) -> Result<()> {
        let lock = self.lock()?;
        let written = self.catch_up().and_then(|()| {
            change(&mut self.lines);
            self.write()
        });
        drop(lock);
        written
    }

    /// The log beside the file.
    fn log_path(&self) -> PathBuf {
        self.path.with_extension("log")
    }

    /// Writes the file with everything (the log folded in), then empties the log. Under the
    /// lock. A crash between the two leaves lines in the log that the file has: read again,
    /// they change nothing.
    fn write(&mut self) -> Result<()> {
        write_json(&self.path, &out(&self.lines))?;
        let log = self.log_path();
        crate::files::remove_if_exists(&log).map_err(|e| Error::io(&log, e))?;
        self.read = Read { file: stamp(&self.path)?, log_bytes: 0, log_lines: 0 };
        Ok(())
    }

    /// Under the lock: what was recorded since the ledger was read, read (the log's new lines,
    /// or everything when the file was rewritten).
    fn catch_up(&mut self) -> Result<()> {
        let log = self.log_path();
        let log_len = std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0);
        if stamp(&self.path)? != self.read.file || log_len < self.read.log_bytes {
            return self.reload();
        }
        if log_len > self.read.log_bytes {
            self.replay(self.read.log_bytes)?;
        }
        Ok(())
    }

    /// Everything read again: the file, then its log.
    fn reload(&mut self) -> Result<()> {
        let file = stamp(&self.path)?;
        self.lines = load(&self.path)?;
        self.read = Read { file, log_bytes: 0, log_lines: 0 };
        self.replay(0)
    }

    /// The log's lines from byte `from` applied. A last line cut short (a crash while it was
    /// written) is left out.
    fn replay(&mut self, from: u64) -> Result<()> {
        let log = self.log_path();
        let body = match std::fs::read(&log) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io(&log, e)),
        };
        let start = (from as usize).min(body.len());
        let mut at = start;
        for line in body[start..].split_inclusive(|b| *b == b'\n') {
            let whole = line.ends_with(b"\n");
            let Some(Logged { id, entry }) = serde_json::from_slice::<Logged<LedgerEntry>>(line).ok().filter(|_| whole)
            else {
                break;
            };
            self.lines.entries.insert(migrate_id(id), entry);
            at += line.len();
            self.read.log_lines += 1;
        }
        self.read.log_bytes = at as u64;
        Ok(())
    }

    /// The lock every change is made under.
    fn lock(&self) -> Result<LockGuard> {
        let lock_path = self.path.with_extension("lock");
        if let Some(dir) = lock_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, e))?;
        fs4::fs_std::FileExt::lock_exclusive(&lock).map_err(|e| Error::io(&lock_path, e))?;
        Ok(LockGuard(lock))
    }
}

/// The ledger's lock, held until dropped.
struct LockGuard(std::fs::File);

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = fs4::fs_std::FileExt::unlock(&self.0);
    }
}

/// A file opened to append to, made readable by its owner only.
fn append_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// The file's size and time of change (none: no file yet).
fn stamp(path: &Path) -> Result<Option<(u64, std::time::SystemTime)>> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some((m.len(), m.modified().map_err(|e| Error::io(path, e))?))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// The file's lines under today's ids.
fn load(path: &Path) -> Result<Lines> {
    let read: BTreeMap<String, Line> = read_json(path)?.unwrap_or_default();
    let mut lines = Lines::default();
    for (id, line) in read {
        let id = migrate_id(id);
        // An old and a new line for one link: a done one wins.
        match lines.entries.get(&id) {
            Some(LedgerEntry { status: LedgerStatus::Done, .. }) => {}
            _ => {
                if let Some(c) = line.checked {
                    lines.checks.insert(id.clone(), c);
                }
                lines.entries.insert(id, line.entry);
            }
        }
    }
    Ok(lines)
}

/// The lines as written: each entry with its checks.
fn out(lines: &Lines) -> BTreeMap<&str, LineOut<'_>> {
    lines.entries.iter().map(|(id, entry)| (id.as_str(), LineOut { entry, checked: lines.checks.get(id) })).collect()
}

/// `folder:H:SUB` (the CLI's key before the ids were one) as `folder:H/SUB`. Handles are
/// base64url, which has neither `:` nor `/`.
fn migrate_id(id: String) -> String {
    match id.split_once(':') {
        Some((kind, rest)) if rest.contains(':') => format!("{kind}:{}", rest.replacen(':', "/", 1)),
        _ => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_ids_are_read_as_new_ones() {
        assert_eq!(migrate_id("folder:AAAAAAAA:BBBBBBBB".into()), "folder:AAAAAAAA/BBBBBBBB");
        assert_eq!(migrate_id("folder:AAAAAAAA/BBBBBBBB".into()), "folder:AAAAAAAA/BBBBBBBB");
        assert_eq!(migrate_id("file:AAAAAAAA".into()), "file:AAAAAAAA");
    }

    #[test]
    fn a_damaged_ledger_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("links-ledger.json");
        std::fs::write(&p, b"{\"file:x\": 3").unwrap();
        let e = Ledger::open(&p).unwrap_err();
        assert!(matches!(e, Error::Damaged { .. }) && e.to_string().contains("links-ledger.json"), "{e}");
    }
}
