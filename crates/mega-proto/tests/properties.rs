//! Property tests: round trips and the equivalence of the fast paths with the reference rules.

use mega_proto::attr::Attributes;
use mega_proto::content::{ChunkBatch, ContentCipher, Direction};
use mega_proto::fingerprint::Fingerprint;
use mega_proto::keys::{KeyField, KeyOwner, WrappedKey};
use mega_proto::link::{self, Link, LinkKind};
use mega_proto::{b64, chunks, protected, FileKey, Key128, NodeHandle, NodeKey, SubNode, UserHandle};
use proptest::prelude::*;

fn cipher(key: [u8; 16], nonce: [u8; 8]) -> ContentCipher {
    ContentCipher::from_parts(&key, &nonce)
}

/// Runs lanes of `lens` bytes (lane `i` at offset `i * spacing`) through one `ChunkBatch` and
/// checks each against the serial CTR and MAC rules.
fn check_batch(
    key: [u8; 16],
    nonce: [u8; 8],
    lens: &[usize],
    decrypt: bool,
    spacing: u64,
) -> Result<(), TestCaseError> {
    let c = cipher(key, nonce);
    let dir = if decrypt { Direction::Decrypt } else { Direction::Encrypt };
    let inputs: Vec<Vec<u8>> =
        lens.iter().enumerate().map(|(i, &n)| (0..n).map(|j| (j * 7 + i * 31) as u8).collect()).collect();
    let mut bufs = inputs.clone();
    let mut batch = ChunkBatch::new(&c, dir);
    for (i, b) in bufs.iter_mut().enumerate() {
        batch.push(i as u64 * spacing, b).unwrap();
    }
    let macs = batch.run();
    for (i, input) in inputs.iter().enumerate() {
        let mut expect = input.clone();
        c.apply_ctr(i as u64 * spacing, &mut expect);
        prop_assert_eq!(&bufs[i], &expect);
        prop_assert_eq!(macs[i], c.chunk_mac(if decrypt { &expect } else { input }));
    }
    Ok(())
}

fn arb_link() -> impl Strategy<Value = Link> {
    (any::<bool>(), any::<[u8; 6]>(), proptest::option::of(any::<[u8; 32]>()), 0u8..4, any::<[u8; 6]>()).prop_map(
        |(file, h, key, sub_kind, h2)| {
            let kind = if file { LinkKind::File } else { LinkKind::Folder };
            let key = key.map(|k| {
                if file {
                    NodeKey::File(FileKey::from_node_key(&k).unwrap())
                } else {
                    NodeKey::Folder(Key128::from_slice(&k[..16]).unwrap())
                }
            });
            let sub = match (file, sub_kind) {
                (true, _) | (false, 0) => None,
                (false, 1) => Some(SubNode::File(NodeHandle(h2))),
                (false, 2) => Some(SubNode::Folder(NodeHandle(h2))),
                (false, _) => Some(SubNode::Node(NodeHandle(h2))),
            };
            Link { kind, handle: NodeHandle(h), key, sub }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn b64_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let enc = b64::encode(&bytes);
        prop_assert!(enc.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        prop_assert_eq!(b64::decode(&enc), bytes.clone());
        // Lenient: the standard alphabet and trailing padding or junk decode the same.
        let std_form = enc.replace('-', "+").replace('_', "/");
        prop_assert_eq!(b64::decode(&format!("{std_form}==!junk")), bytes);
    }

    #[test]
    fn lenient_decode_never_panics(s in ".{0,80}") {
        let _ = b64::decode(&s);
        let _ = b64::decode_exact::<16>(&s, "x");
    }

    #[test]
    fn attributes_round_trip(name in ".{0,60}", label in 0u8..8, extra in proptest::option::of("[a-z]{1,5}"), key in any::<[u8; 16]>()) {
        let key = Key128::new(key);
        let mut a = Attributes::with_name(&name);
        a.0.insert("lbl".into(), label.into());
        if let Some(x) = extra { a.0.insert(format!("x{x}"), serde_json::Value::Bool(true)); }
        let enc = a.encrypt_b64(&key);
        prop_assert_eq!(Attributes::decrypt_b64(&enc, &key).unwrap(), a);
    }

    #[test]
    fn ctr_at_any_offset_matches_the_stream(key in any::<[u8; 16]>(), nonce in any::<[u8; 8]>(),
                                             offset in 0u64..3_000_000, len in 0usize..5000) {
        let c = cipher(key, nonce);
        let aligned = offset / 16 * 16;
        let mut whole = vec![0u8; (offset - aligned) as usize + len];
        c.apply_ctr(aligned, &mut whole);
        let mut part = vec![0u8; len];
        c.apply_ctr(offset, &mut part);
        prop_assert_eq!(&part[..], &whole[(offset - aligned) as usize..]);
    }

    #[test]
    fn interleaved_mac_equals_serial(key in any::<[u8; 16]>(), nonce in any::<[u8; 8]>(),
                                     lens in proptest::collection::vec(0usize..3000, 1..20),
                                     decrypt in any::<bool>()) {
        check_batch(key, nonce, &lens, decrypt, 4096)?;
    }

    #[test]
    fn interleaved_long_lanes(key in any::<[u8; 16]>(), nonce in any::<[u8; 8]>(),
                              lens in proptest::collection::vec(2048usize..40_000, 1..=17),
                              decrypt in any::<bool>()) {
        // Long enough for the fast phase, with one or more batches and ragged ends.
        check_batch(key, nonce, &lens, decrypt, 65536)?;
    }

    #[test]
    fn chunk_layout_is_a_partition(size in 0u64..(1 << 40)) {
        let mut next = 0;
        let n = chunks::chunk_count(size);
        for (i, r) in chunks::chunks(size).take(64).enumerate() {
            prop_assert_eq!(r.start, next);
            prop_assert!(r.end > r.start && r.end - r.start <= chunks::MAX_CHUNK);
            prop_assert!(chunks::is_boundary(r.start));
            prop_assert_eq!(chunks::chunk_index(r.start), i as u64);
            next = r.end;
        }
        if n > 0 {
            prop_assert_eq!(chunks::chunk_range(n - 1, size).end, size);
        }
    }

    #[test]
    fn link_format_parse(l in arb_link()) {
        let url = l.to_url();
        prop_assert_eq!(link::parse_plain(&url).unwrap(), l.clone());
        let apart = link::parse_plain(&l.url_without_key()).unwrap();
        prop_assert!(apart.key.is_none());
        if let Some(k) = l.key_b64() {
            prop_assert_eq!(apart.with_key(&format!("#{k}")).unwrap().key, l.key);
        }
    }

    #[test]
    fn key_field_round_trip(users in proptest::collection::vec((any::<[u8; 8]>(), any::<[u8; 32]>(), any::<bool>()), 1..4)) {
        let f = KeyField { entries: users.iter().map(|(u, k, long)| {
            let key = if *long { k.to_vec() } else { k[..16].to_vec() };
            (KeyOwner::User(UserHandle(*u)), WrappedKey::Aes(key))
        }).collect() };
        prop_assert_eq!(KeyField::parse(&f.format()).unwrap(), f);
    }

    #[test]
    fn fingerprint_round_trip(crc in any::<[u8; 16]>(), mtime in any::<i64>()) {
        let f = Fingerprint { crc, mtime };
        prop_assert_eq!(Fingerprint::parse(&f.to_attr()).unwrap(), f);
    }
}

proptest! {
    // PBKDF2 at 100,000 rounds per case: a few cases only.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn protected_link_round_trip(l in arb_link(), password in ".{0,20}", salt in any::<[u8; 32]>()) {
        prop_assume!(l.key.is_some());
        let plain = Link { sub: None, ..l };
        let payload = protected::encrypt_with_salt(&plain, &password, &salt).unwrap();
        prop_assert_eq!(protected::decrypt(&payload, &password).unwrap(), plain);
        let wrong = format!("{password}x");
        prop_assert!(protected::decrypt(&payload, &wrong).is_err());
    }
}

#[test]
fn whole_file_encrypt_matches_chunkwise_serial() {
    let c = cipher([3; 16], [4; 8]);
    for size in [0usize, 1, 131_072, 131_073, 4_718_592 + 1000] {
        let plain: Vec<u8> = (0..size).map(|i| (i * 5 + 1) as u8).collect();
        let mut data = plain.clone();
        let macs = c.encrypt_file(&mut data);
        let serial: Vec<[u8; 16]> =
            chunks::chunks(size as u64).map(|r| c.chunk_mac(&plain[r.start as usize..r.end as usize])).collect();
        assert_eq!(macs, serial, "size {size}");
        let mut expect = plain.clone();
        c.apply_ctr(0, &mut expect);
        assert_eq!(data, expect);
    }
}

proptest! {
    /// `^!keys`: any records of tags without a fixed size survive a parse, a rewrite and an
    /// encrypt/decrypt round trip byte for byte, in order.
    #[test]
    fn keys_container_records_round_trip(
        records in proptest::collection::vec((64u8..=255, proptest::collection::vec(any::<u8>(), 0..64)), 0..12),
        generation in any::<u32>(),
        iv in any::<[u8; 12]>(),
    ) {
        use mega_proto::keymgr::KeysContainer;
        let mut plain = Vec::new();
        for (t, v) in &records {
            plain.push(*t);
            plain.extend_from_slice(&(v.len() as u32).to_be_bytes()[1..]);
            plain.extend_from_slice(v);
        }
        let mut c = KeysContainer::parse(&plain).unwrap();
        prop_assert_eq!(&c.to_plaintext()[..], &plain[..]);
        let master = Key128::new([7; 16]);
        let back = KeysContainer::decrypt(&c.encrypt_with_iv(&master, &iv), &master).unwrap();
        prop_assert_eq!(&back.to_plaintext()[..], &plain[..]);
        c.set_generation(generation);
        let back = KeysContainer::decrypt(&c.encrypt_with_iv(&master, &iv), &master).unwrap();
        prop_assert_eq!(back.generation(), generation);
        let others: Vec<(u8, Vec<u8>)> = back.records().filter(|(t, _)| *t != 4).map(|(t, v)| (t, v.to_vec())).collect();
        prop_assert_eq!(others, records);
    }
}
