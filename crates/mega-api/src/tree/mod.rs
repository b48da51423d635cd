//! The decrypted node tree: every node of an account (or of a folder link) by handle, children
//! per folder, paths, search by name or glob, duplicate names; kept current by action packets
//! ([`Tree::apply`]).
//!
//! Built for a million nodes: nodes live in one slab (`Vec`) addressed through a handle index,
//! each node is a compact struct (fixed-size handles, the name as `Box<str>`, other attributes
//! only when present), and no JSON is kept per node. Nodes that cannot be decrypted are kept and
//! marked ([`Node::is_decrypted`]), with their wrapped key and attributes aside so a share key
//! learnt later can still open them.

mod apply;
mod dedupe;
mod fetch;
mod keyring;
mod keys;
mod node;
mod snapshot;
mod split;

use std::collections::{BTreeSet, HashMap};

use mega_proto::NodeHandle;

pub use apply::{ActionPacket, Change};
pub use dedupe::{keeper, Keep, Numbering};
pub(crate) use fetch::fetch_tree;
pub(crate) use keyring::{handle_auth, Keyring};
pub(crate) use keys::KeyManager;
pub use node::{Node, NodeKind, RawNode};
pub use snapshot::Page;

/// Duplicate names in one folder: each name with the nodes that carry it.
pub type Duplicates = Vec<(String, Vec<NodeHandle>)>;

/// The three roots of an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Roots {
    /// The cloud drive.
    pub cloud: Option<NodeHandle>,
    /// The inbox (vault).
    pub inbox: Option<NodeHandle>,
    /// The rubbish bin.
    pub rubbish: Option<NodeHandle>,
}

/// A node's wrapped key and encrypted attributes, kept while no key opens it.
struct Sealed {
    k: Box<str>,
    a: Box<str>,
}

/// The node tree of an account or a folder link.
pub struct Tree {
    slots: Vec<Option<Node>>,
    free: Vec<u32>,
    // foldhash (hashbrown's own default, seeded per process): SipHash costs a third of a
    // million-node load.
    index: HashMap<NodeHandle, u32, foldhash::fast::RandomState>,
    children: HashMap<NodeHandle, Vec<NodeHandle>, foldhash::fast::RandomState>,
    sealed: HashMap<NodeHandle, Sealed>,
    links: HashMap<NodeHandle, NodeHandle>,
    roots: Roots,
    shares: Vec<NodeHandle>,
    link_root: Option<NodeHandle>,
    pub(crate) keyring: Keyring,
    /// The account's `^!keys`, as the fetch read it.
    pub(crate) key_manager: KeyManager,
    /// The folders this account shares out (with users or as a folder link, `EXP`), from the
    /// `f` reply's `s` and `ok` lists, share packets and this client's own exports, each with
    /// its sharees as far as they are known (user handles, `EXP`).
    out_shares: HashMap<NodeHandle, BTreeSet<String>>,
    /// A `ua` packet said `^!keys` changed since it was read.
    key_manager_stale: bool,
    sn: String,
    /// The nodes changed since [`Tree::track_changes`] (added, updated, moved, removed), for
    /// a store that keeps the tree to write only those.
    changed: Option<std::collections::HashSet<NodeHandle>>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("nodes", &self.len()).field("roots", &self.roots).finish_non_exhaustive()
    }
}

impl Tree {
    pub(crate) fn new(keyring: Keyring) -> Self {
        Tree {
            slots: Vec::new(),
            free: Vec::new(),
            index: HashMap::default(),
            children: HashMap::default(),
            sealed: HashMap::new(),
            links: HashMap::new(),
            roots: Roots::default(),
            shares: Vec::new(),
            link_root: None,
            keyring,
            key_manager: KeyManager::NotRead,
            out_shares: HashMap::new(),
            key_manager_stale: false,
            sn: String::new(),
            changed: None,
        }
    }

    /// Makes room for `n` more nodes (a store that knows how many it is about to add).
    pub fn reserve(&mut self, n: usize) {
        self.slots.reserve(n);
        self.index.reserve(n);
        self.children.reserve(n / 8);
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when the tree holds no node.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The event-channel position this tree is current to.
    pub fn sn(&self) -> &str {
        &self.sn
    }

    pub(crate) fn set_sn(&mut self, sn: String) {
        self.sn = sn;
    }

    /// The account's roots (none in a folder-link tree).
    pub fn roots(&self) -> Roots {
        self.roots
    }

    /// The cloud drive root; in a folder-link tree, the shared folder.
    pub fn root(&self) -> Option<NodeHandle> {
        self.roots.cloud.or(self.link_root)
    }

    /// The rubbish bin.
    pub fn rubbish(&self) -> Option<NodeHandle> {
        self.roots.rubbish
    }

    /// The roots of incoming shares (folders other users share with this account).
    pub fn incoming_shares(&self) -> &[NodeHandle] {
        &self.shares
    }

    /// A node by handle.
    pub fn get(&self, h: NodeHandle) -> Option<&Node> {
        self.index.get(&h).and_then(|&i| self.slots[i as usize].as_ref())
    }

    fn get_mut(&mut self, h: NodeHandle) -> Option<&mut Node> {
        let i = *self.index.get(&h)?;
        self.touch(h);
        self.slots[i as usize].as_mut()
    }

    /// A node by handle, or a not-found error.
    pub fn node(&self, h: NodeHandle) -> crate::Result<&Node> {
        self.get(h).ok_or_else(|| crate::Error::NotFound(format!("node {h}")))
    }

    /// Every node, in no particular order.
    pub fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.slots.iter().flatten()
    }

    /// The children of a folder, in the order they arrived.
    pub fn children(&self, h: NodeHandle) -> impl Iterator<Item = &Node> {
        self.children.get(&h).into_iter().flatten().filter_map(|c| self.get(*c))
    }

    /// The children of a folder with this exact name (several when names are duplicated).
    pub fn children_named<'a>(&'a self, h: NodeHandle, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children(h).filter(move |n| n.name() == name)
    }

    /// The public link handle of an exported node.
    pub fn public_handle(&self, h: NodeHandle) -> Option<NodeHandle> {
        self.links.get(&h).copied()
    }

    /// Every exported node with its public link handle, in no particular order.
    pub fn exported(&self) -> impl Iterator<Item = (NodeHandle, NodeHandle)> + '_ {
        self.links.iter().filter(|(h, _)| self.index.contains_key(h)).map(|(h, ph)| (*h, *ph))
    }

    /// The public link of an exported node, with its key: a file's node key, a folder's share
    /// key. The key is `None` where this tree does not hold it (a folder exported by another
    /// client whose share key is not known here).
    pub fn public_link(&self, h: NodeHandle) -> Option<mega_proto::link::Link> {
        use mega_proto::link::{Link, LinkKind};
        let ph = self.public_handle(h)?;
        let n = self.get(h)?;
        let (kind, key) = match n.kind {
            NodeKind::File => (LinkKind::File, n.key()),
            _ => (LinkKind::Folder, self.keyring.shares.get(&h).cloned().map(mega_proto::NodeKey::Folder)),
        };
        Some(Link { kind, handle: ph, key, sub: None })
    }

    /// Whether `h` is a folder this account shares out (with users, or as a folder link).
    pub fn is_shared_out(&self, h: NodeHandle) -> bool {
        self.out_shares.contains_key(&h)
    }

    /// Whether `h` is shared out with users (not only as a folder link), as far as the tree
    /// knows its sharees.
    pub fn is_shared_with_users(&self, h: NodeHandle) -> bool {
        self.out_shares.get(&h).is_some_and(|users| users.iter().any(|u| u != "EXP"))
    }

    /// Records one sharee (a user handle, or `EXP` for the folder link) of an own folder.
    pub(crate) fn add_sharee(&mut self, h: NodeHandle, sharee: &str) {
        self.touch(h);
        self.out_shares.entry(h).or_default().insert(sharee.to_string());
    }

    /// Forgets one sharee; a folder left with none known is no longer shared out.
    pub(crate) fn remove_sharee(&mut self, h: NodeHandle, sharee: &str) {
        self.touch(h);
        if let Some(users) = self.out_shares.get_mut(&h) {
            users.remove(sharee);
            if users.is_empty() {
                self.out_shares.remove(&h);
            }
        }
    }

    pub(crate) fn set_shared_out(&mut self, h: NodeHandle, shared: bool) {
        self.touch(h);
        if shared {
            self.out_shares.entry(h).or_default();
        } else {
            self.out_shares.remove(&h);
        }
    }

    /// Whether the account's key manager (`^!keys`, spec §6.10) was read with this tree:
    /// `Ok(true)` read, `Ok(false)` the account has none (or this is a folder link's tree),
    /// and an error of kind [`crate::ErrorKind::Crypto`] when it is there but cannot be read
    /// (the drive is listed all the same; only the shares whose keys only it holds stay
    /// closed).
    pub fn key_manager(&self) -> crate::Result<bool> {
        match self.key_manager.error() {
            Some(e) => Err(e),
            None => Ok(self.key_manager.keys().is_some()),
        }
    }

    /// Whether an action packet said the account's `^!keys` changed since this tree read it
    /// (another client wrote it, perhaps with the key of a share made there): call
    /// [`crate::Session::reread_key_manager`], which opens what the new keys open. Applying
    /// a batch through [`crate::Session::apply_batch`] does that itself.
    pub fn key_manager_stale(&self) -> bool {
        self.key_manager_stale
    }

    /// A `ua` packet for `^!keys`: stale unless it names the version this tree holds (this
    /// client's own write).
    pub(crate) fn key_manager_written(&mut self, version: Option<&str>) {
        let held = match &self.key_manager {
            KeyManager::Read { version, .. } => Some(version.as_str()),
            _ => None,
        };
        if version.is_none() || version != held {
            self.key_manager_stale = true;
        }
    }

    /// The share keys of the account's key manager: opens what they open (returned). A key
    /// manager that cannot be read replaces the one held, whose keys stay learnt.
    pub(crate) fn learn_key_manager(&mut self, key_manager: KeyManager) -> Vec<NodeHandle> {
        let mut learnt = false;
        for s in key_manager.keys().map(|k| k.share_keys()).unwrap_or_default() {
            // A key from a valid `ok` or `sk` was checked already; `^!keys` fills the rest.
            if let std::collections::hash_map::Entry::Vacant(e) = self.keyring.shares.entry(s.handle) {
                e.insert(s.key);
                learnt = true;
            }
        }
        self.key_manager = key_manager;
        self.key_manager_stale = false;
        if learnt {
            self.unseal()
        } else {
            Vec::new()
        }
    }

    /// A node and everything below it, parents before children.
    pub fn subtree(&self, h: NodeHandle) -> Vec<NodeHandle> {
        if !self.index.contains_key(&h) {
            return Vec::new();
        }
        let mut out = vec![h];
        let mut i = 0;
        while i < out.len() {
            if let Some(kids) = self.children.get(&out[i]) {
                out.extend(kids.iter().copied());
            }
            i += 1;
        }
        out
    }

    /// True if `h` is `ancestor` or lies below it.
    pub fn is_within(&self, h: NodeHandle, ancestor: NodeHandle) -> bool {
        let mut cur = Some(h);
        while let Some(c) = cur {
            if c == ancestor {
                return true;
            }
            cur = self.get(c).and_then(|n| n.parent);
        }
        false
    }

    /// The topmost node above `h` that is in the tree (a root, a share root, the link root).
    pub fn top(&self, h: NodeHandle) -> Option<NodeHandle> {
        let mut cur = self.get(h)?;
        while let Some(p) = cur.parent.and_then(|p| self.get(p)) {
            cur = p;
        }
        Some(cur.handle)
    }

    /// The path of a node: `/a/b` under the cloud drive (or a folder link's root), `//bin/a`
    /// in the rubbish bin, `//in/a` in the inbox, `//shares/<share>/a` in an incoming share.
    /// A node that could not be decrypted stands as its handle.
    pub fn path(&self, h: NodeHandle) -> Option<String> {
        let mut names: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        let mut cur = self.get(h)?;
        while let Some(p) = cur.parent.and_then(|p| self.get(p)) {
            names.push(path_name(cur));
            cur = p;
        }
        let prefix = match cur.kind {
            NodeKind::Root => "",
            NodeKind::Rubbish => "//bin",
            NodeKind::Inbox => "//in",
            _ if Some(cur.handle) == self.link_root => "",
            _ => {
                names.push(path_name(cur));
                "//shares"
            }
        };
        names.reverse();
        if names.is_empty() {
            return Some(if prefix.is_empty() { "/".into() } else { prefix.into() });
        }
        Some(format!("{prefix}/{}", names.join("/")))
    }

    /// The node at a path (see [`Tree::path`]); with duplicate names, the first one.
    pub fn resolve(&self, path: &str) -> Option<NodeHandle> {
        let (start, rest) = if let Some(r) = path.strip_prefix("//bin") {
            (self.roots.rubbish?, r)
        } else if let Some(r) = path.strip_prefix("//in") {
            (self.roots.inbox?, r)
        } else if let Some(r) = path.strip_prefix("//shares/") {
            let (share, r) = r.split_once('/').unwrap_or((r, ""));
            (self.shares.iter().copied().find(|&s| self.get(s).is_some_and(|n| n.name() == share))?, r)
        } else {
            (self.root()?, path)
        };
        let mut cur = start;
        for part in rest.split('/').filter(|p| !p.is_empty()) {
            cur = self.children_named(cur, part).next()?.handle;
        }
        Some(cur)
    }

    /// Nodes whose name matches a glob (`*` any run, `?` one character), anywhere (roots and
    /// undecrypted nodes have no name and never match).
    pub fn find(&self, glob: &str) -> Vec<NodeHandle> {
        self.nodes().filter(|n| named(n) && glob_match(glob, n.name())).map(|n| n.handle).collect()
    }

    /// Nodes below `folder` (recursively) whose name matches a glob.
    pub fn find_in(&self, folder: NodeHandle, glob: &str) -> Vec<NodeHandle> {
        self.subtree(folder)
            .into_iter()
            .skip(1)
            .filter(|h| self.get(*h).is_some_and(|n| named(n) && glob_match(glob, n.name())))
            .collect()
    }

    /// The names that appear more than once among a folder's children, with their nodes.
    pub fn duplicates(&self, folder: NodeHandle) -> Duplicates {
        let mut by_name: HashMap<&str, Vec<NodeHandle>> = HashMap::new();
        for n in self.children(folder).filter(|n| n.is_decrypted()) {
            by_name.entry(n.name()).or_default().push(n.handle);
        }
        let mut out: Duplicates =
            by_name.into_iter().filter(|(_, v)| v.len() > 1).map(|(k, v)| (k.to_string(), v)).collect();
        out.sort();
        out
    }

    /// Every folder that has duplicate names, with them.
    pub fn all_duplicates(&self) -> Vec<(NodeHandle, Duplicates)> {
        let mut out: Vec<_> = self
            .children
            .keys()
            .filter_map(|&f| {
                let d = self.duplicates(f);
                (!d.is_empty()).then_some((f, d))
            })
            .collect();
        out.sort_by_key(|(f, _)| *f);
        out
    }

    /// Inserts or replaces a node. Returns the previous parent if the node existed.
    pub(crate) fn insert(&mut self, node: Node) -> Option<Option<NodeHandle>> {
        let h = node.handle;
        self.touch(h);
        match node.kind {
            NodeKind::Root => self.roots.cloud = Some(h),
            NodeKind::Inbox => self.roots.inbox = Some(h),
            NodeKind::Rubbish => self.roots.rubbish = Some(h),
            _ => {}
        }
        let parent = node.parent;
        let previous = if let Some(&i) = self.index.get(&h) {
            let old = self.slots[i as usize].replace(node).map(|o| o.parent);
            let old_parent = old.flatten();
            if old_parent != parent {
                self.unlink(h, old_parent);
                self.link(h, parent);
            }
            Some(old_parent)
        } else {
            let i = match self.free.pop() {
                Some(i) => {
                    self.slots[i as usize] = Some(node);
                    i
                }
                None => {
                    self.slots.push(Some(node));
                    (self.slots.len() - 1) as u32
                }
            };
            self.index.insert(h, i);
            self.link(h, parent);
            None
        };
        previous
    }

    fn link(&mut self, h: NodeHandle, parent: Option<NodeHandle>) {
        if let Some(p) = parent {
            self.children.entry(p).or_default().push(h);
        }
    }

    fn unlink(&mut self, h: NodeHandle, parent: Option<NodeHandle>) {
        if let Some(kids) = parent.and_then(|p| self.children.get_mut(&p)) {
            if let Some(pos) = kids.iter().rposition(|&k| k == h) {
                kids.remove(pos);
            }
        }
    }

    /// Removes a node and everything below it; returns the removed nodes, parents first.
    pub(crate) fn remove_subtree(&mut self, h: NodeHandle) -> Vec<Node> {
        let all = self.subtree(h);
        if let Some(parent) = self.get(h).and_then(|n| n.parent) {
            self.unlink(h, Some(parent));
        }
        let mut out = Vec::with_capacity(all.len());
        for n in all {
            self.touch(n);
            self.children.remove(&n);
            self.sealed.remove(&n);
            self.links.remove(&n);
            self.shares.retain(|&s| s != n);
            if let Some(i) = self.index.remove(&n) {
                if let Some(node) = self.slots[i as usize].take() {
                    out.push(node);
                }
                self.free.push(i);
            }
        }
        out
    }

    /// Decrypts a raw node into the tree (kept sealed when no key opens it). Returns the
    /// handle and the previous parent if the node was already there. A node with a malformed
    /// field, an invalid handle or an unknown type is left out, with a warning naming it.
    pub(crate) fn add_raw(&mut self, raw: &RawNode) -> Option<(NodeHandle, Option<Option<NodeHandle>>)> {
        if let Some(field) = raw.malformed {
            tracing::warn!(handle = %node::wire_handle(&raw.h), field, "node left out: a field has the wrong type");
            return None;
        }
        let Ok(node) = self.keyring.decrypt(raw) else {
            tracing::warn!(handle = %node::wire_handle(&raw.h), t = raw.t, "node left out: invalid handle or type");
            return None;
        };
        if !node.is_decrypted() {
            if let (Some(k), Some(a)) = (raw.k.as_deref(), raw.a.as_deref()) {
                self.sealed.insert(node.handle, Sealed { k: k.into(), a: a.into() });
            }
        }
        Some(self.add_opened(node, raw.su.is_some()))
    }

    /// Inserts a node opened elsewhere (`share_root`: it carried `su`).
    pub(crate) fn add_opened(&mut self, node: Node, share_root: bool) -> (NodeHandle, Option<Option<NodeHandle>>) {
        let h = node.handle;
        self.touch(h);
        if share_root && !self.shares.contains(&h) {
            self.shares.push(h);
        }
        if node.is_decrypted() {
            self.sealed.remove(&h);
        }
        (h, self.insert(node))
    }

    /// Tries the sealed nodes again (after new share keys were learnt); returns those opened.
    pub(crate) fn unseal(&mut self) -> Vec<NodeHandle> {
        let sealed: Vec<NodeHandle> = self.sealed.keys().copied().collect();
        let mut opened = Vec::new();
        for h in sealed {
            let Some(node) = self.get(h) else { continue };
            let Some(s) = self.sealed.get(&h) else { continue };
            let raw = RawNode {
                h: h.to_b64(),
                p: node.parent.map(|p| p.to_b64()),
                u: Some(node.owner.to_b64()),
                t: match node.kind {
                    NodeKind::File => 0,
                    _ => 1,
                },
                a: Some(s.a.to_string()),
                k: Some(s.k.to_string()),
                s: Some(node.size),
                ts: Some(node.ts),
                fa: node.fa.as_deref().map(str::to_string),
                ..RawNode::default()
            };
            if let Ok(n) = self.keyring.decrypt(&raw) {
                if n.is_decrypted() {
                    self.sealed.remove(&h);
                    if let Some(slot) = self.get_mut(h) {
                        *slot = n;
                    }
                    opened.push(h);
                }
            }
        }
        opened
    }

    pub(crate) fn set_link_root(&mut self, h: Option<NodeHandle>) {
        self.link_root = h;
    }

    pub(crate) fn set_public_handle(&mut self, node: NodeHandle, ph: Option<NodeHandle>) {
        self.touch(node);
        match ph {
            Some(ph) => self.links.insert(node, ph),
            None => self.links.remove(&node),
        };
    }

    /// Replaces a node's attributes (already decrypted).
    pub(crate) fn set_attributes(&mut self, h: NodeHandle, attrs: mega_proto::attr::Attributes) {
        if let Some(n) = self.get_mut(h) {
            n.set_attributes(attrs);
            n.decrypted = true;
        }
    }

    /// Sets a node's file-attribute string.
    pub(crate) fn set_file_attributes(&mut self, h: NodeHandle, fa: &str) {
        if let Some(n) = self.get_mut(h) {
            n.fa = Some(fa.into());
        }
    }

    /// Moves a node under a new parent (local bookkeeping of a move the server accepted).
    pub(crate) fn reparent(&mut self, h: NodeHandle, parent: NodeHandle) {
        let Some(old) = self.get(h).map(|n| n.parent) else { return };
        if old == Some(parent) {
            return;
        }
        self.unlink(h, old);
        self.link(h, Some(parent));
        if let Some(n) = self.get_mut(h) {
            n.parent = Some(parent);
        }
    }
}

/// Has the node a name (decrypted, not a root)?
fn named(n: &Node) -> bool {
    n.decrypted && !n.kind.is_root()
}

/// A node's path component: its name, or its handle when it could not be decrypted.
fn path_name(n: &Node) -> std::borrow::Cow<'_, str> {
    if n.decrypted {
        std::borrow::Cow::Borrowed(n.name())
    } else {
        std::borrow::Cow::Owned(n.handle.to_b64())
    }
}

/// Glob match over characters: `*` matches any run (also empty), `?` exactly one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use mega_proto::attr::Attributes;
    use mega_proto::{b64, Key128, UserHandle};

    fn raw(h: NodeHandle, p: NodeHandle, t: i64, k: String, a: String) -> RawNode {
        RawNode { h: h.to_b64(), p: Some(p.to_b64()), t, k: Some(k), a: Some(a), ..RawNode::default() }
    }

    #[test]
    fn undecryptable_nodes_are_kept_marked_and_opened_when_a_share_key_arrives() {
        let me = UserHandle([1; 8]);
        let master = Key128::new([2; 16]);
        let mut tree = Tree::new(Keyring { user: Some(me), master: Some(master.clone()), ..Keyring::default() });
        let root = NodeHandle([9; 6]);
        tree.add_raw(&RawNode { h: root.to_b64(), t: 2, ..RawNode::default() });
        let (share, folder_key, share_key) = (NodeHandle([3; 6]), Key128::new([4; 16]), Key128::new([5; 16]));
        // A folder someone else put into our share: keyed for the share only.
        let k = format!("{share}:{}", b64::encode(&share_key.wrap(folder_key.as_bytes()).unwrap()));
        let a = Attributes::with_name("theirs").encrypt_b64(&folder_key);
        let h = NodeHandle([6; 6]);
        tree.add_raw(&raw(h, root, 1, k, a));
        assert_eq!(tree.len(), 2, "kept, not dropped");
        let n = tree.get(h).unwrap();
        assert!(!n.is_decrypted() && n.name().is_empty() && n.key().is_none());
        assert_eq!(tree.path(h), Some(format!("/{h}")));
        assert!(tree.find("*").is_empty(), "search skips what cannot be read");
        tree.keyring.shares.insert(share, share_key);
        assert_eq!(tree.unseal(), vec![h]);
        assert_eq!(tree.get(h).unwrap().name(), "theirs");
        assert_eq!(tree.path(h).as_deref(), Some("/theirs"));
        assert!(tree.unseal().is_empty());
        // Removing a subtree frees its slot for reuse.
        tree.remove_subtree(h);
        assert_eq!(tree.len(), 1);
        let k = format!("{me}:{}", b64::encode(&master.wrap(folder_key.as_bytes()).unwrap()));
        let a = Attributes::with_name("mine").encrypt_b64(&folder_key);
        tree.add_raw(&raw(NodeHandle([7; 6]), root, 1, k, a));
        assert_eq!(tree.slots.len(), 2);
        assert_eq!(tree.resolve("/mine"), Some(NodeHandle([7; 6])));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("*a*b*", "xxaYYbzz"));
        assert!(!glob_match("*.txt", "a.txt.gz"));
        assert!(glob_match("ä*", "äpfel"));
        assert!(glob_match("exact", "exact") && !glob_match("exact", "exacter"));
    }
}
