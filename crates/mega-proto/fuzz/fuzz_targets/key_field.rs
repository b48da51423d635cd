//! `KeyField::parse` on arbitrary text. Invariants: the formatted field re-parses to the same
//! entries; every AES entry unwraps (16 or 32 bytes) and re-wraps to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::keys::{KeyField, WrappedKey};
use mega_proto::{Key128, NodeKey};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Ok(f) = KeyField::parse(&s) else { return };
    assert!(!f.entries.is_empty());
    let formatted = f.format();
    assert_eq!(
        KeyField::parse(&formatted).as_ref(),
        Ok(&f),
        "formatted field {formatted:?} (of input {s:?}) does not re-parse to the same entries"
    );
    let kek = Key128::new([7; 16]);
    for (owner, w) in &f.entries {
        assert!(f.get(*owner).is_some());
        match w {
            WrappedKey::Aes(b) => {
                let k = w.unwrap_aes(&kek).unwrap_or_else(|e| panic!("AES entry of {} bytes: {e}", b.len()));
                assert_eq!(k.len(), b.len());
                assert_eq!(&kek.wrap(&k).expect("re-wrap"), b);
                NodeKey::from_bytes(&k).expect("unwrapped key is a node key");
            }
            WrappedKey::Rsa(_) => {
                assert!(w.unwrap_aes(&kek).is_err());
            }
        }
    }
});
