//! Integrity: where a links file carries metadata (csv and json exports: name, size, MEGA
//! fingerprint), a link is compared with it before download, and one that now points at
//! something else is [`LinkStatus::Changed`] with what differs; after download the file's
//! fingerprint is computed and compared with the one expected (the meta-MAC is verified by the
//! transfer engine, as always). A folder-as-one-link row carries no per-file metadata: its
//! link is not compared.

use std::os::unix::fs::FileExt;
use std::path::Path;

use mega_api::LinkKind;
use mega_proto::fingerprint::{self, Fingerprint};
use mega_proto::SubNode;
use serde::Serialize;

use super::check::{Checked, LinkStatus};
use super::formats::FileMeta;

/// What of a file is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Its name (the last part of the links file's path).
    Name,
    /// Its size in bytes.
    Size,
    /// Its MEGA fingerprint (`c`).
    Fingerprint,
}

impl Field {
    /// Said for people.
    pub fn label(self) -> &'static str {
        match self {
            Field::Name => "name",
            Field::Size => "size",
            Field::Fingerprint => "fingerprint",
        }
    }
}

/// One difference between what the links file says and what the link opens to now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// What differs.
    pub what: Field,
    /// What the links file says.
    pub expected: String,
    /// What the link has now (`none` for a fingerprint it no longer has).
    pub now: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: expected {}, now {}", self.what.label(), self.expected, self.now)
    }
}

/// The changes, said in one line.
pub fn describe(changes: &[Change]) -> String {
    changes.iter().map(Change::to_string).collect::<Vec<_>>().join("; ")
}

/// Whether a check names one file (a file link, or a file in a folder link): the only links a
/// links file's per-file metadata can be compared with.
fn names_a_file(c: &Checked) -> bool {
    c.link.as_ref().is_some_and(|l| l.kind == LinkKind::File || matches!(l.sub, Some(SubNode::File(_))))
}

/// Whether two fingerprints are the same: as written, or once parsed.
fn same_fingerprint(a: &str, b: &str) -> bool {
    a == b || matches!((Fingerprint::parse(a), Fingerprint::parse(b)), (Ok(x), Ok(y)) if x == y)
}

/// What differs between the links file's `meta` and an alive check of one file: its name, size
/// and fingerprint (where the file gives one). Empty when nothing does, or when the check
/// cannot be compared (not alive, or not one file).
pub fn differences(meta: &FileMeta, c: &Checked) -> Vec<Change> {
    if c.status != LinkStatus::Alive || !names_a_file(c) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let expected_name = meta.path.rsplit('/').next().unwrap_or(&meta.path);
    let name = c.name.as_deref().unwrap_or("");
    if !expected_name.is_empty() && expected_name != name {
        out.push(Change { what: Field::Name, expected: expected_name.to_string(), now: name.to_string() });
    }
    let size = c.size.unwrap_or(0);
    if meta.size != size {
        out.push(Change { what: Field::Size, expected: meta.size.to_string(), now: size.to_string() });
    }
    if let Some(expected) = &meta.fingerprint {
        match &c.fingerprint {
            Some(now) if same_fingerprint(expected, now) => {}
            now => out.push(Change {
                what: Field::Fingerprint,
                expected: expected.clone(),
                now: now.clone().unwrap_or_else(|| "none".into()),
            }),
        }
    }
    out
}

/// Compares an alive check with its links file's metadata: a link that now points at
/// something else becomes [`LinkStatus::Changed`], with its changes and a message saying them.
/// The metadata is kept on the check (for the fingerprint its download must have).
pub fn compare(c: &mut Checked, meta: Option<&FileMeta>) {
    let Some(meta) = meta else { return };
    c.expected = Some(meta.clone());
    let changes = differences(meta, c);
    if !changes.is_empty() {
        c.status = LinkStatus::Changed;
        c.message = Some(format!("the link points at something else now: {}", describe(&changes)));
        c.changes = changes;
    }
}

/// Lets changed links be downloaded as they are now (`--allow-changed`): each becomes alive
/// again, its changes kept. Returns how many.
pub fn allow_changed(checked: &mut [Checked]) -> usize {
    let mut n = 0;
    for c in checked.iter_mut().filter(|c| c.status == LinkStatus::Changed) {
        c.status = LinkStatus::Alive;
        c.message = None;
        n += 1;
    }
    n
}

/// The fingerprint a check's download must have: the links file's; for a changed link whose
/// fingerprint changed and that is downloaded anyway, the one it has now. None where the links
/// file gives none.
pub fn expected_fingerprint(c: &Checked) -> Option<&str> {
    let listed = c.expected.as_ref()?.fingerprint.as_deref()?;
    if c.changes.iter().any(|d| d.what == Field::Fingerprint) {
        c.fingerprint.as_deref()
    } else {
        Some(listed)
    }
}

/// Verifies a downloaded file against the fingerprint it must have: its content CRCs (sampled
/// as MEGA does) and its modification time (the one the download gave it). `Err` says what
/// does not match, for people.
pub fn verify_file(path: &Path, expected: &str) -> Result<(), String> {
    let expected = Fingerprint::parse(expected)
        .map_err(|_| "the links file's fingerprint is not a MEGA fingerprint".to_string())?;
    let unreadable = |e: std::io::Error| format!("its fingerprint could not be computed: {e}");
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let crc = fingerprint::crc_with(meta.len(), |off, buf| file.read_exact_at(buf, off)).map_err(unreadable)?;
    if crc != expected.crc {
        return Err("its fingerprint does not match the expected one: the content differs".into());
    }
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs());
    if mtime != u64::try_from(expected.mtime).ok() {
        return Err("its fingerprint does not match the expected one: the modification time differs".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_downloaded_file_is_verified_by_content_and_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"some content").unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
        std::fs::File::options().write(true).open(&path).unwrap().set_modified(t).unwrap();
        let good = Fingerprint::of(b"some content", 1_700_000_000).to_attr();
        assert_eq!(verify_file(&path, &good), Ok(()));
        let other = Fingerprint::of(b"other content", 1_700_000_000).to_attr();
        assert!(verify_file(&path, &other).unwrap_err().contains("content differs"));
        let later = Fingerprint::of(b"some content", 1_700_000_001).to_attr();
        assert!(verify_file(&path, &later).unwrap_err().contains("modification time"));
        assert!(verify_file(&path, "not one").is_err());
    }

    fn alive(name: &str, size: u64, fingerprint: Option<String>, kind: LinkKind) -> Checked {
        let link =
            mega_api::Link { kind, handle: mega_api::NodeHandle::from_b64("AAAAAAAA").unwrap(), key: None, sub: None };
        Checked {
            url: String::new(),
            kind: Some(kind),
            status: LinkStatus::Alive,
            name: Some(name.into()),
            size: Some(size),
            message: None,
            link: Some(link),
            warning: None,
            fingerprint,
            expected: None,
            changes: Vec::new(),
        }
    }

    #[test]
    fn name_size_and_fingerprint_are_compared_for_files_only() {
        let fp = Fingerprint::of(b"alpha", 1).to_attr();
        let meta = FileMeta { path: "/Out/a.bin".into(), size: 5, fingerprint: Some(fp.clone()), mtime: Some(1) };
        let mut same = alive("a.bin", 5, Some(fp.clone()), LinkKind::File);
        compare(&mut same, Some(&meta));
        assert_eq!((same.status, same.changes.len(), same.expected.as_ref()), (LinkStatus::Alive, 0, Some(&meta)));
        assert_eq!(expected_fingerprint(&same), Some(fp.as_str()));

        let mut other = alive("b.bin", 6, None, LinkKind::File);
        compare(&mut other, Some(&meta));
        let what: Vec<Field> = other.changes.iter().map(|c| c.what).collect();
        assert_eq!((other.status, what), (LinkStatus::Changed, vec![Field::Name, Field::Size, Field::Fingerprint]));
        assert_eq!(other.changes[2].now, "none");
        let msg = other.message.clone().unwrap();
        assert!(msg.contains("name: expected a.bin, now b.bin; size: expected 5, now 6"), "{msg}");
        assert_eq!(allow_changed(std::slice::from_mut(&mut other)), 1);
        assert_eq!((other.status, expected_fingerprint(&other)), (LinkStatus::Alive, None), "as it is now");

        let mut folder = alive("Out", 99, None, LinkKind::Folder);
        compare(&mut folder, Some(&meta));
        assert_eq!((folder.status, folder.changes.len()), (LinkStatus::Alive, 0), "a folder link: not compared");
    }

    #[test]
    fn fingerprints_compare_as_written_or_parsed() {
        let f = Fingerprint::of(b"x", 5).to_attr();
        assert!(same_fingerprint(&f, &f));
        assert!(!same_fingerprint(&f, &Fingerprint::of(b"y", 5).to_attr()));
        let c = Change { what: Field::Size, expected: "5".into(), now: "6".into() };
        assert_eq!(describe(&[c]), "size: expected 5, now 6");
    }
}
