//! RSA key blobs: `PrivateKey::from_privk_plaintext`, `read_mpi`, `PublicKey::from_bytes` on
//! arbitrary bytes and `PrivateKey::decrypt_privk` on arbitrary text. No modular exponentiation
//! is run. Invariants: a parsed key writes back to a blob that parses to the same key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mega_proto::rsa::{self, PrivateKey, PublicKey};
use mega_proto::Key128;

fuzz_target!(|data: &[u8]| {
    if let Ok(k) = PrivateKey::from_privk_plaintext(data) {
        let blob = k.to_privk_plaintext(&[0xa5; 16]);
        assert_eq!(blob.len() % 16, 0);
        assert_eq!(PrivateKey::from_privk_plaintext(&blob).as_ref(), Ok(&k), "privk plaintext round trip");
    }
    if let Ok((n, rest)) = rsa::read_mpi(data) {
        assert!(rest.len() <= data.len() - 2);
        let w = rsa::write_mpi(&n);
        let (m, r) = rsa::read_mpi(&w).expect("write_mpi re-reads");
        assert!(m == n && r.is_empty(), "write_mpi round trip");
        let w = rsa::write_mpi_bytes(&n);
        let (m, r) = rsa::read_mpi(&w).expect("write_mpi_bytes re-reads");
        assert!(m == n && r.is_empty(), "write_mpi_bytes round trip");
    }
    if let Ok(pk) = PublicKey::from_bytes(data) {
        assert_eq!(PublicKey::from_bytes(&pk.to_bytes()).as_ref(), Ok(&pk), "pubk round trip");
    }
    let s = String::from_utf8_lossy(data);
    let master = Key128::new([2; 16]);
    if let Ok(k) = PrivateKey::decrypt_privk(&s, &master) {
        let _ = k.modulus();
    }
    let _ = PublicKey::from_b64(&s);
});
