//! `mega-api`: the async MEGA protocol client.
//!
//! Everything that talks to the API servers and the storage hosts lives here, on top of
//! `mega-proto`'s pure cryptography: batched requests with MEGA's `id` rule, retries with
//! backoff, the hashcash round-trip, login (v1 and v2 accounts, two-factor codes), saved
//! sessions, the decrypted node tree kept current by action packets, node operations, public
//! links, and the chunk-level transfer primitives the transfer engine builds on.
//!
//! ```no_run
//! # async fn demo() -> mega_api::Result<()> {
//! let client = mega_api::Client::builder().api_url("http://127.0.0.1:4000/").build()?;
//! let session = client.login("alice@example.com", "secret").await?.session()?;
//! let mut tree = session.fetch_tree().await?;
//! let docs = session.mkdir_p(&mut tree, "/Documents/2024").await?;
//! session.upload_bytes(&mut tree, docs, "notes.txt", b"hello", 1_700_000_000).await?;
//! println!("{:?}", tree.path(docs));
//! # Ok(()) }
//! ```
//!
//! Design choices:
//! * **One shape for errors.** [`Error`] has a stable [`Error::kind`] and
//!   [`Error::is_temporary`]; MEGA's codes are mapped to kinds in one place.
//! * **Retries are data.** [`RetryPolicy`] (attempts, base and maximum delay; exponential with
//!   jitter) governs API requests, event polls and storage requests alike. A re-sent request
//!   keeps its `id`, so the server can replay instead of repeating a change.
//! * **Nothing waits for ever, nothing reads without end.** A command gets the request timeout
//!   (60 s) in all, its retries included; a connection that brings no byte for the idle timeout
//!   (30 s) fails; the `f` reply streams as long as it moves (16 KiB per idle period). Replies
//!   are read up to a limit of their kind (16 MiB plus four times the request for commands,
//!   128 MiB for events) and refused past it as [`Error::TooLarge`].
//! * **Secrets cannot be printed.** Sids, master and node keys, link keys and passwords are in
//!   zeroizing types with redacted `Debug`; URLs carrying a sid never reach logs or errors.
//! * **The tree is compact and streamed.** The `f` reply is parsed node by node as it arrives;
//!   a million nodes fit in a few hundred megabytes. Undecryptable nodes are kept and marked.
//! * **Operations apply their own result.** Each node operation updates the tree as soon as the
//!   server accepts it; the action packets that follow are idempotent on it.
//! * **Share keys as today's official apps keep them.** A session's tree comes with the
//!   account's key manager attribute `^!keys` (spec §6.10), read in the same request as `f`:
//!   its share keys open incoming shares and give the keys of folders shared or exported
//!   elsewhere (whose `ok` is a dummy); a folder link made here has its key written into it
//!   (version-checked, merged on conflict), and [`Session::apply_batch`] follows it when it
//!   changes. An existing share is never re-keyed: without its key, [`Session::export`] is an
//!   error ([`Error::NoShareKey`], or [`Error::KeyManager`] when `^!keys` cannot be read) and
//!   changes nothing. A missing `^!keys` is fine and an unreadable one never blocks the drive.
//!
//! Not here: the transfer queue (parallel chunks, journal, resume: `mega-transfer`), file
//! attributes (thumbnails) beyond keeping their strings, contact shares other than incoming
//! share roots, and the `v=3` sequence tags.

mod batch;
mod client;
mod config;
mod error;
mod events;
mod links;
mod ops;
mod session;
mod transfer;
pub mod tree;

pub use client::Client;
pub use config::{ClientBuilder, RetryPolicy, API_URL_ENV, DEFAULT_API_URL};
pub use error::{kind_of_code, Error, ErrorKind, Result};
pub use events::{EventBatch, Events};
pub use links::{
    decrypt_protected_links, open_parsed_links, protect_link, resolve_link, resolve_links, FolderLink, PublicFile,
    FILE_LINKS_PER_REQUEST,
};
pub use session::{Account, Login, PendingMfa, Quota, SavedSession, Session};
pub use transfer::{
    chunk_span, verify_meta_mac, ChunkAck, ChunkStream, Chunks, DownloadUrl, FileAttribute, UploadCipher,
};
pub use tree::{ActionPacket, Change, Node, NodeKind, Page, Roots, Tree};

pub use mega_proto::attr::Attributes;
pub use mega_proto::fingerprint::Fingerprint;
pub use mega_proto::link::{Link, LinkKind};
pub use mega_proto::{ErrorCode, FileKey, NodeHandle, NodeKey, UserHandle};
