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

/// The arguments of a launch that hold MEGA links (`mega:...` as a browser or `xdg-open`
/// passes it, `https://mega.nz/...`), as given and in order; the program name (the first) is
/// skipped and so is every other argument.
pub fn links_in_args<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> Vec<String> {
    args.into_iter().skip(1).map(|a| a.as_ref().to_string()).filter(|a| !extract(a).is_empty()).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_launch_s_links_are_found_in_its_arguments() {
        let key = "A".repeat(43);
        let file = format!("https://mega.nz/file/AbCdEfGh#{key}");
        let scheme = format!("mega://file/AbCdEfGh#{key}");
        let legacy = format!("mega://#!AbCdEfGh!{key}");
        let args = ["/usr/bin/tuatara", "--autostart", scheme.as_str(), "notes.txt", file.as_str(), legacy.as_str()];
        assert_eq!(links_in_args(args), [scheme.clone(), file.clone(), legacy]);
        assert_eq!(extract(&scheme)[0].to_url(), file, "mega: opens as the https link");
        // The program name is never taken for a link, and a launch without links has none.
        assert!(links_in_args([file.as_str()]).is_empty());
        assert!(links_in_args(["tuatara", "--autostart"]).is_empty());
    }
}
