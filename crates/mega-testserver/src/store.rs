//! The server's state: accounts, sessions, the node tree, uploads, downloads, public links and
//! the action-packet log. One lock guards it all; no handler awaits while holding it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mega_proto::{b64, NodeHandle, UserHandle};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};

use crate::account::{Account, Version};

/// Node types (spec §3.1).
pub mod kind {
    /// A file.
    pub const FILE: u8 = 0;
    /// A folder.
    pub const FOLDER: u8 = 1;
    /// The cloud drive root.
    pub const ROOT: u8 = 2;
    /// The inbox (vault).
    pub const INBOX: u8 = 3;
    /// The rubbish bin.
    pub const RUBBISH: u8 = 4;

    /// Can a node of this type hold children?
    pub fn is_container(t: u8) -> bool {
        matches!(t, FOLDER | ROOT | INBOX | RUBBISH)
    }
}

/// Stored ciphertext of a file, exactly as uploaded.
#[derive(Debug)]
pub struct Blob {
    /// Where the bytes are.
    pub path: PathBuf,
    /// How many.
    pub size: u64,
}

/// A node.
#[derive(Debug, Clone)]
pub struct Node {
    /// Handle.
    pub h: NodeHandle,
    /// Parent; none for the roots.
    pub p: Option<NodeHandle>,
    /// Owner.
    pub owner: UserHandle,
    /// Type (see [`kind`]).
    pub t: u8,
    /// Encrypted attributes (b64), opaque to the server.
    pub a: String,
    /// Key field.
    pub k: String,
    /// Size (files).
    pub s: u64,
    /// Creation time.
    pub ts: i64,
    /// File attributes (thumbnails).
    pub fa: Option<String>,
    /// Content (files).
    pub blob: Option<Arc<Blob>>,
}

impl Node {
    /// The node as `f` and action packets show it: `h`, `p`, `u`, `t`, `a`, `k` and `ts` on
    /// every node, empty strings where a root has none (spec §3.1), `s` on files, `fa` when set.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "h": self.h.to_b64(),
            "p": self.p.map(|p| p.to_b64()).unwrap_or_default(),
            "u": self.owner.to_b64(),
            "t": self.t,
            "a": self.a,
            "k": self.k,
            "ts": self.ts,
        });
        if self.t == kind::FILE {
            v["s"] = json!(self.s);
        }
        if let Some(fa) = &self.fa {
            v["fa"] = json!(fa);
        }
        v
    }
}

/// A shared folder (spec §3.1, §6.4, §6.7).
#[derive(Debug, Clone, Default)]
pub struct Share {
    /// The share key wrapped with the owner's master key, as the owner's client sent it (`ok`).
    pub ok: Option<String>,
    /// The share's authentication hash (`ha`).
    pub ha: Option<String>,
    /// When the folder was first shared.
    pub ts: i64,
    /// Exported as a folder link (`EXP`).
    pub exported: bool,
    /// Users it is shared with.
    pub users: Vec<UserShare>,
}

/// A folder shared with one user.
#[derive(Debug, Clone)]
pub struct UserShare {
    /// Who it is shared with.
    pub user: UserHandle,
    /// Access level: 0 read-only, 1 read/write, 2 full.
    pub r: u8,
    /// The share key for that user: AES-wrapped with their master key, or RSA-encrypted; empty
    /// when it reached them through the key manager (`^!keys`) instead.
    pub sk: String,
    /// When it was shared.
    pub ts: i64,
}

/// One action packet and the shared folders it concerns (so that folder-link visitors and
/// share recipients see the changes inside what they can open).
#[derive(Debug, Clone)]
pub struct Packet {
    /// The packet as sent.
    pub v: Value,
    /// Shared folders that contained the changed node when it changed.
    pub scope: Vec<NodeHandle>,
}

/// A user's action-packet log. A packet's sequence number is `base` + its index + 1; packets
/// before `base` are gone (a server restart), and a client that asks for them gets `-6`.
#[derive(Debug, Clone, Default)]
pub struct Log {
    /// Sequence number of the first packet kept, minus one.
    pub base: u64,
    /// Packets kept.
    pub packets: Vec<Packet>,
}

impl Log {
    /// The current sequence number.
    pub fn seq(&self) -> u64 {
        self.base + self.packets.len() as u64
    }

    /// The packets after `sn`, or None if `sn` is before what is kept or in the future.
    pub fn since(&self, sn: u64) -> Option<&[Packet]> {
        let i = sn.checked_sub(self.base)?;
        self.packets.get(i as usize..)
    }
}

impl Node {
    /// Appends the node as `f` shows it, with its key field replaced by `k` (handles, keys and
    /// attributes are b64 and `fa` strings digits and b64, so nothing needs escaping).
    pub fn write_json(&self, out: &mut String, k: &str) {
        use std::fmt::Write;
        let _ = write!(out, r#"{{"h":"{}","p":""#, self.h);
        if let Some(p) = self.p {
            let _ = write!(out, "{p}");
        }
        let _ = write!(out, r#"","u":"{}","t":{},"a":"{}","k":"{}","ts":{}"#, self.owner, self.t, self.a, k, self.ts);
        if self.t == kind::FILE {
            let _ = write!(out, r#","s":{}"#, self.s);
        }
        if let Some(fa) = &self.fa {
            let _ = write!(out, r#","fa":"{fa}""#);
        }
        out.push('}');
    }
}

/// A login session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Whose.
    pub user: UserHandle,
    /// The session key the client sent at login (echoed on resume).
    pub sek: Option<String>,
}

/// An upload in progress or completed, addressed by its URL id.
#[derive(Debug)]
pub struct Upload {
    /// Whose.
    pub user: UserHandle,
    /// Announced size.
    pub size: u64,
    /// Where received bytes go.
    pub path: PathBuf,
    /// Received byte ranges (start, end), merged.
    pub received: Vec<(u64, u64)>,
    /// The completion token, once every byte is in.
    pub token: Option<String>,
}

impl Upload {
    /// Records `start..end` as received; returns true when the whole file is in.
    pub fn record(&mut self, start: u64, end: u64) -> bool {
        self.received.push((start, end));
        self.received.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(self.received.len());
        for &(a, b) in &self.received {
            match merged.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        self.received = merged;
        self.size == 0 || self.received.first() == Some(&(0, self.size))
    }
}

/// Everything the server knows.
#[derive(Debug)]
pub struct Store {
    /// Where blobs live.
    pub dir: PathBuf,
    /// Accounts by handle.
    pub accounts: HashMap<UserHandle, Account>,
    /// Account handles by lowercased e-mail.
    pub by_email: HashMap<String, UserHandle>,
    /// Sessions by raw sid.
    pub sessions: HashMap<Vec<u8>, Session>,
    /// Every node.
    pub nodes: HashMap<NodeHandle, Node>,
    /// Children of each node, in creation order.
    pub children: HashMap<NodeHandle, Vec<NodeHandle>>,
    /// Uploads by URL id.
    pub uploads: HashMap<String, Upload>,
    /// Completed uploads by token.
    pub tokens: HashMap<String, String>,
    /// Download URL ids to the node and the user charged for the transfer (none: anonymous).
    pub downloads: HashMap<String, (NodeHandle, Option<UserHandle>)>,
    /// Public handle -> node.
    pub links: HashMap<NodeHandle, NodeHandle>,
    /// Node -> public handle.
    pub exported: HashMap<NodeHandle, NodeHandle>,
    /// When each public link was made (`ts` of `f`'s `ph` entries and of `ph` packets; the SDK
    /// ignores a link without it). Not persisted: a link loaded from `--data` shows its node's
    /// creation time.
    pub link_ts: HashMap<NodeHandle, i64>,
    /// Public handles taken down (as after a takedown notice): `g` and a folder link's
    /// commands answer `-16` (EBLOCKED), as the real service does. Not persisted.
    pub taken_down: std::collections::HashSet<NodeHandle>,
    /// File attributes (thumbnails, previews) by their 8-byte handle: encrypted bytes.
    pub file_attrs: HashMap<[u8; 8], Vec<u8>>,
    /// Shared folders: exported as folder links (`EXP`) and/or shared with other users.
    pub shares: HashMap<NodeHandle, Share>,
    /// Action packets per user (see [`Log`]).
    pub packets: HashMap<UserHandle, Log>,
    /// User attributes (`uga`/`upv`) per user and name, as the client stored them.
    pub user_attrs: HashMap<UserHandle, HashMap<String, Value>>,
    /// Responses per (session or anonymous, request id), for replaying re-sent requests.
    pub replies: HashMap<(String, String), (Vec<u8>, Vec<u8>)>,
    /// Hashcash easiness when logins are challenged.
    pub hashcash: Option<u8>,
    /// Outstanding hashcash tokens and when they were issued.
    pub challenges: HashMap<[u8; 48], i64>,
    /// Transfer used and allowed for downloads without a session (public links).
    pub anon_transfer: (u64, u64),
    /// When the current transfer-quota window started.
    pub quota_window_start: i64,
    /// How long a transfer-quota window lasts, seconds.
    pub quota_window: i64,
    /// Injected faults.
    pub faults: crate::faults::Faults,
    /// Shares and folder links the server makes (seeding, the demo) are made as today's
    /// official apps make them: dummy `ok`/`ha`, the share key only in `^!keys` (the owner's,
    /// and an incoming share's recipient's), no `sk` on the recipient's share root.
    pub official_apps: bool,
    /// How commands arrived: per command name, for tests of request batching.
    pub command_stats: HashMap<String, CommandStats>,
}

/// How one kind of command arrived at `cs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandStats {
    /// Commands of this kind, in all.
    pub commands: u64,
    /// Requests that carried at least one.
    pub requests: u64,
    /// The most carried by one request.
    pub largest: u64,
}

/// How long a transfer-quota window lasts by default (seconds).
pub const QUOTA_WINDOW: i64 = 3600;

/// Random bytes.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// A random URL-safe id.
pub fn random_id() -> String {
    b64::encode(&random::<18>())
}

/// The current unix time.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// An `sn` for a sequence number: b64 of 8 big-endian bytes.
pub fn sn(seq: u64) -> String {
    b64::encode(&seq.to_be_bytes())
}

/// The sequence number of an `sn`.
pub fn parse_sn(s: &str) -> Option<u64> {
    b64::decode_exact::<8>(s, "sn").ok().map(u64::from_be_bytes)
}

impl Store {
    /// An empty store keeping blobs in `dir`.
    pub fn new(dir: &Path) -> Self {
        Store {
            dir: dir.to_path_buf(),
            accounts: HashMap::new(),
            by_email: HashMap::new(),
            sessions: HashMap::new(),
            nodes: HashMap::new(),
            children: HashMap::new(),
            uploads: HashMap::new(),
            tokens: HashMap::new(),
            downloads: HashMap::new(),
            links: HashMap::new(),
            exported: HashMap::new(),
            link_ts: HashMap::new(),
            taken_down: Default::default(),
            shares: HashMap::new(),
            user_attrs: HashMap::new(),
            file_attrs: HashMap::new(),
            packets: HashMap::new(),
            replies: HashMap::new(),
            command_stats: HashMap::new(),
            hashcash: None,
            challenges: HashMap::new(),
            anon_transfer: (0, u64::MAX),
            quota_window_start: now(),
            quota_window: QUOTA_WINDOW,
            faults: crate::faults::Faults::default(),
            official_apps: false,
        }
    }

    /// A fresh node handle.
    pub fn new_handle(&self) -> NodeHandle {
        loop {
            let h = NodeHandle(random());
            if !self.nodes.contains_key(&h) && !self.links.contains_key(&h) {
                return h;
            }
        }
    }

    /// Adds an account with its three roots. An existing e-mail is an error.
    pub fn add_account(&mut self, email: &str, password: &str, version: Version) -> Result<UserHandle, String> {
        let lower = email.to_lowercase();
        if self.by_email.contains_key(&lower) {
            return Err(format!("account {lower} exists"));
        }
        let roots = [self.new_handle(), self.new_handle(), self.new_handle()];
        let (account, keys) = Account::create(&lower, password, version, roots, now());
        let user = account.handle;
        let attrs = self.user_attrs.entry(user).or_default();
        for (name, value) in keys {
            attrs.insert(name.to_string(), json!({"av": value, "v": b64::encode(&random::<8>())}));
        }
        for (h, t) in roots.iter().zip([kind::ROOT, kind::INBOX, kind::RUBBISH]) {
            self.insert_node(Node {
                h: *h,
                p: None,
                owner: user,
                t,
                a: String::new(),
                k: String::new(),
                s: 0,
                ts: account.since,
                fa: None,
                blob: None,
            });
        }
        self.by_email.insert(lower, user);
        self.accounts.insert(user, account);
        self.packets.insert(user, Log::default());
        Ok(user)
    }

    /// Stores a user attribute with a fresh version, and tells the user's sessions (`ua`);
    /// returns the version.
    pub fn put_user_attr(&mut self, user: UserHandle, name: &str, value: String) -> String {
        let version = b64::encode(&random::<8>());
        self.user_attrs.entry(user).or_default().insert(name.to_string(), json!({"av": value, "v": version}));
        self.push_packet(user, json!({"a": "ua", "u": user.to_b64(), "ua": [name], "v": [version]}), Vec::new());
        version
    }

    /// The public handle of `h`, exporting it if needed; true if the link is new.
    pub fn export(&mut self, h: NodeHandle) -> (NodeHandle, bool) {
        if let Some(ph) = self.exported.get(&h) {
            return (*ph, false);
        }
        let ph = self.new_handle();
        self.links.insert(ph, h);
        self.exported.insert(h, ph);
        self.link_ts.insert(h, now());
        (ph, true)
    }

    /// When the link of `h` was made.
    pub fn link_created(&self, h: NodeHandle) -> i64 {
        self.link_ts.get(&h).copied().or_else(|| self.nodes.get(&h).map(|n| n.ts)).unwrap_or(0)
    }

    /// Starts an upload of `size` bytes for `user`; returns its URL id.
    pub fn new_upload(&mut self, user: UserHandle, size: u64) -> String {
        let id = random_id();
        let path = self.dir.join(format!("up-{id}"));
        self.uploads.insert(id.clone(), Upload { user, size, path, received: Vec::new(), token: None });
        id
    }

    /// A node's key as its owner wraps it, unwrapped with the owner's master key (seeding and
    /// links made on the server's side need it; the protocol never does this).
    pub fn owner_key(&self, h: NodeHandle) -> Option<mega_proto::NodeKey> {
        use mega_proto::keys::{KeyField, KeyOwner};
        let n = self.nodes.get(&h)?;
        let master = &self.accounts.get(&n.owner)?.master;
        let wrapped = KeyField::parse(&n.k).ok()?;
        let raw = wrapped.get(KeyOwner::User(n.owner))?.unwrap_aes(master).ok()?;
        mega_proto::NodeKey::from_bytes(&raw).ok()
    }

    /// Inserts a node under its parent.
    pub fn insert_node(&mut self, node: Node) {
        if let Some(p) = node.p {
            self.children.entry(p).or_default().push(node.h);
        }
        self.nodes.insert(node.h, node);
    }

    /// A node and all its descendants, parents before children.
    pub fn subtree(&self, root: NodeHandle) -> Vec<NodeHandle> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            if let Some(kids) = self.children.get(&out[i]) {
                out.extend(kids.iter().copied());
            }
            i += 1;
        }
        out
    }

    /// True if `node` is `ancestor` or below it.
    pub fn is_within(&self, node: NodeHandle, ancestor: NodeHandle) -> bool {
        let mut cur = Some(node);
        while let Some(h) = cur {
            if h == ancestor {
                return true;
            }
            cur = self.nodes.get(&h).and_then(|n| n.p);
        }
        false
    }

    /// Detaches a node from its parent's child list.
    pub fn detach(&mut self, h: NodeHandle) {
        if let Some(p) = self.nodes.get(&h).and_then(|n| n.p) {
            if let Some(kids) = self.children.get_mut(&p) {
                kids.retain(|&k| k != h);
            }
        }
    }

    /// Removes a subtree; returns the removed handles.
    pub fn remove_subtree(&mut self, h: NodeHandle) -> Vec<NodeHandle> {
        let all = self.subtree(h);
        self.detach(h);
        for n in &all {
            self.children.remove(n);
            if let Some(node) = self.nodes.remove(n) {
                if let Some(blob) = node.blob {
                    if Arc::strong_count(&blob) == 1 {
                        let _ = std::fs::remove_file(&blob.path);
                    }
                }
            }
            if let Some(ph) = self.exported.remove(n) {
                self.links.remove(&ph);
                self.link_ts.remove(n);
            }
            self.shares.remove(n);
        }
        all
    }

    /// Applies `cr` share-key triples (spec §6.7): each adds `/<share>:<key>` to a node's key
    /// field. `resolve` maps the node references of the request (handles, or placeholders of
    /// nodes it creates) to nodes. Malformed parts are ignored, as they change nothing.
    pub fn apply_cr(&mut self, cr: &serde_json::Value, resolve: impl Fn(&str) -> Option<NodeHandle>) {
        let (Some(shares), Some(nodes), Some(keys)) = (
            cr.get(0).and_then(|v| v.as_array()),
            cr.get(1).and_then(|v| v.as_array()),
            cr.get(2).and_then(|v| v.as_array()),
        ) else {
            return;
        };
        for t in keys.chunks_exact(3) {
            let (Some(si), Some(ni), Some(key)) = (t[0].as_u64(), t[1].as_u64(), t[2].as_str()) else { continue };
            let share = shares.get(si as usize).and_then(|v| v.as_str()).and_then(|h| NodeHandle::from_b64(h).ok());
            let node = nodes.get(ni as usize).and_then(|v| v.as_str()).and_then(&resolve);
            if let (Some(share), Some(node)) = (share, node) {
                if let Some(n) = self.nodes.get_mut(&node) {
                    let entry = format!("{share}:{key}");
                    if !n.k.split('/').any(|e| e.starts_with(&format!("{share}:"))) {
                        n.k = if n.k.is_empty() { entry } else { format!("{}/{entry}", n.k) };
                    }
                }
            }
        }
    }

    /// Bytes stored under a root.
    pub fn usage(&self, root: NodeHandle) -> (u64, u64, u64) {
        let (mut bytes, mut files, mut folders) = (0, 0, 0);
        for h in self.subtree(root).into_iter().skip(1) {
            if let Some(n) = self.nodes.get(&h) {
                if n.t == kind::FILE {
                    bytes += n.s;
                    files += 1;
                } else {
                    folders += 1;
                }
            }
        }
        (bytes, files, folders)
    }

    /// Can `user` read node `h`: their own, or inside a folder shared with them?
    pub fn can_read(&self, user: UserHandle, h: NodeHandle) -> bool {
        let Some(n) = self.nodes.get(&h) else { return false };
        n.owner == user || self.scope_of(h).iter().any(|s| self.shares[s].users.iter().any(|u| u.user == user))
    }

    /// Is `h` inside a folder exported as a folder link?
    pub fn is_public(&self, h: NodeHandle) -> bool {
        self.scope_of(h).iter().any(|s| self.shares[s].exported)
    }

    /// The shared folders (folder links and user shares) that `h` is in, innermost first.
    pub fn scope_of(&self, h: NodeHandle) -> Vec<NodeHandle> {
        let mut out = Vec::new();
        let mut cur = Some(h);
        while let Some(n) = cur {
            if self.shares.contains_key(&n) {
                out.push(n);
            }
            cur = self.nodes.get(&n).and_then(|n| n.p);
        }
        out
    }

    /// Appends an action packet to `user`'s log, and a copy to the log of every user a folder
    /// in `scope` is shared with (key fields cut down to what they can open).
    pub fn push_packet(&mut self, user: UserHandle, packet: Value, scope: Vec<NodeHandle>) {
        let mut recipients: Vec<(UserHandle, NodeHandle)> = Vec::new();
        for root in &scope {
            if let Some(share) = self.shares.get(root) {
                for u in &share.users {
                    if u.user != user && !recipients.iter().any(|(r, _)| *r == u.user) {
                        recipients.push((u.user, *root));
                    }
                }
            }
        }
        for (to, root) in recipients {
            let copy = Packet { v: cut_keys(&packet, root), scope: scope.clone() };
            self.packets.entry(to).or_default().packets.push(copy);
        }
        self.packets.entry(user).or_default().packets.push(Packet { v: packet, scope });
    }

    /// Seconds until the transfer-quota window frees.
    pub fn quota_time_left(&self) -> i64 {
        (self.quota_window - (now() - self.quota_window_start)).max(1)
    }

    /// Charges `bytes` of transfer to `user` (or the anonymous bucket); false if over quota.
    pub fn charge_transfer(&mut self, user: Option<UserHandle>, bytes: u64) -> bool {
        if now() - self.quota_window_start >= self.quota_window {
            self.quota_window_start = now();
            self.anon_transfer.0 = 0;
            for a in self.accounts.values_mut() {
                a.transfer_used = 0;
            }
        }
        let (used, max) = match user.and_then(|u| self.accounts.get_mut(&u)) {
            Some(a) => (&mut a.transfer_used, a.transfer_max),
            None => (&mut self.anon_transfer.0, self.anon_transfer.1),
        };
        if used.saturating_add(bytes) > max {
            return false;
        }
        *used += bytes;
        true
    }

    /// The user's current sequence number.
    pub fn seq(&self, user: UserHandle) -> u64 {
        self.packets.get(&user).map_or(0, Log::seq)
    }
}

/// A key field cut down to the entries of one share (what its recipients or a folder link's
/// visitors can open; the owner's own entry means nothing to them).
pub fn cut_key(k: &str, share: NodeHandle) -> String {
    let prefix = format!("{share}:");
    k.split('/').filter(|e| e.starts_with(&prefix)).collect::<Vec<_>>().join("/")
}

/// An action packet with the key fields of its nodes cut down to one share's entries.
pub fn cut_keys(packet: &Value, share: NodeHandle) -> Value {
    let mut v = packet.clone();
    if let Some(nodes) = v.get_mut("t").and_then(|t| t.get_mut("f")).and_then(Value::as_array_mut) {
        for n in nodes {
            if let Some(k) = n.get("k").and_then(Value::as_str).map(|k| cut_key(k, share)) {
                n["k"] = Value::from(k);
            }
        }
    }
    v
}
