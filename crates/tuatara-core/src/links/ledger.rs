//! The links ledger (`links-ledger.json` in the data dir, 0600): which links were downloaded and
//! which failed, by link id ([`mega_transfer::watch::link_id`]: kind and public handles, never
//! a key), so that the CLI's `links get` and the app skip what is done. One file for both faces;
//! every change is made under a lock (`links-ledger.lock`) on the file as it is then, so two
//! processes recording at once lose nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mega_api::Link;
use serde::{Deserialize, Serialize};

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

/// The ledger, as read from its file.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    entries: BTreeMap<String, LedgerEntry>,
}

impl Ledger {
    /// Reads the ledger at `path` (none yet: an empty one). Entries written by older versions
    /// (`folder:H:SUB`) are taken under today's ids (`folder:H/SUB`). A file that does not parse
    /// is [`Error::Damaged`], naming it.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let entries = load(&path)?;
        Ok(Ledger { path, entries })
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the ledger says of a link.
    pub fn entry(&self, link: &Link) -> Option<&LedgerEntry> {
        self.entries.get(&mega_transfer::watch::link_id(link))
    }

    /// The link's entry if it is done.
    pub fn done(&self, link: &Link) -> Option<&LedgerEntry> {
        self.done_by_id(&mega_transfer::watch::link_id(link))
    }

    /// The entry of a link id if it is done.
    pub fn done_by_id(&self, id: &str) -> Option<&LedgerEntry> {
        self.entries.get(id).filter(|e| e.status == LedgerStatus::Done)
    }

    /// Every entry, by link id.
    pub fn entries(&self) -> &BTreeMap<String, LedgerEntry> {
        &self.entries
    }

    /// Records how a link ended and writes the ledger (atomically, 0600), merged with what
    /// another process may have recorded since it was read.
    pub fn record(&mut self, link: &Link, entry: LedgerEntry) -> Result<()> {
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
        let mut now = load(&self.path)?;
        now.insert(mega_transfer::watch::link_id(link), entry);
        let written = write_json(&self.path, &now);
        let _ = fs4::fs_std::FileExt::unlock(&lock);
        written?;
        self.entries = now;
        Ok(())
    }
}

/// The file's entries under today's ids.
fn load(path: &Path) -> Result<BTreeMap<String, LedgerEntry>> {
    let read: BTreeMap<String, LedgerEntry> = read_json(path)?.unwrap_or_default();
    let mut entries = BTreeMap::new();
    for (id, entry) in read {
        let id = migrate_id(id);
        // An old and a new line for one link: a done one wins.
        match entries.get(&id) {
            Some(LedgerEntry { status: LedgerStatus::Done, .. }) => {}
            _ => {
                entries.insert(id, entry);
            }
        }
    }
    Ok(entries)
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
