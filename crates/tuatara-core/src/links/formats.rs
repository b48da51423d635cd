//! Links files with metadata: the formats `links export` writes and `links get` reads back.
//!
//! - **plain**: one link a line, nothing else (what MEGA users pass around).
//! - **csv**: a header line `path,size,fingerprint,mtime,link`, then one row a file (RFC 4180
//!   quoting); `fingerprint` and `mtime` are empty where the file has none.
//! - **json**: an array of objects `{"path", "size", "fingerprint", "mtime", "link"}`, with
//!   `null` where the file has no fingerprint or mtime.
//!
//! `path` is the file's path in the exporting drive, `size` its bytes, `fingerprint` MEGA's `c`
//! attribute exactly as MEGA stores it (content CRCs and mtime, MEGA's base64), `mtime` the
//! modification time in Unix seconds, `link` the public link (with its key, without it when
//! the keys were written apart, or a `#P!` link).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The format of a links file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListFormat {
    /// One link a line.
    #[default]
    Plain,
    /// CSV with a header: path, size, fingerprint, mtime, link.
    Csv,
    /// A JSON array of objects with those fields.
    Json,
}

/// The CSV header, the first line of a CSV links file.
pub const CSV_HEADER: &str = "path,size,fingerprint,mtime,link";

/// What a links file says about the file behind a link (csv and json files only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileMeta {
    /// The file's path in the drive it was exported from.
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// MEGA's fingerprint attribute (`c`) as MEGA stores it, where the file has one.
    pub fingerprint: Option<String>,
    /// Its modification time (Unix seconds), where known.
    pub mtime: Option<i64>,
}

/// One row of a links file: a link and what the exporter knew of its file.
#[derive(Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The file's metadata.
    pub meta: FileMeta,
    /// The link, as written.
    pub link: String,
}

impl std::fmt::Debug for ListEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The link may carry its key: left out.
        f.debug_struct("ListEntry").field("meta", &self.meta).finish_non_exhaustive()
    }
}

/// A row as csv and json have it (flat).
#[derive(Serialize, Deserialize)]
struct Row {
    path: String,
    size: u64,
    fingerprint: Option<String>,
    mtime: Option<i64>,
    link: String,
}

impl From<&ListEntry> for Row {
    fn from(e: &ListEntry) -> Self {
        let m = e.meta.clone();
        Row { path: m.path, size: m.size, fingerprint: m.fingerprint, mtime: m.mtime, link: e.link.clone() }
    }
}

impl From<Row> for ListEntry {
    fn from(r: Row) -> Self {
        let blank = |s: Option<String>| s.filter(|s| !s.is_empty());
        ListEntry {
            meta: FileMeta { path: r.path, size: r.size, fingerprint: blank(r.fingerprint), mtime: r.mtime },
            link: r.link,
        }
    }
}

/// The links file of `entries` in `format`.
pub fn render(format: ListFormat, entries: &[ListEntry]) -> Result<String> {
    let internal = |e: &dyn std::fmt::Display| Error::Internal(format!("the links file could not be written: {e}"));
    match format {
        ListFormat::Plain => Ok(entries.iter().map(|e| format!("{}\n", e.link)).collect()),
        ListFormat::Csv => {
            let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            // The header is written even for no rows, so the file says what it is.
            w.write_record(CSV_HEADER.split(',')).map_err(|e| internal(&e))?;
            for e in entries {
                w.serialize(Row::from(e)).map_err(|e| internal(&e))?;
            }
            String::from_utf8(w.into_inner().map_err(|e| internal(&e))?).map_err(|e| internal(&e))
        }
        ListFormat::Json => {
            let rows: Vec<Row> = entries.iter().map(Row::from).collect();
            let mut s = serde_json::to_string_pretty(&rows).map_err(|e| internal(&e))?;
            s.push('\n');
            Ok(s)
        }
    }
}

/// The format a links file is in, by its content: a JSON array, a CSV with [`CSV_HEADER`], or
/// plain text (any text with links in it, `[tags]` before them included).
pub fn detect(text: &str) -> ListFormat {
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('[') && serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
        ListFormat::Json
    } else if text.lines().next().is_some_and(|l| l.trim().eq_ignore_ascii_case(CSV_HEADER)) {
        ListFormat::Csv
    } else {
        ListFormat::Plain
    }
}

/// The rows of a csv or json links file ([`Error::Invalid`] saying where it does not parse);
/// `None` for plain text, whose links are found by [`super::extract`].
pub fn parse(text: &str) -> Result<Option<Vec<ListEntry>>> {
    let text = text.trim_start_matches('\u{feff}');
    let rows: Vec<Row> = match detect(text) {
        ListFormat::Plain => return Ok(None),
        // serde_json's message may quote a value (a link with its key): only where and what.
        ListFormat::Json => serde_json::from_str(text).map_err(|e| {
            Error::Invalid(format!(
                "the JSON links file does not parse: line {} column {}: {}",
                e.line(),
                e.column(),
                match e.classify() {
                    serde_json::error::Category::Data => "not an array of {path, size, fingerprint, mtime, link}",
                    _ => "not JSON",
                }
            ))
        })?,
        ListFormat::Csv => csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.trim_start().as_bytes())
            .deserialize()
            .collect::<Result<_, _>>()
            .map_err(|e| Error::Invalid(format!("the CSV links file does not parse: {}", csv_problem(&e))))?,
    };
    Ok(Some(rows.into_iter().map(ListEntry::from).collect()))
}

/// Where and why a CSV row failed, without the row's content (a link's key may be in it).
fn csv_problem(e: &csv::Error) -> String {
    let line = e.position().map(|p| format!("line {}: ", p.line())).unwrap_or_default();
    let why = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("column {} is not {}", i + 1, if i == 1 || i == 3 { "a number" } else { "text" }),
            None => "a row does not fit the header".into(),
        },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("{len} columns, {expected_len} expected"),
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".into(),
        _ => "malformed".into(),
    };
    format!("{line}{why}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<ListEntry> {
        vec![
            ListEntry {
                meta: FileMeta {
                    path: "/a, \"quoted\".bin".into(),
                    size: 3,
                    fingerprint: Some("AbC-_".into()),
                    mtime: Some(1_700_000_000),
                },
                link: "https://mega.nz/file/AAAAAAAA".into(),
            },
            ListEntry {
                meta: FileMeta { path: "/b".into(), size: 0, fingerprint: None, mtime: None },
                link: "https://mega.nz/file/BBBBBBBB".into(),
            },
        ]
    }

    #[test]
    fn csv_and_json_read_back_what_they_wrote() {
        for format in [ListFormat::Csv, ListFormat::Json] {
            let body = render(format, &entries()).unwrap();
            assert_eq!(detect(&body), format);
            assert_eq!(parse(&body).unwrap().unwrap(), entries(), "{body}");
        }
        let csv = render(ListFormat::Csv, &entries()).unwrap();
        assert!(csv.starts_with(&format!("{CSV_HEADER}\n")), "{csv}");
        assert!(csv.ends_with("/b,0,,,https://mega.nz/file/BBBBBBBB\n"), "{csv}");
        assert_eq!(render(ListFormat::Csv, &[]).unwrap(), format!("{CSV_HEADER}\n"));
        assert_eq!(parse(&render(ListFormat::Json, &[]).unwrap()).unwrap().unwrap(), []);
    }

    #[test]
    fn plain_is_one_link_a_line_and_read_as_text() {
        let body = render(ListFormat::Plain, &entries()).unwrap();
        assert_eq!(body, "https://mega.nz/file/AAAAAAAA\nhttps://mega.nz/file/BBBBBBBB\n");
        assert_eq!(detect(&body), ListFormat::Plain);
        assert_eq!(parse(&body).unwrap(), None);
        let tagged = "[Movies] https://mega.nz/file/AAAAAAAA\n";
        assert_eq!((detect(tagged), parse(tagged).unwrap()), (ListFormat::Plain, None));
    }

    #[test]
    fn a_damaged_file_says_where_without_its_content() {
        let bad = format!("{CSV_HEADER}\n/a,big,,,https://mega.nz/file/AAAAAAAA#secretkey\n");
        let e = parse(&bad).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("column 2") && !e.contains("secretkey"), "{e}");
        assert!(parse("[{\"path\": 1}]").is_err());
    }
}
