//! Streaming: any byte range of a remote file, read without downloading the file first (a
//! player seeking in a video, `cat` with an offset).
//!
//! A file is cut into pieces of whole chunks ([`PIECE_SIZE`] or less, cut as a download cuts
//! its pieces). A reader asks for the piece holding its position: from the engine's shared
//! cache of recent pieces ([`CACHE_BYTES`], least recently used dropped first), from a fetch
//! already under way (another reader's, or a read-ahead), or fetched now with `mega-api`'s
//! ranged chunk fetch, which decrypts with CTR from the piece's counter and computes its chunk
//! MACs. While a reader reads one piece, the next [`READ_AHEAD`] are fetched beside it. An
//! expired storage URL is asked for again, the transfer quota is waited out (the engine's
//! wait, reported as [`crate::Event::Waiting`]), other failures backed off by the client's
//! retry policy.
//!
//! Integrity: the meta-MAC covers the whole file, so a part read cannot be verified. The chunk
//! MACs of every piece fetched are kept per file; once all are in, the meta-MAC is checked
//! ([`StreamFile::integrity`]), and a reader that reaches the end of the file ends with the
//! verdict: `None` when verified (or not yet verifiable), an error on a mismatch.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::ops::Range;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use futures_util::Stream;
use mega_api::{verify_meta_mac, DownloadUrl, ErrorKind, FileKey};
use mega_proto::chunks;
use tokio::sync::{watch, OnceCell};

use crate::engine::{new_id, Control, Engine, Inner, TransferError};
use crate::journal::Source;

/// The most bytes of one piece (whole chunks; the first chunks are smaller, later ones 1 MiB):
/// one request, its chunk MACs computed four at a time. On loopback a 4 MiB piece streams
/// about 1.4 times as fast as a 1 MiB one for the same first byte after a seek (15 ms).
pub const PIECE_SIZE: u64 = 4 << 20;
/// Pieces fetched ahead of a reader.
pub const READ_AHEAD: usize = 3;
/// The bytes of recent pieces the engine keeps for every stream together.
pub const CACHE_BYTES: u64 = 64 << 20;

/// What a stream can say of its file's integrity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Integrity {
    /// Every chunk was read and the meta-MAC matches: the bytes are the ones uploaded.
    Verified,
    /// Not every chunk was read yet, so the meta-MAC cannot be checked.
    Unverified {
        /// Chunks whose MACs are in.
        seen: u64,
        /// Chunks of the file.
        chunks: u64,
    },
    /// Every chunk was read and the meta-MAC does not match: the content is damaged.
    Mismatch,
}

/// One piece: its plaintext and the MACs of its chunks.
struct Piece {
    /// The first chunk's index.
    first: u64,
    data: Bytes,
    macs: Vec<[u8; 16]>,
}

/// What the engine keeps for every stream: recent pieces and the files open.
pub(crate) struct Streams {
    cache: Mutex<Cache>,
    open: Mutex<HashMap<Arc<str>, Weak<FileState>>>,
    /// Keys a file's identity (source, size, key) without keeping its key material.
    hasher: RandomState,
}

impl Streams {
    pub(crate) fn new() -> Self {
        Streams { cache: Mutex::new(Cache::default()), open: Mutex::new(HashMap::new()), hasher: RandomState::new() }
    }
}

/// Recent pieces by (file, piece), the least recently used dropped beyond [`CACHE_BYTES`].
#[derive(Default)]
struct Cache {
    used: u64,
    tick: u64,
    pieces: HashMap<(Arc<str>, usize), (Arc<Piece>, u64)>,
}

impl Cache {
    fn get(&mut self, key: &(Arc<str>, usize)) -> Option<Arc<Piece>> {
        self.tick += 1;
        let tick = self.tick;
        self.pieces.get_mut(key).map(|(p, t)| {
            *t = tick;
            p.clone()
        })
    }

    fn put(&mut self, key: (Arc<str>, usize), piece: Arc<Piece>) {
        self.tick += 1;
        self.used += piece.data.len() as u64;
        if let Some((old, _)) = self.pieces.insert(key.clone(), (piece, self.tick)) {
            self.used -= old.data.len() as u64;
        }
        while self.used > CACHE_BYTES {
            let oldest = self.pieces.iter().filter(|(k, _)| **k != key).min_by_key(|(_, (_, t))| *t);
            let Some(k) = oldest.map(|(k, _)| k.clone()) else { break };
            if let Some((p, _)) = self.pieces.remove(&k) {
                self.used -= p.data.len() as u64;
            }
        }
    }
}

/// The piece (of `pieces`, chunk index ranges in order) holding byte `offset`.
fn piece_at(pieces: &[Range<u64>], offset: u64) -> usize {
    let chunk = chunks::chunk_index(offset);
    pieces.partition_point(|p| p.end <= chunk)
}

/// One remote file as every reader of it shares it.
struct FileState {
    /// Names the file's quota waits in events.
    id: String,
    cache_key: Arc<str>,
    source: Source,
    key: FileKey,
    size: u64,
    /// The pieces, as chunk index ranges, in order.
    pieces: Vec<Range<u64>>,
    /// The storage URL and its generation (a refresh replaces it once for all readers).
    url: tokio::sync::Mutex<Option<(DownloadUrl, u64)>>,
    fetching: Mutex<HashMap<usize, Arc<OnceCell<Arc<Piece>>>>>,
    macs: Mutex<BTreeMap<u64, [u8; 16]>>,
    verdict: Mutex<Option<Integrity>>,
    /// Streams are never paused: the quota wait and the backoff take a control that stays on.
    control: (watch::Sender<Control>, watch::Receiver<Control>),
}

impl FileState {
    /// The piece holding byte `offset` (below the size).
    fn piece_at(&self, offset: u64) -> usize {
        piece_at(&self.pieces, offset)
    }

    fn span(&self, piece: usize) -> Range<u64> {
        mega_api::chunk_span(self.pieces[piece].clone(), self.size)
    }

    fn note_macs(&self, piece: &Piece) {
        let mut macs = self.macs.lock().unwrap_or_else(|e| e.into_inner());
        macs.extend((piece.first..).zip(piece.macs.iter().copied()));
    }

    fn integrity(&self) -> Integrity {
        if let Some(v) = *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) {
            return v;
        }
        let count = chunks::chunk_count(self.size);
        // An empty file has no content to check (as a download accepts it).
        let verdict = if self.size == 0 {
            Integrity::Verified
        } else {
            let macs = self.macs.lock().unwrap_or_else(|e| e.into_inner());
            if (macs.len() as u64) < count {
                return Integrity::Unverified { seen: macs.len() as u64, chunks: count };
            }
            let all: Vec<[u8; 16]> = macs.values().copied().collect();
            match verify_meta_mac(&self.key, &all) {
                Ok(()) => Integrity::Verified,
                Err(_) => Integrity::Mismatch,
            }
        };
        *self.verdict.lock().unwrap_or_else(|e| e.into_inner()) = Some(verdict);
        verdict
    }
}

/// A remote file opened for streaming ([`Engine::open_stream`]). Cheap to clone; every clone
/// and every reader of one file share its pieces, URL and chunk MACs.
#[derive(Clone)]
pub struct StreamFile {
    inner: Arc<Inner>,
    state: Arc<FileState>,
}

impl std::fmt::Debug for StreamFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamFile").field("id", &self.state.id).field("size", &self.state.size).finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens a remote file of `size` bytes with key `key` for streaming. Files opened again
    /// while open share one state (URL, chunk MACs); every file shares the engine's cache.
    /// Nothing is fetched until a reader reads.
    pub fn open_stream(&self, source: Source, key: &FileKey, size: u64) -> StreamFile {
        let inner = self.inner.clone();
        let streams = &inner.streams;
        let (what, node) = match &source {
            Source::Own { node } => ("own", node.as_str()),
            Source::Public { handle } => ("public", handle.as_str()),
            Source::InFolderLink { link, node } => (link.as_str(), node.as_str()),
        };
        let identity = streams.hasher.hash_one((what, node, size, &key.aes_key, &key.nonce, &key.meta_mac));
        let cache_key: Arc<str> = Arc::from(format!("{identity:016x}"));
        let mut open = streams.open.lock().unwrap_or_else(|e| e.into_inner());
        open.retain(|_, w| w.strong_count() > 0);
        if let Some(state) = open.get(&cache_key).and_then(Weak::upgrade) {
            return StreamFile { inner: inner.clone(), state };
        }
        let pieces = crate::pieces::plan(size, &BTreeMap::new(), PIECE_SIZE).0.into();
        let state = Arc::new(FileState {
            id: format!("stream-{}", new_id()),
            cache_key: cache_key.clone(),
            source,
            key: key.clone(),
            size,
            pieces,
            url: tokio::sync::Mutex::new(None),
            fetching: Mutex::new(HashMap::new()),
            macs: Mutex::new(BTreeMap::new()),
            verdict: Mutex::new(None),
            control: watch::channel(Control::Run),
        });
        open.insert(cache_key, Arc::downgrade(&state));
        drop(open);
        StreamFile { inner, state }
    }
}

impl StreamFile {
    /// The file's size.
    pub fn size(&self) -> u64 {
        self.state.size
    }

    /// What can be said of the file's integrity from the chunks read so far.
    pub fn integrity(&self) -> Integrity {
        self.state.integrity()
    }

    /// A reader of bytes `range` (cut to the file's size).
    pub fn reader(&self, range: Range<u64>) -> StreamReader {
        let end = range.end.min(self.state.size);
        let pos = range.start.min(end);
        StreamReader { file: self.clone(), pos, end, ahead: None }
    }

    /// Piece `i`: from the cache, from a fetch under way, or fetched now.
    async fn piece(&self, i: usize) -> Result<Arc<Piece>, TransferError> {
        let key = (self.state.cache_key.clone(), i);
        if let Some(p) = self.inner.streams.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            self.state.note_macs(&p);
            return Ok(p);
        }
        let cell = {
            let mut fetching = self.state.fetching.lock().unwrap_or_else(|e| e.into_inner());
            fetching.entry(i).or_default().clone()
        };
        let piece = cell.get_or_try_init(|| self.fetch(i)).await?.clone();
        let mut fetching = self.state.fetching.lock().unwrap_or_else(|e| e.into_inner());
        if fetching.get(&i).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            fetching.remove(&i);
            self.inner.streams.cache.lock().unwrap_or_else(|e| e.into_inner()).put(key, piece.clone());
        }
        Ok(piece)
    }

    /// Fetches piece `i` from the storage server: a fresh URL when it expired, the quota waited
    /// out, other failures in a row backed off by the client's retry policy.
    async fn fetch(&self, i: usize) -> Result<Arc<Piece>, TransferError> {
        let (inner, state) = (&*self.inner, &*self.state);
        let control = &state.control.1;
        let mut failures = 0;
        let span = state.span(i);
        // Streams keep to the engine's download speed limit too.
        inner.down.take(span.end - span.start).await;
        loop {
            let (url, generation) = self.url().await?;
            let e = match inner.client.fetch_chunks(&url, &state.key, state.pieces[i].clone()).await {
                Ok(c) => {
                    let piece = Piece { first: state.pieces[i].start, data: Bytes::from(c.data), macs: c.macs };
                    state.note_macs(&piece);
                    return Ok(Arc::new(piece));
                }
                Err(e) => e,
            };
            let kind = e.kind();
            if !kind.is_retryable_later() {
                return Err(e.into());
            }
            failures += 1;
            match kind {
                ErrorKind::Quota { time_left } => {
                    if failures >= inner.retry_limit(1) {
                        return Err(TransferError::GaveUp { source: e, failures });
                    }
                    inner.quota_wait(&state.id, time_left, control).await?;
                }
                ErrorKind::Expired => {
                    let mut u = state.url.lock().await;
                    if u.as_ref().is_some_and(|(_, g)| *g == generation) {
                        inner.back_off(&state.id, e, failures, 1, "asking for a new download URL", control).await?;
                        *u = None;
                    }
                }
                _ => inner.back_off(&state.id, e, failures, 1, "trying again", control).await?,
            }
        }
    }

    /// The storage URL, asked for once for all readers (again after it expired).
    async fn url(&self) -> Result<(DownloadUrl, u64), TransferError> {
        let mut u = self.state.url.lock().await;
        if let Some(u) = &*u {
            return Ok(u.clone());
        }
        let state = &*self.state;
        let url = crate::download::url_for(&self.inner, &state.id, &state.source, state.size, &state.control.1).await?;
        let fresh = (url, next_generation());
        *u = Some(fresh.clone());
        Ok(fresh)
    }

    /// Starts fetching pieces `from..to` not cached nor under way, beside the reader.
    fn read_ahead(&self, pieces: Range<usize>) {
        for i in pieces {
            let key = (self.state.cache_key.clone(), i);
            let cached = self.inner.streams.cache.lock().unwrap_or_else(|e| e.into_inner()).pieces.contains_key(&key);
            let under_way = self.state.fetching.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&i);
            if cached || under_way {
                continue;
            }
            let file = self.clone();
            tokio::spawn(async move {
                if let Err(e) = file.piece(i).await {
                    tracing::debug!(piece = i, "read-ahead failed (the reader fetches it again): {e}");
                }
            });
        }
    }
}

/// A distinct generation for each URL asked for.
fn next_generation() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Reads one byte range of a [`StreamFile`] in order ([`StreamFile::reader`]).
#[derive(Debug)]
pub struct StreamReader {
    file: StreamFile,
    pos: u64,
    end: u64,
    /// The pieces read ahead so far (up to, not including).
    ahead: Option<usize>,
}

impl StreamReader {
    /// The file being read.
    pub fn file(&self) -> &StreamFile {
        &self.file
    }

    /// The next bytes of the range (at most the rest of one piece), or `None` at its end. A
    /// reader that reaches the end of the file fails there if every chunk is in and the
    /// meta-MAC does not match ([`Integrity::Mismatch`]).
    pub async fn next(&mut self) -> Result<Option<Bytes>, TransferError> {
        if self.pos >= self.end {
            if self.end == self.file.state.size && self.file.integrity() == Integrity::Mismatch {
                return Err(mega_api::Error::Mac.into());
            }
            return Ok(None);
        }
        let state = &self.file.state;
        let i = state.piece_at(self.pos);
        let last = state.piece_at(self.end - 1);
        let ahead_to = (i + 1 + READ_AHEAD).min(last + 1);
        let from = self.ahead.map_or(i + 1, |a| a.max(i + 1));
        if from < ahead_to {
            self.file.read_ahead(from..ahead_to);
            self.ahead = Some(ahead_to);
        }
        let piece = self.file.piece(i).await?;
        let span = state.span(i);
        let start = (self.pos - span.start) as usize;
        let stop = (self.end.min(span.end) - span.start) as usize;
        self.pos = span.start + stop as u64;
        Ok(Some(piece.data.slice(start..stop)))
    }

    /// The reader as a stream of byte runs (an HTTP body).
    pub fn into_stream(self) -> impl Stream<Item = Result<Bytes, TransferError>> + Send + 'static {
        // After an error the stream ends.
        futures_util::stream::unfold(Some(self), |r| async move {
            let mut r = r?;
            match r.next().await {
                Ok(Some(b)) => Some((Ok(b), Some(r))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(first: u64, len: usize) -> Arc<Piece> {
        Arc::new(Piece { first, data: Bytes::from(vec![0u8; len]), macs: Vec::new() })
    }

    #[test]
    fn the_cache_drops_the_least_recently_used_beyond_its_budget() {
        let mut cache = Cache::default();
        let file: Arc<str> = Arc::from("f");
        let mib = 1 << 20;
        for i in 0..64 {
            cache.put((file.clone(), i), piece(i as u64, mib));
        }
        assert_eq!(cache.used, CACHE_BYTES);
        // Piece 0 is read again: piece 1 is now the oldest and goes first.
        assert!(cache.get(&(file.clone(), 0)).is_some());
        cache.put((file.clone(), 64), piece(64, mib));
        assert!(cache.get(&(file.clone(), 1)).is_none());
        assert!(cache.get(&(file.clone(), 0)).is_some());
        assert_eq!(cache.used, CACHE_BYTES);
        // A piece put again replaces itself.
        cache.put((file.clone(), 64), piece(64, mib));
        assert_eq!((cache.used, cache.pieces.len()), (CACHE_BYTES, 64));
    }

    #[test]
    fn pieces_are_whole_chunks_of_a_mebibyte_at_most_and_found_by_offset() {
        let size = (9 << 20) + 17;
        let pieces: Vec<Range<u64>> = crate::pieces::plan(size, &BTreeMap::new(), PIECE_SIZE).0.into();
        let spans: Vec<Range<u64>> = pieces.iter().map(|p| mega_api::chunk_span(p.clone(), size)).collect();
        assert_eq!(spans.first().map(|s| s.start), Some(0));
        assert_eq!(spans.last().map(|s| s.end), Some(size));
        assert!(spans.windows(2).all(|w| w[0].end == w[1].start));
        assert!(spans.iter().all(|s| s.end - s.start <= PIECE_SIZE));
        for (i, s) in spans.iter().enumerate() {
            assert_eq!((piece_at(&pieces, s.start), piece_at(&pieces, s.end - 1)), (i, i));
        }
    }
}
