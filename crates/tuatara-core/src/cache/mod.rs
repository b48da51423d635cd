//! The node cache: each account's tree kept on disk between runs, encrypted, so that a start
//! reads back what it needs and follows the event channel from where it stopped instead of
//! fetching the whole tree (`f`) again.
//!
//! One SQLite file per account (`<data>/node-cache/<id>.sqlite`, the id a hash of the e-mail
//! and API URL), in WAL mode with a busy timeout so that several processes can use it at once.
//! Its tables:
//! - `header`: the format version, a key check value, and a write generation;
//! - `meta`: one sealed record (the `sn`, share keys, ...);
//! - `pages`: one sealed row per folder, holding the records of its children
//!   ([`mega_api::Page`]), and one for the top (the roots, incoming shares). A command that
//!   lists one folder reads the pages on its path and that folder's, not the whole tree;
//! - `idx`: which page each node is in, sealed in 1,024 buckets, for applying action packets
//!   (which name a node, not its folder) without reading every page.
//!
//! Encrypted at rest: every row is sealed with AES-256-GCM (a random nonce each, the row's id
//! as associated data, so rows cannot be swapped) under a key derived from the account's
//! master key ([`mega_api::Session::local_key`]); nothing in the file is readable without it.
//! A page's row id is a keyed hash of its folder's handle (HMAC-SHA256 under a second derived
//! key): a page is found without decrypting others, and the id tells nothing but equality.
//!
//! Crash safety: the pages, the index and the `sn` they are current to are written in one
//! transaction, so a killed process leaves the cache at a consistent earlier point, which the
//! event channel then brings up to date. A write only lands on the generation it was read
//! from: two processes that both caught up cannot interleave their writes. A process reads its
//! pages inside one read transaction, so it sees one write, never half of two.
//!
//! Self-healing: a file that is not a database, holds another format or another account's
//! data, or a row that does not open, is set aside (renamed `.corrupt-<unix time>`) with a
//! warning and the tree is fetched again. An `sn` the server no longer knows (`-6`) or any
//! other failure of the event channel falls back to a full fetch that rewrites the cache.

mod store;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use mega_api::{ActionPacket, EventBatch, NodeHandle, Page, Session, Tree};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::Dirs;
use store::Store;

/// The cache file of an account (`email` at `api_url`).
pub fn path(dirs: &Dirs, api_url: &str, email: &str) -> PathBuf {
    let mut h = Sha256::new();
    h.update(api_url.as_bytes());
    h.update(b"\n");
    h.update(email.to_lowercase().as_bytes());
    let id: String = h.finalize()[..12].iter().map(|b| format!("{b:02x}")).collect();
    dirs.data.join("node-cache").join(format!("{id}.sqlite"))
}

/// Deletes an account's cache (logout, forgetting the account). Missing is fine.
pub fn remove(dirs: &Dirs, api_url: &str, email: &str) -> Result<()> {
    let file = path(dirs, api_url, email);
    for f in [file.clone(), sidecar(&file, "-wal"), sidecar(&file, "-shm")] {
        match std::fs::remove_file(&f) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&f, e)),
        }
    }
    Ok(())
}

pub(super) fn sidecar(file: &Path, suffix: &str) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// How a tree was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from the cache and caught up through the event channel.
    Cache,
    /// Fetched whole (no cache yet, a cache set aside, or the `sn` too old).
    Fetched,
}

/// The account's whole tree: from its cache, caught up with what changed since (the cache then
/// written with it), or fetched whole when there is no usable cache (and the cache rewritten).
/// A cache that cannot be used never fails this: the fetch does, if anything.
pub async fn load_tree(dirs: &Dirs, session: &Session) -> Result<(Tree, Origin)> {
    let mut cached = CachedTree::open(dirs, session).await?;
    cached.load_all(session).await?;
    let origin = cached.origin();
    Ok((cached.into_tree(), origin))
}

/// The account's tree as far as it has been read from the cache, current with the server: a
/// command reads what it needs ([`CachedTree::load_path`], [`CachedTree::load_subtree`],
/// [`CachedTree::load_all`]) and nothing more. A tree that was fetched holds everything.
pub struct CachedTree {
    tree: Tree,
    /// How many nodes the cached tree had when written.
    expected: usize,
    store: Option<Store>,
    loaded: HashSet<Page>,
    /// Every page is in the tree.
    complete: bool,
    origin: Origin,
}

impl CachedTree {
    /// The whole tree fetched, with no cache read nor written (an account that is not to be
    /// kept, such as a demo drive's).
    pub async fn uncached(session: &Session) -> Result<CachedTree> {
        Self::fetched(None, session).await
    }

    /// The tree of the cache's top page, caught up with the event channel (the cache written);
    /// or the whole tree fetched when there is no usable cache (the cache written).
    pub async fn open(dirs: &Dirs, session: &Session) -> Result<CachedTree> {
        let file = path(dirs, session.client().api_url(), session.email());
        let mut store = match Store::open(&file, session) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!("the node cache cannot be used, the tree is fetched: {e}");
                None
            }
        };
        if let Some(s) = store.take() {
            match Self::from_store(s, session).await {
                Ok(Ok(cached)) => return Ok(cached),
                Ok(Err(s)) => store = s,
                Err(e) => return Err(e),
            }
        }
        Self::fetched(store, session).await
    }

    /// The tree from the store, caught up; else the store back when it holds no tree or one
    /// that cannot be used (a new one when the file was damaged and set aside).
    async fn from_store(mut store: Store, session: &Session) -> Result<std::result::Result<CachedTree, Option<Store>>> {
        let meta = match store.begin_read().and_then(|()| store.read_meta()) {
            Ok(Some(meta)) => meta,
            Ok(None) => return Ok(Err(Some(store))),
            Err(e) => return Ok(Err(store.set_aside(session, &e))),
        };
        let tree = match session.tree_from_meta(&meta) {
            Ok(tree) => tree,
            Err(e) => return Ok(Err(store.set_aside(session, &Error::Api(e)))),
        };
        let mut cached = CachedTree {
            tree,
            expected: Tree::nodes_in_meta(&meta).unwrap_or(0),
            store: Some(store),
            loaded: HashSet::new(),
            complete: false,
            origin: Origin::Cache,
        };
        let caught_up = async {
            if cached.tree.key_manager_stale() {
                match session.reread_key_manager(&mut cached.tree).await {
                    Ok(_) => {}
                    Err(e) if e.kind() == mega_api::ErrorKind::Crypto => {}
                    Err(e) => return Err(e.into()),
                }
            }
            cached.load(Page::Top)?;
            cached.catch_up(session).await
        }
        .await;
        let mut store = cached.store.take().expect("kept while reading");
        match caught_up {
            Ok(true) => {
                store.begin_read().map_err(|e| tracing::warn!("{e}")).ok();
                cached.store = Some(store);
                Ok(Ok(cached))
            }
            Ok(false) => {
                tracing::info!("the node cache is too old for the event channel; the tree is fetched");
                Ok(Err(Some(store)))
            }
            Err(e) if e.is_session_expired() => Err(e),
            Err(e @ Error::Api(_)) => {
                tracing::warn!("the node cache could not be brought up to date, the tree is fetched: {e}");
                Ok(Err(Some(store)))
            }
            Err(e) => Ok(Err(store.set_aside(session, &e))),
        }
    }

    /// The whole tree fetched, and written to the store when there is one.
    async fn fetched(mut store: Option<Store>, session: &Session) -> Result<CachedTree> {
        let tree = session.fetch_tree().await?;
        if let Some(s) = store.as_mut() {
            if let Err(e) = s.write_all(&tree) {
                tracing::warn!("the node cache could not be written: {e}");
                store = None;
            }
        }
        Ok(CachedTree { tree, expected: 0, store, loaded: HashSet::new(), complete: true, origin: Origin::Fetched })
    }

    /// The whole tree and what keeps its cache current as it changes (for a process that
    /// follows the event channel; `None` when the cache cannot be written).
    pub async fn into_followed(mut self, session: &Session) -> Result<(Tree, Option<Writer>)> {
        self.load_all(session).await?;
        let writer = self.store.take().map(|mut store| {
            let _ = store.end_read();
            Writer { store }
        });
        let mut tree = self.tree;
        tree.track_changes();
        Ok((tree, writer))
    }

    /// Where the tree came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The tree as far as it was read.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// The tree as far as it was read (the cache is let go).
    pub fn into_tree(self) -> Tree {
        tracing::debug!(
            nodes = self.tree.len(),
            pages = self.loaded.len(),
            whole = self.complete,
            origin = ?self.origin,
            "the tree as read from the node cache"
        );
        self.tree
    }

    /// Reads one page into the tree (once).
    fn load(&mut self, page: Page) -> Result<()> {
        if self.complete || self.loaded.contains(&page) {
            return Ok(());
        }
        let store = self.store.as_mut().ok_or_else(closed)?;
        if let Some(bytes) = store.read_page(page)? {
            self.tree.add_page(&bytes).map_err(unreadable)?;
        }
        self.loaded.insert(page);
        Ok(())
    }

    /// Reads pages with `read`; a damaged cache is set aside and the tree fetched whole.
    async fn reading(&mut self, session: &Session, read: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        match read(self) {
            Ok(()) => Ok(()),
            Err(e) => {
                let store = self.store.take().and_then(|s| s.set_aside(session, &e));
                *self = Self::fetched(store, session).await?;
                Ok(())
            }
        }
    }

    /// Reads what resolving `path` needs: the top, each root's children, and the children of
    /// every folder named like a part of the path, down from there. Then the children of the
    /// node at `path`, when it is a folder.
    pub async fn load_path(&mut self, session: &Session, path: &str) -> Result<()> {
        let parts: HashSet<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        self.reading(session, |me| {
            me.load(Page::Top)?;
            let mut frontier: Vec<NodeHandle> = me.tree.page_nodes(Page::Top);
            while let Some(f) = frontier.pop() {
                if me.tree.get(f).is_none_or(|n| !n.is_container()) {
                    continue;
                }
                let first = !me.loaded.contains(&Page::Children(f));
                me.load(Page::Children(f))?;
                if first {
                    frontier.extend(
                        me.tree
                            .children(f)
                            .filter(|n| n.is_container() && parts.contains(n.name()))
                            .map(|n| n.handle()),
                    );
                }
            }
            Ok(())
        })
        .await
    }

    /// Reads the children of a folder.
    pub async fn load_children(&mut self, session: &Session, h: NodeHandle) -> Result<()> {
        self.reading(session, |me| me.load(Page::Children(h))).await
    }

    /// Reads everything below a folder.
    pub async fn load_subtree(&mut self, session: &Session, h: NodeHandle) -> Result<()> {
        self.reading(session, |me| me.load_subtree_now(h)).await
    }

    fn load_subtree_now(&mut self, h: NodeHandle) -> Result<()> {
        let mut todo = vec![h];
        while let Some(f) = todo.pop() {
            self.load(Page::Children(f))?;
            todo.extend(self.tree.children(f).filter(|n| n.is_container()).map(|n| n.handle()));
        }
        Ok(())
    }

    /// Reads the whole tree.
    pub async fn load_all(&mut self, session: &Session) -> Result<()> {
        self.reading(session, Self::load_all_now).await
    }

    fn load_all_now(&mut self) -> Result<()> {
        if self.complete {
            return Ok(());
        }
        let store = self.store.as_mut().ok_or_else(closed)?;
        let skip: HashSet<[u8; 16]> = self.loaded.iter().map(|&p| store.keys.page_id(p)).collect();
        self.tree.reserve(self.expected.saturating_sub(self.tree.len()));
        let tree = &mut self.tree;
        // A second thread reads and opens the pages while this one puts them in the tree.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Zeroizing<Vec<u8>>>(16);
        let (read, added) = std::thread::scope(|scope| {
            let reader = scope.spawn(move || {
                store.read_pages(&skip, |page| {
                    // A closed channel: the tree refused a page, whose error is reported.
                    tx.send(page).map_err(|_| Error::Internal("the node cache's reader stopped".into()))
                })
            });
            let mut added = Ok(());
            for page in rx.iter() {
                if let Err(e) = tree.add_page(&page) {
                    added = Err(unreadable(e));
                    break;
                }
            }
            drop(rx);
            (reader.join().unwrap_or_else(|_| Err(Error::Internal("the node cache's reader failed".into()))), added)
        });
        added?;
        read?;
        self.complete = true;
        Ok(())
    }

    /// Applies what the event channel has pending, reading the pages each batch touches first
    /// and writing them after. False when the server no longer knows the tree's `sn` (`-6`).
    async fn catch_up(&mut self, session: &Session) -> Result<bool> {
        self.tree.track_changes();
        let mut events = session.events(&self.tree);
        while let Some(batch) = events.pending().await? {
            let EventBatch::Packets { packets, .. } = &batch else { return Ok(false) };
            self.load_for(packets)?;
            session.apply_batch(&mut self.tree, &batch).await?;
            let changed = self.tree.take_changes();
            let loaded = (!self.complete).then_some(&self.loaded);
            let store = self.store.as_mut().ok_or_else(closed)?;
            store.write_back(&self.tree, changed, loaded)?;
        }
        Ok(true)
    }

    /// Reads every page that applying `packets` changes: those of the nodes they name (before
    /// and after), and the subtrees of nodes removed. Packets that may open sealed nodes
    /// anywhere (new share keys, the key manager) read the whole tree.
    fn load_for(&mut self, packets: &[ActionPacket]) -> Result<()> {
        for p in packets {
            let everything = match p {
                ActionPacket::Nodes(raws) => raws.iter().any(|r| r.sk.is_some()),
                ActionPacket::Share { key, .. } => key.is_some(),
                ActionPacket::KeyManager { .. } => true,
                _ => false,
            };
            if everything {
                return self.load_all_now();
            }
        }
        for p in packets {
            match p {
                ActionPacket::Nodes(raws) => {
                    for raw in raws {
                        if let Ok(h) = NodeHandle::from_b64(&raw.h) {
                            self.load_home(h)?;
                        }
                        match raw.p.as_deref().map(NodeHandle::from_b64) {
                            Some(Ok(parent)) => {
                                self.load(Page::Children(parent))?;
                                self.load_home(parent)?;
                            }
                            _ => self.load(Page::Top)?,
                        }
                    }
                }
                ActionPacket::Removed { handle, .. } => {
                    self.load_home(*handle)?;
                    if self.tree.get(*handle).is_some_and(|n| n.is_container()) {
                        self.load_subtree_now(*handle)?;
                    }
                }
                ActionPacket::Attributes { handle, .. }
                | ActionPacket::FileAttributes { handle, .. }
                | ActionPacket::Link { handle, .. }
                | ActionPacket::Share { handle, .. } => self.load_home(*handle)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Reads the page a node is in, when the cache knows it.
    fn load_home(&mut self, h: NodeHandle) -> Result<()> {
        let store = self.store.as_mut().ok_or_else(closed)?;
        match store.lookup(h)? {
            Some(page) => self.load(page),
            None => Ok(()),
        }
    }
}

/// Keeps an account's cache current with a whole tree that follows the event channel
/// ([`crate::changes::follow`]).
pub struct Writer {
    store: Store,
}

impl Writer {
    /// Writes what changed in the tree since the last write (its pages, their index entries and
    /// the `sn`), in one transaction.
    pub fn write(&mut self, tree: &mut Tree) -> Result<()> {
        tree.track_changes();
        let changed = tree.take_changes();
        let done = self.store.write_back(tree, changed, None);
        self.store.end_read()?;
        done
    }

    /// Replaces the cache with this tree (after it was fetched again).
    pub fn rewrite(&mut self, tree: &mut Tree) -> Result<()> {
        tree.track_changes();
        tree.take_changes();
        self.store.write_all(tree)
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("file", &self.store.file).finish_non_exhaustive()
    }
}

/// The store was let go (a fetched tree that could not be written, or the cache set aside).
fn closed() -> Error {
    Error::Internal("the node cache is closed".into())
}

/// A page that opened but does not read back: the cache is not to be trusted.
fn unreadable(e: mega_api::Error) -> Error {
    Error::Internal(e.to_string())
}

impl Error {
    fn is_session_expired(&self) -> bool {
        matches!(self, Error::Api(e) if e.kind() == mega_api::ErrorKind::SessionExpired)
    }
}
