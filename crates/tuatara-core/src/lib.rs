//! Tuatara's application core: everything the CLI (`tuatara-cli`) and the desktop app
//! (`src-tauri`) both need above `mega-api` and `mega-transfer`, written once. No terminal and
//! no Tauri code lives here: the faces parse, present, and make one call into this crate.
//!
//! - [`cache`]: the encrypted node cache: a start reads the tree back and catches up from its `sn`;
//! - [`changes`]: the event channel applied to the tree, naming the folders that changed;
//! - [`dedupe`]: duplicate names resolved (renamed apart, or one kept and folders merged);
//! - [`diagnostics`]: a report for bug reports (versions, settings, transfers, watches, log), redacted;
//! - [`dirs`]: where things live (config and data directories, overridable for tests);
//! - [`files`]: atomic writes of small files (settings, account list, ledgers);
//! - [`links`]: the links engine (extract, resolve, check in batches, download) and the one
//!   links ledger;
//! - [`serve`]: streaming: `cat` of any byte range, and the local HTTP stream server (token,
//!   loopback, `Host` checked; `Range`, `HEAD`, `ETag`; folder indexes);
//! - [`settings`]: the app's settings, validated, and the speed schedule handed to the engine;
//! - [`thumbnails`]: thumbnails and previews through `mega-api`, cached by attribute handle;
//! - [`vault`]: the saved session (OS keyring, or a 0600 file where allowed) and the account list;
//! - [`watches`]: watched folders and links files: adding, listing, pausing, removing, running;
//! - [`error`]: the core's error, which each face maps once to its exit codes or IPC kinds.

pub mod cache;
pub mod changes;
pub mod dedupe;
pub mod diagnostics;
pub mod dirs;
pub mod error;
pub mod files;
pub mod links;
pub mod serve;
pub mod settings;
pub mod thumbnails;
pub mod vault;
pub mod watches;

pub use dirs::Dirs;

/// A node's path as people read it (`/dir/file`, `//bin/...`), or `<handle>` for a node the
/// tree cannot place: what reports and errors name a node by.
pub fn path_of(tree: &mega_api::Tree, h: mega_api::NodeHandle) -> String {
    tree.path(h).unwrap_or_else(|| format!("<{h}>"))
}
pub use error::{Error, Result};
pub use watches::Watches;
