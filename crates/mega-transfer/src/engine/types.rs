//! The engine's public types: its configuration, conflicts, errors, outcomes and job
//! information.

use std::path::{Path, PathBuf};

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
    pub max_retries: u32,
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

/// Why a job stopped short of done.
#[derive(Debug, thiserror::Error)]
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
    /// The job needs something the engine was not given (a session for own files).
    #[error("{0}")]
    Unavailable(String),
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
            TransferError::Api(e) => e.kind(),
            TransferError::Journal(_) | TransferError::Local { .. } | TransferError::Unavailable(_) => {
                ErrorKind::Failed
            }
            TransferError::Paused | TransferError::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// Worth trying again later (network, busy servers, quota).
    pub fn is_temporary(&self) -> bool {
        matches!(self, TransferError::Api(e) if e.is_temporary() || matches!(e.kind(), ErrorKind::Network | ErrorKind::Expired))
    }

    pub(crate) fn local(path: &Path) -> impl FnOnce(std::io::Error) -> TransferError + '_ {
        move |source| TransferError::Local { path: path.to_path_buf(), source }
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
