//! Running every watch of a store (or a chosen few) and following the store as other processes
//! change it: a watch added is started, one removed is stopped, pauses reach the runners
//! through the store itself. A watch that another runner holds is reported once and taken over
//! when that runner ends; one that fails to start is tried again after a while.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch as signal};

use super::{start, RunOptions, WatchError, WatchHandle, WatchId, WatchStatus, WatchStore};
use crate::engine::Engine;

/// How long a watch that failed to start waits before it is tried again.
const RETRY_FAILED: Duration = Duration::from_secs(30);

/// What a [`Supervisor`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SupervisorEvent {
    /// A watch started running here.
    Started(WatchId),
    /// Another runner (this process or another) has the watch; it is taken over when that one
    /// ends.
    Busy {
        /// The watch.
        id: WatchId,
        /// The process that runs it, when known.
        pid: Option<u32>,
    },
    /// A watch could not start (tried again later).
    Failed {
        /// The watch.
        id: WatchId,
        /// Why (never a key).
        message: String,
    },
    /// A watch was removed from the store (or is no longer wanted) and stopped here.
    Stopped(WatchId),
}

/// Runs the watches of a store; see [`supervise`].
#[derive(Debug)]
pub struct Supervisor {
    stop: signal::Sender<bool>,
    events: mpsc::UnboundedReceiver<SupervisorEvent>,
    statuses: Arc<Mutex<BTreeMap<WatchId, signal::Receiver<WatchStatus>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Supervisor {
    /// The next thing it did (`None` once stopped).
    pub async fn next_event(&mut self) -> Option<SupervisorEvent> {
        self.events.recv().await
    }

    /// The watches running here, with what each is doing.
    pub fn statuses(&self) -> Vec<(WatchId, WatchStatus)> {
        let s = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        s.iter().map(|(id, rx)| (id.clone(), rx.borrow().clone())).collect()
    }

    /// Stops every watch it runs (jobs in the engine go on; the next start continues them).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Runs every watch of `store` on `engine`, or only those of `only`, checking the store every
/// `poll` for watches added or removed by any process.
pub fn supervise(
    engine: &Engine,
    store: &WatchStore,
    only: Option<Vec<WatchId>>,
    options: RunOptions,
    poll: Duration,
) -> Supervisor {
    let (stop_tx, stop) = signal::channel(false);
    let (events_tx, events) = mpsc::unbounded_channel();
    let statuses = Arc::new(Mutex::new(BTreeMap::new()));
    let state = State {
        engine: engine.clone(),
        store: store.clone(),
        only,
        options,
        events: events_tx,
        statuses: statuses.clone(),
        running: HashMap::new(),
        busy: HashMap::new(),
        failed: HashMap::new(),
    };
    let task = tokio::spawn(state.run(stop, poll));
    Supervisor { stop: stop_tx, events, statuses, task }
}

struct State {
    engine: Engine,
    store: WatchStore,
    only: Option<Vec<WatchId>>,
    options: RunOptions,
    events: mpsc::UnboundedSender<SupervisorEvent>,
    statuses: Arc<Mutex<BTreeMap<WatchId, signal::Receiver<WatchStatus>>>>,
    running: HashMap<WatchId, WatchHandle>,
    /// Held by another runner (reported once).
    busy: HashMap<WatchId, Option<u32>>,
    /// Failed to start: when, and the message reported.
    failed: HashMap<WatchId, (Instant, String)>,
}

impl State {
    async fn run(mut self, mut stop: signal::Receiver<bool>, poll: Duration) {
        let mut tick = tokio::time::interval(poll.max(Duration::from_millis(50)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                _ = tick.tick() => self.reconcile().await,
            }
        }
        for (_, h) in self.running.drain() {
            h.stop().await;
        }
        self.statuses.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    fn emit(&self, e: SupervisorEvent) {
        let _ = self.events.send(e);
    }

    /// Starts what is wanted and not running, stops what runs and is no longer wanted.
    async fn reconcile(&mut self) {
        let wanted: Vec<WatchId> = match self.store.list() {
            Ok(ws) => {
                ws.into_iter().map(|w| w.id).filter(|id| self.only.as_ref().is_none_or(|o| o.contains(id))).collect()
            }
            Err(e) => {
                tracing::warn!("reading the watch store: {e}");
                return;
            }
        };
        let unwanted: Vec<WatchId> = self.running.keys().filter(|id| !wanted.contains(id)).cloned().collect();
        for id in unwanted {
            if let Some(h) = self.running.remove(&id) {
                h.stop().await;
            }
            self.statuses.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
            self.emit(SupervisorEvent::Stopped(id));
        }
        self.busy.retain(|id, _| wanted.contains(id));
        self.failed.retain(|id, _| wanted.contains(id));
        for id in wanted {
            if self.running.contains_key(&id) || self.failed.get(&id).is_some_and(|(at, _)| at.elapsed() < RETRY_FAILED)
            {
                continue;
            }
            self.try_start(id).await;
        }
    }

    async fn try_start(&mut self, id: WatchId) {
        match start(&self.engine, &self.store, &id, self.options.clone()).await {
            Ok(h) => {
                self.busy.remove(&id);
                self.failed.remove(&id);
                self.statuses.lock().unwrap_or_else(|e| e.into_inner()).insert(id.clone(), h.subscribe());
                self.running.insert(id.clone(), h);
                self.emit(SupervisorEvent::Started(id));
            }
            Err(WatchError::Busy { pid, .. }) => {
                if self.busy.insert(id.clone(), pid) != Some(pid) {
                    self.emit(SupervisorEvent::Busy { id, pid });
                }
            }
            // Removed between the listing and the start: the next round forgets it.
            Err(WatchError::NoSuchWatch(_)) => {}
            Err(e) => {
                let message = e.to_string();
                let again = self.failed.get(&id).is_some_and(|(_, m)| *m == message);
                self.failed.insert(id.clone(), (Instant::now(), message.clone()));
                if !again {
                    self.emit(SupervisorEvent::Failed { id, message });
                }
            }
        }
    }
}
