//! MEGA b64. Invariants: `decode(encode(b)) == b`; `decode` never panics; the strict decoders
//! agree with the lenient one when they accept; a32 round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::b64;

fuzz_target!(|data: &[u8]| {
    let enc = b64::encode(data);
    assert_eq!(enc.len(), b64::encoded_len(data.len()));
    assert_eq!(b64::decode(&enc), data);
    assert_eq!(b64::decode_all(&enc, "fuzz").as_deref(), Ok(data));
    if let Ok(arr) = <[u8; 16]>::try_from(data) {
        assert_eq!(b64::decode_exact::<16>(&enc, "fuzz"), Ok(arr));
    }

    let s = String::from_utf8_lossy(data);
    let d = b64::decode(&s);
    let n = b64::b64_prefix_len(&s);
    assert_eq!(d.len(), n * 3 / 4, "decoded length of {s:?}");
    if let Ok(all) = b64::decode_all(&s, "fuzz") {
        assert_eq!(all, d);
    }
    if let Ok(arr) = b64::decode_exact::<16>(&s, "fuzz") {
        assert_eq!(&arr[..], &d[..]);
    }
    let _ = b64::decode_exact::<6>(&s, "fuzz");
    let _ = b64::decode_exact::<8>(&s, "fuzz");

    let words = b64::to_a32(data);
    let back = b64::from_a32(&words);
    assert_eq!(&back[..data.len()], data);
    assert!(back[data.len()..].iter().all(|&b| b == 0) && back.len() - data.len() < 4);
});
