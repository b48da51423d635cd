//! `extract::extract_links` on arbitrary text. Invariants: every result's canonical URL parses
//! back to the same value; no result appears twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::extract;
use mega_proto::link;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let links = extract::extract_links(&s);
    for (i, l) in links.iter().enumerate() {
        let url = l.to_url();
        assert!(!links[..i].contains(l), "result #{i} {url:?} is a duplicate");
        assert_eq!(link::parse(&url).as_ref(), Ok(l), "result #{i} {url:?} does not re-parse to itself");
    }
});
