//! Key files: the keys of a links file kept apart from it, so that the list can travel one way
//! and the keys another.
//!
//! The format is text, one key a line: the link's public handle, a space, the key in MEGA's
//! base64 (43 characters for a file link, 22 for a folder link), as in
//!
//! ```text
//! # tuatara key file: HANDLE KEY, one a line
//! AbCdEfGh 0123456789abcdefghijklmnopqrstuvwxyzABCDEFG
//! ```
//!
//! Blank lines and lines starting with `#` are ignored; a key may keep the `#` or `!` it had
//! in a link. The file is written readable by its owner only, atomically.

use std::collections::HashMap;
use std::path::Path;

use mega_api::{Link, NodeHandle};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The first line of a key file written here.
const HEADER: &str = "# tuatara key file: HANDLE KEY, one a line";

/// Link keys by public handle. Keys are secrets: never shown by `Debug`, wiped when dropped.
#[derive(Default, Clone)]
pub struct KeyFile {
    keys: HashMap<NodeHandle, Zeroizing<String>>,
    order: Vec<NodeHandle>,
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFile").field("keys", &self.keys.len()).finish()
    }
}

impl KeyFile {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps `link`'s key under its handle (a link without a key adds nothing). A handle seen
    /// again keeps its first key.
    pub fn add(&mut self, link: &Link) {
        if let Some(key) = link.key_b64() {
            self.insert(link.handle, key);
        }
    }

    fn insert(&mut self, handle: NodeHandle, key: String) {
        if let std::collections::hash_map::Entry::Vacant(v) = self.keys.entry(handle) {
            v.insert(Zeroizing::new(key));
            self.order.push(handle);
        }
    }

    /// The key given for a public handle.
    pub fn get(&self, handle: NodeHandle) -> Option<&str> {
        self.keys.get(&handle).map(|k| k.as_str())
    }

    /// How many keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// No keys at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The file's text, keys in the order they were added.
    pub fn render(&self) -> Zeroizing<String> {
        let mut s = Zeroizing::new(format!("{HEADER}\n"));
        for h in &self.order {
            s.push_str(&format!("{h} {}\n", self.keys[h].as_str()));
        }
        s
    }

    /// Reads a key file's text. A line that is not `HANDLE KEY` is [`Error::Invalid`], saying
    /// which line (never what is on it).
    pub fn parse(text: &str) -> Result<Self> {
        let mut keys = KeyFile::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad =
                |why: &str| Error::Invalid(format!("line {} of the key file: {why} (HANDLE KEY expected)", i + 1));
            let mut fields = line.split_whitespace();
            let (Some(handle), Some(key), None) = (fields.next(), fields.next(), fields.next()) else {
                return Err(bad("not two fields"));
            };
            let handle = NodeHandle::from_b64(handle).map_err(|_| bad("not a public handle"))?;
            keys.insert(handle, key.trim_start_matches(['#', '!']).to_string());
        }
        Ok(keys)
    }

    /// Reads a key file ([`Error::NotFound`] when there is none).
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(format!("{}: no such key file", path.display())),
            _ => Error::io(path, e),
        })?);
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Invalid(format!("{}: a key file is text (UTF-8)", path.display())))?;
        Self::parse(text).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
    }

    /// Writes the key file, readable by its owner only, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::files::write_atomic(path, self.render().as_bytes()).map_err(|e| Error::io(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_reads_back_what_it_wrote() {
        let file =
            Link::with_key(&mega_proto::link::parse_plain("https://mega.nz/file/AAAAAAAA").unwrap(), &"k".repeat(43))
                .unwrap();
        let folder =
            mega_proto::link::parse_plain(&format!("https://mega.nz/folder/BBBBBBBB#{}", "f".repeat(22))).unwrap();
        let mut keys = KeyFile::new();
        keys.add(&file);
        keys.add(&folder);
        keys.add(&Link { key: None, ..file.clone() });
        let text = keys.render();
        assert_eq!(
            text.lines().skip(1).collect::<Vec<_>>(),
            [format!("AAAAAAAA {}", "k".repeat(43)), format!("BBBBBBBB {}", folder.key_b64().unwrap())]
        );
        let back = KeyFile::parse(&text).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back.get(file.handle), file.key_b64().as_deref());
        assert_eq!(back.get(folder.handle), folder.key_b64().as_deref());
        assert!(!format!("{back:?}").contains("kkkk"));
    }

    #[test]
    fn a_bad_line_says_which_never_what() {
        let e = KeyFile::parse("\n# comment\nAAAAAAAA secret-key extra\n").unwrap_err().to_string();
        assert!(e.contains("line 3") && !e.contains("secret"), "{e}");
        assert!(KeyFile::parse("not-a-handle!! key").is_err());
        let keys = KeyFile::parse("  AAAAAAAA\t#abc  \n\n").unwrap();
        assert_eq!(keys.get(NodeHandle::from_b64("AAAAAAAA").unwrap()), Some("abc"));
    }
}
