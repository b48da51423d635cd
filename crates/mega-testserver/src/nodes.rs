//! Node commands: `f`, `p`, `m`, `d`, `a`, `l` (spec §3, §5.3, §6.1 to §6.4), each appending
//! the action packets that tell the user's other sessions (§6.6).

use std::collections::HashMap;

use mega_proto::{b64, ErrorCode, NodeHandle, UserHandle};
use serde_json::{json, Value};

use crate::api::{arg_int, arg_str, CmdResult, Ctx};
use crate::store::{cut_key, kind, now, sn, Node, Share, Store};

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

/// The nodes of `f` as JSON text, each key field cut to one share's entries when `cut` is set.
/// A big tree is written by one thread per core, each its own run of nodes, joined in order: the
/// client waits for the first byte until the whole reply is written.
fn write_nodes(store: &Store, out: &mut String, handles: &[NodeHandle], cut: Option<NodeHandle>) {
    const PER_THREAD_MIN: usize = 50_000;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || handles.len() < 2 * PER_THREAD_MIN {
        return write_run(store, out, handles, cut);
    }
    let runs: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = handles
            .chunks(handles.len().div_ceil(threads))
            .map(|run| {
                scope.spawn(move || {
                    let mut text = String::with_capacity(run.len() * 200);
                    text.push('[');
                    write_run(store, &mut text, run, cut);
                    text
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("a node writer panicked")).collect()
    });
    for run in runs {
        if !out.ends_with('[') {
            out.push(',');
        }
        out.push_str(&run[1..]);
    }
}

fn write_run(store: &Store, out: &mut String, handles: &[NodeHandle], cut: Option<NodeHandle>) {
    for h in handles {
        let n = &store.nodes[h];
        if !out.ends_with('[') {
            out.push(',');
        }
        match cut {
            Some(share) => n.write_json(out, &cut_key(&n.k, share)),
            None => n.write_json(out, &n.k),
        }
    }
}

/// `f` inside a folder link: the folder and everything below it, each key field cut down to the
/// entries for the share (what the link key opens; spec §7.4).
fn fetch_folder_link(store: &Store, root: NodeHandle) -> Result<String, ErrorCode> {
    let mut out = String::from(r#"{"f":["#);
    write_nodes(store, &mut out, &store.subtree(root), Some(root));
    let owner = store.nodes[&root].owner;
    out.push_str(&format!(r#"],"ok":[],"s":[],"u":[],"ipc":[],"opc":[],"ps":[],"sn":"{}"}}"#, sn(store.seq(owner))));
    Ok(out)
}

/// `f`: the whole tree of the user, parents before children, then the folders shared with them
/// (spec §3.1), as JSON text.
pub(crate) fn fetch(ctx: &mut Ctx<'_>, _cmd: &Value) -> Result<String, ErrorCode> {
    if let Some(link) = ctx.folder_link {
        return fetch_folder_link(ctx.store, link?);
    }
    let user = ctx.user()?;
    let store = &*ctx.store;
    let account = &store.accounts[&user];
    let mut out = String::with_capacity(store.nodes.len().min(4_000_000) * 200);
    out.push_str(r#"{"f":["#);
    for root in account.roots {
        write_nodes(store, &mut out, &store.subtree(root), None);
    }
    let mut links = Vec::new();
    for (node, ph) in &store.exported {
        if store.nodes.get(node).is_some_and(|n| n.owner == user) {
            links.push(json!({"h": node.to_b64(), "ph": ph.to_b64(), "ts": store.link_created(*node)}));
        }
    }
    let mut users = vec![json!({"u": user.to_b64(), "c": 2, "m": account.email, "ts": account.since})];
    let mut add_contact = |u: UserHandle| {
        let Some(a) = store.accounts.get(&u) else { return };
        if !users.iter().any(|v| v["u"] == json!(u.to_b64())) {
            users.push(json!({"u": u.to_b64(), "c": 1, "m": a.email, "ts": a.since}));
        }
    };
    let mut out_shares = Vec::new();
    let mut ok = Vec::new();
    let mut sorted: Vec<_> = store.shares.iter().collect();
    sorted.sort_by_key(|(_, s)| s.ts);
    for (&folder, share) in &sorted {
        let Some(node) = store.nodes.get(&folder) else { continue };
        if node.owner == user {
            if share.exported {
                out_shares.push(json!({"h": folder.to_b64(), "u": "EXP", "r": 0, "ts": share.ts}));
            }
            for u in &share.users {
                out_shares.push(json!({"h": folder.to_b64(), "u": u.user.to_b64(), "r": u.r, "ts": u.ts}));
                add_contact(u.user);
            }
            if let (Some(k), Some(ha)) = (&share.ok, &share.ha) {
                ok.push(json!({"h": folder.to_b64(), "ha": ha, "k": k}));
            }
        } else if let Some(mine) = share.users.iter().find(|u| u.user == user) {
            // An incoming share: its root carries who shares it and the share key for us.
            add_contact(node.owner);
            let mut root = node.to_json();
            root["k"] = json!(cut_key(&node.k, folder));
            root["su"] = json!(node.owner.to_b64());
            if !mine.sk.is_empty() {
                root["sk"] = json!(mine.sk);
            }
            root["r"] = json!(mine.r);
            root["sts"] = json!(mine.ts);
            if !out.ends_with('[') {
                out.push(',');
            }
            out.push_str(&root.to_string());
            write_nodes(store, &mut out, &store.subtree(folder)[1..], Some(folder));
        }
    }
    out.push_str(&format!(
        r#"],"ok":{},"s":{},"u":{},"ph":{},"ipc":[],"opc":[],"ps":[],"sn":"{}"}}"#,
        Value::from(ok),
        Value::from(out_shares),
        Value::from(users),
        Value::from(links),
        sn(store.seq(user))
    ));
    Ok(out)
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

/// Where a new file's content comes from.
enum Source {
    /// A completed upload (its URL id).
    Upload(String),
    /// An existing file: a copy within the drive, from a share, from inside a folder link, or
    /// from a public file link (`ph`).
    Node(NodeHandle),
}

/// The content of a `p` file entry: `h` is an upload token or a readable file's handle, or `ph`
/// a public file link's handle.
fn file_source(store: &Store, user: UserHandle, entry: &Value, h: &str) -> Result<Source, ErrorCode> {
    let existing = |n: NodeHandle| -> Result<Source, ErrorCode> {
        if store.nodes.get(&n).is_none_or(|n| n.t != kind::FILE) {
            return Err(ErrorCode::NotFound);
        }
        Ok(Source::Node(n))
    };
    if let Some(ph) = entry.get("ph").and_then(Value::as_str) {
        let ph = NodeHandle::from_b64(ph).map_err(|_| ErrorCode::Args)?;
        return existing(*store.links.get(&ph).ok_or(ErrorCode::NotFound)?);
    }
    if h.len() == 8 {
        let n = NodeHandle::from_b64(h).map_err(|_| ErrorCode::Args)?;
        if store.nodes.contains_key(&n) && !store.can_read(user, n) && !store.is_public(n) {
            return Err(ErrorCode::Access);
        }
        return existing(n);
    }
    let id = upload_for_token(store, h).ok_or(ErrorCode::Incomplete)?;
    if store.uploads.get(&id).is_none_or(|u| u.user != user) {
        return Err(ErrorCode::Access);
    }
    Ok(Source::Upload(id))
}

/// `p`: new folders; files from completed uploads, copies of existing files and imports from
/// public links (spec §5.3).
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
        source: Option<Source>,
        fa: Option<String>,
    }
    let mut plan = Vec::with_capacity(entries.len());
    for e in entries {
        let t = arg_int(e, "t").ok_or(ErrorCode::Args)?;
        let a = arg_str(e, "a")?.to_string();
        b64::decode_all(&a, "attributes").map_err(|_| ErrorCode::Args)?;
        let k = wrapped_key(e)?;
        let h = e.get("h").and_then(Value::as_str).unwrap_or("").to_string();
        let source = match t {
            0 => Some(file_source(ctx.store, user, e, &h)?),
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
        // A copy keeps the source's thumbnails unless the entry names its own.
        let fa = fa.or_else(|| match &source {
            Some(Source::Node(src)) => ctx.store.nodes[src].fa.clone(),
            _ => None,
        });
        plan.push(New { placeholder: h, parent_ref, t: t as u8, a, k, source, fa });
    }
    let mut created: HashMap<String, NodeHandle> = HashMap::new();
    let mut created_order = Vec::with_capacity(plan.len());
    let mut out = Vec::with_capacity(plan.len());
    for New { placeholder, parent_ref, t, a, k, source, fa } in plan {
        let parent = parent_ref.as_ref().and_then(|p| created.get(p).copied()).unwrap_or(target);
        let h = ctx.store.new_handle();
        let (s, blob) = match source {
            Some(Source::Upload(id)) => {
                let up = ctx.store.uploads.remove(&id).ok_or(ErrorCode::Incomplete)?;
                if let Some(token) = &up.token {
                    ctx.store.tokens.remove(token);
                }
                let blob = crate::store::Blob { path: up.path, size: up.size };
                (up.size, Some(std::sync::Arc::new(blob)))
            }
            // Copies share the stored ciphertext, as the service deduplicates it.
            Some(Source::Node(src)) => {
                let n = &ctx.store.nodes[&src];
                (n.s, n.blob.clone())
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
    let packet = json!({"a": "t", "t": {"f": out.clone()}, "ou": user.to_b64(), "i": request_id(cmd)});
    ctx.store.push_packet(user, packet, ctx.store.scope_of(target));
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
    let old_scope = ctx.store.scope_of(n);
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
    ctx.store.push_packet(user, json!({"a": "d", "n": n.to_b64(), "ou": user.to_b64(), "i": i, "m": 1}), old_scope);
    let new_scope = ctx.store.scope_of(t);
    ctx.store.push_packet(user, json!({"a": "t", "t": {"f": moved}, "ou": user.to_b64(), "i": i}), new_scope);
    Ok(json!(0))
}

/// `d`: deletes a subtree permanently (spec §6.2).
pub(crate) fn delete(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    if own_node(ctx.store, user, n)?.p.is_none() {
        return Err(ErrorCode::Access);
    }
    let scope = ctx.store.scope_of(n);
    ctx.store.remove_subtree(n);
    ctx.store.push_packet(user, json!({"a": "d", "n": n.to_b64(), "ou": user.to_b64(), "i": request_id(cmd)}), scope);
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
    let packet = json!({"a": "u", "n": n.to_b64(), "u": user.to_b64(), "at": at, "ts": ts, "i": request_id(cmd)});
    ctx.store.push_packet(user, packet, ctx.store.scope_of(n));
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
        ctx.store.link_ts.remove(&n);
        let scope = ctx.store.scope_of(n);
        ctx.store.push_packet(user, json!({"a": "ph", "h": n.to_b64(), "ph": ph.to_b64(), "d": 1}), scope);
        return Ok(json!(0));
    }
    let (ph, new) = ctx.store.export(n);
    if new {
        // `n`: a new link; `ts` its creation (the SDK ignores a `ph` packet without either).
        let packet = json!({"a": "ph", "h": n.to_b64(), "ph": ph.to_b64(), "n": 1, "ts": ctx.store.link_created(n)});
        let scope = ctx.store.scope_of(n);
        ctx.store.push_packet(user, packet, scope);
    }
    Ok(json!(ph.to_b64()))
}

/// `s2`: shares a folder. Only the `EXP` share of folder links is supported: `r:0` exports it
/// (storing `ok`/`ha` and applying `cr`), `r:""` withdraws it. A folder shared already keeps
/// its key: an `ok` other than the stored one changes nothing and gets the stored `ok`/`ha`
/// back, as the service answers a client that would re-key a share (the SDK reads it as
/// EKEY).
pub(crate) fn share(ctx: &mut Ctx<'_>, cmd: &Value) -> CmdResult {
    let user = ctx.user()?;
    let n = handle(cmd, "n")?;
    if own_node(ctx.store, user, n)?.t != crate::store::kind::FOLDER {
        return Err(ErrorCode::Args);
    }
    let targets = cmd.get("s").and_then(Value::as_array).ok_or(ErrorCode::Args)?;
    let ok = cmd.get("ok").and_then(Value::as_str);
    let ha = cmd.get("ha").and_then(Value::as_str);
    let exporting = targets.iter().any(|s| s.get("r").is_some_and(|r| r.as_str() != Some("")));
    if let (Some(ok), Some(existing), true) = (ok, ctx.store.shares.get(&n), exporting) {
        if let Some(stored) = existing.ok.as_deref().filter(|stored| *stored != ok) {
            return Ok(json!({"ok": stored, "ha": existing.ha.clone().unwrap_or_default()}));
        }
    }
    let mut packets = Vec::new();
    for s in targets {
        if s.get("u").and_then(Value::as_str) != Some("EXP") {
            return Err(ErrorCode::Access);
        }
        // The packet the owner's other sessions get (the SDK ignores one without `o`; no `r`
        // means the share is gone).
        let mut packet = json!({"a": "s2", "n": n.to_b64(), "o": user.to_b64(), "u": "EXP", "i": request_id(cmd)});
        match s.get("r") {
            Some(Value::String(r)) if r.is_empty() => {
                if let Some(share) = ctx.store.shares.get_mut(&n) {
                    share.exported = false;
                    packet["ts"] = json!(share.ts);
                    if share.users.is_empty() {
                        ctx.store.shares.remove(&n);
                    }
                }
            }
            Some(_) => {
                let share = ctx.store.shares.entry(n).or_insert_with(|| Share { ts: now(), ..Share::default() });
                share.exported = true;
                if let Some(ok) = ok {
                    share.ok = Some(ok.to_string());
                    packet["ok"] = json!(ok);
                }
                if let Some(ha) = ha {
                    share.ha = Some(ha.to_string());
                    packet["ha"] = json!(ha);
                }
                packet["r"] = json!(arg_int(s, "r").unwrap_or(0));
                packet["ts"] = json!(share.ts);
                if let Some(cr) = cmd.get("cr") {
                    ctx.store.apply_cr(cr, |r| NodeHandle::from_b64(r).ok());
                }
            }
            None => return Err(ErrorCode::Args),
        }
        packets.push(packet);
    }
    for packet in packets {
        ctx.store.push_packet(user, packet, Vec::new());
    }
    Ok(json!(0))
}
