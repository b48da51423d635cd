//! Tuatara's application core: everything the CLI (`tuatara-cli`) and the desktop app
//! (`src-tauri`) both need above `mega-api` and `mega-transfer`, written once. No terminal and
//! no Tauri code lives here: the faces parse, present, and make one call into this crate.
//!
//! - [`dirs`]: where things live (config and data directories, overridable for tests);
//! - [`files`]: atomic writes of small files (settings, account list, ledgers);
//! - [`error`]: the core's error, which each face maps once to its exit codes or IPC kinds;
//! - [`watches`]: watched folders and links files: adding, listing, pausing, removing, running.

pub mod dirs;
pub mod error;
pub mod files;
pub mod watches;

pub use dirs::Dirs;
pub use error::{Error, Result};
pub use watches::Watches;
