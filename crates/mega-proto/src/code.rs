//! MEGA's numeric error codes (spec §1.5), once, with their classification.

use std::fmt;

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $text:literal; )*) => {
        /// A MEGA API error code as the server (or, for a few, a client) reports it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant, )*
            /// A code not in the table; kept so nothing is lost.
            Unknown(i64),
        }

        impl ErrorCode {
            /// Maps a numeric code (negative, or 0 for success).
            pub fn from_code(code: i64) -> Self {
                match code {
                    $( $code => Self::$variant, )*
                    other => Self::Unknown(other),
                }
            }

            /// The numeric code.
            pub fn code(self) -> i64 {
                match self {
                    $( Self::$variant => $code, )*
                    Self::Unknown(c) => c,
                }
            }

            /// The SDK's symbolic name, e.g. `EAGAIN`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                    Self::Unknown(_) => "EUNKNOWN",
                }
            }

            /// A short human description.
            pub fn description(self) -> &'static str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Unknown(_) => "unknown error code",
                }
            }

            /// Every code in the table, in table order.
            pub const ALL: &'static [ErrorCode] = &[ $( Self::$variant, )* ];
        }
    };
}

codes! {
    /// 0: success.
    Ok = 0, "API_OK", "success";
    /// Internal server error.
    Internal = -1, "EINTERNAL", "internal error";
    /// Bad or missing arguments.
    Args = -2, "EARGS", "bad arguments";
    /// Temporary congestion: retry the same request with backoff.
    Again = -3, "EAGAIN", "temporary congestion, retry";
    /// Rate limited: back off and retry.
    RateLimit = -4, "ERATELIMIT", "too many requests, retry later";
    /// Failed permanently (for an upload: restart it).
    Failed = -5, "EFAILED", "failed permanently";
    /// Too many IPs or requests for the resource (on `sc`: the sequence number is too old).
    TooMany = -6, "ETOOMANY", "too many requests for this resource";
    /// Out of range (an upload chunk off a chunk boundary).
    Range = -7, "ERANGE", "out of range";
    /// The URL or resource expired.
    Expired = -8, "EEXPIRED", "expired";
    /// Not found; at login, a wrong e-mail or password.
    NotFound = -9, "ENOENT", "not found";
    /// Circular linkage (moving a folder into its own subtree).
    Circular = -10, "ECIRCULAR", "circular linkage";
    /// Access denied.
    Access = -11, "EACCESS", "access denied";
    /// Already exists.
    Exists = -12, "EEXIST", "already exists";
    /// Incomplete resource or request.
    Incomplete = -13, "EINCOMPLETE", "incomplete";
    /// Cryptographic error (on an upload chunk: the integrity check failed).
    Key = -14, "EKEY", "cryptographic error";
    /// Bad or expired session: log in again.
    Sid = -15, "ESID", "bad or expired session";
    /// Blocked, suspended or taken down.
    Blocked = -16, "EBLOCKED", "blocked";
    /// Storage or transfer quota exceeded.
    OverQuota = -17, "EOVERQUOTA", "quota exceeded";
    /// Temporarily unavailable.
    TempUnavail = -18, "ETEMPUNAVAIL", "temporarily unavailable";
    /// Too many connections to this resource.
    TooManyConnections = -19, "ETOOMANYCONNECTIONS", "too many connections";
    /// Client-local: a write failed.
    Write = -20, "EWRITE", "write failed";
    /// Client-local: a read failed.
    Read = -21, "EREAD", "read failed";
    /// Invalid or missing application key.
    AppKey = -22, "EAPPKEY", "invalid application key";
    /// Client-local: SSL verification failed.
    Ssl = -23, "ESSL", "SSL verification failed";
    /// Not enough quota for this operation.
    GoingOverQuota = -24, "EGOINGOVERQUOTA", "not enough quota";
    /// A strongly-grouped batch was rolled back.
    RolledBack = -25, "EROLLEDBACK", "request rolled back";
    /// A multi-factor code is required (or was wrong).
    MfaRequired = -26, "EMFAREQUIRED", "multi-factor code required";
    /// Business sub-user not allowed.
    MasterOnly = -27, "EMASTERONLY", "business master account only";
    /// Business account past due.
    BusinessPastDue = -28, "EBUSINESSPASTDUE", "business account expired";
    /// Over-disk-quota paywall.
    Paywall = -29, "EPAYWALL", "over-disk-quota paywall";
    /// Business sub-user key missing.
    SubUserKeyMissing = -30, "ESUBUSERKEYMISSING", "business sub-user key missing";
    /// Web-client-local: too many errors.
    TooErr = -400, "ETOOERR", "too many errors";
    /// The sharer is over quota.
    SharerOverQuota = -401, "ESHAREROVERQUOTA", "sharer over quota";
}

/// How a caller should treat an error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Success.
    Ok,
    /// Retrying the same request later may succeed (with backoff).
    Temporary,
    /// Quota: wait for it to free (transfer) or make room (storage).
    Quota,
    /// The session is gone: log in again.
    Session,
    /// The object does not exist (at login: wrong e-mail or password).
    NotFound,
    /// A multi-factor code is needed.
    MfaRequired,
    /// Blocked or taken down.
    Blocked,
    /// Storage server: this upload cannot go on at this URL; start it again.
    RestartUpload,
    /// Event channel: the sequence number is too old; fetch the tree again.
    Reload,
    /// Retrying the same request will not help.
    Permanent,
}

/// Who answered with the code: some codes mean something else from a storage server or on the
/// event channel (spec §1.5, §5.2, §6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The API (`cs`).
    Api,
    /// A storage server, answering an upload chunk.
    Storage,
    /// The event channel (`sc`).
    Events,
}

impl ErrorCode {
    /// The classification callers branch on, for a code from the API.
    pub fn class(self) -> Class {
        self.class_in(Source::Api)
    }

    /// The classification of a code from `source`.
    pub fn class_in(self, source: Source) -> Class {
        use ErrorCode::*;
        match (source, self) {
            (_, Ok) => Class::Ok,
            // A chunk that failed the integrity check is sent again.
            (Source::Storage, Key) => Class::Temporary,
            (Source::Storage, RateLimit | Failed | Expired) => Class::RestartUpload,
            (Source::Events, TooMany) => Class::Reload,
            (_, Again | RateLimit | TooMany | TempUnavail | TooManyConnections) => Class::Temporary,
            (_, OverQuota | GoingOverQuota | SharerOverQuota | Paywall) => Class::Quota,
            (_, Sid) => Class::Session,
            (_, NotFound) => Class::NotFound,
            (_, MfaRequired) => Class::MfaRequired,
            (_, Blocked) => Class::Blocked,
            _ => Class::Permanent,
        }
    }

    /// True when the same request may succeed if retried after a backoff.
    pub fn is_temporary(self) -> bool {
        self.class() == Class::Temporary
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.name(), self.code(), self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_classes() {
        for &c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), c);
        }
        assert_eq!(ErrorCode::from_code(-999), ErrorCode::Unknown(-999));
        assert!(ErrorCode::Again.is_temporary());
        assert!(!ErrorCode::NotFound.is_temporary());
        assert_eq!(ErrorCode::Sid.class(), Class::Session);
        assert_eq!(ErrorCode::OverQuota.class(), Class::Quota);
        assert_eq!(ErrorCode::Key.class_in(Source::Storage), Class::Temporary);
        assert_eq!(ErrorCode::RateLimit.class_in(Source::Storage), Class::RestartUpload);
        assert_eq!(ErrorCode::TooMany.class_in(Source::Events), Class::Reload);
        assert_eq!(ErrorCode::NotFound.class(), Class::NotFound);
    }
}
