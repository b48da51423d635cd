//! One file up: pieces read, encrypted and MACed by several workers and POSTed at their chunk
//! offsets; finished chunks (with their MACs) journaled with the upload URL and the content key,
//! so a restart continues on the same URL while it is valid; then `p` with the name and the
//! fingerprint (with the mtime).

use std::collections::VecDeque;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::try_join_all;
use mega_api::{ChunkAck, ErrorKind, NodeHandle, Tree, UploadCipher};
use mega_proto::chunks;
use mega_proto::fingerprint::Fingerprint;
use tokio::sync::watch;

use crate::download::{local_crc, Meter, SYNC_EVERY};
use crate::engine::{Control, Inner, Outcome, TransferError};
use crate::journal::{JobRecord, JobSpec};
use crate::slots::Pool;
use crate::{pieces, thumbnails};

/// A file's modification time, unix seconds.
pub(crate) fn mtime_of(meta: &std::fs::Metadata) -> i64 {
    meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64)
}

/// Is a file with this name, size and content fingerprint already in `parent`?
pub(crate) fn is_on_server(
    tree: &Tree,
    parent: NodeHandle,
    name: &str,
    local: &Path,
    size: u64,
) -> Result<bool, TransferError> {
    let same_size: Vec<Option<Fingerprint>> = tree
        .children_named(parent, name)
        .filter(|n| n.is_file() && n.size() == size)
        .map(|n| n.fingerprint())
        .collect();
    if same_size.iter().all(Option::is_none) {
        return Ok(false);
    }
    let crc = local_crc(local, size)?;
    Ok(same_size.iter().flatten().any(|fp| fp.crc == crc))
}

struct Shared {
    pieces: Mutex<VecDeque<Range<u64>>>,
    pending: Mutex<Vec<(u64, [u8; 16])>>,
    token: Mutex<Option<String>>,
    bytes: AtomicU64,
}

/// Runs an upload job to its end (or to a pause/cancel/error).
pub(crate) async fn run(
    inner: &Inner,
    rec: &JobRecord,
    control: watch::Receiver<Control>,
) -> Result<Outcome, TransferError> {
    let session = inner.session.as_ref().ok_or_else(|| TransferError::NotSignedIn)?;
    let tree = inner.tree.as_ref().ok_or_else(|| TransferError::NotSignedIn)?;
    let mut rec = rec.clone();
    let mut restarts = 0;
    loop {
        let JobSpec::Upload { local, parent, name, size, mtime, url, cipher } = &mut rec.spec else {
            return Err(TransferError::JournalDamaged("not an upload".into()));
        };
        let meta = std::fs::metadata(&*local).map_err(TransferError::local(local))?;
        if meta.len() != *size || mtime_of(&meta) != *mtime {
            // Changed since it was queued: start this file over.
            *size = meta.len();
            *mtime = mtime_of(&meta);
            *url = None;
            *cipher = None;
            inner.journal.clear_chunks(&rec.id)?;
        }
        let (size, mtime) = (*size, *mtime);
        // Finished before a crash that came between `p` and the journal's clean-up: the file is
        // there already, and must not be sent twice.
        let parent_h = NodeHandle::from_b64(parent).map_err(|_| damaged())?;
        if is_on_server(&*tree.lock().await, parent_h, name, local, size)? {
            return Ok(Outcome::Skipped);
        }
        let c = Arc::new(match cipher {
            Some((k, n)) => {
                let k: [u8; 16] = mega_proto::b64::decode_exact(k, "key").map_err(|_| damaged())?;
                let n: [u8; 8] = mega_proto::b64::decode_exact(n, "nonce").map_err(|_| damaged())?;
                UploadCipher::from_parts(k, n)
            }
            None => {
                let c = UploadCipher::new();
                let (k, n) = c.parts();
                *cipher = Some((mega_proto::b64::encode(&k[..]), mega_proto::b64::encode(&n)));
                c
            }
        });
        let upload_url = match url {
            Some(u) => u.clone(),
            None => {
                let u = session.upload_url(size).await?;
                *url = Some(u.clone());
                u
            }
        };
        let (local, parent_b64, name) = (local.clone(), parent.clone(), name.clone());
        // A small file (one piece) starts over after a crash: its URL, key and chunks are not
        // worth an fsync each.
        let durable = Pool::of_size(size) == Pool::Big;
        if durable {
            inner.journal.save(&rec)?;
        }
        match send_missing(inner, &rec.id, &local, size, &c, &upload_url, durable, &control).await {
            Ok((token, sent)) => {
                let mut done = inner.journal.chunks(&rec.id)?;
                done.extend(sent);
                let macs: Vec<[u8; 16]> =
                    (0..chunks::chunk_count(size)).filter_map(|i| done.get(&i).copied()).collect();
                let key = c.file_key(&macs);
                let crc = local_crc(&local, size)?;
                let parent = NodeHandle::from_b64(&parent_b64).map_err(|_| damaged())?;
                let fp = Fingerprint { crc, mtime };
                // The tree is locked only around the command, so that the `p`s of many small
                // files go out together.
                let node = session.finish_upload_shared(tree, parent, &token, &name, &key, Some(&fp)).await?;
                if thumbnails::is_picture(&local) {
                    let path = local.clone();
                    let attrs = tokio::task::spawn_blocking(move || thumbnails::make(&path)).await.ok().flatten();
                    if let Some(attrs) = attrs {
                        // The file is up and verified; a thumbnail that fails is only noted.
                        if let Err(e) = session.put_file_attributes(node, &key, &attrs).await {
                            tracing::warn!("thumbnail of {name} not attached: {e}");
                        }
                    }
                }
                return Ok(Outcome::Done { path: None, node: Some(node) });
            }
            Err(TransferError::Api(e))
                if matches!(e.kind(), ErrorKind::RestartUpload | ErrorKind::Expired)
                    && restarts < inner.config.max_retries =>
            {
                restarts += 1;
                let delay = inner.client.retry_policy().backoff(restarts);
                let of = inner.config.max_retries.to_string();
                inner.say_retry(&rec.id, &e, "starting this file over", delay, restarts, &of);
                inner.pause_for(delay, &control).await?;
                if let JobSpec::Upload { url, cipher, .. } = &mut rec.spec {
                    *url = None;
                    *cipher = None;
                }
                inner.journal.clear_chunks(&rec.id)?;
            }
            Err(e) => return Err(e),
        }
    }
}

fn damaged() -> TransferError {
    TransferError::JournalDamaged("its upload state".into())
}

/// Sends every chunk not journaled yet; returns the completion token, and the MACs of chunks
/// sent but not journaled (when not `durable`).
#[allow(clippy::too_many_arguments)]
async fn send_missing(
    inner: &Inner,
    id: &str,
    local: &Path,
    size: u64,
    cipher: &Arc<UploadCipher>,
    url: &str,
    durable: bool,
    control: &watch::Receiver<Control>,
) -> Result<(String, Vec<(u64, [u8; 16])>), TransferError> {
    let done = inner.journal.chunks(id)?;
    let count = chunks::chunk_count(size);
    let (mut pieces, before) = pieces::plan(size, &done, inner.config.piece_size);
    // Every chunk was sent before a restart, but the token was lost with it: send the last
    // piece again, the server answers with the token.
    if pieces.is_empty() {
        pieces.push_back(count.saturating_sub(1)..count);
    }
    let file = Arc::new(File::open(local).map_err(TransferError::local(local))?);
    let shared = Shared {
        pieces: Mutex::new(pieces),
        pending: Mutex::new(Vec::new()),
        token: Mutex::new(None),
        bytes: AtomicU64::new(0),
    };
    let workers =
        inner.config.connections_per_file.min(shared.pieces.lock().unwrap_or_else(|e| e.into_inner()).len().max(1));
    let work = try_join_all(
        (0..workers).map(|_| worker(inner, id, local, &file, size, cipher, url, &shared, control.clone())),
    );
    tokio::pin!(work);
    let mut tick = tokio::time::interval(SYNC_EVERY);
    let mut meter = Meter::new(before, size);
    let result = loop {
        tokio::select! {
            r = &mut work => break r.map(|_| ()),
            _ = tick.tick() => {
                if durable {
                    let pending = std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
                    inner.journal.append_chunks(id, &pending)?;
                }
                inner.emit(meter.progress(id, before + shared.bytes.load(Ordering::Relaxed)));
            }
        }
    };
    let pending = std::mem::take(&mut *shared.pending.lock().unwrap_or_else(|e| e.into_inner()));
    if durable {
        inner.journal.append_chunks(id, &pending)?;
    }
    inner.emit(meter.progress(id, before + shared.bytes.load(Ordering::Relaxed)));
    result?;
    let token = shared.token.lock().unwrap_or_else(|e| e.into_inner()).take();
    let token = token.ok_or_else(|| {
        TransferError::Unavailable("the storage server gave no completion token after the last chunk".into())
    })?;
    Ok((token, if durable { Vec::new() } else { pending }))
}

#[allow(clippy::too_many_arguments)]
async fn worker(
    inner: &Inner,
    id: &str,
    local: &Path,
    file: &Arc<File>,
    size: u64,
    cipher: &Arc<UploadCipher>,
    url: &str,
    shared: &Shared,
    control: watch::Receiver<Control>,
) -> Result<(), TransferError> {
    let mut failures = 0;
    // The worker's piece buffer, refilled from one piece to the next (see the download's).
    let mut buffer = Vec::new();
    loop {
        pieces::check(&control)?;
        let Some(piece) = pieces::next(&shared.pieces, size, inner.up.rate()) else { return Ok(()) };
        let span = mega_api::chunk_span(piece.clone(), size);
        let len = (span.end - span.start) as usize;
        // Read, encrypted and MACed on a blocking thread, beside the other workers' requests.
        let (f, c, path, mut buf) = (file.clone(), cipher.clone(), local.to_path_buf(), std::mem::take(&mut buffer));
        let (buf, macs) = tokio::task::spawn_blocking(move || {
            buf.resize(len, 0);
            f.read_exact_at(&mut buf, span.start).map_err(TransferError::local(&path))?;
            let macs = c.encrypt_chunks(span.start, &mut buf, size)?;
            Ok::<_, TransferError>((buf, macs))
        })
        .await
        .map_err(|e| TransferError::Unavailable(e.to_string()))??;
        inner.up.take(span.end - span.start).await;
        let body = Bytes::from(buf);
        let sent = inner.client.send_chunk(url, span.start, body.clone()).await;
        // The storage comes back once the request has let go of it.
        if let Ok(b) = body.try_into_mut() {
            buffer = b.into();
        }
        match sent {
            Ok(ack) => {
                failures = 0;
                if let ChunkAck::Done(token) = ack {
                    *shared.token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token);
                }
                shared.pending.lock().unwrap_or_else(|e| e.into_inner()).extend((piece.start..piece.end).zip(macs));
                shared.bytes.fetch_add(span.end - span.start, Ordering::Relaxed);
            }
            Err(e) if e.is_temporary() => {
                // Failures in a row of this worker: the client's policy bounds and spaces them.
                failures += 1;
                shared.pieces.lock().unwrap_or_else(|e| e.into_inner()).push_front(piece);
                inner.back_off(id, e, failures, 1, "sending the chunks again", &control).await?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}
