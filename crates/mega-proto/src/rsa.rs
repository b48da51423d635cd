//! RSA as MEGA uses it (spec §2.5): MPI encoding, the `privk` blob, the session id in `csid`,
//! and RSA-wrapped node keys.
//!
//! MEGA uses raw RSA, without padding. Decryption runs through the CRT with the key's own
//! coefficient `u = p^-1 mod q`. Key generation (for the test server's seeded accounts) uses the
//! `rsa` crate's prime generation with `e = 17`, as the SDK does, and the textbook
//! `d = e^-1 mod (p-1)(q-1)`.

use std::fmt;

pub use num_bigint_dig::BigUint;
use num_bigint_dig::ModInverse;
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::login::Sid;
use crate::{b64, Error, Key128, UserHandle};

/// Reads one MPI (u16 big-endian bit count, then the magnitude) and returns it with the rest.
pub fn read_mpi(data: &[u8]) -> Result<(BigUint, &[u8]), Error> {
    if data.len() < 2 {
        return Err(Error::malformed("MPI", "truncated length"));
    }
    let bits = u16::from_be_bytes([data[0], data[1]]) as usize;
    let len = bits.div_ceil(8);
    let rest = &data[2..];
    if rest.len() < len {
        return Err(Error::malformed("MPI", "truncated value"));
    }
    Ok((BigUint::from_bytes_be(&rest[..len]), &rest[len..]))
}

/// Writes an MPI with the exact bit length (the SDK's form for ciphertexts).
pub fn write_mpi(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    let bits = if n.bits() == 0 { 0 } else { n.bits() };
    let mut out = Vec::with_capacity(2 + bytes.len());
    out.extend_from_slice(&(bits as u16).to_be_bytes());
    if bits > 0 {
        out.extend_from_slice(&bytes);
    }
    out
}

/// Writes an MPI whose bit count is its byte count times 8 (the SDK's form in key blobs).
pub fn write_mpi_bytes(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    let mut out = Vec::with_capacity(2 + bytes.len());
    out.extend_from_slice(&((bytes.len() * 8) as u16).to_be_bytes());
    out.extend_from_slice(&bytes);
    out
}

fn byte_len(n: &BigUint) -> usize {
    (n.bits()).div_ceil(8)
}

/// An RSA private key in MEGA's layout: primes `p`, `q`, exponent `d`, and `u = p^-1 mod q`.
#[derive(Clone, PartialEq, Eq)]
pub struct PrivateKey {
    p: BigUint,
    q: BigUint,
    d: BigUint,
    u: BigUint,
    dp: BigUint,
    dq: BigUint,
    n: BigUint,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({} bits, <redacted>)", self.n.bits())
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.p.zeroize();
        self.q.zeroize();
        self.d.zeroize();
        self.u.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
    }
}

impl PrivateKey {
    /// Builds a key from its components, checking them as the SDK does: `d` over 2000 bits,
    /// `p`, `q` and `u` over 1000 bits, and `u * p == 1 mod q`.
    pub fn from_components(p: BigUint, q: BigUint, d: BigUint, u: BigUint) -> Result<Self, Error> {
        let bad = || Error::WrongKey { what: "private key" };
        if d.bits() <= 2000 || p.bits() <= 1000 || q.bits() <= 1000 || u.bits() <= 1000 {
            return Err(bad());
        }
        if (&u * &p) % &q != BigUint::from(1u32) {
            return Err(bad());
        }
        let one = BigUint::from(1u32);
        let dp = &d % (&p - &one);
        let dq = &d % (&q - &one);
        let n = &p * &q;
        Ok(PrivateKey { p, q, d, u, dp, dq, n })
    }

    /// Parses the decrypted `privk` plaintext: four MPIs, then fewer than 16 bytes of padding.
    pub fn from_privk_plaintext(data: &[u8]) -> Result<Self, Error> {
        let (p, rest) = read_mpi(data)?;
        let (q, rest) = read_mpi(rest)?;
        let (d, rest) = read_mpi(rest)?;
        let (u, rest) = read_mpi(rest)?;
        if rest.len() >= 16 {
            return Err(Error::WrongKey { what: "private key" });
        }
        Self::from_components(p, q, d, u)
    }

    /// Decrypts `us.privk` (b64) with the master key. A wrong master key gives `WrongKey`.
    pub fn decrypt_privk(privk_b64: &str, master: &Key128) -> Result<Self, Error> {
        let mut data = Zeroizing::new(b64::decode_all(privk_b64, "privk")?);
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(Error::malformed("privk", "length is not a positive multiple of 16"));
        }
        master.ecb_decrypt(&mut data)?;
        Self::from_privk_plaintext(&data).map_err(|e| match e {
            Error::Malformed { .. } => Error::WrongKey { what: "private key" },
            e => e,
        })
    }

    /// The four MPIs `p, q, d, u` without padding.
    pub fn to_mpis(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::new());
        for n in [&self.p, &self.q, &self.d, &self.u] {
            out.extend_from_slice(&write_mpi_bytes(n));
        }
        out
    }

    /// The `privk` plaintext: four MPIs, padded with `pad` bytes to a multiple of 16.
    pub fn to_privk_plaintext(&self, pad: &[u8; 16]) -> Zeroizing<Vec<u8>> {
        let mut out = self.to_mpis();
        let missing = (16 - out.len() % 16) % 16;
        out.extend_from_slice(&pad[..missing]);
        out
    }

    /// `privk` for the wire: the plaintext with random padding, AES-ECB under the master key.
    pub fn encrypt_privk(&self, master: &Key128, rng: &mut impl CryptoRngCore) -> String {
        let mut pad = [0u8; 16];
        rng.fill_bytes(&mut pad);
        let mut data = self.to_privk_plaintext(&pad);
        let _ = master.ecb_encrypt(&mut data);
        b64::encode(&data)
    }

    /// The components `(p, q, d, u)`. These are the secret itself.
    pub fn components(&self) -> (&BigUint, &BigUint, &BigUint, &BigUint) {
        (&self.p, &self.q, &self.d, &self.u)
    }

    /// The modulus.
    pub fn modulus(&self) -> &BigUint {
        &self.n
    }

    /// Raw RSA decryption `c^d mod n` through the CRT.
    pub fn decrypt_raw(&self, c: &BigUint) -> BigUint {
        let m1 = c.modpow(&self.dp, &self.p);
        let m2 = c.modpow(&self.dq, &self.q);
        // m = m1 + p * ((m2 - m1) * u mod q), with u = p^-1 mod q.
        let diff = if m2 >= m1 { &m2 - &m1 } else { &self.q - ((&m1 - &m2) % &self.q) };
        let h = (diff * &self.u) % &self.q;
        m1 + &self.p * h
    }

    /// Decrypts an MPI ciphertext to the SDK's fixed-length plaintext: big-endian, left-padded
    /// to `bytes(p) + bytes(q) - 2` bytes (or longer if the value needs it).
    pub fn decrypt_mpi(&self, mpi: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let (c, _) = read_mpi(mpi)?;
        if c >= self.n {
            return Err(Error::malformed("RSA ciphertext", "not below the modulus"));
        }
        let m = Zeroizing::new(self.decrypt_raw(&c).to_bytes_be());
        let l = (byte_len(&self.p) + byte_len(&self.q)).saturating_sub(2);
        let mut out = Zeroizing::new(vec![0u8; l.saturating_sub(m.len())]);
        out.extend_from_slice(&m);
        Ok(out)
    }

    /// Recovers the session id from `us.csid` and checks that it names `user` (spec §2.5).
    pub fn decrypt_csid(&self, csid_b64: &str, user: UserHandle) -> Result<Sid, Error> {
        let mpi = b64::decode_all(csid_b64, "csid")?;
        let plain = self.decrypt_mpi(&mpi)?;
        if plain.len() < 43 {
            return Err(Error::WrongKey { what: "csid" });
        }
        let mut sid = [0u8; 43];
        sid.copy_from_slice(&plain[..43]);
        let sid = Sid::new(sid);
        if sid.user() != Some(user) {
            return Err(Error::WrongKey { what: "csid" });
        }
        Ok(sid)
    }

    /// Unwraps an RSA-wrapped node key: the first `len` bytes of the plaintext (spec §3.2).
    pub fn decrypt_node_key(&self, mpi: &[u8], len: usize) -> Result<Zeroizing<Vec<u8>>, Error> {
        let plain = self.decrypt_mpi(mpi)?;
        if plain.len() < len {
            return Err(Error::WrongKey { what: "RSA node key" });
        }
        Ok(Zeroizing::new(plain[..len].to_vec()))
    }

    /// Generates a 2048-bit key pair with `e = 17` that passes MEGA's checks (test server use).
    pub fn generate(rng: &mut impl CryptoRngCore) -> Result<(Self, PublicKey), Error> {
        let e = BigUint::from(17u32);
        loop {
            let key = rsa::RsaPrivateKey::new_with_exp(rng, 2048, &e)
                .map_err(|_| Error::Unsupported("RSA key generation failed"))?;
            let primes = rsa::traits::PrivateKeyParts::primes(&key);
            let (p, q) = (primes[0].clone(), primes[1].clone());
            let one = BigUint::from(1u32);
            let phi = (&p - &one) * (&q - &one);
            let Some(d) = e.clone().mod_inverse(&phi).and_then(|d| d.to_biguint()) else { continue };
            let Some(u) = p.clone().mod_inverse(&q).and_then(|u| u.to_biguint()) else { continue };
            if let Ok(k) = Self::from_components(p, q, d, u) {
                let public = PublicKey { n: k.n.clone(), e: e.clone() };
                return Ok((k, public));
            }
        }
    }
}

/// An RSA public key (`pubk`: `MPI(n) || MPI(e)`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PublicKey {
    /// The modulus.
    pub n: BigUint,
    /// The public exponent (17 for SDK keys, 257 for old web-client keys).
    pub e: BigUint,
}

impl PublicKey {
    /// Parses `pubk` bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Self, Error> {
        let (n, rest) = read_mpi(data)?;
        let (e, _) = read_mpi(rest)?;
        if n.bits() < 512 || e.bits() == 0 {
            return Err(Error::malformed("public key", "modulus or exponent out of range"));
        }
        Ok(PublicKey { n, e })
    }

    /// Parses the b64 `pubk`.
    pub fn from_b64(s: &str) -> Result<Self, Error> {
        Self::from_bytes(&b64::decode_all(s, "pubk")?)
    }

    /// `pubk` bytes, in the SDK's byte-count MPI form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = write_mpi_bytes(&self.n);
        out.extend_from_slice(&write_mpi_bytes(&self.e));
        out
    }

    /// Raw RSA encryption of a plaintext (big-endian, shorter than the modulus) to an MPI.
    pub fn encrypt_raw(&self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let m = BigUint::from_bytes_be(plaintext);
        if m >= self.n {
            return Err(Error::malformed("RSA plaintext", "not below the modulus"));
        }
        Ok(write_mpi(&m.modpow(&self.e, &self.n)))
    }

    /// Builds `csid` for a session (server side): `sid || random` up to the modulus length
    /// minus 2 bytes, raw RSA, MPI, b64 (spec §2.5).
    pub fn encrypt_csid(&self, sid: &Sid, rng: &mut impl CryptoRngCore) -> Result<String, Error> {
        let len = byte_len(&self.n).saturating_sub(2).max(43);
        let mut plain = Zeroizing::new(vec![0u8; len]);
        rng.fill_bytes(&mut plain[43..]);
        plain[..43].copy_from_slice(sid.as_bytes());
        Ok(b64::encode(&self.encrypt_raw(&plain)?))
    }
}
