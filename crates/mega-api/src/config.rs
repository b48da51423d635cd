//! Client configuration: the API base URL, timeouts, the retry policy (as data), user agent,
//! https for transfers and a proxy.
//!
//! The timeouts bound what a dead or hostile server can hold: a connection that cannot be
//! opened fails after [`ClientBuilder::connect_timeout`]; a connection on which nothing arrives
//! for [`ClientBuilder::idle_timeout`] fails (API and storage alike, but not the event
//! channel's long poll, whose silence is its purpose); an API command gets
//! [`ClientBuilder::request_timeout`] in all, its retries included, so a server that trickles
//! a byte every few seconds cannot hold it either. The `f` reply of a big account may take
//! longer than that and is bounded by its progress instead (see `tree::fetch`).

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::error::{Error, Result};

/// The service's API base URL.
pub const DEFAULT_API_URL: &str = "https://g.api.mega.co.nz/";

/// The environment variable that overrides [`DEFAULT_API_URL`] (an explicit
/// [`ClientBuilder::api_url`] still wins).
pub const API_URL_ENV: &str = "TUATARA_API_URL";

/// How requests are retried: exponential backoff with full jitter, capped.
///
/// Attempt `n` (1-based) that fails temporarily waits a random time in
/// `[d/2, d]` with `d = min(base_delay * 2^(n-1), max_delay)` before attempt `n + 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (1 = no retry).
    pub max_attempts: u32,
    /// The delay after the first failure.
    pub base_delay: Duration,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 8, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The delay after failed attempt `attempt` (1-based), jittered with `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let full = self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay);
        full.mul_f64(0.5 + random.clamp(0.0, 1.0) / 2.0)
    }

    /// The jittered delay after failed attempt `attempt`, or `None` when the policy's attempts
    /// are spent: the one place where retry loops ask whether to go on.
    pub fn next_delay(&self, attempt: u32) -> Option<Duration> {
        (attempt < self.max_attempts).then(|| self.backoff(attempt))
    }

    /// The jittered delay after failed attempt `attempt`, whether or not attempts are left.
    pub fn backoff(&self, attempt: u32) -> Duration {
        self.delay(attempt, Self::jitter())
    }

    /// A uniformly random jitter factor in `[0, 1)`.
    pub(crate) fn jitter() -> f64 {
        use rand_core::RngCore;
        rand_core::OsRng.next_u32() as f64 / (u32::MAX as f64 + 1.0)
    }
}

/// Everything a [`Client`] is built with.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) api_url: String,
    pub(crate) retry: RetryPolicy,
    pub(crate) https_transfers: bool,
    pub(crate) request_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) storage_timeout: Duration,
    pub(crate) long_poll_timeout: Duration,
    pub(crate) hashcash_budget: Duration,
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    api_url: Option<String>,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Duration,
    idle_timeout: Duration,
    storage_timeout: Duration,
    long_poll_timeout: Duration,
    hashcash_budget: Duration,
    user_agent: String,
    https_transfers: bool,
    proxy: Option<String>,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_url: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(30),
            storage_timeout: Duration::from_secs(120),
            long_poll_timeout: Duration::from_secs(300),
            hashcash_budget: Duration::from_secs(120),
            user_agent: concat!("tuatara/", env!("CARGO_PKG_VERSION")).to_string(),
            https_transfers: false,
            proxy: None,
        }
    }
}

impl ClientBuilder {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API base URL, e.g. `http://127.0.0.1:4000/` (a missing trailing `/` is added).
    pub fn api_url(mut self, url: impl Into<String>) -> Self {
        self.api_url = Some(url.into());
        self
    }

    /// The retry policy of API requests, event polls and storage requests.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Time allowed to open a connection (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Time allowed for one API command, its retries included (default 60 s): a dead or
    /// trickling API fails a command within it. Not the `f` reply (bounded by its progress,
    /// see [`ClientBuilder::idle_timeout`]) nor the long poll of the event channel.
    pub fn request_timeout(mut self, t: Duration) -> Self {
        self.request_timeout = t;
        self
    }

    /// Time allowed without a byte arriving on an API or storage connection (default 30 s),
    /// from the request sent to the last byte of the reply. A streamed `f` reply must also
    /// bring at least 16 KiB in each such period, so a trickle does not hold it.
    pub fn idle_timeout(mut self, t: Duration) -> Self {
        self.idle_timeout = t;
        self
    }

    /// Time allowed for one storage request (a ranged download or an upload chunk; default
    /// 120 s).
    pub fn storage_timeout(mut self, t: Duration) -> Self {
        self.storage_timeout = t;
        self
    }

    /// Time allowed for one long poll of the event channel.
    pub fn long_poll_timeout(mut self, t: Duration) -> Self {
        self.long_poll_timeout = t;
        self
    }

    /// The most time spent solving one hashcash challenge.
    pub fn hashcash_budget(mut self, t: Duration) -> Self {
        self.hashcash_budget = t;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Ask for https transfer URLs (`ssl=2` on `g`/`u`, `ssl=1` on the event channel).
    pub fn https_transfers(mut self, on: bool) -> Self {
        self.https_transfers = on;
        self
    }

    /// Send everything through this proxy (`http://`, `https://` URL).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let mut api_url = match self.api_url {
            Some(u) => u,
            None => std::env::var(API_URL_ENV).ok().filter(|u| !u.is_empty()).unwrap_or(DEFAULT_API_URL.into()),
        };
        if !api_url.starts_with("http://") && !api_url.starts_with("https://") {
            return Err(Error::BadInput("the API URL must start with http:// or https://".into()));
        }
        if !api_url.ends_with('/') {
            api_url.push('/');
        }
        if self.retry.max_attempts == 0 {
            return Err(Error::BadInput("the retry policy needs at least one attempt".into()));
        }
        let http = |idle: Option<Duration>| {
            let mut http = reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent.clone())
                .pool_idle_timeout(Duration::from_secs(60));
            if let Some(idle) = idle {
                // Applies to each read, the wait for the reply's head included.
                http = http.read_timeout(idle);
            }
            if let Some(p) = &self.proxy {
                let proxy = reqwest::Proxy::all(p).map_err(|_| Error::BadInput("the proxy URL is not valid".into()))?;
                http = http.proxy(proxy);
            }
            http.build().map_err(|e| Error::network("HTTP client set-up", e))
        };
        // The long poll is silent until something happens, and an upload's request is silent
        // while its body is sent: they have their own client, without the idle timeout, and
        // are bounded by `long_poll_timeout` and `storage_timeout`.
        let (main, long_poll) = (http(Some(self.idle_timeout))?, http(None)?);
        let config = Config {
            api_url,
            retry: self.retry,
            https_transfers: self.https_transfers,
            request_timeout: self.request_timeout,
            idle_timeout: self.idle_timeout,
            storage_timeout: self.storage_timeout,
            long_poll_timeout: self.long_poll_timeout,
            hashcash_budget: self.hashcash_budget,
        };
        Ok(Client::from_parts(main, long_poll, config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let p =
            RetryPolicy { max_attempts: 5, base_delay: Duration::from_millis(100), max_delay: Duration::from_secs(1) };
        assert_eq!(p.delay(1, 0.999_999), Duration::from_millis(100).mul_f64(0.5 + 0.999_999 / 2.0));
        assert_eq!(p.delay(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.delay(3, 0.0), Duration::from_millis(200));
        assert_eq!(p.delay(10, 0.0), Duration::from_millis(500));
        assert_eq!(p.delay(40, 1.0), Duration::from_secs(1));
        let j = RetryPolicy::jitter();
        assert!((0.0..1.0).contains(&j));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(ClientBuilder::new().api_url("ftp://x/").build().is_err());
        let none = RetryPolicy { max_attempts: 0, ..RetryPolicy::default() };
        assert!(ClientBuilder::new().api_url("http://127.0.0.1:1").retry(none).build().is_err());
        let c = ClientBuilder::new().api_url("http://127.0.0.1:1").build().unwrap();
        assert_eq!(c.api_url(), "http://127.0.0.1:1/");
    }
}

/// The time by which a command and its retries must be done; it can be moved later (time spent
/// solving a hashcash challenge is not the server's).
#[derive(Debug)]
pub(crate) struct Deadline(Mutex<Instant>);

impl Deadline {
    /// `budget` from now.
    pub(crate) fn after(budget: Duration) -> Self {
        Deadline(Mutex::new(Instant::now() + budget))
    }

    /// When.
    pub(crate) fn at(&self) -> Instant {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What is left of it (at least a millisecond: a timeout of zero means none).
    pub(crate) fn left(&self) -> Duration {
        self.at().saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
    }

    /// Moves it later.
    pub(crate) fn extend(&self, by: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

/// The one retry loop of the crate: runs `op` until it succeeds, fails for good (an error that
/// is not [`Error::is_temporary`]), the policy's attempts are spent, or (with a `deadline`) no
/// new attempt would start before it; temporary failures wait the policy's backoff, each retry
/// logged as a warning with what failed. Giving up is [`Error::gave_up`] with the last failure.
pub(crate) async fn with_retries<T, F, Fut>(
    policy: RetryPolicy,
    context: &'static str,
    deadline: Option<&Deadline>,
    mut op: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let e = match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_temporary() => e,
            Err(e) => return Err(e),
        };
        let delay = policy.next_delay(attempt).filter(|d| deadline.is_none_or(|dl| Instant::now() + *d < dl.at()));
        let Some(delay) = delay else {
            return Err(Error::gave_up(context, e, attempt, started.elapsed()));
        };
        tracing::warn!(context, attempt, of = policy.max_attempts, ?delay, error = %e, "retrying request");
        tokio::time::sleep(delay).await;
    }
}
