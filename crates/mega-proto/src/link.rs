//! Public links (spec §7.1): every form MEGA has used, parsed into one [`Link`], and the
//! canonical form written back.
//!
//! Parsing follows the SDK: find the marker (`folder/`, `#F!`, `file/`, `#!`, `embed`), read an
//! 8-character handle, skip anything up to the next `!` or `#` (tracking junk), then read the key
//! and an optional node inside a folder link. A link whose key is absent parses, with
//! `key: None`; the caller asks for the key ([`Link::with_key`]).

use std::fmt;

use crate::keys::NodeKey;
use crate::{b64, Error, NodeHandle};

/// Hosts that serve MEGA links.
pub const HOSTS: &[&str] = &["mega.nz", "mega.co.nz", "mega.app", "mega.io"];

/// The canonical host of formatted links.
pub const CANONICAL_HOST: &str = "https://mega.nz";

/// File or folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// A file link: the key is the 32-byte node key.
    File,
    /// A folder link: the key is the 16-byte share key.
    Folder,
}

impl LinkKind {
    /// The key length in bytes.
    pub fn key_len(self) -> usize {
        match self {
            LinkKind::File => 32,
            LinkKind::Folder => 16,
        }
    }
}

/// A node selected inside a folder link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubNode {
    /// `/file/H2`.
    File(NodeHandle),
    /// `/folder/H2`.
    Folder(NodeHandle),
    /// Legacy `!H2`: a node of unknown type.
    Node(NodeHandle),
}

impl SubNode {
    /// The node handle.
    pub fn handle(&self) -> NodeHandle {
        match *self {
            SubNode::File(h) | SubNode::Folder(h) | SubNode::Node(h) => h,
        }
    }
}

/// A public file or folder link.
#[derive(Clone, PartialEq, Eq)]
pub struct Link {
    /// File or folder.
    pub kind: LinkKind,
    /// The public handle.
    pub handle: NodeHandle,
    /// The key, or `None` when the link came without it.
    pub key: Option<NodeKey>,
    /// A node inside a folder link.
    pub sub: Option<SubNode>,
}

impl fmt::Debug for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("kind", &self.kind)
            .field("handle", &self.handle)
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .field("sub", &self.sub)
            .finish()
    }
}

/// Any parsed MEGA link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedLink {
    /// A file or folder link.
    Plain(Link),
    /// A password-protected `#P!` link: its payload (b64), see [`crate::protected`].
    Protected(String),
}

impl ParsedLink {
    /// The canonical URL.
    pub fn to_url(&self) -> String {
        match self {
            ParsedLink::Plain(l) => l.to_url(),
            ParsedLink::Protected(p) => format!("{CANONICAL_HOST}/#P!{p}"),
        }
    }
}

impl Link {
    /// The key, or [`Error::KeyMissing`].
    pub fn require_key(&self) -> Result<&NodeKey, Error> {
        self.key.as_ref().ok_or(Error::KeyMissing)
    }

    /// The key as b64 (43 characters for files, 22 for folders). This is a secret.
    pub fn key_b64(&self) -> Option<String> {
        self.key.as_ref().map(|k| b64::encode(&k.to_bytes()))
    }

    /// The same link with a key given apart (as a user pastes it: a leading `#` or `!` and
    /// surrounding space are ignored). The key must have the right length for the link.
    pub fn with_key(&self, key: &str) -> Result<Link, Error> {
        let key = key.trim().trim_start_matches(['#', '!']);
        let key = key.trim_end();
        let bytes = zeroize::Zeroizing::new(b64::decode_all(key, "link key")?);
        if bytes.len() != self.kind.key_len() || key.len() != b64::encoded_len(self.kind.key_len()) {
            return Err(Error::Length { what: "link key", expected: self.kind.key_len(), got: bytes.len() });
        }
        Ok(Link { key: Some(NodeKey::from_bytes(&bytes)?), ..self.clone() })
    }

    /// The canonical URL (`https://mega.nz/file/H#K`, `.../folder/H#K/file/H2`). Without a key,
    /// the link alone (the "link and key apart" form).
    pub fn to_url(&self) -> String {
        let key = self.key_b64();
        if let Some(SubNode::Node(h2)) = self.sub {
            // A node of unknown type has only the legacy form.
            return format!("{CANONICAL_HOST}/#F!{}!{}!{h2}", self.handle, key.unwrap_or_default());
        }
        let kind = match self.kind {
            LinkKind::File => "file",
            LinkKind::Folder => "folder",
        };
        let mut s = format!("{CANONICAL_HOST}/{kind}/{}", self.handle);
        if key.is_some() || self.sub.is_some() {
            s.push('#');
        }
        if let Some(k) = key {
            s.push_str(&k);
        }
        match self.sub {
            Some(SubNode::File(h)) => s.push_str(&format!("/file/{h}")),
            Some(SubNode::Folder(h)) => s.push_str(&format!("/folder/{h}")),
            Some(SubNode::Node(_)) | None => {}
        }
        s
    }

    /// The URL without its key, to share the link and the key apart.
    pub fn url_without_key(&self) -> String {
        Link { key: None, sub: None, ..self.clone() }.to_url()
    }
}

impl fmt::Display for Link {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url_without_key())
    }
}

/// Parses any form of MEGA link (spec §7.1). Surrounding whitespace is ignored.
pub fn parse(input: &str) -> Result<ParsedLink, Error> {
    let rest = strip_host(input.trim())?;
    let rest = rest.trim_start_matches('/');
    if let Some(link) = parse_marked(rest)? {
        return Ok(link);
    }
    // Like the SDK, find a legacy marker anywhere: junk such as `?fbclid=...` may precede it.
    for marker in ["#P!", "#F!", "#!"] {
        if let Some(i) = rest.find(marker) {
            if let Some(link) = parse_marked(&rest[i..])? {
                return Ok(link);
            }
        }
    }
    if rest.len() >= 9 && rest.as_bytes()[8] == b'!' {
        // The SDK's bare `H!K`.
        return parse_body(LinkKind::File, rest).map(ParsedLink::Plain);
    }
    Err(Error::NotALink)
}

/// Parses a link body that starts with its marker; `None` if it starts with no marker.
fn parse_marked(rest: &str) -> Result<Option<ParsedLink>, Error> {
    if let Some(r) = rest.strip_prefix("#P!") {
        let n = b64::b64_prefix_len(r);
        if n == 0 {
            return Err(Error::malformed("protected link", "empty payload"));
        }
        return Ok(Some(ParsedLink::Protected(r[..n].to_string())));
    }
    let (kind, after) = if let Some(r) = strip_any(rest, &["folder/", "#F!", "F!"]) {
        (LinkKind::Folder, r)
    } else if let Some(r) = strip_any(rest, &["file/", "#!", "embed/", "embed#!", "embed!"]) {
        (LinkKind::File, r)
    } else if starts_with_ignore_case(rest, "collection/") {
        return Err(Error::Unsupported("collection (album) links"));
    } else {
        return Ok(None);
    };
    parse_body(kind, after).map(|l| Some(ParsedLink::Plain(l)))
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// Parses a plain file or folder link; a `#P!` link is an error here.
pub fn parse_plain(input: &str) -> Result<Link, Error> {
    match parse(input)? {
        ParsedLink::Plain(l) => Ok(l),
        ParsedLink::Protected(_) => Err(Error::Unsupported("password-protected link: decrypt it first")),
    }
}

fn strip_any<'a>(s: &'a str, prefixes: &[&str]) -> Option<&'a str> {
    prefixes.iter().find(|p| starts_with_ignore_case(s, p)).map(|p| &s[p.len()..])
}

/// Removes `scheme://host` (which must be a MEGA host) or the `mega:` scheme; leaves bare forms.
fn strip_host(s: &str) -> Result<&str, Error> {
    let lower = s.get(..s.len().min(12)).unwrap_or("").to_ascii_lowercase();
    if lower.starts_with("mega:") {
        return Ok(s[5..].trim_start_matches('/'));
    }
    let after_scheme = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else if s.starts_with('#') || s.starts_with('!') {
        return Ok(s);
    } else {
        s
    };
    let end = after_scheme.find(['/', '#', '?']).unwrap_or(after_scheme.len());
    let host = after_scheme[..end].to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let host = host.split(':').next().unwrap_or("");
    if HOSTS.contains(&host) {
        Ok(&after_scheme[end..])
    } else if after_scheme.len() == s.len() && !host.contains('.') {
        // No scheme and no host: a bare `H!K`.
        Ok(s)
    } else {
        Err(Error::NotALink)
    }
}

fn read_handle<'a>(s: &'a str, what: &'static str) -> Result<(NodeHandle, &'a str), Error> {
    let Some(h) = s.get(..8) else {
        return Err(Error::malformed(what, "truncated handle"));
    };
    if !h.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
        return Err(Error::malformed(what, "bad handle"));
    }
    Ok((NodeHandle::from_b64(h)?, &s[8..]))
}

fn parse_body(kind: LinkKind, s: &str) -> Result<Link, Error> {
    let (handle, mut rest) = read_handle(s, "link")?;
    // Skip tracking junk up to the key separator.
    let Some(sep) = rest.find(['!', '#']) else {
        return Ok(Link { kind, handle, key: None, sub: None });
    };
    rest = &rest[sep + 1..];
    // The key: `/` is not read as b64 here, since a folder key is followed by `/file/H2`.
    let key_chars = b64::encoded_len(kind.key_len());
    let run = rest.bytes().take_while(|&c| c != b'/' && b64::is_b64_char(c)).count();
    let key = if run == 0 {
        None
    } else if run < key_chars {
        return Err(Error::malformed("link key", "truncated key"));
    } else {
        let k = &rest[..key_chars];
        rest = &rest[key_chars..];
        Some(NodeKey::from_bytes(&zeroize::Zeroizing::new(b64::decode(k)))?)
    };
    let sub = if kind == LinkKind::Folder { parse_sub(rest)? } else { None };
    Ok(Link { kind, handle, key, sub })
}

fn parse_sub(rest: &str) -> Result<Option<SubNode>, Error> {
    if let Some(r) = strip_any(rest, &["/file/"]) {
        Ok(Some(SubNode::File(read_handle(r, "sub-node")?.0)))
    } else if let Some(r) = strip_any(rest, &["/folder/"]) {
        Ok(Some(SubNode::Folder(read_handle(r, "sub-node")?.0)))
    } else if let Some(r) = rest.strip_prefix('!').or_else(|| rest.strip_prefix('?')) {
        Ok(read_handle(r, "sub-node").ok().map(|(h, _)| SubNode::Node(h)))
    } else {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FK: &str = "tQxSWRY8fj0cwE96Idx25mL8Gr8Fe65LhzJkgo3HM40";

    #[test]
    fn forms() {
        for url in [
            format!("https://mega.nz/file/ruUBU5aJ#{FK}"),
            format!("https://mega.nz/#!ruUBU5aJ!{FK}"),
            format!("http://www.mega.nz/embed/ruUBU5aJ#{FK}"),
            format!("mega.nz/file/ruUBU5aJ#{FK}"),
            format!("#!ruUBU5aJ!{FK}"),
            format!("ruUBU5aJ!{FK}"),
            format!("mega://#!ruUBU5aJ!{FK}"),
            format!("  https://MEGA.NZ/file/ruUBU5aJ?x=1&y=2#{FK}.  "),
            format!("HTTPS://MEGA.NZ/FILE/ruUBU5aJ#{FK}"),
            format!("https://mega.nz/?fbclid=IwAR0abc#!ruUBU5aJ!{FK}"),
        ] {
            let l = parse_plain(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(l.to_url(), format!("https://mega.nz/file/ruUBU5aJ#{FK}"), "{url}");
        }
    }

    #[test]
    fn bad_links() {
        assert_eq!(parse("https://example.com/file/ruUBU5aJ#x"), Err(Error::NotALink));
        assert!(parse("https://mega.nz/file/ruUB").is_err());
        assert!(parse(&format!("https://mega.nz/file/ruUBU5aJ#{}", &FK[..30])).is_err());
        assert!(parse("https://mega.nz/").is_err());
        assert!(parse("").is_err());
        assert!(parse("https://mega.nz/collection/abcdefgh#x").is_err());
        let l = parse_plain("https://mega.nz/?fbclid=x#F!Y5WccVVf!7IsrN3zK-0a6KT-hAsPC8g!S-kVYexk").unwrap();
        assert_eq!(l.sub, Some(SubNode::Node("S-kVYexk".parse().unwrap())));
        let l = parse_plain("https://mega.nz/folder/Y5WccVVf").unwrap();
        assert_eq!(l.require_key().unwrap_err().kind(), crate::ErrorKind::KeyMissing);
        let l = l.with_key("#7IsrN3zK-0a6KT-hAsPC8g").unwrap();
        assert_eq!(l.to_url(), "https://mega.nz/folder/Y5WccVVf#7IsrN3zK-0a6KT-hAsPC8g");
        assert!(l.with_key(FK).is_err());
    }

    #[test]
    fn keyless_legacy_subnode_round_trips() {
        // Found by fuzzing: this used to be written back as `/folder/H2`.
        let l = parse_plain("https://mega.nz/#F!Y5WccVVf!!S-kVYexk").unwrap();
        assert_eq!(l.sub, Some(SubNode::Node("S-kVYexk".parse().unwrap())));
        assert_eq!(parse_plain(&l.to_url()).unwrap(), l);
    }

    #[test]
    fn key_never_in_debug() {
        let l = parse_plain(&format!("https://mega.nz/file/ruUBU5aJ#{FK}")).unwrap();
        assert!(!format!("{l:?}").contains(FK));
        assert!(!l.to_string().contains(FK));
    }
}
