//! Running jobs: queueing them (events, the journal), taking a file slot in priority order,
//! running the download or upload with retries and backoff, and recording how they ended.

use std::path::PathBuf;

use mega_api::ErrorKind;
use tokio::sync::watch;

use super::{Control, Engine, JobInfo, JobState, Outcome, TransferError};
use crate::events::{Direction, Event, JobId};
use crate::journal::{JobRecord, JobSpec, Source};
use crate::slots::Pool;
use crate::{download, upload};

impl Engine {
    pub(super) fn next_priority(&self) -> i64 {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.values().map(|j| j.record.priority).max().map_or(0, |p| p + 1)
    }

    /// Records a job that ended before it started (skipped).
    pub(super) fn finished_now(&self, id: JobId, direction: Direction, name: &str, size: u64, outcome: Outcome) {
        let (control, _) = watch::channel(Control::Run);
        let (tx, _) = watch::channel(Some(outcome));
        let spec = match direction {
            Direction::Download => JobSpec::Download {
                source: Source::Public { handle: String::new() },
                key: String::new(),
                size,
                path: PathBuf::from(name),
                mtime: None,
                overwrite: false,
            },
            Direction::Upload => JobSpec::Upload {
                local: PathBuf::from(name),
                parent: String::new(),
                name: name.to_string(),
                size,
                mtime: 0,
                url: None,
                cipher: None,
            },
        };
        let record = JobRecord { id: id.clone(), spec, priority: self.next_priority(), paused: false };
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, JobState { record, running: false, control, outcome: tx });
    }

    /// Queues a job; with `save`, its record is written to the journal first (on a blocking
    /// thread: thousands of files queued at once have their records fsynced side by side).
    pub(super) fn start(&self, rec: JobRecord, save: bool) {
        let (control, control_rx) = watch::channel(if rec.paused { Control::Pause } else { Control::Run });
        let (outcome, _) = watch::channel(None);
        let id = rec.id.clone();
        let i = info_of(&rec);
        self.inner.emit(Event::Queued { id: id.clone(), direction: i.0, name: i.1, size: i.2 });
        self.inner
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), JobState { record: rec, running: false, control, outcome });
        let engine = self.clone();
        tokio::spawn(async move {
            if save {
                if let Err(e) = engine.save_record(&id).await {
                    let (kind, message) = (e.kind(), e.to_string());
                    engine.inner.emit(Event::Failed { id: id.clone(), kind, message: message.clone() });
                    engine.finish(&id, Outcome::Failed { kind, message });
                    return;
                }
            }
            engine.run(id, control_rx).await
        });
    }

    /// Writes a job's record (as it is now) to the journal.
    async fn save_record(&self, id: &str) -> Result<(), TransferError> {
        let Some(rec) = self.record(id) else { return Ok(()) };
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.journal.save(&rec))
            .await
            .map_err(|e| TransferError::Unavailable(e.to_string()))?
            .map_err(Into::into)
    }

    /// Records how a job ended (its local paths free for others again).
    fn finish(&self, id: &str, outcome: Outcome) {
        if let Some(JobSpec::Download { path, .. }) = self.record(id).map(|r| r.spec) {
            let mut claimed = self.inner.claimed.lock().unwrap_or_else(|e| e.into_inner());
            claimed.remove(&path);
            if let Outcome::Done { path: Some(placed), .. } = &outcome {
                claimed.remove(placed);
            }
        }
        if let Some(j) = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            j.outcome.send_replace(Some(outcome));
        }
    }

    async fn run(&self, id: JobId, mut control: watch::Receiver<Control>) {
        let mut retries = 0;
        let outcome = loop {
            // Paused: wait for resume (or cancel) before taking a slot.
            while *control.borrow_and_update() == Control::Pause {
                self.inner.emit(Event::Paused { id: id.clone() });
                if control.changed().await.is_err() {
                    return;
                }
            }
            if *control.borrow() == Control::Cancel {
                break self.cancelled(&id);
            }
            let Some(rec) = self.record(&id) else { return };
            let pool = Pool::of_size(info_of(&rec).2);
            // A file slot in priority order; a pause or cancel while queued is seen above.
            let slot = tokio::select! {
                slot = self.inner.slots.acquire(&id, rec.priority, pool) => slot,
                changed = control.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    continue;
                }
            };
            let Some(rec) = self.record(&id) else { return };
            self.set_running(&id, true);
            self.inner.emit(Event::Started { id: id.clone() });
            let result = match &rec.spec {
                JobSpec::Download { .. } => download::run(&self.inner, &rec, control.clone()).await,
                JobSpec::Upload { .. } => upload::run(&self.inner, &rec, control.clone()).await,
            };
            self.set_running(&id, false);
            drop(slot);
            match result {
                Ok(o) => {
                    let _ = self.inner.journal.remove(&id);
                    if let Outcome::Done { path, node } = &o {
                        self.inner.emit(Event::Done { id: id.clone(), path: path.clone(), node: *node });
                    }
                    break o;
                }
                Err(TransferError::Paused) => continue,
                Err(TransferError::Cancelled) => break self.cancelled(&id),
                Err(e) if e.is_temporary() && retries < self.inner.config.max_retries => {
                    retries += 1;
                    // The job's workers have retried on their own before this: the job's turns
                    // start two steps up the client's backoff.
                    let delay = self.inner.client.retry_policy().backoff(retries + 2);
                    let of = self.inner.config.max_retries.to_string();
                    self.inner.say_retry(&id, &e, "running the job again", delay, retries, &of);
                    match self.inner.pause_for(delay, &control).await {
                        Ok(()) | Err(TransferError::Paused) => {}
                        Err(_) => break self.cancelled(&id),
                    }
                }
                Err(e) => {
                    if e.kind() == ErrorKind::Crypto {
                        // A verified failure (MAC mismatch twice): nothing to resume.
                        let _ = self.inner.journal.remove(&id);
                    }
                    let (kind, message) = (e.kind(), e.to_string());
                    self.inner.emit(Event::Failed { id: id.clone(), kind, message: message.clone() });
                    break Outcome::Failed { kind, message };
                }
            }
        };
        self.finish(&id, outcome);
    }

    fn cancelled(&self, id: &str) -> Outcome {
        if let Some(rec) = self.record(id) {
            if let JobSpec::Download { path, .. } = &rec.spec {
                download::remove_part(path, id);
            }
        }
        let _ = self.inner.journal.remove(id);
        self.inner.emit(Event::Cancelled { id: id.to_string() });
        Outcome::Cancelled
    }

    fn set_running(&self, id: &str, running: bool) {
        if let Some(j) = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            j.running = running;
        }
    }

    pub(super) fn record(&self, id: &str) -> Option<JobRecord> {
        self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).get(id).map(|j| j.record.clone())
    }
}

fn info_of(rec: &JobRecord) -> (Direction, String, u64) {
    match &rec.spec {
        JobSpec::Download { path, size, .. } => {
            (Direction::Download, path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), *size)
        }
        JobSpec::Upload { name, size, .. } => (Direction::Upload, name.clone(), *size),
    }
}

pub(super) fn info(j: &JobState) -> JobInfo {
    let (direction, name, size) = info_of(&j.record);
    JobInfo {
        id: j.record.id.clone(),
        direction,
        name,
        size,
        priority: j.record.priority,
        paused: j.record.paused,
        outcome: j.outcome.borrow().clone(),
    }
}
