//! The fingerprint attribute `c`. Invariants: a parsed fingerprint's `to_attr` re-parses to it;
//! any (crc, mtime) round trips; the sampled ranges of any size lie inside the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::fingerprint::{self, Fingerprint};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(fp) = Fingerprint::parse(&s) {
        let c = fp.to_attr();
        assert_eq!(Fingerprint::parse(&c), Ok(fp), "c attribute {c:?} (of input {s:?})");
    }
    if data.len() >= 24 {
        let fp = Fingerprint {
            crc: data[..16].try_into().expect("16"),
            mtime: i64::from_le_bytes(data[16..24].try_into().expect("8")),
        };
        assert_eq!(Fingerprint::parse(&fp.to_attr()), Ok(fp));
        let size = u64::from_le_bytes(data[..8].try_into().expect("8"));
        let ranges = fingerprint::sample_ranges(size);
        for &(off, len) in &ranges {
            assert!(off.checked_add(len as u64).is_some_and(|end| end <= size), "size {size}: range {off}+{len}");
        }
        let mut read = 0u64;
        let r: Result<_, ()> = fingerprint::crc_with(size, |off, buf| {
            assert!(off + buf.len() as u64 <= size);
            read += buf.len() as u64;
            Ok(())
        });
        assert!(r.is_ok());
        assert!(read <= size.min(8192));
    }
    let fp = Fingerprint::of(data, 1_700_000_000);
    assert_eq!(fp.crc, fingerprint::crc_of(data));
});
