//! The node cache: each account's tree kept on disk between runs, encrypted, so that a start
//! reads it back and follows the event channel from where it stopped instead of fetching the
//! whole tree (`f`) again.
//!
//! One SQLite file per account (`<data>/node-cache/<id>.sqlite`, the id a hash of the e-mail
//! and API URL), in WAL mode with a busy timeout so that several processes can use it at once.
//! It holds three tables: `header` (the format version, a key check value, and a write
//! generation), `meta` (one sealed record: the `sn`, share keys, ...) and `nodes` (one sealed
//! record per node, from [`mega_api::Tree::node_record`]).
//!
//! Encrypted at rest: every record is sealed with AES-256-GCM (a random nonce each, the row's
//! id as associated data, so rows cannot be swapped) under a key derived from the account's
//! master key ([`mega_api::Session::local_key`]); nothing in the file is readable without it.
//! A node row is found by a keyed hash of its handle (HMAC-SHA256 under a second derived key):
//! the store must update and delete single rows without decrypting the table, and the keyed
//! hash tells nothing but equality.
//!
//! Crash safety: the nodes and the `sn` they are current to are written in one transaction,
//! so a killed process leaves the cache at a consistent earlier point, which the event channel
//! then brings up to date. A write only lands on the generation it was read from: two
//! processes that both caught up cannot interleave their writes.
//!
//! Self-healing: a file that is not a database, holds another format or another account's
//! data, or a record that does not open, is set aside (renamed `.corrupt-<unix time>`) with a
//! warning and the tree is fetched again. An `sn` the server no longer knows (`-6`) or any
//! other failure of the event channel falls back to a full fetch that rewrites the cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use mega_api::{EventBatch, NodeHandle, Session, Tree};
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::Dirs;

/// The format of the file; another one is set aside and rebuilt.
const VERSION: i64 = 1;
/// The HKDF label of the key that seals records.
const SEAL_LABEL: &str = "tuatara node cache v1: records";
/// The HKDF label of the key that hashes handles into row ids.
const ID_LABEL: &str = "tuatara node cache v1: row ids";
/// What the check value seals: opening it proves the file is this account's.
const CHECK: &[u8] = b"tuatara node cache";
/// How long a process waits for another one's write to end.
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// The nonce length of AES-GCM.
const NONCE: usize = 12;

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

/// How the tree of [`load_tree`] was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from the cache and caught up through the event channel.
    Cache,
    /// Fetched whole (no cache yet, a cache set aside, or the `sn` too old).
    Fetched,
}

/// The account's tree: from its cache, caught up with what changed since (the cache then
/// written with it), or fetched whole when there is no usable cache (and the cache rewritten).
/// A cache that cannot be used never fails this: the fetch does, if anything.
pub async fn load_tree(dirs: &Dirs, session: &Session) -> Result<(Tree, Origin)> {
    let file = path(dirs, session.client().api_url(), session.email());
    let mut cache = match NodeCache::open(&file, session) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!("the node cache cannot be used, the tree is fetched: {e}");
            None
        }
    };
    if let Some(c) = cache.as_mut() {
        match c.read_tree(session).await {
            Ok(Some(mut tree)) => match catch_up(c, session, &mut tree).await {
                Ok(true) => return Ok((tree, Origin::Cache)),
                Ok(false) => tracing::info!("the node cache is too old for the event channel; the tree is fetched"),
                Err(e) if e.is_session_expired() => return Err(e),
                Err(e) => tracing::warn!("the node cache could not be brought up to date, the tree is fetched: {e}"),
            },
            Ok(None) => {}
            Err(e) if e.is_session_expired() => return Err(e),
            Err(e @ Error::Api(_)) => tracing::warn!("the node cache could not be read back, the tree is fetched: {e}"),
            Err(e) => {
                tracing::warn!("the node cache is unreadable and is set aside: {e}");
                // Closed first: SQLite removes its `-wal` by name when it closes.
                drop(cache.take());
                cache = NodeCache::reset(&file, session).map_err(|e| tracing::warn!("{e}")).ok();
            }
        }
    }
    let mut tree = session.fetch_tree().await?;
    if let Some(c) = cache.as_mut() {
        if let Err(e) = c.write_all(&tree) {
            tracing::warn!("the node cache could not be written: {e}");
        }
    }
    tree.track_changes();
    Ok((tree, Origin::Fetched))
}

/// Applies what the event channel has pending to a tree read from the cache, writing each
/// batch. False when the server no longer knows the tree's `sn` (`-6`).
async fn catch_up(cache: &mut NodeCache, session: &Session, tree: &mut Tree) -> Result<bool> {
    tree.track_changes();
    let mut events = session.events(tree);
    while let Some(batch) = events.pending().await? {
        if matches!(batch, EventBatch::Reload) {
            return Ok(false);
        }
        session.apply_batch(tree, &batch).await?;
        cache.write_changes(tree)?;
    }
    Ok(true)
}

impl Error {
    fn is_session_expired(&self) -> bool {
        matches!(self, Error::Api(e) if e.kind() == mega_api::ErrorKind::SessionExpired)
    }
}

/// An open cache file.
struct NodeCache {
    conn: Connection,
    file: PathBuf,
    seal: Aes256Gcm,
    ids: Zeroizing<[u8; 32]>,
    /// The write generation this process last read or wrote.
    generation: i64,
}

fn db_error(file: &Path, e: rusqlite::Error) -> Error {
    Error::Internal(format!("node cache {}: {e}", file.display()))
}

impl NodeCache {
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

    /// Sets the file aside (`.corrupt-<time>`) and creates a new one.
    fn reset(file: &Path, session: &Session) -> Result<Self> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
        let aside = sidecar(file, &format!(".corrupt-{stamp}"));
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
             CREATE TABLE IF NOT EXISTS nodes (id BLOB PRIMARY KEY, v BLOB NOT NULL);",
        )
        .map_err(err)?;
        let seal_key = session.local_key(SEAL_LABEL);
        let seal = Aes256Gcm::new_from_slice(seal_key.as_ref()).map_err(|_| Error::Internal("cache key".into()))?;
        let mut cache =
            NodeCache { conn, file: file.to_path_buf(), seal, ids: session.local_key(ID_LABEL), generation: 0 };
        let header: Option<(i64, Vec<u8>, i64)> = cache
            .conn
            .query_row("SELECT version, check_value, generation FROM header WHERE k = 0", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
            .map_err(err)?;
        match header {
            None => {
                let check = cache.seal(b"check", CHECK)?;
                cache
                    .conn
                    .execute(
                        "INSERT OR IGNORE INTO header (k, version, check_value, generation) VALUES (0, ?1, ?2, 0)",
                        params![VERSION, check],
                    )
                    .map_err(err)?;
            }
            Some((VERSION, check, generation)) => {
                if cache.open_sealed(b"check", &check).ok().as_deref().map(|v| &v[..]) != Some(CHECK) {
                    return Err(Error::Internal("the node cache belongs to another account".into()));
                }
                cache.generation = generation;
            }
            Some((v, ..)) => return Err(Error::Internal(format!("the node cache has format {v}, not {VERSION}"))),
        }
        Ok(cache)
    }

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

    /// The row id of a node: a keyed hash of its handle.
    fn id(&self, h: NodeHandle) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.ids.as_ref()).expect("HMAC takes any key length");
        mac.update(&h.0);
        mac.finalize().into_bytes()[..16].to_vec()
    }

    /// The tree as cached, or `None` when the cache holds none yet. The records are opened
    /// one at a time as they are read: only the tree is held whole.
    async fn read_tree(&mut self, session: &Session) -> Result<Option<Tree>> {
        let mut tree = match self.read_records(session)? {
            Some(tree) => tree,
            None => return Ok(None),
        };
        if tree.key_manager_stale() {
            match session.reread_key_manager(&mut tree).await {
                Ok(_) => {}
                Err(e) if e.kind() == mega_api::ErrorKind::Crypto => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Some(tree))
    }

    fn read_records(&mut self, session: &Session) -> Result<Option<Tree>> {
        let err = |e| db_error(&self.file, e);
        // One read transaction: the nodes and the `sn` of one write.
        let tx = self.conn.unchecked_transaction().map_err(err)?;
        let generation: i64 =
            tx.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        let meta: Option<Vec<u8>> =
            tx.query_row("SELECT v FROM meta WHERE k = 0", [], |r| r.get(0)).optional().map_err(err)?;
        let Some(meta) = meta else { return Ok(None) };
        let meta = self.open_sealed(b"meta", &meta)?;
        let mut stmt = tx.prepare("SELECT id, v FROM nodes ORDER BY rowid").map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        // The first failure (a damaged row), kept aside: the tree's rebuild stops at it.
        let mut failure = None;
        let records = std::iter::from_fn(|| {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => return None,
                Err(e) => {
                    failure = Some(err(e));
                    return Some(Err(mega_api::Error::BadInput("the node cache is damaged".into())));
                }
            };
            let opened = row
                .get_ref(0)
                .and_then(|id| Ok((id.as_blob()?, row.get_ref(1)?.as_blob()?)))
                .map_err(err)
                .and_then(|(id, v)| self.open_sealed(id, v));
            Some(opened.map_err(|e| {
                failure = Some(e);
                mega_api::Error::BadInput("the node cache is damaged".into())
            }))
        });
        let built = session.tree_from_records(&meta, records);
        if let Some(e) = failure {
            return Err(e);
        }
        let tree = built.map_err(|e| Error::Internal(e.to_string()))?;
        drop(rows);
        drop(stmt);
        tx.finish().map_err(err)?;
        self.generation = generation;
        Ok(Some(tree))
    }

    /// Writes the whole tree (after a fetch), replacing what was there.
    fn write_all(&mut self, tree: &Tree) -> Result<()> {
        let mut sealed = Vec::with_capacity(tree.len());
        for h in tree.record_order() {
            if let Some(rec) = tree.node_record(h) {
                let id = self.id(h);
                let v = self.seal(&id, &rec)?;
                sealed.push((id, v));
            }
        }
        let meta = self.seal(b"meta", &tree.meta_record())?;
        let err = |e| db_error(&self.file, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        tx.execute("DELETE FROM nodes", []).map_err(err)?;
        {
            let mut insert = tx.prepare("INSERT INTO nodes (id, v) VALUES (?1, ?2)").map_err(err)?;
            for (id, v) in &sealed {
                insert.execute(params![id, v]).map_err(err)?;
            }
        }
        tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (0, ?1)", params![meta]).map_err(err)?;
        let generation: i64 = tx
            .query_row("UPDATE header SET generation = generation + 1 WHERE k = 0 RETURNING generation", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        tx.commit().map_err(err)?;
        self.generation = generation;
        Ok(())
    }

    /// Writes the nodes that changed and the `sn`, in one transaction; nothing when another
    /// process wrote the cache since this one read it (it then holds that process's tree).
    fn write_changes(&mut self, tree: &mut Tree) -> Result<()> {
        let changed = tree.take_changes();
        let mut rows = Vec::with_capacity(changed.len());
        for h in changed {
            let id = self.id(h);
            let v = match tree.node_record(h) {
                Some(rec) => Some(self.seal(&id, &rec)?),
                None => None,
            };
            rows.push((id, v));
        }
        let meta = self.seal(b"meta", &tree.meta_record())?;
        let err = |e| db_error(&self.file, e);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err)?;
        let generation: i64 =
            tx.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        if generation != self.generation {
            tracing::debug!(
                "the node cache was written by another process meanwhile; this one's changes are not written"
            );
            return Ok(());
        }
        {
            let mut upsert = tx
                .prepare("INSERT INTO nodes (id, v) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET v = excluded.v")
                .map_err(err)?;
            let mut delete = tx.prepare("DELETE FROM nodes WHERE id = ?1").map_err(err)?;
            for (id, v) in &rows {
                match v {
                    Some(v) => upsert.execute(params![id, v]).map_err(err)?,
                    None => delete.execute(params![id]).map_err(err)?,
                };
            }
        }
        tx.execute("INSERT OR REPLACE INTO meta (k, v) VALUES (0, ?1)", params![meta]).map_err(err)?;
        tx.execute("UPDATE header SET generation = generation + 1 WHERE k = 0", []).map_err(err)?;
        tx.commit().map_err(err)?;
        self.generation = generation + 1;
        Ok(())
    }
}
