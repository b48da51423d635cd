//! Bandwidth limits for the storage endpoints: one for the whole server and one per
//! connection (transfer), both in bytes per second, changeable while running.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A byte budget that refills at `rate` bytes per second.
#[derive(Debug)]
pub struct Bucket {
    rate: u64,
    /// When the bytes sent so far will have been paid for.
    paid_until: Instant,
}

impl Bucket {
    /// A bucket at `rate` bytes per second.
    pub fn new(rate: u64) -> Self {
        Bucket { rate: rate.max(1), paid_until: Instant::now() }
    }

    /// Reserves `bytes`; returns how long to wait before sending them.
    pub fn reserve(&mut self, bytes: u64) -> Duration {
        let now = Instant::now();
        let start = self.paid_until.max(now);
        self.paid_until = start + Duration::from_secs_f64(bytes as f64 / self.rate as f64);
        start - now
    }
}

/// The server's limits.
#[derive(Debug, Default)]
pub struct Throttle {
    /// Shared by every transfer.
    pub global: Mutex<Option<Bucket>>,
    /// The rate of each transfer on its own.
    pub per_connection: Mutex<Option<u64>>,
}

impl Throttle {
    /// Sets both limits (`None`: unlimited).
    pub fn set(&self, global: Option<u64>, per_connection: Option<u64>) {
        *self.global.lock().unwrap_or_else(|e| e.into_inner()) = global.map(Bucket::new);
        *self.per_connection.lock().unwrap_or_else(|e| e.into_inner()) = per_connection;
    }

    /// True when any limit is set.
    pub fn active(&self) -> bool {
        self.global.lock().unwrap_or_else(|e| e.into_inner()).is_some()
            || self.per_connection.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// A bucket for one transfer, if transfers are limited.
    pub fn connection_bucket(&self) -> Option<Bucket> {
        self.per_connection.lock().unwrap_or_else(|e| e.into_inner()).map(Bucket::new)
    }

    /// Waits until `bytes` may go, by the global limit and the transfer's own bucket.
    pub async fn pace(&self, own: &mut Option<Bucket>, bytes: u64) {
        let global = self.global.lock().unwrap_or_else(|e| e.into_inner()).as_mut().map(|b| b.reserve(bytes));
        let local = own.as_mut().map(|b| b.reserve(bytes));
        let wait = global.unwrap_or_default().max(local.unwrap_or_default());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_spreads_bytes_over_time() {
        let mut b = Bucket::new(1000);
        assert!(b.reserve(500) <= Duration::from_millis(1));
        let w = b.reserve(500);
        assert!(w > Duration::from_millis(400) && w <= Duration::from_millis(500), "{w:?}");
    }
}
