//! A tree taken apart into records and put back together, for a store that keeps it between
//! runs (tuatara-core's node cache): one record per node (the tree's own decrypted view of it,
//! with what the tree knows beside it: a sealed node's wrapped key, its public handle, its
//! sharees), one record for the rest (`sn`, share keys, the folder link's root). The records
//! hold node names and keys in clear: the store must encrypt them.
//!
//! Rebuilding from records needs no key unwrapping nor attribute decryption, which is what
//! makes a warm start fast. Which nodes changed since the last write is tracked on request
//! ([`Tree::track_changes`]), so a store writes only those.

use std::collections::BTreeSet;

use mega_proto::{b64, Key128, NodeHandle, UserHandle};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::node::KeyBytes;
use super::{KeyManager, Node, NodeKind, Sealed, Tree};
use crate::error::{Error, Result};

/// The version of the record format; records of another version are not read.
const FORMAT: u32 = 1;

/// One node's record.
#[derive(Serialize, Deserialize, Default)]
struct NodeRecord {
    h: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<String>,
    t: u8,
    d: bool,
    o: String,
    ts: i64,
    s: u64,
    n: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fa: Option<String>,
    /// The node key, b64.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    k: String,
    /// A sealed node's wrapped key and encrypted attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<(String, String)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ph: Option<String>,
    /// The root of an incoming share.
    #[serde(default)]
    sr: bool,
    /// Shared out, with these sharees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    os: Option<BTreeSet<String>>,
}

impl Drop for NodeRecord {
    fn drop(&mut self) {
        self.k.zeroize();
    }
}

/// The record of everything else.
#[derive(Serialize, Deserialize)]
struct MetaRecord {
    v: u32,
    sn: String,
    #[serde(default)]
    link_root: Option<String>,
    /// Share keys by share root, b64.
    #[serde(default)]
    shares: Vec<(String, String)>,
    /// Whether the account's `^!keys` was read with the tree (read again on rebuilding).
    #[serde(default)]
    key_manager: bool,
}

impl Drop for MetaRecord {
    fn drop(&mut self) {
        for (_, k) in &mut self.shares {
            k.zeroize();
        }
    }
}

fn wire_kind(kind: NodeKind) -> u8 {
    match kind {
        NodeKind::File => 0,
        NodeKind::Folder => 1,
        NodeKind::Root => 2,
        NodeKind::Inbox => 3,
        NodeKind::Rubbish => 4,
    }
}

fn bad(what: &str) -> Error {
    Error::BadInput(format!("a node cache record is unreadable ({what})"))
}

fn handle(s: &str) -> Result<NodeHandle> {
    NodeHandle::from_b64(s).map_err(|_| bad("handle"))
}

impl Tree {
    /// Starts noting which nodes change (see [`Tree::take_changes`]).
    pub fn track_changes(&mut self) {
        self.changed.get_or_insert_with(Default::default);
    }

    /// The nodes added, changed or removed since the last call (or since
    /// [`Tree::track_changes`]); empty when changes are not tracked. A node in the list that
    /// [`Tree::get`] no longer finds was removed.
    pub fn take_changes(&mut self) -> Vec<NodeHandle> {
        self.changed.as_mut().map(|c| c.drain().collect()).unwrap_or_default()
    }

    pub(super) fn touch(&mut self, h: NodeHandle) {
        if let Some(c) = self.changed.as_mut() {
            c.insert(h);
        }
    }

    /// Every node, parents before children and children in their order: the order to write
    /// records in so that [`crate::Session::tree_from_records`] rebuilds the same tree.
    pub fn record_order(&self) -> Vec<NodeHandle> {
        let mut out = Vec::with_capacity(self.len());
        for top in self.nodes().filter(|n| n.parent.is_none_or(|p| !self.index.contains_key(&p))) {
            out.extend(self.subtree(top.handle));
        }
        out
    }

    /// A node's record (its name and key in clear: to be encrypted by whoever stores it).
    pub fn node_record(&self, h: NodeHandle) -> Option<Zeroizing<Vec<u8>>> {
        let n = self.get(h)?;
        let rec = NodeRecord {
            h: h.to_b64(),
            p: n.parent.map(|p| p.to_b64()),
            t: wire_kind(n.kind),
            d: n.decrypted,
            o: n.owner.to_b64(),
            ts: n.ts,
            s: n.size,
            n: n.name.to_string(),
            x: n.extra.as_deref().map(str::to_string),
            fa: n.fa.as_deref().map(str::to_string),
            k: n.key.get().map(b64::encode).unwrap_or_default(),
            sealed: self.sealed.get(&h).map(|s| (s.k.to_string(), s.a.to_string())),
            ph: self.links.get(&h).map(|p| p.to_b64()),
            sr: self.shares.contains(&h),
            os: self.out_shares.get(&h).cloned(),
        };
        Some(Zeroizing::new(serde_json::to_vec(&rec).unwrap_or_default()))
    }

    /// The record of what is not a node: the `sn`, the share keys learnt, the folder link's
    /// root (keys in clear: to be encrypted by whoever stores it).
    pub fn meta_record(&self) -> Zeroizing<Vec<u8>> {
        let rec = MetaRecord {
            v: FORMAT,
            sn: self.sn.clone(),
            link_root: self.link_root.map(|h| h.to_b64()),
            shares: self.keyring.shares.iter().map(|(h, k)| (h.to_b64(), k.to_b64())).collect(),
            key_manager: !matches!(self.key_manager, KeyManager::NotRead),
        };
        Zeroizing::new(serde_json::to_vec(&rec).unwrap_or_default())
    }

    /// Puts one node record back.
    fn add_record(&mut self, bytes: &[u8]) -> Result<()> {
        let rec: NodeRecord = serde_json::from_slice(bytes).map_err(|_| bad("node"))?;
        let h = handle(&rec.h)?;
        let kind = NodeKind::from_wire(rec.t.into()).ok_or_else(|| bad("type"))?;
        let key = Zeroizing::new(if rec.k.is_empty() {
            Vec::new()
        } else {
            b64::decode_all(&rec.k, "key").map_err(|_| bad("key"))?
        });
        let node = Node {
            handle: h,
            parent: rec.p.as_deref().map(handle).transpose()?,
            kind,
            decrypted: rec.d,
            owner: UserHandle::from_b64(&rec.o).map_err(|_| bad("owner"))?,
            ts: rec.ts,
            size: rec.s,
            name: rec.n.as_str().into(),
            extra: rec.x.as_deref().map(Into::into),
            fa: rec.fa.as_deref().map(Into::into),
            key: KeyBytes::new(&key),
        };
        self.add_opened(node, rec.sr);
        if let Some((k, a)) = &rec.sealed {
            self.sealed.insert(h, Sealed { k: k.as_str().into(), a: a.as_str().into() });
        }
        if let Some(ph) = &rec.ph {
            self.links.insert(h, handle(ph)?);
        }
        if let Some(os) = &rec.os {
            self.out_shares.insert(h, os.clone());
        }
        Ok(())
    }
}

impl crate::Session {
    /// Rebuilds this account's tree from the records a store kept ([`Tree::meta_record`],
    /// and [`Tree::node_record`] in [`Tree::record_order`]), at the `sn` they were written
    /// at: follow the event channel from there ([`crate::Session::events`]). When the tree
    /// had read the account's `^!keys`, the rebuilt one says it is to be read again
    /// ([`Tree::key_manager_stale`], [`crate::Session::reread_key_manager`]). A record that
    /// cannot be read is an error of kind [`crate::ErrorKind::BadInput`]: the store is not to
    /// be trusted.
    pub fn tree_from_records<I, R>(&self, meta: &[u8], nodes: I) -> Result<Tree>
    where
        I: IntoIterator<Item = Result<R>>,
        R: AsRef<[u8]>,
    {
        let rec: MetaRecord = serde_json::from_slice(meta).map_err(|_| bad("meta"))?;
        if rec.v != FORMAT {
            return Err(bad("format version"));
        }
        let mut keyring = self.keyring();
        for (h, k) in &rec.shares {
            keyring.shares.insert(handle(h)?, Key128::from_b64(k).map_err(|_| bad("share key"))?);
        }
        let mut tree = Tree::new(keyring);
        for n in nodes {
            tree.add_record(n?.as_ref())?;
        }
        tree.link_root = rec.link_root.as_deref().map(handle).transpose()?;
        tree.sn = rec.sn.clone();
        tree.key_manager_stale = rec.key_manager;
        Ok(tree)
    }

    /// A 256-bit key for this account's local data, derived (HKDF-SHA256) from the master key
    /// with `label` naming its use: the same for every session of the account, and useless
    /// for anything else.
    pub fn local_key(&self, label: &str) -> Zeroizing<[u8; 32]> {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&self.user().0), self.master().as_bytes());
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is always a valid HKDF-SHA256 length.
        let _ = hk.expand(label.as_bytes(), out.as_mut());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::{Keyring, RawNode};
    use mega_proto::attr::Attributes;

    #[test]
    fn records_rebuild_the_same_tree_and_changes_are_tracked() {
        let me = UserHandle([1; 8]);
        let master = Key128::new([2; 16]);
        let mut tree = Tree::new(Keyring { user: Some(me), master: Some(master.clone()), ..Keyring::default() });
        let root = NodeHandle([9; 6]);
        tree.add_raw(&RawNode { h: root.to_b64(), t: 2, ..RawNode::default() });
        let key = Key128::new([4; 16]);
        let k = format!("{me}:{}", b64::encode(&master.wrap(key.as_bytes()).unwrap()));
        let folder = NodeHandle([6; 6]);
        let a = Attributes::with_name("docs").encrypt_b64(&key);
        tree.add_raw(&RawNode {
            h: folder.to_b64(),
            p: Some(root.to_b64()),
            t: 1,
            k: Some(k),
            a: Some(a),
            ..RawNode::default()
        });
        tree.set_public_handle(folder, Some(NodeHandle([7; 6])));
        tree.set_sn("abc".into());
        tree.track_changes();
        let mut rebuilt = Tree::new(Keyring { user: Some(me), master: Some(master), ..Keyring::default() });
        for h in tree.record_order() {
            rebuilt.add_record(&tree.node_record(h).unwrap()).unwrap();
        }
        assert_eq!(rebuilt.resolve("/docs"), Some(folder));
        assert_eq!(rebuilt.get(folder).unwrap().key(), tree.get(folder).unwrap().key());
        assert_eq!(rebuilt.public_handle(folder), Some(NodeHandle([7; 6])));
        assert!(tree.take_changes().is_empty());
        tree.remove_subtree(folder);
        assert_eq!(tree.take_changes(), vec![folder]);
        assert!(rebuilt.add_record(b"{}").is_err());
    }
}
