//! A bandwidth limit (token bucket) that can be changed while transfers run.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes per second, or unlimited; shared by every transfer in one direction.
#[derive(Debug)]
pub struct Limit {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rate: Option<u64>,
    /// Bytes that may go now (negative: owed).
    tokens: f64,
    last: Instant,
}

impl Limit {
    /// A limit of `rate` bytes per second (`None`: unlimited).
    pub fn new(rate: Option<u64>) -> Self {
        Limit { state: Mutex::new(State { rate, tokens: 0.0, last: Instant::now() }) }
    }

    /// Changes the rate; applies to the next bytes.
    pub fn set(&self, rate: Option<u64>) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.rate = rate.filter(|&r| r > 0);
        s.tokens = 0.0;
        s.last = Instant::now();
    }

    /// The current rate.
    pub fn rate(&self) -> Option<u64> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).rate
    }

    /// Waits until `bytes` may go.
    pub async fn take(&self, bytes: u64) {
        let wait = {
            let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let Some(rate) = s.rate else { return };
            let now = Instant::now();
            // At most one second of burst.
            s.tokens = (s.tokens + now.duration_since(s.last).as_secs_f64() * rate as f64).min(rate as f64);
            s.last = now;
            s.tokens -= bytes as f64;
            if s.tokens >= 0.0 {
                return;
            }
            Duration::from_secs_f64(-s.tokens / rate as f64)
        };
        tokio::time::sleep(wait).await;
    }
}
