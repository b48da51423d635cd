//! The event channel (spec §6.6): `sc?sn=` answers with action packets and a new `sn`, or with
//! a wait URL to long-poll before asking again with the same `sn`.

use std::future::Future;

use mega_proto::ErrorCode;
use serde_json::Value;

use crate::client::{Auth, Client};
use crate::config::RetryPolicy;
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
}

impl Events {
    pub(crate) fn new(client: Client, auth: Auth, sn: String) -> Self {
        Events { client, auth, sn }
    }

    /// The current position.
    pub fn sn(&self) -> &str {
        &self.sn
    }

    /// Waits for the next packets. Network failures and `-3` are retried with the client's
    /// policy; `-15` is [`crate::ErrorKind::SessionExpired`].
    pub async fn next(&mut self) -> Result<EventBatch> {
        let config = self.client.config().clone();
        let ssl = if config.https_transfers { "&ssl=1" } else { "" };
        loop {
            let url = zeroize::Zeroizing::new(format!("{}sc?sn={}{}{ssl}", config.api_url, self.sn, self.auth.query()));
            let http = self.client.http().clone();
            let reply = with_retries(config.retry, "sc", || async {
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
                let v: Value = resp.json().await.map_err(|e| Error::network("sc", e))?;
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
                    ErrorCode::TooMany => Ok(EventBatch::Reload),
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
                        !p.get("i")
                            .and_then(Value::as_str)
                            .is_some_and(|i| self.client.is_superseded_own_tag(i, *handle))
                    })
                    .map(|(_, packet)| packet)
                    .collect();
                return Ok(EventBatch::Packets { packets, sn: self.sn.clone() });
            }
            let Some(wait) = reply.get("w").and_then(Value::as_str) else {
                return Err(Error::protocol("sc", "neither packets nor a wait URL"));
            };
            // The long poll: its answer is only a signal; a timeout or a failure means "ask again".
            let waited = http.post(wait).timeout(config.long_poll_timeout).body("").send().await;
            if let Ok(resp) = waited {
                let _ = resp.bytes().await;
            } else {
                tokio::time::sleep(config.retry.delay(1, RetryPolicy::jitter())).await;
            }
        }
    }
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

/// Runs `op` until it succeeds, fails for good, or the policy's attempts are spent; temporary
/// failures wait with backoff.
pub(crate) async fn with_retries<T, F, Fut>(policy: RetryPolicy, context: &'static str, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_temporary() && attempt < policy.max_attempts => {
                let delay = policy.delay(attempt, RetryPolicy::jitter());
                tracing::debug!(context, attempt, ?delay, error = %e, "retrying");
                tokio::time::sleep(delay).await;
            }
            Err(e) => return Err(e),
        }
    }
}

impl crate::Session {
    /// The event channel from a tree's position.
    pub fn events(&self, tree: &Tree) -> Events {
        Events::new(self.client.clone(), self.auth(), tree.sn().to_string())
    }
}
