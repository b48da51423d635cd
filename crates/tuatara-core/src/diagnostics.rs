//! A diagnostics report to attach to a bug report, for the CLI (`tuatara-cli diagnostics`) and
//! the app ("Export diagnostics") alike: versions, where things live, whether a keyring answers,
//! the accounts (e-mails, never a secret), the settings, the unfinished transfers, the watches,
//! the links ledger's counts, and the recent log. Every line goes through [`redact`] on its way
//! out, so a session id, a key, a link's key or a `#P!` payload that slipped into a log line or
//! a file name does not leave the machine in it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use crate::dirs::Dirs;
use crate::error::{Error, Result};
use crate::files::read_json;

/// Lines of the log kept at the end of the report.
const LOG_LINES: usize = 300;

/// Who writes the report: the face's name and version, and its log file if it keeps one.
#[derive(Debug, Clone, Copy)]
pub struct Face<'a> {
    /// `tuatara-cli` or `tuatara`.
    pub name: &'a str,
    /// Its version.
    pub version: &'a str,
    /// Its log file (the app's), whose last lines go in.
    pub log: Option<&'a Path>,
}

static SECRETS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let re = |s: &str| Regex::new(s).expect("a valid pattern");
    vec![
        // A password-protected link's payload.
        (re(r"#P![A-Za-z0-9_-]+"), "#P!<redacted>"),
        // The key of a link: `/file/H#KEY`, `/folder/H#KEY`, `#!H!KEY`, `#F!H!KEY`.
        (re(r"(/(?:file|folder)/[A-Za-z0-9_-]{8})#[A-Za-z0-9_-]+"), "$1#<key>"),
        (re(r"(#F?![A-Za-z0-9_-]{8})![A-Za-z0-9_-]+"), "$1!<key>"),
        // A session id in a URL or in JSON.
        (re(r"(?i)(sid=)[^&\s]+"), "$1<redacted>"),
        (re(r#"(?i)("(?:sid|csid|tsid|k|key|privk|password)"\s*:\s*")[^"]*"#), "$1<redacted>"),
        // Long hex (a key in hex) and long base64 tokens with upper, lower case and digits
        // (keys, sids): names rarely look like that.
        (re(r"\b[0-9a-fA-F]{32,}\b"), "<redacted>"),
    ]
});

static TOKEN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[A-Za-z0-9_-]{22,}").expect("a valid pattern"));

/// A line with everything that may be a secret replaced.
pub fn redact(line: &str) -> String {
    let mut out = line.to_string();
    for (re, with) in SECRETS.iter() {
        out = re.replace_all(&out, *with).into_owned();
    }
    TOKEN
        .replace_all(&out, |c: &regex::Captures<'_>| {
            let t = &c[0];
            let mixed = t.bytes().any(|b| b.is_ascii_uppercase())
                && t.bytes().any(|b| b.is_ascii_lowercase())
                && t.bytes().any(|b| b.is_ascii_digit());
            if mixed {
                "<redacted>".to_string()
            } else {
                t.to_string()
            }
        })
        .into_owned()
}

/// Whether the OS keyring answers (an entry that is not there is an answer).
fn keyring_state() -> &'static str {
    match keyring::Entry::new(crate::vault::SERVICE, "diagnostics probe").and_then(|e| e.get_password()) {
        Ok(_) | Err(keyring::Error::NoEntry) => "reachable",
        Err(keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_)) => "not reachable",
        Err(_) => "answers with an error",
    }
}

/// The report, as text.
pub fn report(dirs: &Dirs, face: Face<'_>) -> String {
    let mut r = String::new();
    let mut line = |s: String| {
        r.push_str(&redact(&s));
        r.push('\n');
    };
    line("# Tuatara diagnostics".into());
    line(format!("written: {}", chrono::Local::now().to_rfc3339()));
    line(format!("face: {} {}", face.name, face.version));
    line(format!("core: tuatara-core {}", env!("CARGO_PKG_VERSION")));
    line(format!("os: {} {}", std::env::consts::OS, std::env::consts::ARCH));
    line(format!("config dir: {}", dirs.config.display()));
    line(format!("data dir: {}", dirs.data.display()));
    line(format!("keyring: {}", keyring_state()));

    line(String::new());
    line("## Accounts (API URL: e-mail; no secrets)".into());
    match read_json::<BTreeMap<String, String>>(&dirs.accounts()) {
        Ok(Some(all)) if !all.is_empty() => {
            for (url, email) in all {
                line(format!("{url}: {email}"));
            }
        }
        Ok(_) => line("none".into()),
        Err(e) => line(format!("unreadable: {e}")),
    }
    let files = std::fs::read_dir(dirs.sessions()).map(|d| d.count()).unwrap_or(0);
    line(format!("session files (no keyring): {files}"));

    line(String::new());
    line("## Settings".into());
    match read_json::<serde_json::Value>(&dirs.settings()) {
        Ok(Some(v)) => {
            for l in serde_json::to_string_pretty(&v).unwrap_or_default().lines() {
                line(l.to_string());
            }
        }
        Ok(None) => line("the defaults (no settings file)".into()),
        Err(e) => line(format!("unreadable: {e}")),
    }

    line(String::new());
    line("## Unfinished transfers".into());
    let (jobs, damaged) = mega_transfer::unfinished(&dirs.journal());
    line(format!("{} unfinished, {} journal entries unreadable", jobs.len(), damaged.len()));
    for j in &jobs {
        let dir = match j.direction {
            mega_transfer::Direction::Download => "down",
            mega_transfer::Direction::Upload => "up",
        };
        let paused = if j.paused { ", paused" } else { "" };
        line(format!("{dir} {} of {} bytes{paused}: {}", j.done, j.size, j.name));
    }
    for e in &damaged {
        line(format!("unreadable: {e}"));
    }

    line(String::new());
    line("## Watches".into());
    for (what, opened) in [
        ("folders", crate::watches::Watches::open(dirs)),
        ("links files", crate::watches::Watches::open_links_files(dirs)),
    ] {
        match opened.and_then(|w| w.list()) {
            Ok(list) => {
                line(format!("{what}: {}", list.len()));
                for w in list {
                    let state = if w.paused { "paused" } else { "active" };
                    let error = w.errors.last().map(|e| format!("; last error: {}", e.message)).unwrap_or_default();
                    line(format!("{} ({state}, {} done){error}: {:?}", w.id, w.done, w.kind));
                }
            }
            Err(e) => line(format!("{what}: unreadable: {e}")),
        }
    }

    line(String::new());
    line("## Links ledger".into());
    match crate::links::Ledger::open(dirs.ledger()) {
        Ok(ledger) => {
            let mut by_status = BTreeMap::new();
            for e in ledger.entries().values() {
                *by_status.entry(format!("{:?}", e.status).to_lowercase()).or_insert(0usize) += 1;
            }
            line(format!("{} links: {by_status:?}", ledger.entries().len()));
        }
        Err(e) => line(format!("unreadable: {e}")),
    }

    if let Some(log) = face.log {
        line(String::new());
        line(format!("## The last {LOG_LINES} lines of {}", log.display()));
        match std::fs::read(log) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let all: Vec<&str> = text.lines().collect();
                for l in &all[all.len().saturating_sub(LOG_LINES)..] {
                    line((*l).to_string());
                }
            }
            Err(e) => line(format!("unreadable: {e}")),
        }
    }
    r
}

/// Writes the report to `path` (readable by its owner only, written whole).
pub fn write(path: &Path, dirs: &Dirs, face: Face<'_>) -> Result<()> {
    crate::files::write_atomic(path, report(dirs, face).as_bytes()).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_plain_words_are_not() {
        let cases = [
            (
                "https://mega.nz/file/AbCdEfGh#0123456789abcdefABCDEF_-xyzXYZ0123456789ab",
                "https://mega.nz/file/AbCdEfGh#<key>",
            ),
            ("https://mega.nz/#F!AbCdEfGh!KeyKeyKey12", "https://mega.nz/#F!AbCdEfGh!<key>"),
            ("https://mega.nz/#P!AgAAAAAAAAAAAAAAA", "https://mega.nz/#P!<redacted>"),
            ("POST /cs?id=3&sid=Zm9vYmFyYmF6cXV4 failed", "POST /cs?id=3&sid=<redacted> failed"),
            (r#"{"k": "abc", "name": "x"}"#, r#"{"k": "<redacted>", "name": "x"}"#),
            ("master 00112233445566778899aabbccddeeff", "master <redacted>"),
            ("token q7Yd3kPz0Lm2Nx8Wv5Tb1Q done", "token <redacted> done"),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
        let plain = "down 10 of 20 bytes: /home/me/Downloads/holiday_pictures_from_summer.zip";
        assert_eq!(redact(plain), plain);
    }

    #[test]
    fn a_report_of_empty_directories_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = Dirs::new(dir.path().join("c"), dir.path().join("d"));
        let text = report(&dirs, Face { name: "tuatara-cli", version: "9.9.9", log: None });
        for part in ["face: tuatara-cli 9.9.9", "## Accounts", "none", "the defaults", "0 unfinished", "## Watches"] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }
}
