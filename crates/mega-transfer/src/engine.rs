//! The queue: jobs, the file slots they take, and their control (pause, resume, cancel,
//! priority). Each running job moves one file with several chunk workers (`download`,
//! `upload`). Split by concern: the public types (`types`), where jobs come from (`sources`),
//! running them (`jobs`), and here the engine itself and its controls.

mod jobs;
mod limits;
mod resume;
mod sources;
mod types;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use mega_api::{Client, Session, Tree};
use mega_proto::b64;
use tokio::sync::{broadcast, watch};

use crate::events::{Event, JobId, WaitReason};
use crate::journal::{JobRecord, Journal, JournalError};
use crate::limit::Limit;
use crate::schedule::{Clock, LocalClock, Rates};
use crate::slots::Slots;

pub use resume::{unfinished, Asked, Unfinished};
pub(crate) use sources::file_key;
pub(crate) use types::Control;
pub use types::{Conflict, EngineConfig, JobInfo, Outcome, TransferError};

struct JobState {
    record: JobRecord,
    /// Holding a file slot.
    running: bool,
    control: watch::Sender<Control>,
    outcome: watch::Sender<Option<Outcome>>,
}

pub(crate) struct Inner {
    pub(crate) config: EngineConfig,
    pub(crate) journal: Journal,
    pub(crate) client: Client,
    pub(crate) session: Option<Session>,
    pub(crate) tree: Option<Arc<tokio::sync::Mutex<Tree>>>,
    pub(crate) events: broadcast::Sender<Event>,
    jobs: Mutex<BTreeMap<JobId, JobState>>,
    slots: Arc<Slots>,
    /// Until when the transfer quota is exhausted (every job waits).
    pub(crate) quota_until: Mutex<Option<Instant>>,
    /// Local paths that jobs of this run write to.
    pub(crate) claimed: Arc<Mutex<std::collections::HashSet<PathBuf>>>,
    pub(crate) down: Limit,
    pub(crate) up: Limit,
    /// Base limits and the schedule that set `down` and `up`.
    limits: limits::Limits,
    /// Streams' shared cache of recent pieces and their open files.
    pub(crate) streams: crate::stream::Streams,
}

impl Inner {
    pub(crate) fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    /// Waits out the transfer quota (every job waits with the same deadline), saying so; a
    /// pause or a cancel ends the wait. A time left over [`EngineConfig::max_quota_wait`] is
    /// not waited: the job fails with it (the journal keeps the job for later).
    pub(crate) async fn quota_wait(
        &self,
        id: &str,
        time_left: Option<Duration>,
        control: &watch::Receiver<Control>,
    ) -> Result<(), TransferError> {
        let limit = self.config.max_quota_wait;
        if let Some(time_left) = time_left.filter(|t| *t > limit) {
            tracing::warn!(?time_left, ?limit, "the transfer quota frees later than the engine waits");
            return Err(TransferError::QuotaTooLong { time_left, limit });
        }
        let until = {
            let mut q = self.quota_until.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(left) = time_left {
                let t = Instant::now() + left.max(Duration::from_secs(1));
                *q = Some(q.map_or(t, |old| old.max(t)));
            } else if q.is_none_or(|t| t <= Instant::now()) {
                *q = Some(Instant::now() + Duration::from_secs(30));
            }
            q.unwrap_or_else(Instant::now)
        };
        let left = until.saturating_duration_since(Instant::now());
        tracing::warn!(job = id, ?left, "waiting for the transfer quota");
        self.emit(Event::Waiting {
            id: id.to_string(),
            reason: WaitReason::TransferQuota,
            until: Some(SystemTime::now() + left),
        });
        self.pause_for(left, control).await
    }

    /// Sleeps for `d`; a pause or a cancel ends it early (as their error).
    pub(crate) async fn pause_for(&self, d: Duration, control: &watch::Receiver<Control>) -> Result<(), TransferError> {
        let mut control = control.clone();
        let sleep = tokio::time::sleep(d);
        tokio::pin!(sleep);
        loop {
            crate::pieces::check(&control)?;
            tokio::select! {
                _ = &mut sleep => return Ok(()),
                changed = control.changed() => if changed.is_err() { return Err(TransferError::Cancelled) },
            }
        }
    }

    /// How many failures in a row a file's `workers` may meet: the client's retry policy's
    /// attempts for each worker.
    pub(crate) fn retry_limit(&self, workers: u32) -> u32 {
        self.client.retry_policy().max_attempts.saturating_mul(workers.max(1))
    }

    /// Backs off after the `n`th failure in a row of a file's `workers`: fails with the last
    /// error once the client's retry policy is spent ([`Inner::retry_limit`]), else says what
    /// failed and how long it waits (`what` says what comes next) and waits.
    pub(crate) async fn back_off(
        &self,
        id: &str,
        e: mega_api::Error,
        n: u32,
        workers: u32,
        what: &str,
        control: &watch::Receiver<Control>,
    ) -> Result<(), TransferError> {
        let limit = self.retry_limit(workers);
        if n >= limit {
            return Err(TransferError::GaveUp { source: e, failures: n });
        }
        let delay = self.client.retry_policy().backoff(n.div_ceil(workers.max(1)));
        self.say_retry(id, &e, what, delay, n, &format!("{limit} tries"));
        self.pause_for(delay, control).await
    }

    /// Says that job `id` failed with `e` and does `what` after `delay`, try `n` of `of`: an
    /// [`Event::Retrying`] (the CLI prints it, terminal or not) and a warning in the log.
    pub(crate) fn say_retry(&self, id: &str, e: &dyn std::fmt::Display, what: &str, delay: Duration, n: u32, of: &str) {
        let reason = format!("{e}: {what} in {:.1} s ({n} of {of})", delay.as_secs_f64());
        tracing::warn!(job = id, "{reason}");
        self.emit(Event::Retrying { id: id.to_string(), reason });
    }
}

/// The transfer engine. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("journal", &self.inner.journal.dir()).finish_non_exhaustive()
    }
}

pub(crate) fn new_id() -> JobId {
    let mut b = [0u8; 9];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    format!("{t:013}-{}", b64::encode(&b))
}

impl Engine {
    /// An engine. `session` and `tree` are needed for own files and uploads; public links work
    /// without them. Call [`Engine::resume_journal`] to continue what a previous run left.
    pub fn new(
        config: EngineConfig,
        client: Client,
        session: Option<Session>,
        tree: Option<Arc<tokio::sync::Mutex<Tree>>>,
    ) -> Result<Self, TransferError> {
        let journal = Journal::open(&config.journal_dir)?;
        let (events, _) = broadcast::channel(4096);
        let mut config = config;
        config.connections_per_file = config.connections_per_file.clamp(1, 32);
        config.max_files = config.max_files.max(1);
        config.small_files = config.small_files.max(1);
        let inner = Inner {
            down: Limit::new(config.download_limit),
            up: Limit::new(config.upload_limit),
            slots: Slots::new(config.max_files, config.small_files),
            limits: limits::Limits::new(
                Rates { download: config.download_limit, upload: config.upload_limit },
                config.schedule.clone(),
            ),
            config,
            journal,
            client,
            session,
            tree,
            events,
            jobs: Mutex::new(BTreeMap::new()),
            quota_until: Mutex::new(None),
            streams: crate::stream::Streams::new(),
            claimed: Arc::new(Mutex::new(std::collections::HashSet::new())),
        };
        let engine = Engine { inner: Arc::new(inner) };
        if engine.inner.config.schedule.is_some() {
            engine.inner.apply_limits(LocalClock.now());
            engine.follow(Arc::new(LocalClock));
        }
        Ok(engine)
    }

    /// The journal's directory (watches continue their own unfinished jobs from it).
    pub fn journal_dir(&self) -> &std::path::Path {
        self.inner.journal.dir()
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Continues every unfinished job in the journal. Damaged entries are returned as errors
    /// (and left where they are), never a crash.
    pub fn resume_journal(&self) -> (Vec<JobId>, Vec<JournalError>) {
        let (mut ids, mut errors) = (Vec::new(), Vec::new());
        for r in self.inner.journal.load_all() {
            match r {
                Ok((rec, _)) => {
                    if self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(&rec.id) {
                        continue;
                    }
                    ids.push(rec.id.clone());
                    self.start(rec, false);
                }
                Err(e) => errors.push(e),
            }
        }
        (ids, errors)
    }

    /// Continues one unfinished job of the journal (a command repeated after a crash asks for
    /// the same file again). Known jobs are left as they are.
    pub fn resume_job(&self, id: &str) -> Result<(), JournalError> {
        if self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).contains_key(id) {
            return Ok(());
        }
        let (rec, _) = self.inner.journal.load(id)?;
        self.start(rec, false);
        Ok(())
    }

    /// The jobs this engine knows (running, queued, finished in this run).
    pub fn jobs(&self) -> Vec<JobInfo> {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<JobInfo> = jobs.values().map(jobs::info).collect();
        out.sort_by_key(|j| j.priority);
        out
    }

    /// What the engine knows of one job.
    pub fn job(&self, id: &str) -> Option<JobInfo> {
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id).map(jobs::info)
    }

    /// Waits until a job ends.
    pub async fn wait(&self, id: &str) -> Option<Outcome> {
        let mut rx = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id)?.outcome.subscribe();
        loop {
            if let Some(o) = rx.borrow_and_update().clone() {
                return Some(o);
            }
            rx.changed().await.ok()?;
        }
    }

    /// Waits for every job and returns their outcomes in queue order.
    pub async fn wait_all(&self) -> Vec<(JobId, Outcome)> {
        let ids: Vec<JobId> = self.jobs().into_iter().map(|j| j.id).collect();
        let mut out = Vec::new();
        for id in ids {
            if let Some(o) = self.wait(&id).await {
                out.push((id, o));
            }
        }
        out
    }

    fn control(&self, id: &str, c: Control) -> bool {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        match jobs.get(id) {
            Some(j) if j.outcome.borrow().is_none() => {
                j.control.send_replace(c);
                true
            }
            _ => false,
        }
    }

    /// Pauses a job (its verified chunks are kept).
    pub fn pause(&self, id: &str) -> bool {
        self.set_paused(id, true) && self.control(id, Control::Pause)
    }

    /// Resumes a paused job.
    pub fn resume(&self, id: &str) -> bool {
        self.set_paused(id, false) && self.control(id, Control::Run)
    }

    /// Cancels a job: it stops, and its partial data and journal entry are removed.
    pub fn cancel(&self, id: &str) -> bool {
        self.control(id, Control::Cancel)
    }

    /// Starts a failed job again from its journal entry (what it had verified is kept).
    pub fn retry(&self, id: &str) -> bool {
        let failed = {
            let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
            jobs.get(id).is_some_and(|j| matches!(*j.outcome.borrow(), Some(Outcome::Failed { .. })))
        };
        let Ok((rec, _)) = self.inner.journal.load(id) else { return false };
        if !failed {
            return false;
        }
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
        self.start(rec, false);
        true
    }

    /// Pauses every job.
    pub fn pause_all(&self) {
        for j in self.jobs() {
            self.pause(&j.id);
        }
    }

    /// Resumes every job.
    pub fn resume_all(&self) {
        for j in self.jobs() {
            self.resume(&j.id);
        }
    }

    /// Moves a job to the front of the queue (it takes the next free slot).
    pub fn move_to_top(&self, id: &str) -> bool {
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let top = jobs.values().map(|j| j.record.priority).min().unwrap_or(0) - 1;
        let Some(j) = jobs.get_mut(id).filter(|j| j.outcome.borrow().is_none()) else { return false };
        j.record.priority = top;
        let _ = self.inner.journal.save(&j.record);
        self.inner.slots.reprioritise(&j.record.id, top);
        true
    }

    fn set_paused(&self, id: &str, paused: bool) -> bool {
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let Some(j) = jobs.get_mut(id).filter(|j| j.outcome.borrow().is_none()) else { return false };
        j.record.paused = paused;
        let _ = self.inner.journal.save(&j.record);
        true
    }
}
