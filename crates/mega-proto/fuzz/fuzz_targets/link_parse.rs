//! `link::parse` on arbitrary text. Invariants: a parsed plain link's canonical URL re-parses to
//! the same link; its key-less URL re-parses to the same target; its key given apart re-attaches;
//! a `#P!` link's canonical URL re-parses to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::link::{self, ParsedLink};
use mega_proto::protected;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    match link::parse(&s) {
        Ok(ParsedLink::Plain(l)) => {
            let url = l.to_url();
            assert_eq!(
                link::parse_plain(&url).as_ref(),
                Ok(&l),
                "canonical URL {url:?} (of input {s:?}) does not re-parse to the same link"
            );
            let bare = l.url_without_key();
            let b = link::parse_plain(&bare).unwrap_or_else(|e| panic!("key-less URL {bare:?} does not parse: {e}"));
            assert_eq!((b.kind, b.handle, b.sub), (l.kind, l.handle, None), "key-less URL {bare:?}");
            assert!(b.key.is_none(), "key-less URL {bare:?} has a key");
            assert_eq!(l.to_string(), bare);
            if let Some(k) = l.key_b64() {
                let w = b.with_key(&k).unwrap_or_else(|e| panic!("key of {url:?} given apart is refused: {e}"));
                assert!(w.key == l.key, "key of {url:?} given apart re-attaches differently");
                assert!(l.require_key().is_ok());
            } else {
                assert!(l.require_key().is_err());
            }
        }
        Ok(ParsedLink::Protected(p)) => {
            assert!(!p.is_empty());
            let _ = protected::inspect(&p);
            let url = ParsedLink::Protected(p.clone()).to_url();
            assert_eq!(link::parse(&url), Ok(ParsedLink::Protected(p)), "canonical #P! URL {url:?}");
            assert!(link::parse_plain(&url).is_err());
        }
        Err(e) => {
            let _ = (e.kind(), e.to_string());
        }
    }
});
