//! The links engine, for the CLI's `links get` and the app's links manager alike: every MEGA
//! link in a text ([`extract`]), made ready to open ([`resolve`]: `#P!` links decrypted
//! together, a keyless link given its key), checked a few at once ([`check`]: alive with its
//! name and size, removed, blocked, bad, waiting for a key or a password, or done per the
//! [`Ledger`]), and downloaded through the transfer engine with each outcome recorded in the
//! one ledger ([`download`]). A link's key is never logged nor put in a message; the ledger
//! keeps public handles only.

pub mod check;
pub mod download;
pub mod ledger;
pub mod resolve;

use std::path::Path;

use mega_proto::link::ParsedLink;

pub use check::{
    check_link, check_parsed, check_text, open_link, unlock, CheckOptions, Checked, LinkStatus, Opened, Progress,
};
pub use download::{download_checked, queue, queue_links, settle, Queued};
pub use ledger::{Ledger, LedgerEntry, LedgerStatus};
pub use resolve::{resolve, resolve_parsed, Unresolved};

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
