//! The one error the UI sees: `{ kind, message, retryable }`, mapped once from the kinds of
//! `mega-api`, `mega-transfer` and the watch store. The UI branches on `kind`, never on
//! `message`; messages never carry a secret (the libraries strip sids and keys already).

use mega_api::ErrorKind;
use mega_transfer::TransferError;
use serde::Serialize;
use ts_rs::TS;

/// What went wrong, as the UI branches on it (docs/IPC.md, "Errors").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ErrorKind", export_to = "ErrorKind.ts")]
pub enum IpcErrorKind {
    /// Wrong password or 2FA code.
    Auth,
    /// A 2FA code is needed.
    MfaRequired,
    /// No session, or it expired: back to the login screen.
    NotSignedIn,
    /// No such node, link, job or watch.
    NotFound,
    /// Already exists.
    Exists,
    /// The link is malformed or its key does not fit.
    BadLink,
    /// The link is password-protected.
    NeedsPassword,
    /// Transfer or storage quota.
    Quota,
    /// The connection failed.
    Network,
    /// A local file could not be read or written.
    Io,
    /// A MAC mismatch or a wrong key.
    Crypto,
    /// A bad argument.
    Invalid,
    /// Anything else.
    Internal,
}

/// The rejection of every command.
#[derive(Debug, Clone, Serialize, TS, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[ts(export_to = "IpcError.ts")]
#[error("{message}")]
pub struct IpcError {
    /// What went wrong.
    pub kind: IpcErrorKind,
    /// One line for people (never parsed by the UI).
    pub message: String,
    /// Trying again later may work.
    pub retryable: bool,
}

/// The commands' result type.
pub type IpcResult<T> = Result<T, IpcError>;

impl IpcError {
    /// An error of a kind.
    pub fn new(kind: IpcErrorKind, message: impl Into<String>) -> Self {
        IpcError { kind, message: message.into(), retryable: false }
    }

    /// A bad argument.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Invalid, message)
    }

    /// Not signed in.
    pub fn not_signed_in() -> Self {
        Self::new(IpcErrorKind::NotSignedIn, "not signed in")
    }

    /// Something named does not exist.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::NotFound, message)
    }

    /// A failure of the app itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(IpcErrorKind::Internal, message)
    }
}

/// The IPC kind of a library error kind, and whether a retry may help (decided once, by
/// [`ErrorKind::is_retryable_later`]).
pub fn kind_of(kind: ErrorKind) -> (IpcErrorKind, bool) {
    let ipc = match kind {
        ErrorKind::Network
        | ErrorKind::Temporary
        | ErrorKind::Expired
        | ErrorKind::RestartUpload
        | ErrorKind::Reload => IpcErrorKind::Network,
        ErrorKind::BadCredentials => IpcErrorKind::Auth,
        ErrorKind::MfaRequired => IpcErrorKind::MfaRequired,
        ErrorKind::SessionExpired => IpcErrorKind::NotSignedIn,
        ErrorKind::Quota { .. } => IpcErrorKind::Quota,
        ErrorKind::NotFound => IpcErrorKind::NotFound,
        ErrorKind::Crypto => IpcErrorKind::Crypto,
        ErrorKind::BadInput | ErrorKind::Circular | ErrorKind::Access => IpcErrorKind::Invalid,
        ErrorKind::Exists => IpcErrorKind::Exists,
        ErrorKind::Blocked => IpcErrorKind::BadLink,
        _ => IpcErrorKind::Internal,
    };
    (ipc, kind.is_retryable_later())
}

impl From<mega_api::Error> for IpcError {
    fn from(e: mega_api::Error) -> Self {
        let (kind, retryable) = kind_of(e.kind());
        IpcError { kind, message: e.to_string(), retryable }
    }
}

impl From<TransferError> for IpcError {
    fn from(e: TransferError) -> Self {
        match &e {
            TransferError::Api(_) | TransferError::GaveUp { .. } | TransferError::QuotaTooLong { .. } => {
                let (kind, retryable) = kind_of(e.kind());
                IpcError { kind, message: e.to_string(), retryable }
            }
            TransferError::NotSignedIn => IpcError::not_signed_in(),
            // The journal is a local file: what it lacks is said, with what to do about it,
            // and never sends the user to the login screen.
            TransferError::Local { .. } | TransferError::Journal(_) | TransferError::JournalDamaged(_) => {
                IpcError::new(IpcErrorKind::Io, e.to_string())
            }
            _ => IpcError::internal(e.to_string()),
        }
    }
}

impl From<mega_transfer::watch::WatchError> for IpcError {
    fn from(e: mega_transfer::watch::WatchError) -> Self {
        use mega_transfer::watch::WatchError;
        let kind = match &e {
            WatchError::Transfer(_) => None,
            WatchError::NoSuchWatch(_) => Some(IpcErrorKind::NotFound),
            WatchError::AlreadyWatched(_) => Some(IpcErrorKind::Exists),
            WatchError::Io { .. } | WatchError::Notify { .. } => Some(IpcErrorKind::Io),
            _ => Some(IpcErrorKind::Internal),
        };
        match (e, kind) {
            (WatchError::Transfer(t), _) => t.into(),
            (other, kind) => IpcError::new(kind.unwrap_or(IpcErrorKind::Internal), other.to_string()),
        }
    }
}

impl From<tuatara_core::Error> for IpcError {
    fn from(e: tuatara_core::Error) -> Self {
        use tuatara_core::Error as E;
        match e {
            E::Api(e) => e.into(),
            E::Transfer(t) => t.into(),
            E::Watch(w) => w.into(),
            E::NotLoggedIn { .. } => IpcError::not_signed_in(),
            E::Invalid(m) => IpcError::invalid(m),
            E::NotFound(m) => IpcError::not_found(m),
            e @ (E::Io { .. } | E::Damaged { .. }) => IpcError::new(IpcErrorKind::Io, e.to_string()),
            other => IpcError::internal(other.to_string()),
        }
    }
}

impl From<std::io::Error> for IpcError {
    fn from(e: std::io::Error) -> Self {
        IpcError::new(IpcErrorKind::Io, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_serialise_in_camel_case() {
        let e = IpcError::new(IpcErrorKind::NotSignedIn, "x");
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v, serde_json::json!({"kind": "notSignedIn", "message": "x", "retryable": false}));
        assert_eq!(kind_of(ErrorKind::Quota { time_left: None }), (IpcErrorKind::Quota, true));
        assert_eq!(kind_of(ErrorKind::BadCredentials).0, IpcErrorKind::Auth);
    }

    /// A damaged journal entry used to reach the UI as `notSignedIn` (and the login screen); it
    /// is an `io` error saying what to do, and only a missing session is `notSignedIn`.
    #[test]
    fn a_damaged_journal_is_not_a_sign_in_problem() {
        let damaged = IpcError::from(TransferError::JournalDamaged("its node handle".into()));
        assert_eq!(damaged.kind, IpcErrorKind::Io);
        assert!(damaged.message.contains("journal") && damaged.message.contains("queue the file again"));
        assert_eq!(IpcError::from(TransferError::NotSignedIn).kind, IpcErrorKind::NotSignedIn);
        let other = IpcError::from(TransferError::Unavailable("the folder link is empty".into()));
        assert_eq!((other.kind, other.message.as_str()), (IpcErrorKind::Internal, "the folder link is empty"));
    }
}
