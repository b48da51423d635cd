//! Hashcash, MEGA's login proof-of-work (spec §1.8).
//!
//! The server answers HTTP 402 with `X-Hashcash: 1:<easiness>:<time>:<token>`; the client finds
//! a 4-byte prefix such that SHA-256(prefix || token × 262,144) starts with a big-endian u32 at
//! or below the easiness threshold, and resends with `X-Hashcash: 1:<token>:<prefix>`. Solving
//! runs on every core; SHA-256 uses the CPU's SHA extensions where it has them (`sha2` detects
//! them at run time).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use sha2::{Digest, Sha256};

use crate::{b64, Error};

/// How many times the token is repeated in the hashed message.
pub const REPEATS: usize = 262_144;
/// Repetitions per `update` call: 48 KiB of token, a whole number of SHA-256 blocks.
const BATCH: usize = 1024;

/// A parsed challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// 0..=255: higher is easier.
    pub easiness: u8,
    /// The server's timestamp.
    pub timestamp: u64,
    /// The 48-byte token.
    pub token: [u8; 48],
}

impl Challenge {
    /// Parses the `X-Hashcash` header of a 402 answer. Only version 1 exists.
    pub fn parse(header: &str) -> Result<Self, Error> {
        let bad = |why| Error::malformed("hashcash challenge", why);
        let mut parts = header.trim().split(':');
        if parts.next() != Some("1") {
            return Err(bad("not version 1"));
        }
        let easiness = parts.next().and_then(|e| e.parse::<u8>().ok()).ok_or(bad("bad easiness"))?;
        let timestamp = parts.next().and_then(|t| t.parse::<u64>().ok()).ok_or(bad("bad timestamp"))?;
        let token_s = parts.next().ok_or(bad("no token"))?;
        if parts.next().is_some() || token_s.len() != 64 {
            return Err(bad("bad token"));
        }
        let token = b64::decode_exact::<48>(token_s, "hashcash token")?;
        Ok(Challenge { easiness, timestamp, token })
    }

    /// The header as the server sends it.
    pub fn to_header(&self) -> String {
        format!("1:{}:{}:{}", self.easiness, self.timestamp, b64::encode(&self.token))
    }

    /// The request header answering this challenge with `prefix`.
    pub fn response_header(&self, prefix: [u8; 4]) -> String {
        format!("1:{}:{}", b64::encode(&self.token), b64::encode(&prefix))
    }

    /// Solves on every core.
    pub fn solve(&self) -> [u8; 4] {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        solve(&self.token, self.easiness, threads)
    }
}

/// Parses a client's answer header `1:<token>:<prefix>` (server side).
pub fn parse_response(header: &str) -> Result<([u8; 48], [u8; 4]), Error> {
    let bad = |why| Error::malformed("hashcash response", why);
    let mut parts = header.trim().split(':');
    if parts.next() != Some("1") {
        return Err(bad("not version 1"));
    }
    let token = b64::decode_exact::<48>(parts.next().ok_or(bad("no token"))?, "hashcash token")?;
    let prefix = b64::decode_exact::<4>(parts.next().ok_or(bad("no prefix"))?, "hashcash prefix")?;
    if parts.next().is_some() {
        return Err(bad("trailing fields"));
    }
    Ok((token, prefix))
}

/// The largest accepted leading u32 for an easiness.
pub fn threshold(easiness: u8) -> u32 {
    let e = easiness as u64;
    ((((e & 63) << 1) + 1) << ((e >> 6) * 7 + 3)) as u32
}

/// A buffer of the token repeated [`BATCH`] times.
fn repeated(token: &[u8; 48]) -> Vec<u8> {
    token.repeat(BATCH)
}

fn leading_word(buf: &[u8], prefix: [u8; 4]) -> u32 {
    let mut h = Sha256::new();
    h.update(prefix);
    for _ in 0..REPEATS / BATCH {
        h.update(buf);
    }
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// True if `prefix` answers the challenge (token, easiness).
pub fn verify(token: &[u8; 48], easiness: u8, prefix: [u8; 4]) -> bool {
    leading_word(&repeated(token), prefix) <= threshold(easiness)
}

/// Solves with `threads` threads; candidate `n` is the big-endian bytes of `n`, as the SDK tries.
pub fn solve(token: &[u8; 48], easiness: u8, threads: usize) -> [u8; 4] {
    // With no deadline and no cancel, a prefix is always found: even easiness 0 passes 1 prefix
    // in 2^29, and the space holds 2^32.
    solve_until(token, easiness, threads, None, &AtomicBool::new(false)).unwrap_or([0xff; 4])
}

/// Like [`solve`], but gives up (`None`) at `deadline` or when `cancel` is set, as the SDK gives
/// up after its time budget.
pub fn solve_until(
    token: &[u8; 48],
    easiness: u8,
    threads: usize,
    deadline: Option<std::time::Instant>,
    cancel: &AtomicBool,
) -> Option<[u8; 4]> {
    let threads = threads.clamp(1, 64) as u32;
    let buf = repeated(token);
    let limit = threshold(easiness);
    let done = AtomicBool::new(false);
    let best = AtomicU32::new(u32::MAX);
    let found = AtomicBool::new(false);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (buf, done, best, found) = (&buf, &done, &best, &found);
            s.spawn(move || {
                let mut n = t;
                while !done.load(Ordering::Relaxed) && !cancel.load(Ordering::Relaxed) {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return;
                    }
                    if leading_word(buf, n.to_be_bytes()) <= limit {
                        best.fetch_min(n, Ordering::SeqCst);
                        found.store(true, Ordering::SeqCst);
                        done.store(true, Ordering::Relaxed);
                        return;
                    }
                    match n.checked_add(threads) {
                        Some(next) => n = next,
                        None => return,
                    }
                }
            });
        }
    });
    found.load(Ordering::SeqCst).then(|| best.load(Ordering::SeqCst).to_be_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds() {
        assert_eq!(threshold(0), 8);
        assert_eq!(threshold(192), 16_777_216);
        assert_eq!(threshold(255), 2_130_706_432);
    }

    #[test]
    fn gives_up_when_cancelled_or_late() {
        let token = [3u8; 48];
        // Easiness 0: about 2^29 candidates; neither call may get far.
        assert_eq!(solve_until(&token, 0, 2, None, &AtomicBool::new(true)), None);
        let past = std::time::Instant::now();
        assert_eq!(solve_until(&token, 0, 2, Some(past), &AtomicBool::new(false)), None);
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(Challenge::parse("2:1:1:x").is_err());
        assert!(Challenge::parse("1:300:1:x").is_err());
        assert!(Challenge::parse("1:1:1:short").is_err());
        assert!(parse_response("1:abc").is_err());
    }
}
