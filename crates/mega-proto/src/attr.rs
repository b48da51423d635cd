//! Node attributes (spec §3.3) and file-attribute blobs (§6.5).
//!
//! Attributes are `MEGA` + compact JSON, zero-padded to 16 bytes and AES-128-CBC-encrypted with a
//! zero IV under the node's attribute key. Key order and unknown keys are kept, so a client that
//! renames a node re-encrypts exactly what it received plus the change.

use aes::cipher::{block_padding::NoPadding, generic_array::GenericArray, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes::Aes128;
use serde_json::{Map, Value};

use crate::{b64, Error, Key128};

/// The largest encrypted attribute string the SDK accepts (64 KiB).
pub const MAX_ENCODED_LEN: usize = 65_536;

/// A node's decrypted attributes: a JSON object in its original key order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Attributes(pub Map<String, Value>);

impl Attributes {
    /// Attributes holding only a name.
    pub fn with_name(name: &str) -> Self {
        let mut m = Map::new();
        m.insert("n".into(), Value::String(name.into()));
        Attributes(m)
    }

    /// The name (`n`), if it is a string.
    pub fn name(&self) -> Option<&str> {
        self.0.get("n").and_then(Value::as_str)
    }

    /// Sets the name, keeping every other attribute.
    pub fn set_name(&mut self, name: &str) {
        self.0.insert("n".into(), Value::String(name.into()));
    }

    /// The fingerprint (`c`), if present.
    pub fn fingerprint(&self) -> Option<&str> {
        self.0.get("c").and_then(Value::as_str)
    }

    /// Sets the fingerprint.
    pub fn set_fingerprint(&mut self, c: &str) {
        self.0.insert("c".into(), Value::String(c.into()));
    }

    /// The plaintext: `MEGA` + compact JSON + zero padding to a multiple of 16.
    pub fn to_plaintext(&self) -> Vec<u8> {
        let mut out = b"MEGA".to_vec();
        // Serialising a map of JSON values cannot fail.
        out.extend_from_slice(serde_json::to_string(&self.0).unwrap_or_default().as_bytes());
        out.resize(out.len().div_ceil(16) * 16, 0);
        out
    }

    /// Encrypts the attributes under `key`.
    pub fn encrypt(&self, key: &Key128) -> Vec<u8> {
        let mut data = self.to_plaintext();
        cbc_encrypt(key, &mut data);
        data
    }

    /// Encrypts to the b64 string of the `a`/`at` fields.
    pub fn encrypt_b64(&self, key: &Key128) -> String {
        b64::encode(&self.encrypt(key))
    }

    /// Decrypts attribute bytes. A key that does not fit gives [`Error::WrongKey`].
    pub fn decrypt(data: &[u8], key: &Key128) -> Result<Self, Error> {
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(Error::malformed("attributes", "length is not a positive multiple of 16"));
        }
        if data.len() > MAX_ENCODED_LEN {
            return Err(Error::malformed("attributes", "longer than 64 KiB"));
        }
        let mut plain = data.to_vec();
        cbc_decrypt(key, &mut plain);
        let end = plain.iter().position(|&b| b == 0).unwrap_or(plain.len());
        let text = &plain[..end];
        if !text.starts_with(b"MEGA{\"") {
            return Err(Error::WrongKey { what: "attributes" });
        }
        match serde_json::from_slice::<Value>(&text[4..]) {
            Ok(Value::Object(map)) => Ok(Attributes(map)),
            _ => Err(Error::malformed("attributes", "not a JSON object")),
        }
    }

    /// Decrypts the b64 string of an `a`/`at` field.
    pub fn decrypt_b64(s: &str, key: &Key128) -> Result<Self, Error> {
        if s.len() > b64::encoded_len(MAX_ENCODED_LEN) {
            return Err(Error::malformed("attributes", "longer than 64 KiB"));
        }
        Self::decrypt(&b64::decode_all(s, "attributes")?, key)
    }
}

fn cbc_encrypt(key: &Key128, data: &mut [u8]) {
    let iv = [0u8; 16];
    let enc = cbc::Encryptor::<Aes128>::new(GenericArray::from_slice(key.as_bytes()), GenericArray::from_slice(&iv));
    let len = data.len();
    // The length is a multiple of 16: NoPadding cannot fail.
    let _ = enc.encrypt_padded_mut::<NoPadding>(data, len);
}

fn cbc_decrypt(key: &Key128, data: &mut [u8]) {
    let iv = [0u8; 16];
    let dec = cbc::Decryptor::<Aes128>::new(GenericArray::from_slice(key.as_bytes()), GenericArray::from_slice(&iv));
    let _ = dec.decrypt_padded_mut::<NoPadding>(data);
}

/// Encrypts a thumbnail or preview for upload (spec §6.5): zero-padded to 16, AES-CBC zero IV
/// under the node's attribute key.
pub fn encrypt_file_attribute(data: &[u8], key: &Key128) -> Vec<u8> {
    let mut out = data.to_vec();
    out.resize(data.len().div_ceil(16) * 16, 0);
    cbc_encrypt(key, &mut out);
    out
}

/// Decrypts a downloaded thumbnail or preview. The zero padding is left on: JPEG ignores it.
pub fn decrypt_file_attribute(data: &[u8], key: &Key128) -> Result<Vec<u8>, Error> {
    if data.len() % 16 != 0 {
        return Err(Error::malformed("file attribute", "length is not a multiple of 16"));
    }
    let mut out = data.to_vec();
    cbc_decrypt(key, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_key_and_garbage() {
        let k = Key128::new([1; 16]);
        let enc = Attributes::with_name("x").encrypt(&k);
        assert_eq!(Attributes::decrypt(&enc, &k).unwrap().name(), Some("x"));
        let e = Attributes::decrypt(&enc, &Key128::new([2; 16])).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::WrongKey);
        assert!(Attributes::decrypt(&enc[..15], &k).is_err());
        assert!(Attributes::decrypt(&[], &k).is_err());
        assert!(Attributes::decrypt_b64("!!", &k).is_err());
    }

    #[test]
    fn floats_survive_re_encryption() {
        // Found by fuzzing: without serde_json's float_roundtrip, this drifted one ULP per cycle.
        let k = Key128::new([1; 16]);
        let a = Attributes(serde_json::from_str(r#"{"f":1.0715660391465826e-75}"#).unwrap());
        let once = Attributes::decrypt(&a.encrypt(&k), &k).unwrap();
        assert_eq!(once, a);
        assert_eq!(Attributes::decrypt(&once.encrypt(&k), &k).unwrap(), a);
    }

    #[test]
    fn keeps_unknown_keys_in_order() {
        let k = Key128::new([1; 16]);
        let mut a = Attributes::default();
        a.0.insert("zz".into(), Value::from(1));
        a.0.insert("n".into(), Value::from("a"));
        a.set_name("b");
        let back = Attributes::decrypt(&a.encrypt(&k), &k).unwrap();
        assert_eq!(serde_json::to_string(&back.0).unwrap(), r#"{"zz":1,"n":"b"}"#);
    }
}
