//! The event channel (spec §6.6): `sc` answers at once with the packets after the client's `sn`
//! or with a wait URL; the wait URL and `wsc` block until something happens (or a timeout).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use mega_proto::{ErrorCode, NodeHandle, UserHandle};
use serde_json::{json, Value};

use crate::store::{cut_keys, kind, parse_sn, sn};
use crate::{json_response, App};

/// How long a wait URL or `wsc` blocks before answering anyway.
pub(crate) const LONG_POLL: Duration = Duration::from_secs(60);

enum Poll {
    Packets(Value),
    Wait(UserHandle, u64),
    Error(ErrorCode),
}

fn poll(app: &App, q: &HashMap<String, String>) -> Poll {
    let store = app.store.lock().unwrap_or_else(|e| e.into_inner());
    // Inside a folder link (`n`): the owner's log, only what happens inside the folder.
    let (user, folder) = if let Some(n) = q.get("n") {
        let root = n
            .get(..8)
            .and_then(|h| NodeHandle::from_b64(h).ok())
            .and_then(|ph| store.links.get(&ph).copied())
            .filter(|root| store.nodes.get(root).is_some_and(|n| n.t == kind::FOLDER));
        match root {
            Some(root) => (store.nodes[&root].owner, Some(root)),
            None => return Poll::Error(ErrorCode::NotFound),
        }
    } else {
        match q.get("sid").and_then(|s| app.session_user(&store, s)) {
            Some(user) => (user, None),
            None => return Poll::Error(ErrorCode::Sid),
        }
    };
    let Some(from) = q.get("sn").and_then(|s| parse_sn(s)) else {
        return Poll::Error(ErrorCode::NotFound);
    };
    let Some(log) = store.packets.get(&user) else { return Poll::Error(ErrorCode::Sid) };
    if from > log.seq() {
        return Poll::Error(ErrorCode::NotFound);
    }
    // Before what is kept (the server restarted): the client must fetch the tree again.
    let Some(new) = log.since(from) else { return Poll::Error(ErrorCode::TooMany) };
    if new.is_empty() {
        return Poll::Wait(user, from);
    }
    let packets: Vec<Value> = match folder {
        None => new.iter().map(|p| p.v.clone()).collect(),
        Some(root) => new.iter().filter(|p| p.scope.contains(&root)).map(|p| cut_keys(&p.v, root)).collect(),
    };
    Poll::Packets(json!({"a": packets, "sn": sn(log.seq())}))
}

/// `POST /sc?sn=..&sid=..`.
pub(crate) async fn sc(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    match poll(&app, &q) {
        Poll::Packets(v) => json_response(&v),
        Poll::Error(e) => json_response(&json!(e.code())),
        Poll::Wait(user, from) => {
            json_response(&json!({"w": format!("{}wait/{user}/{}", app.base, sn(from)), "sn": sn(from)}))
        }
    }
}

/// `POST /wsc?sn=..&sid=..`: the SDK's long poll; `{"a":[],"sn":same}` on timeout.
pub(crate) async fn wsc(State(app): State<Arc<App>>, Query(q): Query<HashMap<String, String>>) -> Response {
    match poll(&app, &q) {
        Poll::Packets(v) => json_response(&v),
        Poll::Error(e) => json_response(&json!(e.code())),
        Poll::Wait(user, from) => {
            wait_for(&app, user, from).await;
            match poll(&app, &q) {
                Poll::Packets(v) => json_response(&v),
                _ => json_response(&json!({"a": [], "sn": sn(from)})),
            }
        }
    }
}

/// `GET|POST /wait/<user>/<sn>`: blocks until the user's log passes `sn`. The body is empty.
pub(crate) async fn wait(State(app): State<Arc<App>>, Path((user, from)): Path<(String, String)>) -> Response {
    if let (Ok(user), Some(from)) = (UserHandle::from_b64(&user), parse_sn(&from)) {
        wait_for(&app, user, from).await;
    }
    json_response(&json!(0))
}

async fn wait_for(app: &App, user: UserHandle, from: u64) {
    let mut changes = app.changes.subscribe();
    let deadline = tokio::time::Instant::now() + LONG_POLL;
    loop {
        let seq = app.store.lock().unwrap_or_else(|e| e.into_inner()).seq(user);
        if seq > from {
            return;
        }
        if tokio::time::timeout_at(deadline, changes.changed()).await.is_err() {
            return;
        }
    }
}
