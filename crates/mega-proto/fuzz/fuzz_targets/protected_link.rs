//! `protected::inspect` on arbitrary payloads, and `protected::decrypt` on a few of them.
//!
//! The first input byte is free (a salt for the gate below); the rest is the payload.
//! Decryption costs a 100,000-round PBKDF2 (25-50 ms) whenever the payload is well-formed, so it
//! runs only for 1 input in 64: those whose FNV-1a hash is 0 mod 64, and shorter than 200 bytes.
//! (A gate on one byte is not enough: mutants of a seed that passes it keep that byte, and the
//! run slows to a few dozen inputs a second.) A decryption that succeeds (the password is "pw",
//! as in the seeds pw*) must re-encrypt (algorithm 2, same salt) to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::{b64, protected};

fn fnv1a(data: &[u8]) -> u32 {
    data.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

fuzz_target!(|data: &[u8]| {
    let Some((_, rest)) = data.split_first() else { return };
    let s = String::from_utf8_lossy(rest);
    let header = protected::inspect(&s);
    if let Ok(h) = &header {
        assert!(h.algorithm == 1 || h.algorithm == 2, "{h:?}");
    }
    if fnv1a(data) % 64 == 0 && data.len() < 200 {
        match protected::decrypt(&s, "pw") {
            Ok(l) => {
                let h = header.unwrap_or_else(|e| panic!("decrypt succeeds where inspect fails: {e}"));
                assert_eq!((l.kind, l.handle, l.sub), (h.kind, h.handle, None));
                let key = l.require_key().expect("decrypted link has a key");
                assert_eq!(key.to_bytes().len(), l.kind.key_len());
                if h.algorithm == 2 {
                    let bytes = b64::decode(&s);
                    let salt: [u8; 32] = bytes[8..40].try_into().expect("salt");
                    let again = protected::encrypt_with_salt(&l, "pw", &salt).expect("re-encrypt");
                    assert_eq!(again, b64::encode(&bytes), "re-encryption differs");
                }
            }
            Err(e) => {
                // A payload that inspect accepts fails only on the password (MAC).
                if header.is_ok() {
                    assert_eq!(e, mega_proto::Error::WrongPassword, "payload {s:?}");
                }
            }
        }
    }
});
