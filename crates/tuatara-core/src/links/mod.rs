//! The links engine, for the CLI's `links get` and the app's links manager alike: every MEGA
//! link in a text ([`extract`]), made ready to open ([`mod@resolve`]: `#P!` links decrypted
//! together, a keyless link given its key), checked a few at once ([`check`]: alive with its
//! name and size, removed, blocked, bad, waiting for a key or a password, or done per the
//! [`Ledger`]), and downloaded through the transfer engine with each outcome recorded in the
//! one ledger ([`download`]). Links are re-checked over time ([`rot`]: removed, taken down,
//! changed, with a history in the ledger), and names that hide what a file is are flagged
//! ([`risky`]). A link's key is never logged nor put in a message; the ledger
//! keeps public handles only.

pub mod check;
pub mod download;
pub mod ledger;
pub mod resolve;
pub mod risky;
pub mod rot;

use std::path::Path;

use mega_proto::link::ParsedLink;

pub use check::{
    check_link, check_parsed, check_text, open_link, unlock, CheckOptions, Checked, LinkStatus, Opened, Progress,
};
pub use download::{download_checked, queue, queue_links, queue_nodes, settle, Queued};
pub use ledger::{Ledger, LedgerEntry, LedgerStatus};
pub use resolve::{resolve, resolve_parsed, Unresolved};
pub use rot::{all_alive, recheck, recheck_ledger, Health, LinkHealth, Recheck};

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

/// One exported file: its path in the drive and its link (with its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file's path.
    pub path: String,
    /// Its public link.
    pub link: String,
}

/// An export that stopped part-way: which file, after how many of how many.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {done} of {total} files were exported before this failed: {source}")]
pub struct ExportHalted {
    /// Why.
    #[source]
    pub source: mega_api::Error,
    /// The file it stopped at.
    pub path: String,
    /// Files exported before.
    pub done: usize,
    /// Files in all.
    pub total: usize,
}

/// Gives every file below `folder` a public link, in path order; `each` sees them as they
/// come, with how many there are in all (a face shows them at once). Files that have a link
/// keep it.
pub async fn export_files(
    session: &mega_api::Session,
    tree: &mut mega_api::Tree,
    folder: mega_api::NodeHandle,
    mut each: impl FnMut(&Exported, usize),
) -> Result<Vec<Exported>, ExportHalted> {
    let path = |tree: &mega_api::Tree, h| tree.path(h).unwrap_or_else(|| format!("<{h}>"));
    let mut files: Vec<(String, mega_api::NodeHandle)> = tree
        .subtree(folder)
        .into_iter()
        .filter(|h| tree.get(*h).is_some_and(|n| n.is_file()))
        .map(|h| (path(tree, h), h))
        .collect();
    files.sort();
    let total = files.len();
    let mut done = Vec::with_capacity(total);
    for (path, h) in files {
        match session.export(tree, h).await {
            Ok(link) => {
                let e = Exported { path, link: link.to_url() };
                each(&e, total);
                done.push(e);
            }
            Err(source) => return Err(ExportHalted { source, path, done: done.len(), total }),
        }
    }
    Ok(done)
}
