//! File attributes: thumbnails and previews (spec §6.5). `ufa` hands out an upload URL (or, with
//! `fah`, a download URL); the blobs are opaque encrypted bytes kept by an 8-byte handle; `pfa`
//! attaches them to a node.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use mega_proto::storage::parse_file_attrs;
use mega_proto::{ErrorCode, NodeHandle};
use serde_json::{json, Value};

use crate::api::{arg_str, CmdResult, Ctx};
use crate::store::{random, random_id};
use crate::App;

/// The storage cluster id the server puts in front of file-attribute entries.
pub(crate) const CLUSTER: u32 = 924;

/// `ufa`: a URL to upload a file attribute to, or with `fah` one to download from.
pub(crate) fn ufa(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    if cmd.get("fah").is_some() {
        return Ok(json!({"p": format!("{}fa/get", ctx.base)}));
    }
    ctx.user()?;
    Ok(json!({"p": format!("{}fa/up/{}", ctx.base, random_id())}))
}

/// `pfa`: attaches file attributes to a node; returns its new `fa` string.
pub(crate) fn pfa(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = NodeHandle::from_b64(arg_str(cmd, "n")?).map_err(|_| ErrorCode::Args)?;
    let given = parse_file_attrs(arg_str(cmd, "fa")?);
    if given.is_empty() || given.iter().any(|a| !ctx.store.file_attrs.contains_key(&a.handle.0)) {
        return Err(ErrorCode::Args);
    }
    let scope = ctx.store.scope_of(n);
    let node = ctx.store.nodes.get_mut(&n).ok_or(ErrorCode::NotFound)?;
    if node.owner != user {
        return Err(ErrorCode::Access);
    }
    // One entry per type: a new thumbnail replaces the old one.
    let mut entries: Vec<(u32, String)> = node
        .fa
        .as_deref()
        .map(parse_file_attrs)
        .unwrap_or_default()
        .iter()
        .map(|a| (a.kind, a.handle.to_b64()))
        .collect();
    for a in given {
        entries.retain(|(k, _)| *k != a.kind);
        entries.push((a.kind, a.handle.to_b64()));
    }
    entries.sort();
    let fa = entries.iter().map(|(k, h)| format!("{CLUSTER}:{k}*{h}")).collect::<Vec<_>>().join("/");
    node.fa = Some(fa.clone());
    ctx.store.push_packet(user, json!({"a": "fa", "n": n.to_b64(), "fa": fa}), scope);
    Ok(json!(fa))
}

/// `POST /fa/up/<id>[/<type>]`: stores the encrypted bytes; the reply is the 8 raw bytes of
/// the new handle.
pub(crate) async fn upload(State(app): State<Arc<App>>, Path(_rest): Path<String>, body: Bytes) -> Response {
    let handle: [u8; 8] = random();
    app.store.lock().unwrap_or_else(|e| e.into_inner()).file_attrs.insert(handle, body.to_vec());
    app.mark_dirty();
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], handle.to_vec()).into_response()
}

/// `POST /fa/get[/<type>]` with concatenated 8-byte handles: `handle || len (u32 LE) || data`
/// for each one that exists.
pub(crate) async fn fetch(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = Vec::new();
    for h in body.chunks_exact(8) {
        let mut handle = [0u8; 8];
        handle.copy_from_slice(h);
        if let Some(data) = store.file_attrs.get(&handle) {
            out.extend_from_slice(&handle);
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(data);
        }
    }
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/octet-stream")], out).into_response()
}
