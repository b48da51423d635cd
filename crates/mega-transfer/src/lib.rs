//! `mega-transfer`: Tuatara's transfer queue.
//!
//! Users come to a desktop client because downloads resume after a crash, big files go fast,
//! and a wrong byte is never handed to them. This crate does that on top of `mega-api`'s
//! chunk primitives:
//!
//! * **One file, many connections.** A file is cut into pieces of whole chunks; several
//!   workers fetch (or send) them in parallel. Downloads are decrypted and MACed as they arrive
//!   (several chunks MACed interleaved, in `mega-proto`) and written at their offsets into the
//!   job's own hidden temporary file beside the destination ([`part_path`],
//!   `.NAME.JOBID.tuatara.part`, always within 255 bytes): no remote name collides with it, it
//!   is created exclusively and never through a symbolic link, and a resumed job finds it again.
//! * **Verified or nothing.** Every chunk MAC is kept; at the end the meta-MAC is checked over
//!   all of them. A mismatch fetches the file once more, then fails loudly. Only a verified file
//!   is fsynced and renamed to its final name, never over a file that is there (unless the job
//!   may overwrite, [`Conflict::Overwrite`]) nor over a folder: it takes the next free name.
//! * **A journal that survives kill -9 and reboots** ([`journal`]): each job, and each finished
//!   chunk with its MAC, recorded after the chunk's bytes are fsynced. A restart fetches only the
//!   missing chunks; uploads continue on the same upload URL while it is valid. A damaged
//!   journal entry is reported, never a crash.
//! * **Control**: pause, resume, cancel, move to top, global limits on files at once, speed
//!   limits that change while running, with an optional time-of-day [`Schedule`] (rclone's
//!   `--bwlimit` timetable, or daily windows; a window boundary changes the limits of running
//!   jobs, nothing restarts), retries with backoff, URL refresh on expiry, and waiting out the
//!   transfer quota (every job waits, with the server's time left) instead of failing.
//! * **Many small files** do not serialise on the API's round trip: files up to 1 MiB take
//!   slots of their own (32 at once by default, beside the big files' slots, handed out in
//!   priority order without polling), their `g`, `u` and `p` commands share requests
//!   (`mega-api` coalesces whatever is queued while a request is out; each command keeps its own
//!   result, so one failure fails only its file), and their one piece is not journaled chunk by
//!   chunk (after a crash such a file is fetched or sent again whole; its job is journaled).
//! * **Events** ([`Event`]) are plain Rust values on a broadcast channel; the app and the CLI
//!   turn them into progress bars.
//! * **Names are made safe** ([`names`]): nothing is ever written outside the chosen folder.
//! * **Watches** ([`watch`]): a local folder backed up into a remote one as files settle, and
//!   links files whose new MEGA links are downloaded, persisted across restarts.
//!
//! * **Thumbnails**: uploaded pictures get a 120x120 thumbnail and a preview as file
//!   attributes, as MEGA's own clients make them.
//!
//! * **Streaming** ([`stream`]): any byte range of a remote file read in pieces, decrypted
//!   from the right counter, read ahead, from a bounded cache shared by every reader, verified
//!   by the meta-MAC once every chunk was read.
//!
//! Not yet here: continuing after `-15` with a fresh login by itself (such a job fails as
//! `SessionExpired` and stays in the journal; `resume` after a new login continues it), and
//! CloudRAID downloads (`g` with six URLs).

mod download;
mod engine;
mod events;
pub mod journal;
mod limit;
pub mod names;
mod pieces;
pub mod schedule;
mod slots;
pub mod stream;
mod thumbnails;
mod upload;
pub mod watch;

pub use download::{part_path, PART_SUFFIX};
pub use engine::{unfinished, Asked, Conflict, Engine, EngineConfig, JobInfo, Outcome, TransferError, Unfinished};
pub use events::{Direction, Event, JobId, WaitReason};
pub use journal::write_atomic;
pub use limit::Limit;
pub use schedule::{Rates, Schedule, ScheduleError};
pub use stream::{Integrity, StreamFile, StreamReader};
