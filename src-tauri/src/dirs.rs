//! Where the app keeps things: the config dir (settings, which account to restore; never a
//! secret) and the data dir (the transfer journal, watches, the demo server's drive, the
//! thumbnail cache). The same directories as `tuatara-cli` (`directories`, "tuatara"), so both
//! share one login per API URL; `TUATARA_CONFIG_DIR` / `TUATARA_DATA_DIR` override them, which
//! keeps tests and screenshots away from the user's own.

use std::path::{Path, PathBuf};

use crate::error::{IpcError, IpcResult};

/// The app's directories.
#[derive(Debug, Clone)]
pub struct Dirs {
    /// Settings and the current account.
    pub config: PathBuf,
    /// Journal, watches, demo drive, caches.
    pub data: PathBuf,
}

impl Dirs {
    /// The user's directories, or those the environment names.
    pub fn from_env() -> IpcResult<Self> {
        let project = directories::ProjectDirs::from("", "", "tuatara");
        let pick = |var: &str, default: Option<&Path>| -> IpcResult<PathBuf> {
            match std::env::var_os(var) {
                Some(v) if !v.is_empty() => Ok(PathBuf::from(v)),
                _ => default
                    .map(Path::to_path_buf)
                    .ok_or_else(|| IpcError::internal("no home directory to keep the configuration in")),
            }
        };
        Ok(Dirs {
            config: pick("TUATARA_CONFIG_DIR", project.as_ref().map(|p| p.config_dir()))?,
            data: pick("TUATARA_DATA_DIR", project.as_ref().map(|p| p.data_dir()))?,
        })
    }

    /// The transfer journal.
    pub fn journal(&self) -> PathBuf {
        self.data.join("transfers")
    }

    /// The watch store.
    pub fn watches(&self) -> PathBuf {
        self.data.join("watches")
    }

    /// The embedded demo server's drive.
    pub fn demo(&self) -> PathBuf {
        self.data.join("demo")
    }

    /// Cached thumbnails (plain JPEG, as shown).
    pub fn thumbnails(&self) -> PathBuf {
        self.data.join("thumbnails")
    }
}

/// Writes a file through a temporary beside it and a rename.
pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(body)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
