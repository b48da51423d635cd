//! Logging in (v1 and v2 accounts, RSA `csid` or `tsid`), two-factor codes, saving and
//! resuming sessions, `ug`, `sml` and `uq`.
//!
//! The key derivation runs once, on a blocking thread: a login that needs a two-factor code
//! returns [`Login::NeedsMfa`] holding the derived secrets, and [`PendingMfa::complete`] sends
//! only the code.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use mega_proto::login::{self, LoginSecrets, Prelogin, Sid};
use mega_proto::rsa::PrivateKey;
use mega_proto::{b64, ErrorCode, Key128, UserHandle};
use rand_core::RngCore;
use serde_json::{json, Value};
use zeroize::{Zeroize, Zeroizing};

use crate::client::{Auth, Client, SidParam};
use crate::error::{Error, Result};

/// What a login attempt gives.
#[derive(Debug)]
pub enum Login {
    /// Logged in.
    Done(Session),
    /// The account has two-factor authentication: ask the user for the code and call
    /// [`PendingMfa::complete`].
    NeedsMfa(PendingMfa),
}

impl Login {
    /// The session, or an [`Error::MfaRequired`] if a code is needed.
    pub fn session(self) -> Result<Session> {
        match self {
            Login::Done(s) => Ok(s),
            Login::NeedsMfa(_) => Err(Error::MfaRequired),
        }
    }
}

/// A login waiting for a two-factor code. Holds the derived password key (zeroized on drop).
pub struct PendingMfa {
    client: Client,
    email: String,
    secrets: LoginSecrets,
}

impl fmt::Debug for PendingMfa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingMfa").field("email", &self.email).finish_non_exhaustive()
    }
}

impl PendingMfa {
    /// The e-mail being logged in.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// Sends the six-digit code. A wrong code is an error of kind
    /// [`crate::ErrorKind::MfaRequired`]; this value stays usable for another try.
    pub async fn complete(&self, code: &str) -> Result<Session> {
        let code = code.trim();
        if code.is_empty() || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err(Error::BadInput("a two-factor code is digits only".into()));
        }
        match us(&self.client, &self.email, &self.secrets, Some(code)).await? {
            Login::Done(s) => Ok(s),
            Login::NeedsMfa(_) => Err(Error::MfaRequired),
        }
    }
}

/// The secret part of a session: what resuming needs without the password.
struct Credentials {
    sid: Sid,
    sid_param: Arc<SidParam>,
    master: Key128,
    /// The session encryption key the server keeps with the sid (spec §2.4): the saved
    /// session holds the master key encrypted with it. `None` when the server keeps none.
    sek: Option<Key128>,
    user: UserHandle,
    email: String,
    private_key: Option<Arc<PrivateKey>>,
}

/// A logged-in session. Cheap to clone (shared). `Debug` shows the e-mail and user handle only.
#[derive(Clone)]
pub struct Session {
    pub(crate) client: Client,
    creds: Arc<Credentials>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("email", &self.creds.email)
            .field("user", &self.creds.user)
            .finish_non_exhaustive()
    }
}

/// A saved session: sid, user handle, e-mail and the master key encrypted with the session
/// encryption key (`sek`) the server keeps for this sid, as the official SDK keeps it (spec
/// §2.7). The saved session alone does not give the master key: resuming asks the server for
/// the `sek`, which it hands out only while the sid is alive. Serialises (serde) as one secret
/// string; keep it in the OS keyring, never in a plain file or a log. `Debug` is redacted and
/// the secrets are zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct SavedSession {
    sid: Sid,
    key: SavedKey,
    user: UserHandle,
    email: String,
}

/// The master key as a saved session holds it.
#[derive(Clone, PartialEq, Eq)]
enum SavedKey {
    /// `AES-ECB(sek, master)`: opened with the `sek` the server returns on resume.
    Sealed(Key128),
    /// The master key itself: sessions saved before the `sek` was used, or from a server that
    /// keeps no `sek`. Still read; such a session is sealed when saved again.
    Clear(Key128),
}

/// `b64(1 || master(16) || sid(43) || user(8) || e-mail)`: the master key in clear (read only).
const SAVED_CLEAR: u8 = 1;
/// `b64(2 || AES-ECB(sek, master)(16) || sid(43) || user(8) || e-mail)`: the SDK's session blob
/// (`1 || AES-ECB(sek, master) || sid`, spec §2.7) with the user handle and e-mail after it.
const SAVED_SEALED: u8 = 2;

impl SavedSession {
    /// The e-mail of the account.
    pub fn email(&self) -> &str {
        &self.email
    }

    /// The user handle.
    pub fn user(&self) -> UserHandle {
        self.user
    }

    /// True when the master key is held encrypted with the server-kept `sek` (the saved
    /// session alone does not give it); false for an old session that holds it in clear, which
    /// is worth saving again after [`Client::resume`] (the resumed session saves sealed when
    /// the server keeps a `sek` for it).
    pub fn is_sealed(&self) -> bool {
        matches!(self.key, SavedKey::Sealed(_))
    }

    /// The secret string: `b64(2 || AES-ECB(sek, master)(16) || sid(43) || user(8) || e-mail)`,
    /// or, for a session that has no `sek`, the older `b64(1 || master(16) || ...)`.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(Vec::with_capacity(68 + self.email.len()));
        let (version, key) = match &self.key {
            SavedKey::Sealed(k) => (SAVED_SEALED, k),
            SavedKey::Clear(k) => (SAVED_CLEAR, k),
        };
        raw.push(version);
        raw.extend_from_slice(key.as_bytes());
        raw.extend_from_slice(self.sid.as_bytes());
        raw.extend_from_slice(&self.user.0);
        raw.extend_from_slice(self.email.as_bytes());
        Zeroizing::new(b64::encode(&raw))
    }

    /// Parses [`SavedSession::to_secret_string`]'s output (either version).
    pub fn from_secret_string(s: &str) -> Result<Self> {
        let bad = || Error::BadInput("not a saved session".into());
        let raw = Zeroizing::new(b64::decode_all(s.trim(), "saved session").map_err(|_| bad())?);
        if raw.len() < 68 {
            return Err(bad());
        }
        let key = Key128::from_slice(&raw[1..17]).map_err(|_| bad())?;
        let key = match raw[0] {
            SAVED_SEALED => SavedKey::Sealed(key),
            SAVED_CLEAR => SavedKey::Clear(key),
            _ => return Err(bad()),
        };
        let mut sid = [0u8; 43];
        sid.copy_from_slice(&raw[17..60]);
        let sid = Sid::new(sid);
        let mut user = [0u8; 8];
        user.copy_from_slice(&raw[60..68]);
        let email = String::from_utf8(raw[68..].to_vec()).map_err(|_| bad())?;
        Ok(SavedSession { sid, key, user: UserHandle(user), email })
    }
}

impl fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedSession").field("email", &self.email).field("secrets", &"<redacted>").finish()
    }
}

impl serde::Serialize for SavedSession {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_secret_string())
    }
}

impl<'de> serde::Deserialize<'de> for SavedSession {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = Zeroizing::new(<String as serde::Deserialize>::deserialize(d)?);
        SavedSession::from_secret_string(&s).map_err(serde::de::Error::custom)
    }
}

/// The account behind a session (`ug`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user handle.
    pub user: UserHandle,
    /// The e-mail.
    pub email: String,
    /// The display name, if the server gives one.
    pub name: Option<String>,
    /// When the account was created (unix seconds), if given.
    pub since: Option<i64>,
}

/// Storage and transfer quota (`uq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Quota {
    /// Bytes stored.
    pub storage_used: u64,
    /// Bytes allowed.
    pub storage_max: u64,
    /// Transfer used in the current window (own downloads plus served to others).
    pub transfer_used: u64,
    /// Transfer allowed per window.
    pub transfer_max: u64,
    /// Until the transfer quota frees, when the server says so.
    pub transfer_time_left: Option<Duration>,
    /// Account level: 0 free, 1 Pro I, 2 Pro II, 3 Pro III, 4 Lite, ...
    pub account_type: u32,
}

impl Client {
    /// Logs in with e-mail and password: `us0`, the key derivation (on a blocking thread), `us`.
    pub async fn login(&self, email: &str, password: &str) -> Result<Login> {
        let email = email.trim().to_lowercase();
        let pre = self.command(&Auth::Anonymous, json!({"a": "us0", "user": email})).await;
        let pre = match pre {
            Err(e) if e.code() == Some(ErrorCode::NotFound) => return Err(Error::BadCredentials),
            r => r?,
        };
        let prelogin = match pre.get("v").and_then(Value::as_u64) {
            Some(1) => Prelogin::V1,
            Some(2) => {
                let salt = pre.get("s").and_then(Value::as_str).ok_or(Error::protocol("us0", "v2 without salt"))?;
                Prelogin::V2 { salt: b64::decode_all(salt, "salt")? }
            }
            _ => return Err(Error::protocol("us0", "unsupported account version")),
        };
        let password = Zeroizing::new(password.to_string());
        let e2 = email.clone();
        let secrets = tokio::task::spawn_blocking(move || login::login_secrets(&e2, &password, &prelogin))
            .await
            .map_err(|_| Error::Cancelled)??;
        us(self, &email, &secrets, None).await
    }

    /// Resumes a saved session without the password. The server checks the sid (`us` with no
    /// user, a fresh `sek`) and returns the `sek` it keeps for the sid, which opens the saved
    /// master key; an expired sid is an error of kind [`crate::ErrorKind::SessionExpired`].
    pub async fn resume(&self, saved: &SavedSession) -> Result<Session> {
        let sid_param = Arc::new(SidParam(Zeroizing::new(saved.sid.to_b64())));
        let auth = Auth::Session(sid_param.clone());
        let r = self.command(&auth, json!({"a": "us", "sek": random_key_b64()})).await?;
        let user = r.get("u").and_then(Value::as_str).and_then(|u| UserHandle::from_b64(u).ok());
        if user != Some(saved.user) {
            return Err(Error::protocol("us", "the session belongs to another user"));
        }
        let sek = sek_of(&r);
        let master = match (&saved.key, &sek) {
            (SavedKey::Clear(master), _) => master.clone(),
            (SavedKey::Sealed(sealed), Some(sek)) => open_master(sek, sealed),
            (SavedKey::Sealed(_), None) => {
                return Err(Error::protocol(
                    "us",
                    "the server returned no session key (sek), so the saved session's master key cannot be \
                     opened: log in again",
                ))
            }
        };
        let wrong_sek = || {
            Error::protocol(
                "us",
                "the session key (sek) the server returned does not open the saved session: log in again",
            )
        };
        let private_key = match r.get("privk").and_then(Value::as_str) {
            // With a sealed key, a privk that does not decrypt means the sek did not open it.
            Some(p) => Some(Arc::new(PrivateKey::decrypt_privk(p, &master).map_err(|e| match saved.key {
                SavedKey::Sealed(_) => wrong_sek(),
                SavedKey::Clear(_) => e.into(),
            })?)),
            // Without an RSA key the sid is a tsid, which the master key checks (spec §2.6).
            None if saved.is_sealed() => {
                login::check_tsid(&saved.sid.to_b64(), &master).map_err(|_| wrong_sek())?;
                None
            }
            None => None,
        };
        let creds = Credentials {
            sid: saved.sid.clone(),
            sid_param,
            master,
            sek,
            user: saved.user,
            email: saved.email.clone(),
            private_key,
        };
        Ok(Session { client: self.clone(), creds: Arc::new(creds) })
    }
}

/// `AES-ECB(sek, master)`: the master key as a saved session holds it.
fn seal_master(sek: &Key128, master: &Key128) -> Key128 {
    ecb_block(sek, master, true)
}

/// The inverse of [`seal_master`].
fn open_master(sek: &Key128, sealed: &Key128) -> Key128 {
    ecb_block(sek, sealed, false)
}

/// One 16-byte block through AES-ECB under `sek` (cannot fail), the copy on the stack wiped.
fn ecb_block(sek: &Key128, key: &Key128, encrypt: bool) -> Key128 {
    let mut block = *key.as_bytes();
    let _ = if encrypt { sek.ecb_encrypt(&mut block) } else { sek.ecb_decrypt(&mut block) };
    let out = Key128::new(block);
    block.zeroize();
    out
}

/// The `sek` of a `us` reply: the one the server keeps with the sid (spec §2.4), if any.
fn sek_of(reply: &Value) -> Option<Key128> {
    reply.get("sek").and_then(Value::as_str).and_then(|s| Key128::from_b64(s).ok())
}

fn random_key_b64() -> String {
    let mut k = [0u8; 16];
    rand_core::OsRng.fill_bytes(&mut k);
    b64::encode(&k)
}

/// `us` with the derived secrets (and a two-factor code).
async fn us(client: &Client, email: &str, secrets: &LoginSecrets, mfa: Option<&str>) -> Result<Login> {
    let mut cmd = json!({"a": "us", "user": email, "uh": secrets.uh.as_str(), "sek": random_key_b64()});
    if let Some(code) = mfa {
        cmd["mfa"] = json!(code);
    }
    let r = match client.command(&Auth::Anonymous, cmd).await {
        Ok(r) => r,
        Err(e) => {
            return match e.code() {
                Some(ErrorCode::NotFound) => Err(Error::BadCredentials),
                Some(ErrorCode::MfaRequired) if mfa.is_some() => Err(Error::MfaRequired),
                Some(ErrorCode::MfaRequired) => Ok(Login::NeedsMfa(PendingMfa {
                    client: client.clone(),
                    email: email.to_string(),
                    secrets: secrets.clone(),
                })),
                _ => Err(e),
            }
        }
    };
    let field = |k: &'static str| r.get(k).and_then(Value::as_str).ok_or(Error::protocol("us", k));
    let master = login::decrypt_master_key(&secrets.password_key, field("k")?)?;
    let user = UserHandle::from_b64(field("u")?).map_err(|_| Error::protocol("us", "bad user handle"))?;
    let (sid, private_key) = if let Some(csid) = r.get("csid").and_then(Value::as_str) {
        // A privk that does not decrypt means the password key was wrong (SDK: ENOENT).
        let key = PrivateKey::decrypt_privk(field("privk")?, &master).map_err(|_| Error::BadCredentials)?;
        let sid = key.decrypt_csid(csid, user).map_err(|_| Error::BadCredentials)?;
        (sid, Some(Arc::new(key)))
    } else if let Some(tsid) = r.get("tsid").and_then(Value::as_str) {
        (login::check_tsid(tsid, &master).map_err(|_| Error::BadCredentials)?, None)
    } else {
        return Err(Error::protocol("us", "neither csid nor tsid"));
    };
    // The server keeps the sek it echoes and returns it on resume; one that echoes none (or
    // not a key) keeps none (spec §2.4).
    let sek = sek_of(&r);
    tracing::debug!(%user, sek = sek.is_some(), "logged in");
    let creds = Credentials {
        sid_param: Arc::new(SidParam(Zeroizing::new(sid.to_b64()))),
        sid,
        master,
        sek,
        user,
        email: email.to_string(),
        private_key,
    };
    Ok(Login::Done(Session { client: client.clone(), creds: Arc::new(creds) }))
}

impl Session {
    /// The client this session talks through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The user handle.
    pub fn user(&self) -> UserHandle {
        self.creds.user
    }

    /// The e-mail the session was opened with.
    pub fn email(&self) -> &str {
        &self.creds.email
    }

    pub(crate) fn master(&self) -> &Key128 {
        &self.creds.master
    }

    pub(crate) fn private_key(&self) -> Option<&Arc<PrivateKey>> {
        self.creds.private_key.as_ref()
    }

    pub(crate) fn auth(&self) -> Auth {
        Auth::Session(self.creds.sid_param.clone())
    }

    pub(crate) fn sid_param(&self) -> &Arc<SidParam> {
        &self.creds.sid_param
    }

    /// What to store to resume later without the password: the master key sealed with the
    /// server-kept `sek` (see [`SavedSession`]). A server that keeps no `sek` for the session
    /// leaves no other way than the master key in clear ([`SavedSession::is_sealed`] is false).
    pub fn save(&self) -> SavedSession {
        let key = match &self.creds.sek {
            Some(sek) => SavedKey::Sealed(seal_master(sek, &self.creds.master)),
            None => {
                tracing::warn!("the server keeps no session key (sek): the saved session holds the master key");
                SavedKey::Clear(self.creds.master.clone())
            }
        };
        SavedSession { sid: self.creds.sid.clone(), key, user: self.creds.user, email: self.creds.email.clone() }
    }

    /// Sends commands in one batch with this session; see [`Client::request`].
    pub async fn request(&self, commands: Vec<Value>) -> Result<Vec<Result<Value>>> {
        self.client.request_as(&self.auth(), &commands).await
    }

    /// Sends one command with this session.
    pub async fn command(&self, command: Value) -> Result<Value> {
        self.client.command(&self.auth(), command).await
    }

    /// The account (`ug`).
    pub async fn whoami(&self) -> Result<Account> {
        let r = self.command(json!({"a": "ug"})).await?;
        let user = r
            .get("u")
            .and_then(Value::as_str)
            .and_then(|u| UserHandle::from_b64(u).ok())
            .ok_or(Error::protocol("ug", "no user handle"))?;
        Ok(Account {
            user,
            email: r.get("email").and_then(Value::as_str).unwrap_or(&self.creds.email).to_string(),
            name: r.get("name").and_then(Value::as_str).map(str::to_string),
            since: r.get("since").and_then(Value::as_i64),
        })
    }

    /// Storage and transfer quota (`uq`).
    pub async fn quota(&self) -> Result<Quota> {
        let r = self.command(json!({"a": "uq", "strg": 1, "xfer": 1, "pro": 1})).await?;
        let n = |k: &str| r.get(k).and_then(Value::as_u64).unwrap_or(0);
        Ok(Quota {
            storage_used: n("cstrg"),
            storage_max: n("mstrg"),
            transfer_used: n("caxfer") + n("csxfer"),
            transfer_max: n("mxfer"),
            transfer_time_left: r.get("tl").and_then(Value::as_u64).filter(|&t| t > 0).map(Duration::from_secs),
            account_type: n("utype") as u32,
        })
    }

    /// Logs out (`sml`): the sid stops working everywhere.
    pub async fn logout(self) -> Result<()> {
        self.command(json!({"a": "sml"})).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_key_is_sealed_and_opened_with_the_sek() {
        let (sek, master) = (Key128::new([3; 16]), Key128::new([9; 16]));
        let sealed = seal_master(&sek, &master);
        assert_ne!(sealed, master);
        assert_eq!(open_master(&sek, &sealed), master);
        assert_ne!(open_master(&Key128::new([4; 16]), &sealed), master);
    }

    #[test]
    fn saved_session_round_trips_and_hides_secrets() {
        let master = Key128::new([9; 16]);
        let sealed = SavedSession {
            sid: Sid::new([7; 43]),
            key: SavedKey::Sealed(seal_master(&Key128::new([3; 16]), &master)),
            user: UserHandle([1; 8]),
            email: "a@example.com".into(),
        };
        let clear = SavedSession { key: SavedKey::Clear(master.clone()), ..sealed.clone() };
        for saved in [sealed, clear] {
            let json = serde_json::to_string(&saved).unwrap();
            let back: SavedSession = serde_json::from_str(&json).unwrap();
            assert_eq!(back, saved);
            assert_eq!(back.is_sealed(), matches!(saved.key, SavedKey::Sealed(_)));
        }
        let saved = SavedSession {
            sid: Sid::new([7; 43]),
            key: SavedKey::Clear(master),
            user: UserHandle([1; 8]),
            email: "a@example.com".into(),
        };
        let dbg = format!("{saved:?}");
        assert!(dbg.contains("a@example.com") && dbg.contains("redacted"));
        assert!(!dbg.contains(&Key128::new([9; 16]).to_b64()));
        assert!(SavedSession::from_secret_string("AAAA").is_err());
        let mut unknown = b64::decode_all(&saved.to_secret_string(), "t").unwrap();
        unknown[0] = 3;
        assert!(SavedSession::from_secret_string(&b64::encode(&unknown)).is_err(), "an unknown version");
        assert!(serde_json::from_str::<SavedSession>("\"junk!\"").is_err());
    }
}
