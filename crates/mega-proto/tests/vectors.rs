//! Known-answer tests: every section of `shared/protocol/vectors.json` that `mega-proto` covers.
//!
//! The file is `$MEGA_VECTORS` when set, else `../../../shared/protocol/vectors.json` from this
//! crate. A missing file, or a missing or empty section, fails: a run that checked nothing must
//! not pass. Only the schema is assumed, never the values, so any vector set in the same schema
//! (the holdout set) runs through the same checks.

use std::sync::OnceLock;

use mega_proto::attr::{decrypt_file_attribute, encrypt_file_attribute, Attributes};
use mega_proto::content::{upload_checksum, ContentCipher};
use mega_proto::fingerprint::{crc_of, Fingerprint};
use mega_proto::hashcash::{self, Challenge};
use mega_proto::keys::{KeyField, KeyOwner};
use mega_proto::link::{self, ParsedLink};
use mega_proto::login::{self, Prelogin, SessionBlob, V2Keys};
use mega_proto::rsa::{PrivateKey, PublicKey};
use mega_proto::{b64, chunks, protected, ErrorCode, ErrorKind, FileKey, Key128, NodeKey, SubNode, UserHandle};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors() -> &'static Value {
    static V: OnceLock<Value> = OnceLock::new();
    V.get_or_init(|| {
        // The crate's directory as cargo gives it when the test runs, not when it was built: a
        // target dir shared by clones at other paths keeps a binary built for another clone.
        let crate_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_string());
        let path = std::env::var("MEGA_VECTORS")
            .unwrap_or_else(|_| format!("{crate_dir}/../../../shared/protocol/vectors.json"));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read the vectors file {path}: {e} (set MEGA_VECTORS)"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("vectors file {path} is not JSON: {e}"))
    })
}

fn section(name: &str) -> &'static [Value] {
    let s = vectors()[name].as_array().unwrap_or_else(|| panic!("section {name} missing"));
    assert!(!s.is_empty(), "section {name} is empty");
    s
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} missing or not a string in {v}"))
}

fn hx(v: &Value, k: &str) -> Vec<u8> {
    hex::decode(s(v, k)).unwrap_or_else(|e| panic!("field {k}: bad hex: {e}"))
}

fn u(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("field {k} missing or not an integer"))
}

fn key16(v: &Value, k: &str) -> Key128 {
    Key128::from_slice(&hx(v, k)).unwrap()
}

/// The plaintext of a formula rule `byte[i] = (i*MUL + ADD) mod M`.
fn plaintext(v: &Value) -> Vec<u8> {
    let rule = s(v, "plaintext_rule");
    let re = regex::Regex::new(r"byte\[i\]\s*=\s*\(\s*i\s*\*\s*(\d+)\s*\+\s*(\d+)\s*\)\s*mod\s*(\d+)").unwrap();
    let c = re.captures(rule).unwrap_or_else(|| panic!("unknown plaintext rule {rule}"));
    let (mul, add, m): (u64, u64, u64) = (c[1].parse().unwrap(), c[2].parse().unwrap(), c[3].parse().unwrap());
    let size = u(v, "size");
    let data: Vec<u8> = (0..size).map(|i| ((i * mul + add) % m) as u8).collect();
    if let Some(h) = v.get("plaintext_sha256").and_then(Value::as_str) {
        assert_eq!(hex::encode(Sha256::digest(&data)), h, "plaintext formula for size {size}");
    }
    if v.get("plaintext_hex").is_some() {
        assert_eq!(data, hx(v, "plaintext_hex"));
    }
    data
}

#[test]
fn base64_a32() {
    for v in section("base64_a32") {
        if let Some(input) = v.get("input").and_then(Value::as_str) {
            assert_eq!(b64::decode(input), hx(v, "decoded_hex"), "lenient decode of {input}");
            continue;
        }
        let bytes = hx(v, "bytes_hex");
        assert_eq!(b64::encode(&bytes), s(v, "b64"));
        assert_eq!(b64::decode(s(v, "b64")), bytes);
        if let Some(words) = v.get("a32").and_then(Value::as_array) {
            let words: Vec<u32> = words.iter().map(|w| w.as_u64().unwrap() as u32).collect();
            assert_eq!(b64::to_a32(&bytes), words);
            assert_eq!(b64::from_a32(&words), bytes);
        }
        if let Some(words) = v.get("a32_hex_words").and_then(Value::as_array) {
            let got: Vec<String> = b64::to_a32(&bytes).iter().map(|w| format!("{w:08x}")).collect();
            let want: Vec<&str> = words.iter().map(|w| w.as_str().unwrap()).collect();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn prepare_key_v1() {
    for v in section("prepare_key_v1") {
        let want = hx(v, "prepared_key_hex");
        if let Some(pw) = v.get("password").and_then(Value::as_str) {
            let units = login::password_units_v1(pw);
            if v.get("password_units_hex").is_some() {
                assert_eq!(&units[..], &hx(v, "password_units_hex")[..], "units of {pw:?}");
            }
            if let Some(n) = v.get("aes_keys_used").and_then(Value::as_u64) {
                assert_eq!(units.len().div_ceil(16) as u64, n);
            }
            assert_eq!(login::password_key_v1(pw).as_bytes()[..], want[..], "prepare_key({pw:?})");
            if v.get("megajs_utf8_variant_hex").is_some() {
                let utf8 = login::prepare_key_v1(pw.as_bytes());
                assert_eq!(utf8.as_bytes()[..], hx(v, "megajs_utf8_variant_hex")[..]);
            }
        } else {
            let bytes = hx(v, "password_bytes_hex");
            assert_eq!(login::prepare_key_v1(&bytes).as_bytes()[..], want[..]);
        }
    }
}

#[test]
fn login_v1_uh() {
    for v in section("login_v1_uh") {
        let typed = s(v, "email_as_typed");
        assert_eq!(typed.to_lowercase(), s(v, "email_lowercased"));
        let key = login::password_key_v1(s(v, "password"));
        assert_eq!(key.as_bytes()[..], hx(v, "prepared_key_hex")[..]);
        assert_eq!(login::uh_v1(s(v, "email_lowercased"), &key), s(v, "uh"));
        let secrets = login::login_secrets(typed, s(v, "password"), &Prelogin::V1).unwrap();
        assert_eq!(secrets.uh.as_str(), s(v, "uh"));
    }
}

#[test]
fn login_v2_derivation() {
    for v in section("login_v2_derivation") {
        let random: [u8; 16] = hx(v, "client_random_hex").try_into().unwrap();
        let salt = login::salt_v2(&random);
        assert_eq!(salt[..], hx(v, "salt_hex")[..]);
        assert_eq!(b64::encode(&salt), s(v, "salt_b64"));
        let keys = V2Keys::derive(s(v, "password"), &salt);
        let derived = hx(v, "derived_hex");
        assert_eq!(keys.password_key.as_bytes()[..], derived[..16]);
        assert_eq!(keys.auth_key.as_bytes()[..], derived[16..]);
        assert_eq!(keys.password_key.as_bytes()[..], hx(v, "password_key_hex")[..]);
        assert_eq!(keys.auth_key.as_bytes()[..], hx(v, "auth_key_hex")[..]);
        assert_eq!(keys.uh(), s(v, "uh"));
        let stored = login::hashed_auth_key(&b64::decode(s(v, "uh")));
        assert_eq!(stored[..], hx(v, "server_stored_hashed_auth_key_hex")[..]);
    }
}

#[test]
fn login_flows() {
    for v in section("login_flows") {
        let email = s(v, "email");
        assert_eq!(s(&v["us0_request"], "user"), email.to_lowercase());
        let us0 = &v["us0_response"];
        let prelogin = match u(us0, "v") {
            1 => Prelogin::V1,
            2 => Prelogin::V2 { salt: b64::decode(s(us0, "s")) },
            other => panic!("account version {other}"),
        };
        assert_eq!(u(v, "account_version"), u(us0, "v"));
        let secrets = login::login_secrets(email, s(v, "password"), &prelogin).unwrap();
        assert_eq!(secrets.password_key.as_bytes()[..], hx(v, "password_key_hex")[..]);
        let req = &v["us_request"];
        assert_eq!(s(req, "uh"), secrets.uh.as_str(), "uh of {email}");
        let resp = &v["us_response"];
        let master = login::decrypt_master_key(&secrets.password_key, s(resp, "k")).unwrap();
        assert_eq!(master.as_bytes()[..], hx(v, "master_key_hex")[..]);
        assert_eq!(login::encrypt_master_key(&secrets.password_key, &master), s(resp, "k"));

        // privk: plaintext, layout, components, and an exact re-encoding.
        let mut plain = b64::decode(s(resp, "privk"));
        master.ecb_decrypt(&mut plain).unwrap();
        assert_eq!(plain, hx(v, "privk_plain_hex"));
        let key = PrivateKey::decrypt_privk(s(resp, "privk"), &master).unwrap();
        let comps = &v["rsa_components_hex"];
        let (p, q, d, uu) = key.components();
        for (name, val) in [("p", p), ("q", q), ("d", d), ("u", uu)] {
            assert_eq!(hex::encode(val.to_bytes_be()), s(comps, name).trim_start_matches("00"), "component {name}");
        }
        assert_eq!(hex::encode(key.modulus().to_bytes_be()), s(comps, "n").trim_start_matches("00"));
        let mpis = key.to_mpis();
        assert!(plain.starts_with(&mpis) && plain.len() - mpis.len() < 16, "privk layout");
        let mut pad = [0u8; 16];
        pad[..plain.len() - mpis.len()].copy_from_slice(&plain[mpis.len()..]);
        assert_eq!(&key.to_privk_plaintext(&pad)[..], &plain[..]);
        assert!(PrivateKey::decrypt_privk(s(resp, "privk"), &Key128::new([0x55; 16])).is_err());

        // pubk.
        let pubk = PublicKey::from_b64(s(v, "pubk_b64")).unwrap();
        assert_eq!(&pubk.n, key.modulus());
        assert_eq!(hex::encode(pubk.e.to_bytes_be()), s(comps, "e").trim_start_matches("00"));
        assert_eq!(b64::encode(&pubk.to_bytes()), s(v, "pubk_b64"));

        // csid -> sid, and the server side: the same plaintext encrypts to the same csid.
        let user = UserHandle::from_b64(s(resp, "u")).unwrap();
        assert_eq!(s(resp, "u"), s(v, "user_handle_b64"));
        let sid = key.decrypt_csid(s(resp, "csid"), user).unwrap();
        assert_eq!(sid.to_b64(), s(v, "expected_sid"));
        assert_eq!(sid.as_bytes()[..], hx(v, "expected_sid_raw_hex")[..]);
        assert_eq!(sid.user(), Some(user));
        let csid_plain = hx(v, "csid_plaintext_hex");
        assert_eq!(key.decrypt_mpi(&b64::decode(s(resp, "csid"))).unwrap()[..], csid_plain[..]);
        assert_eq!(b64::encode(&pubk.encrypt_raw(&csid_plain).unwrap()), s(resp, "csid"));
        let other = UserHandle([0; 8]);
        assert!(key.decrypt_csid(s(resp, "csid"), other).is_err());

        // The sek is echoed; the session blob.
        assert_eq!(s(resp, "sek"), s(req, "sek"));
        let sek = Key128::from_b64(s(req, "sek")).unwrap();
        let blob = SessionBlob { master: master.clone(), sid: sid.clone() };
        assert_eq!(blob.encode(&sek), s(v, "session_blob_b64"));
        assert_eq!(SessionBlob::decode(s(v, "session_blob_b64"), Some(&sek)).unwrap(), blob);
    }
}

#[test]
fn tsid() {
    for v in section("tsid") {
        let master = key16(v, "master_key_hex");
        let got = login::check_tsid(s(v, "tsid"), &master);
        assert_eq!(got.is_ok(), v["valid"].as_bool().unwrap(), "tsid {}", s(v, "tsid"));
        if let Ok(sid) = got {
            assert_eq!(sid.to_b64(), s(v, "tsid"));
            if v.get("tsid_raw_hex").is_some() {
                assert_eq!(sid.as_bytes()[..], hx(v, "tsid_raw_hex")[..]);
            }
            let mut r = [0u8; 16];
            r.copy_from_slice(&sid.as_bytes()[..16]);
            let user = sid.user().unwrap();
            assert_eq!(login::make_tsid(r, user, &master), sid);
        }
    }
}

#[test]
fn attributes() {
    for v in section("attributes") {
        let node_key = NodeKey::from_bytes(&hx(v, "node_key_hex")).unwrap();
        match s(v, "node_kind") {
            "file" => assert!(matches!(node_key, NodeKey::File(_))),
            "folder" => assert!(matches!(node_key, NodeKey::Folder(_))),
            k => panic!("node kind {k}"),
        }
        let key = node_key.attr_key();
        assert_eq!(key.as_bytes()[..], hx(v, "attr_key_hex")[..]);
        let attrs = Attributes(v["attributes"].as_object().unwrap().clone());
        assert_eq!(attrs.to_plaintext(), hx(v, "plaintext_hex"));
        assert_eq!(attrs.encrypt_b64(&key), s(v, "a_b64"));
        assert_eq!(Attributes::decrypt_b64(s(v, "a_b64"), &key).unwrap(), attrs);
        let wrong = Key128::new([0xa5; 16]);
        assert_eq!(Attributes::decrypt_b64(s(v, "a_b64"), &wrong).unwrap_err().kind(), ErrorKind::WrongKey);
    }
}

#[test]
fn node_keys() {
    for v in section("node_keys") {
        let master = key16(v, "master_key_hex");
        let me = UserHandle::from_b64(s(v, "me")).unwrap();
        let field = KeyField::parse(s(v, "k_field")).unwrap();
        let wrapped = field.get(KeyOwner::User(me)).expect("an entry for me");
        let key = wrapped.unwrap_aes(&master).unwrap();
        assert_eq!(*key, hx(v, "decrypted_key_hex"));
        assert_eq!(
            master.wrap(&key).unwrap(),
            *match wrapped {
                mega_proto::keys::WrappedKey::Aes(w) => w,
                _ => unreachable!(),
            }
        );
        if v.get("aes_key_hex").is_some() {
            let fk = FileKey::from_node_key(&key).unwrap();
            assert_eq!(fk.aes_key[..], hx(v, "aes_key_hex")[..]);
            assert_eq!(fk.nonce[..], hx(v, "ctr_nonce_hex")[..]);
            assert_eq!(fk.meta_mac[..], hx(v, "meta_mac_hex")[..]);
        }
    }
}

fn ranges(v: &Value) -> Vec<(u64, u64)> {
    v["chunks"].as_array().unwrap().iter().map(|r| (r[0].as_u64().unwrap(), r[1].as_u64().unwrap())).collect()
}

#[test]
fn chunk_boundaries() {
    for v in section("chunk_boundaries") {
        let size = u(v, "size");
        let got: Vec<(u64, u64)> = chunks::chunks(size).map(|r| (r.start, r.end)).collect();
        assert_eq!(got, ranges(v), "chunks of {size}");
    }
}

#[test]
fn file_crypto() {
    for v in section("file_crypto") {
        let size = u(v, "size");
        let plain = plaintext(v);
        let aes: [u8; 16] = hx(v, "aes_key_hex").try_into().unwrap();
        let nonce: [u8; 8] = hx(v, "ctr_nonce_hex").try_into().unwrap();
        let cipher = ContentCipher::from_parts(&aes, &nonce);
        let layout: Vec<(u64, u64)> = chunks::chunks(size).map(|r| (r.start, r.end)).collect();
        assert_eq!(layout, ranges(v));

        let mut data = plain.clone();
        let macs = cipher.encrypt_file(&mut data);
        assert_eq!(hex::encode(Sha256::digest(&data)), s(v, "ciphertext_sha256"), "ciphertext of {size}");
        if v.get("ciphertext_hex").is_some() {
            assert_eq!(data, hx(v, "ciphertext_hex"));
        }
        let want: Vec<String> =
            v["chunk_macs_hex"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().into()).collect();
        assert_eq!(macs.iter().map(hex::encode).collect::<Vec<_>>(), want, "chunk MACs of {size}");
        // The serial reference rule agrees with the interleaved one.
        for (mac, &(a, b)) in macs.iter().zip(&layout) {
            assert_eq!(*mac, cipher.chunk_mac(&plain[a as usize..b as usize]));
        }
        let meta = cipher.meta_mac(&macs);
        assert_eq!(hex::encode(meta), s(v, "meta_mac_hex"), "meta-MAC of {size}");

        let fk = FileKey { aes_key: aes, nonce, meta_mac: meta };
        assert_eq!(hex::encode(fk.to_node_key()), s(v, "node_key_hex"));
        assert_eq!(b64::encode(&fk.to_node_key()), s(v, "node_key_b64"));
        assert_eq!(FileKey::from_node_key(&hx(v, "node_key_hex")).unwrap(), fk);
        let master = key16(v, "master_key_hex");
        assert_eq!(b64::encode(&master.wrap(&fk.to_node_key()).unwrap()), s(v, "k_field_value_b64"));
        if let Some(mj) = v.get("megajs_1_3_10_node_key_hex").and_then(Value::as_str) {
            // Documented megajs divergence (spec §4.4): we follow the SDK.
            assert_ne!(hex::encode(fk.to_node_key()), mj);
        }

        // Decrypting gives the plaintext and the same MACs.
        let mut back = data.clone();
        assert_eq!(cipher.decrypt_file(&mut back), macs);
        assert_eq!(back, plain);

        if let Some(up) = v.get("upload_first_chunk") {
            let (a, b) = (up["range"][0].as_u64().unwrap() as usize, up["range"][1].as_u64().unwrap() as usize);
            let d = b64::encode(&upload_checksum(&data[a..b]));
            assert_eq!(format!("/{a}?d={d}"), s(up, "post_path_suffix"));
        }
    }
}

#[test]
fn fingerprint_c_attribute() {
    for v in section("fingerprint_c_attribute") {
        let data = plaintext(v);
        let crc = crc_of(&data);
        assert_eq!(hex::encode(crc), s(v, "crc_part_hex"), "crc of size {}", data.len());
        let mtime = v["mtime"].as_i64().unwrap();
        let fp = Fingerprint { crc, mtime };
        assert_eq!(fp.to_attr(), s(v, "c_attribute"));
        assert_eq!(Fingerprint::parse(s(v, "c_attribute")).unwrap(), fp);
    }
}

#[test]
fn file_attribute_blobs() {
    for v in section("file_attribute_blobs") {
        let key = NodeKey::from_bytes(&hx(v, "node_key_hex")).unwrap().attr_key();
        let plain = hx(v, "plaintext_hex");
        let enc = encrypt_file_attribute(&plain, &key);
        assert_eq!(enc, hx(v, "encrypted_hex"));
        let dec = decrypt_file_attribute(&enc, &key).unwrap();
        assert_eq!(&dec[..plain.len()], &plain[..]);
        assert!(dec[plain.len()..].iter().all(|&b| b == 0));
    }
}

#[test]
fn password_protected_links() {
    for v in section("password_protected_links") {
        let ParsedLink::Protected(payload) = link::parse(s(v, "url")).unwrap() else {
            panic!("{} is not parsed as protected", s(v, "url"))
        };
        let header = protected::inspect(&payload).unwrap();
        assert_eq!(header.algorithm as u64, u(v, "algorithm"));
        assert_eq!(header.handle.to_b64(), s(v, "handle"));
        let kind = match s(v, "type") {
            "file" => link::LinkKind::File,
            "folder" => link::LinkKind::Folder,
            t => panic!("type {t}"),
        };
        assert_eq!(header.kind, kind);
        let raw = b64::decode(&payload);
        if v.get("salt_hex").is_some() {
            assert_eq!(raw[8..40], hx(v, "salt_hex")[..]);
        }
        if v.get("pbkdf2_output_hex").is_some() {
            let mut dk = [0u8; 64];
            pbkdf2::pbkdf2_hmac::<sha2::Sha512>(s(v, "password").as_bytes(), &raw[8..40], 100_000, &mut dk);
            assert_eq!(dk[..], hx(v, "pbkdf2_output_hex")[..]);
        }
        let result = protected::decrypt(&payload, s(v, "password"));
        assert_eq!(result.is_ok(), v["hmac_valid"].as_bool().unwrap());
        let plain = result.unwrap();
        assert_eq!(plain.to_url(), s(v, "decrypted_link"));
        assert_eq!(plain.key_b64().unwrap(), s(v, "key_b64"));
        assert_eq!(protected::decrypt_url(s(v, "url"), s(v, "password")).unwrap(), plain);
        if let Some(wrong) = v.get("wrong_password").and_then(Value::as_str) {
            assert!(!v["wrong_password_hmac_valid"].as_bool().unwrap());
            assert_eq!(protected::decrypt(&payload, wrong).unwrap_err().kind(), ErrorKind::WrongPassword);
        }
        if header.algorithm == 2 {
            let salt: [u8; 32] = raw[8..40].try_into().unwrap();
            assert_eq!(protected::encrypt_with_salt(&plain, s(v, "password"), &salt).unwrap(), payload);
        }
    }
}

#[test]
fn link_parsing() {
    for v in section("link_parsing") {
        let url = s(v, "url");
        let exp = &v["expected"];
        let parsed = link::parse(url);
        match s(exp, "kind") {
            "invalid" => assert!(parsed.is_err(), "{url} should be rejected"),
            "protected" => {
                let Ok(ParsedLink::Protected(p)) = parsed else { panic!("{url}: {parsed:?}") };
                assert_eq!(p, s(exp, "payload"));
                if b64::decode(&p).len() < 88 {
                    assert!(protected::decrypt(&p, "any").is_err());
                }
            }
            kind => {
                let l = match parsed {
                    Ok(ParsedLink::Plain(l)) => l,
                    other => panic!("{url}: {other:?}"),
                };
                let want_kind = if kind == "file" { link::LinkKind::File } else { link::LinkKind::Folder };
                assert_eq!(l.kind, want_kind, "{url}");
                assert_eq!(l.handle.to_b64(), s(exp, "handle"), "{url}");
                assert_eq!(l.key_b64().as_deref(), exp["key"].as_str(), "{url}");
                if exp["key"].is_null() {
                    assert_eq!(l.require_key().unwrap_err().kind(), ErrorKind::KeyMissing);
                }
                let sub = &exp["sub"];
                let got = l.sub.map(|sn| match sn {
                    SubNode::File(h) => ("file", h.to_b64()),
                    SubNode::Folder(h) => ("folder", h.to_b64()),
                    SubNode::Node(h) => ("node", h.to_b64()),
                });
                let want = (!sub.is_null()).then(|| (s(sub, "kind"), s(sub, "handle").to_string()));
                assert_eq!(got, want, "{url}");
                // The canonical form parses back to the same link.
                assert_eq!(link::parse_plain(&l.to_url()).unwrap(), l, "{url}");
            }
        }
    }
}

#[test]
fn hashcash() {
    for v in section("hashcash") {
        if let Some(map) = v.get("easiness_to_threshold").and_then(Value::as_object) {
            for (e, t) in map {
                assert_eq!(hashcash::threshold(e.parse().unwrap()) as u64, t.as_u64().unwrap(), "easiness {e}");
            }
        }
        if v.get("challenge_header").is_some() {
            let ch = Challenge::parse(s(v, "challenge_header")).unwrap();
            assert_eq!(ch.to_header(), s(v, "challenge_header"));
            assert_eq!(b64::encode(&ch.token), s(v, "token"));
            assert_eq!(ch.easiness as u64, u(v, "easiness"));
            let first: [u8; 4] = b64::decode(s(v, "first_solution_prefix_b64")).try_into().unwrap();
            assert_eq!(ch.response_header(first), s(v, "response_header"));
            assert!(hashcash::verify(&ch.token, ch.easiness, first));
            assert_eq!(hashcash::parse_response(s(v, "response_header")).unwrap(), (ch.token, first));
            let invalid: [u8; 4] = b64::decode(s(v, "invalid_prefix_b64")).try_into().unwrap();
            assert!(!hashcash::verify(&ch.token, ch.easiness, invalid));
            let ours = ch.solve();
            assert!(hashcash::verify(&ch.token, ch.easiness, ours));
        }
    }
}

#[test]
fn error_codes() {
    for v in section("error_codes") {
        let code = v[0].as_i64().unwrap();
        let name = v[1].as_str().unwrap();
        let c = ErrorCode::from_code(code);
        assert_eq!(c.name(), name, "code {code}");
        assert_eq!(c.code(), code);
        assert!(!matches!(c, ErrorCode::Unknown(_)));
    }
}

/// The key manager's `^!keys` (spec §6.10). The vector was built outside this crate, by hand
/// from the SDK's `KeyManager` (`setKey`: HKDF-SHA256 of the master key, no salt, info `01`;
/// `toKeysContainer`: `20 00 iv ciphertext tag`; `serialize`: tag, 3-byte length, value;
/// `serializeShareKeys`: handle, key, flags), with Python's `cryptography` (OpenSSL) for HKDF
/// and AES-GCM. The container here must decrypt it, rebuild it byte for byte, and agree with a
/// second reading done here by hand with HMAC (HKDF's two steps).
mod keys_container {
    use hmac::{Hmac, Mac};
    use mega_proto::keymgr::{self, tag, KeysContainer, ShareKey, SHARE_KEY_IN_USE, SHARE_KEY_TRUSTED};
    use mega_proto::{b64, ErrorKind, Key128, NodeHandle, UserHandle};

    const MASTER: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
    const IV: [u8; 12] = [0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab];
    const KEY_HEX: &str = "7163bb80c802762b578c09cfdf15e5ab";
    const PLAIN_HEX: &str = "0100000101020000046553f100030000080102030405060708040000040000000705000000100000201111111111111111111111111111111111111111111111111111111111111111110000202222222222222222222222222222222222222222222222222222222222222222120000002000000461757468300000\
2e01020304050633333333333333333333333333333333030a0b0c0d0e0f4444444444444444444444444444444401c800000666757475726560000000";
    const BLOB: &str = "FACgoaKjpKWmp6ipqqt6p9dOhNjpuTgyovFLUPZCm8BypDQjfB3_aFh70j7O9QuWVHnb4vfHY0ts58n5_VLWII181FOzOj6TpoeD2Qa2Yi3BhISB1gIc-KZH0u2fV6YCtk6VOmPO14lMVVAp4L1LorF9zMpuIrM7Kzq81zqYI7uDVvtGgSOrX_M6kLoneoXd67jmwYPtvqvWELwACVWZnqfdS8Fs-z_4odO2l99ZoFUErHo25QMukQECxsQSXwHRaAzKui1b2y4W6dQet5et2n0VwMU10i8";

    fn master() -> Key128 {
        Key128::new(MASTER)
    }

    #[test]
    fn the_container_key_is_hkdf_of_the_master_key_by_hand_too() {
        let key = keymgr::container_key(&master());
        assert_eq!(hex::encode(key.as_bytes()), KEY_HEX);
        // RFC 5869 by hand: PRK = HMAC(zeros, master); OKM = HMAC(PRK, info || 01), cut to 16.
        let mut extract = Hmac::<sha2::Sha256>::new_from_slice(&[0u8; 32]).unwrap();
        extract.update(&MASTER);
        let prk = extract.finalize().into_bytes();
        let mut expand = Hmac::<sha2::Sha256>::new_from_slice(&prk).unwrap();
        expand.update(&[0x01, 0x01]);
        assert_eq!(&expand.finalize().into_bytes()[..16], key.as_bytes());
    }

    #[test]
    fn the_vector_decrypts_to_its_records_and_rebuilds_byte_for_byte() {
        let blob = b64::decode(BLOB);
        let c = KeysContainer::decrypt(&blob, &master()).unwrap();
        assert_eq!(hex::encode(&c.to_plaintext()[..]), PLAIN_HEX);
        assert_eq!(c.version(), Some(1));
        assert_eq!(c.creation_time(), Some(1_700_000_000));
        assert_eq!(c.identity(), Some(UserHandle([1, 2, 3, 4, 5, 6, 7, 8])));
        assert_eq!(c.generation(), 7);
        assert_eq!(c.priv_ed25519().as_deref(), Some(&[0x11; 32]));
        assert_eq!(c.priv_cu25519().as_deref(), Some(&[0x22; 32]));
        assert_eq!(c.priv_rsa(), None, "an empty RSA record");
        assert_eq!(c.get(tag::AUTHRING_ED25519), Some(&b"auth"[..]));
        let shares = c.share_keys();
        assert_eq!(shares.len(), 2);
        assert_eq!(shares[0].handle, NodeHandle([1, 2, 3, 4, 5, 6]));
        assert_eq!(shares[0].key, Key128::new([0x33; 16]));
        assert!(shares[0].trusted() && shares[0].in_use());
        assert_eq!(shares[1].handle, NodeHandle([10, 11, 12, 13, 14, 15]));
        assert!(shares[1].trusted() && !shares[1].in_use());
        assert_eq!(c.share_key(NodeHandle([10, 11, 12, 13, 14, 15])).unwrap().key, Key128::new([0x44; 16]));
        assert_eq!(c.get(200), Some(&b"future"[..]), "an unknown record, kept");
        assert_eq!(c.encrypt_with_iv(&master(), &IV), blob, "rebuilt byte for byte");
        assert_eq!(KeysContainer::decrypt_b64(BLOB, &master()).unwrap().generation(), 7);
    }

    #[test]
    fn a_rewrite_keeps_unknown_records_byte_for_byte() {
        let mut c = KeysContainer::decrypt_b64(BLOB, &master()).unwrap();
        assert_eq!(c.bump_generation(), 8);
        let new = NodeHandle([9; 6]);
        c.put_share_key(ShareKey {
            handle: new,
            key: Key128::new([0x55; 16]),
            flags: SHARE_KEY_TRUSTED | SHARE_KEY_IN_USE,
        });
        assert!(c.remove_share_key(NodeHandle([1, 2, 3, 4, 5, 6])));
        assert!(!c.remove_share_key(NodeHandle([1, 2, 3, 4, 5, 6])));
        let blob = c.encrypt(&master(), &mut rand_core::OsRng);
        assert_ne!(blob[2..14], IV, "a fresh IV");
        let again = KeysContainer::decrypt(&blob, &master()).unwrap();
        assert_eq!(again.generation(), 8);
        let handles: Vec<NodeHandle> = again.share_keys().iter().map(|s| s.handle).collect();
        assert_eq!(handles, [NodeHandle([10, 11, 12, 13, 14, 15]), new]);
        let tags: Vec<u8> = again.records().map(|(t, _)| t).collect();
        assert_eq!(tags, [1, 2, 3, 4, 5, 16, 17, 18, 32, 48, 200, 96], "every record, in its place");
        assert_eq!(again.get(200), Some(&b"future"[..]));
        assert_eq!(again.get(tag::AUTHRING_ED25519), Some(&b"auth"[..]));
    }

    #[test]
    fn a_new_account_container_has_the_records_an_official_client_writes() {
        let identity = UserHandle([7; 8]);
        let rsa = vec![0x08, 0x00, 1, 2, 3];
        let c = KeysContainer::new(&keymgr::NewKeys {
            identity,
            created: 1_800_000_000,
            ed25519: &[1; 32],
            cu25519: &[2; 32],
            rsa: &rsa,
        });
        let tags: Vec<u8> = c.records().map(|(t, _)| t).collect();
        assert_eq!(tags, [1, 2, 3, 4, 5, 16, 17, 18, 32, 33, 48, 64, 65, 80, 96], "the SDK's serialize order");
        let back = KeysContainer::decrypt(&c.encrypt(&master(), &mut rand_core::OsRng), &master()).unwrap();
        assert_eq!((back.version(), back.identity(), back.generation()), (Some(1), Some(identity), 1));
        assert_eq!(back.priv_rsa(), Some(&rsa[..]));
        assert!(back.share_keys().is_empty());
    }

    #[test]
    fn corrupt_and_undecryptable_blobs_are_typed_errors() {
        let blob = b64::decode(BLOB);
        let wrong = KeysContainer::decrypt(&blob, &Key128::new([9; 16])).unwrap_err();
        assert_eq!(wrong.kind(), ErrorKind::WrongKey, "another account's master key");
        let mut flipped = blob.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(KeysContainer::decrypt(&flipped, &master()).unwrap_err().kind(), ErrorKind::WrongKey, "a bad tag");
        let mut other = blob.clone();
        other[0] = 21;
        assert_eq!(KeysContainer::decrypt(&other, &master()).unwrap_err().kind(), ErrorKind::Unsupported);
        assert_eq!(KeysContainer::decrypt(&blob[..29], &master()).unwrap_err().kind(), ErrorKind::InvalidInput);
        // Decrypts, but the records are broken: each a typed error, none a panic.
        for plain in [
            &[1u8, 0, 0][..],           // a truncated header
            &[200, 0, 0, 9, 1, 2][..],  // a value past the end
            &[4, 0, 0, 3, 0, 0, 1][..], // a 3-byte generation
            &[48, 0, 0, 22][..],        // share keys not whole entries
        ] {
            let mut padded = plain.to_vec();
            if plain[0] == 48 {
                padded.extend_from_slice(&[0; 22]);
            }
            let c = KeysContainer::parse(&padded);
            assert_eq!(c.unwrap_err().kind(), ErrorKind::InvalidInput, "{plain:?}");
        }
        // And through the whole container: a broken record under a valid tag.
        let mut c = KeysContainer::default();
        c.set(tag::GENERATION, vec![0, 0, 1]).unwrap();
        let sealed = c.encrypt_with_iv(&master(), &IV);
        assert_eq!(KeysContainer::decrypt(&sealed, &master()).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn debug_shows_no_key() {
        let c = KeysContainer::decrypt_b64(BLOB, &master()).unwrap();
        let text = format!("{c:?} {:?}", c.share_keys());
        assert!(!text.contains("51, 51") && !text.contains("17, 17") && !text.contains("3333"), "{text}");
    }
}
