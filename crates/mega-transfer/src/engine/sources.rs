//! Where jobs come from: the account's nodes (a file or a folder, recursively), public file
//! and folder links, and local files and folders to upload. Each file becomes one journaled job.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mega_api::{ErrorKind, FileKey, Link, LinkKind, NodeHandle, NodeKey, Session, Tree};
use mega_proto::b64;
use mega_proto::fingerprint::Fingerprint;

use super::{new_id, Conflict, Engine, Outcome, TransferError};
use crate::events::{Direction, Event, JobId};
use crate::journal::{JobRecord, JobSpec, Source};
use crate::{download, names, upload};

impl Engine {
    pub(crate) fn session(&self) -> Result<&Session, TransferError> {
        self.inner.session.as_ref().ok_or_else(|| TransferError::NotSignedIn)
    }

    pub(crate) fn tree(&self) -> Result<&Arc<tokio::sync::Mutex<Tree>>, TransferError> {
        self.inner.tree.as_ref().ok_or_else(|| TransferError::NotSignedIn)
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

    /// Queues every file below `h`. A file that cannot be queued (no key this account holds
    /// opens it, its folder cannot be made) becomes a failed job that names it, and the walk
    /// goes on: one bad node never stops a folder, and what was queued before it still runs.
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
        let shown = || tree.path(h).unwrap_or_else(|| h.to_string());
        if node.is_file() {
            let Some(key) = node.file_key() else {
                let shown = shown();
                let message = format!(
                    "{shown}: cannot be decrypted (no key this account holds opens it); nothing was written for it"
                );
                self.refused(ids, &shown, node.size(), ErrorKind::Crypto, message);
                return Ok(());
            };
            let meta =
                FileMeta { size: node.size(), name: node.name(), mtime: node.mtime(), fingerprint: node.fingerprint() };
            match self.add_download(source(h), &key, meta, dest_dir, conflict) {
                Ok(id) => ids.extend(id),
                Err(e) => {
                    let shown = shown();
                    self.refused(ids, &shown, node.size(), e.kind(), format!("{shown}: {e}"));
                }
            }
            return Ok(());
        }
        let dir = if node.kind().is_root() {
            dest_dir.to_path_buf()
        } else if node.is_decrypted() {
            names::join_inside(dest_dir, &[node.name()])
        } else {
            // A folder whose name nobody can read still keeps its files apart from its siblings'.
            names::join_inside(dest_dir, &[&format!("undecryptable-{h}")])
        };
        if let Err(e) = std::fs::create_dir_all(&dir) {
            let (e, shown) = (TransferError::local(&dir)(e), shown());
            self.refused(ids, &shown, 0, e.kind(), format!("{shown}: {e}; nothing below it was queued"));
            return Ok(());
        }
        let kids: Vec<NodeHandle> = tree.children(h).map(|n| n.handle()).collect();
        for k in kids {
            self.download_from_tree(tree, k, &dir, conflict, source, ids)?;
        }
        Ok(())
    }

    /// A download that failed before it could be queued, reported as a job of its own.
    fn refused(&self, ids: &mut Vec<JobId>, name: &str, size: u64, kind: ErrorKind, message: String) {
        let id = new_id();
        let outcome = Outcome::Failed { kind, message: message.clone() };
        self.finished_now(id.clone(), Direction::Download, name, size, outcome);
        tracing::warn!(%message, "a download was not queued");
        self.inner.emit(Event::Failed { id: id.clone(), kind, message });
        ids.push(id);
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
        // Anything at the path counts (a dangling symbolic link too); a folder is never replaced.
        let there = std::fs::symlink_metadata(&wanted).ok().map(|m| m.is_dir());
        // An identical file there counts as done; unless the file is to be replaced, so does one
        // at a numbered name that an earlier run took (beside a folder or another file).
        let candidates: Vec<PathBuf> = match (there, conflict) {
            (None, _) => Vec::new(),
            (Some(false), Conflict::Overwrite) => vec![wanted.clone()],
            (Some(_), _) => names::numbered(&wanted).take_while(|p| p.symlink_metadata().is_ok()).collect(),
        };
        for p in candidates.iter().filter(|p| !claimed.contains(*p)) {
            if download::is_identical(p, size, fingerprint.as_ref())? {
                drop(claimed);
                self.inner.emit(Event::Skipped { id: id.clone(), reason: format!("{} is already there", p.display()) });
                self.finished_now(id.clone(), Direction::Download, name, size, Outcome::Skipped);
                return Ok(Some(id));
            }
        }
        let path = if claimed.contains(&wanted) {
            // Another running job writes there (MEGA allows duplicate names, and safe names can
            // coincide): this one gets a name of its own.
            names::unique_among(&wanted, &claimed)
        } else {
            match (there, conflict) {
                (None, _) | (Some(false), Conflict::Overwrite) => wanted,
                (Some(true), _) | (Some(false), Conflict::Rename) => names::unique_among(&wanted, &claimed),
            }
        };
        claimed.insert(path.clone());
        drop(claimed);
        let rec = JobRecord {
            id: id.clone(),
            spec: JobSpec::Download {
                source,
                key: b64::encode(&key.to_node_key()),
                size,
                path,
                mtime,
                overwrite: conflict == Conflict::Overwrite,
            },
            priority: self.next_priority(),
            paused: false,
        };
        self.start(rec, true);
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
        self.start(rec, true);
        ids.push(id);
        Ok(ids)
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
        _ => Err(TransferError::JournalDamaged("its file key".into())),
    }
}
