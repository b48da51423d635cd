//! Node commands: `f`, `p`, `m`, `d`, `a`, `l` (spec §3, §5.3, §6.1 to §6.4), each appending
//! the action packets that tell the user's other sessions (§6.6).

use std::collections::HashMap;

use mega_proto::{b64, ErrorCode, NodeHandle, UserHandle};
use serde_json::{json, Value};

use crate::api::{arg_int, arg_str, CmdResult, Ctx};
use crate::store::{kind, now, sn, Node, Store};

fn handle(cmd: &Value, key: &str) -> Result<NodeHandle, ErrorCode> {
    NodeHandle::from_b64(arg_str(cmd, key)?).map_err(|_| ErrorCode::Args)
}

/// A node of `user`'s, or ENOENT (EACCESS for someone else's).
fn own_node(store: &Store, user: UserHandle, h: NodeHandle) -> Result<&Node, ErrorCode> {
    let n = store.nodes.get(&h).ok_or(ErrorCode::NotFound)?;
    if n.owner != user {
        return Err(ErrorCode::Access);
    }
    Ok(n)
}

fn request_id(cmd: &Value) -> Value {
    cmd.get("i").cloned().unwrap_or(Value::Null)
}

/// `f` inside a folder link: the folder and everything below it, each key field cut down to the
/// entries for the share (what the link key opens; spec §7.4).
fn fetch_folder_link(store: &Store, root: NodeHandle) -> CmdResult {
    let prefix = format!("{root}:");
    let nodes: Vec<Value> = store
        .subtree(root)
        .iter()
        .map(|h| {
            let mut n = store.nodes[h].to_json();
            let k: Vec<&str> = store.nodes[h].k.split('/').filter(|e| e.starts_with(&prefix)).collect();
            n["k"] = json!(k.join("/"));
            n
        })
        .collect();
    let owner = store.nodes[&root].owner;
    Ok(json!({"f": nodes, "ok": [], "s": [], "u": [], "sn": sn(store.seq(owner))}))
}

/// `f`: the whole tree of the user, parents before children (spec §3.1).
pub(crate) fn fetch(ctx: &mut Ctx<'_>, _cmd: &Value) -> CmdResult {
    if let Some(link) = ctx.folder_link {
        return fetch_folder_link(ctx.store, link?);
    }
    let user = ctx.user()?;
    let store = &*ctx.store;
    let account = &store.accounts[&user];
    let mut nodes = Vec::new();
    for root in account.roots {
        for h in store.subtree(root) {
            nodes.push(store.nodes[&h].to_json());
        }
    }
    let mut links = Vec::new();
    for (node, ph) in &store.exported {
        if store.nodes.get(node).is_some_and(|n| n.owner == user) {
            links.push(json!({"h": node.to_b64(), "ph": ph.to_b64()}));
        }
    }
    let mut shares = Vec::new();
    let mut ok = Vec::new();
    for (node, (share_ok, ha, ts)) in &store.shares {
        if store.nodes.get(node).is_some_and(|n| n.owner == user) {
            shares.push(json!({"h": node.to_b64(), "u": "EXP", "r": 0, "ts": ts}));
            if let (Some(k), Some(ha)) = (share_ok, ha) {
                ok.push(json!({"h": node.to_b64(), "ha": ha, "k": k}));
            }
        }
    }
    Ok(json!({
        "f": nodes,
        "ok": ok,
        "s": shares,
        "u": [{"u": user.to_b64(), "c": 2, "m": account.email, "ts": account.since}],
        "ph": links,
        "sn": sn(store.seq(user)),
    }))
}

/// Checks a client-supplied wrapped key (b64 of 16 or 32 bytes).
fn wrapped_key(cmd: &Value) -> Result<String, ErrorCode> {
    let k = arg_str(cmd, "k")?;
    let raw = b64::decode_all(k, "key").map_err(|_| ErrorCode::Args)?;
    if raw.len() != 16 && raw.len() != 32 {
        return Err(ErrorCode::Args);
    }
    Ok(k.to_string())
}

/// The upload behind a `p` entry's `h`: the 36-character token as returned, or its b64 form.
fn upload_for_token(store: &Store, h: &str) -> Option<String> {
    if let Some(id) = store.tokens.get(h) {
        return Some(id.clone());
    }
    let raw = b64::decode_all(h, "token").ok()?;
    store.tokens.get(std::str::from_utf8(&raw).ok()?).cloned()
}

/// `p`: new folders, and files from completed uploads (spec §5.3).
pub(crate) fn put(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let target = handle(cmd, "t")?;
    if !kind::is_container(own_node(ctx.store, user, target)?.t) {
        return Err(ErrorCode::Args);
    }
    let entries = cmd.get("n").and_then(Value::as_array).ok_or(ErrorCode::Args)?;
    // Validate every entry before changing anything.
    struct New {
        placeholder: String,
        parent_ref: Option<String>,
        t: u8,
        a: String,
        k: String,
        upload: Option<String>,
        fa: Option<String>,
    }
    let mut plan = Vec::with_capacity(entries.len());
    for e in entries {
        let t = arg_int(e, "t").ok_or(ErrorCode::Args)?;
        let a = arg_str(e, "a")?.to_string();
        b64::decode_all(&a, "attributes").map_err(|_| ErrorCode::Args)?;
        let k = wrapped_key(e)?;
        let h = e.get("h").and_then(Value::as_str).unwrap_or("").to_string();
        let upload = match t {
            0 => {
                let id = upload_for_token(ctx.store, &h).ok_or(ErrorCode::Incomplete)?;
                if ctx.store.uploads.get(&id).is_none_or(|u| u.user != user) {
                    return Err(ErrorCode::Access);
                }
                Some(id)
            }
            1 => None,
            _ => return Err(ErrorCode::Args),
        };
        let fa = e.get("fa").and_then(Value::as_str).map(|fa| {
            fa.split('/')
                .filter(|p| !p.is_empty())
                .map(|p| format!("{}:{p}", crate::files::CLUSTER))
                .collect::<Vec<_>>()
                .join("/")
        });
        let parent_ref = e.get("p").and_then(Value::as_str).map(str::to_string);
        plan.push(New { placeholder: h, parent_ref, t: t as u8, a, k, upload, fa });
    }
    let mut created: HashMap<String, NodeHandle> = HashMap::new();
    let mut created_order = Vec::with_capacity(plan.len());
    let mut out = Vec::with_capacity(plan.len());
    for New { placeholder, parent_ref, t, a, k, upload, fa } in plan {
        let parent = parent_ref.as_ref().and_then(|p| created.get(p).copied()).unwrap_or(target);
        let h = ctx.store.new_handle();
        let (s, blob) = match upload {
            Some(id) => {
                let up = ctx.store.uploads.remove(&id).ok_or(ErrorCode::Incomplete)?;
                if let Some(token) = &up.token {
                    ctx.store.tokens.remove(token);
                }
                let blob = crate::store::Blob { path: up.path, size: up.size };
                (up.size, Some(std::sync::Arc::new(blob)))
            }
            None => (0, None),
        };
        let node = Node { h, p: Some(parent), owner: user, t, a, k: format!("{user}:{k}"), s, ts: now(), fa, blob };
        out.push(node.to_json());
        created_order.push(h);
        ctx.store.insert_node(node);
        if !placeholder.is_empty() {
            created.insert(placeholder, h);
        }
    }
    if let Some(cr) = cmd.get("cr") {
        ctx.store.apply_cr(cr, |r| created.get(r).copied().or_else(|| NodeHandle::from_b64(r).ok()));
        for (n, h) in out.iter_mut().zip(created_order.iter()) {
            n["k"] = json!(ctx.store.nodes[h].k);
        }
    }
    ctx.store.push_packet(user, json!({"a": "t", "t": {"f": out.clone()}, "ou": user.to_b64(), "i": request_id(cmd)}));
    Ok(json!({"f": out}))
}

/// `m`: moves a node (spec §6.1). A move into its own subtree is ECIRCULAR.
pub(crate) fn move_node(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    let t = handle(cmd, "t")?;
    let node = own_node(ctx.store, user, n)?;
    if node.p.is_none() {
        return Err(ErrorCode::Access);
    }
    if !kind::is_container(own_node(ctx.store, user, t)?.t) {
        return Err(ErrorCode::Args);
    }
    if ctx.store.is_within(t, n) {
        return Err(ErrorCode::Circular);
    }
    ctx.store.detach(n);
    if let Some(node) = ctx.store.nodes.get_mut(&n) {
        node.p = Some(t);
    }
    ctx.store.children.entry(t).or_default().push(n);
    if let Some(cr) = cmd.get("cr") {
        ctx.store.apply_cr(cr, |r| NodeHandle::from_b64(r).ok());
    }
    let i = request_id(cmd);
    let moved: Vec<Value> = ctx.store.subtree(n).iter().map(|h| ctx.store.nodes[h].to_json()).collect();
    ctx.store.push_packet(user, json!({"a": "d", "n": n.to_b64(), "ou": user.to_b64(), "i": i, "m": 1}));
    ctx.store.push_packet(user, json!({"a": "t", "t": {"f": moved}, "ou": user.to_b64(), "i": i}));
    Ok(json!(0))
}

/// `d`: deletes a subtree permanently (spec §6.2).
pub(crate) fn delete(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    if own_node(ctx.store, user, n)?.p.is_none() {
        return Err(ErrorCode::Access);
    }
    ctx.store.remove_subtree(n);
    ctx.store.push_packet(user, json!({"a": "d", "n": n.to_b64(), "ou": user.to_b64(), "i": request_id(cmd)}));
    Ok(json!(0))
}

/// `a`: replaces a node's attributes (`at`, or go-mega's `attr`; spec §6.3).
pub(crate) fn set_attr(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    let at = cmd.get("at").or_else(|| cmd.get("attr")).and_then(Value::as_str).ok_or(ErrorCode::Args)?;
    b64::decode_all(at, "attributes").map_err(|_| ErrorCode::Args)?;
    if own_node(ctx.store, user, n)?.p.is_none() {
        return Err(ErrorCode::Access);
    }
    let ts = now();
    if let Some(node) = ctx.store.nodes.get_mut(&n) {
        node.a = at.to_string();
    }
    ctx.store.push_packet(
        user,
        json!({"a": "u", "n": n.to_b64(), "u": user.to_b64(), "at": at, "ts": ts, "i": request_id(cmd)}),
    );
    Ok(json!(0))
}

/// `l`: exports a node (a stable public handle) or, with `d:1`, removes the export (spec §6.4).
pub(crate) fn link(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    let node = own_node(ctx.store, user, n)?;
    if node.p.is_none() {
        return Err(ErrorCode::Access);
    }
    if arg_int(cmd, "d") == Some(1) {
        let ph = ctx.store.exported.remove(&n).ok_or(ErrorCode::NotFound)?;
        ctx.store.links.remove(&ph);
        ctx.store.push_packet(user, json!({"a": "ph", "h": n.to_b64(), "ph": ph.to_b64(), "d": 1}));
        return Ok(json!(0));
    }
    if let Some(ph) = ctx.store.exported.get(&n) {
        return Ok(json!(ph.to_b64()));
    }
    let ph = ctx.store.new_handle();
    ctx.store.links.insert(ph, n);
    ctx.store.exported.insert(n, ph);
    ctx.store.push_packet(user, json!({"a": "ph", "h": n.to_b64(), "ph": ph.to_b64()}));
    Ok(json!(ph.to_b64()))
}

/// `s2`: shares a folder. Only the `EXP` share of folder links is supported: `r:0` exports it
/// (storing `ok`/`ha` and applying `cr`), `r:""` withdraws it.
pub(crate) fn share(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    if own_node(ctx.store, user, n)?.t != crate::store::kind::FOLDER {
        return Err(ErrorCode::Args);
    }
    let targets = cmd.get("s").and_then(Value::as_array).ok_or(ErrorCode::Args)?;
    for s in targets {
        if s.get("u").and_then(Value::as_str) != Some("EXP") {
            return Err(ErrorCode::Access);
        }
        match s.get("r") {
            Some(Value::String(r)) if r.is_empty() => {
                ctx.store.shares.remove(&n);
            }
            Some(_) => {
                let ok = cmd.get("ok").and_then(Value::as_str).map(str::to_string);
                let ha = cmd.get("ha").and_then(Value::as_str).map(str::to_string);
                ctx.store.shares.insert(n, (ok, ha, now()));
                if let Some(cr) = cmd.get("cr") {
                    ctx.store.apply_cr(cr, |r| NodeHandle::from_b64(r).ok());
                }
            }
            None => return Err(ErrorCode::Args),
        }
    }
    ctx.store.push_packet(user, json!({"a": "s2", "n": n.to_b64(), "u": "EXP", "i": request_id(cmd)}));
    Ok(json!(0))
}
