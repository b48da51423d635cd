//! The engine's public types: its configuration, conflicts, errors, outcomes and job
//! information.

use std::path::{Path, PathBuf};
use std::time::Duration;

use mega_api::{ErrorKind, NodeHandle};

use crate::events::{Direction, JobId};
use crate::journal::JournalError;
use crate::schedule::Schedule;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Where the journal lives (in the app's data directory).
    pub journal_dir: PathBuf,
    /// Chunk workers per file (1 to 32).
    pub connections_per_file: usize,
    /// Files moving at once (files over 1 MiB).
    pub max_files: usize,
    /// Small files (up to 1 MiB, one connection each) moving at once, beside the big ones:
    /// their API commands share requests, so many at once do not wait on each other.
    pub small_files: usize,
    /// Bytes per request: whole chunks up to about this much.
    pub piece_size: u64,
    /// Download limit, bytes per second.
    pub download_limit: Option<u64>,
    /// Upload limit, bytes per second.
    pub upload_limit: Option<u64>,
    /// How often a job retries a temporary failure before it fails (the journal keeps it).
    /// Within one run, a file's workers retry failures with the client's
    /// [`mega_api::RetryPolicy`] (its attempts per worker, its backoff) before that.
    pub max_retries: u32,
    /// The longest wait for the transfer quota (default 6 hours): a 509 whose time left is
    /// longer fails the job with the time left instead of holding it (the journal keeps it).
    pub max_quota_wait: Duration,
    /// Speed limits by time of day; outside its windows, `download_limit` and `upload_limit`.
    pub schedule: Option<Schedule>,
}

impl EngineConfig {
    /// Defaults: 8 connections per file, 4 files and 32 small files, 4 MiB pieces, no limits.
    pub fn new(journal_dir: impl Into<PathBuf>) -> Self {
        EngineConfig {
            journal_dir: journal_dir.into(),
            connections_per_file: 8,
            max_files: 4,
            small_files: 32,
            piece_size: 4 << 20,
            download_limit: None,
            upload_limit: None,
            max_retries: 5,
            max_quota_wait: Duration::from_secs(6 * 3600),
            schedule: None,
        }
    }
}

/// What happens when a download's file exists already (when it is queued, or appears by the
/// time the download is verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conflict {
    /// Skip it when identical (size and content fingerprint; also when an identical copy is at
    /// one of its numbered names), else save under a new name (`NAME (1).EXT`): nothing at the
    /// final name is ever replaced.
    #[default]
    Rename,
    /// Skip it when identical, else replace it (only once the new one is verified). A folder
    /// of the same name is never replaced: the file gets a new name as with `Rename`.
    Overwrite,
}

/// Why a job stopped short of done. New kinds may come: match with a wildcard arm, or go by
/// [`TransferError::kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The API or storage failed.
    #[error(transparent)]
    Api(#[from] mega_api::Error),
    /// The journal could not be written or read.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Local file trouble (disk full, permission denied, folder removed).
    #[error("{path}: {source}")]
    Local {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The job is the account's own and the engine has no session (or no node tree): sign in.
    #[error("not signed in: the account's own files need a session")]
    NotSignedIn,
    /// A job's entry in the journal cannot be used (a handle, key or link in it is damaged):
    /// the job cannot go on; cancel it and queue the file again.
    #[error("the transfer journal's entry for this job is damaged ({0}): cancel it and queue the file again")]
    JournalDamaged(String),
    /// The file on the server is no longer the one queued (another size): queue it again.
    #[error("{0}")]
    SourceChanged(String),
    /// The job cannot run for another reason, said in the message (an empty folder link, a
    /// local path without a name, a failure of the engine itself).
    #[error("{0}")]
    Unavailable(String),
    /// The same failure came back every time, with backoff, until the retry policy was spent.
    #[error("{source} (gave up after {failures} tries without progress)")]
    GaveUp {
        /// The last failure.
        #[source]
        source: mega_api::Error,
        /// Failures in a row, the workers of the file together.
        failures: u32,
    },
    /// The transfer quota frees later than the engine waits ([`EngineConfig::max_quota_wait`]).
    #[error(
        "the transfer quota is used up and frees in {}, longer than the {} this waits: try again then",
        human(*time_left),
        human(*limit)
    )]
    QuotaTooLong {
        /// When the quota frees.
        time_left: Duration,
        /// The longest wait.
        limit: Duration,
    },
    /// Paused by the user (not a failure).
    #[error("paused")]
    Paused,
    /// Cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

impl TransferError {
    /// The kind, for callers and events.
    pub fn kind(&self) -> ErrorKind {
        match self {
            TransferError::Api(e) | TransferError::GaveUp { source: e, .. } => e.kind(),
            TransferError::QuotaTooLong { time_left, .. } => ErrorKind::Quota { time_left: Some(*time_left) },
            TransferError::NotSignedIn => ErrorKind::SessionExpired,
            TransferError::Journal(_)
            | TransferError::SourceChanged(_)
            | TransferError::JournalDamaged(_)
            | TransferError::Local { .. }
            | TransferError::Unavailable(_) => ErrorKind::Failed,
            TransferError::Paused | TransferError::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// Worth the job running again now (network, busy servers, an expired URL). A failure the
    /// workers already retried to the end of the policy is, only if it was the network's or
    /// busy servers' (a longer outage); storage that refuses fresh URLs time after time is not.
    pub fn is_temporary(&self) -> bool {
        match self {
            TransferError::Api(e) => e.is_temporary() || matches!(e.kind(), ErrorKind::Network | ErrorKind::Expired),
            TransferError::GaveUp { source, .. } => source.is_temporary(),
            _ => false,
        }
    }

    pub(crate) fn local(path: &Path) -> impl FnOnce(std::io::Error) -> TransferError + '_ {
        move |source| TransferError::Local { path: path.to_path_buf(), source }
    }
}

/// A duration for people, in its two largest units: `3 d 4 h`, `2 h 5 min`, `6 h`, `40 s`.
pub(crate) fn human(d: Duration) -> String {
    let s = d.as_secs();
    let (big, big_unit, small, small_unit) = match s {
        0..60 => return format!("{s} s"),
        60..3600 => (s / 60, "min", s % 60, "s"),
        3600..86400 => (s / 3600, "h", s % 3600 / 60, "min"),
        _ => (s / 86400, "d", s % 86400 / 3600, "h"),
    };
    if small == 0 {
        format!("{big} {big_unit}")
    } else {
        format!("{big} {big_unit} {small} {small_unit}")
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Done and verified.
    Done {
        /// Downloads: the file.
        path: Option<PathBuf>,
        /// Uploads: the node.
        node: Option<NodeHandle>,
    },
    /// An identical file was there already.
    Skipped,
    /// Failed (kept in the journal if it can resume).
    Failed {
        /// The kind.
        kind: ErrorKind,
        /// The message.
        message: String,
    },
    /// Cancelled.
    Cancelled,
}

/// What the engine knows of one job.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// The job.
    pub id: JobId,
    /// Which way.
    pub direction: Direction,
    /// The file name.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// Position in the queue.
    pub priority: i64,
    /// Paused by the user.
    pub paused: bool,
    /// How it ended, once it has.
    pub outcome: Option<Outcome>,
}

/// Pause/cancel signals of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    Run,
    Pause,
    Cancel,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_two_units() {
        let h = |s| human(Duration::from_secs(s));
        assert_eq!(h(40), "40 s");
        assert_eq!(h(125), "2 min 5 s");
        assert_eq!(h(6 * 3600), "6 h");
        assert_eq!(h(2 * 3600 + 300), "2 h 5 min");
        assert_eq!(h(30 * 86400 + 7200), "30 d 2 h");
    }
}
