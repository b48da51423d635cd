//! Password keys, user hashes and session material (spec §2.2 to §2.7).
//!
//! Version 1 accounts derive the password key with the web client's `prepare_key` (65,536 rounds
//! of AES over the password's UTF-16 code units); version 2 accounts with PBKDF2-HMAC-SHA512. Both
//! produce a password key that unwraps the master key, and a `uh` that proves the password to
//! the server without sending it.

use std::fmt;

use aes::cipher::{generic_array::GenericArray, BlockEncrypt, KeyInit};
use aes::Aes128;
use sha2::{Digest, Sha256, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{b64, Error, Key128, UserHandle};

/// The fixed start value of `prepare_key`.
const PKEY_INIT: [u8; 16] =
    [0x93, 0xc4, 0x67, 0xe3, 0x7d, 0xb0, 0xc7, 0xa4, 0xd1, 0xbe, 0x3f, 0x81, 0x01, 0x52, 0xcb, 0x56];

/// PBKDF2 iterations of v2 accounts and `#P!` links.
pub const PBKDF2_ROUNDS: u32 = 100_000;

/// The bytes the official clients feed to `prepare_key` for a v1 password: each UTF-16 code
/// unit OR-ed into its byte position of a big-endian word (so units above 0xFF spill into the
/// previous byte or are cut), truncated to one byte per code unit.
pub fn password_units_v1(password: &str) -> Zeroizing<Vec<u8>> {
    let units: Zeroizing<Vec<u16>> = Zeroizing::new(password.encode_utf16().collect());
    let mut words = Zeroizing::new(vec![0u32; units.len().div_ceil(4)]);
    for (i, &c) in units.iter().enumerate() {
        let shift = 24 - 8 * (i & 3) as u32;
        words[i >> 2] |= ((c as u64) << shift) as u32;
    }
    let mut bytes = Zeroizing::new(b64::from_a32(&words));
    bytes.truncate(units.len());
    bytes
}

/// `prepare_key`: the v1 password key from the password bytes (spec §2.2).
pub fn prepare_key_v1(password_bytes: &[u8]) -> Key128 {
    let ciphers: Vec<Aes128> = password_bytes
        .chunks(16)
        .map(|c| {
            let mut k = Zeroizing::new([0u8; 16]);
            k[..c.len()].copy_from_slice(c);
            Aes128::new(GenericArray::from_slice(&k[..]))
        })
        .collect();
    let mut pkey = GenericArray::from(PKEY_INIT);
    for _ in 0..65_536 {
        for c in &ciphers {
            c.encrypt_block(&mut pkey);
        }
    }
    let key = Key128(pkey.into());
    pkey.zeroize();
    key
}

/// The v1 password key for a password as typed (official clients' code-unit packing).
pub fn password_key_v1(password: &str) -> Key128 {
    prepare_key_v1(&password_units_v1(password))
}

/// The v1 `uh` for a lowercased e-mail (spec §2.2): 11 characters.
pub fn uh_v1(email_lowercase: &str, password_key: &Key128) -> String {
    let mut h = [0u8; 16];
    for (i, b) in email_lowercase.bytes().enumerate() {
        h[i % 16] ^= b;
    }
    let cipher = password_key.cipher();
    let mut block = GenericArray::from(h);
    for _ in 0..16_384 {
        cipher.encrypt_block(&mut block);
    }
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&block[0..4]);
    out[4..].copy_from_slice(&block[8..12]);
    b64::encode(&out)
}

/// The two halves of a v2 derivation.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct V2Keys {
    /// Unwraps the master key.
    pub password_key: Key128,
    /// Proves the password: `uh = b64(auth_key)`.
    pub auth_key: Key128,
}

impl V2Keys {
    /// Derives both from the password (UTF-8) and the 32-byte salt of `us0` (spec §2.3).
    pub fn derive(password: &str, salt: &[u8]) -> Self {
        let mut derived = Zeroizing::new([0u8; 32]);
        pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, PBKDF2_ROUNDS, &mut derived[..]);
        let mut pk = [0u8; 16];
        let mut ak = [0u8; 16];
        pk.copy_from_slice(&derived[..16]);
        ak.copy_from_slice(&derived[16..]);
        V2Keys { password_key: Key128(pk), auth_key: Key128(ak) }
    }

    /// The `uh` sent at login: 22 characters.
    pub fn uh(&self) -> String {
        self.auth_key.to_b64()
    }
}

impl fmt::Debug for V2Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("V2Keys(<redacted>)")
    }
}

/// What the server stores to check a v2 `uh`: `SHA-256(auth_key)[0..16]`.
pub fn hashed_auth_key(auth_key: &[u8]) -> [u8; 16] {
    let d = Sha256::digest(auth_key);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// The salt of a new v2 account: `SHA-256("mega.nz" padded with 'P' to 200 bytes || random16)`.
pub fn salt_v2(client_random: &[u8; 16]) -> [u8; 32] {
    let mut pad = [b'P'; 200];
    pad[..7].copy_from_slice(b"mega.nz");
    let mut h = Sha256::new();
    h.update(pad);
    h.update(client_random);
    h.finalize().into()
}

/// The account version announced by `us0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prelogin {
    /// Version 1: `prepare_key`.
    V1,
    /// Version 2: PBKDF2 with this salt (32 bytes).
    V2 {
        /// The salt from `us0.s`.
        salt: Vec<u8>,
    },
}

/// The client's half of a login: the password key and the `uh` to send. Both are secrets (`uh`
/// with the e-mail logs in): `Debug` shows neither, and both are zeroized on drop.
#[derive(Clone)]
pub struct LoginSecrets {
    /// Unwraps the master key from `us.k`.
    pub password_key: Key128,
    /// The proof of password sent in `us`.
    pub uh: Zeroizing<String>,
}

impl fmt::Debug for LoginSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LoginSecrets(<redacted>)")
    }
}

/// Derives the password key and `uh` for a login (spec §2.2, §2.3). The e-mail is lowercased here.
pub fn login_secrets(email: &str, password: &str, prelogin: &Prelogin) -> Result<LoginSecrets, Error> {
    match prelogin {
        Prelogin::V1 => {
            let password_key = password_key_v1(password);
            let uh = Zeroizing::new(uh_v1(&email.to_lowercase(), &password_key));
            Ok(LoginSecrets { password_key, uh })
        }
        Prelogin::V2 { salt } => {
            if salt.len() != 32 {
                return Err(Error::Length { what: "v2 salt", expected: 32, got: salt.len() });
            }
            let keys = V2Keys::derive(password, salt);
            Ok(LoginSecrets { uh: Zeroizing::new(keys.uh()), password_key: keys.password_key.clone() })
        }
    }
}

/// Unwraps the master key from `us.k` / `ug.k` (one AES-ECB block).
pub fn decrypt_master_key(password_key: &Key128, k_b64: &str) -> Result<Key128, Error> {
    let mut k = b64::decode_exact::<16>(k_b64, "master key")?;
    password_key.ecb_decrypt(&mut k)?;
    Ok(Key128(k))
}

/// Wraps the master key for storage as `k` (server side, account creation).
pub fn encrypt_master_key(password_key: &Key128, master: &Key128) -> String {
    let mut k = master.0;
    // 16 bytes: cannot fail.
    let _ = password_key.ecb_encrypt(&mut k);
    b64::encode(&k)
}

/// A 43-byte session id. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Sid(pub(crate) [u8; 43]);

impl Sid {
    /// Wraps raw sid bytes.
    pub fn new(bytes: [u8; 43]) -> Self {
        Sid(bytes)
    }

    /// A new sid for `user` (server side): 16 random bytes, the handle's 11 b64 characters,
    /// 16 random bytes (spec §2.5).
    pub fn generate(user: UserHandle, rng: &mut impl rand_core::CryptoRngCore) -> Self {
        let mut s = [0u8; 43];
        rng.fill_bytes(&mut s);
        s[16..27].copy_from_slice(user.to_b64().as_bytes());
        Sid(s)
    }

    /// Parses the b64 form (58 characters).
    pub fn from_b64(s: &str) -> Result<Self, Error> {
        b64::decode_exact::<43>(s, "session id").map(Sid)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 43] {
        &self.0
    }

    /// The `sid` query parameter. Handle with care.
    pub fn to_b64(&self) -> String {
        b64::encode(&self.0)
    }

    /// The user handle embedded at bytes 16..27, if they are valid b64.
    pub fn user(&self) -> Option<UserHandle> {
        std::str::from_utf8(&self.0[16..27]).ok().and_then(|s| UserHandle::from_b64(s).ok())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sid(<redacted>)")
    }
}

/// A temporary session id (`tsid`) of an account without RSA keys: valid iff
/// `AES(master, tsid[0..16]) == tsid[27..43]` (spec §2.6). Returns the sid.
pub fn check_tsid(tsid_b64: &str, master: &Key128) -> Result<Sid, Error> {
    let sid = Sid::from_b64(tsid_b64)?;
    let mut head = [0u8; 16];
    head.copy_from_slice(&sid.0[..16]);
    master.ecb_encrypt(&mut head)?;
    if head[..] == sid.0[27..] {
        Ok(sid)
    } else {
        Err(Error::WrongKey { what: "tsid" })
    }
}

/// Builds a `tsid` (server side): `r || b64(user) || AES(master, r)`.
pub fn make_tsid(r: [u8; 16], user: UserHandle, master: &Key128) -> Sid {
    let mut s = [0u8; 43];
    s[..16].copy_from_slice(&r);
    s[16..27].copy_from_slice(user.to_b64().as_bytes());
    let mut tail = r;
    let _ = master.ecb_encrypt(&mut tail);
    s[27..].copy_from_slice(&tail);
    Sid(s)
}

/// A saved session: what resuming needs without the password (spec §2.7).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionBlob {
    /// The master key.
    pub master: Key128,
    /// The session id.
    pub sid: Sid,
}

impl fmt::Debug for SessionBlob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionBlob(<redacted>)")
    }
}

impl SessionBlob {
    /// The SDK's v1 blob: `0x01 || AES-ECB(sek, master) || sid`, as b64.
    pub fn encode(&self, sek: &Key128) -> String {
        let mut out = Zeroizing::new(Vec::with_capacity(60));
        out.push(1u8);
        let mut m = self.master.0;
        let _ = sek.ecb_encrypt(&mut m);
        out.extend_from_slice(&m);
        out.extend_from_slice(&self.sid.0);
        b64::encode(&out)
    }

    /// Decodes a v1 blob (needs the session's `sek`) or a legacy 59-byte `master || sid` blob.
    pub fn decode(blob_b64: &str, sek: Option<&Key128>) -> Result<Self, Error> {
        let raw = Zeroizing::new(b64::decode_all(blob_b64, "session blob")?);
        let (mut master, sid_bytes) = match raw.len() {
            60 if raw[0] == 1 => {
                let sek = sek.ok_or(Error::malformed("session blob", "v1 blob needs the session key"))?;
                let mut m = [0u8; 16];
                m.copy_from_slice(&raw[1..17]);
                sek.ecb_decrypt(&mut m)?;
                (m, &raw[17..])
            }
            59 => {
                let mut m = [0u8; 16];
                m.copy_from_slice(&raw[..16]);
                (m, &raw[16..])
            }
            _ => return Err(Error::malformed("session blob", "unknown length or version")),
        };
        let mut sid = [0u8; 43];
        sid.copy_from_slice(sid_bytes);
        let blob = SessionBlob { master: Key128(master), sid: Sid(sid) };
        master.zeroize();
        Ok(blob)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_units_spill() {
        // U+20AC at position 0 of a word: only its low byte survives.
        assert_eq!(&password_units_v1("Pässwörd€")[..], &hex_bytes("50e4737377f67264ac")[..]);
        // U+0100 at position 1 spills into position 0.
        assert_eq!(&password_units_v1("a\u{100}")[..], &[0x61 | 0x01, 0x00]);
    }

    #[test]
    fn blob_round_trip() {
        let blob = SessionBlob { master: Key128([3; 16]), sid: Sid([9; 43]) };
        let sek = Key128([5; 16]);
        let enc = blob.encode(&sek);
        assert_eq!(SessionBlob::decode(&enc, Some(&sek)).unwrap(), blob);
        assert!(SessionBlob::decode(&enc, None).is_err());
        assert!(SessionBlob::decode("AAAA", Some(&sek)).is_err());
    }

    fn hex_bytes(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }
}
