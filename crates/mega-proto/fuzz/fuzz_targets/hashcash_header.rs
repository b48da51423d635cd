//! Hashcash headers: `Challenge::parse` and `parse_response` on arbitrary text (no solving).
//! Invariants: a parsed challenge's header re-parses to it; its response header parses back to
//! the token and prefix.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::{b64, hashcash};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(c) = hashcash::Challenge::parse(&s) {
        let h = c.to_header();
        assert_eq!(hashcash::Challenge::parse(&h).as_ref(), Ok(&c), "challenge header {h:?}");
        let prefix = [data[0], 1, 2, 3];
        assert_eq!(hashcash::parse_response(&c.response_header(prefix)), Ok((c.token, prefix)));
        let _ = hashcash::threshold(c.easiness);
    }
    if let Ok((token, prefix)) = hashcash::parse_response(&s) {
        let h = format!("1:{}:{}", b64::encode(&token), b64::encode(&prefix));
        assert_eq!(hashcash::parse_response(&h), Ok((token, prefix)), "response header {h:?}");
    }
});
