//! The keys a tree is opened with: the master key (and RSA key) of a session, the share keys
//! learnt along the way, or the key of a folder link. Turns raw nodes into decrypted ones.

use std::collections::HashMap;
use std::sync::Arc;

use mega_proto::attr::Attributes;
use mega_proto::keys::{KeyField, KeyOwner, WrappedKey};
use mega_proto::rsa::PrivateKey;
use mega_proto::{b64, Key128, NodeHandle, UserHandle};
use zeroize::Zeroizing;

use super::node::{KeyBytes, Node, NodeKind, RawFields, RawNode};

/// The keys of a tree.
#[derive(Clone, Default)]
pub(crate) struct Keyring {
    pub(crate) user: Option<UserHandle>,
    pub(crate) master: Option<Key128>,
    pub(crate) private_key: Option<Arc<PrivateKey>>,
    /// Share keys by share root (outgoing shares from `ok`, incoming from `sk`, exports).
    pub(crate) shares: HashMap<NodeHandle, Key128>,
    /// A folder link's key: opens every share entry (the link's root is not known up front).
    pub(crate) link_key: Option<Key128>,
}

/// Why a raw node could not be turned into a node at all (it is then skipped: no handle).
#[derive(Debug)]
pub(crate) struct BadNode;

impl Keyring {
    /// Unwraps a node key from a `k` field with whichever entry this ring opens.
    pub(crate) fn node_key(&self, k: &str, kind: NodeKind) -> Option<Zeroizing<Vec<u8>>> {
        let field = KeyField::parse(k).ok()?;
        let len = if kind == NodeKind::File { 32 } else { 16 };
        for (owner, wrapped) in &field.entries {
            let key = match (owner, wrapped) {
                (KeyOwner::User(u), WrappedKey::Aes(_)) if Some(*u) == self.user => {
                    self.master.as_ref().and_then(|m| wrapped.unwrap_aes(m).ok())
                }
                (KeyOwner::User(u), WrappedKey::Rsa(mpi)) if Some(*u) == self.user => {
                    self.private_key.as_ref().and_then(|p| p.decrypt_node_key(mpi, len).ok())
                }
                (KeyOwner::Share(h), WrappedKey::Aes(_)) => {
                    self.shares.get(h).or(self.link_key.as_ref()).and_then(|s| wrapped.unwrap_aes(s).ok())
                }
                _ => None,
            };
            if let Some(key) = key.filter(|k| k.len() == len) {
                return Some(key);
            }
        }
        None
    }

    /// Decrypts an incoming share's key (`sk`): AES under the master key, or RSA.
    pub(crate) fn share_key(&self, sk: &str) -> Option<Key128> {
        let raw = b64::decode_all(sk, "share key").ok()?;
        if raw.len() == 16 {
            let mut k = Zeroizing::new([0u8; 16]);
            k.copy_from_slice(&raw);
            self.master.as_ref()?.ecb_decrypt(&mut k[..]).ok()?;
            Some(Key128::new(*k))
        } else {
            let plain = self.private_key.as_ref()?.decrypt_node_key(&raw, 16).ok()?;
            Key128::from_slice(&plain).ok()
        }
    }

    /// Learns an outgoing share's key from an `ok` entry, after checking its `ha`
    /// (`AES(master, h || h)` over the handle's 8 b64 characters).
    pub(crate) fn learn_outgoing(&mut self, h: &str, ha: &str, k: &str) -> bool {
        let (Some(master), Ok(handle)) = (self.master.as_ref(), NodeHandle::from_b64(h)) else { return false };
        if handle_auth(master, handle) != ha {
            return false;
        }
        let Ok(mut raw) = b64::decode_exact::<16>(k, "share key") else { return false };
        if master.ecb_decrypt(&mut raw).is_err() {
            return false;
        }
        self.shares.insert(handle, Key128::new(raw));
        raw.fill(0);
        true
    }

    /// Turns a raw node into a node. A node whose key or attributes do not open is kept,
    /// marked undecrypted; only a node without a valid handle or type is refused.
    pub(crate) fn decrypt(&mut self, raw: &RawNode) -> Result<Node, BadNode> {
        if let Some(sk) = raw.sk.as_deref() {
            let handle = NodeHandle::from_b64(&raw.h).map_err(|_| BadNode)?;
            if let Some(key) = self.share_key(sk) {
                self.shares.insert(handle, key);
            }
        }
        self.open(raw.fields())
    }

    /// Turns a raw node into a node with the keys known now, learning nothing.
    pub(crate) fn open(&self, raw: RawFields<'_>) -> Result<Node, BadNode> {
        let handle = NodeHandle::from_b64(raw.h).map_err(|_| BadNode)?;
        let kind = NodeKind::from_wire(raw.t).ok_or(BadNode)?;
        let parent = raw.p.filter(|p| !p.is_empty()).and_then(|p| NodeHandle::from_b64(p).ok());
        let owner = raw.u.and_then(|u| UserHandle::from_b64(u).ok()).unwrap_or(UserHandle([0; 8]));
        let mut node = Node {
            handle,
            parent,
            kind,
            decrypted: false,
            owner,
            ts: raw.ts.unwrap_or(0),
            size: raw.s.unwrap_or(0),
            name: Box::from(""),
            extra: None,
            fa: raw.fa.map(Box::from),
            key: KeyBytes::default(),
        };
        if kind.is_root() {
            node.decrypted = true;
            return Ok(node);
        }
        if let Some(key) = raw.k.and_then(|k| self.node_key(k, kind)) {
            node.key = KeyBytes::new(&key);
            let attrs = node.attr_key().and_then(|ak| Attributes::decrypt_b64(raw.a?, &ak).ok());
            if let Some(attrs) = attrs {
                node.set_attributes(attrs);
                node.decrypted = true;
            }
        }
        Ok(node)
    }
}

/// `ha` of a share: b64 of `AES-ECB(master, h || h)` over the 8 b64 characters of the handle.
pub(crate) fn handle_auth(master: &Key128, h: NodeHandle) -> String {
    let s = h.to_b64();
    let mut block = [0u8; 16];
    block[..8].copy_from_slice(s.as_bytes());
    block[8..].copy_from_slice(s.as_bytes());
    // 16 bytes: cannot fail.
    let _ = master.ecb_encrypt(&mut block);
    b64::encode(&block)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> Keyring {
        Keyring { user: Some(UserHandle([1; 8])), master: Some(Key128::new([2; 16])), ..Keyring::default() }
    }

    #[test]
    fn decrypts_own_nodes_and_keeps_strangers_marked() {
        let mut r = ring();
        let master = r.master.clone().unwrap();
        let fk = [7u8; 32];
        let folded = mega_proto::FileKey::from_node_key(&fk).unwrap();
        let raw = RawNode {
            h: "AAAAAAAB".into(),
            p: Some("AAAAAAAA".into()),
            u: Some(UserHandle([1; 8]).to_b64()),
            t: 0,
            a: Some(Attributes::with_name("f.txt").encrypt_b64(&folded.attr_key())),
            k: Some(format!("{}:{}", UserHandle([1; 8]), b64::encode(&master.wrap(&fk).unwrap()))),
            s: Some(5),
            ..RawNode::default()
        };
        let n = r.decrypt(&raw).unwrap();
        assert!(n.is_decrypted());
        assert_eq!(n.name(), "f.txt");
        assert_eq!(n.key.get().unwrap(), &fk[..]);

        let stranger = RawNode { k: Some(format!("{}:{}", UserHandle([3; 8]), b64::encode(&[0u8; 32]))), ..raw };
        let n = r.decrypt(&stranger).unwrap();
        assert!(!n.is_decrypted());
        assert_eq!(n.name(), "");
        assert!(r.decrypt(&RawNode { h: "bad".into(), ..RawNode::default() }).is_err());
    }

    #[test]
    fn outgoing_share_keys_need_a_matching_ha() {
        let mut r = ring();
        let master = r.master.clone().unwrap();
        let h = NodeHandle([4; 6]);
        let mut k = [8u8; 16];
        master.ecb_encrypt(&mut k).unwrap();
        let k = b64::encode(&k);
        assert!(!r.learn_outgoing(&h.to_b64(), "AAAAAAAAAAAAAAAAAAAAAA", &k));
        assert!(r.learn_outgoing(&h.to_b64(), &handle_auth(&master, h), &k));
        assert_eq!(r.shares[&h], Key128::new([8; 16]));
    }
}
