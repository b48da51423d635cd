//! The cache file itself: SQLite, its sealed rows (pages, index buckets, the meta record) and
//! their keys. What is read and written when is [`super::CachedTree`]'s business.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use mega_api::{NodeHandle, Page, Session, Tree};
use rand_core::{OsRng, RngCore};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::sidecar;
use crate::error::{Error, Result};

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

/// An index bucket: which page each node is in (`None`: the top).
type Bucket = HashMap<[u8; 6], Option<[u8; 6]>>;
/// An index entry: a node and its page (`None`: the top).
type Entry = ([u8; 6], Option<[u8; 6]>);

/// An open cache file.
pub(super) struct Store {
    conn: Connection,
    pub(super) file: PathBuf,
    pub(super) keys: Keys,
    /// The write generation this process last read or wrote.
    generation: i64,
    /// A read transaction is open.
    reading: bool,
    /// The index buckets read so far.
    buckets: HashMap<u16, Bucket>,
}

/// The keys of an account's cache file (shared with the thread that seals pages).
pub(super) struct Keys {
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
    pub(super) fn page_id(&self, page: Page) -> [u8; 16] {
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
    pub(super) fn open(file: &Path, session: &Session) -> Result<Self> {
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
    pub(super) fn set_aside(self, session: &Session, why: &Error) -> Option<Store> {
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
    pub(super) fn begin_read(&mut self) -> Result<()> {
        self.end_read()?;
        self.conn.execute_batch("BEGIN").map_err(|e| db_error(&self.file, e))?;
        self.reading = true;
        self.buckets.clear();
        Ok(())
    }

    pub(super) fn end_read(&mut self) -> Result<()> {
        if std::mem::take(&mut self.reading) {
            self.conn.execute_batch("COMMIT").map_err(|e| db_error(&self.file, e))?;
        }
        Ok(())
    }

    /// The meta record, or `None` when the cache holds no tree yet.
    pub(super) fn read_meta(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let err = |e| db_error(&self.file, e);
        let generation: i64 =
            self.conn.query_row("SELECT generation FROM header WHERE k = 0", [], |r| r.get(0)).map_err(err)?;
        let meta: Option<Vec<u8>> =
            self.conn.query_row("SELECT v FROM meta WHERE k = 0", [], |r| r.get(0)).optional().map_err(err)?;
        self.generation = generation;
        meta.map(|m| self.keys.open_sealed(b"meta", &m)).transpose()
    }

    pub(super) fn read_page(&mut self, page: Page) -> Result<Option<Zeroizing<Vec<u8>>>> {
        let id = self.keys.page_id(page);
        let v: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT v FROM pages WHERE id = ?1", [&id[..]], |r| r.get(0))
            .optional()
            .map_err(|e| db_error(&self.file, e))?;
        v.map(|v| self.keys.open_sealed(&id, &v)).transpose()
    }

    /// Every page but those in `skip`, opened one at a time.
    pub(super) fn read_pages(
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
    pub(super) fn lookup(&mut self, h: NodeHandle) -> Result<Option<Page>> {
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
    pub(super) fn write_all(&mut self, tree: &Tree) -> Result<()> {
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
    /// `sn`, in one transaction. Every such page must have been read before the change (in
    /// `loaded`; `None`: the tree is whole): it is written whole from the tree.
    pub(super) fn write_back(
        &mut self,
        tree: &Tree,
        changed: Vec<NodeHandle>,
        loaded: Option<&HashSet<Page>>,
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
        if let Some(p) = dirty.iter().find(|p| loaded.is_some_and(|l| !l.contains(p))) {
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
        if !self.begin_write(loaded.is_none())? {
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
