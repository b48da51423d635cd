//! The crate's error type: one enum with a stable [`ErrorKind`] for callers to branch on.
//!
//! MEGA's numeric codes are mapped to kinds in one place ([`kind_of_code`]). Nothing secret ever
//! reaches an error: network errors are stripped of their URL (which may carry a sid), protocol
//! errors describe the shape of what was wrong, never the values.

use std::time::Duration;

use mega_proto::{Class, ErrorCode, Source};

/// What went wrong, by the kind a caller branches on (re-login, quota banner, retry, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The connection failed or broke (after the retries of the policy).
    Network,
    /// A temporary condition (congestion, rate limit, busy servers) that outlived the retries.
    Temporary,
    /// Wrong e-mail or password.
    BadCredentials,
    /// Two-factor authentication: a code is required, or the code given was wrong.
    MfaRequired,
    /// The session is gone (logged out elsewhere, expired): log in again.
    SessionExpired,
    /// Over the storage or transfer quota; `time_left` says when transfer quota frees, when the
    /// server says so.
    Quota {
        /// How long until the transfer quota frees up.
        time_left: Option<Duration>,
    },
    /// No such node, user, link or path.
    NotFound,
    /// Access denied (not the owner, read-only share).
    Access,
    /// A key does not fit: wrong link key, wrong password of a protected link, a MAC mismatch.
    Crypto,
    /// Bad arguments (from the caller or, as the server says, in the request).
    BadInput,
    /// The account or the resource is blocked (suspended, taken down).
    Blocked,
    /// A folder cannot be moved into its own subtree.
    Circular,
    /// Already exists.
    Exists,
    /// A transfer URL or upload expired: get a new one.
    Expired,
    /// The storage server asks for the upload to be restarted from scratch.
    RestartUpload,
    /// The server's event log moved on: fetch the tree again.
    Reload,
    /// The server answered something this client does not understand.
    Protocol,
    /// The operation was cancelled.
    Cancelled,
    /// Any other permanent failure.
    Failed,
}

impl ErrorKind {
    /// The same request may work if sent again now, after a backoff: the network or busy
    /// servers. What the client's own retry loop retries.
    pub fn is_temporary(self) -> bool {
        matches!(self, ErrorKind::Temporary | ErrorKind::Network)
    }

    /// Trying the same thing again later may work: the network, busy servers, an expired URL or
    /// upload, a tree to fetch again, the transfer quota freeing. The one answer every caller
    /// gives the user: the CLI's "kept in the journal: `resume` continues it", the app's
    /// `retryable`.
    pub fn is_retryable_later(self) -> bool {
        self.is_temporary()
            || matches!(
                self,
                ErrorKind::Expired | ErrorKind::RestartUpload | ErrorKind::Reload | ErrorKind::Quota { .. }
            )
    }
}

/// The crate's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered a MEGA error code (to one command, or to the whole request).
    #[error("{context}: {code}")]
    Api {
        /// The command (or endpoint) that failed.
        context: &'static str,
        /// The code.
        code: ErrorCode,
        /// Seconds until the transfer quota frees, when the server says so.
        time_left: Option<u64>,
    },
    /// An HTTP status other than success.
    #[error("{context}: HTTP status {status}")]
    Status {
        /// What was being talked to.
        context: &'static str,
        /// The status code.
        status: u16,
        /// `X-MEGA-Time-Left` of a 509 (transfer quota), in seconds.
        time_left: Option<u64>,
    },
    /// The connection failed. The URL (which may hold a sid) is stripped.
    #[error("{context}: network error: {source}")]
    Network {
        /// What was being talked to.
        context: &'static str,
        /// The cause, without its URL.
        source: reqwest::Error,
    },
    /// Wrong e-mail or password.
    #[error("wrong e-mail or password")]
    BadCredentials,
    /// A two-factor code is required, or the one given was wrong.
    #[error("two-factor authentication code required or wrong")]
    MfaRequired,
    /// Cryptography failed: a wrong key, a corrupt value.
    #[error("{0}")]
    Crypto(#[from] mega_proto::Error),
    /// A downloaded range does not match the file's MAC.
    #[error("content MAC mismatch: the data is corrupt or the key is wrong")]
    Mac,
    /// The server's answer has an unexpected shape.
    #[error("unexpected response to {context}: {what}")]
    Protocol {
        /// The command or endpoint.
        context: &'static str,
        /// What was wrong (no values).
        what: &'static str,
    },
    /// Something the caller named does not exist locally (a node, a path).
    #[error("not found: {0}")]
    NotFound(String),
    /// The caller's input is not acceptable.
    #[error("invalid input: {0}")]
    BadInput(String),
    /// The hashcash challenge was not solved within the time budget.
    #[error("hashcash challenge not solved in time")]
    Hashcash,
    /// Cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The server did not answer in time: nothing arrived for the idle timeout, the reply
    /// trickled in too slowly, or the command's time ran out, on every attempt.
    #[error("{context}: the server did not answer in time (gave up after {attempts} attempt(s) in {} s)", waited.as_secs())]
    TimedOut {
        /// What was being talked to.
        context: &'static str,
        /// Attempts made.
        attempts: u32,
        /// Time spent, retries included.
        waited: Duration,
    },
    /// A reply longer than this client reads of that kind of reply: refused, and the rest
    /// left unread.
    #[error("{context}: the server's reply is over the {} MiB this client reads of it; refused", limit >> 20)]
    TooLarge {
        /// The command or endpoint.
        context: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },
    /// The account's key manager (`^!keys`, spec §6.10) is there but cannot be read (corrupt,
    /// not made with this account's key, another format): only what needs a share key that
    /// only it holds fails with this; the drive itself is unaffected.
    #[error("the account's key manager (^!keys) cannot be read: {0}")]
    KeyManager(&'static str),
    /// A folder already shared or exported (by another client) whose share key is not known
    /// here: neither in the account's key manager nor in a valid `ok`. Nothing was changed:
    /// a new key would break the existing share and its links.
    #[error("the share key of folder {node} is not known (neither in the account's key manager nor in a valid ok): nothing was changed")]
    NoShareKey {
        /// The shared folder.
        node: mega_proto::NodeHandle,
    },
    /// The request that carried this command together with others failed as a whole: the
    /// kind and message of that failure (the first command of the request got the original).
    #[error("{context}: {message}")]
    Request {
        /// What was being talked to.
        context: &'static str,
        /// The kind of the request's failure.
        kind: ErrorKind,
        /// Its message.
        message: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Maps a MEGA error code to a kind (the one place where codes are interpreted).
pub fn kind_of_code(code: ErrorCode, source: Source, time_left: Option<u64>) -> ErrorKind {
    use ErrorCode as C;
    match (code.class_in(source), code) {
        (_, C::MfaRequired) => ErrorKind::MfaRequired,
        (Class::Quota, _) => ErrorKind::Quota { time_left: time_left.map(Duration::from_secs) },
        (Class::Session, _) => ErrorKind::SessionExpired,
        (Class::Temporary, _) => ErrorKind::Temporary,
        (Class::RestartUpload, _) => ErrorKind::RestartUpload,
        (Class::Reload, _) => ErrorKind::Reload,
        (Class::NotFound, _) => ErrorKind::NotFound,
        (Class::Blocked, _) => ErrorKind::Blocked,
        (_, C::Access) => ErrorKind::Access,
        (_, C::Circular) => ErrorKind::Circular,
        (_, C::Exists) => ErrorKind::Exists,
        (_, C::Args | C::Range | C::Incomplete) => ErrorKind::BadInput,
        (_, C::Expired) => ErrorKind::Expired,
        (_, C::Key) => ErrorKind::Crypto,
        (_, C::Internal | C::Unknown(_)) => ErrorKind::Protocol,
        _ => ErrorKind::Failed,
    }
}

impl Error {
    /// The kind of error, stable for callers to branch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { code, time_left, context } => {
                let source = if context.starts_with("storage") { Source::Storage } else { Source::Api };
                kind_of_code(*code, source, *time_left)
            }
            Error::Status { status, time_left, .. } => match status {
                509 => ErrorKind::Quota { time_left: time_left.map(Duration::from_secs) },
                403 | 404 | 410 => ErrorKind::Expired,
                408 | 429 | 500..=599 => ErrorKind::Temporary,
                _ => ErrorKind::Protocol,
            },
            Error::Network { .. } | Error::TimedOut { .. } => ErrorKind::Network,
            Error::TooLarge { .. } => ErrorKind::Protocol,
            Error::BadCredentials => ErrorKind::BadCredentials,
            Error::MfaRequired => ErrorKind::MfaRequired,
            Error::Crypto(e) => match e.kind() {
                mega_proto::ErrorKind::InvalidInput | mega_proto::ErrorKind::KeyMissing => ErrorKind::BadInput,
                mega_proto::ErrorKind::Unsupported => ErrorKind::BadInput,
                _ => ErrorKind::Crypto,
            },
            Error::Mac | Error::KeyManager(_) | Error::NoShareKey { .. } => ErrorKind::Crypto,
            Error::Protocol { .. } => ErrorKind::Protocol,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::BadInput(_) => ErrorKind::BadInput,
            Error::Hashcash => ErrorKind::Temporary,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Request { kind, .. } => *kind,
        }
    }

    /// The same failure for another command of a failed shared request.
    pub(crate) fn shared(&self) -> Error {
        match self {
            Error::Api { context, code, time_left } => Error::Api { context, code: *code, time_left: *time_left },
            Error::Status { context, status, time_left } => {
                Error::Status { context, status: *status, time_left: *time_left }
            }
            Error::Protocol { context, what } => Error::Protocol { context, what },
            Error::TimedOut { context, attempts, waited } => {
                Error::TimedOut { context, attempts: *attempts, waited: *waited }
            }
            Error::TooLarge { context, limit } => Error::TooLarge { context, limit: *limit },
            Error::Hashcash => Error::Hashcash,
            Error::Cancelled => Error::Cancelled,
            Error::Network { context, .. } | Error::Request { context, .. } => {
                Error::Request { context, kind: self.kind(), message: self.to_string() }
            }
            other => Error::Request { context: "batch", kind: other.kind(), message: other.to_string() },
        }
    }

    /// Would the same operation, tried again later, likely succeed?
    pub fn is_temporary(&self) -> bool {
        self.kind().is_temporary()
    }

    /// The MEGA error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    pub(crate) fn api(context: &'static str, code: ErrorCode) -> Self {
        Error::Api { context, code, time_left: None }
    }

    pub(crate) fn protocol(context: &'static str, what: &'static str) -> Self {
        Error::Protocol { context, what }
    }

    pub(crate) fn network(context: &'static str, e: reqwest::Error) -> Self {
        Error::Network { context, source: e.without_url() }
    }

    /// The error a retry loop ends with once its attempts or its time are spent: a timeout
    /// says so, with the attempts and the time; anything else is returned as it is.
    pub(crate) fn gave_up(context: &'static str, last: Error, attempts: u32, waited: Duration) -> Self {
        match last {
            Error::Network { source, .. } if source.is_timeout() => Error::TimedOut { context, attempts, waited },
            Error::TimedOut { .. } => Error::TimedOut { context, attempts, waited },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryability_is_decided_on_the_kind() {
        for k in [ErrorKind::Network, ErrorKind::Temporary] {
            assert!(k.is_temporary() && k.is_retryable_later(), "{k:?}");
        }
        for k in [ErrorKind::Expired, ErrorKind::RestartUpload, ErrorKind::Reload, ErrorKind::Quota { time_left: None }]
        {
            assert!(!k.is_temporary() && k.is_retryable_later(), "{k:?}");
        }
        for k in [
            ErrorKind::BadCredentials,
            ErrorKind::SessionExpired,
            ErrorKind::Crypto,
            ErrorKind::NotFound,
            ErrorKind::Failed,
        ] {
            assert!(!k.is_temporary() && !k.is_retryable_later(), "{k:?}");
        }
        assert!(Error::api("x", ErrorCode::from_code(-3)).is_temporary());
    }

    #[test]
    fn codes_map_to_kinds() {
        let k = |c: i64| Error::api("x", ErrorCode::from_code(c)).kind();
        assert_eq!(k(-3), ErrorKind::Temporary);
        assert_eq!(k(-4), ErrorKind::Temporary);
        assert_eq!(k(-9), ErrorKind::NotFound);
        assert_eq!(k(-10), ErrorKind::Circular);
        assert_eq!(k(-11), ErrorKind::Access);
        assert_eq!(k(-12), ErrorKind::Exists);
        assert_eq!(k(-15), ErrorKind::SessionExpired);
        assert_eq!(k(-16), ErrorKind::Blocked);
        assert_eq!(k(-17), ErrorKind::Quota { time_left: None });
        assert_eq!(k(-26), ErrorKind::MfaRequired);
        assert_eq!(k(-2), ErrorKind::BadInput);
        assert_eq!(k(-999), ErrorKind::Protocol);
        let q = Error::Api { context: "g", code: ErrorCode::OverQuota, time_left: Some(30) };
        assert_eq!(q.kind(), ErrorKind::Quota { time_left: Some(Duration::from_secs(30)) });
        assert!(Error::api("x", ErrorCode::Again).is_temporary());
        assert!(!Error::api("x", ErrorCode::NotFound).is_temporary());
        let storage = Error::api("storage upload", ErrorCode::RateLimit);
        assert_eq!(storage.kind(), ErrorKind::RestartUpload);
        let s = Error::Status { context: "storage download", status: 509, time_left: Some(5) };
        assert_eq!(s.kind(), ErrorKind::Quota { time_left: Some(Duration::from_secs(5)) });
    }
}
