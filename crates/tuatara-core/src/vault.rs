//! The saved session, for the CLI and the app alike: in the OS keyring (Secret Service;
//! service `tuatara`, account `<email> @ <api url>`), or, where the face allows it and no
//! keyring can be reached, in a file of mode 0600 in the config dir (a warning says so). Beside
//! it, no secrets: which e-mail is logged in at which API URL (`accounts.json`), and what the
//! app restores at its next start (`app.json`).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use mega_api::{Client, SavedSession, Session};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dirs::Dirs;
use crate::error::{Error, Result};
use crate::files::{read_json, remove_if_exists, write_atomic, write_json};

/// The keyring service name.
pub const SERVICE: &str = "tuatara";

/// Where a saved session went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The OS keyring.
    Keyring,
    /// A 0600 file in the config dir.
    File,
}

impl Backend {
    /// `keyring` or `file`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Keyring => "keyring",
            Backend::File => "file",
        }
    }
}

/// What to do with a session when no keyring can be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoKeyring {
    /// Keep it in a file only the user can read (a headless server, where the CLI runs).
    UseFile,
    /// Keep nothing (the desktop app: the next start asks for the password).
    KeepNothing,
}

/// What the app reopens at its next start.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Last {
    /// The API URL of the account to restore.
    pub api_url: Option<String>,
    /// The demo drive (with `api_url`: the demo account was remembered; without: reopen the
    /// demo, which needs no secret).
    #[serde(default)]
    pub demo: bool,
}

/// The keyring account of a login: `<email> @ <api url>`.
pub fn account_name(email: &str, api_url: &str) -> String {
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

/// The keyring is not there (as opposed to refusing).
fn unreachable(e: &keyring::Error) -> bool {
    matches!(e, keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_))
}

/// Saved sessions and the account list of a user's directories.
#[derive(Debug, Clone)]
pub struct Vault {
    dirs: Dirs,
}

impl Vault {
    /// The vault of these directories.
    pub fn new(dirs: Dirs) -> Self {
        Vault { dirs }
    }

    fn session_path(&self, account: &str) -> PathBuf {
        self.dirs.sessions().join(file_name(account))
    }

    fn accounts(&self) -> Result<BTreeMap<String, String>> {
        Ok(read_json(&self.dirs.accounts())?.unwrap_or_default())
    }

    fn set_current(&self, api_url: &str, email: Option<&str>) -> Result<()> {
        let mut all = self.accounts()?;
        match email {
            Some(e) => all.insert(api_url.to_string(), e.to_string()),
            None => all.remove(api_url),
        };
        write_json(&self.dirs.accounts(), &all)
    }

    /// The e-mail logged in at an API URL.
    pub fn current(&self, api_url: &str) -> Result<Option<String>> {
        Ok(self.accounts()?.remove(api_url))
    }

    /// Stores a session for an API URL and makes it the current one there. Returns where it
    /// went; `None` when no keyring could be reached and `no_keyring` keeps nothing.
    pub fn save(&self, api_url: &str, saved: &SavedSession, no_keyring: NoKeyring) -> Result<Option<Backend>> {
        let account = account_name(saved.email(), api_url);
        let secret = saved.to_secret_string();
        // The crate names the item by `service` and `username`; an `account` attribute as well
        // lets `secret-tool lookup service tuatara account ACCOUNT` find it.
        let stored = keyring::Entry::new(SERVICE, &account).and_then(|e| {
            e.set_password(&secret)?;
            e.update_attributes(&HashMap::from([("account", account.as_str())]))
        });
        let backend = match stored {
            Ok(()) => {
                // A file left from a headless login must not outlive the keyring copy.
                let file = self.session_path(&account);
                remove_if_exists(&file).map_err(|e| Error::io(&file, e))?;
                Backend::Keyring
            }
            Err(e) if unreachable(&e) && no_keyring == NoKeyring::UseFile => {
                let file = self.session_path(&account);
                write_atomic(&file, secret.as_bytes()).map_err(|e| Error::io(&file, e))?;
                // The face says so to the user (it knows how: a warning line, a dialog).
                tracing::info!("no Secret Service (OS keyring) is reachable: the session was stored in a 0600 file");
                Backend::File
            }
            Err(e) if unreachable(&e) => {
                tracing::warn!("the session was not kept: the keyring is not available ({e})");
                return Ok(None);
            }
            Err(e) => return Err(Error::Keyring(format!("refused the session: {e}"))),
        };
        self.set_current(api_url, Some(saved.email()))?;
        Ok(Some(backend))
    }

    /// The stored session of the current account at an API URL: from the keyring, or, where
    /// the face keeps sessions in files (`NoKeyring::UseFile`), from its file.
    pub fn load(&self, api_url: &str, no_keyring: NoKeyring) -> Result<(SavedSession, Backend)> {
        let not_logged_in =
            |why: Option<&str>| Error::NotLoggedIn { api_url: api_url.to_string(), why: why.map(Into::into) };
        let email = self.current(api_url)?.ok_or_else(|| not_logged_in(None))?;
        let account = account_name(&email, api_url);
        let (secret, backend) = match keyring::Entry::new(SERVICE, &account).and_then(|e| e.get_password()) {
            Ok(s) => (Zeroizing::new(s), Backend::Keyring),
            Err(e)
                if no_keyring == NoKeyring::KeepNothing
                    && (unreachable(&e) || matches!(e, keyring::Error::NoEntry)) =>
            {
                return Err(not_logged_in(Some(&format!("nothing in the keyring: {e}"))));
            }
            Err(e) if unreachable(&e) || matches!(e, keyring::Error::NoEntry) => {
                let file = self.session_path(&account);
                match std::fs::read_to_string(&file) {
                    Ok(s) => (Zeroizing::new(s), Backend::File),
                    Err(io) if io.kind() == std::io::ErrorKind::NotFound => return Err(not_logged_in(None)),
                    Err(io) => return Err(Error::io(&file, io)),
                }
            }
            Err(e) => return Err(Error::Keyring(format!("could not be read: {e}"))),
        };
        let saved = SavedSession::from_secret_string(&secret)
            .map_err(|_| not_logged_in(Some("the stored session is damaged")))?;
        Ok((saved, backend))
    }

    /// Resumes the stored session of the current account at the client's API URL (read as
    /// [`Vault::load`] does). A session saved before the master key was sealed with the
    /// server's key is stored again, sealed, where it was (a failure to do so is only a
    /// warning: it keeps working).
    pub async fn resume(&self, client: &Client, no_keyring: NoKeyring) -> Result<Session> {
        let api_url = client.api_url();
        let (saved, backend) = self.load(api_url, no_keyring)?;
        let session = client.resume(&saved).await?;
        if !saved.is_sealed() {
            let sealed = session.save();
            if sealed.is_sealed() {
                let keep = if backend == Backend::File { NoKeyring::UseFile } else { NoKeyring::KeepNothing };
                if let Err(e) = self.save(api_url, &sealed, keep) {
                    tracing::warn!("the stored session could not be upgraded (it keeps working): {e}");
                }
            }
        }
        Ok(session)
    }

    /// Forgets the session of `email` at an API URL: its keyring entry, its session file, its
    /// node cache, and the account list's entry if it still names that e-mail.
    pub fn forget_account(&self, api_url: &str, email: &str) -> Result<()> {
        let account = account_name(email, api_url);
        match keyring::Entry::new(SERVICE, &account).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) if unreachable(&e) => {}
            Err(e) => return Err(Error::Keyring(format!("entry could not be removed: {e}"))),
        }
        let file = self.session_path(&account);
        remove_if_exists(&file).map_err(|e| Error::io(&file, e))?;
        crate::cache::remove(&self.dirs, api_url, email)?;
        if self.current(api_url)?.is_some_and(|e| e.eq_ignore_ascii_case(email)) {
            self.set_current(api_url, None)?;
        }
        Ok(())
    }

    /// Forgets the current account at an API URL; returns its e-mail.
    pub fn forget(&self, api_url: &str) -> Result<Option<String>> {
        let Some(email) = self.current(api_url)? else { return Ok(None) };
        self.forget_account(api_url, &email)?;
        Ok(Some(email))
    }

    /// What the app reopens at its next start (nothing, when the file is missing or damaged).
    pub fn last(&self) -> Last {
        read_json(&self.dirs.app_last()).ok().flatten().unwrap_or_default()
    }

    /// Sets what the app reopens at its next start.
    pub fn set_last(&self, last: &Last) -> Result<()> {
        write_json(&self.dirs.app_last(), last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_and_files() {
        assert_eq!(account_name("a@b.c", "http://127.0.0.1:5/"), "a@b.c @ http://127.0.0.1:5/");
        assert_eq!(file_name("a@b.c @ http://127.0.0.1:5/"), "a@b.c_@_http___127.0.0.1_5_.session");
    }

    /// The app keeps no session in files and never reads one (a CLI's headless login leaves
    /// one); the CLI does.
    #[test]
    fn session_files_are_read_only_where_the_face_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(Dirs::new(dir.path().join("c"), dir.path().join("d")));
        let api = "http://127.0.0.1:1/files-test/";
        let email = format!("nobody-{}@example.com", std::process::id());
        vault.set_current(api, Some(&email)).unwrap();
        write_atomic(&vault.session_path(&account_name(&email, api)), b"not a session").unwrap();
        let why = |e: Error| match e {
            Error::NotLoggedIn { why, .. } => why.unwrap_or_default(),
            other => panic!("{other}"),
        };
        assert!(why(vault.load(api, NoKeyring::UseFile).unwrap_err()).contains("damaged"), "the file was read");
        let app = why(vault.load(api, NoKeyring::KeepNothing).unwrap_err());
        assert!(!app.contains("damaged"), "the file was not read: {app}");
    }

    #[test]
    fn a_damaged_account_list_is_named_and_last_falls_back_to_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::new(Dirs::new(dir.path().join("c"), dir.path().join("d")));
        assert_eq!(vault.current("http://x/").unwrap(), None);
        assert_eq!(vault.last(), Last::default());
        std::fs::create_dir_all(dir.path().join("c")).unwrap();
        std::fs::write(dir.path().join("c/accounts.json"), b"{").unwrap();
        std::fs::write(dir.path().join("c/app.json"), b"[").unwrap();
        let e = vault.current("http://x/").unwrap_err();
        assert!(e.to_string().contains("accounts.json"), "{e}");
        assert_eq!(vault.last(), Last::default());
        vault.set_last(&Last { api_url: None, demo: true }).unwrap();
        assert_eq!(vault.last(), Last { api_url: None, demo: true });
    }
}
