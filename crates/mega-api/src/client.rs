//! The request layer: `POST {api}cs?id=..` with a JSON array of commands, the `id` rule,
//! retries with backoff, the hashcash round-trip, and per-command results.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mega_proto::hashcash::{self, Challenge};
use mega_proto::{ErrorCode, NodeHandle};
use rand_core::RngCore;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::config::{with_retries, ClientBuilder, Config, Deadline, RetryPolicy};
use crate::error::{Error, Result};

/// The unauthenticated client: HTTP, configuration and the request-id counter. Cheap to clone
/// (shared). Log in with [`Client::login`], or open public links without an account.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

pub(crate) struct ClientInner {
    pub(crate) http: reqwest::Client,
    /// Without the idle timeout, for requests whose silence is legitimate: the event
    /// channel's long poll, and uploads (reqwest's idle timeout also runs while a body is
    /// sent, and a chunk may take minutes to send on a slow line). Bounded by their own
    /// overall timeouts.
    pub(crate) http_without_idle: reqwest::Client,
    pub(crate) config: Config,
    next_id: AtomicU64,
    pub(crate) batcher: crate::batch::Batcher,
    /// The `i` tags of this client's recent attribute changes, newest last.
    own_tags: std::sync::Mutex<std::collections::VecDeque<(String, NodeHandle)>>,
}

/// A request body this long goes without the idle timeout (see [`Client::execute`]).
const BIG_REQUEST: usize = 1 << 20;

/// How many of a client's own attribute-change tags are remembered.
const OWN_TAGS: usize = 1024;

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("api_url", &self.inner.config.api_url).finish_non_exhaustive()
    }
}

/// The `sid` query parameter: the session id in b64. Never printed.
#[derive(Clone)]
pub(crate) struct SidParam(pub(crate) Zeroizing<String>);

impl fmt::Debug for SidParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SidParam(<redacted>)")
    }
}

/// Whom a request speaks for: the query parameters that authenticate it.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// No session (prelogin, login, public file links).
    Anonymous,
    /// `&sid=`.
    Session(Arc<SidParam>),
    /// `&n=` inside a public folder link.
    Folder(NodeHandle),
    /// Both: a logged-in user working inside a folder link (imports).
    SessionInFolder(Arc<SidParam>, NodeHandle),
}

impl Auth {
    /// The query string that follows `id=..`.
    pub(crate) fn query(&self) -> String {
        match self {
            Auth::Anonymous => String::new(),
            Auth::Session(s) => format!("&sid={}", s.0.as_str()),
            Auth::Folder(n) => format!("&n={n}"),
            Auth::SessionInFolder(s, n) => format!("&sid={}&n={n}", s.0.as_str()),
        }
    }
}

/// A reply read from a `cs` response: the value, or a request-level error code.
pub(crate) enum Reply<T> {
    Done(T),
    Failed(ErrorCode),
}

/// The name of a command as a static string, for error contexts.
pub(crate) fn command_name(cmd: &Value) -> &'static str {
    const KNOWN: &[&str] = &[
        "us0", "us", "ug", "uq", "sml", "uk", "f", "p", "m", "d", "a", "l", "s2", "u", "g", "ufa", "pfa", "k", "uga",
        "upv", "log",
    ];
    let name = cmd.get("a").and_then(Value::as_str).unwrap_or("");
    KNOWN.iter().find(|k| **k == name).copied().unwrap_or("command")
}

/// A per-command result: a negative integer is that command's error.
pub(crate) fn command_result(context: &'static str, v: Value) -> Result<Value> {
    match v.as_i64() {
        Some(code) if code < 0 => Err(Error::api(context, ErrorCode::from_code(code))),
        _ => Ok(v),
    }
}

/// A random 10-character tag for the `i` field of mutating commands.
pub(crate) fn request_tag() -> String {
    let mut b = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut b);
    mega_proto::b64::encode(&b)[..10].to_string()
}

impl Client {
    /// A request tag for an attribute change of `node` that the caller also makes in its own
    /// tree. The server echoes it in a `u` action packet; [`crate::Events::next`] skips the
    /// echo once a newer own change of the same node was sent, so a late echo of an earlier
    /// change cannot undo a newer one. The echo of the newest change still arrives: a `t` for
    /// the node (the echo of its mkdir, upload or move) may have brought older attributes back
    /// in between, and that echo puts the newest ones back on top.
    pub(crate) fn own_tag(&self, node: NodeHandle) -> String {
        let tag = request_tag();
        let mut tags = self.inner.own_tags.lock().unwrap_or_else(|e| e.into_inner());
        if tags.len() == OWN_TAGS {
            tags.pop_front();
        }
        tags.push_back((tag.clone(), node));
        tag
    }

    /// Is `tag` one of this client's changes of `node` with a newer own change after it?
    pub(crate) fn is_superseded_own_tag(&self, tag: &str, node: NodeHandle) -> bool {
        let tags = self.inner.own_tags.lock().unwrap_or_else(|e| e.into_inner());
        tags.iter()
            .position(|(t, n)| t == tag && *n == node)
            .is_some_and(|at| tags.iter().skip(at + 1).any(|(_, n)| *n == node))
    }

    /// A client with the default settings (the API URL from `TUATARA_API_URL` or the service).
    pub fn new() -> Result<Self> {
        ClientBuilder::new().build()
    }

    /// A builder for a client with other settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub(crate) fn from_parts(http: reqwest::Client, http_without_idle: reqwest::Client, config: Config) -> Self {
        let start = rand_core::OsRng.next_u32() as u64;
        Client {
            inner: Arc::new(ClientInner {
                http,
                http_without_idle,
                config,
                next_id: AtomicU64::new(start),
                batcher: Default::default(),
                own_tags: Default::default(),
            }),
        }
    }

    /// The API base URL, ending in `/`.
    pub fn api_url(&self) -> &str {
        &self.inner.config.api_url
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The HTTP client without the idle timeout (see [`ClientInner::http_without_idle`]).
    pub(crate) fn http_without_idle(&self) -> &reqwest::Client {
        &self.inner.http_without_idle
    }

    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The retry policy this client was built with (the transfer engine's loops follow it too).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.inner.config.retry
    }

    /// The `ssl` argument of `g`/`u`: 2 asks for https URLs.
    pub(crate) fn ssl(&self) -> u8 {
        if self.inner.config.https_transfers {
            2
        } else {
            0
        }
    }

    /// Sends anonymous commands in one batch (one POST). The outer result fails for the whole
    /// request (after retries); the inner ones are each command's own answer, in order.
    pub async fn request(&self, commands: Vec<Value>) -> Result<Vec<Result<Value>>> {
        self.request_as(&Auth::Anonymous, &commands).await
    }

    /// Sends a batch with the given authentication.
    pub(crate) async fn request_as(&self, auth: &Auth, commands: &[Value]) -> Result<Vec<Result<Value>>> {
        let context = if commands.len() == 1 { command_name(&commands[0]) } else { "batch" };
        let body = serde_json::to_vec(commands).map_err(|_| Error::BadInput("commands are not JSON".into()))?;
        let n = commands.len();
        let limit = reply_limit(body.len());
        let values =
            self.execute(auth, context, body, Budget::Bounded, move |resp| read_batch(resp, context, n, limit)).await?;
        Ok(values.into_iter().zip(commands).map(|(v, c)| command_result(command_name(c), v)).collect())
    }

    /// Sends one command and returns its result.
    pub(crate) async fn command(&self, auth: &Auth, command: Value) -> Result<Value> {
        let mut results = self.request_as(auth, std::slice::from_ref(&command)).await?;
        results.pop().unwrap_or_else(|| Err(Error::protocol(command_name(&command), "empty reply")))
    }

    fn next_id(&self) -> String {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    /// Posts `body` to `cs` until it succeeds or fails for good: a fresh `id` per call, the
    /// same `id` on every re-send; backoff on network errors, HTTP 5xx/429 and request-level
    /// `-3`/`-4`; hashcash solved when asked. `read` turns a 200 response into a reply.
    ///
    /// Bounded three ways: the policy's attempts; the request timeout, for the whole command
    /// with its retries (a [`Budget::Bounded`] attempt is cut off when it runs out, a
    /// [`Budget::Streamed`] one is bounded by its progress instead, and no new attempt starts
    /// after it); the idle timeout of the HTTP client on every read. Each retry is logged as a
    /// warning with what failed and how long it waits.
    pub(crate) async fn execute<T, F, Fut>(
        &self,
        auth: &Auth,
        context: &'static str,
        body: Vec<u8>,
        budget: Budget,
        read: F,
    ) -> Result<T>
    where
        F: FnMut(reqwest::Response) -> Fut,
        Fut: Future<Output = Result<Reply<T>>>,
    {
        let id = self.next_id();
        let url = format!("{}cs?id={id}{}", self.inner.config.api_url, auth.query());
        let url = Zeroizing::new(url);
        // A big request (a `p` of thousands of nodes) takes a while to send: reqwest's idle
        // timeout would run meanwhile, so it goes without it, with a second more of deadline
        // for each 64 KiB.
        let big = body.len() > BIG_REQUEST;
        let sending = Duration::from_secs(if big { (body.len() >> 16) as u64 } else { 0 });
        let deadline = Deadline::after(self.inner.config.request_timeout + sending);
        let http = if big { &self.inner.http_without_idle } else { &self.inner.http };
        let challenges = AtomicU32::new(0);
        let read = std::sync::Mutex::new(read);
        let (url, body, deadline, read, challenges) = (&url, &body, &deadline, &read, &challenges);
        with_retries(self.inner.config.retry, context, Some(deadline), || async move {
            let mut answer: Option<String> = None;
            // One attempt: a hashcash challenge is answered at once, within the attempt.
            loop {
                let mut req = http.post(url.as_str()).header(CONTENT_TYPE, "application/json").body(body.clone());
                if budget == Budget::Bounded {
                    req = req.timeout(deadline.left());
                }
                if let Some(a) = answer.take() {
                    req = req.header("X-Hashcash", a);
                }
                let resp = req.send().await.map_err(|e| Error::network(context, e))?;
                if resp.status().as_u16() == 402 && resp.headers().contains_key("x-hashcash") {
                    if challenges.fetch_add(1, Ordering::Relaxed) >= 3 {
                        return Err(Error::Hashcash);
                    }
                    let header = resp.headers().get("x-hashcash").and_then(|h| h.to_str().ok()).unwrap_or("");
                    let solving = Instant::now();
                    answer = Some(self.solve_hashcash(header).await?);
                    // Solving is not time the server took.
                    deadline.extend(solving.elapsed());
                    continue;
                }
                if !resp.status().is_success() {
                    return Err(Error::Status { context, status: resp.status().as_u16(), time_left: None });
                }
                let reading = (read.lock().unwrap_or_else(|e| e.into_inner()))(resp);
                return match reading.await? {
                    Reply::Done(v) => Ok(v),
                    Reply::Failed(code) => Err(Error::api(context, code)),
                };
            }
        })
        .await
    }

    /// Solves a hashcash challenge on blocking threads, within the budget; dropping the future
    /// stops the search.
    async fn solve_hashcash(&self, header: &str) -> Result<String> {
        let challenge = Challenge::parse(header)?;
        tracing::debug!(easiness = challenge.easiness, "solving hashcash challenge");
        let cancel = Arc::new(AtomicBool::new(false));
        let guard = CancelOnDrop(cancel.clone());
        let deadline = Instant::now() + self.inner.config.hashcash_budget;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let c = challenge.clone();
        let prefix = tokio::task::spawn_blocking(move || {
            hashcash::solve_until(&c.token, c.easiness, threads, Some(deadline), &cancel)
        })
        .await
        .map_err(|_| Error::Cancelled)?;
        drop(guard);
        prefix.map(|p| challenge.response_header(p)).ok_or(Error::Hashcash)
    }
}

/// Sets a flag when dropped: a blocking search notices and stops.
pub(crate) struct CancelOnDrop(pub(crate) Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// How long an API request may take (see [`Client::execute`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// A reply read whole: each attempt ends when the command's request timeout does.
    Bounded,
    /// A streamed reply (`f`): an attempt lasts as long as its bytes keep coming (the reader
    /// enforces the progress); the request timeout only stops new attempts.
    Streamed,
}

/// The most read of a reply to commands other than `f`: their replies are small (a batch of
/// at most 64 commands, each answered in bytes or a few KiB), except for `p`, whose reply
/// carries every node it created and so grows with the request. 16 MiB plus four times the
/// request body covers a `p` of any size (a created node is answered in about 1.5 times the
/// bytes it took to send) and stops a hostile or broken server from filling the memory.
pub(crate) fn reply_limit(request_len: usize) -> u64 {
    const SMALL_REPLY: u64 = 16 << 20;
    SMALL_REPLY + 4 * request_len as u64
}

/// Reads a whole reply body, refusing one longer than `limit`: at once when its announced
/// length is, else as soon as the bytes read pass it (the connection is dropped then, so the
/// rest is never read).
pub(crate) async fn read_limited(mut resp: reqwest::Response, context: &'static str, limit: u64) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(Error::TooLarge { context, limit });
    }
    let mut body = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| Error::network(context, e))? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(Error::TooLarge { context, limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a batch reply: an array of `n` results, or a request-level error.
async fn read_batch(resp: reqwest::Response, context: &'static str, n: usize, limit: u64) -> Result<Reply<Vec<Value>>> {
    let bytes = read_limited(resp, context, limit).await?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|_| Error::protocol(context, "not JSON"))?;
    match v {
        Value::Array(results) if results.len() == n => Ok(Reply::Done(results)),
        Value::Array(_) => Err(Error::protocol(context, "wrong number of results")),
        Value::Number(code) => Ok(Reply::Failed(ErrorCode::from_code(code.as_i64().unwrap_or(-1)))),
        Value::Object(o) if o.get("err").is_some_and(Value::is_i64) => {
            Ok(Reply::Failed(ErrorCode::from_code(o["err"].as_i64().unwrap_or(-1))))
        }
        // The web client wraps a bare object as a one-element batch.
        obj @ Value::Object(_) if n == 1 => Ok(Reply::Done(vec![obj])),
        _ => Err(Error::protocol(context, "not an array of results")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn per_command_results() {
        assert_eq!(command_result("m", json!(0)).unwrap(), json!(0));
        assert_eq!(command_result("m", json!(-9)).unwrap_err().code(), Some(ErrorCode::NotFound));
        assert_eq!(command_result("l", json!("abcdefgh")).unwrap(), json!("abcdefgh"));
        assert_eq!(command_name(&json!({"a": "f"})), "f");
        assert_eq!(command_name(&json!({"a": "zz"})), "command");
        assert_eq!(request_tag().len(), 10);
    }

    #[test]
    fn auth_queries_and_redaction() {
        let sid = Arc::new(SidParam(Zeroizing::new("SECRETSID".into())));
        assert_eq!(Auth::Session(sid.clone()).query(), "&sid=SECRETSID");
        let h = NodeHandle([1, 2, 3, 4, 5, 6]);
        assert_eq!(Auth::Folder(h).query(), format!("&n={h}"));
        assert!(!format!("{:?}", Auth::Session(sid)).contains("SECRET"));
    }
}
