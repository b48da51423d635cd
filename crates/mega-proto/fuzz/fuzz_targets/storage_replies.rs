//! Storage-server replies: chunk POST answers, node `fa` strings and file-attribute download
//! records. Invariants: a `Done` token is usable as `h` (b64 text); parsed `fa` entries format
//! back to entries that parse the same; records never claim more bytes than the body has.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::storage::{self, ChunkReply};

fuzz_target!(|data: &[u8]| {
    if let ChunkReply::Done(token) = ChunkReply::parse(data) {
        assert!(token.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'), "token {token:?}");
    }
    let s = String::from_utf8_lossy(data);
    let fa = storage::parse_file_attrs(&s);
    let pairs: Vec<_> = fa.iter().map(|a| (a.kind, a.handle)).collect();
    let again = storage::parse_file_attrs(&storage::format_file_attrs(&pairs));
    assert_eq!(again.iter().map(|a| (a.kind, a.handle)).collect::<Vec<_>>(), pairs);
    if let Ok(records) = storage::parse_file_attr_records(data) {
        let total: usize = records.iter().map(|(_, d)| 12 + d.len()).sum();
        assert_eq!(total, data.len());
    }
});
