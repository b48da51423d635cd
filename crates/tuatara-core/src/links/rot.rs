//! Link rot, visible: a links file re-checked ([`recheck`]), or every link of the ledger
//! ([`recheck_ledger`]), each found alive, removed, taken down, changed, waiting for a key or a
//! password, or bad. The ledger keeps no key, so its links are asked about by their public
//! handles alone (a file's metadata, a folder's listing), many file links to a request; what is
//! found is recorded in the ledger with the time and a short history of changes, in one write
//! per [`RECORD_EVERY`] links.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{stream, StreamExt};
use mega_api::{Client, Link, LinkKind, NodeHandle};
use mega_proto::link::ParsedLink;
use mega_proto::{ErrorCode, SubNode};
use serde::{Deserialize, Serialize};

use super::check::{check_parsed, CheckOptions, Checked, LinkStatus, Progress, AT_ONCE};
use super::ledger::Ledger;
use crate::error::{Error, Result};

/// Status changes kept per link.
pub const HISTORY: usize = 10;

/// File links asked about in one request (mega-api's batches).
pub const PER_REQUEST: usize = mega_api::FILE_LINKS_PER_REQUEST;

/// Links re-checked between two writes of the ledger.
pub const RECORD_EVERY: usize = 25_000;

/// What a re-check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// It opens.
    Alive,
    /// Removed (or never there).
    Removed,
    /// Taken down by the service.
    TakenDown,
    /// It opens, but to something else than it was made for (the integrity check, where a
    /// links file or the ledger says what it was).
    Changed,
    /// No key, and none given.
    NeedsKey,
    /// A `#P!` link and no password.
    NeedsPassword,
    /// Malformed, its key or password does not fit, or it could not be checked.
    Bad,
}

impl Health {
    /// What a check's status means for the link.
    pub fn of(status: LinkStatus) -> Self {
        match status {
            LinkStatus::Alive | LinkStatus::Done => Health::Alive,
            LinkStatus::Removed => Health::Removed,
            LinkStatus::Blocked => Health::TakenDown,
            LinkStatus::NeedsKey => Health::NeedsKey,
            LinkStatus::NeedsPassword => Health::NeedsPassword,
            LinkStatus::Bad | LinkStatus::Failed => Health::Bad,
            LinkStatus::Changed => Health::Changed,
        }
    }

    /// Said for people: `alive`, `taken down`, `needs password`...
    pub fn label(self) -> &'static str {
        match self {
            Health::Alive => "alive",
            Health::Removed => "removed",
            Health::TakenDown => "taken down",
            Health::Changed => "changed",
            Health::NeedsKey => "needs key",
            Health::NeedsPassword => "needs password",
            Health::Bad => "bad",
        }
    }
}

/// One change of a link's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthChange {
    /// When it was first seen so (Unix seconds).
    pub at: u64,
    /// The status.
    pub status: Health,
}

/// What the re-checks of a link found, kept in its ledger line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHealth {
    /// When it was last checked (Unix seconds).
    pub at: u64,
    /// What was found then.
    pub status: Health,
    /// Why it is not alive, as said then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its status changes, oldest first, the last [`HISTORY`] of them.
    #[serde(default)]
    pub history: Vec<HealthChange>,
}

impl LinkHealth {
    /// `before` with a check of `at` added: a change of status goes into the history.
    pub fn after(before: Option<&LinkHealth>, at: u64, status: Health, reason: Option<String>) -> Self {
        let mut history = before.map(|b| b.history.clone()).unwrap_or_default();
        if history.last().is_none_or(|last| last.status != status) {
            history.push(HealthChange { at, status });
        }
        let extra = history.len().saturating_sub(HISTORY);
        history.drain(..extra);
        LinkHealth { at, status, reason, history }
    }
}

/// One link, re-checked.
#[derive(Clone, Serialize)]
pub struct Recheck {
    /// The link as given (a links file), or its ledger id (`file:H`, `folder:H/SUB`: no key).
    pub link: String,
    /// What was found.
    pub status: Health,
    /// Its name: as it opens now, or as the ledger knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its size in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Why it is not alive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What hides what it is ([`super::risky`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// When it was checked (Unix seconds; a ledger re-check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<u64>,
    /// Its status changes, oldest first (a ledger re-check).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HealthChange>,
    /// What differs from its links file's metadata ([`Health::Changed`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<super::integrity::Change>,
}

impl std::fmt::Debug for Recheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The link may carry its key: left out.
        f.debug_struct("Recheck")
            .field("status", &self.status)
            .field("name", &self.name)
            .field("size", &self.size)
            .field("reason", &self.reason)
            .field("warning", &self.warning)
            .finish_non_exhaustive()
    }
}

impl Recheck {
    /// Whether this check found it not working where the check before found it alive (a
    /// ledger re-check: its history says).
    pub fn went_down(&self) -> bool {
        let [.., before, last] = self.history.as_slice() else { return false };
        Some(last.at) == self.checked_at && last.status != Health::Alive && before.status == Health::Alive
    }
}

impl From<Checked> for Recheck {
    fn from(c: Checked) -> Self {
        let status = Health::of(c.status);
        let reason = match status {
            Health::Alive => None,
            // The service gives no reason with its `-16`, nor does mega-api keep one.
            Health::TakenDown => Some("taken down".to_string()),
            _ => c.message,
        };
        Recheck {
            link: c.url,
            status,
            name: c.name,
            size: c.size,
            reason,
            warning: c.warning,
            checked_at: None,
            history: Vec::new(),
            changes: c.changes,
        }
    }
}

/// Whether a ledger re-checked every `every` seconds is due at `now` (Unix seconds): some
/// link of it was last checked that long ago, or never. An empty ledger never is.
pub fn recheck_due(ledger: &Ledger, every: u64, now: u64) -> bool {
    ledger.oldest_check().is_some_and(|oldest| now.saturating_sub(oldest) >= every)
}

/// Re-checks the ledger at `path` whenever [`recheck_due`] says so for the period `every`
/// gives at that moment (none: off), looking every `tick`; each re-check's rows go to `done`.
/// Runs until dropped. A ledger that cannot be read or written is said in the log and tried
/// again at the next tick.
pub async fn recheck_periodically(
    client: Client,
    path: std::path::PathBuf,
    every: impl Fn() -> Option<u64> + Send,
    tick: std::time::Duration,
    mut done: impl FnMut(Vec<Recheck>) + Send,
) {
    loop {
        if let Some(every) = every() {
            let due = Ledger::open(path.clone()).map(|l| recheck_due(&l, every, now()).then_some(l));
            match due {
                Ok(Some(mut ledger)) => match recheck_ledger(&client, &mut ledger, &mut |_| {}).await {
                    Ok(rows) => done(rows),
                    Err(e) => tracing::warn!("the periodic re-check of received links failed: {e}"),
                },
                Ok(None) => {}
                Err(e) => tracing::warn!("the links ledger could not be read for its re-check: {e}"),
            }
        }
        tokio::time::sleep(tick).await;
    }
}

/// Whether every link is alive: a script's exit 0.
pub fn all_alive(rows: &[Recheck]) -> bool {
    rows.iter().all(|r| r.status == Health::Alive)
}

/// Links (of a links file: [`super::extract`]) checked afresh, none skipped as done: opened
/// with `opts`' password and key, the ledger not asked.
pub async fn recheck(
    client: &Client,
    parsed: &[ParsedLink],
    opts: CheckOptions<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Recheck> {
    let opts = CheckOptions { ledger: None, ..opts };
    check_parsed(client, parsed, opts, progress).await.into_iter().map(Recheck::from).collect()
}

/// A links file's entries ([`super::read_list`]) checked afresh as [`recheck`] does, each
/// compared with its metadata (csv and json files): one that now points at something else is
/// [`Health::Changed`], with what differs.
pub async fn recheck_list(
    client: &Client,
    entries: &[super::LinkEntry],
    opts: CheckOptions<'_>,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Recheck> {
    let opts = CheckOptions { ledger: None, ..opts };
    super::check_list(client, entries, opts, progress).await.into_iter().map(Recheck::from).collect()
}

/// Every link of the ledger re-checked by its public handle (no key is kept there): file links
/// [`PER_REQUEST`] to a request, folder links by their listing; the time, the status and its
/// history recorded in the ledger, one write per [`RECORD_EVERY`] links. A file link whose
/// size is not the one recorded is [`Health::Changed`]. Rows in the ledger's order.
pub async fn recheck_ledger(
    client: &Client,
    ledger: &mut Ledger,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Vec<Recheck>> {
    let ids: Vec<String> = ledger.entries().keys().cloned().collect();
    progress(Progress::Checking(ids.len()));
    let mut rows = Vec::with_capacity(ids.len());
    for part in ids.chunks(RECORD_EVERY) {
        let found = probe_ids(client, part, progress).await;
        let at = now();
        let mut checked: Vec<(String, Health, Option<String>, Option<u64>)> = Vec::with_capacity(part.len());
        for (id, (status, reason, size)) in part.iter().zip(found) {
            let known = ledger.entries().get(id).map(|e| e.size).filter(|s| *s > 0);
            let (status, reason) = match (status, size, known) {
                (Health::Alive, Some(now), Some(was)) if id.starts_with("file:") && now != was => {
                    (Health::Changed, Some(format!("the file is {now} bytes now, it was {was}")))
                }
                other => (other.0, reason),
            };
            checked.push((id.clone(), status, reason, size));
        }
        ledger.update(|lines| {
            for (id, status, reason, _) in &checked {
                let health = LinkHealth::after(lines.checks.get(id), at, *status, reason.clone());
                lines.checks.insert(id.clone(), health);
            }
        })?;
        for (id, status, reason, size) in checked {
            let entry = ledger.entries().get(&id);
            let history = ledger.health(&id).map(|h| h.history.clone()).unwrap_or_default();
            rows.push(Recheck {
                name: entry.map(|e| e.name.clone()),
                size: size.or(entry.map(|e| e.size)),
                warning: entry.and_then(|e| super::risky::name_warning(&e.name)),
                link: id,
                status,
                reason,
                checked_at: Some(at),
                history,
                changes: Vec::new(),
            });
        }
    }
    Ok(rows)
}

/// What one probe found: the status, why, and the size the service says.
pub(super) type Found = (Health, Option<String>, Option<u64>);

/// Probes ledger ids: file links in batches, folder links one by one, [`AT_ONCE`] at a time.
pub(super) async fn probe_ids(
    client: &Client,
    ids: &[String],
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Vec<Found> {
    let links: Vec<Option<Link>> = ids.iter().map(|id| link_of_id(id)).collect();
    let files: Vec<(usize, NodeHandle)> = links
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.as_ref().filter(|l| l.kind == LinkKind::File && l.sub.is_none()).map(|l| (i, l.handle)))
        .collect();
    let mut found: Vec<Option<Found>> = vec![None; ids.len()];
    let handles: Vec<NodeHandle> = files.iter().map(|(_, h)| *h).collect();
    let mut sizes = client.file_link_sizes(&handles).zip(stream::iter(&files));
    while let Some((size, (i, _))) = sizes.next().await {
        found[*i] = Some(found_of(size.map_err(Error::from)));
        progress(Progress::Checked);
    }
    let others = links.iter().enumerate().filter(|(i, _)| found[*i].is_none()).map(|(i, l)| async move {
        let r = match l {
            Some(l) => probe_folder(client, l).await,
            None => (Health::Bad, Some("not a link id this version knows".into()), None),
        };
        (i, r)
    });
    let mut others = stream::iter(others.collect::<Vec<_>>()).buffer_unordered(AT_ONCE);
    while let Some((i, r)) = others.next().await {
        found[i] = Some(r);
        progress(Progress::Checked);
    }
    found.into_iter().map(|f| f.unwrap_or((Health::Bad, None, None))).collect()
}

/// A folder link by its public handle: its listing fetched (with a stand-in key: nothing is
/// decrypted), and the node it names looked for in it.
async fn probe_folder(client: &Client, link: &Link) -> Found {
    let Ok(stand_in) = link.with_key("AAAAAAAAAAAAAAAAAAAAAA") else {
        return (Health::Bad, Some("not a link id this version knows".into()), None);
    };
    let listed = match client.open_folder_link(&stand_in) {
        Ok(folder) => folder.fetch_tree().await.map_err(Error::from),
        Err(e) => Err(Error::from(e)),
    };
    found_of(listed.and_then(|tree| {
        let node = match link.sub {
            Some(sub) => sub.handle(),
            None => tree.root().ok_or_else(|| Error::BadLink("the folder link is empty".into()))?,
        };
        if tree.get(node).is_none() {
            return Err(Error::Api(mega_api::Error::Api { context: "f", code: ErrorCode::NotFound, time_left: None }));
        }
        let below = tree.subtree(node);
        Ok(below.iter().filter_map(|h| tree.get(*h)).filter(|n| n.is_file()).map(|n| n.size()).sum())
    }))
}

/// What a probe's answer means.
fn found_of(r: Result<u64>) -> Found {
    match r {
        Ok(size) => (Health::Alive, None, Some(size)),
        Err(e) => {
            let c = Checked::failed_to_open(String::new(), None, &e);
            let r = Recheck::from(c);
            (r.status, r.reason, None)
        }
    }
}

/// The link a ledger id names (`file:H`, `folder:H/SUB`), without a key; `None` for an id this
/// version does not know.
pub fn link_of_id(id: &str) -> Option<Link> {
    let (kind, rest) = id.split_once(':')?;
    let kind = match kind {
        "file" => LinkKind::File,
        "folder" => LinkKind::Folder,
        _ => return None,
    };
    let (handle, sub) = match rest.split_once('/') {
        Some((h, s)) => (h, Some(SubNode::File(NodeHandle::from_b64(s).ok()?))),
        None => (rest, None),
    };
    Some(Link { kind, handle: NodeHandle::from_b64(handle).ok()?, key: None, sub })
}

/// Now, in Unix seconds.
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keeps_changes_only_and_the_last_few() {
        let mut h = LinkHealth::after(None, 1, Health::Alive, None);
        h = LinkHealth::after(Some(&h), 2, Health::Alive, None);
        assert_eq!((h.at, h.history.len()), (2, 1), "no change, no new line");
        for i in 0..30 {
            let s = if i % 2 == 0 { Health::TakenDown } else { Health::Alive };
            h = LinkHealth::after(Some(&h), 3 + i, s, None);
        }
        assert_eq!(h.history.len(), HISTORY);
        assert_eq!(h.history.last(), Some(&HealthChange { at: 32, status: Health::Alive }));
    }

    #[test]
    fn ledger_ids_name_their_links() {
        let f = link_of_id("file:AAAAAAAA").unwrap();
        assert_eq!((f.kind, f.sub), (LinkKind::File, None));
        let d = link_of_id("folder:AAAAAAAA/BBBBBBBB").unwrap();
        assert_eq!(mega_transfer::watch::link_id(&d), "folder:AAAAAAAA/BBBBBBBB");
        assert!(link_of_id("protected:xyz").is_none());
    }
}
