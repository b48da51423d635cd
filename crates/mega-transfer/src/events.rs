//! What the engine reports: a plain Rust enum on a broadcast channel (no UI types). Progress is
//! throttled by the engine (at most about four per job per second); state changes go at once.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// A job's id.
pub type JobId = String;

/// Which way a job goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// MEGA to disk.
    Download,
    /// Disk to MEGA.
    Upload,
}

/// Why a job waits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitReason {
    /// The transfer quota is used up; it frees at `until`.
    TransferQuota,
    /// Waiting for a free slot (global limits).
    Queue,
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Added to the queue (or found in the journal).
    Queued {
        /// The job.
        id: JobId,
        /// Which way.
        direction: Direction,
        /// The file name.
        name: String,
        /// Its size.
        size: u64,
    },
    /// Transferring.
    Started {
        /// The job.
        id: JobId,
    },
    /// Bytes moved.
    Progress {
        /// The job.
        id: JobId,
        /// Bytes done (verified chunks, incl. those done before a resume).
        done: u64,
        /// Bytes in all.
        total: u64,
        /// Recent speed, bytes per second.
        speed: u64,
        /// Estimated time left.
        eta: Option<Duration>,
    },
    /// Paused by the user.
    Paused {
        /// The job.
        id: JobId,
    },
    /// Waiting, e.g. for the transfer quota.
    Waiting {
        /// The job.
        id: JobId,
        /// Why.
        reason: WaitReason,
        /// Until when, if known.
        until: Option<SystemTime>,
    },
    /// A temporary failure; trying again.
    Retrying {
        /// The job.
        id: JobId,
        /// What failed.
        reason: String,
    },
    /// Failed for good (the journal keeps it when it can be resumed).
    Failed {
        /// The job.
        id: JobId,
        /// The error's kind.
        kind: mega_api::ErrorKind,
        /// A one-line message.
        message: String,
    },
    /// Finished and verified (downloads: the meta-MAC matched before the file got its name).
    Done {
        /// The job.
        id: JobId,
        /// Downloads: the file written.
        path: Option<PathBuf>,
        /// Uploads: the new node.
        node: Option<mega_api::NodeHandle>,
    },
    /// Not transferred: an identical file is already there.
    Skipped {
        /// The job.
        id: JobId,
        /// Why.
        reason: String,
    },
    /// Removed by the user; its partial data deleted.
    Cancelled {
        /// The job.
        id: JobId,
    },
}
