//! Where Tuatara keeps things, for the CLI and the app alike (`directories`, "tuatara"), so both
//! share one login per API URL, one journal, one watch store and one links ledger:
//!
//! - config: the account list (`accounts.json`, no secrets), the app's settings and what it
//!   restores, session files where no keyring can be reached (`sessions/`, 0600);
//! - data: the transfer journal, watches, the links ledger, the demo drive, caches.
//!
//! For the app, `TUATARA_CONFIG_DIR` / `TUATARA_DATA_DIR` override them ([`Dirs::from_env`]),
//! which keeps its tests and screenshots away from the user's own.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The two directories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    /// Settings, the account list, fallback session files.
    pub config: PathBuf,
    /// Journal, watches, ledger, demo drive, caches.
    pub data: PathBuf,
}

impl Dirs {
    /// These two directories.
    pub fn new(config: impl Into<PathBuf>, data: impl Into<PathBuf>) -> Self {
        Dirs { config: config.into(), data: data.into() }
    }

    /// The user's directories (XDG_CONFIG_HOME / XDG_DATA_HOME honoured): the CLI's.
    pub fn of_user() -> Result<Self> {
        let project = directories::ProjectDirs::from("", "", "tuatara")
            .ok_or_else(|| Error::Internal("no home directory to keep the configuration in".into()))?;
        Ok(Dirs { config: project.config_dir().to_path_buf(), data: project.data_dir().to_path_buf() })
    }

    /// The user's directories, or those that `TUATARA_CONFIG_DIR` / `TUATARA_DATA_DIR` name: the
    /// app's (its tests and screenshots run on directories of their own, while a CLI run beside
    /// them keeps to XDG's).
    pub fn from_env() -> Result<Self> {
        let project = directories::ProjectDirs::from("", "", "tuatara");
        let pick = |var: &str, default: Option<&Path>| -> Result<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => default
                    .map(Path::to_path_buf)
                    .ok_or_else(|| Error::Internal("no home directory to keep the configuration in".into())),
            }
        };
        Ok(Dirs {
            config: pick("TUATARA_CONFIG_DIR", project.as_ref().map(|p| p.config_dir()))?,
            data: pick("TUATARA_DATA_DIR", project.as_ref().map(|p| p.data_dir()))?,
        })
    }

    /// The transfer journal (unfinished jobs, continued at the next start).
    pub fn journal(&self) -> PathBuf {
        self.data.join("transfers")
    }

    /// The watch store, shared with any other process that runs watches for this user.
    pub fn watches(&self) -> PathBuf {
        self.data.join("watches")
    }

    /// The watches of links files (`links get --watch`, the app's links-file watches).
    pub fn links_watches(&self) -> PathBuf {
        self.data.join("links-watch")
    }

    /// The links ledger: which links are done and which failed.
    pub fn ledger(&self) -> PathBuf {
        self.data.join("links-ledger.json")
    }

    /// The embedded demo server's drive.
    pub fn demo(&self) -> PathBuf {
        self.data.join("demo")
    }

    /// Cached thumbnails (plain JPEG, by file attribute handle).
    pub fn thumbnails(&self) -> PathBuf {
        self.data.join("thumbnails")
    }

    /// The app's settings.
    pub fn settings(&self) -> PathBuf {
        self.config.join("settings.json")
    }

    /// Which e-mail is logged in at which API URL (no secrets).
    pub fn accounts(&self) -> PathBuf {
        self.config.join("accounts.json")
    }

    /// The app's choice of what to restore at its next start (no secrets).
    pub fn app_last(&self) -> PathBuf {
        self.config.join("app.json")
    }

    /// Session files, where no keyring can be reached.
    pub fn sessions(&self) -> PathBuf {
        self.config.join("sessions")
    }
}
