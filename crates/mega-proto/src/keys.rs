//! Keys and node key fields (spec §3.2).
//!
//! Node keys travel wrapped: AES-128-ECB under the owner's master key or a share key, one
//! 16-byte block at a time, or RSA-encrypted to the owner's public key. A file's 32-byte node key
//! folds its AES key, CTR nonce and meta-MAC together ([`FileKey`]).

use std::fmt;

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes128;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{b64, Error, NodeHandle, UserHandle};

/// A 16-byte AES key: a master key, password key, folder key, share key or file AES key.
///
/// Zeroized on drop; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Key128(pub(crate) [u8; 16]);

impl Key128 {
    /// Wraps raw key bytes.
    pub fn new(bytes: [u8; 16]) -> Self {
        Key128(bytes)
    }

    /// Parses from a byte slice of exactly 16 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, Error> {
        let arr: [u8; 16] =
            bytes.try_into().map_err(|_| Error::Length { what: "key", expected: 16, got: bytes.len() })?;
        Ok(Key128(arr))
    }

    /// Parses a b64 key of exactly 16 bytes.
    pub fn from_b64(s: &str) -> Result<Self, Error> {
        b64::decode_exact::<16>(s, "key").map(Key128)
    }

    /// The raw bytes. Handle with care.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The b64 form. Handle with care: this is the secret itself.
    pub fn to_b64(&self) -> String {
        b64::encode(&self.0)
    }

    /// An AES-128 cipher with this key.
    pub fn cipher(&self) -> Aes128 {
        Aes128::new(GenericArray::from_slice(&self.0))
    }

    /// AES-ECB-encrypts `data` (a multiple of 16 bytes) in place with this key.
    pub fn ecb_encrypt(&self, data: &mut [u8]) -> Result<(), Error> {
        ecb(&self.cipher(), data, true)
    }

    /// AES-ECB-decrypts `data` (a multiple of 16 bytes) in place with this key.
    pub fn ecb_decrypt(&self, data: &mut [u8]) -> Result<(), Error> {
        ecb(&self.cipher(), data, false)
    }

    /// Wraps a node key (16 or 32 bytes) for storage under this key: AES-ECB per block.
    pub fn wrap(&self, key: &[u8]) -> Result<Vec<u8>, Error> {
        check_node_key_len(key.len())?;
        let mut out = key.to_vec();
        self.ecb_encrypt(&mut out)?;
        Ok(out)
    }

    /// Unwraps a node key (16 or 32 bytes) wrapped under this key.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        check_node_key_len(wrapped.len())?;
        let mut out = Zeroizing::new(wrapped.to_vec());
        self.ecb_decrypt(&mut out)?;
        Ok(out)
    }
}

impl fmt::Debug for Key128 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key128(<redacted>)")
    }
}

fn check_node_key_len(len: usize) -> Result<(), Error> {
    if len == 16 || len == 32 {
        Ok(())
    } else {
        Err(Error::Length { what: "node key", expected: if len < 24 { 16 } else { 32 }, got: len })
    }
}

fn ecb(cipher: &Aes128, data: &mut [u8], encrypt: bool) -> Result<(), Error> {
    if data.len() % 16 != 0 {
        return Err(Error::malformed("AES-ECB data", "length is not a multiple of 16"));
    }
    for block in data.chunks_exact_mut(16) {
        let block = GenericArray::from_mut_slice(block);
        if encrypt {
            cipher.encrypt_block(block);
        } else {
            cipher.decrypt_block(block);
        }
    }
    Ok(())
}

/// A file's key material, unfolded from its 32-byte node key.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct FileKey {
    /// The AES-128 key of the content and the attributes.
    pub aes_key: [u8; 16],
    /// The CTR nonce.
    pub nonce: [u8; 8],
    /// The expected meta-MAC of the content.
    pub meta_mac: [u8; 8],
}

impl FileKey {
    /// Unfolds a 32-byte node key: `aes = k[0..16] ^ k[16..32]`, nonce, meta-MAC.
    pub fn from_node_key(k: &[u8]) -> Result<Self, Error> {
        if k.len() != 32 {
            return Err(Error::Length { what: "file key", expected: 32, got: k.len() });
        }
        let mut aes_key = [0u8; 16];
        for (i, b) in aes_key.iter_mut().enumerate() {
            *b = k[i] ^ k[16 + i];
        }
        let mut nonce = [0u8; 8];
        nonce.copy_from_slice(&k[16..24]);
        let mut meta_mac = [0u8; 8];
        meta_mac.copy_from_slice(&k[24..32]);
        Ok(FileKey { aes_key, nonce, meta_mac })
    }

    /// Folds the key back into the 32-byte node key (spec §5.3).
    pub fn to_node_key(&self) -> [u8; 32] {
        let mut k = [0u8; 32];
        k[16..24].copy_from_slice(&self.nonce);
        k[24..32].copy_from_slice(&self.meta_mac);
        for i in 0..16 {
            k[i] = self.aes_key[i] ^ k[16 + i];
        }
        k
    }

    /// The key of the attributes and file-attribute blobs (the AES key).
    pub fn attr_key(&self) -> Key128 {
        Key128(self.aes_key)
    }

    /// True for the degenerate key whose halves are equal (a zero AES key). The web client
    /// refuses such keys; this is advisory.
    pub fn is_degenerate(&self) -> bool {
        self.aes_key == [0u8; 16]
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

/// A decrypted node key: a file's (32 bytes) or a folder's (16 bytes).
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum NodeKey {
    /// A file key.
    File(FileKey),
    /// A folder key.
    Folder(Key128),
}

impl NodeKey {
    /// Interprets raw key bytes by length: 32 is a file key, 16 a folder key.
    pub fn from_bytes(k: &[u8]) -> Result<Self, Error> {
        match k.len() {
            32 => FileKey::from_node_key(k).map(NodeKey::File),
            16 => Key128::from_slice(k).map(NodeKey::Folder),
            n => Err(Error::Length { what: "node key", expected: if n < 24 { 16 } else { 32 }, got: n }),
        }
    }

    /// The raw node key (32 or 16 bytes).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            NodeKey::File(k) => k.to_node_key().to_vec(),
            NodeKey::Folder(k) => k.0.to_vec(),
        })
    }

    /// The key of the node's attributes.
    pub fn attr_key(&self) -> Key128 {
        match self {
            NodeKey::File(k) => k.attr_key(),
            NodeKey::Folder(k) => k.clone(),
        }
    }
}

/// Who a key-field entry is wrapped for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyOwner {
    /// A user: the key is wrapped with that user's master key (or RSA key).
    User(UserHandle),
    /// A share root (or a folder link's root): wrapped with that share's key.
    Share(NodeHandle),
}

/// One wrapped key from a node's `k` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WrappedKey {
    /// AES-ECB-wrapped: 16 (folder) or 32 (file) bytes.
    Aes(Vec<u8>),
    /// RSA-encrypted to the owner's public key: an MPI.
    Rsa(Vec<u8>),
}

impl WrappedKey {
    /// Unwraps an AES-wrapped key with `kek` (a master key or a share key).
    pub fn unwrap_aes(&self, kek: &Key128) -> Result<Zeroizing<Vec<u8>>, Error> {
        match self {
            WrappedKey::Aes(w) => kek.unwrap(w),
            WrappedKey::Rsa(_) => Err(Error::Unsupported("RSA-wrapped key given to AES unwrap")),
        }
    }
}

/// A node's `k` field: `owner:key/owner:key/...` (spec §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyField {
    /// The well-formed entries, in order.
    pub entries: Vec<(KeyOwner, WrappedKey)>,
}

/// Longest b64 key that is AES-wrapped; longer ones are RSA (spec §3.2).
const AES_KEY_MAX_B64: usize = 45;

impl KeyField {
    /// Parses a `k` field. Malformed entries are skipped (one bad entry must not hide a good
    /// one); a field with no usable entry is an error.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let entries: Vec<_> = s.split('/').filter_map(parse_entry).collect();
        if entries.is_empty() {
            return Err(Error::malformed("key field", "no valid owner:key entry"));
        }
        Ok(KeyField { entries })
    }

    /// The key wrapped for `owner`, if any.
    pub fn get(&self, owner: KeyOwner) -> Option<&WrappedKey> {
        self.entries.iter().find(|(o, _)| *o == owner).map(|(_, k)| k)
    }

    /// Formats the field back (`owner:b64/...`).
    pub fn format(&self) -> String {
        let parts: Vec<String> = self
            .entries
            .iter()
            .map(|(o, k)| {
                let id = match o {
                    KeyOwner::User(u) => u.to_b64(),
                    KeyOwner::Share(h) => h.to_b64(),
                };
                let bytes = match k {
                    WrappedKey::Aes(b) | WrappedKey::Rsa(b) => b,
                };
                format!("{id}:{}", b64::encode(bytes))
            })
            .collect();
        parts.join("/")
    }
}

fn parse_entry(entry: &str) -> Option<(KeyOwner, WrappedKey)> {
    let (id, key) = entry.split_once(':')?;
    let owner = match id.len() {
        11 => KeyOwner::User(UserHandle::from_b64(id).ok()?),
        8 => KeyOwner::Share(NodeHandle::from_b64(id).ok()?),
        _ => return None,
    };
    let bytes = b64::decode_all(key, "node key").ok()?;
    let wrapped = if key.len() <= AES_KEY_MAX_B64 {
        if bytes.len() != 16 && bytes.len() != 32 {
            return None;
        }
        WrappedKey::Aes(bytes)
    } else {
        WrappedKey::Rsa(bytes)
    };
    Some((owner, wrapped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_key_fold_round_trip() {
        let nk: [u8; 32] = core::array::from_fn(|i| i as u8 * 7);
        let fk = FileKey::from_node_key(&nk).unwrap();
        assert_eq!(fk.to_node_key(), nk);
        assert!(FileKey::from_node_key(&nk[..31]).is_err());
    }

    #[test]
    fn key_field_skips_garbage() {
        let f = KeyField::parse("junk/wNkAN3zxKYE:k4moXDFJdJozjPZ80VJbERq8reUjxKnnPygxHnRobQ4/x:y").unwrap();
        assert_eq!(f.entries.len(), 1);
        assert!(KeyField::parse("").is_err());
        assert!(KeyField::parse("wNkAN3zxKYE:abc").is_err());
        assert_eq!(f.format(), "wNkAN3zxKYE:k4moXDFJdJozjPZ80VJbERq8reUjxKnnPygxHnRobQ4");
    }

    #[test]
    fn debug_is_redacted() {
        assert_eq!(format!("{:?}", Key128::new([7; 16])), "Key128(<redacted>)");
    }
}
