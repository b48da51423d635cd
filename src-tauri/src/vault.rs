//! The saved session: in the OS keyring only (Secret Service; service `tuatara`, account
//! `<email> @ <api url>`, the scheme of `tuatara-cli`), plus, in the config dir, which account
//! to restore (`accounts.json`, the CLI's map from API URL to e-mail, and `app.json`, the API
//! URL the app used last). Nothing secret is written to a file: without a keyring, "keep me
//! signed in" does not keep anything and the account says `remembered: false`.

use std::collections::BTreeMap;

use mega_api::SavedSession;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dirs::{write_atomic, Dirs};

/// The keyring service name (shared with the CLI).
pub const SERVICE: &str = "tuatara";

/// The keyring account of a login.
pub fn account_name(email: &str, api_url: &str) -> String {
    format!("{email} @ {api_url}")
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Last {
    api_url: Option<String>,
    #[serde(default)]
    demo: bool,
}

/// Which account to restore and the keyring behind it.
#[derive(Debug, Clone)]
pub struct Vault {
    dirs: Dirs,
}

impl Vault {
    /// The vault of these directories.
    pub fn new(dirs: Dirs) -> Self {
        Vault { dirs }
    }

    fn accounts(&self) -> BTreeMap<String, String> {
        std::fs::read(self.dirs.config.join("accounts.json"))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn write_json<T: Serialize>(&self, name: &str, v: &T) -> std::io::Result<()> {
        let body = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
        write_atomic(&self.dirs.config.join(name), &body)
    }

    /// Stores a session in the keyring and makes it the one to restore. `Ok(false)`: no
    /// keyring could be reached (nothing stored).
    pub fn save(&self, api_url: &str, demo: bool, saved: &SavedSession) -> std::io::Result<bool> {
        let account = account_name(saved.email(), api_url);
        let secret = saved.to_secret_string();
        let stored = keyring::Entry::new(SERVICE, &account).and_then(|e| {
            e.set_password(&secret)?;
            e.update_attributes(&std::collections::HashMap::from([("account", account.as_str())]))
        });
        match stored {
            Ok(()) => {}
            Err(e) => {
                log::warn!("the session was not kept: the keyring is not available ({e})");
                return Ok(false);
            }
        }
        let mut all = self.accounts();
        all.insert(api_url.to_string(), saved.email().to_string());
        self.write_json("accounts.json", &all)?;
        self.write_json("app.json", &Last { api_url: Some(api_url.to_string()), demo })?;
        Ok(true)
    }

    /// The session to restore: API URL, whether it is the demo, and the session.
    pub fn load(&self) -> Option<(String, bool, SavedSession)> {
        let last: Last =
            std::fs::read(self.dirs.config.join("app.json")).ok().and_then(|b| serde_json::from_slice(&b).ok())?;
        let api_url = last.api_url?;
        let email = self.accounts().remove(&api_url)?;
        let secret = keyring::Entry::new(SERVICE, &account_name(&email, &api_url))
            .and_then(|e| e.get_password())
            .map(Zeroizing::new)
            .map_err(|e| log::info!("no saved session to restore ({e})"))
            .ok()?;
        let saved = SavedSession::from_secret_string(&secret).ok()?;
        Some((api_url, last.demo, saved))
    }

    /// Nothing to restore at the next start (the keyring is left alone: its entry for this
    /// account may be the CLI's).
    pub fn clear_last(&self) -> std::io::Result<()> {
        self.write_json("app.json", &Last::default())
    }

    /// Notes that the demo drive is the one to reopen at the next start (it needs no secret:
    /// the embedded server and its well-known demo account come back by themselves).
    pub fn remember_demo(&self) -> std::io::Result<()> {
        self.write_json("app.json", &Last { api_url: None, demo: true })
    }

    /// The demo drive was open when the app last closed.
    pub fn last_was_demo(&self) -> bool {
        std::fs::read(self.dirs.config.join("app.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Last>(&b).ok())
            .is_some_and(|l| l.demo && l.api_url.is_none())
    }

    /// Forgets the session of an account at an API URL (keyring entry and account list).
    pub fn forget(&self, api_url: &str, email: &str) -> std::io::Result<()> {
        match keyring::Entry::new(SERVICE, &account_name(email, api_url)).and_then(|e| e.delete_credential()) {
            Ok(()) | Err(keyring::Error::NoEntry) => {}
            Err(e) => log::warn!("the keyring entry could not be removed: {e}"),
        }
        let mut all = self.accounts();
        if all.get(api_url).is_some_and(|e| e.eq_ignore_ascii_case(email)) {
            all.remove(api_url);
            self.write_json("accounts.json", &all)?;
        }
        self.write_json("app.json", &Last::default())
    }
}
