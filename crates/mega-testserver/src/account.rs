//! Accounts as MEGA stores them: what the server keeps to check a login and hand out keys,
//! derived from an e-mail and password exactly as a client does at sign-up (spec §2, §8.1).

use mega_proto::keymgr::{KeysContainer, NewKeys};
use mega_proto::login::{self, V2Keys};
use mega_proto::rsa::{PrivateKey, PublicKey};
use mega_proto::{b64, Key128, NodeHandle, UserHandle};
use rand_core::{OsRng, RngCore};

/// How a login proves the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verifier {
    /// v1: the expected `uh` string.
    V1(String),
    /// v2: `SHA-256(authkey)[0..16]`; the salt is sent by `us0`.
    V2 {
        /// The 32-byte salt.
        salt: [u8; 32],
        /// The hashed auth key.
        hashed_auth_key: [u8; 16],
    },
}

/// One account.
#[derive(Debug)]
pub struct Account {
    /// The user handle.
    pub handle: UserHandle,
    /// The e-mail, lowercased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// How `us` is checked.
    pub verifier: Verifier,
    /// The master key wrapped with the password key (`k`).
    pub k: String,
    /// The RSA private key wrapped with the master key (`privk`).
    pub privk: String,
    /// The RSA public key (`pubk`), b64.
    pub pubk: String,
    /// The public key, to build `csid`.
    pub public: PublicKey,
    /// The master key. The real service never has it; the test server keeps it only to seed
    /// files and folders encrypted as a client would. It is never sent.
    pub master: Key128,
    /// Cloud drive, inbox (vault) and rubbish bin.
    pub roots: [NodeHandle; 3],
    /// Creation time (unix seconds).
    pub since: i64,
    /// Storage quota in bytes.
    pub storage_max: u64,
    /// Transfer quota in bytes.
    pub transfer_max: u64,
    /// Transfer used in bytes.
    pub transfer_used: u64,
    /// The TOTP secret when two-factor authentication is on.
    pub mfa: Option<Vec<u8>>,
}

/// Account version for a new account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// `prepare_key` accounts.
    V1,
    /// PBKDF2 accounts (the default, as for every account created today).
    V2,
}

impl Account {
    /// Creates an account as an official client does at sign-up: a random master key, a random
    /// RSA key pair, keys wrapped for the password; and, returned beside the account as (name,
    /// b64 value) to store as user attributes, the key manager's `^!keys` with the account's new
    /// Ed25519 and Cu25519 private keys and its RSA key, and their public halves and signatures
    /// (see `key_attributes`). Root handles are supplied by the store.
    pub fn create(
        email: &str,
        password: &str,
        version: Version,
        roots: [NodeHandle; 3],
        now: i64,
    ) -> (Self, Vec<(&'static str, String)>) {
        let email = email.to_lowercase();
        let mut rng = OsRng;
        let mut m = [0u8; 16];
        rng.fill_bytes(&mut m);
        let master = Key128::new(m);
        let (password_key, verifier) = match version {
            Version::V1 => {
                let pk = login::password_key_v1(password);
                let uh = login::uh_v1(&email, &pk);
                (pk, Verifier::V1(uh))
            }
            Version::V2 => {
                let mut random = [0u8; 16];
                rng.fill_bytes(&mut random);
                let salt = login::salt_v2(&random);
                let keys = V2Keys::derive(password, &salt);
                let hashed = login::hashed_auth_key(keys.auth_key.as_bytes());
                (keys.password_key.clone(), Verifier::V2 { salt, hashed_auth_key: hashed })
            }
        };
        let (private, public) = generate_key();
        let mut h = [0u8; 8];
        rng.fill_bytes(&mut h);
        let keys = key_attributes(UserHandle(h), now, &private, &public, &master);
        let account = Account {
            handle: UserHandle(h),
            name: email.split('@').next().unwrap_or("user").to_string(),
            email,
            verifier,
            k: login::encrypt_master_key(&password_key, &master),
            privk: private.encrypt_privk(&master, &mut rng),
            pubk: b64::encode(&public.to_bytes()),
            public,
            master,
            roots,
            since: now,
            storage_max: 20 << 30,
            transfer_max: 10 << 30,
            transfer_used: 0,
            mfa: None,
        };
        (account, keys)
    }

    /// Checks a six-digit TOTP code (30-second steps, one step of skew either way).
    pub fn check_mfa(&self, code: Option<&str>) -> bool {
        let Some(secret) = &self.mfa else { return true };
        let Some(code) = code else { return false };
        let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.clone());
        totp.check_current(code).unwrap_or(false)
    }

    /// Checks a login's `uh`.
    pub fn check_uh(&self, uh: &str) -> bool {
        match &self.verifier {
            Verifier::V1(expected) => expected == uh,
            Verifier::V2 { hashed_auth_key, .. } => {
                let raw = b64::decode(uh);
                raw.len() == 16 && login::hashed_auth_key(&raw) == *hashed_auth_key
            }
        }
    }
}

/// The user attributes an official client stores at sign-up beside the account, each (name,
/// b64 value): `^!keys` (spec §6.10) with random Ed25519 and Cu25519 private keys (both made
/// at sign-up) and the RSA key as `p`, `q`, `d` MPIs, encrypted under the master key; and the
/// public halves the SDK checks them against at every login: `+puEd255`, `+puCu255`, and the
/// Ed25519 signatures of the Cu25519 key (`+sigCu255`) and of the RSA public key (`+sigPubk`),
/// each `ts (8 bytes, big-endian) || Ed25519("keyauth" || ts || key)`.
pub(crate) fn key_attributes(
    user: UserHandle,
    now: i64,
    rsa: &PrivateKey,
    public: &PublicKey,
    master: &Key128,
) -> Vec<(&'static str, String)> {
    use ed25519_dalek::Signer;
    let mut ed25519 = zeroize::Zeroizing::new([0u8; 32]);
    let mut cu25519 = zeroize::Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut ed25519[..]);
    OsRng.fill_bytes(&mut cu25519[..]);
    let (p, q, d, _) = rsa.components();
    let mut rsa_short = zeroize::Zeroizing::new(Vec::new());
    for n in [p, q, d] {
        rsa_short.extend_from_slice(&mega_proto::rsa::write_mpi_bytes(n));
    }
    let keys = KeysContainer::new(&NewKeys {
        identity: user,
        created: u32::try_from(now).unwrap_or(0),
        ed25519: &ed25519,
        cu25519: &cu25519,
        rsa: &rsa_short,
    });
    let signing = ed25519_dalek::SigningKey::from_bytes(&ed25519);
    let cu_public = x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(*cu25519)).to_bytes();
    let ts = (now.max(0) as u64).to_be_bytes();
    let sign = |key: &[u8]| {
        let message = [&b"keyauth"[..], &ts, key].concat();
        [&ts[..], &signing.sign(&message).to_bytes()].concat()
    };
    // The RSA public key as the SDK signs it: the modulus, then the exponent, bare bytes.
    let pubk = public.to_bytes();
    let (n, rest) = mega_proto::rsa::read_mpi(&pubk).expect("our own public key");
    let (e, _) = mega_proto::rsa::read_mpi(rest).expect("our own public key");
    let rsa_public = [n.to_bytes_be(), e.to_bytes_be()].concat();
    vec![
        (mega_proto::keymgr::ATTRIBUTE, keys.encrypt_b64(master, &mut OsRng)),
        ("+puEd255", b64::encode(signing.verifying_key().as_bytes())),
        ("+puCu255", b64::encode(&cu_public)),
        ("+sigCu255", b64::encode(&sign(&cu_public))),
        ("+sigPubk", b64::encode(&sign(&rsa_public))),
    ]
}

/// A 2048-bit key pair with `e = 17` that passes MEGA's checks.
fn generate_key() -> (PrivateKey, PublicKey) {
    loop {
        if let Ok(pair) = PrivateKey::generate(&mut OsRng) {
            return pair;
        }
    }
}
