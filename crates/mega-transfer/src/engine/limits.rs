//! The engine's speed limits: base limits, and an optional time-of-day [`Schedule`] applied
//! while transfers run. A small task wakes at each window boundary (and at least every minute,
//! for clock and daylight-saving changes) and sets the shared limits; running jobs feel the
//! new rate at their next piece, nothing restarts.

use std::sync::{Arc, Mutex, Weak};

use tokio::sync::watch;

use super::{Engine, Inner};
use crate::schedule::{Clock, LocalClock, Rates, Schedule};

/// What the limits are made of.
#[derive(Debug, Default)]
pub(crate) struct LimitState {
    base: Rates,
    schedule: Option<Schedule>,
    /// The schedule task runs (it ends with the engine).
    task: bool,
}

/// The limits' part of the engine.
pub(crate) struct Limits {
    state: Mutex<LimitState>,
    /// Bumped when the schedule changes: the task re-reads it at once.
    changed: watch::Sender<u64>,
}

impl Limits {
    pub(crate) fn new(base: Rates, schedule: Option<Schedule>) -> Self {
        Limits { state: Mutex::new(LimitState { base, schedule, task: false }), changed: watch::channel(0).0 }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Inner {
    /// The rates in force at `t` (a second of the week, local time).
    fn rates_at(&self, t: u32) -> Rates {
        let st = self.limits.lock();
        st.schedule.as_ref().and_then(|s| s.rates_at(t)).unwrap_or(st.base)
    }

    /// Sets the shared limits to what holds at `t`; returns them.
    pub(crate) fn apply_limits(&self, t: u32) -> Rates {
        let r = self.rates_at(t);
        if self.down.rate() != r.download {
            self.down.set(r.download);
        }
        if self.up.rate() != r.upload {
            self.up.set(r.upload);
        }
        r
    }
}

/// Keeps the limits in step with the schedule while the engine lives.
pub(crate) async fn follow_schedule(inner: Weak<Inner>, clock: Arc<dyn Clock>) {
    let Some(mut changed) = inner.upgrade().map(|i| i.limits.changed.subscribe()) else { return };
    loop {
        let wait = {
            let Some(inner) = inner.upgrade() else { return };
            let now = clock.now();
            inner.apply_limits(now);
            let next = inner.limits.lock().schedule.as_ref().and_then(|s| s.next_change(now));
            clock.seconds(u64::from(next.unwrap_or(60).clamp(1, 60)))
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            r = changed.changed() => if r.is_err() { return },
        }
    }
}

impl Engine {
    /// Changes the base speed limits (bytes per second; `None` unlimited), at once. Inside a
    /// window of the schedule, the window's limits hold until it ends.
    pub fn set_limits(&self, download: Option<u64>, upload: Option<u64>) {
        self.inner.limits.lock().base = Rates { download, upload };
        self.inner.apply_limits(LocalClock.now());
    }

    /// Sets (or with `None` removes) the time-of-day schedule; it applies at once and at every
    /// window boundary while transfers run.
    pub fn set_schedule(&self, schedule: Option<Schedule>) {
        self.inner.limits.lock().schedule = schedule;
        self.inner.apply_limits(LocalClock.now());
        self.inner.limits.changed.send_modify(|n| *n += 1);
        self.follow(Arc::new(LocalClock));
    }

    /// The speed limits in force now.
    pub fn limits(&self) -> Rates {
        Rates { download: self.inner.down.rate(), upload: self.inner.up.rate() }
    }

    /// Starts the schedule task once (when there is a runtime and a schedule).
    pub(super) fn follow(&self, clock: Arc<dyn Clock>) {
        {
            let mut st = self.inner.limits.lock();
            if st.task || st.schedule.is_none() {
                return;
            }
            let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
            st.task = true;
            rt.spawn(follow_schedule(Arc::downgrade(&self.inner), clock));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use super::*;

    /// A clock the test moves; its seconds last a millisecond each.
    struct FakeClock(AtomicU32);

    impl Clock for FakeClock {
        fn now(&self) -> u32 {
            self.0.load(Ordering::Relaxed)
        }

        fn seconds(&self, secs: u64) -> Duration {
            Duration::from_millis(secs)
        }
    }

    /// Waits (up to 10 s of real time) until the engine's limits are `want`.
    async fn until_limits(engine: &Engine, want: Rates) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while engine.limits() != want {
            assert!(std::time::Instant::now() < deadline, "limits stayed {:?}, expected {want:?}", engine.limits());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    #[tokio::test]
    async fn window_boundaries_change_the_limits_while_running() {
        const H: u32 = 3600;
        let dir = tempfile::tempdir().unwrap();
        let client = mega_api::Client::builder().api_url("http://127.0.0.1:9/").build().unwrap();
        let mut config = super::super::EngineConfig::new(dir.path());
        config.download_limit = Some(10 << 20);
        let engine = Engine::new(config, client, None, None).unwrap();
        let base = Rates { download: Some(10 << 20), upload: None };
        let window = Rates { download: Some(1 << 20), upload: Some(256 << 10) };
        let clock = Arc::new(FakeClock(AtomicU32::new(8 * H - 2)));
        engine.inner.limits.lock().schedule = Some(Schedule::daily(&[(8 * H, 18 * H, window)]));
        engine.follow(clock.clone());
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(engine.limits(), base, "outside the window: the base");
        // The task sleeps until the boundary and switches on its own, nothing else calls it.
        clock.0.store(8 * H, Ordering::Relaxed);
        until_limits(&engine, window).await;
        // A base change inside the window waits for the window's end.
        engine.inner.limits.lock().base = Rates { download: Some(5 << 20), upload: Some(1 << 20) };
        engine.inner.apply_limits(clock.now());
        assert_eq!(engine.limits(), window);
        clock.0.store(18 * H, Ordering::Relaxed);
        until_limits(&engine, Rates { download: Some(5 << 20), upload: Some(1 << 20) }).await;
        // The task does not keep the engine alive, and ends with it.
        let weak = Arc::downgrade(&engine.inner);
        drop(engine);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(weak.upgrade().is_none());
    }
}
