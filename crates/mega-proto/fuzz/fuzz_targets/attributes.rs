//! `Attributes::decrypt` / `decrypt_b64` on arbitrary bytes, and `with_name(s)` round trips.
//! Invariants: decrypted attributes re-encrypt and decrypt to the same value; any name survives
//! encryption.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::attr::{self, Attributes};
use mega_proto::Key128;

fuzz_target!(|data: &[u8]| {
    let k = Key128::new([1; 16]);
    if let Ok(a) = Attributes::decrypt(data, &k) {
        let again = Attributes::decrypt(&a.encrypt(&k), &k);
        assert_eq!(again.as_ref(), Ok(&a), "attributes do not survive re-encryption");
    }
    let s = String::from_utf8_lossy(data);
    if let Ok(a) = Attributes::decrypt_b64(&s, &k) {
        let _ = (a.name(), a.fingerprint());
    }
    // The input as a node name.
    let named = Attributes::with_name(&s);
    let enc = named.encrypt(&k);
    assert_eq!(enc.len() % 16, 0);
    let back = Attributes::decrypt(&enc, &k).unwrap_or_else(|e| panic!("name {s:?} does not survive: {e}"));
    assert_eq!(back.name(), Some(&*s));
    assert_eq!(back, named);
    let back = Attributes::decrypt_b64(&named.encrypt_b64(&k), &k).expect("b64 round trip");
    assert_eq!(back.name(), Some(&*s));
    // File-attribute blobs.
    if let Ok(plain) = attr::decrypt_file_attribute(data, &k) {
        assert_eq!(attr::encrypt_file_attribute(&plain, &k), data);
    }
});
