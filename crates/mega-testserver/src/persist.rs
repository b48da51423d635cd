//! Persistence for `--data DIR`: accounts, sessions, the node tree, links, shares, user and file
//! attributes are written to `DIR/state.json` (atomically: a temporary file, fsync, rename); the
//! ciphertext already lives in `DIR` as files. A restart loads them back, so a client's saved
//! session and its files are still there.
//!
//! The action-packet logs are not kept, only their sequence numbers: a client polling with an
//! `sn` from before the restart gets `-6` and fetches the tree again (spec §6.6). Uploads and
//! download URLs in flight are not kept either; clients ask for new ones, as after an expiry.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use mega_proto::rsa::PublicKey;
use mega_proto::{b64, Key128, NodeHandle, UserHandle};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::{Account, Verifier};
use crate::store::{Blob, Log, Node, Session, Share, Store, UserShare};

/// The state file's name inside the data directory.
pub const STATE_FILE: &str = "state.json";
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    accounts: Vec<AccountRec>,
    sessions: Vec<SessionRec>,
    /// Parents before children, siblings in creation order.
    nodes: Vec<NodeRec>,
    /// Public handle, node.
    links: Vec<(String, String)>,
    shares: Vec<ShareRec>,
    user_attrs: Vec<(String, HashMap<String, Value>)>,
    /// Handle (b64 of 8 bytes), encrypted bytes (b64).
    file_attrs: Vec<(String, String)>,
    /// User, sequence number of their action-packet log.
    seqs: Vec<(String, u64)>,
}

#[derive(Serialize, Deserialize)]
struct AccountRec {
    handle: String,
    email: String,
    name: String,
    /// v1: the `uh`; v2: absent.
    uh: Option<String>,
    /// v2: salt and hashed auth key (b64).
    salt: Option<String>,
    hashed_auth_key: Option<String>,
    k: String,
    privk: String,
    pubk: String,
    master: String,
    roots: [String; 3],
    since: i64,
    storage_max: u64,
    transfer_max: u64,
    transfer_used: u64,
    mfa: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SessionRec {
    sid: String,
    user: String,
    sek: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct NodeRec {
    h: String,
    p: Option<String>,
    u: String,
    t: u8,
    a: String,
    k: String,
    s: u64,
    ts: i64,
    fa: Option<String>,
    /// The blob's file name inside the data directory.
    blob: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ShareRec {
    h: String,
    ok: Option<String>,
    ha: Option<String>,
    ts: i64,
    exported: bool,
    /// User, access level, share key for them, time.
    users: Vec<(String, u8, String, i64)>,
}

/// Why the state could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The state file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a state file this version understands.
    #[error("{path} is damaged or from another version: {why}")]
    Damaged {
        /// The state file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

fn node_rec(n: &Node) -> NodeRec {
    NodeRec {
        h: n.h.to_b64(),
        p: n.p.map(|p| p.to_b64()),
        u: n.owner.to_b64(),
        t: n.t,
        a: n.a.clone(),
        k: n.k.clone(),
        s: n.s,
        ts: n.ts,
        fa: n.fa.clone(),
        blob: n.blob.as_ref().and_then(|b| b.path.file_name()).map(|f| f.to_string_lossy().into_owned()),
    }
}

/// Serialises the store (called with its lock held; fast compared with writing).
pub fn snapshot(store: &Store) -> Vec<u8> {
    let mut accounts: Vec<&Account> = store.accounts.values().collect();
    accounts.sort_by_key(|a| a.since);
    let mut nodes = Vec::with_capacity(store.nodes.len());
    for a in &accounts {
        for root in a.roots {
            nodes.extend(store.subtree(root).iter().map(|h| node_rec(&store.nodes[h])));
        }
    }
    let snap = Snapshot {
        format: FORMAT,
        accounts: accounts
            .iter()
            .map(|a| {
                let (uh, salt, hashed) = match &a.verifier {
                    Verifier::V1(uh) => (Some(uh.clone()), None, None),
                    Verifier::V2 { salt, hashed_auth_key } => {
                        (None, Some(b64::encode(salt)), Some(b64::encode(hashed_auth_key)))
                    }
                };
                AccountRec {
                    handle: a.handle.to_b64(),
                    email: a.email.clone(),
                    name: a.name.clone(),
                    uh,
                    salt,
                    hashed_auth_key: hashed,
                    k: a.k.clone(),
                    privk: a.privk.clone(),
                    pubk: a.pubk.clone(),
                    master: a.master.to_b64(),
                    roots: a.roots.map(|r| r.to_b64()),
                    since: a.since,
                    storage_max: a.storage_max,
                    transfer_max: a.transfer_max,
                    transfer_used: a.transfer_used,
                    mfa: a.mfa.as_deref().map(b64::encode),
                }
            })
            .collect(),
        sessions: store
            .sessions
            .iter()
            .map(|(sid, s)| SessionRec { sid: b64::encode(sid), user: s.user.to_b64(), sek: s.sek.clone() })
            .collect(),
        nodes,
        links: store.links.iter().map(|(ph, n)| (ph.to_b64(), n.to_b64())).collect(),
        shares: store
            .shares
            .iter()
            .map(|(h, s)| ShareRec {
                h: h.to_b64(),
                ok: s.ok.clone(),
                ha: s.ha.clone(),
                ts: s.ts,
                exported: s.exported,
                users: s.users.iter().map(|u| (u.user.to_b64(), u.r, u.sk.clone(), u.ts)).collect(),
            })
            .collect(),
        user_attrs: store.user_attrs.iter().map(|(u, m)| (u.to_b64(), m.clone())).collect(),
        file_attrs: store.file_attrs.iter().map(|(h, d)| (b64::encode(h), b64::encode(d))).collect(),
        seqs: store.packets.iter().map(|(u, log)| (u.to_b64(), log.seq())).collect(),
    };
    // Plain data: serialising cannot fail.
    serde_json::to_vec(&snap).unwrap_or_default()
}

/// Writes a snapshot to `dir` atomically.
/// (It does not depend on the client crates, so `tempfile`'s persist directly.)
pub fn write(dir: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(dir.join(STATE_FILE)).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()
}

fn damaged(path: &Path, why: impl std::fmt::Display) -> LoadError {
    LoadError::Damaged { path: path.display().to_string(), why: why.to_string() }
}

/// Loads the state saved in `dir` into `store` (which must be empty). Returns false when there
/// is none (a new data directory). Blob files that no node references (uploads cut short by the
/// restart) are removed.
pub fn load(dir: &Path, store: &mut Store) -> Result<bool, LoadError> {
    let path = dir.join(STATE_FILE);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(LoadError::Io { path: path.display().to_string(), source }),
    };
    let snap: Snapshot = serde_json::from_slice(&data).map_err(|e| damaged(&path, e))?;
    if snap.format != FORMAT {
        return Err(damaged(&path, format!("format {} (expected {FORMAT})", snap.format)));
    }
    let user = |s: &str| UserHandle::from_b64(s).map_err(|e| damaged(&path, e));
    let node = |s: &str| NodeHandle::from_b64(s).map_err(|e| damaged(&path, e));
    for a in snap.accounts {
        let verifier = match (a.uh, a.salt, a.hashed_auth_key) {
            (Some(uh), None, None) => Verifier::V1(uh),
            (None, Some(salt), Some(hashed)) => Verifier::V2 {
                salt: b64::decode_exact(&salt, "salt").map_err(|e| damaged(&path, e))?,
                hashed_auth_key: b64::decode_exact(&hashed, "hashed auth key").map_err(|e| damaged(&path, e))?,
            },
            _ => return Err(damaged(&path, format!("account {}: no verifier", a.email))),
        };
        let roots = [node(&a.roots[0])?, node(&a.roots[1])?, node(&a.roots[2])?];
        let account = Account {
            handle: user(&a.handle)?,
            email: a.email,
            name: a.name,
            verifier,
            k: a.k,
            privk: a.privk,
            public: PublicKey::from_b64(&a.pubk).map_err(|e| damaged(&path, e))?,
            pubk: a.pubk,
            master: Key128::from_b64(&a.master).map_err(|e| damaged(&path, e))?,
            roots,
            since: a.since,
            storage_max: a.storage_max,
            transfer_max: a.transfer_max,
            transfer_used: a.transfer_used,
            mfa: a.mfa.map(|m| b64::decode(&m)),
        };
        store.by_email.insert(account.email.clone(), account.handle);
        store.packets.insert(account.handle, Log::default());
        store.accounts.insert(account.handle, account);
    }
    for s in snap.sessions {
        let sid = b64::decode_all(&s.sid, "sid").map_err(|e| damaged(&path, e))?;
        store.sessions.insert(sid, Session { user: user(&s.user)?, sek: s.sek });
    }
    let mut blobs: HashMap<String, Arc<Blob>> = HashMap::new();
    for n in snap.nodes {
        let blob = match n.blob {
            Some(name) => {
                let on_disk = std::fs::metadata(dir.join(&name)).map(|m| m.len()).ok();
                if on_disk != Some(n.s) {
                    tracing::warn!(node = %n.h, file = %name, "stored content missing or cut short; downloads of it will fail");
                }
                let blob =
                    blobs.entry(name.clone()).or_insert_with(|| Arc::new(Blob { path: dir.join(&name), size: n.s }));
                Some(blob.clone())
            }
            None => None,
        };
        let p = match n.p {
            Some(p) => Some(node(&p)?),
            None => None,
        };
        store.insert_node(Node {
            h: node(&n.h)?,
            p,
            owner: user(&n.u)?,
            t: n.t,
            a: n.a,
            k: n.k,
            s: n.s,
            ts: n.ts,
            fa: n.fa,
            blob,
        });
    }
    for (ph, n) in snap.links {
        let (ph, n) = (node(&ph)?, node(&n)?);
        store.links.insert(ph, n);
        store.exported.insert(n, ph);
    }
    for s in snap.shares {
        let mut users = Vec::with_capacity(s.users.len());
        for (u, r, sk, ts) in s.users {
            users.push(UserShare { user: user(&u)?, r, sk, ts });
        }
        store.shares.insert(node(&s.h)?, Share { ok: s.ok, ha: s.ha, ts: s.ts, exported: s.exported, users });
    }
    for (u, attrs) in snap.user_attrs {
        store.user_attrs.insert(user(&u)?, attrs);
    }
    // Accounts saved before the server wrote `^!keys` get theirs now (and the public keys and
    // signatures that go with it), as an official client upgrading the account would.
    for (handle, account) in &store.accounts {
        let attrs = store.user_attrs.entry(*handle).or_default();
        if !attrs.contains_key(mega_proto::keymgr::ATTRIBUTE) {
            let rsa = mega_proto::rsa::PrivateKey::decrypt_privk(&account.privk, &account.master)
                .map_err(|e| damaged(&path, e))?;
            for (name, av) in
                crate::account::key_attributes(*handle, account.since, &rsa, &account.public, &account.master)
            {
                let attr = serde_json::json!({"av": av, "v": b64::encode(&crate::store::random::<8>())});
                attrs.insert(name.to_string(), attr);
            }
        }
    }
    for (h, data) in snap.file_attrs {
        let h = b64::decode_exact::<8>(&h, "file attribute handle").map_err(|e| damaged(&path, e))?;
        store.file_attrs.insert(h, b64::decode(&data));
    }
    for (u, seq) in snap.seqs {
        store.packets.entry(user(&u)?).or_default().base = seq;
    }
    remove_orphan_blobs(dir, &blobs);
    Ok(true)
}

/// Removes blob files (`up-*`, `seed-*`) that no node references.
fn remove_orphan_blobs(dir: &Path, kept: &HashMap<String, Arc<Blob>>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if (name.starts_with("up-") || name.starts_with("seed-")) && !kept.contains_key(&name) {
            let _ = std::fs::remove_file(e.path());
        }
    }
}
