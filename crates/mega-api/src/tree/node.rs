//! One node of the tree, kept compact: fixed-size handles, the name as `Box<str>`, the other
//! attributes as one compact string only when there are any, and the raw node key.

use std::borrow::Cow;
use std::fmt;

use mega_proto::attr::Attributes;
use mega_proto::fingerprint::Fingerprint;
use mega_proto::{FileKey, Key128, NodeHandle, NodeKey, UserHandle};
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroize;

/// What a node is (spec §3.1 `t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// A file.
    File,
    /// A folder.
    Folder,
    /// The cloud drive root.
    Root,
    /// The inbox (vault) root.
    Inbox,
    /// The rubbish bin root.
    Rubbish,
}

impl NodeKind {
    pub(crate) fn from_wire(t: i64) -> Option<Self> {
        Some(match t {
            0 => NodeKind::File,
            1 => NodeKind::Folder,
            2 => NodeKind::Root,
            3 => NodeKind::Inbox,
            4 => NodeKind::Rubbish,
            _ => return None,
        })
    }

    /// True for everything that holds children (folders and the three roots).
    pub fn is_container(self) -> bool {
        self != NodeKind::File
    }

    /// True for the three roots.
    pub fn is_root(self) -> bool {
        matches!(self, NodeKind::Root | NodeKind::Inbox | NodeKind::Rubbish)
    }
}

/// A node key as raw bytes (32 for a file, 16 for a folder, none for roots). Zeroized on drop.
#[derive(Clone, Default)]
pub(crate) struct KeyBytes {
    len: u8,
    bytes: [u8; 32],
}

impl KeyBytes {
    pub(crate) fn new(raw: &[u8]) -> Self {
        let mut k = KeyBytes::default();
        let n = raw.len().min(32);
        k.bytes[..n].copy_from_slice(&raw[..n]);
        k.len = n as u8;
        k
    }

    pub(crate) fn get(&self) -> Option<&[u8]> {
        (self.len > 0).then(|| &self.bytes[..self.len as usize])
    }
}

impl Drop for KeyBytes {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

/// The borrowed [`RawFields`] of a node struct with the wire's field names (owned or borrowed).
macro_rules! borrow_fields {
    ($n:expr) => {
        RawFields {
            h: &$n.h,
            p: $n.p.as_deref(),
            u: $n.u.as_deref(),
            t: $n.t,
            a: $n.a.as_deref(),
            k: $n.k.as_deref(),
            s: $n.s,
            ts: $n.ts,
            fa: $n.fa.as_deref(),
        }
    };
}

/// A node as the wire shows it (`f`, `t` packets, `p` replies). Unknown fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawNode {
    /// Handle.
    pub h: String,
    /// Parent handle.
    pub p: Option<String>,
    /// Owner.
    pub u: Option<String>,
    /// Type.
    pub t: i64,
    /// Encrypted attributes.
    pub a: Option<String>,
    /// Key field.
    pub k: Option<String>,
    /// Size (files).
    pub s: Option<u64>,
    /// Creation time.
    pub ts: Option<i64>,
    /// File attributes.
    pub fa: Option<String>,
    /// Sharing user (incoming share roots).
    pub su: Option<String>,
    /// Share key (incoming share roots).
    pub sk: Option<String>,
}

impl RawNode {
    /// The fields as borrowed text.
    pub(crate) fn fields(&self) -> RawFields<'_> {
        borrow_fields!(self)
    }
}

/// A node as the wire shows it, borrowed from the reply's bytes where no JSON escape is in the
/// way: what the fast path of `f` parses, without a string allocation per field.
#[derive(Default, Deserialize)]
#[serde(default)]
pub(crate) struct RawNodeRef<'a> {
    #[serde(borrow)]
    h: Cow<'a, str>,
    #[serde(borrow)]
    p: Option<Cow<'a, str>>,
    #[serde(borrow)]
    u: Option<Cow<'a, str>>,
    t: i64,
    #[serde(borrow)]
    a: Option<Cow<'a, str>>,
    #[serde(borrow)]
    k: Option<Cow<'a, str>>,
    s: Option<u64>,
    ts: Option<i64>,
    #[serde(borrow)]
    fa: Option<Cow<'a, str>>,
    #[serde(borrow)]
    su: Option<Cow<'a, str>>,
    #[serde(borrow)]
    sk: Option<Cow<'a, str>>,
}

impl RawNodeRef<'_> {
    /// The fields as borrowed text.
    pub(crate) fn fields(&self) -> RawFields<'_> {
        borrow_fields!(self)
    }

    /// True for an incoming share's root (`su`).
    pub(crate) fn is_share_root(&self) -> bool {
        self.su.is_some()
    }

    /// True when the node carries a share key (`sk`), which changes the keyring.
    pub(crate) fn has_share_key(&self) -> bool {
        self.sk.is_some()
    }

    /// An owned copy, for the slow path.
    pub(crate) fn to_owned_node(&self) -> RawNode {
        let own = |c: &Option<Cow<'_, str>>| c.as_deref().map(str::to_string);
        RawNode {
            h: self.h.to_string(),
            p: own(&self.p),
            u: own(&self.u),
            t: self.t,
            a: own(&self.a),
            k: own(&self.k),
            s: self.s,
            ts: self.ts,
            fa: own(&self.fa),
            su: own(&self.su),
            sk: own(&self.sk),
        }
    }
}

/// The fields of a raw node that opening it needs, borrowed.
#[derive(Clone, Copy)]
pub(crate) struct RawFields<'a> {
    pub(crate) h: &'a str,
    pub(crate) p: Option<&'a str>,
    pub(crate) u: Option<&'a str>,
    pub(crate) t: i64,
    pub(crate) a: Option<&'a str>,
    pub(crate) k: Option<&'a str>,
    pub(crate) s: Option<u64>,
    pub(crate) ts: Option<i64>,
    pub(crate) fa: Option<&'a str>,
}

/// One node of the tree.
pub struct Node {
    pub(crate) handle: NodeHandle,
    pub(crate) parent: Option<NodeHandle>,
    pub(crate) kind: NodeKind,
    pub(crate) decrypted: bool,
    pub(crate) owner: UserHandle,
    pub(crate) ts: i64,
    pub(crate) size: u64,
    pub(crate) name: Box<str>,
    /// The attributes other than the name, as a compact JSON object; `None` when there are none.
    pub(crate) extra: Option<Box<str>>,
    pub(crate) fa: Option<Box<str>>,
    pub(crate) key: KeyBytes,
}

impl fmt::Debug for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Node")
            .field("handle", &self.handle)
            .field("parent", &self.parent)
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("size", &self.size)
            .field("decrypted", &self.decrypted)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// The node handle.
    pub fn handle(&self) -> NodeHandle {
        self.handle
    }

    /// The parent's handle (none for roots; a parent outside the tree for share roots).
    pub fn parent(&self) -> Option<NodeHandle> {
        self.parent
    }

    /// File, folder or root.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// True for files.
    pub fn is_file(&self) -> bool {
        self.kind == NodeKind::File
    }

    /// True for folders and roots.
    pub fn is_container(&self) -> bool {
        self.kind.is_container()
    }

    /// The decrypted name; empty for roots and for nodes that could not be decrypted.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// False when no key this client holds opens the node (it is kept, marked, nameless).
    pub fn is_decrypted(&self) -> bool {
        self.decrypted || self.kind.is_root()
    }

    /// Size in bytes (files).
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Creation time, unix seconds.
    pub fn created(&self) -> i64 {
        self.ts
    }

    /// The owner's user handle.
    pub fn owner(&self) -> UserHandle {
        self.owner
    }

    /// The file-attribute string (thumbnails, previews), if any.
    pub fn file_attributes(&self) -> Option<&str> {
        self.fa.as_deref()
    }

    /// All decrypted attributes (name included), as they would be re-encrypted.
    pub fn attributes(&self) -> Attributes {
        let mut map = self.extra_map();
        let mut out = Map::with_capacity(map.len() + 1);
        out.insert("n".into(), Value::String(self.name.to_string()));
        out.append(&mut map);
        Attributes(out)
    }

    fn extra_map(&self) -> Map<String, Value> {
        self.extra.as_deref().and_then(|e| serde_json::from_str(e).ok()).unwrap_or_default()
    }

    /// One attribute other than the name.
    pub fn attribute(&self, name: &str) -> Option<Value> {
        self.extra_map().remove(name)
    }

    /// The fingerprint (`c`: content CRCs and mtime), if present and well-formed.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.attribute("c").and_then(|c| c.as_str().and_then(|c| Fingerprint::parse(c).ok()))
    }

    /// The modification time from the fingerprint (or the legacy `t` attribute).
    pub fn mtime(&self) -> Option<i64> {
        self.fingerprint().map(|f| f.mtime).or_else(|| self.attribute("t").and_then(|t| t.as_i64()))
    }

    /// The modification time, or the creation time where the node has none (folders).
    pub fn modified(&self) -> i64 {
        self.mtime().unwrap_or(self.ts)
    }

    /// For a node in the rubbish bin: the folder it was deleted from (`rr`), if recorded.
    pub fn restore_parent(&self) -> Option<NodeHandle> {
        self.attribute("rr").and_then(|v| v.as_str().and_then(|s| NodeHandle::from_b64(s).ok()))
    }

    /// The node key (file or folder), if the node was decrypted.
    pub fn key(&self) -> Option<NodeKey> {
        NodeKey::from_bytes(self.key.get()?).ok()
    }

    /// The file key (AES key, nonce, meta-MAC) of a decrypted file.
    pub fn file_key(&self) -> Option<FileKey> {
        match self.key()? {
            NodeKey::File(k) => Some(k),
            NodeKey::Folder(_) => None,
        }
    }

    /// The key the attributes are encrypted with.
    pub(crate) fn attr_key(&self) -> Option<Key128> {
        self.key().map(|k| k.attr_key())
    }

    /// Sets name and other attributes from decrypted attributes.
    pub(crate) fn set_attributes(&mut self, attrs: Attributes) {
        let mut map = attrs.0;
        self.name = match map.remove("n") {
            Some(Value::String(n)) => n.into_boxed_str(),
            _ => Box::from(""),
        };
        self.extra = (!map.is_empty()).then(|| serde_json::to_string(&map).unwrap_or_default().into_boxed_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_stay_compact() {
        // A million of them must fit: the slab holds them inline, the name and the other
        // attributes are the only heap allocations.
        assert!(std::mem::size_of::<Option<Node>>() <= 120);
    }

    #[test]
    fn attributes_split_and_join() {
        let mut n = Node {
            handle: NodeHandle([1; 6]),
            parent: None,
            kind: NodeKind::File,
            decrypted: true,
            owner: UserHandle([2; 8]),
            ts: 0,
            size: 3,
            name: Box::from(""),
            extra: None,
            fa: None,
            key: KeyBytes::new(&[5; 32]),
        };
        let fp = Fingerprint { crc: [3; 16], mtime: 1_700_000_000 };
        let mut a = Attributes::with_name("x.txt");
        a.set_fingerprint(&fp.to_attr());
        a.0.insert("rr".into(), Value::String(NodeHandle([9; 6]).to_b64()));
        n.set_attributes(a.clone());
        assert_eq!(n.name(), "x.txt");
        assert_eq!(n.attributes(), a);
        assert_eq!(n.fingerprint(), Some(fp));
        assert_eq!(n.mtime(), Some(1_700_000_000));
        assert_eq!(n.restore_parent(), Some(NodeHandle([9; 6])));
        assert!(n.file_key().is_some());
        assert!(!format!("{n:?}").contains("key"));
        n.set_attributes(Attributes::with_name("y"));
        assert!(n.extra.is_none());
    }
}
