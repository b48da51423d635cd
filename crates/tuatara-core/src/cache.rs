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

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use mega_api::{ActionPacket, EventBatch, NodeHandle, Page, Session, Tree};
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::Dirs;

/// The format of the file; another one is set aside and rebuilt.
const VERSION: i64 = 2;
/// The HKDF label of the key that seals records.
const SEAL_LABEL: &str = "tuatara node cache v2: records";
/// The HKDF label of the key that hashes handles into row ids.
const ID_LABEL: &str = "tuatara node cache v2: row ids";
/// What the check value seals: opening it proves the file is this account's.
const CHECK: &[u8] = b"tuatara node cache";
/// How long a process waits for another one's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The nonce length of AES-GCM.
const NONCE: usize = 12;
/// The number of index buckets.
const BUCKETS: u16 = 1024;

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

fn sidecar(file: &Path, suffix: &str) -> PathBuf {
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
        let store = self.store.as_mut().ok_or_else(|| Error::Internal("the node cache is closed".into()))?;
        if let Some(bytes) = store.read_page(page)? {
            self.tree.add_page(&bytes).map_err(|e| Error::Internal(e.to_string()))?;
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
        let store = self.store.as_mut().ok_or_else(|| Error::Internal("the node cache is closed".into()))?;
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
                    added = Err(Error::Internal(e.to_string()));
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
            let store = self.store.as_mut().ok_or_else(|| Error::Internal("the node cache is closed".into()))?;
            store.write_back(&self.tree, changed, self.complete, |p| self.complete || self.loaded.contains(&p))?;
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
        let store = self.store.as_mut().ok_or_else(|| Error::Internal("the node cache is closed".into()))?;
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
        let done = self.store.write_back(tree, changed, true, |_| true);
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

impl Error {
    fn is_session_expired(&self) -> bool {
        matches!(self, Error::Api(e) if e.kind() == mega_api::ErrorKind::SessionExpired)
    }
}

/// An index bucket: which page each node is in (`None`: the top).
type Bucket = HashMap<[u8; 6], Option<[u8; 6]>>;
/// An index entry: a node and its page (`None`: the top).
type Entry = ([u8; 6], Option<[u8; 6]>);

/// An open cache file.
struct Store {
    conn: Connection,
    file: PathBuf,
    keys: Keys,
    /// The write generation this process last read or wrote.
    generation: i64,
    /// A read transaction is open.
    reading: bool,
    /// The index buckets read so far.
    buckets: HashMap<u16, Bucket>,
}

/// The keys of an account's cache file (shared with the thread that seals pages).
struct Keys {
    seal: Aes256Gcm,
    ids: Zeroizing<[u8; 32]>,
}

impl Keys {
    fn seal(&self, id: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .seal
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: id })
            .map_err(|_| Error::Internal("a node cache record could not be sealed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(out)
    }

    fn open_sealed(&self, id: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let fail = || Error::Internal("a node cache record does not open (damaged, or another account's)".into());
        if sealed.len() < NONCE {
            return Err(fail());
        }
        let (nonce, ct) = sealed.split_at(NONCE);
        self.seal
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: id })
            .map(Zeroizing::new)
            .map_err(|_| fail())
    }

    fn keyed(&self, what: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.ids.as_ref()).expect("HMAC takes any key length");
        mac.update(what);
        mac.finalize().into_bytes().into()
    }

    /// The row id of a page: a keyed hash of its folder's handle.
    fn page_id(&self, page: Page) -> [u8; 16] {
        let full = match page {
            Page::Top => self.keyed(b"top"),
            Page::Children(h) => self.keyed(&[b"p".as_slice(), &h.0].concat()),
        };
        full[..16].try_into().expect("16 of 32 bytes")
    }

    /// The index bucket of a node: its handle mixed with a secret (handles are the server's
    /// random numbers; a bucket's number tells nothing of what is in it).
    fn bucket_of(&self, h: NodeHandle) -> u16 {
        let mut x = [0u8; 8];
        x[..6].copy_from_slice(&h.0);
        let salt = u64::from_le_bytes(self.ids[..8].try_into().expect("8 of 32 bytes"));
        let mixed = (u64::from_le_bytes(x) ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((mixed >> 40) % u64::from(BUCKETS)) as u16
    }

    fn bucket_aad(b: u16) -> [u8; 3] {
        let [x, y] = b.to_le_bytes();
        [b'i', x, y]
    }

    fn seal_bucket<'a>(
        &self,
        b: u16,
        entries: impl Iterator<Item = (&'a [u8; 6], &'a Option<[u8; 6]>)>,
    ) -> Result<Vec<u8>> {
        let entries: Vec<(&[u8; 6], &Option<[u8; 6]>)> = entries.collect();
        let plain = Zeroizing::new(postcard::to_allocvec(&entries).unwrap_or_default());
        self.seal(&Keys::bucket_aad(b), &plain)
    }
}

fn db_error(file: &Path, e: rusqlite::Error) -> Error {
    Error::Internal(format!("node cache {}: {e}", file.display()))
}

fn page_page(p: Page) -> Option<[u8; 6]> {
    match p {
        Page::Top => None,
        Page::Children(h) => Some(h.0),
    }
}

impl Store {
    /// Opens (or creates) the cache file; one that is not this account's cache of this format
    /// is set aside and started over.
    fn open(file: &Path, session: &Session) -> Result<Self> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        match Self::open_checked(file, session) {
            Ok(c) => Ok(c),
            Err(e) => {
                tracing::warn!("the node cache is set aside and rebuilt: {e}");
                Self::reset(file, session)
            }
        }
    }

    /// Sets this file aside after `why`, with a warning, and starts a new one (`None` when even
    /// that fails: the tree is then fetched and not kept).
    fn set_aside(self, session: &Session, why: &Error) -> Option<Store> {
        tracing::warn!("the node cache is unreadable and is set aside: {why}");
        let file = self.file.clone();
        // Closed first: SQLite removes its `-wal` by name when it closes.
        drop(self);
        Self::reset(&file, session).map_err(|e| tracing::warn!("{e}")).ok()
    }

    /// Sets the file aside (`.corrupt-<time>`) and creates a new one.
    fn reset(file: &Path, session: &Session) -> Result<Self> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        // Another one set aside in the same second keeps its name.
        let mut aside = sidecar(file, &format!(".corrupt-{stamp}"));
        for n in 1.. {
            if !aside.exists() {
                break;
            }
            aside = sidecar(file, &format!(".corrupt-{stamp}-{n}"));
        }
        if file.exists() {
            std::fs::rename(file, &aside).map_err(|e| Error::io(file, e))?;
            tracing::warn!(file = %aside.display(), "a damaged or foreign node cache was set aside");
        }
        for s in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(sidecar(file, s));
        }
        Self::open_checked(file, session)
    }

    fn open_checked(file: &Path, session: &Session) -> Result<Self> {
        let err = |e| db_error(file, e);
        let conn = Connection::open(file).map_err(err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS header (k INTEGER PRIMARY KEY CHECK (k = 0), version INTEGER NOT NULL,
                 check_value BLOB NOT NULL, generation INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS meta (k INTEGER PRIMARY KEY CHECK (k = 0), v BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS pages (id BLOB NOT NULL UNIQUE, v BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS idx (b INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        )
        .map_err(err)?;
        let seal_key = session.local_key(SEAL_LABEL);
        let seal = Aes256Gcm::new_from_slice(seal_key.as_ref()).map_err(|_| Error::Internal("cache key".into()))?;
        let mut store = Store {
            conn,
            file: file.to_path_buf(),
            keys: Keys { seal, ids: session.local_key(ID_LABEL) },
            generation: 0,
            reading: false,
            buckets: HashMap::new(),
        };
        let header: Option<(i64, Vec<u8>, i64)> = store
            .conn
            .query_row("SELECT version, check_value, generation FROM header WHERE k = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(err)?;
        match header {
            None => {
                let check = store.keys.seal(b"check", CHECK)?;
                store
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO header (k, version, check_value, generation) VALUES (0, ?1, ?2, 0)",
                        params![VERSION, check],
                    )
                    .map_err(err)?;
            }
            Some((VERSION, check, generation)) => {
                if store.keys.open_sealed(b"check", &check).ok().as_deref().map(|v| &v[..]) != Some(CHECK) {
                    return Err(Error::Internal("the node cache belongs to another account".into()));
                }
                store.generation = generation;
            }
            Some((v, ..)) => return Err(Error::Internal(format!("the node cache has format {v}, not {VERSION}"))),
        }
        Ok(store)
    }

    /// Starts a read transaction (ending one that is open): what is read next is one write.
    fn begin_read(&mut self) -> Result<()> {
        self.end_read()?;
        self.conn.execute_batch("BEGIN").map_err(|e| db_error(&self.file, e))?;
        self.reading = true;
        self.buckets.clear();
        Ok(())
    }

    fn end_read(&mut self) -> Result<()> {
        if std::mem::take(&mut self.reading) {
            self.conn.execute_batch("COMMIT").map_err(|e| db_error(&self.file, e))?;
        }
        Ok(())
    }

    /// The meta record, or `None` when the cache holds no tree yet.
    fn read_meta(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let err = |e| db_error(&self.file, e);
        let generation: i64 =
            self.conn.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        let meta: Option<Vec<u8>> =
            self.conn.query_row("SELECT v FROM meta WHERE k = 0", [], |r| r.get(0)).optional().map_err(err)?;
        self.generation = generation;
        meta.map(|m| self.keys.open_sealed(b"meta", &m)).transpose()
    }

    fn read_page(&mut self, page: Page) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let id = self.keys.page_id(page);
        let v: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT v FROM pages WHERE id = ?1", [&id[..]], |r| r.get(0))
            .optional()
            .map_err(|e| db_error(&self.file, e))?;
        v.map(|v| self.keys.open_sealed(&id, &v)).transpose()
    }

    /// Every page but those in `skip`, opened one at a time.
    fn read_pages(
        &mut self,
        skip: &HashSet<[u8; 16]>,
        mut each: impl FnMut(Zeroizing<Vec<u8>>) -> Result<()>,
    ) -> Result<()> {
        let err = |e| db_error(&self.file, e);
        let mut stmt = self.conn.prepare("SELECT id, v FROM pages").map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let id = row.get_ref(0).and_then(|v| Ok(v.as_blob()?)).map_err(err)?;
            if id.len() == 16 && skip.contains(<&[u8; 16]>::try_from(id).expect("16 bytes")) {
                continue;
            }
            let v = row.get_ref(1).and_then(|v| Ok(v.as_blob()?)).map_err(err)?;
            each(self.keys.open_sealed(id, v)?)?;
        }
        Ok(())
    }

    fn bucket(&mut self, b: u16) -> Result<&mut Bucket> {
        if !self.buckets.contains_key(&b) {
            let v: Option<Vec<u8>> = self
                .conn
                .query_row("SELECT v FROM idx WHERE b = ?1", [b], |r| r.get(0))
                .optional()
                .map_err(|e| db_error(&self.file, e))?;
            let bucket = match v {
                None => Bucket::new(),
                Some(v) => {
                    let plain = self.keys.open_sealed(&Keys::bucket_aad(b), &v)?;
                    let entries: Vec<([u8; 6], Option<[u8; 6]>)> = postcard::from_bytes(&plain)
                        .map_err(|_| Error::Internal("a node cache index bucket is unreadable".into()))?;
                    entries.into_iter().collect()
                }
            };
            self.buckets.insert(b, bucket);
        }
        Ok(self.buckets.get_mut(&b).expect("just put"))
    }

    /// The page a node is in, as cached.
    fn lookup(&mut self, h: NodeHandle) -> Result<Option<Page>> {
        let b = self.keys.bucket_of(h);
        Ok(self.bucket(b)?.get(&h.0).map(|p| p.map_or(Page::Top, |p| Page::Children(NodeHandle(p)))))
    }

    /// Starts a write; `Ok(false)` (nothing started) when another process wrote the cache since
    /// this one read it: it then holds that process's tree, as current as this one's. With
    /// `force` (a whole tree: its pages are right whatever the other wrote, and an older `sn`
    /// only makes the next start apply some packets again) it is written all the same.
    fn begin_write(&mut self, force: bool) -> Result<bool> {
        let file = self.file.clone();
        let err = |e| db_error(&file, e);
        self.end_read()?;
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let generation: i64 =
            self.conn.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        if generation != self.generation && !force {
            tracing::debug!(
                "the node cache was written by another process meanwhile; this one's changes are not written"
            );
            self.conn.execute_batch("ROLLBACK").map_err(err)?;
            return Ok(false);
        }
        Ok(true)
    }

    fn end_write(&mut self, tree: &Tree) -> Result<()> {
        let file = self.file.clone();
        let err = |e| db_error(&file, e);
        let meta = self.keys.seal(b"meta", &tree.meta_record())?;
        self.conn.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (0, ?1)", params![meta]).map_err(err)?;
        self.conn.execute("UPDATE header SET generation = generation + 1 WHERE k = 0", []).map_err(err)?;
        self.conn.execute_batch("COMMIT").map_err(err)?;
        self.generation += 1;
        Ok(())
    }

    /// Writes the whole tree (after a fetch), replacing what was there. Pages are sealed one
    /// at a time and written as they are (a thread seals while SQLite writes).
    fn write_all(&mut self, tree: &Tree) -> Result<()> {
        let file = self.file.clone();
        let err = |e| db_error(&file, e);
        self.end_read()?;
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let written = self.write_pages(tree);
        if let Err(e) = written {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        self.generation =
            self.conn.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        self.end_write(tree)
    }

    fn write_pages(&mut self, tree: &Tree) -> Result<()> {
        let file = self.file.clone();
        let err = |e| db_error(&file, e);
        self.conn.execute_batch("DELETE FROM pages; DELETE FROM idx;").map_err(err)?;
        let pages = tree.pages();
        let (tx, rx) = std::sync::mpsc::sync_channel::<([u8; 16], Vec<u8>)>(8);
        let me = &self.keys;
        let sealer = |tx: std::sync::mpsc::SyncSender<([u8; 16], Vec<u8>)>| -> Result<Vec<Vec<Entry>>> {
            let mut buckets = vec![Vec::new(); usize::from(BUCKETS)];
            for page in pages {
                let at = page_page(page);
                let rec = tree.page_record_with(page, |h| buckets[usize::from(me.bucket_of(h))].push((h.0, at)));
                if rec.is_empty() {
                    continue;
                }
                let id = me.page_id(page);
                if tx.send((id, me.seal(&id, &rec)?)).is_err() {
                    break;
                }
            }
            Ok(buckets)
        };
        let conn = &self.conn;
        let (sealed, inserted) = std::thread::scope(|scope| {
            let sealing = scope.spawn(move || sealer(tx));
            let inserted = (|| {
                let mut insert = conn.prepare("INSERT INTO pages (id, v) VALUES (?1, ?2)").map_err(err)?;
                for (id, v) in rx {
                    insert.execute(params![&id[..], v]).map_err(err)?;
                }
                Ok::<_, Error>(())
            })();
            (sealing.join().unwrap_or_else(|_| Err(Error::Internal("the node cache's sealer failed".into()))), inserted)
        });
        inserted?;
        let buckets = sealed?;
        let mut insert = self.conn.prepare("INSERT INTO idx (b, v) VALUES (?1, ?2)").map_err(err)?;
        for (b, entries) in buckets.iter().enumerate() {
            if entries.is_empty() {
                continue;
            }
            let b = b as u16;
            let v = self.keys.seal_bucket(b, entries.iter().map(|(h, p)| (h, p)))?;
            insert.execute(params![b, v]).map_err(err)?;
        }
        Ok(())
    }

    /// Writes the pages that `changed` nodes were and are in, their index entries, and the
    /// `sn`, in one transaction. Every such page must have been read (`loaded`) before the
    /// change: it is written whole from the tree.
    fn write_back(
        &mut self,
        tree: &Tree,
        changed: Vec<NodeHandle>,
        whole: bool,
        loaded: impl Fn(Page) -> bool,
    ) -> Result<()> {
        let mut dirty = HashSet::new();
        let mut gone = Vec::new();
        let mut moves = Vec::with_capacity(changed.len());
        for h in changed {
            let before = self.lookup(h)?;
            let now = tree.page_of(h);
            dirty.extend(before);
            dirty.extend(now);
            if now.is_none() {
                gone.push(Page::Children(h));
            }
            moves.push((h, now));
        }
        if let Some(p) = dirty.iter().find(|&&p| !loaded(p)) {
            return Err(Error::Internal(format!("node cache: a page changed that was not read ({p:?})")));
        }
        let mut rows = Vec::with_capacity(dirty.len() + gone.len());
        for &page in &dirty {
            let id = self.keys.page_id(page);
            let rec = tree.page_record(page);
            rows.push((id, if rec.is_empty() { None } else { Some(self.keys.seal(&id, &rec)?) }));
        }
        for page in gone.into_iter().filter(|p| !dirty.contains(p)) {
            rows.push((self.keys.page_id(page), None));
        }
        let mut touched = HashSet::new();
        for (h, now) in moves {
            let b = self.keys.bucket_of(h);
            let bucket = self.bucket(b)?;
            match now {
                Some(p) => bucket.insert(h.0, page_page(p)),
                None => bucket.remove(&h.0),
            };
            touched.insert(b);
        }
        let mut index = Vec::with_capacity(touched.len());
        for b in touched {
            index.push((b, self.keys.seal_bucket(b, self.buckets[&b].iter())?));
        }
        if !self.begin_write(whole)? {
            return Ok(());
        }
        let file = self.file.clone();
        let err = |e| db_error(&file, e);
        let written = (|| {
            let mut upsert = self
                .conn
                .prepare("INSERT INTO pages (id, v) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET v = excluded.v")
                .map_err(err)?;
            let mut delete = self.conn.prepare("DELETE FROM pages WHERE id = ?1").map_err(err)?;
            for (id, v) in &rows {
                match v {
                    Some(v) => upsert.execute(params![&id[..], v]).map_err(err)?,
                    None => delete.execute(params![&id[..]]).map_err(err)?,
                };
            }
            let mut upsert = self.conn.prepare("INSERT OR REPLACE INTO idx (b, v) VALUES (?1, ?2)").map_err(err)?;
            for (b, v) in &index {
                upsert.execute(params![b, v]).map_err(err)?;
            }
            Ok(())
        })();
        if let Err(e) = written {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(e);
        }
        self.end_write(tree)?;
        // Read again in a new transaction: the buckets kept are this write's.
        self.conn.execute_batch("BEGIN").map_err(err)?;
        self.reading = true;
        Ok(())
    }
}
