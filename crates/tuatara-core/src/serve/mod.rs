//! Streaming for the faces: what to read ([`Target`]: a file or a folder of the own drive, an
//! incoming share, a file link or a folder link), `cat` of any byte range to a writer
//! ([`cat`]), and a local HTTP server that players and browsers read from ([`Server`], in
//! [`http`]), and for a face that outlives its sessions one server bound once that streams
//! the files it is asked URLs for while a session is open ([`Streams`], in [`streams`]). The
//! reading itself is `mega-transfer`'s [`StreamFile`]: pieces of whole chunks
//! fetched, decrypted from the right counter, read ahead and cached, checked by the meta-MAC
//! once every byte was read.

pub mod http;
pub mod streams;

use std::sync::Arc;

use mega_api::{Client, FileKey, Link, NodeHandle, Tree};
use mega_transfer::journal::Source;
use mega_transfer::{Engine, Integrity, StreamFile};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};
use crate::links::Opened;

pub use http::{ServeOptions, Server};
pub use streams::{StreamUrl, Streams};

/// One remote file that can be streamed.
#[derive(Clone)]
pub struct FileTarget {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// The handle it is known by (node, or a file link's public handle): with the size, its
    /// HTTP entity tag.
    pub handle: NodeHandle,
    source: Source,
    key: FileKey,
}

impl std::fmt::Debug for FileTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileTarget").field("name", &self.name).field("size", &self.size).finish_non_exhaustive()
    }
}

impl FileTarget {
    /// File `h` of the account's own tree (the drive, the rubbish bin, an incoming share), or
    /// why it cannot be streamed (a folder, no key). Reads the tree without keeping it.
    pub fn own(tree: &Tree, h: NodeHandle) -> Result<FileTarget> {
        file_in(tree, h, None)
    }

    /// The file opened for streaming on `engine` (which must hold the session for the own
    /// drive's files).
    pub fn open(&self, engine: &Engine) -> StreamFile {
        engine.open_stream(self.source.clone(), &self.key, self.size)
    }
}

/// A folder of a tree, whose files are streamed from one source.
#[derive(Clone)]
pub struct FolderTarget {
    /// The tree (a snapshot).
    pub tree: Arc<Tree>,
    /// The folder served.
    pub node: NodeHandle,
    /// The folder link the tree came from (its URL with the key), or `None` for the own drive.
    link: Option<String>,
}

impl std::fmt::Debug for FolderTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderTarget").field("node", &self.node).finish_non_exhaustive()
    }
}

impl FolderTarget {
    /// File `h` of the tree, or why it cannot be streamed.
    pub fn file(&self, h: NodeHandle) -> Result<FileTarget> {
        file_in(&self.tree, h, self.link.as_deref())
    }
}

/// What is streamed or served.
#[derive(Debug, Clone)]
pub enum Target {
    /// One file.
    File(FileTarget),
    /// A folder, served as an index.
    Folder(FolderTarget),
}

fn file_in(tree: &Tree, h: NodeHandle, link: Option<&str>) -> Result<FileTarget> {
    let node = tree.node(h)?;
    let shown = || crate::path_of(tree, h);
    if !node.is_file() {
        return Err(Error::Invalid(format!("{} is a folder, not a file", shown())));
    }
    let key = node.file_key().ok_or_else(|| {
        Error::Invalid(format!("{}: cannot be decrypted (no key this account holds opens it)", shown()))
    })?;
    let source = match link {
        Some(link) => Source::InFolderLink { link: link.to_string(), node: h.to_b64() },
        None => Source::Own { node: h.to_b64() },
    };
    Ok(FileTarget { name: node.name().to_string(), size: node.size(), handle: h, source, key })
}

impl Target {
    fn in_tree(tree: Tree, node: NodeHandle, link: Option<String>) -> Result<Target> {
        if tree.node(node)?.is_file() {
            return file_in(&tree, node, link.as_deref()).map(Target::File);
        }
        Ok(Target::Folder(FolderTarget { tree: Arc::new(tree), node, link }))
    }

    /// A node of the account's own tree (the drive, the rubbish bin, an incoming share): a
    /// file, or a folder.
    pub fn own(tree: Tree, node: NodeHandle) -> Result<Target> {
        Self::in_tree(tree, node, None)
    }

    /// What a link names: a file link's file, or a folder link's folder (or the node of a
    /// `/folder/X/file/Y` link). Opens it (a file link's metadata, a folder link's tree).
    pub async fn link(client: &Client, link: &Link) -> Result<Target> {
        Ok(match crate::links::open_link(client, link).await? {
            Opened::File(f) => Target::File(FileTarget {
                name: f.name.clone(),
                size: f.size,
                handle: f.handle,
                source: Source::Public { handle: f.handle.to_b64() },
                key: f.key().clone(),
            }),
            Opened::Folder { tree, node, .. } => Self::in_tree(*tree, node, Some(link.to_url()))?,
        })
    }

    /// The file, or an error naming the folder.
    pub fn into_file(self) -> Result<FileTarget> {
        match self {
            Target::File(f) => Ok(f),
            Target::Folder(f) => {
                Err(Error::Invalid(format!("{} is a folder, not a file", crate::path_of(&f.tree, f.node))))
            }
        }
    }
}

/// What [`cat`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catted {
    /// Bytes written.
    pub bytes: u64,
    /// What can be said of the file's integrity: verified only when every byte was read.
    pub integrity: Integrity,
}

/// Writes bytes `offset..offset + count` of a file (to its end without `count`) to `out`,
/// streamed. A read of the whole file ends verified by the meta-MAC; a damaged file fails at
/// its end (after its bytes were written: they cannot be checked before).
pub async fn cat(
    engine: &Engine,
    file: &FileTarget,
    offset: u64,
    count: Option<u64>,
    out: &mut (impl AsyncWrite + Unpin),
) -> Result<Catted> {
    let stream = file.open(engine);
    let end = count.map_or(u64::MAX, |c| offset.saturating_add(c));
    let mut reader = stream.reader(offset..end);
    let mut bytes = 0;
    let io = |e| Error::io(std::path::Path::new("standard output"), e);
    while let Some(b) = reader.next().await? {
        out.write_all(&b).await.map_err(io)?;
        bytes += b.len() as u64;
    }
    out.flush().await.map_err(io)?;
    Ok(Catted { bytes, integrity: stream.integrity() })
}
