//! The progress bridge: the engine's events (a broadcast channel of plain Rust values) become
//! [`TransferEvent`]s on one `tauri::ipc::Channel` per window. State changes go at once; byte
//! progress is kept per job and sent in one batch every [`BATCH`]. The bridge also keeps the
//! table of jobs that `transfers_subscribe` hands out as its snapshot, so a window opened (or
//! reloaded) later sees every job, including those resumed from the journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mega_transfer::{Direction, Event, WaitReason};
use tauri::ipc::Channel;

use crate::dto::{
    DirectionDto, RemovedDto, TransferDto, TransferEvent, TransferProgress, TransferState, TransferStateChange,
};
use crate::error::kind_of;

/// How often byte progress goes out.
pub const BATCH: Duration = Duration::from_millis(150);

/// Something the app does beyond the channels (notifications, the quota banner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A job finished.
    Done {
        /// Its name.
        name: String,
        /// Download or upload.
        download: bool,
    },
    /// A job failed for good.
    Failed {
        /// Its name.
        name: String,
        /// Why.
        message: String,
    },
    /// The transfer quota ran out; it frees in this many seconds.
    QuotaWait {
        /// Seconds.
        seconds: u64,
    },
}

impl Notice {
    /// The desktop notification's summary and body.
    pub fn notification(&self) -> (String, String) {
        match self {
            Notice::QuotaWait { seconds } => (
                "Transfer quota used up".to_string(),
                format!("Transfers continue in about {} minutes", seconds.div_ceil(60)),
            ),
            Notice::Done { name, download } => {
                let what = if *download { "Downloaded" } else { "Uploaded" };
                (what.to_string(), name.clone())
            }
            Notice::Failed { name, message } => (format!("{name} failed"), message.clone()),
        }
    }
}

#[derive(Default)]
struct Table {
    jobs: BTreeMap<String, TransferDto>,
    cleared: HashSet<String>,
    pending: BTreeMap<String, TransferProgress>,
    channels: HashMap<String, Channel<TransferEvent>>,
}

impl Table {
    fn send(&mut self, ev: &TransferEvent) {
        // A channel whose window went away is dropped.
        self.channels.retain(|_, ch| ch.send(ev.clone()).is_ok());
    }
}

/// The job table and the subscribed windows.
#[derive(Default)]
pub struct Bridge {
    table: Mutex<Table>,
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn kind_name(kind: mega_api::ErrorKind) -> String {
    serde_json::to_value(kind_of(kind).0).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Bridge {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Subscribes a window (replacing its earlier channel) and returns the snapshot.
    pub fn subscribe(&self, window: &str, channel: Channel<TransferEvent>) -> Vec<TransferDto> {
        let mut t = self.lock();
        t.channels.insert(window.to_string(), channel);
        t.jobs.values().cloned().collect()
    }

    /// Every job known.
    pub fn snapshot(&self) -> Vec<TransferDto> {
        self.lock().jobs.values().cloned().collect()
    }

    /// Whether a job is running or about to (queued, active, waiting, retrying): paused,
    /// finished, failed and cancelled jobs are not.
    pub fn running(&self) -> bool {
        self.lock().jobs.values().any(|j| {
            matches!(
                j.state,
                TransferState::Queued | TransferState::Active | TransferState::Waiting | TransferState::Retrying
            )
        })
    }

    /// One job.
    pub fn job(&self, id: &str) -> Option<TransferDto> {
        self.lock().jobs.get(id).cloned()
    }

    /// Removes finished, failed and cancelled jobs from the table and tells the windows.
    pub fn clear_finished(&self) -> Vec<String> {
        let mut t = self.lock();
        let gone: Vec<String> = t
            .jobs
            .values()
            .filter(|j| matches!(j.state, TransferState::Done | TransferState::Cancelled | TransferState::Failed))
            .map(|j| j.id.clone())
            .collect();
        for id in &gone {
            t.jobs.remove(id);
            t.pending.remove(id);
            t.cleared.insert(id.clone());
            t.send(&TransferEvent::Removed(RemovedDto { id: id.clone() }));
        }
        gone
    }

    /// Sends the batched progress.
    pub fn flush(&self) {
        let mut t = self.lock();
        let pending = std::mem::take(&mut t.pending);
        for (_, p) in pending {
            t.send(&TransferEvent::Progress(p));
        }
    }

    /// Takes one engine event: updates the table, sends state changes at once, batches
    /// progress. Returns what the app should do beyond that.
    pub fn handle(&self, ev: Event) -> Option<Notice> {
        let mut t = self.lock();
        let id = event_id(&ev).to_string();
        if t.cleared.contains(&id) && !matches!(ev, Event::Queued { .. }) {
            return None;
        }
        let mut notice = None;
        let (state, reason, until, error_kind) = match ev {
            Event::Queued { id, direction, name, size } => {
                t.cleared.remove(&id);
                let dto = TransferDto {
                    id: id.clone(),
                    direction: match direction {
                        Direction::Download => DirectionDto::Download,
                        Direction::Upload => DirectionDto::Upload,
                    },
                    name,
                    size,
                    done: t.jobs.get(&id).map_or(0, |j| j.done),
                    speed: 0,
                    eta: None,
                    state: TransferState::Queued,
                    reason: None,
                    until: None,
                    error_kind: None,
                    path: None,
                };
                t.jobs.insert(id, dto.clone());
                t.send(&TransferEvent::Snapshot(dto));
                return None;
            }
            Event::Progress { id, done, speed, eta, .. } => {
                let eta = eta.map(|d| d.as_secs());
                let job = t.jobs.get_mut(&id)?;
                (job.done, job.speed, job.eta) = (done, speed, eta);
                // Pieces under way when the quota ran out still land: the job waits on until
                // the time the wait was given for has come.
                let waiting =
                    job.state == TransferState::Waiting && job.until.is_some_and(|u| u > unix(SystemTime::now()));
                if job.state != TransferState::Active && !waiting {
                    job.state = TransferState::Active;
                    job.reason = None;
                    let state = TransferEvent::State(TransferStateChange {
                        id: id.clone(),
                        state: TransferState::Active,
                        reason: None,
                        until: None,
                        error_kind: None,
                    });
                    t.send(&state);
                }
                t.pending.insert(id.clone(), TransferProgress { id, done, speed, eta });
                return None;
            }
            Event::Started { .. } => (TransferState::Active, None, None, None),
            Event::Paused { .. } => (TransferState::Paused, None, None, None),
            Event::Waiting { reason, until, .. } => {
                let until = until.map(unix);
                if reason == WaitReason::TransferQuota {
                    let now = unix(SystemTime::now());
                    notice = Some(Notice::QuotaWait { seconds: until.map_or(0, |u| u.saturating_sub(now)) });
                }
                let why = match reason {
                    WaitReason::TransferQuota => "transfer quota",
                    WaitReason::Queue => "queue",
                };
                (TransferState::Waiting, Some(why.to_string()), until, None)
            }
            Event::Retrying { reason, .. } => (TransferState::Retrying, Some(reason), None, None),
            Event::Failed { kind, message, .. } => {
                let name = t.jobs.get(&id).map(|j| j.name.clone()).unwrap_or_default();
                notice = Some(Notice::Failed { name, message: message.clone() });
                (TransferState::Failed, Some(message), None, Some(kind_name(kind)))
            }
            Event::Done { path, .. } => {
                // Held-back progress before the final snapshot, never after it (the UI would
                // show less done than the snapshot said).
                if let Some(p) = t.pending.remove(&id) {
                    t.send(&TransferEvent::Progress(p));
                }
                if let Some(job) = t.jobs.get_mut(&id) {
                    job.done = job.size;
                    job.path = path.map(|p| p.to_string_lossy().into_owned());
                    notice = Some(Notice::Done {
                        name: job.name.clone(),
                        download: job.direction == DirectionDto::Download,
                    });
                    let dto = job.clone();
                    t.send(&TransferEvent::Snapshot(dto));
                }
                (TransferState::Done, None, None, None)
            }
            Event::Skipped { reason, .. } => (TransferState::Done, Some(reason), None, None),
            Event::Cancelled { .. } => (TransferState::Cancelled, None, None, None),
        };
        // Progress held back for this job goes first, so the order stays true.
        if let Some(p) = t.pending.remove(&id) {
            t.send(&TransferEvent::Progress(p));
        }
        if let Some(job) = t.jobs.get_mut(&id) {
            job.state = state;
            job.reason.clone_from(&reason);
            job.until = until;
            job.error_kind.clone_from(&error_kind);
            if state != TransferState::Active {
                job.speed = 0;
                job.eta = None;
            }
        }
        t.send(&TransferEvent::State(TransferStateChange { id, state, reason, until, error_kind }));
        notice
    }
}

fn event_id(ev: &Event) -> &str {
    match ev {
        Event::Queued { id, .. }
        | Event::Started { id }
        | Event::Progress { id, .. }
        | Event::Paused { id }
        | Event::Waiting { id, .. }
        | Event::Retrying { id, .. }
        | Event::Failed { id, .. }
        | Event::Done { id, .. }
        | Event::Skipped { id, .. }
        | Event::Cancelled { id } => id,
    }
}

/// Pumps an engine's events into the bridge until the engine goes away; `notice` gets what
/// the app does beyond the channels.
pub async fn pump(
    bridge: std::sync::Arc<Bridge>,
    mut events: tokio::sync::broadcast::Receiver<Event>,
    notice: impl Fn(Notice) + Send + 'static,
) {
    use tokio::sync::broadcast::error::RecvError;
    let mut tick = tokio::time::interval(BATCH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(ev) => {
                    if let Some(n) = bridge.handle(ev) {
                        notice(n);
                    }
                }
                Err(RecvError::Lagged(n)) => log::warn!("the transfer view skipped {n} engine events"),
                Err(RecvError::Closed) => break,
            },
            _ = tick.tick() => bridge.flush(),
        }
    }
    bridge.flush();
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use serde_json::Value;
    use tauri::ipc::{Channel, InvokeResponseBody};

    use super::*;

    fn recorder() -> (Channel<TransferEvent>, Arc<Mutex<Vec<Value>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let ch = Channel::new(move |body| {
            if let InvokeResponseBody::Json(s) = body {
                sink.lock().unwrap().push(serde_json::from_str(&s).unwrap());
            }
            Ok(())
        });
        (ch, seen)
    }

    fn progress(done: u64) -> Event {
        Event::Progress { id: "j1".into(), done, total: 100, speed: 10, eta: Some(Duration::from_secs(9)) }
    }

    #[test]
    fn state_changes_go_at_once_and_progress_in_batches() {
        let bridge = Bridge::default();
        let (ch, seen) = recorder();
        assert!(bridge.subscribe("main", ch).is_empty());
        let queued = Event::Queued { id: "j1".into(), direction: Direction::Download, name: "a.bin".into(), size: 100 };
        assert_eq!(bridge.handle(queued), None);
        for done in [10, 20, 30] {
            bridge.handle(progress(done));
        }
        {
            let seen = seen.lock().unwrap();
            let kinds: Vec<&str> = seen.iter().map(|v| v["event"].as_str().unwrap()).collect();
            assert_eq!(kinds, ["snapshot", "state"], "no progress before the batch");
            assert_eq!(seen[1]["data"]["state"], "active");
        }
        bridge.flush();
        bridge.flush();
        let progress_events: Vec<Value> =
            seen.lock().unwrap().iter().filter(|v| v["event"] == "progress").cloned().collect();
        assert_eq!(progress_events.len(), 1, "three updates, one batch");
        assert_eq!(progress_events[0]["data"], serde_json::json!({"id": "j1", "done": 30, "speed": 10, "eta": 9}));

        bridge.handle(progress(60));
        let done = Event::Done { id: "j1".into(), path: Some("/tmp/a.bin".into()), node: None };
        assert_eq!(bridge.handle(done), Some(Notice::Done { name: "a.bin".into(), download: true }));
        let seen_now = seen.lock().unwrap().clone();
        let tail: Vec<&str> = seen_now.iter().rev().take(3).map(|v| v["event"].as_str().unwrap()).collect();
        assert_eq!(tail, ["state", "snapshot", "progress"], "held-back progress goes before the state");
        let job = bridge.job("j1").unwrap();
        assert_eq!((job.state, job.done, job.path.as_deref()), (TransferState::Done, 100, Some("/tmp/a.bin")));

        // A window subscribing later gets the table; clearing removes finished jobs.
        let (late, _) = recorder();
        assert_eq!(bridge.subscribe("other", late).len(), 1);
        assert_eq!(bridge.clear_finished(), vec!["j1".to_string()]);
        assert!(bridge.snapshot().is_empty());
        assert_eq!(seen.lock().unwrap().last().unwrap()["event"], "removed");
    }

    #[test]
    fn quota_waits_and_failures_are_noticed() {
        let bridge = Bridge::default();
        let queued = Event::Queued { id: "j".into(), direction: Direction::Upload, name: "u".into(), size: 1 };
        bridge.handle(queued);
        let until = SystemTime::now() + Duration::from_secs(120);
        let wait = Event::Waiting { id: "j".into(), reason: WaitReason::TransferQuota, until: Some(until) };
        match bridge.handle(wait) {
            Some(Notice::QuotaWait { seconds }) => assert!((118..=120).contains(&seconds), "{seconds}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(bridge.job("j").unwrap().state, TransferState::Waiting);
        // A piece under way when the quota ran out lands: still waiting, its bytes counted.
        let landed = |done| Event::Progress { id: "j".into(), done, total: 100, speed: 1, eta: None };
        bridge.handle(landed(10));
        assert_eq!((bridge.job("j").unwrap().state, bridge.job("j").unwrap().done), (TransferState::Waiting, 10));
        // The wait over, the next bytes show it running again.
        let over = Event::Waiting { id: "j".into(), reason: WaitReason::TransferQuota, until: Some(SystemTime::now()) };
        bridge.handle(over);
        bridge.handle(landed(20));
        assert_eq!(bridge.job("j").unwrap().state, TransferState::Active);
        let failed = Event::Failed { id: "j".into(), kind: mega_api::ErrorKind::Crypto, message: "MAC".into() };
        assert!(matches!(bridge.handle(failed), Some(Notice::Failed { .. })));
        assert_eq!(bridge.job("j").unwrap().error_kind.as_deref(), Some("crypto"));
    }

    #[test]
    fn notices_read_as_notifications() {
        let n = |notice: Notice| notice.notification();
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(n(Notice::Done { name: "a.bin".into(), download: true }), s("Downloaded", "a.bin"));
        assert_eq!(n(Notice::Done { name: "b.txt".into(), download: false }), s("Uploaded", "b.txt"));
        let failed = Notice::Failed { name: "c.iso".into(), message: "the file's MAC does not match".into() };
        assert_eq!(n(failed), s("c.iso failed", "the file's MAC does not match"));
        let quota = Notice::QuotaWait { seconds: 1741 };
        assert_eq!(n(quota), s("Transfer quota used up", "Transfers continue in about 30 minutes"));
    }
}
