//! The runner of a links watch, and its ledger: every link seen, by public handle (never its
//! key), with what became of it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mega_api::{Link, LinkKind};
use mega_proto::extract::extract_links;
use mega_proto::link::ParsedLink;
use notify_debouncer_full::DebounceEventResult;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::store::{now_secs, read_json, write_json};
use super::{
    fs_watch_or_report, is_paused, ticker, Ledger, RunOptions, Signals, Watch, WatchError, WatchKind, WatchStatus,
    WatchStore,
};
use crate::engine::{Conflict, Engine, Outcome};
use crate::journal::{JobSpec, Journal};

/// What became of a link.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Handed to the engine (a restart hands it over again).
    Queued,
    /// Downloaded and verified (or identical files were there already).
    Done,
    /// Failed; not tried again by itself.
    Failed,
    /// A `#P!` link none of the known passwords opens.
    NeedsPassword,
}

/// One link of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Its state.
    pub state: LinkState,
    /// When it last changed (unix seconds).
    pub updated: u64,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    #[serde(default)]
    links: Ledger,
}

/// The ledger of the links watch `id`: link ids (`file:HANDLE`, `folder:HANDLE[/SUB]`, with
/// public handles only) and their state.
pub fn ledger(store: &WatchStore, id: &str) -> Result<Ledger, WatchError> {
    Ok(read_json::<LedgerFile>(&store.ledger_path(id))?.links)
}

/// A link's id in a ledger: `file:HANDLE`, `folder:HANDLE` or `folder:HANDLE/SUB`, from its
/// public handles only (never its key), so the same link found in two texts, or in two forms,
/// has one id. Used by the links watches' ledgers and by the application's links ledger.
pub fn link_id(l: &Link) -> String {
    let kind = match l.kind {
        LinkKind::File => "file",
        LinkKind::Folder => "folder",
    };
    match &l.sub {
        Some(sub) => format!("{kind}:{}/{}", l.handle.to_b64(), sub.handle().to_b64()),
        None => format!("{kind}:{}", l.handle.to_b64()),
    }
}

/// A protected link's id, from its header (no password needed).
fn protected_id(payload: &str) -> String {
    match mega_proto::protected::inspect(payload) {
        Ok(h) => link_id(&Link { kind: h.kind, handle: h.handle, key: None, sub: None }),
        Err(_) => format!("protected:{}", payload.chars().take(12).collect::<String>()),
    }
}

pub(crate) struct LinksRun {
    engine: Engine,
    store: WatchStore,
    id: String,
    source: PathBuf,
    dest: PathBuf,
    options: RunOptions,
    ledger: Ledger,
    /// Links found and not yet handed over, in order.
    waiting: Vec<(String, Link)>,
    in_flight: HashSet<String>,
    /// The sources changed at this time and have not been read since.
    dirty: Option<Instant>,
    done_tx: mpsc::UnboundedSender<(String, Result<(), String>)>,
    done_rx: mpsc::UnboundedReceiver<(String, Result<(), String>)>,
    status: WatchStatus,
    /// Unfinished downloads into the folder, continued from the journal: nothing new starts
    /// before they end (a link queued again then finds its files there and skips them).
    adopting: Vec<crate::JobId>,
}

impl LinksRun {
    pub(crate) fn new(
        engine: &Engine,
        store: &WatchStore,
        watch: &Watch,
        options: RunOptions,
    ) -> Result<Self, WatchError> {
        let WatchKind::Links { source, dest } = &watch.kind else {
            return Err(WatchError::NoSuchWatch(watch.id.clone()));
        };
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Ok(LinksRun {
            engine: engine.clone(),
            store: store.clone(),
            id: watch.id.clone(),
            source: source.clone(),
            dest: dest.clone(),
            options,
            ledger: ledger(store, &watch.id)?,
            waiting: Vec::new(),
            in_flight: HashSet::new(),
            dirty: None,
            done_tx,
            done_rx,
            status: WatchStatus::default(),
            adopting: Vec::new(),
        })
    }

    pub(crate) async fn run(mut self, mut sig: Signals) {
        // A file is watched through its folder: editors replace files by renaming.
        let watched = if self.source.is_dir() {
            self.source.clone()
        } else {
            self.source.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let (_watcher, mut events) = fs_watch_or_report(&watched, false, self.options.settle, |e| self.error(e));
        self.status.paused = is_paused(&self.store, &self.id);
        self.adopt_journal();
        self.read_sources();
        let mut tick = ticker(self.options.settle);
        let mut last_scan = Instant::now();
        let mut last_store = Instant::now();
        loop {
            tokio::select! {
                _ = sig.stop.changed() => break,
                Some(()) = sig.rescan.recv() => self.read_sources(),
                Some(batch) = events.recv() => self.on_events(batch),
                Some((id, r)) = self.done_rx.recv() => self.on_done(id, r),
                _ = tick.tick() => {
                    if last_store.elapsed() >= Duration::from_secs(1) {
                        last_store = Instant::now();
                        self.status.paused = is_paused(&self.store, &self.id);
                    }
                    let settled = self.dirty.is_some_and(|t| t.elapsed() >= self.options.settle);
                    if settled || last_scan.elapsed() >= self.options.rescan_every {
                        last_scan = Instant::now();
                        self.read_sources();
                    }
                    if !self.status.paused {
                        self.dispatch().await;
                    }
                }
            }
            self.status.pending = self.waiting.len() + usize::from(self.dirty.is_some());
            self.status.in_flight = self.in_flight.len() + self.adopting.len();
            self.status.needs_password = self.ledger.values().filter(|e| e.state == LinkState::NeedsPassword).count();
            sig.publish(&self.status);
        }
    }

    fn error(&mut self, message: &str) {
        super::report_error(&self.store, &self.id, &mut self.status, message);
    }

    fn save(&mut self) {
        let file = LedgerFile { links: std::mem::take(&mut self.ledger) };
        let r = write_json(&self.store.ledger_path(&self.id), &file);
        self.ledger = file.links;
        if let Err(e) = r {
            self.error(&e.to_string());
        }
    }

    fn set(&mut self, id: &str, state: LinkState, message: Option<String>) {
        self.ledger.insert(id.to_string(), LedgerEntry { state, updated: now_secs(), message });
    }

    fn is_source(&self, p: &Path) -> bool {
        if self.source.is_dir() {
            p.parent() == Some(self.source.as_path())
                && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("txt") || e.eq_ignore_ascii_case("links"))
        } else {
            p == self.source
        }
    }

    fn on_events(&mut self, batch: DebounceEventResult) {
        let relevant = match batch {
            Ok(events) => events.iter().any(|e| {
                e.need_rescan()
                    || (!matches!(e.kind, notify::EventKind::Access(_)) && e.paths.iter().any(|p| self.is_source(p)))
            }),
            Err(_) => true,
        };
        if relevant {
            // Read once the file has stopped changing for the settle time.
            self.dirty = Some(Instant::now());
        }
    }

    /// Reads every source and notes the links not yet in the ledger (or queued by a run that
    /// ended before they finished).
    fn read_sources(&mut self) {
        self.dirty = None;
        let files: Vec<PathBuf> = if self.source.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&self.source)
                .map(|d| d.flatten().map(|e| e.path()).filter(|p| self.is_source(p)).collect())
                .unwrap_or_default();
            v.sort();
            v
        } else {
            vec![self.source.clone()]
        };
        let mut found = Vec::new();
        for f in files {
            match std::fs::read(&f) {
                Ok(b) => found.extend(extract_links(&String::from_utf8_lossy(&b))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => self.error(&format!("{}: {e}", f.display())),
            }
        }
        // The #P! links not settled yet, opened together: a PBKDF2 per link and password,
        // each distinct link once, spread over all cores.
        let to_open: Vec<(usize, &str)> = found
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                ParsedLink::Protected(payload) if !self.settled(&protected_id(payload)) => Some((i, payload.as_str())),
                _ => None,
            })
            .collect();
        let mut opened: HashMap<usize, Result<Link, mega_api::Error>> = HashMap::new();
        if !to_open.is_empty() {
            let payloads: Vec<&str> = to_open.iter().map(|(_, p)| *p).collect();
            let passwords: Vec<&str> = self.options.passwords.iter().map(String::as_str).collect();
            let results = mega_api::decrypt_protected_links(&payloads, &passwords);
            opened = to_open.iter().map(|(i, _)| *i).zip(results).collect();
        }
        let mut changed = false;
        for (i, parsed) in found.into_iter().enumerate() {
            let link = match parsed {
                // Without its key (perhaps still being written): not yet.
                ParsedLink::Plain(l) if l.key.is_none() => continue,
                ParsedLink::Plain(l) => l,
                ParsedLink::Protected(payload) => match opened.remove(&i) {
                    Some(Ok(l)) => l,
                    Some(Err(_)) => {
                        let id = protected_id(&payload);
                        if !self.ledger.contains_key(&id) {
                            self.set(&id, LinkState::NeedsPassword, None);
                            changed = true;
                        }
                        continue;
                    }
                    // Settled (done, failed, or on its way): nothing to derive again.
                    None => continue,
                },
            };
            let id = link_id(&link);
            let fresh = match self.ledger.get(&id).map(|e| e.state) {
                None | Some(LinkState::NeedsPassword) => true,
                Some(LinkState::Queued) => !self.in_flight.contains(&id),
                Some(LinkState::Done | LinkState::Failed) => false,
            };
            if fresh && !self.waiting.iter().any(|(w, _)| *w == id) {
                self.set(&id, LinkState::Queued, None);
                self.waiting.push((id, link));
                changed = true;
            }
        }
        if changed {
            self.save();
        }
        self.status.scanned = true;
        self.status.scans += 1;
    }

    /// A link id that a scan would not queue again: done, failed, queued and running, or
    /// waiting already.
    fn settled(&self, id: &str) -> bool {
        match self.ledger.get(id).map(|e| e.state) {
            Some(LinkState::Done | LinkState::Failed) => true,
            Some(LinkState::Queued) => self.in_flight.contains(id) || self.waiting.iter().any(|(w, _)| w == id),
            None | Some(LinkState::NeedsPassword) => false,
        }
    }

    /// Continues the journal's unfinished downloads into the destination folder.
    fn adopt_journal(&mut self) {
        let Ok(journal) = Journal::open(self.engine.journal_dir()) else { return };
        for (rec, _) in journal.load_all().into_iter().flatten() {
            if matches!(&rec.spec, JobSpec::Download { path, .. } if path.starts_with(&self.dest)) {
                match self.engine.resume_job(&rec.id) {
                    Ok(()) => self.adopting.push(rec.id),
                    Err(e) => self.error(&format!("continuing an interrupted download: {e}")),
                }
            }
        }
    }

    async fn dispatch(&mut self) {
        if !self.adopting.is_empty() {
            let jobs = self.engine.jobs();
            self.adopting.retain(|id| jobs.iter().any(|j| j.id == *id && j.outcome.is_none()));
            if !self.adopting.is_empty() {
                return;
            }
        }
        while self.in_flight.len() < self.options.max_in_flight.max(1) && !self.waiting.is_empty() {
            let (id, link) = self.waiting.remove(0);
            match self.engine.download_link(&link, &self.dest, Conflict::Rename).await {
                Ok(jobs) => {
                    self.in_flight.insert(id.clone());
                    let (engine, tx) = (self.engine.clone(), self.done_tx.clone());
                    tokio::spawn(async move {
                        let mut r = Ok(());
                        for job in jobs {
                            match engine.wait(&job).await {
                                Some(Outcome::Done { .. } | Outcome::Skipped) => {}
                                Some(Outcome::Failed { message, .. }) => r = Err(message),
                                Some(Outcome::Cancelled) => r = Err("cancelled".into()),
                                None => r = Err("the job was lost".into()),
                            }
                        }
                        let _ = tx.send((id, r));
                    });
                }
                Err(e) => self.on_done(id, Err(e.to_string())),
            }
        }
    }

    fn on_done(&mut self, id: String, r: Result<(), String>) {
        self.in_flight.remove(&id);
        match r {
            Ok(()) => {
                self.status.done += 1;
                self.set(&id, LinkState::Done, None);
                let _ = self.store.record_activity(&self.id, 1);
            }
            Err(message) => {
                self.status.failed += 1;
                self.error(&format!("{id}: {message}"));
                self.set(&id, LinkState::Failed, Some(message));
            }
        }
        self.save();
    }
}
