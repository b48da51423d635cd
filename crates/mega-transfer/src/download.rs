//! One file down: pieces of whole chunks fetched by several workers, decrypted and MACed
//! (interleaved, in `mega-proto`), written at their offsets into the job's own hidden
//! temporary file ([`part_path`]); finished chunks journaled after their bytes are fsynced; the
//! meta-MAC checked over every chunk MAC; then fsync and an atomic rename that never replaces
//! what is at the final name unless the job may overwrite ([`crate::Conflict`]). A mismatch
//! fetches the whole file once more, then fails: a file at the final name is always complete
//! and verified. The temporary file and the rename are in [`part`].

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::try_join_all;
use mega_api::{verify_meta_mac, DownloadUrl, ErrorKind, FileKey, NodeHandle};
use mega_proto::chunks;
use mega_proto::fingerprint::{self, Fingerprint};
use tokio::sync::watch;

use crate::engine::{file_key, Control, Inner, Outcome, TransferError};
use crate::events::Event;
use crate::journal::{JobRecord, JobSpec, Source};
use crate::pieces;
use crate::slots::Pool;

mod part;

pub(crate) use part::remove_part;
use part::{create_part, finish, open_left};
pub use part::{part_path, PART_SUFFIX};

/// How often finished chunks are fsynced and journaled (and progress reported).
pub(crate) const SYNC_EVERY: Duration = Duration::from_millis(250);

/// Is the local file the same as the remote one (size, and the content fingerprint when the
/// remote one has it)?
pub(crate) fn is_identical(path: &Path, size: u64, remote: Option<&Fingerprint>) -> Result<bool, TransferError> {
    let Ok(meta) = std::fs::metadata(path) else { return Ok(false) };
    if !meta.is_file() || meta.len() != size {
        return Ok(false);
    }
    let Some(remote) = remote else { return Ok(false) };
    Ok(local_crc(path, size)? == remote.crc)
}

/// The fingerprint CRC of a local file (sparse sampling for big files).
pub(crate) fn local_crc(path: &Path, size: u64) -> Result<[u8; 16], TransferError> {
    let f = File::open(path).map_err(TransferError::local(path))?;
    fingerprint::crc_with(size, |off, buf| f.read_exact_at(buf, off)).map_err(TransferError::local(path))
}

/// A download URL for a job's source, waiting out the transfer quota (as many times in a row
/// as the client's retry policy has attempts).
pub(crate) async fn url_for(
    inner: &Inner,
    id: &str,
    source: &Source,
    size: u64,
    control: &watch::Receiver<Control>,
) -> Result<DownloadUrl, TransferError> {
    let mut waits = 0;
    loop {
        let r = match source {
            Source::Own { node } => {
                let session = inner.session.as_ref().ok_or_else(|| TransferError::NotSignedIn)?;
                session.download_url(handle(node)?).await
            }
            Source::Public { handle: ph } => inner.client.public_download_url(handle(ph)?).await,
            Source::InFolderLink { link, node } => {
                let link = mega_proto::link::parse_plain(link)
                    .map_err(|_| TransferError::JournalDamaged("its folder link".into()))?;
                inner.client.open_folder_link(&link)?.download_url(handle(node)?).await
            }
        };
        match r {
            Err(e) if matches!(e.kind(), ErrorKind::Quota { .. }) => {
                waits += 1;
                if waits >= inner.client.retry_policy().max_attempts {
                    return Err(TransferError::GaveUp { source: e, failures: waits });
                }
                let ErrorKind::Quota { time_left } = e.kind() else { unreachable!() };
                inner.quota_wait(id, time_left, control).await?;
            }
            Ok(url) if url.size != size => {
                return Err(TransferError::SourceChanged(format!(
                    "the server reports {} bytes for a file of {size}: the file changed, queue it again",
                    url.size
                )));
            }
            other => return other.map_err(Into::into),
        }
    }
}

fn handle(b: &str) -> Result<NodeHandle, TransferError> {
    NodeHandle::from_b64(b).map_err(|_| TransferError::JournalDamaged("its node handle".into()))
}

/// What the workers of one file share.
struct Shared {
    pieces: Mutex<VecDeque<Range<u64>>>,
    url: tokio::sync::Mutex<(DownloadUrl, u64)>,
    pending: Mutex<Vec<(u64, [u8; 16])>>,
    bytes: AtomicU64,
    failures: AtomicU32,
    /// The workers fetching the file.
    workers: u32,
}

/// Runs a download job to its end (or to a pause/cancel/error).
pub(crate) async fn run(
    inner: &Inner,
    rec: &JobRecord,
    control: watch::Receiver<Control>,
) -> Result<Outcome, TransferError> {
    let JobSpec::Download { source, key, size, path, mtime, overwrite } = &rec.spec else {
        return Err(TransferError::JournalDamaged("not a download".into()));
    };
    let key = file_key(key)?;
    let part = part_path(path, &rec.id);
    let left = open_left(&part)?;
    let part_len = match &left {
        Some(f) => Some(f.metadata().map_err(TransferError::local(&part))?.len()),
        None => None,
    };
    let journaled = !inner.journal.chunks(&rec.id)?.is_empty();
    // Renamed into place just before a crash, before the journal was cleared: a file of the
    // size at the final name, with the mtime it was given (when the remote file has one).
    let placed_before = |m: std::fs::Metadata| {
        let secs = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs());
        m.is_file() && m.len() == *size && mtime.is_none_or(|t| u64::try_from(t).ok() == secs)
    };
    if part_len.is_none() && journaled && std::fs::symlink_metadata(path).is_ok_and(placed_before) {
        return Ok(Outcome::Done { path: Some(path.clone()), node: None });
    }
    if part_len != Some(*size) {
        // The journal's chunks describe bytes that are not there (any more): fetch them again.
        inner.journal.clear_chunks(&rec.id)?;
    }
    let file = match left {
        Some(f) => f,
        None => create_part(&part)?,
    };
    if part_len != Some(*size) {
        file.set_len(*size).map_err(TransferError::local(&part))?;
    }
    let file = Arc::new(file);
    let count = chunks::chunk_count(*size);
    let mut fetched_again = false;
    loop {
        let done = inner.journal.chunks(&rec.id)?;
        let durable = Pool::of_size(*size) == Pool::Big;
        let job = FileJob { durable, inner, rec, source, key: &key, size: *size, file: &file, part: &part };
        let fetched = fetch_missing(&job, &done, &control).await?;
        let mut all = inner.journal.chunks(&rec.id)?;
        all.extend(fetched);
        let macs: Option<Vec<[u8; 16]>> = (0..count).map(|i| all.get(&i).copied()).collect();
        let macs = macs.ok_or_else(|| TransferError::Unavailable("chunks missing after the download".into()))?;
        // An empty file has no content to check, and clients disagree on the meta-MAC of no
        // chunks (rclone's differs from the SDK's): it is accepted as empty.
        if *size == 0 {
            break;
        }
        match verify_meta_mac(&key, &macs) {
            Ok(()) => break,
            Err(_) if !fetched_again => {
                fetched_again = true;
                inner.journal.clear_chunks(&rec.id)?;
                inner.emit(Event::Retrying {
                    id: rec.id.clone(),
                    reason: "MAC mismatch: fetching the file again".into(),
                });
            }
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&part);
                return Err(e.into());
            }
        }
    }
    // mtime, fsync, rename and the folder's fsync on a blocking thread: many small files
    // finishing at once wait on the disk side by side, not one after another.
    let (mtime, part_c, path_c, overwrite) = (*mtime, part.clone(), path.clone(), *overwrite);
    let claimed = inner.claimed.clone();
    let placed = tokio::task::spawn_blocking(move || finish(&file, mtime, &part_c, &path_c, overwrite, &claimed))
        .await
        .map_err(|e| TransferError::Unavailable(e.to_string()))??;
    Ok(Outcome::Done { path: Some(placed), node: None })
}

/// One file's download, as its workers see it.
struct FileJob<'a> {
    /// Chunks journaled as they finish (not for small files: one piece, fetched again whole
    /// after a crash, so fsyncing and journaling it would only cost time).
    durable: bool,
    inner: &'a Inner,
    rec: &'a JobRecord,
    source: &'a Source,
    key: &'a FileKey,
    size: u64,
    file: &'a Arc<File>,
    part: &'a Path,
}

/// Fetches every chunk not in `done` with the file's workers; returns the MACs of chunks
/// fetched but not journaled (those of a small file).
async fn fetch_missing(
    job: &FileJob<'_>,
    done: &BTreeMap<u64, [u8; 16]>,
    control: &watch::Receiver<Control>,
) -> Result<Vec<(u64, [u8; 16])>, TransferError> {
    let inner = job.inner;
    let (pieces, before) = pieces::plan(job.size, done, inner.config.piece_size);
    if pieces.is_empty() {
        return Ok(Vec::new());
    }
    let url = url_for(inner, &job.rec.id, job.source, job.size, control).await?;
    let workers = inner.config.connections_per_file.min(pieces.len());
    let shared = Shared {
        pieces: Mutex::new(pieces),
        url: tokio::sync::Mutex::new((url, 0)),
        pending: Mutex::new(Vec::new()),
        bytes: AtomicU64::new(0),
        failures: AtomicU32::new(0),
        workers: workers as u32,
    };
    let work = try_join_all((0..workers).map(|_| worker(job, &shared, control.clone())));
    tokio::pin!(work);
    let mut tick = tokio::time::interval(SYNC_EVERY);
    let mut meter = Meter::new(before, job.size);
    let id = &job.rec.id;
    let result = loop {
        tokio::select! {
            r = &mut work => break r.map(|_| ()),
            _ = tick.tick() => {
                flush(job, &shared).await?;
                inner.emit(meter.progress(id, before + shared.bytes.load(Ordering::Relaxed)));
            }
        }
    };
    // Whatever finished is kept, also when a pause, cancel or error stopped the rest.
    flush(job, &shared).await?;
    inner.emit(meter.progress(id, before + shared.bytes.load(Ordering::Relaxed)));
    result?;
    let unjournaled = std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
    Ok(unjournaled)
}

/// Fsyncs the file, then journals the chunks written since the last flush.
async fn flush(job: &FileJob<'_>, shared: &Shared) -> Result<(), TransferError> {
    if !job.durable {
        return Ok(());
    }
    let (inner, id, file) = (job.inner, &job.rec.id, job.file);
    let pending = std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
    if pending.is_empty() {
        return Ok(());
    }
    let f = file.clone();
    tokio::task::spawn_blocking(move || f.sync_data())
        .await
        .map_err(|e| TransferError::Unavailable(e.to_string()))?
        .map_err(TransferError::local(job.part))?;
    inner.journal.append_chunks(id, &pending)?;
    Ok(())
}

async fn worker(job: &FileJob<'_>, shared: &Shared, control: watch::Receiver<Control>) -> Result<(), TransferError> {
    let FileJob { inner, rec, source, key, size, file, part, .. } = *job;
    // The worker's piece buffer, refilled from one piece to the next: memory stays at the
    // pieces in flight instead of growing with the allocator's leftovers.
    let mut buffer: Option<Vec<u8>> = None;
    loop {
        pieces::check(&control)?;
        let Some(piece) = pieces::next(&shared.pieces, size, inner.down.rate()) else { return Ok(()) };
        let span = mega_api::chunk_span(piece.clone(), size);
        inner.down.take(span.end - span.start).await;
        let (url, generation) = shared.url.lock().await.clone();
        // Chunks are written and queued for the journal as they arrive: a piece cut off
        // half-way (a kill, a broken connection) keeps its whole chunks.
        let mut at = piece.start;
        let result = async {
            let mut stream = inner.client.open_chunks(&url, key, piece.clone(), SYNC_EVERY).await?;
            if let Some(b) = buffer.take() {
                stream.recycle(b);
            }
            while let Some(c) = stream.next().await? {
                let (f, offset, len, n) = (file.clone(), c.offset, c.data.len() as u64, c.macs.len() as u64);
                let data = c.data;
                let data = tokio::task::spawn_blocking(move || f.write_all_at(&data, offset).map(|()| data))
                    .await
                    .map_err(|e| TransferError::Unavailable(e.to_string()))?
                    .map_err(TransferError::local(part))?;
                stream.recycle(data);
                shared.pending.lock().unwrap_or_else(|e| e.into_inner()).extend((at..at + n).zip(c.macs));
                at += n;
                shared.bytes.fetch_add(len, Ordering::Relaxed);
                shared.failures.store(0, Ordering::Relaxed);
            }
            buffer = stream.into_buffer();
            Ok::<(), TransferError>(())
        }
        .await;
        match result {
            Ok(()) => {}
            Err(TransferError::Api(e)) => {
                let piece = at..piece.end;
                shared.pieces.lock().unwrap_or_else(|e| e.into_inner()).push_front(piece);
                // Failures in a row (any chunk arriving resets them) are bounded by the
                // client's retry policy and backed off: storage that answers 403 to every fresh
                // URL, a 509 that never ends or a dead network end the job.
                let kind = e.kind();
                if !kind.is_retryable_later() {
                    return Err(e.into());
                }
                let n = shared.failures.fetch_add(1, Ordering::Relaxed) + 1;
                let workers = shared.workers;
                match kind {
                    ErrorKind::Quota { time_left } => {
                        if n >= inner.retry_limit(workers) {
                            return Err(TransferError::GaveUp { source: e, failures: n });
                        }
                        inner.quota_wait(&rec.id, time_left, &control).await?
                    }
                    ErrorKind::Expired => {
                        let mut u = shared.url.lock().await;
                        if u.1 == generation {
                            let what = "asking for a new download URL";
                            inner.back_off(&rec.id, e, n, workers, what, &control).await?;
                            *u = (url_for(inner, &rec.id, source, size, &control).await?, generation + 1);
                        }
                    }
                    _ => inner.back_off(&rec.id, e, n, workers, "trying again", &control).await?,
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// Speed and ETA from the bytes done, smoothed.
pub(crate) struct Meter {
    total: u64,
    last: (Instant, u64),
    speed: f64,
}

impl Meter {
    pub(crate) fn new(done: u64, total: u64) -> Self {
        Meter { total, last: (Instant::now(), done), speed: 0.0 }
    }

    pub(crate) fn progress(&mut self, id: &str, done: u64) -> Event {
        let now = Instant::now();
        let dt = now.duration_since(self.last.0).as_secs_f64();
        if dt > 0.05 {
            let instant = done.saturating_sub(self.last.1) as f64 / dt;
            self.speed = if self.speed == 0.0 { instant } else { 0.7 * self.speed + 0.3 * instant };
            self.last = (now, done);
        }
        let left = self.total.saturating_sub(done);
        let eta = (self.speed > 1.0).then(|| Duration::from_secs_f64(left as f64 / self.speed));
        Event::Progress { id: id.to_string(), done, total: self.total, speed: self.speed as u64, eta }
    }
}
