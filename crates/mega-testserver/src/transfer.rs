//! Transfers: `u` and `g` (spec §4.1, §5.1), and the storage endpoints that take chunk POSTs and
//! serve byte ranges (§4.2, §5.2). The server stores ciphertext exactly as received; it cannot
//! and does not check MACs.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use mega_proto::{b64, chunks, ErrorCode, NodeHandle};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::api::{arg_int, CmdResult, Ctx};
use crate::faults::Faults;
use crate::store::{kind, random, random_id};
use crate::App;

/// `u`: an upload URL for `s` bytes.
pub(crate) fn upload_url(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let size = arg_int(cmd, "s").filter(|&s| s >= 0).ok_or(ErrorCode::Args)? as u64;
    let account = &ctx.store.accounts[&user];
    let used: u64 = account.roots.iter().map(|&r| ctx.store.usage(r).0).sum();
    if used.saturating_add(size) > account.storage_max {
        return Err(ErrorCode::OverQuota);
    }
    let id = ctx.store.new_upload(user, size);
    Ok(json!({"p": format!("{}ul/{id}", ctx.base)}))
}

/// `g`: a file's size and attributes, and with `g:1` a download URL. The node is the user's own
/// (`n`) or a public file link's (`p`).
pub(crate) fn download(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let node = if let Some(link) = ctx.folder_link {
        // A file inside a folder link: it must lie below the exported folder.
        let root = link?;
        let h = cmd.get("n").and_then(Value::as_str).ok_or(ErrorCode::Args)?;
        let h = NodeHandle::from_b64(h).map_err(|_| ErrorCode::Args)?;
        if !ctx.store.nodes.contains_key(&h) || !ctx.store.is_within(h, root) {
            return Err(ErrorCode::NotFound);
        }
        h
    } else if let Some(p) = cmd.get("p").and_then(Value::as_str) {
        let ph = NodeHandle::from_b64(p).map_err(|_| ErrorCode::Args)?;
        let node = *ctx.store.links.get(&ph).ok_or(ErrorCode::NotFound)?;
        if ctx.store.taken_down.contains(&ph) {
            return Err(ErrorCode::Blocked);
        }
        node
    } else {
        let user = ctx.user()?;
        let h = cmd.get("n").and_then(Value::as_str).ok_or(ErrorCode::Args)?;
        let h = NodeHandle::from_b64(h).map_err(|_| ErrorCode::Args)?;
        if !ctx.store.nodes.contains_key(&h) {
            return Err(ErrorCode::NotFound);
        }
        if !ctx.store.can_read(user, h) {
            return Err(ErrorCode::Access);
        }
        h
    };
    let n = ctx.store.nodes.get(&node).ok_or(ErrorCode::NotFound)?;
    if n.t != kind::FILE {
        return Err(ErrorCode::Args);
    }
    let mut reply = json!({"s": n.s, "at": n.a, "msd": 1});
    if let Some(fa) = &n.fa {
        reply["fa"] = json!(fa);
    }
    if arg_int(cmd, "g") == Some(1) {
        let id = random_id();
        reply["g"] = json!(format!("{}dl/{id}", ctx.base));
        ctx.store.downloads.insert(id, (node, ctx.user));
    }
    Ok(reply)
}

/// Read and write size of the storage endpoints.
const STREAM_BUFFER: usize = 1 << 20;
/// Piece size when bandwidth is limited.
const PACE_PIECE: usize = 16 << 10;

fn text(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

fn code(e: ErrorCode) -> Response {
    text(StatusCode::OK, e.code().to_string())
}

/// `POST /ul/<id>[/<offset>]`: one or more whole chunks at a chunk boundary, streamed to disk.
pub(crate) async fn upload_chunk(
    State(app): State<Arc<App>>,
    Path(rest): Path<String>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: axum::http::HeaderMap,
    body: Body,
) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let id = parts[0].to_string();
    let offset = match parts.get(1).filter(|o| !o.is_empty()).map(|o| o.parse::<u64>()) {
        None => 0,
        Some(Ok(o)) => o,
        Some(Err(_)) => return code(ErrorCode::Range),
    };
    let (path, size, faults) = {
        let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
        let Some(up) = store.uploads.get(&id) else { return code(ErrorCode::Expired) };
        (up.path.clone(), up.size, store.faults.clone())
    };
    if Faults::hit(faults.http500) {
        return text(StatusCode::INTERNAL_SERVER_ERROR, String::new());
    }
    if Faults::hit(faults.expired) {
        return code(ErrorCode::Expired);
    }
    if !chunks::is_boundary(offset) || offset > size {
        return code(ErrorCode::Range);
    }
    // A declared length can be checked before reading; the body is checked again as it streams.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared {
        let end = offset.saturating_add(len);
        if end > size || (end != size && !chunks::is_boundary(end)) {
            return code(ErrorCode::Range);
        }
    }
    let written = match write_body(&app, &path, offset, size, body, q.contains_key("d")).await {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    let end = offset + written.len;
    if end != size && !chunks::is_boundary(end) {
        return code(ErrorCode::Range);
    }
    if let Some(d) = q.get("d") {
        if b64::decode(d) != written.checksum {
            return code(ErrorCode::Key);
        }
    }
    let mut store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    let store = &mut *store;
    let Some(up) = store.uploads.get_mut(&id) else { return code(ErrorCode::Expired) };
    if !up.record(offset, end) {
        return text(StatusCode::OK, if q.contains_key("d") { "0".into() } else { String::new() });
    }
    // The token: 36 characters of the b64 alphabet, so clients that take the body as text and
    // clients that b64-encode the raw bytes both work (`p` accepts either form).
    let token = up.token.get_or_insert_with(|| b64::encode(&random::<27>())).clone();
    store.tokens.insert(token.clone(), id);
    text(StatusCode::OK, token)
}

struct Written {
    len: u64,
    checksum: [u8; 12],
}

/// Streams a request body into the upload's file at `offset`, never past `size`, in writes of
/// up to [`STREAM_BUFFER`] bytes that take turns with the upload's other requests.
async fn write_body(
    app: &App,
    path: &std::path::Path,
    offset: u64,
    size: u64,
    body: Body,
    checksum: bool,
) -> Result<Written, Response> {
    let mut own = app.throttle.connection_bucket();
    let failed = |_| code(ErrorCode::Failed);
    let file =
        tokio::fs::OpenOptions::new().create(true).write(true).truncate(false).open(path).await.map_err(failed)?;
    let file = Arc::new(file.into_std().await);
    let writer = app.upload_writer(path);
    let mut stream = body.into_data_stream();
    let mut len = 0u64;
    let mut crc = [0u8; 12];
    // File offset of `buf[0]`.
    let mut at = offset;
    let mut buf = Vec::with_capacity(STREAM_BUFFER);
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(|_| code(ErrorCode::Failed))?;
        if offset + len + piece.len() as u64 > size {
            return Err(code(ErrorCode::Range));
        }
        if checksum {
            // The piece's own fold, turned to where the piece starts in the body.
            for (i, b) in mega_proto::content::upload_checksum(&piece).into_iter().enumerate() {
                crc[(len as usize + i) % 12] ^= b;
            }
        }
        app.throttle.pace(&mut own, piece.len() as u64).await;
        buf.extend_from_slice(&piece);
        len += piece.len() as u64;
        if buf.len() >= STREAM_BUFFER {
            let n = buf.len() as u64;
            buf = write_at(&writer, &file, at, buf).await.map_err(failed)?;
            at += n;
        }
    }
    if !buf.is_empty() {
        write_at(&writer, &file, at, buf).await.map_err(failed)?;
    }
    if offset + len == size {
        let f = file.clone();
        tokio::task::spawn_blocking(move || f.set_len(size))
            .await
            .map_err(|_| code(ErrorCode::Failed))?
            .map_err(failed)?;
    }
    Ok(Written { len, checksum: crc })
}

/// Writes `buf` at `at` on a blocking thread, in the upload's turn; gives the buffer back empty.
async fn write_at(
    writer: &tokio::sync::Mutex<()>,
    file: &Arc<std::fs::File>,
    at: u64,
    mut buf: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let _turn = writer.lock().await;
    let f = file.clone();
    tokio::task::spawn_blocking(move || {
        f.write_all_at(&buf, at)?;
        buf.clear();
        Ok(buf)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// `GET|POST /dl/<id>[/<start>-<end>]`: the ciphertext, whole or an inclusive range.
pub(crate) async fn download_range(State(app): State<Arc<App>>, Path(rest): Path<String>) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let id = parts[0].to_string();
    let (blob, charged, faults) = {
        let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
        let Some(&(h, charged)) = store.downloads.get(&id) else { return text(StatusCode::NOT_FOUND, String::new()) };
        let Some(node) = store.nodes.get(&h) else { return text(StatusCode::NOT_FOUND, String::new()) };
        (node.blob.clone(), charged, store.faults.clone())
    };
    if Faults::hit(faults.http500) {
        return text(StatusCode::INTERNAL_SERVER_ERROR, String::new());
    }
    if Faults::hit(faults.expired) {
        return text(StatusCode::FORBIDDEN, String::new());
    }
    if Faults::hit(faults.slow) {
        tokio::time::sleep(faults.slow_delay).await;
    }
    let size = blob.as_ref().map_or(0, |b| b.size);
    let (start, end) = match parts.get(1).filter(|r| !r.is_empty()) {
        None => (0, size),
        Some(r) => {
            let Some((a, b)) =
                r.split_once('-').and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)))
            else {
                return text(StatusCode::BAD_REQUEST, String::new());
            };
            // `end` is inclusive; clients that send `size` as the end get the rest of the file.
            let end = b.saturating_add(1).min(size);
            if a > end || (a == end && size > 0) {
                return text(StatusCode::RANGE_NOT_SATISFIABLE, String::new());
            }
            (a, end)
        }
    };
    {
        let mut store = app.store.lock().unwrap_or_else(|e| e.into_inner());
        if !store.charge_transfer(charged, end - start) {
            // Over the transfer quota: 509 and when it frees (spec §4.2).
            let left = store.quota_time_left().to_string();
            return (
                StatusCode::from_u16(509).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                [("X-MEGA-Time-Left", left)],
                "",
            )
                .into_response();
        }
    }
    let Some(blob) = blob else { return text(StatusCode::OK, String::new()) };
    // Streamed from disk in large reads: a 1 GiB download never sits in memory.
    let mut file = match tokio::fs::File::open(&blob.path).await {
        Ok(f) => f,
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, String::new()),
    };
    if file.seek(std::io::SeekFrom::Start(start)).await.is_err() {
        return text(StatusCode::INTERNAL_SERVER_ERROR, String::new());
    }
    let len = end - start;
    // A reset stops after half the bytes with an error (the connection is torn down); a
    // truncation ends cleanly but short of the announced length.
    let (limit, fail) = if Faults::hit(faults.reset) {
        (len / 2, true)
    } else if Faults::hit(faults.truncate) {
        (len / 2, false)
    } else {
        (len, false)
    };
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(limit), STREAM_BUFFER);
    let tail = futures_util::stream::iter(
        fail.then(|| Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected reset"))),
    );
    let stream = stream.chain(tail);
    if app.throttle.active() {
        // Paced in small pieces, so the rate holds within each response too.
        let pieces = stream.flat_map(|piece| {
            futures_util::stream::iter(match piece {
                Ok(bytes) => (0..bytes.len())
                    .step_by(PACE_PIECE)
                    .map(|i| Ok(bytes.slice(i..(i + PACE_PIECE).min(bytes.len()))))
                    .collect::<Vec<_>>(),
                Err(e) => vec![Err(e)],
            })
        });
        let own = app.throttle.connection_bucket();
        let paced =
            futures_util::stream::unfold((Box::pin(pieces), own, app.clone()), |(mut s, mut own, app)| async move {
                let piece = s.next().await?;
                app.throttle.pace(&mut own, piece.as_ref().map_or(0, |b| b.len() as u64)).await;
                Some((piece, (s, own, app)))
            });
        return octets(len, Body::from_stream(paced));
    }
    octets(len, Body::from_stream(stream))
}

fn octets(len: u64, body: Body) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream".to_string()), (header::CONTENT_LENGTH, len.to_string())],
        body,
    )
        .into_response()
}
