//! The key manager's container, the private user attribute `^!keys` (spec §6.10).
//!
//! Since 2023 every account made or upgraded by an official client keeps its private keys and
//! the keys of its shares and folder links here, and sends dummy `ok`/`ha` to the service. The
//! attribute is:
//!
//! ```text
//! 20 || 0 || iv (12 bytes) || AES-128-GCM(key, iv, plaintext) || tag (16 bytes)
//! key       = HKDF-SHA256(ikm = master key, no salt, info = 0x01), 16 bytes
//! plaintext = records, each tag (1 byte) || length (3 bytes, big-endian) || value
//! ```
//!
//! [`KeysContainer`] keeps the records in the order read, so records it does not know (and
//! the authrings, pending shares, backups and warnings, whose layouts are not confirmed) are
//! written back byte for byte. Writers bump the generation ([`KeysContainer::bump_generation`])
//! and encrypt with a fresh IV; the conflict rules (re-read, merge, never overwrite) are the
//! caller's.
//!
//! Failures are typed: a blob that does not decrypt under the master key is
//! [`Error::WrongKey`]; one that decrypts but whose records are broken is
//! [`Error::Malformed`]; another container format is [`Error::Unsupported`].

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes128Gcm, Nonce};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::{b64, Error, Key128, NodeHandle, UserHandle};

/// The attribute's name, as `uga`/`upv`/`ug` carry it.
pub const ATTRIBUTE: &str = "^!keys";
/// The container format byte (byte 0).
pub const FORMAT: u8 = 20;
/// IV length.
pub const IV_LEN: usize = 12;
/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: format, reserved, IV.
const HEADER_LEN: usize = 2 + IV_LEN;
/// One share-key entry: node handle (6), key (16), flags (1).
const SHARE_KEY_ENTRY: usize = 6 + 16 + 1;
/// The largest record value: its length has 3 bytes.
const MAX_RECORD: usize = 0xff_ffff;

/// Record tags (the SDK's `KeyManager` names).
pub mod tag {
    /// Container version (1 byte).
    pub const VERSION: u8 = 1;
    /// Creation time, unix seconds (4 bytes, big-endian).
    pub const CREATION_TIME: u8 = 2;
    /// The user handle (8 bytes).
    pub const IDENTITY: u8 = 3;
    /// The generation, bumped by every write (4 bytes, big-endian).
    pub const GENERATION: u8 = 4;
    /// Attribute flags (opaque).
    pub const ATTR: u8 = 5;
    /// Private Ed25519 key: its 32-byte seed.
    pub const PRIV_ED25519: u8 = 16;
    /// Private Cu25519 (X25519) key, 32 bytes.
    pub const PRIV_CU25519: u8 = 17;
    /// Private RSA key, its `p`, `q`, `d` as MPIs (empty on accounts without one).
    pub const PRIV_RSA: u8 = 18;
    /// Authring of contacts' Ed25519 keys (opaque).
    pub const AUTHRING_ED25519: u8 = 32;
    /// Authring of contacts' Cu25519 keys (opaque).
    pub const AUTHRING_CU25519: u8 = 33;
    /// Share keys: 23-byte entries (node handle, key, flags).
    pub const SHARE_KEYS: u8 = 48;
    /// Pending outgoing shares (opaque).
    pub const PENDING_OUTSHARES: u8 = 64;
    /// Pending incoming shares (opaque).
    pub const PENDING_INSHARES: u8 = 65;
    /// Backups (opaque).
    pub const BACKUPS: u8 = 80;
    /// Warnings (opaque).
    pub const WARNINGS: u8 = 96;
}

/// Share-key flag: the key is trusted (came from a verified source or was made here).
pub const SHARE_KEY_TRUSTED: u8 = 1;
/// Share-key flag: an outgoing share or folder link uses the key.
pub const SHARE_KEY_IN_USE: u8 = 2;

/// The key that encrypts `^!keys`: HKDF-SHA256 of the master key, no salt, info `0x01`.
pub fn container_key(master: &Key128) -> Key128 {
    let mut out = [0u8; 16];
    hkdf::Hkdf::<sha2::Sha256>::new(None, master.as_bytes())
        .expand(&[1], &mut out)
        .expect("16 bytes is a valid HKDF-SHA256 output length");
    Key128::new(out)
}

/// The key of one shared folder or folder link.
#[derive(Clone, PartialEq, Eq)]
pub struct ShareKey {
    /// The shared folder.
    pub handle: NodeHandle,
    /// Its share key.
    pub key: Key128,
    /// [`SHARE_KEY_TRUSTED`], [`SHARE_KEY_IN_USE`]; other bits kept as read.
    pub flags: u8,
}

impl ShareKey {
    /// Is the key trusted?
    pub fn trusted(&self) -> bool {
        self.flags & SHARE_KEY_TRUSTED != 0
    }

    /// Does an outgoing share or folder link use it?
    pub fn in_use(&self) -> bool {
        self.flags & SHARE_KEY_IN_USE != 0
    }
}

impl fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShareKey").field("handle", &self.handle).field("flags", &self.flags).finish_non_exhaustive()
    }
}

/// One record of the plaintext.
struct Record {
    tag: u8,
    value: Zeroizing<Vec<u8>>,
}

/// The decrypted `^!keys`: its records in order (see the [module docs](self)).
#[derive(Default)]
pub struct KeysContainer {
    records: Vec<Record>,
}

impl fmt::Debug for KeysContainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Tags and lengths only: the values are private keys and share keys.
        let records: Vec<(u8, usize)> = self.records.iter().map(|r| (r.tag, r.value.len())).collect();
        f.debug_struct("KeysContainer").field("records", &records).finish()
    }
}

/// What a new account's container holds, as an official client writes it at sign-up.
pub struct NewKeys<'a> {
    /// The account's user handle.
    pub identity: UserHandle,
    /// Unix seconds.
    pub created: u32,
    /// Private Ed25519 key (seed).
    pub ed25519: &'a [u8; 32],
    /// Private Cu25519 key.
    pub cu25519: &'a [u8; 32],
    /// Private RSA key as `p`, `q`, `d` MPIs, or empty.
    pub rsa: &'a [u8],
}

impl KeysContainer {
    /// A new container with the records an official client writes at sign-up, in its order:
    /// version 1, creation time, identity, generation 1, the private keys, and empty attr,
    /// authrings, share keys, pending shares, backups and warnings.
    pub fn new(keys: &NewKeys<'_>) -> Self {
        let mut c = KeysContainer::default();
        c.push(tag::VERSION, vec![1]);
        c.push(tag::CREATION_TIME, keys.created.to_be_bytes().to_vec());
        c.push(tag::IDENTITY, keys.identity.0.to_vec());
        c.push(tag::GENERATION, 1u32.to_be_bytes().to_vec());
        c.push(tag::ATTR, Vec::new());
        c.push(tag::PRIV_ED25519, keys.ed25519.to_vec());
        c.push(tag::PRIV_CU25519, keys.cu25519.to_vec());
        c.push(tag::PRIV_RSA, keys.rsa.to_vec());
        for t in [
            tag::AUTHRING_ED25519,
            tag::AUTHRING_CU25519,
            tag::SHARE_KEYS,
            tag::PENDING_OUTSHARES,
            tag::PENDING_INSHARES,
            tag::BACKUPS,
            tag::WARNINGS,
        ] {
            c.push(t, Vec::new());
        }
        c
    }

    fn push(&mut self, tag: u8, value: Vec<u8>) {
        self.records.push(Record { tag, value: Zeroizing::new(value) });
    }

    /// Decrypts and parses an attribute value (raw bytes).
    pub fn decrypt(blob: &[u8], master: &Key128) -> Result<Self, Error> {
        if blob.len() < HEADER_LEN + TAG_LEN {
            return Err(Error::malformed("^!keys", "shorter than its header and tag"));
        }
        if blob[0] != FORMAT {
            return Err(Error::Unsupported("^!keys container format"));
        }
        let key = container_key(master);
        let gcm = Aes128Gcm::new_from_slice(key.as_bytes()).map_err(|_| Error::WrongKey { what: "^!keys" })?;
        let plain = gcm
            .decrypt(Nonce::from_slice(&blob[2..HEADER_LEN]), Payload { msg: &blob[HEADER_LEN..], aad: &[] })
            .map_err(|_| Error::WrongKey { what: "^!keys" })?;
        Self::parse(&Zeroizing::new(plain))
    }

    /// Decrypts and parses an attribute value as `uga`/`ug` send it (b64).
    pub fn decrypt_b64(av: &str, master: &Key128) -> Result<Self, Error> {
        Self::decrypt(&b64::decode_all(av, "^!keys")?, master)
    }

    /// Parses the plaintext records. Known records of a fixed size must have it; share keys
    /// must be whole entries.
    pub fn parse(plain: &[u8]) -> Result<Self, Error> {
        let mut c = KeysContainer::default();
        let mut rest = plain;
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err(Error::malformed("^!keys", "a truncated record header"));
            }
            let len = u32::from_be_bytes([0, rest[1], rest[2], rest[3]]) as usize;
            let value = rest.get(4..4 + len).ok_or(Error::malformed("^!keys", "a record runs past the end"))?;
            let fixed = match rest[0] {
                tag::VERSION => Some(1),
                tag::CREATION_TIME | tag::GENERATION => Some(4),
                tag::IDENTITY => Some(8),
                tag::PRIV_ED25519 | tag::PRIV_CU25519 => Some(32),
                _ => None,
            };
            if fixed.is_some_and(|n| n != len) {
                return Err(Error::malformed("^!keys", "a record has the wrong length"));
            }
            if rest[0] == tag::SHARE_KEYS && len % SHARE_KEY_ENTRY != 0 {
                return Err(Error::malformed("^!keys", "share keys are not whole entries"));
            }
            c.push(rest[0], value.to_vec());
            rest = &rest[4 + len..];
        }
        Ok(c)
    }

    /// The plaintext: every record in order.
    pub fn to_plaintext(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.records.iter().map(|r| 4 + r.value.len()).sum()));
        for r in &self.records {
            let len = (r.value.len() as u32).to_be_bytes();
            out.push(r.tag);
            out.extend_from_slice(&len[1..]);
            out.extend_from_slice(&r.value);
        }
        out
    }

    /// Encrypts with this IV (known-answer tests; writers use [`KeysContainer::encrypt`]).
    pub fn encrypt_with_iv(&self, master: &Key128, iv: &[u8; IV_LEN]) -> Vec<u8> {
        let key = container_key(master);
        let gcm = Aes128Gcm::new_from_slice(key.as_bytes()).expect("a 16-byte key");
        let sealed = gcm
            .encrypt(Nonce::from_slice(iv), Payload { msg: &self.to_plaintext(), aad: &[] })
            .expect("a plaintext far below GCM's limit");
        let mut out = Vec::with_capacity(HEADER_LEN + sealed.len());
        out.extend_from_slice(&[FORMAT, 0]);
        out.extend_from_slice(iv);
        out.extend_from_slice(&sealed);
        out
    }

    /// Encrypts with a fresh random IV: the attribute value to store.
    pub fn encrypt(&self, master: &Key128, rng: &mut impl CryptoRngCore) -> Vec<u8> {
        let mut iv = [0u8; IV_LEN];
        rng.fill_bytes(&mut iv);
        self.encrypt_with_iv(master, &iv)
    }

    /// [`KeysContainer::encrypt`], as b64 for `upv`.
    pub fn encrypt_b64(&self, master: &Key128, rng: &mut impl CryptoRngCore) -> String {
        b64::encode(&self.encrypt(master, rng))
    }

    /// Every record as (tag, value), in order.
    pub fn records(&self) -> impl Iterator<Item = (u8, &[u8])> {
        self.records.iter().map(|r| (r.tag, &r.value[..]))
    }

    /// The value of a record (the last one, should a tag appear twice: the SDK keeps the last).
    pub fn get(&self, tag: u8) -> Option<&[u8]> {
        self.records.iter().rev().find(|r| r.tag == tag).map(|r| &r.value[..])
    }

    /// Sets a record's value: the last record of this tag, or a new one at the end.
    pub fn set(&mut self, tag: u8, value: Vec<u8>) -> Result<(), Error> {
        if value.len() > MAX_RECORD {
            return Err(Error::malformed("^!keys", "a record too long for its 3-byte length"));
        }
        match self.records.iter_mut().rev().find(|r| r.tag == tag) {
            Some(r) => r.value = Zeroizing::new(value),
            None => self.push(tag, value),
        }
        Ok(())
    }

    fn fixed<const N: usize>(&self, tag: u8) -> Option<[u8; N]> {
        self.get(tag).and_then(|v| v.try_into().ok())
    }

    /// The container version.
    pub fn version(&self) -> Option<u8> {
        self.fixed::<1>(tag::VERSION).map(|v| v[0])
    }

    /// Creation time, unix seconds.
    pub fn creation_time(&self) -> Option<u32> {
        self.fixed(tag::CREATION_TIME).map(u32::from_be_bytes)
    }

    /// Whose container it is.
    pub fn identity(&self) -> Option<UserHandle> {
        self.fixed(tag::IDENTITY).map(UserHandle)
    }

    /// The generation (0 when absent). A writer never stores a lower one than it read.
    pub fn generation(&self) -> u32 {
        self.fixed(tag::GENERATION).map_or(0, u32::from_be_bytes)
    }

    /// Sets the generation.
    pub fn set_generation(&mut self, generation: u32) {
        self.set(tag::GENERATION, generation.to_be_bytes().to_vec()).expect("4 bytes fit");
    }

    /// Bumps the generation by one, as every write does; returns the new one.
    pub fn bump_generation(&mut self) -> u32 {
        let g = self.generation().saturating_add(1);
        self.set_generation(g);
        g
    }

    /// The private Ed25519 key (seed).
    pub fn priv_ed25519(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.fixed(tag::PRIV_ED25519).map(Zeroizing::new)
    }

    /// The private Cu25519 key.
    pub fn priv_cu25519(&self) -> Option<Zeroizing<[u8; 32]>> {
        self.fixed(tag::PRIV_CU25519).map(Zeroizing::new)
    }

    /// The private RSA key record (`p`, `q`, `d` MPIs), if not empty.
    pub fn priv_rsa(&self) -> Option<&[u8]> {
        self.get(tag::PRIV_RSA).filter(|v| !v.is_empty())
    }

    /// Every share key, in stored order.
    pub fn share_keys(&self) -> Vec<ShareKey> {
        let Some(v) = self.get(tag::SHARE_KEYS) else { return Vec::new() };
        v.chunks_exact(SHARE_KEY_ENTRY)
            .map(|e| ShareKey {
                handle: NodeHandle(e[..6].try_into().expect("6 bytes")),
                key: Key128::new(e[6..22].try_into().expect("16 bytes")),
                flags: e[22],
            })
            .collect()
    }

    /// The key of one shared folder or folder link.
    pub fn share_key(&self, handle: NodeHandle) -> Option<ShareKey> {
        self.share_keys().into_iter().find(|s| s.handle == handle)
    }

    fn set_share_keys(&mut self, keys: &[ShareKey]) {
        let mut v = Vec::with_capacity(keys.len() * SHARE_KEY_ENTRY);
        for s in keys {
            v.extend_from_slice(&s.handle.0);
            v.extend_from_slice(s.key.as_bytes());
            v.push(s.flags);
        }
        // 23 bytes an entry: a record of 729,444 entries would be needed to overflow.
        let _ = self.set(tag::SHARE_KEYS, v);
    }

    /// Adds a share key, or replaces the key and flags of that folder's.
    pub fn put_share_key(&mut self, key: ShareKey) {
        let mut keys = self.share_keys();
        match keys.iter_mut().find(|s| s.handle == key.handle) {
            Some(s) => *s = key,
            None => keys.push(key),
        }
        self.set_share_keys(&keys);
    }

    /// Removes a folder's share key; true if there was one.
    pub fn remove_share_key(&mut self, handle: NodeHandle) -> bool {
        let mut keys = self.share_keys();
        let before = keys.len();
        keys.retain(|s| s.handle != handle);
        if keys.len() == before {
            return false;
        }
        self.set_share_keys(&keys);
        true
    }
}
