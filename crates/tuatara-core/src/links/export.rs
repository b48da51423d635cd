//! Exporting a folder as a links file: every file below it given a public link (or the folder
//! as one folder link), with each file's metadata ([`FileMeta`]), the keys in the links, kept
//! apart in a [`KeyFile`], or sealed in `#P!` links with a password.

use std::path::Path;

use futures_util::{stream, StreamExt};
use mega_api::{Link, NodeHandle, Session, Tree};
use zeroize::Zeroizing;

use super::formats::{self, FileMeta, ListEntry, ListFormat};
use super::keys::KeyFile;
use crate::path_of;

/// One exported file: its path in the drive and its link (with its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file's path.
    pub path: String,
    /// Its public link.
    pub link: String,
}

/// An export that stopped part-way: which file, after how many of how many.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {done} of {total} files were exported before this failed: {source}")]
pub struct ExportHalted {
    /// Why.
    #[source]
    pub source: mega_api::Error,
    /// The file it stopped at.
    pub path: String,
    /// Files exported before.
    pub done: usize,
    /// Files in all.
    pub total: usize,
}

/// Where the links' keys go.
#[derive(Clone, Default)]
pub enum Keys {
    /// In the links, as MEGA writes them.
    #[default]
    InLinks,
    /// Apart: the links without their keys, the keys in a [`KeyFile`].
    Apart,
    /// Sealed with this password: every link a `#P!` link.
    Password(Zeroizing<String>),
}

impl Keys {
    /// The keys as asked: apart (a key file named), sealed with a password (an empty one is
    /// none), or in the links. Apart and a password together are [`crate::Error::Invalid`]: a `#P!`
    /// link has no key to set apart.
    pub fn choose(apart: bool, password: Option<String>) -> crate::Result<Keys> {
        match (apart, password.filter(|p| !p.is_empty())) {
            (true, Some(_)) => Err(crate::Error::Invalid("keys apart or a password: one or the other".into())),
            (true, None) => Ok(Keys::Apart),
            (false, Some(p)) => Ok(Keys::Password(Zeroizing::new(p))),
            (false, None) => Ok(Keys::InLinks),
        }
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Keys::InLinks => "InLinks",
            Keys::Apart => "Apart",
            Keys::Password(_) => "Password(<redacted>)",
        })
    }
}

impl Keys {
    /// The link as the list has it; `None` for a `#P!` link, sealed later.
    fn written(&self, link: &Link) -> Option<String> {
        match self {
            Keys::InLinks => Some(link.to_url()),
            Keys::Apart => Some(link.url_without_key()),
            Keys::Password(_) => None,
        }
    }
}

/// How to export a folder.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Where the keys go.
    pub keys: Keys,
    /// The folder as one folder link instead of a link per file.
    pub as_folder: bool,
}

/// An exported folder: its links file's rows and, with [`Keys::Apart`], their keys.
#[derive(Debug, Clone)]
pub struct ExportList {
    /// One row a file (or one for the folder), in path order.
    pub entries: Vec<ListEntry>,
    /// The keys, when written apart.
    pub keys: Option<KeyFile>,
}

impl ExportList {
    /// The links file in `format`.
    pub fn render(&self, format: ListFormat) -> crate::Result<String> {
        formats::render(format, &self.entries)
    }

    /// Writes the links file (and the key file, when the keys are apart and `key_file` is
    /// given), each readable by its owner only and atomically; the key file first, so that a
    /// keyless list is never left without its keys.
    pub fn save(&self, format: ListFormat, list: &Path, key_file: Option<&Path>) -> crate::Result<()> {
        if let (Some(keys), Some(path)) = (&self.keys, key_file) {
            keys.save(path)?;
        }
        let body = self.render(format)?;
        crate::files::write_atomic(list, body.as_bytes()).map_err(|e| crate::Error::io(list, e))
    }
}

/// Gives every file below `folder` a public link, in path order; `each` sees them as they
/// come, with how many there are in all (a face shows them at once). Files that have a link
/// keep it.
pub async fn export_files(
    session: &Session,
    tree: &mut Tree,
    folder: NodeHandle,
    mut each: impl FnMut(&Exported, usize),
) -> Result<Vec<Exported>, ExportHalted> {
    let done = export_nodes(session, tree, files_below(tree, folder), |meta, link, total| {
        each(&Exported { path: meta.path.clone(), link: link.to_url() }, total)
    })
    .await?;
    Ok(done.into_iter().map(|(meta, link)| Exported { path: meta.path, link: link.to_url() }).collect())
}

/// Exports `folder` as a links file's rows: a link per file below it in path order (or, with
/// `as_folder`, the folder's own link), each with its file's metadata, the keys where
/// `opts.keys` puts them. `each` sees each row as it is final, with how many there are in all.
/// `#P!` links are sealed on every core at once (a PBKDF2 each).
pub async fn export_list(
    session: &Session,
    tree: &mut Tree,
    folder: NodeHandle,
    opts: &ExportOptions,
    mut each: impl FnMut(&ListEntry, usize),
) -> Result<ExportList, ExportHalted> {
    let nodes = if opts.as_folder { vec![(path_of(tree, folder), folder)] } else { files_below(tree, folder) };
    let done = export_nodes(session, tree, nodes, |meta, link, total| {
        if let Some(link) = opts.keys.written(link) {
            each(&ListEntry { meta: meta.clone(), link }, total);
        }
    })
    .await?;
    let total = done.len();
    if let Keys::Password(password) = &opts.keys {
        let entries = seal(done, password, |e| each(e, total)).await?;
        return Ok(ExportList { entries, keys: None });
    }
    let mut keys = matches!(opts.keys, Keys::Apart).then(KeyFile::new);
    let mut entries = Vec::with_capacity(total);
    for (meta, link) in done {
        keys.iter_mut().for_each(|k| k.add(&link));
        entries.push(ListEntry { meta, link: opts.keys.written(&link).unwrap_or_default() });
    }
    Ok(ExportList { entries, keys })
}

/// Every link as a `#P!` link, sealed [`mega_api::protect_link`] at a time on each core, in order.
async fn seal(
    done: Vec<(FileMeta, Link)>,
    password: &str,
    mut each: impl FnMut(&ListEntry),
) -> Result<Vec<ListEntry>, ExportHalted> {
    let total = done.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut sealed = stream::iter(done)
        .map(|(meta, link)| async move { (mega_api::protect_link(&link, password).await, meta) })
        .buffered(cores);
    let mut out = Vec::with_capacity(total);
    while let Some((r, meta)) = sealed.next().await {
        match r {
            Ok(link) => {
                let e = ListEntry { meta, link };
                each(&e);
                out.push(e);
            }
            Err(source) => return Err(ExportHalted { source, path: meta.path, done: out.len(), total }),
        }
    }
    Ok(out)
}

/// The files below `folder`, in path order.
fn files_below(tree: &Tree, folder: NodeHandle) -> Vec<(String, NodeHandle)> {
    let mut files: Vec<(String, NodeHandle)> = tree
        .subtree(folder)
        .into_iter()
        .filter(|h| tree.get(*h).is_some_and(|n| n.is_file()))
        .map(|h| (path_of(tree, h), h))
        .collect();
    files.sort();
    files
}

/// What a links file says of a node: a file's size, fingerprint and mtime; a folder's size
/// is every file's below it.
fn meta_of(tree: &Tree, path: String, h: NodeHandle) -> FileMeta {
    let Some(n) = tree.get(h) else { return FileMeta { path, ..FileMeta::default() } };
    if n.is_file() {
        let fingerprint = n.attribute("c").and_then(|c| c.as_str().map(str::to_string));
        FileMeta { path, size: n.size(), fingerprint, mtime: n.mtime() }
    } else {
        let size = tree.subtree(h).iter().filter_map(|h| tree.get(*h)).filter(|n| n.is_file()).map(|n| n.size()).sum();
        FileMeta { path, size, fingerprint: None, mtime: None }
    }
}

/// Exports the nodes one after the other; `each` sees each as it is exported.
async fn export_nodes(
    session: &Session,
    tree: &mut Tree,
    nodes: Vec<(String, NodeHandle)>,
    mut each: impl FnMut(&FileMeta, &Link, usize),
) -> Result<Vec<(FileMeta, Link)>, ExportHalted> {
    let total = nodes.len();
    let mut done = Vec::with_capacity(total);
    for (path, h) in nodes {
        match session.export(tree, h).await {
            Ok(link) => {
                let meta = meta_of(tree, path, h);
                each(&meta, &link, total);
                done.push((meta, link));
            }
            Err(source) => return Err(ExportHalted { source, path, done: done.len(), total }),
        }
    }
    Ok(done)
}
