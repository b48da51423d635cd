//! The links ledger (`links-ledger.json` in the data dir, 0600): which links were downloaded and
//! which failed, by link id ([`mega_transfer::watch::link_id`]: kind and public handles, never
//! a key), so that the CLI's `links get` and the app skip what is done. One file for both faces;
//! every change is made under a lock (`links-ledger.lock`) on the file as it is then, so two
//! processes recording at once lose nothing. Re-checks (`links check --ledger`) add to a
//! link's line when it was last checked and what was found, with a short history
//! ([`super::rot::LinkHealth`]); files without it (older versions) load as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mega_api::Link;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use super::rot::LinkHealth;
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
}

impl Ledger {
    /// Reads the ledger at `path` (none yet: an empty one). Entries written by older versions
    /// (`folder:H:SUB`) are taken under today's ids (`folder:H/SUB`). A file that does not parse
    /// is [`Error::Damaged`], naming it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let lines = load(&path)?;
        Ok(Ledger { path, lines })
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

    /// Records how a link ended and writes the ledger (atomically, 0600), merged with what
    /// another process may have recorded since it was read.
    pub fn record(&mut self, link: &Link, entry: LedgerEntry) -> Result<()> {
        let id = mega_transfer::watch::link_id(link);
        self.update(move |lines| {
            lines.entries.insert(id, entry);
        })
    }

    /// Changes the ledger as it is in its file now, under the lock, and writes it once
    /// (atomically, 0600): many links are recorded at the cost of one.
    pub(super) fn update(&mut self, change: impl FnOnce(&mut Lines)) -> Result<()> {
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
        let written = load(&self.path).and_then(|mut now| {
            change(&mut now);
            write_json(&self.path, &out(&now))?;
            Ok(now)
        });
        let _ = fs4::fs_std::FileExt::unlock(&lock);
        self.lines = written?;
        Ok(())
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
