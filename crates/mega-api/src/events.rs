//! The event channel (spec §6.6): `sc?sn=` answers with action packets and a new `sn`, or with
//! a wait URL to long-poll before asking again with the same `sn`.

use mega_proto::ErrorCode;
use serde_json::Value;

use crate::client::{read_limited, Auth, Client};
use crate::config::{with_retries, Deadline};
use crate::error::{Error, Result};
use crate::tree::{ActionPacket, Change, Tree};

/// What one round of the event channel brought.
#[derive(Debug, Clone)]
pub enum EventBatch {
    /// Packets to apply in order, and the position after them.
    Packets {
        /// The packets.
        packets: Vec<ActionPacket>,
        /// The new `sn`.
        sn: String,
    },
    /// The server no longer has the events since this position (`-6`): fetch the tree again
    /// and follow the new tree's `sn`.
    Reload,
}

/// A long-poll reader of the event channel, from a position (`sn`).
#[derive(Debug)]
pub struct Events {
    client: Client,
    auth: Auth,
    sn: String,
    /// Long polls failed in a row.
    failed_polls: u32,
}

/// The most read of one `sc` reply. A batch of action packets grows with what changed: a
/// folder of 100,000 nodes added elsewhere arrives as one `t` packet of about 40 MB. 128 MiB
/// takes that with room to spare and bounds what a broken server can make this client hold.
const SC_REPLY_LIMIT: u64 = 128 << 20;

/// The most read of the long poll's answer, a signal of a few bytes.
const WAIT_REPLY_LIMIT: u64 = 64 << 10;

impl Events {
    pub(crate) fn new(client: Client, auth: Auth, sn: String) -> Self {
        Events { client, auth, sn, failed_polls: 0 }
    }

    /// The current position.
    pub fn sn(&self) -> &str {
        &self.sn
    }

    /// Waits for the next packets. Network failures and `-3` are retried with the client's
    /// policy (within its request timeout); `-15` is [`crate::ErrorKind::SessionExpired`]. The
    /// long poll waits up to the long-poll timeout; as many failed polls in a row as the
    /// policy has attempts end the wait with the last failure.
    pub async fn next(&mut self) -> Result<EventBatch> {
        let config = self.client.config().clone();
        loop {
            let wait = match self.ask().await? {
                Asked::Batch(batch) => return Ok(batch),
                Asked::Wait(wait) => wait,
            };
            self.long_poll(&config, &wait).await?;
        }
    }

    /// What is pending now, without waiting: the next packets (or [`EventBatch::Reload`]),
    /// or `None` when this position is current. Read until `None` to catch up from a saved
    /// position.
    pub async fn pending(&mut self) -> Result<Option<EventBatch>> {
        Ok(match self.ask().await? {
            Asked::Batch(batch) => Some(batch),
            Asked::Wait(_) => None,
        })
    }

    /// One `sc` request.
    async fn ask(&mut self) -> Result<Asked> {
        let config = self.client.config().clone();
        let ssl = if config.https_transfers { "&ssl=1" } else { "" };
        let url = zeroize::Zeroizing::new(format!("{}sc?sn={}{}{ssl}", config.api_url, self.sn, self.auth.query()));
        let http = self.client.http().clone();
        let reply = with_retries(config.retry, "sc", Some(&Deadline::after(config.request_timeout)), || async {
            let resp = http
                .post(url.as_str())
                .timeout(config.request_timeout)
                .body("")
                .send()
                .await
                .map_err(|e| Error::network("sc", e))?;
            if !resp.status().is_success() {
                return Err(Error::Status { context: "sc", status: resp.status().as_u16(), time_left: None });
            }
            let body = read_limited(resp, "sc", SC_REPLY_LIMIT).await?;
            let v: Value = serde_json::from_slice(&body).map_err(|_| Error::protocol("sc", "not JSON"))?;
            match v.as_i64() {
                Some(c) if ErrorCode::from_code(c).is_temporary() && c != ErrorCode::TooMany.code() => {
                    Err(Error::api("sc", ErrorCode::from_code(c)))
                }
                _ => Ok(v),
            }
        })
        .await?;
        if let Some(code) = reply.as_i64() {
            return match ErrorCode::from_code(code) {
                ErrorCode::TooMany => Ok(Asked::Batch(EventBatch::Reload)),
                code => Err(Error::api("sc", code)),
            };
        }
        if let Some(packets) = reply.get("a").and_then(Value::as_array) {
            let sn = reply.get("sn").and_then(Value::as_str).ok_or(Error::protocol("sc", "packets without sn"))?;
            self.sn = sn.to_string();
            // Echoes of this client's own attribute changes that a newer own change of the
            // same node superseded: skipped (the caller's tree already has the newer one).
            // Node additions and removals are applied even when they are ours, as the SDK
            // does, and so is the echo of the newest change (see `Client::own_tag`).
            let packets = packets
                .iter()
                .map(|p| (p, ActionPacket::parse(p)))
                .filter(|(p, packet)| {
                    let ActionPacket::Attributes { handle, .. } = packet else { return true };
                    !p.get("i").and_then(Value::as_str).is_some_and(|i| self.client.is_superseded_own_tag(i, *handle))
                })
                .map(|(_, packet)| packet)
                .collect();
            return Ok(Asked::Batch(EventBatch::Packets { packets, sn: self.sn.clone() }));
        }
        let Some(wait) = reply.get("w").and_then(Value::as_str) else {
            return Err(Error::protocol("sc", "neither packets nor a wait URL"));
        };
        Ok(Asked::Wait(wait.to_string()))
    }

    /// The long poll of a wait URL.
    async fn long_poll(&mut self, config: &crate::config::Config, wait: &str) -> Result<()> {
        // The long poll: its answer is only a signal; the end of its time means "ask
        // again". Failures (an error status too: answered at once, it would make this a
        // busy loop) back off, and end the wait once the policy's attempts are spent in a
        // row.
        let long_poll = self.client.inner.http_without_idle.clone();
        let failure = match long_poll.post(wait).timeout(config.long_poll_timeout).body("").send().await {
            Ok(resp) if resp.status().is_success() => {
                let _ = read_limited(resp, "sc wait", WAIT_REPLY_LIMIT).await;
                None
            }
            Ok(resp) => Some(Error::Status { context: "sc wait", status: resp.status().as_u16(), time_left: None }),
            Err(e) if e.is_timeout() => None,
            Err(e) => Some(Error::network("sc wait", e)),
        };
        match failure {
            None => self.failed_polls = 0,
            Some(e) => {
                self.failed_polls += 1;
                let Some(delay) = config.retry.next_delay(self.failed_polls) else {
                    let failed = std::mem::take(&mut self.failed_polls);
                    tracing::warn!(attempts = failed, error = %e, "the event channel's long poll keeps failing");
                    return Err(e);
                };
                tracing::warn!(attempt = self.failed_polls, ?delay, error = %e, "the event channel's long poll failed; waiting");
                tokio::time::sleep(delay).await;
            }
        }
        Ok(())
    }
}

/// One answer of `sc`: a batch, or a wait URL.
enum Asked {
    Batch(EventBatch),
    Wait(String),
}

impl Tree {
    /// Applies a batch from [`Events::next`] and moves this tree's `sn` past it. For
    /// [`EventBatch::Reload`] nothing changes: fetch the tree again.
    pub fn apply_batch(&mut self, batch: &EventBatch) -> Vec<Change> {
        match batch {
            EventBatch::Packets { packets, sn } => {
                let changes = self.apply(packets);
                self.set_sn(sn.clone());
                changes
            }
            EventBatch::Reload => Vec::new(),
        }
    }
}

impl crate::Session {
    /// Applies a batch from [`Events::next`] as [`Tree::apply_batch`] does and, when it said the
    /// account's `^!keys` changed ([`Tree::key_manager_stale`]), reads it again: the nodes its
    /// new share keys open are reported as [`Change::Updated`]. A `^!keys` that cannot be read
    /// again is logged (the share keys already learnt stay) and is no error here.
    pub async fn apply_batch(&self, tree: &mut Tree, batch: &EventBatch) -> Result<Vec<Change>> {
        let mut changes = tree.apply_batch(batch);
        if tree.key_manager_stale() {
            match self.reread_key_manager(tree).await {
                Ok(opened) => changes.extend(opened.into_iter().map(Change::Updated)),
                Err(e) if e.kind() == crate::ErrorKind::Crypto => {}
                Err(e) => return Err(e),
            }
        }
        Ok(changes)
    }

    /// The event channel from a tree's position.
    pub fn events(&self, tree: &Tree) -> Events {
        Events::new(self.client.clone(), self.auth(), tree.sn().to_string())
    }
}
