//! A tree taken apart into pages and put back together, for a store that keeps it between runs
//! (tuatara-core's node cache).
//!
//! A page holds the records of one folder's children ([`Page::Children`]), or of the nodes at
//! the top ([`Page::Top`]: the roots, the roots of incoming shares). One more record holds the
//! rest (`sn`, share keys). A store can so give back only the folders a command needs: a tree
//! built from some pages answers for those folders exactly as the whole tree would, and
//! [`Tree::add_page`] adds more as they are needed. Each record is the tree's own decrypted view
//! of a node, with what the tree knows beside it (a sealed node's wrapped key, its public handle,
//! its sharees), in a compact binary form (postcard). The records hold node names and keys in
//! clear: the store must encrypt them.
//!
//! Rebuilding from records needs no key unwrapping nor attribute decryption, which is what
//! makes a warm start fast. Which nodes changed since the last write is tracked on request
//! ([`Tree::track_changes`]), so a store rewrites only their pages.

use mega_proto::{Key128, NodeHandle, UserHandle};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::node::KeyBytes;
use super::{KeyManager, Node, NodeKind, Sealed, Tree};
use crate::error::{Error, Result};

/// The version of the record format; records of another version are not read.
const FORMAT: u32 = 2;

/// Where a node's record is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Page {
    /// The roots (cloud drive, inbox, rubbish bin), the roots of incoming shares, the root of a
    /// folder link, and nodes without a parent.
    Top,
    /// The children of a node.
    Children(NodeHandle),
}

/// One node's record.
#[derive(Serialize, Deserialize)]
struct NodeRecord<'a> {
    h: [u8; 6],
    p: Option<[u8; 6]>,
    t: u8,
    d: bool,
    o: [u8; 8],
    ts: i64,
    s: u64,
    n: &'a str,
    #[serde(borrow)]
    x: Option<&'a str>,
    #[serde(borrow)]
    fa: Option<&'a str>,
    /// The node key (empty when the node is sealed).
    k: &'a [u8],
    /// A sealed node's wrapped key and encrypted attributes.
    #[serde(borrow)]
    sealed: Option<(&'a str, &'a str)>,
    ph: Option<[u8; 6]>,
    /// The root of an incoming share.
    sr: bool,
    /// Shared out, with these sharees.
    #[serde(borrow)]
    os: Option<Vec<&'a str>>,
}

/// The record of everything else.
#[derive(Serialize, Deserialize)]
struct MetaRecord {
    v: u32,
    sn: String,
    link_root: Option<[u8; 6]>,
    /// Share keys by share root.
    shares: Vec<([u8; 6], [u8; 16])>,
    /// Whether the account's `^!keys` was read with the tree (read again on rebuilding).
    key_manager: bool,
    /// The number of nodes in the tree.
    nodes: u64,
}

impl Drop for MetaRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
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

    /// The page a node's record belongs in; `None` for a node not in the tree.
    pub fn page_of(&self, h: NodeHandle) -> Option<Page> {
        self.get(h).map(|n| self.page_of_node(n))
    }

    fn page_of_node(&self, n: &Node) -> Page {
        let top = !matches!(n.kind, NodeKind::File | NodeKind::Folder)
            || self.link_root == Some(n.handle)
            || self.shares.contains(&n.handle);
        match n.parent {
            Some(p) if !top => Page::Children(p),
            _ => Page::Top,
        }
    }

    /// Every page that holds a node: the top, and each folder's children.
    pub fn pages(&self) -> Vec<Page> {
        let mut out = vec![Page::Top];
        out.extend(self.children.iter().filter(|(_, kids)| !kids.is_empty()).map(|(&p, _)| Page::Children(p)));
        out
    }

    /// The nodes of a page, in the tree's order.
    pub fn page_nodes(&self, page: Page) -> Vec<NodeHandle> {
        self.page_members(page).iter().map(|n| n.handle).collect()
    }

    fn page_members(&self, page: Page) -> Vec<&Node> {
        match page {
            Page::Top => self.nodes().filter(|n| self.page_of_node(n) == Page::Top).collect(),
            Page::Children(p) => self.children(p).filter(|n| self.page_of_node(n) == page).collect(),
        }
    }

    /// A page's records (names and keys in clear: to be encrypted by whoever stores it); empty
    /// when the page holds no node.
    pub fn page_record(&self, page: Page) -> Zeroizing<Vec<u8>> {
        self.page_record_with(page, |_| {})
    }

    /// [`Tree::page_record`], calling `each` with every node it holds.
    pub fn page_record_with(&self, page: Page, mut each: impl FnMut(NodeHandle)) -> Zeroizing<Vec<u8>> {
        let nodes = self.page_members(page);
        let records: Vec<NodeRecord<'_>> = nodes
            .into_iter()
            .map(|n| {
                let h = n.handle;
                each(h);
                let os = self.out_shares.get(&h).map(|s| s.iter().map(String::as_str).collect());
                NodeRecord {
                    h: h.0,
                    p: n.parent.map(|p| p.0),
                    t: wire_kind(n.kind),
                    d: n.decrypted,
                    o: n.owner.0,
                    ts: n.ts,
                    s: n.size,
                    n: &n.name,
                    x: n.extra.as_deref(),
                    fa: n.fa.as_deref(),
                    k: n.key.get().unwrap_or_default(),
                    sealed: self.sealed.get(&h).map(|s| (&*s.k, &*s.a)),
                    ph: self.links.get(&h).map(|p| p.0),
                    sr: self.shares.contains(&h),
                    os,
                }
            })
            .collect();
        if records.is_empty() {
            return Zeroizing::new(Vec::new());
        }
        Zeroizing::new(postcard::to_allocvec(&records).unwrap_or_default())
    }

    /// The number of nodes a tree had when its [`Tree::meta_record`] was made.
    pub fn nodes_in_meta(meta: &[u8]) -> Option<usize> {
        postcard::from_bytes::<MetaRecord>(meta).ok().map(|m| m.nodes as usize)
    }

    /// The record of what is not a node: the `sn`, the share keys learnt, the folder link's
    /// root (keys in clear: to be encrypted by whoever stores it).
    pub fn meta_record(&self) -> Zeroizing<Vec<u8>> {
        let rec = MetaRecord {
            v: FORMAT,
            sn: self.sn.clone(),
            link_root: self.link_root.map(|h| h.0),
            shares: self.keyring.shares.iter().map(|(h, k)| (h.0, *k.as_bytes())).collect(),
            key_manager: !matches!(self.key_manager, KeyManager::NotRead),
            nodes: self.len() as u64,
        };
        Zeroizing::new(postcard::to_allocvec(&rec).unwrap_or_default())
    }

    /// Puts a page's records back (what [`Tree::page_record`] gave); returns the nodes added.
    /// Not counted as changes. Sealed nodes are tried again with the keys known now.
    pub fn add_page(&mut self, bytes: &[u8]) -> Result<Vec<NodeHandle>> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        let records: Vec<NodeRecord<'_>> = postcard::from_bytes(bytes).map_err(|_| bad("page"))?;
        let tracking = self.changed.take();
        let mut added = Vec::with_capacity(records.len());
        let mut sealed = false;
        for rec in &records {
            let h = NodeHandle(rec.h);
            let kind = NodeKind::from_wire(rec.t.into()).ok_or_else(|| bad("type"))?;
            let node = Node {
                handle: h,
                parent: rec.p.map(NodeHandle),
                kind,
                decrypted: rec.d,
                owner: UserHandle(rec.o),
                ts: rec.ts,
                size: rec.s,
                name: rec.n.into(),
                extra: rec.x.map(Into::into),
                fa: rec.fa.map(Into::into),
                key: KeyBytes::new(rec.k),
            };
            self.add_opened(node, rec.sr);
            if let Some((k, a)) = rec.sealed {
                sealed = true;
                self.sealed.insert(h, Sealed { k: k.into(), a: a.into() });
            }
            if let Some(ph) = rec.ph {
                self.links.insert(h, NodeHandle(ph));
            }
            if let Some(os) = &rec.os {
                self.out_shares.insert(h, os.iter().map(|s| s.to_string()).collect());
            }
            added.push(h);
        }
        if sealed && !self.keyring.shares.is_empty() {
            self.unseal();
        }
        self.changed = tracking;
        Ok(added)
    }
}

impl crate::Session {
    /// A tree holding no node yet, at the `sn` and with the share keys of a store's
    /// [`Tree::meta_record`]: add the pages it needs ([`Tree::add_page`]), then follow the event
    /// channel from there ([`crate::Session::events`]). When the tree had read the account's
    /// `^!keys`, the new one says it is to be read again ([`Tree::key_manager_stale`],
    /// [`crate::Session::reread_key_manager`]). A record that cannot be read is an error of kind
    /// [`crate::ErrorKind::BadInput`]: the store is not to be trusted.
    pub fn tree_from_meta(&self, meta: &[u8]) -> Result<Tree> {
        let rec: MetaRecord = postcard::from_bytes(meta).map_err(|_| bad("meta"))?;
        if rec.v != FORMAT {
            return Err(bad("format version"));
        }
        let mut keyring = self.keyring();
        for (h, k) in &rec.shares {
            keyring.shares.insert(NodeHandle(*h), Key128::new(*k));
        }
        let mut tree = Tree::new(keyring);
        tree.link_root = rec.link_root.map(NodeHandle);
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
    use mega_proto::b64;

    #[test]
    fn pages_rebuild_the_same_tree_and_changes_are_tracked() {
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
        // A node no key opens yet.
        let sealed = NodeHandle([5; 6]);
        tree.add_raw(&RawNode {
            h: sealed.to_b64(),
            p: Some(folder.to_b64()),
            t: 0,
            k: Some("AAAAAAAA:AAAAAAAAAAAAAAAAAAAAAA".into()),
            a: Some("AAAA".into()),
            ..RawNode::default()
        });
        tree.set_public_handle(folder, Some(NodeHandle([7; 6])));
        tree.add_sharee(folder, "EXP");
        tree.set_sn("abc".into());
        assert_eq!(tree.page_of(root), Some(Page::Top));
        assert_eq!(tree.page_of(folder), Some(Page::Children(root)));
        let mut pages = tree.pages();
        pages.sort();
        let mut want = vec![Page::Top, Page::Children(root), Page::Children(folder)];
        want.sort();
        assert_eq!(pages, want);
        tree.track_changes();

        // From the top down, one page at a time: what is loaded answers as the whole tree.
        let mut rebuilt = Tree::new(Keyring { user: Some(me), master: Some(master), ..Keyring::default() });
        rebuilt.track_changes();
        assert_eq!(rebuilt.add_page(&tree.page_record(Page::Top)).unwrap(), vec![root]);
        assert_eq!(rebuilt.resolve("/docs"), None);
        rebuilt.add_page(&tree.page_record(Page::Children(root))).unwrap();
        assert_eq!(rebuilt.resolve("/docs"), Some(folder));
        assert_eq!(rebuilt.children(folder).count(), 0);
        rebuilt.add_page(&tree.page_record(Page::Children(folder))).unwrap();
        assert_eq!(rebuilt.get(folder).unwrap().key(), tree.get(folder).unwrap().key());
        assert_eq!(rebuilt.public_handle(folder), Some(NodeHandle([7; 6])));
        assert!(rebuilt.is_shared_out(folder));
        assert!(!rebuilt.get(sealed).unwrap().is_decrypted());
        assert_eq!(rebuilt.page_record(Page::Children(folder)), tree.page_record(Page::Children(folder)));
        assert!(rebuilt.take_changes().is_empty(), "loading is no change");

        assert!(tree.take_changes().is_empty());
        tree.remove_subtree(folder);
        let mut changed = tree.take_changes();
        changed.sort();
        assert_eq!(changed, vec![sealed, folder]);
        assert!(rebuilt.add_page(b"\x01").is_err());
        assert!(tree.page_record(Page::Children(folder)).is_empty());
    }
}
