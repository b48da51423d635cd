//! The transfer journal: every job and every finished chunk, persisted so that a crash, a kill
//! or a reboot loses nothing that was verified.
//!
//! One directory (mode 0700) holds, per job, `<id>.json` (what to transfer, written atomically:
//! temporary file, fsync, rename) and `<id>.chunks` (one line per finished chunk: index, chunk
//! MAC and a CRC of the line, appended and fsynced after the chunk's bytes are fsynced). A torn
//! last line (a crash mid-append) is ignored; any other damage is reported, never a crash.
//!
//! Files are 0600: a job record holds the file's content key (an unfinished download or upload
//! cannot be completed without it), never account secrets.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What a job transfers (the journal's record of it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JobRecord {
    /// The job id (also the file names).
    pub id: String,
    /// Download or upload, with what it needs.
    pub spec: JobSpec,
    /// Position in the queue (lower first).
    pub priority: i64,
    /// Paused by the user.
    pub paused: bool,
}

/// A job's details. Its `Debug` leaves out the keys, URLs and links.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// A file from MEGA to a local folder.
    Download {
        /// Where it comes from.
        source: Source,
        /// The file key (b64 of the 32-byte node key).
        key: String,
        /// Size in bytes.
        size: u64,
        /// The final local path (made safe and unique when queued; if something of that name
        /// that may not be replaced is there when the file is verified, the file takes the
        /// next free name instead).
        path: PathBuf,
        /// Modification time to set (from the fingerprint), if known.
        mtime: Option<i64>,
        /// A file at `path` when the download is done may be replaced (`Conflict::Overwrite`);
        /// otherwise it never is (absent in journals of older versions: never).
        #[serde(default)]
        overwrite: bool,
    },
    /// A local file to a MEGA folder.
    Upload {
        /// The local file.
        local: PathBuf,
        /// The remote folder (b64 handle).
        parent: String,
        /// The name it gets.
        name: String,
        /// Size when the job started (a change means a restart).
        size: u64,
        /// Its modification time (unix seconds).
        mtime: i64,
        /// The upload URL, once asked for.
        url: Option<String>,
        /// The content key and nonce (b64), once chosen.
        cipher: Option<(String, String)>,
    },
}

impl std::fmt::Debug for JobSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobSpec::Download { size, path, .. } => {
                f.debug_struct("Download").field("size", size).field("path", path).finish_non_exhaustive()
            }
            JobSpec::Upload { local, name, size, .. } => f
                .debug_struct("Upload")
                .field("local", local)
                .field("name", name)
                .field("size", size)
                .finish_non_exhaustive(),
        }
    }
}

/// Where a download comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum Source {
    /// A file in the logged-in account (b64 node handle).
    Own {
        /// The node.
        node: String,
    },
    /// A public file link (b64 public handle).
    Public {
        /// The public handle.
        handle: String,
    },
    /// A file inside a folder link.
    InFolderLink {
        /// The folder link (with its key: the journal is private; `JobSpec`'s `Debug` omits it).
        link: String,
        /// The file's node handle.
        node: String,
    },
}

/// Why the journal could not be read.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Reading or writing failed.
    #[error("transfer journal {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A journal file is damaged (not a torn last line).
    #[error("transfer journal {path} is damaged: {why}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// A job and its finished chunks (index -> chunk MAC).
pub type Loaded = (JobRecord, BTreeMap<u64, [u8; 16]>);

/// The journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

fn private_file(path: &Path, append: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.create(true).mode(0o600);
    if append {
        o.append(true);
    } else {
        o.write(true).truncate(true);
    }
    o.open(path)
}

/// Writes a small file whole, for every crate above this one (the journal, the watch store,
/// the application core's settings, account list and ledger): into a temporary file of its own
/// beside `path` (`tempfile`: created exclusively, mode 0600), fsynced, renamed over `path`,
/// and the directory fsynced. A crash leaves the old file or the new one, never half of one;
/// two writers at once never share a temporary file.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new().prefix(".tuatara-").suffix(".tmp").tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    File::open(dir).and_then(|d| d.sync_all())
}

impl Journal {
    /// Opens (creating) the journal in `dir`.
    pub fn open(dir: &Path) -> Result<Self, JournalError> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io(dir))?;
        Ok(Journal { dir: dir.to_path_buf() })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn chunks_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.chunks"))
    }

    /// Writes a job record atomically.
    pub fn save(&self, rec: &JobRecord) -> Result<(), JournalError> {
        let path = self.record_path(&rec.id);
        let data = serde_json::to_vec_pretty(rec)
            .map_err(|e| JournalError::Damaged { path: path.clone(), why: e.to_string() })?;
        write_atomic(&path, &data).map_err(io(&path))
    }

    /// Every job in the journal; damaged ones as errors (the others still load).
    pub fn load_all(&self) -> Vec<Result<Loaded, JournalError>> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut ids: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.strip_suffix(".json")).map(str::to_string))
            .collect();
        ids.sort();
        ids.iter().map(|id| self.load(id)).collect()
    }

    /// One job and its finished chunks.
    pub fn load(&self, id: &str) -> Result<Loaded, JournalError> {
        let path = self.record_path(id);
        let data = std::fs::read(&path).map_err(io(&path))?;
        let rec: JobRecord = serde_json::from_slice(&data)
            .map_err(|e| JournalError::Damaged { path: path.clone(), why: e.to_string() })?;
        if rec.id != id {
            return Err(JournalError::Damaged { path, why: format!("names job {:?}", rec.id) });
        }
        Ok((rec, self.chunks(id)?))
    }

    /// The finished chunks of a job: index -> chunk MAC.
    pub fn chunks(&self, id: &str) -> Result<BTreeMap<u64, [u8; 16]>, JournalError> {
        let path = self.chunks_path(id);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut out = BTreeMap::new();
        let complete = text.ends_with(b"\n");
        let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        let count = lines.len();
        for (i, line) in lines.into_iter().enumerate() {
            match parse_line(line) {
                Some((index, mac)) => {
                    out.insert(index, mac);
                }
                // A torn last line is what a crash mid-append leaves: that chunk is fetched again.
                None if i + 1 == count && !complete => {}
                None => {
                    return Err(JournalError::Damaged { path, why: format!("line {} is not a chunk record", i + 1) });
                }
            }
        }
        Ok(out)
    }

    /// Appends finished chunks and fsyncs (call after their bytes are fsynced).
    pub fn append_chunks(&self, id: &str, chunks: &[(u64, [u8; 16])]) -> Result<(), JournalError> {
        if chunks.is_empty() {
            return Ok(());
        }
        let path = self.chunks_path(id);
        let mut text = String::new();
        for (index, mac) in chunks {
            text.push_str(&format_line(*index, mac));
        }
        let mut f = private_file(&path, true).map_err(io(&path))?;
        f.write_all(text.as_bytes()).map_err(io(&path))?;
        f.sync_data().map_err(io(&path))
    }

    /// Forgets a job's chunks (a MAC mismatch: they are fetched again).
    pub fn clear_chunks(&self, id: &str) -> Result<(), JournalError> {
        let path = self.chunks_path(id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
            _ => Ok(()),
        }
    }

    /// Removes a job (done or cancelled).
    pub fn remove(&self, id: &str) -> Result<(), JournalError> {
        self.clear_chunks(id)?;
        let path = self.record_path(id);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
            _ => Ok(()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn format_line(index: u64, mac: &[u8; 16]) -> String {
    let body = format!("{index} {}", hex(mac));
    format!("{body} {:08x}\n", crc32fast::hash(body.as_bytes()))
}

fn parse_line(line: &[u8]) -> Option<(u64, [u8; 16])> {
    let line = std::str::from_utf8(line).ok()?;
    let (body, crc) = line.rsplit_once(' ')?;
    if u32::from_str_radix(crc, 16).ok()? != crc32fast::hash(body.as_bytes()) {
        return None;
    }
    let (index, mac_hex) = body.split_once(' ')?;
    if mac_hex.len() != 32 {
        return None;
    }
    let mut mac = [0u8; 16];
    for (i, m) in mac.iter_mut().enumerate() {
        *m = u8::from_str_radix(mac_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some((index.parse().ok()?, mac))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> JobRecord {
        JobRecord {
            id: id.into(),
            spec: JobSpec::Download {
                source: Source::Own { node: "AAAAAAAA".into() },
                key: "k".into(),
                size: 10,
                path: "/tmp/x".into(),
                mtime: None,
                overwrite: false,
            },
            priority: 0,
            paused: false,
        }
    }

    /// A record written before downloads knew their conflict policy loads, as one that never
    /// replaces a file.
    #[test]
    fn an_older_download_record_loads_without_overwrite() {
        let old = r#"{"id":"a","spec":{"kind":"download","source":{"from":"own","node":"AAAAAAAA"},
            "key":"k","size":10,"path":"/tmp/x","mtime":null},"priority":0,"paused":false}"#;
        let rec: JobRecord = serde_json::from_str(old).unwrap();
        assert_eq!(rec, record("a"));
    }

    #[test]
    fn records_and_chunks_round_trip_and_torn_lines_are_ignored() {
        let d = tempfile::tempdir().unwrap();
        let j = Journal::open(&d.path().join("journal")).unwrap();
        j.save(&record("a")).unwrap();
        j.append_chunks("a", &[(0, [1; 16]), (2, [3; 16])]).unwrap();
        j.append_chunks("a", &[(1, [2; 16])]).unwrap();
        let (rec, chunks) = j.load("a").unwrap();
        assert_eq!(rec, record("a"));
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[&2], [3; 16]);
        // A crash mid-append: the torn line is dropped, the rest kept.
        let path = j.dir().join("a.chunks");
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"3 0404").unwrap();
        assert_eq!(j.chunks("a").unwrap().len(), 3);
        // Damage in the middle is reported.
        let text = std::fs::read_to_string(&path).unwrap().replacen("0101", "0102", 1);
        std::fs::write(&path, text + "\n").unwrap();
        assert!(matches!(j.chunks("a"), Err(JournalError::Damaged { .. })));
        // A damaged record is reported; the other job still loads.
        j.save(&record("b")).unwrap();
        std::fs::write(j.dir().join("c.json"), b"{not json").unwrap();
        let all = j.load_all();
        assert_eq!(all.len(), 3);
        assert!(all.iter().filter(|r| r.is_err()).count() == 2, "a (chunks) and c (record)");
        j.remove("b").unwrap();
        assert!(j.load("b").is_err());
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(j.dir().join("a.json")).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }
}
