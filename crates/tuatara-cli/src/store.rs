//! Where the CLI keeps things: which account is logged in at which API URL (a small JSON
//! file in the config dir, no secrets), and the saved session itself: in the OS keyring
//! (Secret Service; service `tuatara`, account `<email> @ <api url>`), or, when no Secret
//! Service can be reached, in a file of mode 0600 in the config dir, with a warning.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use directories::ProjectDirs;
use mega_api::SavedSession;
use zeroize::Zeroizing;

use crate::error::{Failure, Result};

/// The keyring service name.
pub(crate) const SERVICE: &str = "tuatara";

/// Where the saved session went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// The OS keyring.
    Keyring,
    /// A 0600 file in the config dir.
    File,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        }
    }
}

/// The CLI's directories (config: account list and fallback session files; data: the
/// transfer engine's journal and the ledger of `links get`).
#[derive(Debug, Clone)]
pub(crate) struct Store {
    config: PathBuf,
    data: PathBuf,
}

/// The keyring account of a login: `<email> @ <api url>`.
pub(crate) fn account_name(email: &str, api_url: &str) -> String {
    format!("{email} @ {api_url}")
}

/// A file name for an account: characters other than `[A-Za-z0-9.@-]` become `_`.
fn file_name(account: &str) -> String {
    let safe: String = account
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-') { c } else { '_' })
        .collect();
    format!("{safe}.session")
}

fn keyring_failure(e: &keyring::Error) -> bool {
    matches!(e, keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_))
}

impl Store {
    /// The directories of the current user (XDG_CONFIG_HOME / XDG_DATA_HOME honoured).
    pub(crate) fn open() -> Result<Self> {
        let dirs = ProjectDirs::from("", "", "tuatara")
            .ok_or_else(|| Failure::Other("no home directory to keep the configuration in".into()))?;
        Ok(Store { config: dirs.config_dir().to_path_buf(), data: dirs.data_dir().to_path_buf() })
    }

    /// The transfer journal (unfinished jobs, continued by `resume` or the same command again).
    pub(crate) fn transfers_dir(&self) -> PathBuf {
        self.data.join("transfers")
    }

    /// The same directories for the application core (the watch stores live there).
    pub(crate) fn dirs(&self) -> tuatara_core::Dirs {
        tuatara_core::Dirs::new(&self.config, &self.data)
    }

    /// The ledger of `links get`: which links are done and which failed.
    pub(crate) fn ledger_path(&self) -> PathBuf {
        self.data.join("links-ledger.json")
    }

    fn accounts_path(&self) -> PathBuf {
        self.config.join("accounts.json")
    }

    fn session_path(&self, account: &str) -> PathBuf {
        self.config.join("sessions").join(file_name(account))
    }

    /// The e-mail logged in at an API URL.
    pub(crate) fn current(&self, api_url: &str) -> Result<Option<String>> {
        Ok(self.accounts()?.remove(api_url))
    }

    fn accounts(&self) -> Result<BTreeMap<String, String>> {
        match std::fs::read(self.accounts_path()) {
            Ok(b) => serde_json::from_slice(&b).map_err(|_| {
                Failure::Other(format!("{} is damaged: remove it and log in again", self.accounts_path().display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(e.into()),
        }
    }

    fn set_current(&self, api_url: &str, email: Option<&str>) -> Result<()> {
        let mut all = self.accounts()?;
        match email {
            Some(e) => all.insert(api_url.to_string(), e.to_string()),
            None => all.remove(api_url),
        };
        std::fs::create_dir_all(&self.config)?;
        let body = serde_json::to_vec_pretty(&all).map_err(|e| Failure::Other(e.to_string()))?;
        write_atomic(&self.accounts_path(), &body, None)
    }

    /// Stores a session for an API URL and makes it the current one. Returns where it went.
    pub(crate) fn save(&self, api_url: &str, saved: &SavedSession) -> Result<Backend> {
        let account = account_name(saved.email(), api_url);
        let secret = saved.to_secret_string();
        // The crate names the item by `service` and `username`; an `account` attribute as well
        // lets `secret-tool lookup service tuatara account ACCOUNT` find it.
        let stored = keyring::Entry::new(SERVICE, &account).and_then(|e| {
            e.set_password(&secret)?;
            e.update_attributes(&std::collections::HashMap::from([("account", account.as_str())]))
        });
        let backend = match stored {
            Ok(()) => {
                // A file left from a headless login must not outlive the keyring copy.
                remove_if_exists(&self.session_path(&account))?;
                Backend::Keyring
            }
            Err(e) if keyring_failure(&e) => {
                let dir = self.config.join("sessions");
                std::fs::create_dir_all(&dir)?;
                write_atomic(&self.session_path(&account), secret.as_bytes(), Some(0o600))?;
                Backend::File
            }
            Err(e) => return Err(Failure::Other(format!("the keyring refused the session: {e}"))),
        };
        self.set_current(api_url, Some(saved.email()))?;
        Ok(backend)
    }

    /// The stored session of the current account at an API URL.
    pub(crate) fn load(&self, api_url: &str) -> Result<(SavedSession, Backend)> {
        let not_logged_in = || Failure::NotLoggedIn(format!("not logged in at {api_url}: run `tuatara-cli login`"));
        let email = self.current(api_url)?.ok_or_else(not_logged_in)?;
        let account = account_name(&email, api_url);
        let from_keyring = keyring::Entry::new(SERVICE, &account).and_then(|e| e.get_password());
        let (secret, backend) = match from_keyring {
            Ok(s) => (Zeroizing::new(s), Backend::Keyring),
            Err(e) if keyring_failure(&e) || matches!(e, keyring::Error::NoEntry) => {
                match std::fs::read_to_string(self.session_path(&account)) {
                    Ok(s) => (Zeroizing::new(s), Backend::File),
                    Err(io) if io.kind() == std::io::ErrorKind::NotFound => return Err(not_logged_in()),
                    Err(io) => return Err(io.into()),
                }
            }
            Err(e) => return Err(Failure::Other(format!("the keyring could not be read: {e}"))),
        };
        let saved = SavedSession::from_secret_string(&secret)
            .map_err(|_| Failure::NotLoggedIn("the stored session is damaged: run `tuatara-cli login`".into()))?;
        Ok((saved, backend))
    }

    /// Forgets the current account at an API URL: keyring entry, session file, account list.
    pub(crate) fn forget(&self, api_url: &str) -> Result<Option<String>> {
        let Some(email) = self.current(api_url)? else { return Ok(None) };
        let account = account_name(&email, api_url);
        match keyring::Entry::new(SERVICE, &account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) if keyring_failure(&e) => {}
            Err(e) => return Err(Failure::Other(format!("the keyring entry could not be removed: {e}"))),
        }
        remove_if_exists(&self.session_path(&account))?;
        self.set_current(api_url, None)?;
        Ok(Some(email))
    }
}

fn remove_if_exists(p: &Path) -> Result<()> {
    match std::fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes a file through a temporary beside it and a rename; `mode` is set before any byte is
/// written.
pub(crate) fn write_atomic(path: &Path, body: &[u8], mode: Option<u32>) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if let Some(m) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(m);
    }
    #[cfg(not(unix))]
    let _ = mode;
    remove_if_exists(&tmp)?;
    let mut f = opts.open(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_and_files() {
        assert_eq!(account_name("a@b.c", "http://127.0.0.1:5/"), "a@b.c @ http://127.0.0.1:5/");
        assert_eq!(file_name("a@b.c @ http://127.0.0.1:5/"), "a@b.c_@_http___127.0.0.1_5_.session");
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.session");
        // Even over an existing world-readable temporary, the mode is 0600.
        std::fs::write(p.with_extension("tmp"), b"old").unwrap();
        std::fs::set_permissions(p.with_extension("tmp"), std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"secret", Some(0o600)).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"secret");
    }
}
