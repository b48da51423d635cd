//! The CLI's failures and their exit codes: one place where `mega-api` error kinds become the
//! codes scripts branch on.

use mega_api::ErrorKind;

/// Exit codes, documented in `--help` and the crate docs.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  other failure
  2  usage error (bad arguments)
  3  not found (unknown path, nothing at that place)
  4  ambiguous (several nodes have that name: see `dedupe`)
  5  bad credentials (wrong e-mail or password, wrong or missing two-factor code)
  6  bad link (malformed, without its key, wrong #P! password, removed or blocked)
  7  not logged in, or the session expired (run `tuatara-cli login`)
  8  over quota (storage or transfer)
  9  network failure or the service stayed busy";

/// A failure of a command, with the message printed on stderr and the exit code.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// Exit 1.
    #[error("{0}")]
    Other(String),
    /// Exit 2.
    #[error("{0}")]
    Usage(String),
    /// Exit 3.
    #[error("{0}")]
    NotFound(String),
    /// Exit 4.
    #[error("{0}")]
    Ambiguous(String),
    /// Exit 5.
    #[error("{0}")]
    Credentials(String),
    /// Exit 6.
    #[error("{0}")]
    BadLink(String),
    /// Exit 7.
    #[error("{0}")]
    NotLoggedIn(String),
    /// Exit 8.
    #[error("{0}")]
    Quota(String),
    /// Exit 9.
    #[error("{0}")]
    Network(String),
}

/// The CLI's result type.
pub(crate) type Result<T, E = Failure> = std::result::Result<T, E>;

impl Failure {
    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Other(_) => 1,
            Failure::Usage(_) => 2,
            Failure::NotFound(_) => 3,
            Failure::Ambiguous(_) => 4,
            Failure::Credentials(_) => 5,
            Failure::BadLink(_) => 6,
            Failure::NotLoggedIn(_) => 7,
            Failure::Quota(_) => 8,
            Failure::Network(_) => 9,
        }
    }

    /// The same failure with more said before it (what was being done, what is half-done).
    pub(crate) fn context(self, what: impl std::fmt::Display) -> Self {
        let wrap = |m: String| format!("{what}: {m}");
        match self {
            Failure::Other(m) => Failure::Other(wrap(m)),
            Failure::Usage(m) => Failure::Usage(wrap(m)),
            Failure::NotFound(m) => Failure::NotFound(wrap(m)),
            Failure::Ambiguous(m) => Failure::Ambiguous(wrap(m)),
            Failure::Credentials(m) => Failure::Credentials(wrap(m)),
            Failure::BadLink(m) => Failure::BadLink(wrap(m)),
            Failure::NotLoggedIn(m) => Failure::NotLoggedIn(wrap(m)),
            Failure::Quota(m) => Failure::Quota(wrap(m)),
            Failure::Network(m) => Failure::Network(wrap(m)),
        }
    }

    /// A `mega-api` error met while working with a public link: not-found, blocked, key and
    /// input errors are the link's fault (exit 6).
    pub(crate) fn from_link(e: mega_api::Error) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Failure::BadLink("the link was removed or does not exist".into()),
            ErrorKind::Blocked => Failure::BadLink("the link was taken down (blocked)".into()),
            ErrorKind::Crypto => Failure::BadLink(format!("the link's key or password does not fit ({e})")),
            ErrorKind::BadInput => Failure::BadLink(format!("bad link: {e}")),
            ErrorKind::Expired => Failure::BadLink("the link expired".into()),
            _ => Failure::from(e),
        }
    }
}

impl From<mega_api::Error> for Failure {
    fn from(e: mega_api::Error) -> Self {
        match e.kind() {
            ErrorKind::NotFound => Failure::NotFound(e.to_string()),
            ErrorKind::BadCredentials => Failure::Credentials("wrong e-mail or password".into()),
            ErrorKind::MfaRequired => Failure::Credentials("wrong or missing two-factor code".into()),
            ErrorKind::SessionExpired => {
                Failure::NotLoggedIn("the session expired or was logged out: run `tuatara-cli login`".into())
            }
            ErrorKind::Quota { time_left: Some(t) } => {
                Failure::Quota(format!("over quota ({e}); transfer quota frees in {}", crate::output::duration(t)))
            }
            ErrorKind::Quota { .. } => Failure::Quota(format!("over quota ({e})")),
            ErrorKind::Network | ErrorKind::Temporary => Failure::Network(e.to_string()),
            ErrorKind::Blocked => Failure::Other(format!("blocked: {e}")),
            ErrorKind::Circular => Failure::Other("a folder cannot be moved into itself".into()),
            ErrorKind::Exists => Failure::Other(format!("already exists ({e})")),
            ErrorKind::Access => Failure::Other(format!("access denied ({e})")),
            _ => Failure::Other(e.to_string()),
        }
    }
}

impl From<tuatara_core::Error> for Failure {
    fn from(e: tuatara_core::Error) -> Self {
        use mega_transfer::watch::WatchError;
        use tuatara_core::Error as Core;
        match e {
            Core::Api(e) => Failure::from(e),
            Core::Transfer(e) | Core::Watch(WatchError::Transfer(e)) => Failure::from(e),
            e @ Core::NotLoggedIn { .. } => Failure::NotLoggedIn(format!("{e}: run `tuatara-cli login`")),
            Core::Watch(WatchError::NoSuchWatch(id)) => {
                Failure::NotFound(format!("no watch {id} (see `tuatara-cli watch list`)"))
            }
            Core::Watch(WatchError::Busy { id, pid }) => Failure::Other(format!(
                "watch {id} is already running{}; a watch runs in one place at a time",
                pid.map(|p| format!(" in process {p}")).unwrap_or_default()
            )),
            Core::BadLink(m) => Failure::BadLink(m),
            Core::NotFound(m) => Failure::NotFound(m),
            Core::Invalid(m) => Failure::Usage(m),
            e @ Core::Io { .. } => Failure::Other(format!("I/O error: {e}")),
            other => Failure::Other(other.to_string()),
        }
    }
}

impl From<mega_transfer::TransferError> for Failure {
    fn from(e: mega_transfer::TransferError) -> Self {
        use mega_transfer::TransferError;
        match e {
            TransferError::Api(e) => Failure::from(e),
            e @ TransferError::NotSignedIn => Failure::NotLoggedIn(e.to_string()),
            other => Failure::Other(other.to_string()),
        }
    }
}

impl Failure {
    /// The failure of a transfer job that ended with an error of `kind`, said as `msg`. Unlike
    /// a command's error, a blocked file met in a transfer is the link's (or file's) problem.
    pub(crate) fn of_job(kind: ErrorKind, msg: String) -> Failure {
        match kind {
            ErrorKind::NotFound => Failure::NotFound(msg),
            ErrorKind::SessionExpired => Failure::NotLoggedIn(msg),
            ErrorKind::Quota { .. } => Failure::Quota(msg),
            ErrorKind::Network | ErrorKind::Temporary => Failure::Network(msg),
            ErrorKind::Blocked => Failure::BadLink(msg),
            _ => Failure::Other(msg),
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Other(format!("I/O error: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mega_proto::ErrorCode;

    #[test]
    fn kinds_map_to_distinct_codes() {
        let code = |e: mega_api::Error| Failure::from(e).exit_code();
        assert_eq!(code(mega_api::Error::NotFound("x".into())), 3);
        assert_eq!(code(mega_api::Error::BadCredentials), 5);
        assert_eq!(code(mega_api::Error::MfaRequired), 5);
        let api = |c: ErrorCode| mega_api::Error::Api { context: "f", code: c, time_left: None };
        assert_eq!(code(api(ErrorCode::from_code(-15))), 7);
        assert_eq!(code(api(ErrorCode::from_code(-17))), 8);
        assert_eq!(code(api(ErrorCode::from_code(-3))), 9);
        assert_eq!(code(api(ErrorCode::from_code(-12))), 1);
        assert_eq!(Failure::from_link(api(ErrorCode::from_code(-9))).exit_code(), 6);
        assert_eq!(Failure::from_link(api(ErrorCode::from_code(-16))).exit_code(), 6);
        assert_eq!(Failure::from_link(mega_api::Error::BadInput("no key".into())).exit_code(), 6);
        // Outside a link, a blocked resource is not a link problem.
        assert_eq!(code(api(ErrorCode::from_code(-16))), 1);
        let f = Failure::Ambiguous("two".into()).context("rm /a");
        assert_eq!((f.exit_code(), f.to_string().as_str()), (4, "rm /a: two"));
    }

    #[test]
    fn every_code_is_documented() {
        for c in 0..=9 {
            assert!(EXIT_CODES.contains(&format!("  {c}  ")), "{c}");
        }
    }
}
