//! The core's error. Its kinds say what happened in terms a face can act on (sign in again,
//! fix a file, wait); the faces map them once each: `tuatara-cli` to exit codes, the app to
//! IPC kinds. Whether an error is worth trying again is asked of `mega-api`'s
//! [`ErrorKind`](mega_api::ErrorKind), never decided here.

use std::path::{Path, PathBuf};

use mega_transfer::watch::WatchError;
use mega_transfer::TransferError;

/// The core's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong. Messages never carry a password, sid or key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The MEGA API (or a link) refused or failed.
    #[error(transparent)]
    Api(#[from] mega_api::Error),
    /// A transfer could not be queued or run.
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// A watch could not be added, started or changed.
    #[error(transparent)]
    Watch(#[from] WatchError),
    /// No saved session for this API URL (or it was damaged): log in again.
    #[error("not logged in at {api_url}{}", .why.as_deref().map(|w| format!(" ({w})")).unwrap_or_default())]
    NotLoggedIn {
        /// The API URL.
        api_url: String,
        /// Why, when there was a session and it cannot be used.
        why: Option<String>,
    },
    /// A local file of ours does not parse: it is left in place.
    #[error("{} is damaged ({what}): remove it to start it over", .path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        what: String,
    },
    /// A link that cannot be opened as it is (its key does not fit, an empty folder...).
    #[error("{0}")]
    BadLink(String),
    /// The OS keyring refused (not merely "not there").
    #[error("the keyring {0}")]
    Keyring(String),
    /// A value the user gave does not fit (a setting, a time of day, a path).
    #[error("{0}")]
    Invalid(String),
    /// Nothing there.
    #[error("{0}")]
    NotFound(String),
    /// A local file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// An I/O error on a file.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }
}
