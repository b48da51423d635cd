//! Test support shared by every crate's tests (feature `test-support`): a server with accounts
//! (v1 or v2, with or without two-factor), TOTP codes, deterministic content, temporary
//! directories and waits that end with a clear panic. Nothing here speaks the protocol as a
//! client: what needs `mega-api` (a logged-in session, its tree, syncing with events) lives in
//! the `test-support` crate, which re-exports this module.
//!
//! Every helper panics on failure, naming what failed: it is meant for tests.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Config, TestServer, Version};

/// The e-mail address of the default test account.
pub const EMAIL: &str = "alice@example.com";
/// The password of the default test account.
pub const PASSWORD: &str = "correct horse";
/// A base32 TOTP secret for two-factor accounts.
pub const MFA_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// A server to start: its [`Config`] and the accounts to create on it.
#[derive(Debug, Default)]
#[must_use = "a server is started by `start`"]
pub struct Server {
    config: Config,
    accounts: Vec<Account>,
    official_apps: bool,
}

/// An account of a [`Server`].
#[derive(Debug)]
struct Account {
    email: String,
    password: String,
    version: Version,
    mfa: Option<String>,
}

/// A server with the default [`Config`] and no accounts yet.
pub fn server() -> Server {
    Server::default()
}

/// Starts a server with one v2 account, [`EMAIL`] / [`PASSWORD`].
pub async fn server_with_account() -> TestServer {
    server().account(EMAIL, PASSWORD, Version::V2).start().await
}

impl Server {
    /// Starts it with this configuration (a data directory, an address).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Makes the shares and folder links the server seeds as today's official apps make them
    /// (see [`TestServer::set_official_apps`]): "an account used from the official apps".
    pub fn official_apps(mut self) -> Self {
        self.official_apps = true;
        self
    }

    /// Creates this account when started.
    pub fn account(mut self, email: &str, password: &str, version: Version) -> Self {
        self.accounts.push(Account { email: email.into(), password: password.into(), version, mfa: None });
        self
    }

    /// Two-factor login (TOTP with this base32 secret) for the account added last.
    pub fn mfa(mut self, base32_secret: &str) -> Self {
        let last = self.accounts.last_mut().expect("`mfa` follows the `account` it is for");
        last.mfa = Some(base32_secret.into());
        self
    }

    /// Starts the server and creates the accounts.
    pub async fn start(self) -> TestServer {
        let server = TestServer::start_with(self.config).await.expect("the test server starts");
        server.set_official_apps(self.official_apps);
        for a in self.accounts {
            server
                .add_user(&a.email, &a.password, a.version)
                .unwrap_or_else(|e| panic!("adding the account {}: {e}", a.email));
            if let Some(secret) = &a.mfa {
                server.set_mfa(&a.email, secret).unwrap_or_else(|e| panic!("2FA for {}: {e}", a.email));
            }
        }
        server
    }
}

/// The TOTP code (SHA-1, 6 digits, 30 s) of a base32 secret at a Unix time, in seconds.
pub fn totp_at(base32_secret: &str, unix_secs: u64) -> String {
    let key = totp_rs::Secret::Encoded(base32_secret.into()).to_bytes().expect("a base32 secret");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, key).generate(unix_secs)
}

/// The current TOTP code of a base32 secret.
pub fn totp(base32_secret: &str) -> String {
    totp_at(base32_secret, now())
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("a clock after 1970").as_secs()
}

/// `len` deterministic bytes that are not all alike; a different `seed` gives different bytes.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| ((i as u64).wrapping_mul(2_654_435_761) >> 13) as u8 ^ seed).collect()
}

/// A fresh temporary directory, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// Every file below `dir` as (relative path, bytes), sorted by path.
pub fn files_below(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {}: {e}", d.display())) {
            let p = e.expect("a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("below dir").to_string_lossy().into_owned();
                let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
                out.push((rel, bytes));
            }
        }
    }
    out.sort();
    out
}

/// Polls `f` every 100 ms until it gives a value; panics "timed out waiting for {what}" after
/// `secs` seconds. Blocks the thread (for tests that are not async).
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Awaits `f` every 100 ms until it holds; panics "timed out waiting for {what}" once `within`
/// has passed.
pub async fn until<F: Future<Output = bool>>(what: &str, within: Duration, f: impl FnMut() -> F) {
    until_every(what, within, Duration::from_millis(100), f).await;
}

/// [`until`], polling every `every`.
pub async fn until_every<F: Future<Output = bool>>(
    what: &str,
    within: Duration,
    every: Duration,
    mut f: impl FnMut() -> F,
) {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(every).await;
    }
}
