//! What downloads and uploads share: cutting a file's missing chunks into pieces, and the
//! pause/cancel check the workers make between pieces.

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

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
}
