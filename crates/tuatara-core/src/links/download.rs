//! Downloading links through the transfer engine, each outcome recorded in the ledger.

use std::path::Path;

use mega_api::{Client, Link};
use mega_transfer::{Conflict, Engine, JobId, Outcome, TransferError};

use super::check::{open_link, Checked, LinkStatus, Opened};
use super::ledger::{Ledger, LedgerEntry, LedgerStatus};
use crate::error::{Error, Result};

/// Queues a link's download into `dir`: a file, or every file of a folder (its folders made
/// as they are). A name already taken there gets a new one (`NAME (1)`); an identical file is
/// skipped.
pub async fn queue(engine: &Engine, link: &Link, dir: &Path) -> Result<Vec<JobId>, TransferError> {
    engine.download_link(link, dir, Conflict::Rename).await
}

/// Waits for one link's jobs and records in the ledger how the link ended: done when every
/// file is done (or was there already), else failed, with what failed.
pub async fn settle(
    engine: &Engine,
    ledger: &mut Ledger,
    link: &Link,
    name: &str,
    size: u64,
    ids: &[JobId],
) -> Result<LedgerEntry> {
    settle_verified(engine, ledger, link, name, size, ids, None).await
}

/// [`settle`], each downloaded file verified against the `fingerprint` it must have
/// ([`super::integrity::verify_file`]); one that does not match fails the link. A file the
/// engine skipped as identical was compared with the link's fingerprint by the engine.
async fn settle_verified(
    engine: &Engine,
    ledger: &mut Ledger,
    link: &Link,
    name: &str,
    size: u64,
    ids: &[JobId],
    fingerprint: Option<&str>,
) -> Result<LedgerEntry> {
    let mut bad = Vec::new();
    for id in ids {
        let what = match engine.wait(id).await {
            None | Some(Outcome::Skipped) => continue,
            Some(Outcome::Done { path, .. }) => match (fingerprint, path) {
                (Some(fp), Some(path)) => match super::integrity::verify_file(&path, fp) {
                    Ok(()) => continue,
                    Err(why) => why,
                },
                _ => continue,
            },
            Some(Outcome::Cancelled) => "cancelled".to_string(),
            Some(Outcome::Failed { message, .. }) => message,
        };
        let file = engine.job(id).map(|j| j.name).unwrap_or_else(|| id.clone());
        bad.push(format!("{file}: {what}"));
    }
    let entry = LedgerEntry {
        status: if bad.is_empty() { LedgerStatus::Done } else { LedgerStatus::Failed },
        name: name.to_string(),
        size,
        error: (!bad.is_empty()).then(|| bad.join("; ")),
    };
    ledger.record(link, entry.clone())?;
    Ok(entry)
}

/// Downloads every alive link of `checked` into `dir`, one link after another (a link's files
/// in parallel, as the engine runs them), recording each in the ledger. Each alive link becomes
/// [`LinkStatus::Done`] or [`LinkStatus::Failed`] (one the server refuses now too: removed
/// since the check, say; or a file whose fingerprint is not the one its links file gives,
/// [`super::integrity::expected_fingerprint`]). Returns how many failed. An error of the engine itself (its journal)
/// ends it.
pub async fn download_checked(
    engine: &Engine,
    ledger: &mut Ledger,
    checked: &mut [Checked],
    dir: &Path,
) -> Result<usize> {
    let mut failed = 0;
    for c in checked.iter_mut().filter(|c| c.status == LinkStatus::Alive) {
        let Some(link) = c.link.clone() else { continue };
        let (name, size) = (c.name.clone().unwrap_or_default(), c.size.unwrap_or(0));
        let fingerprint = super::integrity::expected_fingerprint(c).map(str::to_string);
        let entry = match queue(engine, &link, dir).await {
            Ok(ids) => settle_verified(engine, ledger, &link, &name, size, &ids, fingerprint.as_deref()).await?,
            Err(TransferError::Api(e)) => {
                let failure = Checked::failed_to_open(c.url.clone(), c.kind, &e.into());
                let entry = LedgerEntry { status: LedgerStatus::Failed, name, size, error: failure.message.clone() };
                ledger.record(&link, entry.clone())?;
                entry
            }
            Err(e) => return Err(e.into()),
        };
        if entry.status == LedgerStatus::Done {
            c.status = LinkStatus::Done;
        } else {
            failed += 1;
            c.status = LinkStatus::Failed;
            c.message = entry.error;
        }
    }
    Ok(failed)
}

/// Links queued for download, each with its name, size and jobs, to be recorded in the ledger
/// once they end ([`Queued::record`]).
#[derive(Debug)]
pub struct Queued {
    links: Vec<(Link, String, u64, Vec<JobId>)>,
}

impl Queued {
    /// Every job queued, in order.
    pub fn ids(&self) -> Vec<JobId> {
        self.links.iter().flat_map(|(.., ids)| ids.iter().cloned()).collect()
    }

    /// Waits for each link's jobs and records how it ended ([`settle`]).
    pub async fn record(self, engine: &Engine, ledger: &mut Ledger) -> Result<()> {
        for (link, name, size, ids) in &self.links {
            settle(engine, ledger, link, name, *size, ids).await?;
        }
        Ok(())
    }
}

/// Opens each link (its name and size, for the ledger; one that no longer opens stops here)
/// and queues its download into `dir`, without waiting for it.
pub async fn queue_links(client: &Client, engine: &Engine, links: &[Link], dir: &Path) -> Result<Queued> {
    let mut queued = Vec::with_capacity(links.len());
    for link in links {
        let opened = open_link(client, link).await?;
        let ids = queue(engine, link, dir).await?;
        queued.push((link.clone(), opened.name(), opened.size(), ids));
    }
    Ok(Queued { links: queued })
}

/// Queues chosen nodes of a folder link (files, or folders with everything below them) into
/// `dir`: each as the link to that node. A node not in the folder is [`Error::NotFound`].
pub async fn queue_nodes(
    client: &Client,
    engine: &Engine,
    link: &Link,
    nodes: &[mega_api::NodeHandle],
    dir: &Path,
) -> Result<Vec<JobId>> {
    let Opened::Folder { tree, .. } = open_link(client, link).await? else {
        return Err(Error::BadLink("not a folder link".into()));
    };
    let mut ids = Vec::new();
    for &h in nodes {
        let n = tree.get(h).ok_or_else(|| Error::NotFound(format!("{h} is not in the folder")))?;
        let sub = if n.is_file() { mega_proto::SubNode::File(h) } else { mega_proto::SubNode::Folder(h) };
        let one = Link { sub: Some(sub), ..link.clone() };
        ids.extend(queue(engine, &one, dir).await?);
    }
    Ok(ids)
}
