//! One node of the tree, kept compact: fixed-size handles, the name as `Box<str>`, the other
//! attributes as one compact string only when there are any, and the raw node key.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use mega_proto::attr::Attributes;
use mega_proto::fingerprint::Fingerprint;
use mega_proto::{FileKey, Key128, NodeHandle, NodeKey, UserHandle};

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
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

/// A node as the wire shows it (`f`, `t` packets, `p` replies). Unknown fields are ignored. A
/// known field of the wrong type (a negative or text size, a text type, a number for a handle,
/// ...) does not fail the reply it came in: the node is read with [`RawNode::malformed`] set
/// and is left out of the tree, with a warning naming its handle.
#[derive(Debug, Clone, Default)]
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
    /// The first field that had the wrong type (`"node"` when the node was not an object);
    /// such a node is never put into the tree.
    pub malformed: Option<&'static str>,
}

impl RawNode {
    /// The fields as borrowed text.
    pub(crate) fn fields(&self) -> RawFields<'_> {
        borrow_fields!(self)
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        RawNodeRef::deserialize(d).map(RawNodeRef::into_owned_node)
    }
}

/// A node as the wire shows it, borrowed from the reply's bytes where no JSON escape is in the
/// way: what the fast path of `f` parses, without a string allocation per field. Read as
/// leniently as [`RawNode`].
#[derive(Default)]
pub(crate) struct RawNodeRef<'a> {
    h: Cow<'a, str>,
    p: Option<Cow<'a, str>>,
    u: Option<Cow<'a, str>>,
    t: i64,
    a: Option<Cow<'a, str>>,
    k: Option<Cow<'a, str>>,
    s: Option<u64>,
    ts: Option<i64>,
    fa: Option<Cow<'a, str>>,
    su: Option<Cow<'a, str>>,
    sk: Option<Cow<'a, str>>,
    malformed: Option<&'static str>,
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

    /// True when a field had the wrong type (the node stays out of the tree).
    pub(crate) fn is_malformed(&self) -> bool {
        self.malformed.is_some()
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
            malformed: self.malformed,
        }
    }

    /// The owned node, moving the strings that were already owned.
    fn into_owned_node(self) -> RawNode {
        let own = |c: Option<Cow<'_, str>>| c.map(Cow::into_owned);
        RawNode {
            h: self.h.into_owned(),
            p: own(self.p),
            u: own(self.u),
            t: self.t,
            a: own(self.a),
            k: own(self.k),
            s: self.s,
            ts: self.ts,
            fa: own(self.fa),
            su: own(self.su),
            sk: own(self.sk),
            malformed: self.malformed,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawNodeRef<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor(PhantomData))
    }
}

/// The wire names of a node object's known fields.
const FIELDS: [&str; 11] = ["h", "p", "u", "t", "a", "k", "s", "ts", "fa", "su", "sk"];

/// A key of a node object: one of [`FIELDS`], or `None` for any other (ignored).
struct Field(Option<&'static str>);

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
                Ok(Field(FIELDS.iter().find(|f| **f == v).copied()))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// A field's value whatever its JSON type, so that a wrong type is noted rather than failing
/// the whole reply. Arrays and objects are skipped over without being kept.
enum Wire<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    UInt(u64),
    Other,
}

impl<'a> Wire<'a> {
    fn text(self) -> Result<Option<Cow<'a, str>>, ()> {
        match self {
            Wire::Null => Ok(None),
            Wire::Text(s) => Ok(Some(s)),
            _ => Err(()),
        }
    }

    fn int(self) -> Result<Option<i64>, ()> {
        match self {
            Wire::Null => Ok(None),
            Wire::Int(i) => Ok(Some(i)),
            Wire::UInt(u) => i64::try_from(u).map(Some).map_err(|_| ()),
            _ => Err(()),
        }
    }

    fn size(self) -> Result<Option<u64>, ()> {
        match self {
            Wire::Null => Ok(None),
            Wire::UInt(u) => Ok(Some(u)),
            Wire::Int(i) => u64::try_from(i).map(Some).map_err(|_| ()),
            _ => Err(()),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Wire<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Wire<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Wire<'a>, E> {
                Ok(Wire::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Wire<'a>, E> {
                Ok(Wire::Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Wire<'a>, E> {
                Ok(Wire::Text(Cow::Owned(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Wire<'a>, E> {
                Ok(Wire::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Wire<'a>, E> {
                Ok(Wire::UInt(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Wire<'a>, E> {
                Ok(Wire::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Wire<'a>, E> {
                Ok(Wire::Other)
            }
            fn visit_unit<E>(self) -> Result<Wire<'a>, E> {
                Ok(Wire::Null)
            }
            fn visit_none<E>(self) -> Result<Wire<'a>, E> {
                Ok(Wire::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Wire<'a>, D::Error> {
                Wire::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Wire<'a>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Wire<'a>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Wire::Other)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Reads a node object field by field; a node that is not an object is read as malformed.
struct NodeVisitor<'a>(PhantomData<&'a ()>);

impl<'a> NodeVisitor<'a> {
    fn not_an_object() -> RawNodeRef<'a> {
        RawNodeRef { malformed: Some("node"), ..RawNodeRef::default() }
    }
}

impl<'de: 'a, 'a> Visitor<'de> for NodeVisitor<'a> {
    type Value = RawNodeRef<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a node object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNodeRef<'a>, A::Error> {
        let mut n = RawNodeRef::default();
        while let Some(Field(field)) = map.next_key::<Field>()? {
            let Some(name) = field else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let v = map.next_value::<Wire<'a>>()?;
            let ok = match name {
                "h" => v.text().and_then(|h| h.ok_or(())).map(|h| n.h = h),
                "t" => v.int().and_then(|t| t.ok_or(())).map(|t| n.t = t),
                "p" => v.text().map(|x| n.p = x),
                "u" => v.text().map(|x| n.u = x),
                "a" => v.text().map(|x| n.a = x),
                "k" => v.text().map(|x| n.k = x),
                "fa" => v.text().map(|x| n.fa = x),
                "su" => v.text().map(|x| n.su = x),
                "sk" => v.text().map(|x| n.sk = x),
                "s" => v.size().map(|x| n.s = x),
                "ts" => v.int().map(|x| n.ts = x),
                _ => Ok(()),
            };
            if ok.is_err() && n.malformed.is_none() {
                n.malformed = Some(name);
            }
        }
        Ok(n)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNodeRef<'a>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Self::not_an_object())
    }

    fn visit_str<E>(self, _: &str) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }

    fn visit_i64<E>(self, _: i64) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }

    fn visit_u64<E>(self, _: u64) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }

    fn visit_f64<E>(self, _: f64) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }

    fn visit_bool<E>(self, _: bool) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }

    fn visit_unit<E>(self) -> Result<RawNodeRef<'a>, E> {
        Ok(Self::not_an_object())
    }
}

/// A handle from the wire for a log line: at most 16 characters, control characters escaped
/// (a hostile server chooses it).
pub(crate) fn wire_handle(h: &str) -> String {
    if h.is_empty() {
        return "(none)".into();
    }
    let short: String = h.chars().take(16).collect();
    let mut out = short.escape_debug().to_string();
    if short.len() < h.len() {
        out.push('…');
    }
    out
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
