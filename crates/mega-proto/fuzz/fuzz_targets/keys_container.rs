//! The key manager's `^!keys` (spec §6.10): `KeysContainer::parse` on arbitrary plaintext and
//! `KeysContainer::decrypt` on arbitrary blobs. Invariants: what parses writes back byte for
//! byte, re-parses to the same records, and survives encrypt/decrypt; the typed accessors never
//! panic, and a share key put in is read back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::keymgr::{KeysContainer, ShareKey};
use mega_proto::{Key128, NodeHandle};

fuzz_target!(|data: &[u8]| {
    let master = Key128::new([3; 16]);
    let _ = KeysContainer::decrypt(data, &master);
    let Ok(mut c) = KeysContainer::parse(data) else { return };
    assert_eq!(&c.to_plaintext()[..], data, "a parsed container writes back byte for byte");
    let _ = (c.version(), c.creation_time(), c.identity(), c.generation(), c.priv_rsa());
    let _ = (c.priv_ed25519(), c.priv_cu25519(), c.share_keys());
    let sealed = c.encrypt_with_iv(&master, &[1; 12]);
    let back = KeysContainer::decrypt(&sealed, &master).expect("our own container decrypts");
    assert_eq!(&back.to_plaintext()[..], data, "encrypt/decrypt round trip");
    let g = c.generation();
    assert_eq!(c.bump_generation(), g.saturating_add(1));
    let h = NodeHandle([0xfe; 6]);
    c.put_share_key(ShareKey { handle: h, key: Key128::new([9; 16]), flags: 1 });
    assert_eq!(c.share_key(h).map(|s| s.key), Some(Key128::new([9; 16])));
    let again = KeysContainer::parse(&c.to_plaintext()).expect("a rewritten container parses");
    assert_eq!(again.share_key(h).map(|s| s.flags), Some(1));
});
