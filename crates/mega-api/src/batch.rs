//! Coalescing independent commands into shared requests (spec §1.3: a request is an array of
//! commands, answered by an array with one result per command).
//!
//! Thousands of small transfers each need a `g`, or a `u` and a `p`; sent one request each, they
//! serialise on the API's round trip. Commands sent through [`Client::command_batched`] wait in
//! a lane per authentication (a session, a folder link, anonymous): a lone command goes at
//! once, and while [`MAX_IN_FLIGHT`] requests of the lane are out, whatever queues up goes
//! together in the next one (up to [`MAX_BATCH`] commands) as soon as one of them returns. No
//! timer: an idle client adds no latency, a busy one sends few requests.
//!
//! Each command gets its own result: a negative code in a batch fails only that command. A
//! failure of the whole request (after the client's retries) fails every command in it.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use crate::client::{command_name, Auth, Client};
use crate::error::{Error, Result};

/// Commands per request at most.
pub(crate) const MAX_BATCH: usize = 64;
/// Requests of one lane on the wire at once.
pub(crate) const MAX_IN_FLIGHT: usize = 2;

/// A command waiting for its request.
struct Waiting {
    command: Value,
    reply: oneshot::Sender<Result<Value>>,
}

#[derive(Default)]
struct Lane {
    queue: VecDeque<Waiting>,
    in_flight: usize,
}

/// A lane's key: the authentication's query string (it holds a sid: kept in memory only,
/// zeroized when the lane goes, never printed).
#[derive(Clone, PartialEq, Eq)]
struct LaneKey(Zeroizing<String>);

impl std::hash::Hash for LaneKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.as_str().hash(state);
    }
}

/// The lanes of one client.
#[derive(Default)]
pub(crate) struct Batcher {
    lanes: Mutex<HashMap<LaneKey, Lane>>,
}

impl std::fmt::Debug for Batcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batcher")
    }
}

impl Client {
    /// Sends one command in a request shared with other commands of the same authentication
    /// that are waiting at the same time; its own result (a negative code fails only it).
    pub(crate) async fn command_batched(&self, auth: &Auth, command: Value) -> Result<Value> {
        let (tx, rx) = oneshot::channel();
        let key = LaneKey(Zeroizing::new(auth.query()));
        let context = command_name(&command);
        {
            let mut lanes = self.inner.batcher.lanes.lock().unwrap_or_else(|e| e.into_inner());
            lanes.entry(key.clone()).or_default().queue.push_back(Waiting { command, reply: tx });
            self.pump(&mut lanes, &key, auth);
        }
        rx.await.unwrap_or_else(|_| Err(Error::protocol(context, "the shared request was dropped")))
    }

    /// Sends commands together, in requests shared as [`Client::command_batched`]'s (queued at
    /// once, so they fill requests of [`MAX_BATCH`] from the first); each command's own result,
    /// in order.
    pub(crate) async fn commands_batched(&self, auth: &Auth, commands: Vec<Value>) -> Vec<Result<Value>> {
        let key = LaneKey(Zeroizing::new(auth.query()));
        let mut waiting = Vec::with_capacity(commands.len());
        {
            let mut lanes = self.inner.batcher.lanes.lock().unwrap_or_else(|e| e.into_inner());
            let lane = lanes.entry(key.clone()).or_default();
            for command in commands {
                let (tx, rx) = oneshot::channel();
                waiting.push((command_name(&command), rx));
                lane.queue.push_back(Waiting { command, reply: tx });
            }
            self.pump(&mut lanes, &key, auth);
        }
        let mut out = Vec::with_capacity(waiting.len());
        for (context, rx) in waiting {
            out.push(rx.await.unwrap_or_else(|_| Err(Error::protocol(context, "the shared request was dropped"))));
        }
        out
    }

    /// Starts requests for a lane while it has queued commands and room on the wire.
    fn pump(&self, lanes: &mut HashMap<LaneKey, Lane>, key: &LaneKey, auth: &Auth) {
        let Some(lane) = lanes.get_mut(key) else { return };
        // Callers that gave up (a cancelled transfer) need no request.
        lane.queue.retain(|w| !w.reply.is_closed());
        while lane.in_flight < MAX_IN_FLIGHT && !lane.queue.is_empty() {
            let n = lane.queue.len().min(MAX_BATCH);
            let batch: Vec<Waiting> = lane.queue.drain(..n).collect();
            lane.in_flight += 1;
            let (client, auth, key) = (self.clone(), auth.clone(), key.clone());
            tokio::spawn(async move { client.send_batch(auth, key, batch).await });
        }
        if lane.queue.is_empty() && lane.in_flight == 0 {
            lanes.remove(key);
        }
    }

    async fn send_batch(self, auth: Auth, key: LaneKey, batch: Vec<Waiting>) {
        let (commands, replies): (Vec<Value>, Vec<oneshot::Sender<Result<Value>>>) =
            batch.into_iter().map(|w| (w.command, w.reply)).unzip();
        match self.request_as(&auth, &commands).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                let mut replies = replies.into_iter();
                let first = replies.next();
                for reply in replies {
                    let _ = reply.send(Err(e.shared()));
                }
                // The first command gets the original error (with its cause).
                if let Some(first) = first {
                    let _ = first.send(Err(e));
                }
            }
        }
        let mut lanes = self.inner.batcher.lanes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lane) = lanes.get_mut(&key) {
            lane.in_flight = lane.in_flight.saturating_sub(1);
        }
        self.pump(&mut lanes, &key, &auth);
    }
}
