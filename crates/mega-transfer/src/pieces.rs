//! What downloads and uploads share: cutting a file's missing chunks into pieces, and the
//! pause/cancel check the workers make between pieces.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;
use std::sync::Mutex;

use mega_proto::chunks;
use tokio::sync::watch;

use crate::engine::{Control, TransferError};

/// The chunks of a file of `size` bytes not in `done`, as runs of consecutive chunk indices of
/// at most about `piece_size` bytes (at least one chunk each); and the bytes already done.
pub(crate) fn plan(size: u64, done: &BTreeMap<u64, [u8; 16]>, piece_size: u64) -> (VecDeque<Range<u64>>, u64) {
    let count = chunks::chunk_count(size);
    let bytes = |r: Range<u64>| {
        let s = mega_api::chunk_span(r, size);
        s.end - s.start
    };
    let mut pieces = VecDeque::new();
    let mut before = 0;
    let mut cur: Option<Range<u64>> = None;
    for i in 0..count {
        if done.contains_key(&i) {
            before += bytes(i..i + 1);
            pieces.extend(cur.take());
            continue;
        }
        cur = match cur {
            Some(p) if bytes(p.start..i + 1) <= piece_size => Some(p.start..i + 1),
            Some(p) => {
                pieces.push_back(p);
                Some(i..i + 1)
            }
            None => Some(i..i + 1),
        };
    }
    pieces.extend(cur);
    (pieces, before)
}

/// A worker's next piece: the front of the queue, cut to about `limit / 4` bytes (at least one
/// chunk) while a speed limit of `limit` bytes per second is on, the rest put back in front.
/// Under a limit a piece waits for its share of the rate and then moves at full speed: small
/// pieces keep those bursts to a fraction of a second, so the transfer moves (and its speed
/// shows) at an even pace instead of in silent waits and 4 MiB jumps.
pub(crate) fn next(queue: &Mutex<VecDeque<Range<u64>>>, size: u64, limit: Option<u64>) -> Option<Range<u64>> {
    let mut queue = queue.lock().unwrap_or_else(|e| e.into_inner());
    let piece = queue.pop_front()?;
    let Some(most) = limit.map(|rate| rate / 4) else { return Some(piece) };
    let mut end = piece.start + 1;
    while end < piece.end && {
        let s = mega_api::chunk_span(piece.start..end + 1, size);
        s.end - s.start <= most
    } {
        end += 1;
    }
    if end < piece.end {
        queue.push_front(end..piece.end);
    }
    Some(piece.start..end)
}

/// Stops a worker when the job is paused or cancelled.
pub(crate) fn check(control: &watch::Receiver<Control>) -> Result<(), TransferError> {
    match *control.borrow() {
        Control::Pause => Err(TransferError::Paused),
        Control::Cancel => Err(TransferError::Cancelled),
        Control::Run => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cover_exactly_the_missing_chunks() {
        let size = 10 * 1024 * 1024 + 3;
        let count = chunks::chunk_count(size);
        let done: BTreeMap<u64, [u8; 16]> = [0, 5, 6, count - 1].into_iter().map(|i| (i, [0; 16])).collect();
        let (pieces, before) = plan(size, &done, 2 << 20);
        let mut covered: Vec<u64> = pieces.iter().flat_map(|p| p.clone()).collect();
        covered.sort_unstable();
        let missing: Vec<u64> = (0..count).filter(|i| !done.contains_key(i)).collect();
        assert_eq!(covered, missing);
        for p in &pieces {
            let s = mega_api::chunk_span(p.clone(), size);
            assert!(p.end - p.start == 1 || s.end - s.start <= 2 << 20, "{p:?}");
        }
        assert_eq!(
            before,
            [0, 5, 6, count - 1]
                .iter()
                .map(|&i| {
                    let s = mega_api::chunk_span(i..i + 1, size);
                    s.end - s.start
                })
                .sum::<u64>()
        );
        assert!(plan(0, &BTreeMap::new(), 1 << 20).0.is_empty());
    }

    #[test]
    fn under_a_speed_limit_pieces_are_cut_to_a_quarter_second() {
        let size = 64 * 1024 * 1024;
        let (pieces, _) = plan(size, &BTreeMap::new(), 4 << 20);
        let whole: Vec<u64> = pieces.iter().flat_map(|p| p.clone()).collect();
        let bytes = |p: &Range<u64>| {
            let s = mega_api::chunk_span(p.clone(), size);
            s.end - s.start
        };
        for (limit, most) in [(None, 4 << 20), (Some(2_000_000), 1 << 20), (Some(400_000), 1 << 20)] {
            let queue = Mutex::new(pieces.clone());
            let mut got = Vec::new();
            while let Some(p) = next(&queue, size, limit) {
                assert!(!p.is_empty());
                // At most a quarter second's bytes, or one chunk when a chunk is more.
                assert!(p.end - p.start == 1 || bytes(&p) <= limit.map_or(most, |l| l / 4), "{p:?} {limit:?}");
                assert!(bytes(&p) <= most, "{p:?}");
                got.extend(p);
            }
            assert_eq!(got, whole, "every chunk once, in order ({limit:?})");
        }
        // At 2 MB/s: the first two chunks (128 + 256 KiB) fit in 500,000 bytes, the third not.
        let queue = Mutex::new(pieces.clone());
        assert_eq!(next(&queue, size, Some(2_000_000)), Some(0..2));
        assert_eq!(next(&queue, size, Some(2_000_000)), Some(2..3));
    }
}
