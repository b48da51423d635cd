//! Names from a server or a link made safe as local file names: nothing is ever written outside
//! the folder the user chose.

use std::path::{Path, PathBuf};

/// Names Windows reserves for devices (with or without an extension); refused everywhere so
/// that a download folder can be copied to any system.
const RESERVED: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2",
    "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// The longest name most file systems take, in bytes.
pub(crate) const MAX_NAME: usize = 255;

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Unicode's bidirectional controls: the embeddings, overrides and isolates that reorder the
/// text after them (the "Trojan Source" characters: `invoice\u{202e}fdp.exe` shows as
/// `invoiceexe.pdf`) and the marks. They have no place in a file name or on a terminal.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One path component made safe: separators (`/`, `\`), NUL, control characters and
/// bidirectional controls ([`is_bidi_control`]) become `_`; `.`, `..` and empty names become
/// `_`; trailing dots and spaces are dropped; reserved device names get a leading `_`; the result fits in 255 bytes (the extension is kept).
pub fn safe_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c == '/' || c == '\\' || c.is_control() || is_bidi_control(c) { '_' } else { c })
        .collect();
    while s.ends_with('.') || s.ends_with(' ') {
        s.pop();
    }
    if s.is_empty() || s == "." || s == ".." {
        return "_".into();
    }
    let stem = s.split('.').next().unwrap_or("").trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        s.insert(0, '_');
    }
    if s.len() > MAX_NAME {
        s = fit(&s, "", MAX_NAME);
    }
    s
}

/// `name` with `tag` before its extension (`a.txt`, ` (1)`: `a (1).txt`), the stem cut so that
/// the whole fits in `max` bytes (an extension of 32 bytes or more counts as stem).
fn fit(name: &str, tag: &str, max: usize) -> String {
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 && name.len() - i < 32 => name.split_at(i),
        _ => (name, ""),
    };
    format!("{}{tag}{ext}", cut(stem, max.saturating_sub(tag.len() + ext.len())))
}

/// `dir` joined with each component made safe: always inside `dir`.
pub fn join_inside(dir: &Path, components: &[&str]) -> PathBuf {
    let mut p = dir.to_path_buf();
    for c in components {
        p.push(safe_name(c));
    }
    p
}

/// `path`, or the first of `name (1).ext`, `name (2).ext`, ... that does not exist.
pub fn unique(path: &Path) -> PathBuf {
    unique_among(path, &std::collections::HashSet::new())
}

/// Like [`unique`], also avoiding the paths in `taken` (claimed by other transfers). Anything
/// at a path takes it, a dangling symbolic link too; the new name fits in 255 bytes.
pub fn unique_among(path: &Path, taken: &std::collections::HashSet<PathBuf>) -> PathBuf {
    let free = |p: &PathBuf| p.symlink_metadata().is_err() && !taken.contains(p);
    numbered(path).find(free).unwrap_or_else(|| path.to_path_buf())
}

/// `path`, then `name (1).ext`, `name (2).ext`, ... (each within 255 bytes).
pub fn numbered(path: &Path) -> impl Iterator<Item = PathBuf> + '_ {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let others = (1u32..).map(move |i| path.with_file_name(fit(&name, &format!(" ({i})"), MAX_NAME)));
    std::iter::once(path.to_path_buf()).chain(others)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_stay_inside() {
        for (bad, good) in [
            ("../../etc/passwd", ".._.._etc_passwd"),
            ("..", "_"),
            (".", "_"),
            ("", "_"),
            ("a/b\\c", "a_b_c"),
            ("nul\0byte", "nul_byte"),
            ("tab\tand\nnewline", "tab_and_newline"),
            ("invoice\u{202e}fdp.exe", "invoice_fdp.exe"),
            ("\u{2067}isolate\u{2069} \u{200f}mark", "_isolate_ _mark"),
            ("CON", "_CON"),
            ("com1.txt", "_com1.txt"),
            ("trailing. . ", "trailing"),
            ("ordinary name.jpg", "ordinary name.jpg"),
            ("Ünïcödé ✓.txt", "Ünïcödé ✓.txt"),
        ] {
            assert_eq!(safe_name(bad), good, "{bad:?}");
        }
        let long = format!("{}.jpeg", "é".repeat(200));
        let safe = safe_name(&long);
        assert!(safe.len() <= 255 && safe.ends_with(".jpeg"), "{safe}");
        let dir = Path::new("/downloads");
        for bad in ["../x", "/abs", "..", "a/../../b"] {
            let p = join_inside(dir, &[bad, "f"]);
            assert!(p.starts_with(dir) && p.components().count() == 4, "{p:?}");
            assert!(!p.components().any(|c| c == std::path::Component::ParentDir), "{p:?}");
        }
    }

    #[test]
    fn unique_adds_a_number() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.txt");
        assert_eq!(unique(&p), p);
        std::fs::write(&p, b"x").unwrap();
        assert_eq!(unique(&p), d.path().join("a (1).txt"));
        std::fs::write(d.path().join("a (1).txt"), b"x").unwrap();
        assert_eq!(unique(&p), d.path().join("a (2).txt"));
        assert_eq!(unique(&d.path().join("noext")), d.path().join("noext"));
        // A dangling symbolic link takes its name too.
        std::os::unix::fs::symlink(d.path().join("nowhere"), d.path().join("link")).unwrap();
        assert_eq!(unique(&d.path().join("link")), d.path().join("link (1)"));
        // A name of 255 bytes still fits with its number.
        let long = d.path().join(format!("{}.txt", "é".repeat(125)));
        std::fs::write(&long, b"x").unwrap();
        let other = unique(&long);
        let name = other.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255 && name.ends_with(" (1).txt"), "{name}");
        std::fs::write(&other, b"y").unwrap();
    }
}
