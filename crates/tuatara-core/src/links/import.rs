//! Reading a links file back: plain text (any text with links in it), or a csv/json export
//! with each file's metadata kept on its entry, and keyless links joined with a
//! [`KeyFile`] by public handle.

use mega_api::Client;
use mega_proto::link::ParsedLink;

use super::check::{check_parsed, CheckOptions, Checked, Progress};
use super::formats::{self, FileMeta};
use super::keys::KeyFile;
use super::resolve::Unresolved;

/// One link of a links file, ready to check.
#[derive(Debug, Clone)]
pub struct LinkEntry {
    /// The link (with the key the key file gave it, where it had none).
    pub link: ParsedLink,
    /// The link as the file has it, normalised: without a key the key file gave it (what a
    /// check reports, so a key given apart is not shown).
    pub listed: String,
    /// What the exporter said of its file (csv and json files).
    pub meta: Option<FileMeta>,
    /// Why the key file's key could not be given to it.
    pub key_problem: Option<Unresolved>,
}

/// Every link of a links file, de-duplicated in order: a csv or json export's rows with their
/// metadata, or the links found in plain text. With `keys`, a link without a key gets the key given for its public handle;
/// a key that does not fit is the entry's `key_problem`, a handle the file does not have
/// leaves the link without a key. A csv or json file that does not parse, or a row of it
/// that is not a link, is [`crate::Error::Invalid`].
pub fn read_list(text: &str, keys: Option<&KeyFile>) -> crate::Result<Vec<LinkEntry>> {
    let entries = match formats::parse(text)? {
        None => super::extract(text)
            .into_iter()
            .map(|link| LinkEntry { listed: link.to_url(), link, meta: None, key_problem: None })
            .collect(),
        Some(rows) => {
            let mut seen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(rows.len());
            for (i, row) in rows.into_iter().enumerate() {
                let link = mega_proto::link::parse(&row.link)
                    .map_err(|_| crate::Error::Invalid(format!("row {} of the links file: not a MEGA link", i + 1)))?;
                if seen.insert(link.to_url()) {
                    out.push(LinkEntry { listed: link.to_url(), link, meta: Some(row.meta), key_problem: None });
                }
            }
            out
        }
    };
    Ok(match keys {
        Some(keys) => entries.into_iter().map(|e| with_key(e, keys)).collect(),
        None => entries,
    })
}

/// The entry with its key from `keys`, where it has none.
fn with_key(mut e: LinkEntry, keys: &KeyFile) -> LinkEntry {
    if let ParsedLink::Plain(link) = &e.link {
        if link.key.is_none() {
            if let Some(key) = keys.get(link.handle) {
                match link.with_key(key) {
                    Ok(keyed) => e.link = ParsedLink::Plain(keyed),
                    Err(_) => e.key_problem = Some(Unresolved::KeyDoesNotFit),
                }
            }
        }
    }
    e
}

/// Checks a links file's entries as [`check_parsed`] does, each reported under its `listed`
/// URL; an entry with a `key_problem` is reported with it; an alive file compared with the
/// entry's metadata ([`super::integrity::compare`]: changed, where it differs). One result per
/// entry, in order.
pub async fn check_list(
    client: &Client,
    entries: &[LinkEntry],
    opts: CheckOptions<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Checked> {
    let parsed: Vec<ParsedLink> = entries.iter().map(|e| e.link.clone()).collect();
    let mut checked = check_parsed(client, &parsed, opts, progress).await;
    for (c, e) in checked.iter_mut().zip(entries) {
        c.url.clone_from(&e.listed);
        if let Some(why) = &e.key_problem {
            *c = Checked::unresolved(e.listed.clone(), c.kind, why);
        }
        super::integrity::compare(c, e.meta.as_ref());
    }
    checked
}
