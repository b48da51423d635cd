//! `mega-proto`: the I/O-free half of MEGA's client protocol.
//!
//! Everything here is synchronous and pure: no network, no filesystem, no async runtime. It turns
//! passwords into keys, keys into session ids, node key fields into keys, attributes into JSON,
//! plaintext into ciphertext with the chunk MACs MEGA checks, and the many forms of public links
//! into one typed value. The wire conversation (`mega-api`), the transfer queue
//! (`mega-transfer`) and the test server (`mega-testserver`) all stand on it, so the server and
//! the client share the cryptography but not each other's protocol logic.
//!
//! Section numbers (§) refer to `shared/protocol/MEGA-PROTOCOL.md`; every rule here is checked
//! by the known-answer vectors in `shared/protocol/vectors.json`.
//!
//! Design choices:
//! * **Secrets cannot be printed.** Key types zeroize on drop and print as `<redacted>`.
//! * **Bad input is a typed [`Error`], never a panic**; every parser is fuzzed.
//! * **MACs are computed the SDK's way** (§4.4), not megajs's: a 0-byte file has no chunks.
//! * **MACs of several chunks run interleaved** ([`content::ChunkBatch`]): a CBC-MAC is a chain
//!   of dependent AES calls, so one chunk keeps one AES unit busy a tenth of the time; eight
//!   chunks side by side fill the pipeline. This is what lets verification keep up with CTR.
//! * Randomness is always passed in (`rand_core` RNGs), so every output is reproducible in tests.
//!
//! * **The key manager's `^!keys`** ([`keymgr`]) is read and rewritten record by record, so
//!   records this crate does not know survive a rewrite byte for byte.
//!
//! Out of scope here: the `v=3` sequence tags, CloudRAID.

pub mod attr;
pub mod b64;
pub mod chunks;
pub mod code;
pub mod content;
pub mod extract;
pub mod fingerprint;
pub mod handle;
pub mod hashcash;
pub mod keymgr;
pub mod keys;
pub mod link;
pub mod login;
pub mod protected;
pub mod rsa;
pub mod storage;

pub use code::{Class, ErrorCode, Source};
pub use handle::{NodeHandle, UserHandle};
pub use keys::{FileKey, Key128, NodeKey};
pub use link::{Link, LinkKind, SubNode};

/// What went wrong, by the kind a caller branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Malformed input: bad base64, a wrong length, a corrupt structure.
    InvalidInput,
    /// The key does not fit the data (attributes do not decrypt, a MAC or check fails).
    WrongKey,
    /// The key of a link is missing: ask the user for it.
    KeyMissing,
    /// The password of a `#P!` link is wrong (or the link is corrupt).
    WrongPassword,
    /// Well-formed but not supported (an unknown algorithm, a collection link).
    Unsupported,
}

/// The crate's error type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A value is not valid b64.
    #[error("{what}: not valid base64")]
    Base64 {
        /// What was being decoded.
        what: &'static str,
    },
    /// A value has the wrong length.
    #[error("{what}: expected {expected} bytes, got {got}")]
    Length {
        /// What was being decoded.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// A structure is malformed.
    #[error("{what}: {why}")]
    Malformed {
        /// What was being parsed.
        what: &'static str,
        /// Why it was rejected.
        why: &'static str,
    },
    /// The key does not decrypt the data, or a check derived from the key fails.
    #[error("{what}: wrong key or corrupt data")]
    WrongKey {
        /// What failed to decrypt or verify.
        what: &'static str,
    },
    /// A link has no key.
    #[error("the link has no key")]
    KeyMissing,
    /// A `#P!` link's MAC does not match: a wrong password or a corrupt link.
    #[error("wrong password (or the protected link is corrupt)")]
    WrongPassword,
    /// Not a MEGA link at all.
    #[error("not a MEGA link")]
    NotALink,
    /// Valid but unsupported input.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

impl Error {
    /// The kind of error, stable for callers to branch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Base64 { .. } | Error::Length { .. } | Error::Malformed { .. } | Error::NotALink => {
                ErrorKind::InvalidInput
            }
            Error::WrongKey { .. } => ErrorKind::WrongKey,
            Error::KeyMissing => ErrorKind::KeyMissing,
            Error::WrongPassword => ErrorKind::WrongPassword,
            Error::Unsupported(_) => ErrorKind::Unsupported,
        }
    }

    /// Pure functions never fail for a reason that a retry would fix.
    pub fn is_temporary(&self) -> bool {
        false
    }

    pub(crate) fn malformed(what: &'static str, why: &'static str) -> Self {
        Error::Malformed { what, why }
    }
}
