//! File slots: how many files move at once, handed out in priority order without polling.
//!
//! Two pools: big files (each with several connections; `max_files` of them) and small files
//! (one piece, one connection; `small_files` of them). Thousands of small files then keep many
//! requests on the wire, and their API commands share requests (`mega-api`'s batching), while
//! a big file waiting for a slot does not hold them back, nor they it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use crate::events::JobId;

/// Files up to this size take a small-file slot.
pub(crate) const SMALL_FILE: u64 = 1 << 20;

/// Which pool a job's slot comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pool {
    Big = 0,
    Small = 1,
}

impl Pool {
    pub(crate) fn of_size(size: u64) -> Pool {
        if size <= SMALL_FILE {
            Pool::Small
        } else {
            Pool::Big
        }
    }
}

#[derive(Default)]
struct State {
    free: [usize; 2],
    /// Waiting jobs in priority order, per pool.
    waiting: [BTreeMap<(i64, JobId), oneshot::Sender<Permit>>; 2],
    /// Where each waiting job is: (pool, priority).
    index: HashMap<JobId, (Pool, i64)>,
}

/// The engine's file slots.
pub(crate) struct Slots {
    state: Mutex<State>,
}

/// A held slot; dropping it frees the slot for the next job in line.
pub(crate) struct Permit {
    slots: Arc<Slots>,
    pool: Option<Pool>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            let mut st = self.slots.lock();
            st.free[pool as usize] += 1;
            Slots::hand_out(&self.slots, &mut st);
        }
    }
}

/// Takes a job out of the line when its wait is abandoned (paused, cancelled).
struct Unwait<'a> {
    slots: &'a Arc<Slots>,
    id: &'a JobId,
}

impl Drop for Unwait<'_> {
    fn drop(&mut self) {
        let mut st = self.slots.lock();
        if let Some((pool, priority)) = st.index.remove(self.id) {
            st.waiting[pool as usize].remove(&(priority, self.id.clone()));
        }
    }
}

impl Slots {
    pub(crate) fn new(big: usize, small: usize) -> Arc<Self> {
        let st = State { free: [big.max(1), small.max(1)], ..State::default() };
        Arc::new(Slots { state: Mutex::new(st) })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a slot of `pool`; jobs with a lower `priority` go first. Dropping the future
    /// leaves the line.
    pub(crate) async fn acquire(self: &Arc<Self>, id: &JobId, priority: i64, pool: Pool) -> Permit {
        loop {
            let (tx, rx) = oneshot::channel();
            {
                let mut st = self.lock();
                st.waiting[pool as usize].insert((priority, id.clone()), tx);
                st.index.insert(id.clone(), (pool, priority));
                Slots::hand_out(self, &mut st);
            }
            let _unwait = Unwait { slots: self, id };
            if let Ok(p) = rx.await {
                return p;
            }
        }
    }

    /// Moves a waiting job to another place in its line.
    pub(crate) fn reprioritise(self: &Arc<Self>, id: &JobId, priority: i64) {
        let mut st = self.lock();
        let Some((pool, old)) = st.index.get(id).copied() else { return };
        if let Some(tx) = st.waiting[pool as usize].remove(&(old, id.clone())) {
            st.waiting[pool as usize].insert((priority, id.clone()), tx);
            st.index.insert(id.clone(), (pool, priority));
        }
    }

    /// Gives free slots to the first jobs in line.
    fn hand_out(this: &Arc<Slots>, st: &mut State) {
        for pool in [Pool::Big, Pool::Small] {
            let i = pool as usize;
            while st.free[i] > 0 {
                let Some(((_, id), tx)) = st.waiting[i].pop_first() else { break };
                st.index.remove(&id);
                st.free[i] -= 1;
                if let Err(mut p) = tx.send(Permit { slots: this.clone(), pool: Some(pool) }) {
                    // The waiter is gone: the slot stays free (no re-entrant drop under the lock).
                    p.pool = None;
                    st.free[i] += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn slots_go_in_priority_order_per_pool_and_come_back() {
        let slots = Slots::new(1, 2);
        let first = slots.acquire(&"a".to_string(), 5, Pool::Big).await;
        // Two big jobs wait; the later-queued one with the lower priority goes first.
        let s = slots.clone();
        let late = tokio::spawn(async move { s.acquire(&"c".to_string(), 9, Pool::Big).await });
        let s = slots.clone();
        let early = tokio::spawn(async move { s.acquire(&"b".to_string(), 7, Pool::Big).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        slots.reprioritise(&"c".to_string(), 1);
        // Small files are not held back by the waiting big ones.
        let s1 = slots.acquire(&"s1".to_string(), 100, Pool::Small).await;
        let s2 = slots.acquire(&"s2".to_string(), 101, Pool::Small).await;
        assert!(!late.is_finished() && !early.is_finished());
        drop(first);
        let got = late.await.unwrap();
        assert!(!early.is_finished());
        drop(got);
        drop(early.await.unwrap());
        drop((s1, s2));
        // A wait that is abandoned leaves the line and its slot is not lost.
        let held = slots.acquire(&"x".to_string(), 0, Pool::Big).await;
        let s = slots.clone();
        let gone = tokio::spawn(async move { s.acquire(&"y".to_string(), 0, Pool::Big).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        gone.abort();
        let _ = gone.await;
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(1), slots.acquire(&"z".to_string(), 0, Pool::Big)).await;
        assert!(again.is_ok(), "the slot was lost");
        assert!(slots.lock().index.is_empty());
    }
}
