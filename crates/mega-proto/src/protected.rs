//! Password-protected links, `https://mega.nz/#P!<payload>` (spec §7.2).
//!
//! The payload holds the algorithm, the link type, the public handle, a salt, the link key
//! XOR-ed with a PBKDF2-HMAC-SHA512 stream of the password, and an HMAC-SHA256 that tells a wrong
//! password from a right one. Algorithm 2 is current; algorithm 1 (the web client's old bug,
//! with HMAC key and message swapped) is still read.

use hmac::{Hmac, Mac};
use rand_core::CryptoRngCore;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

use crate::keys::NodeKey;
use crate::link::{Link, LinkKind, CANONICAL_HOST};
use crate::login::PBKDF2_ROUNDS;
use crate::{b64, Error, NodeHandle};

/// What a protected link says about itself without the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// 1 (legacy) or 2 (current).
    pub algorithm: u8,
    /// File or folder.
    pub kind: LinkKind,
    /// The public handle.
    pub handle: NodeHandle,
}

struct Payload {
    header: Header,
    bytes: Vec<u8>,
}

fn split(payload_b64: &str) -> Result<Payload, Error> {
    let bytes = b64::decode(payload_b64);
    if bytes.len() < 2 {
        return Err(Error::malformed("protected link", "truncated"));
    }
    let algorithm = bytes[0];
    if algorithm != 1 && algorithm != 2 {
        return Err(Error::Unsupported("protected link algorithm"));
    }
    let kind = match bytes[1] {
        0 => LinkKind::Folder,
        1 => LinkKind::File,
        _ => return Err(Error::malformed("protected link", "unknown link type")),
    };
    if bytes.len() != 40 + kind.key_len() + 32 {
        return Err(Error::malformed("protected link", "truncated or over-long payload"));
    }
    let mut h = [0u8; 6];
    h.copy_from_slice(&bytes[2..8]);
    Ok(Payload { header: Header { algorithm, kind, handle: NodeHandle(h) }, bytes })
}

/// Reads the header of a `#P!` payload (no password needed).
pub fn inspect(payload_b64: &str) -> Result<Header, Error> {
    split(payload_b64).map(|p| p.header)
}

fn derive(password: &str, salt: &[u8]) -> Zeroizing<[u8; 64]> {
    let mut dk = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<Sha512>(password.as_bytes(), salt, PBKDF2_ROUNDS, &mut dk[..]);
    dk
}

fn mac(algorithm: u8, dk: &[u8; 64], data: &[u8]) -> Hmac<Sha256> {
    let (key, msg) = if algorithm == 1 { (data, &dk[32..]) } else { (&dk[32..], data) };
    // HMAC accepts keys of any length.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    m.update(msg);
    m
}

/// Decrypts a `#P!` payload with the password into the plain link.
pub fn decrypt(payload_b64: &str, password: &str) -> Result<Link, Error> {
    let Payload { header, bytes } = split(payload_b64)?;
    let klen = header.kind.key_len();
    let data_end = 40 + klen;
    let dk = derive(password, &bytes[8..40]);
    mac(header.algorithm, &dk, &bytes[..data_end])
        .verify_slice(&bytes[data_end..])
        .map_err(|_| Error::WrongPassword)?;
    let key: Zeroizing<Vec<u8>> =
        Zeroizing::new(bytes[40..data_end].iter().zip(dk.iter()).map(|(c, k)| c ^ k).collect());
    Ok(Link { kind: header.kind, handle: header.handle, key: Some(NodeKey::from_bytes(&key)?), sub: None })
}

/// Decrypts a whole `#P!` URL (or bare payload) with the password.
pub fn decrypt_url(url: &str, password: &str) -> Result<Link, Error> {
    match crate::link::parse(url) {
        Ok(crate::link::ParsedLink::Protected(p)) => decrypt(&p, password),
        Ok(_) => Err(Error::malformed("protected link", "not a #P! link")),
        Err(_) => decrypt(url.trim(), password),
    }
}

/// Protects a link with a password and the given salt (algorithm 2); returns the payload.
pub fn encrypt_with_salt(link: &Link, password: &str, salt: &[u8; 32]) -> Result<String, Error> {
    let key = link.require_key()?.to_bytes();
    let key = Zeroizing::new(key);
    let mut out = Vec::with_capacity(40 + key.len() + 32);
    out.push(2u8);
    out.push(match link.kind {
        LinkKind::Folder => 0,
        LinkKind::File => 1,
    });
    out.extend_from_slice(&link.handle.0);
    out.extend_from_slice(salt);
    let dk = derive(password, salt);
    out.extend(key.iter().zip(dk.iter()).map(|(k, d)| k ^ d));
    let tag = mac(2, &dk, &out).finalize().into_bytes();
    out.extend_from_slice(&tag);
    Ok(b64::encode(&out))
}

/// Protects a link with a password (algorithm 2, fresh salt); returns the `#P!` URL.
pub fn encrypt(link: &Link, password: &str, rng: &mut impl CryptoRngCore) -> Result<String, Error> {
    let mut salt = [0u8; 32];
    rng.fill_bytes(&mut salt);
    Ok(format!("{CANONICAL_HOST}/#P!{}", encrypt_with_salt(link, password, &salt)?))
}
