//! Names that hide what a file is, flagged before a download starts: a double extension whose
//! last part runs (`film.mp4.exe`, `invoice.pdf.scr`, `photo.jpg.js`), an extension pushed out
//! of sight by spaces (`film.mp4        .exe`), bidirectional controls that reorder the name
//! as shown (`invoice\u{202e}fdp.exe` shows as `invoiceexe.pdf`), and programs or scripts in a
//! folder that is mostly media. Nothing is refused: the warning is for the user to read.

use std::collections::BTreeMap;

use mega_transfer::names::is_bidi_control;

/// Extensions of files that run when opened (Windows, macOS, Linux, Android, Java, scripts).
const RUNS: &[&str] = &[
    "exe", "scr", "com", "pif", "bat", "cmd", "msi", "msp", "cpl", "hta", "jar", "js", "jse", "vbs", "vbe", "wsf",
    "wsh", "ps1", "psm1", "lnk", "reg", "sh", "command", "app", "apk", "scpt", "gadget", "appimage", "run",
];

/// Extensions of media (video, audio, pictures).
const MEDIA: &[&str] = &[
    "mp4", "mkv", "avi", "mov", "wmv", "m4v", "webm", "flv", "mpg", "mpeg", "ts", "3gp", "mp3", "flac", "wav", "m4a",
    "aac", "ogg", "opus", "wma", "jpg", "jpeg", "png", "gif", "bmp", "webp", "heic", "tif", "tiff", "raw", "cr2",
    "nef", "srt", "ass", "sub",
];

/// Extensions a user trusts to be read, not run: media and documents, archives and images of
/// discs.
const LOOKS_SAFE: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "txt", "rtf", "epub", "mobi", "cbz", "cbr",
    "zip", "rar", "7z", "tar", "gz", "iso", "csv", "html", "htm",
];

/// Spaces before an extension from which it counts as pushed out of sight.
const PADDING: usize = 3;

/// A name's last extension, lower-cased (none for `.hidden` or a name without a dot).
fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.trim().to_ascii_lowercase())
}

/// Whether a file of this name runs when opened.
pub fn runs(name: &str) -> bool {
    extension(name).is_some_and(|e| RUNS.contains(&e.as_str()))
}

/// Whether a file of this name is media.
fn is_media(name: &str) -> bool {
    extension(name).is_some_and(|e| MEDIA.contains(&e.as_str()))
}

/// What hides what a file of this name is, said for people; `None` when nothing does.
pub fn name_warning(name: &str) -> Option<String> {
    if name.chars().any(is_bidi_control) {
        return Some(
            "its name holds right-to-left or other bidirectional controls, which make it show as \
                     something else"
                .into(),
        );
    }
    let (stem, ext) = name.rsplit_once('.')?;
    let padding = stem.len() - stem.trim_end_matches(' ').len();
    if padding >= PADDING && !stem.trim().is_empty() {
        return Some(format!("{padding} spaces push its real extension (.{}) out of sight", ext.trim()));
    }
    if !runs(name) {
        return None;
    }
    let shown = extension(stem)?;
    (MEDIA.contains(&shown.as_str()) || LOOKS_SAFE.contains(&shown.as_str())).then(|| {
        format!("double extension: it looks like a .{shown} but is a .{} that runs when opened", ext.to_lowercase())
    })
}

/// The warning for a folder's files, each given with the folder it is in (any key that tells
/// folders apart): the names that hide what they are ([`name_warning`]), and the programs or
/// scripts in a folder whose other files are mostly media. `None` when nothing is amiss. A few
/// names are given, then how many more.
pub fn folder_warning<'a, P: Ord>(files: impl IntoIterator<Item = (P, &'a str)>) -> Option<String> {
    let mut by_folder: BTreeMap<P, Vec<&str>> = BTreeMap::new();
    for (p, name) in files {
        by_folder.entry(p).or_default().push(name);
    }
    let mut flagged: Vec<String> = Vec::new();
    for names in by_folder.values() {
        let media = names.iter().filter(|n| is_media(n)).count();
        let mostly_media = media * 2 > names.len();
        for name in names {
            if let Some(why) = name_warning(name) {
                flagged.push(format!("{name} ({why})"));
            } else if mostly_media && runs(name) {
                flagged.push(format!("{name} (a program or script among media)"));
            }
        }
    }
    const SHOWN: usize = 3;
    let more = flagged.len().saturating_sub(SHOWN);
    let mut said = flagged.into_iter().take(SHOWN).collect::<Vec<_>>().join("; ");
    if said.is_empty() {
        return None;
    }
    if more > 0 {
        said.push_str(&format!("; and {more} more"));
    }
    Some(said)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hide_what_a_file_is() {
        for risky in ["film.mp4.exe", "Invoice.PDF.scr", "photo.jpg.js", "song.mp3.bat", "a.docx.vbs"] {
            assert!(name_warning(risky).is_some_and(|w| w.contains("double extension")), "{risky}");
        }
        assert!(name_warning("film.mp4          .exe").is_some_and(|w| w.contains("out of sight")));
        assert!(name_warning("invoice\u{202e}fdp.exe").is_some_and(|w| w.contains("bidirectional")));
        for fine in ["film.mp4", "setup.exe", "archive.tar.gz", "notes.v2.txt", "run.sh", ".bashrc", "a b.txt", "x"] {
            assert_eq!(name_warning(fine), None, "{fine}");
        }
    }

    #[test]
    fn programs_among_media_are_flagged() {
        let media = [(1, "a.mp4"), (1, "b.mkv"), (1, "c.jpg"), (1, "codec.exe"), (2, "tool.exe"), (2, "readme.txt")];
        let w = folder_warning(media).unwrap();
        assert!(w.contains("codec.exe (a program or script among media)") && !w.contains("tool.exe"), "{w}");
        assert_eq!(folder_warning([(1, "a.mp4"), (1, "b.mp4")]), None);
        let many = (0..5).map(|i| (0, ["x.mp4.exe", "y.pdf.scr"][i % 2]));
        assert!(folder_warning(many).unwrap().ends_with("; and 2 more"));
    }
}
