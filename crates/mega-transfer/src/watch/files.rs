//! What an upload watch knows to be on the server: each local file (by its path relative to the
//! watched folder) with the node it is there as. Kept in `<id>.files.json` beside the store, so
//! that a start-up scan can tell a file deleted while nothing ran (in this list, gone locally)
//! from one that was never uploaded, and move exactly that node to the rubbish bin when the
//! watch propagates deletions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mega_api::NodeHandle;
use serde::{Deserialize, Serialize};

use super::store::{read_json, write_json};
use super::{WatchError, WatchStore};

/// One file known to be on the server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Backed {
    /// The node (b64 handle).
    node: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FilesFile {
    #[serde(default)]
    files: BTreeMap<String, Backed>,
}

/// The list, in memory, written back when changed.
#[derive(Debug)]
pub(crate) struct Files {
    path: PathBuf,
    files: BTreeMap<String, Backed>,
    dirty: bool,
}

fn key(rel: &Path) -> String {
    rel.to_string_lossy().into_owned()
}

impl Files {
    /// The list of watch `id` (empty when there is none yet).
    pub(crate) fn load(store: &WatchStore, id: &str) -> Result<Self, WatchError> {
        let path = store.files_path(id);
        let files = read_json::<FilesFile>(&path)?.files;
        Ok(Files { path, files, dirty: false })
    }

    /// Notes that `rel` is on the server as `node`.
    pub(crate) fn insert(&mut self, rel: &Path, node: NodeHandle) {
        let b = Backed { node: node.to_b64() };
        if self.files.get(&key(rel)) != Some(&b) {
            self.files.insert(key(rel), b);
            self.dirty = true;
        }
    }

    /// Forgets `rel` and everything below it; returns the nodes they were.
    pub(crate) fn remove_below(&mut self, rel: &Path) -> Vec<NodeHandle> {
        let gone: Vec<String> = self.files.keys().filter(|k| Path::new(k.as_str()).starts_with(rel)).cloned().collect();
        gone.into_iter().filter_map(|k| self.take(&k)).collect()
    }

    fn take(&mut self, k: &str) -> Option<NodeHandle> {
        let b = self.files.remove(k)?;
        self.dirty = true;
        NodeHandle::from_b64(&b.node).ok()
    }

    /// The files of the list that are no longer under `root` (checked on disk), forgotten;
    /// returns their relative paths and nodes.
    pub(crate) fn take_missing(&mut self, root: &Path) -> Vec<(PathBuf, Option<NodeHandle>)> {
        let missing: Vec<String> = self
            .files
            .keys()
            .filter(|k| {
                matches!(std::fs::symlink_metadata(root.join(k.as_str())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound)
            })
            .cloned()
            .collect();
        missing.into_iter().map(|k| (PathBuf::from(&k), self.take(&k))).collect()
    }

    /// Writes the list if it changed.
    pub(crate) fn save(&mut self) -> Result<(), WatchError> {
        if self.dirty {
            write_json(&self.path, &FilesFile { files: self.files.clone() })?;
            self.dirty = false;
        }
        Ok(())
    }
}
