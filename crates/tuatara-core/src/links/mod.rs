//! The links engine, for the CLI's `links get` and the app's links manager alike: every MEGA
//! link in a text ([`extract`]), made ready to open ([`mod@resolve`]: `#P!` links decrypted
//! together, a keyless link given its key), checked a few at once ([`check`]: alive with its
//! name and size, removed, blocked, bad, waiting for a key or a password, or done per the
//! [`Ledger`]), and downloaded through the transfer engine with each outcome recorded in the
//! one ledger ([`download`]); folders exported as links files with metadata and keys apart
//! ([`mod@export`], [`formats`], [`keys`]) and read back ([`import`]). Links are re-checked over
//! time ([`rot`]: removed, taken down, changed, with a history in the ledger), a links file's
//! metadata is compared before and after download ([`integrity`]), and names that
//! hide what a file is are flagged ([`risky`]). What this account has exported is listed from its
//! tree with each link's status ([`shared`]). A link's key is never logged nor put in a
//! message; the ledger keeps public handles only.

pub mod check;
pub mod download;
pub mod export;
pub mod formats;
pub mod import;
pub mod integrity;
pub mod keys;
pub mod ledger;
pub mod resolve;
pub mod risky;
pub mod rot;
pub mod shared;

use std::path::Path;

pub use mega_proto::link::ParsedLink;

pub use check::{
    check_link, check_parsed, check_text, open_link, unlock, CheckOptions, Checked, LinkStatus, Opened, Progress,
};
pub use download::{download_checked, queue, queue_links, queue_nodes, settle, Queued};
pub use export::{export_files, export_list, ExportHalted, ExportList, ExportOptions, Exported, Keys};
pub use formats::{FileMeta, ListEntry, ListFormat};
pub use import::{check_list, read_list, LinkEntry};
pub use integrity::{allow_changed, Change};
pub use keys::KeyFile;
pub use ledger::{Ledger, LedgerEntry, LedgerStatus};
pub use resolve::{resolve, resolve_parsed, Unresolved};
pub use rot::{
    all_alive, link_of_id, recheck, recheck_due, recheck_ledger, recheck_list, recheck_periodically, Health,
    LinkHealth, Recheck,
};
pub use shared::{check_shared, shared_links, SharedLink};

/// Every MEGA link in a text (a links file, a forum post, a web page), normalised and
/// de-duplicated, in the order they appear; keys given apart next to a link are picked up.
pub fn extract(text: &str) -> Vec<ParsedLink> {
    mega_proto::extract::extract_links(text)
}

/// Writes a list of links to a file, one a line, atomically and readable by its owner only
/// (the links carry their keys).
pub fn save_list(path: &Path, links: &[String]) -> crate::Result<()> {
    let mut body = links.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    crate::files::write_atomic(path, body.as_bytes()).map_err(|e| crate::Error::io(path, e))
}
