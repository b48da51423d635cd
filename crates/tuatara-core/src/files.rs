//! Small files written whole ([`mega_transfer::write_atomic`], the one implementation: a
//! temporary file in the same directory from `tempfile`, mode 0600 from its creation, synced,
//! then renamed over the old one), so a crash leaves the old file or the new one, never half of
//! either; here with their directory created, and as JSON.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// Writes `body` to `path` atomically, creating the directory. The file is readable by its
/// owner only (it may hold a secret, and nothing here is meant for other users).
pub fn write_atomic(path: &Path, body: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    mega_transfer::write_atomic(path, body)
}

/// Writes a value as pretty JSON, atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<()> {
    let body = serde_json::to_vec_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    write_atomic(path, &body).map_err(|e| Error::io(path, e))
}

/// Reads a JSON file: `None` when there is none; a file that does not parse is
/// [`Error::Damaged`] (left in place for the user to look at).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match std::fs::read(path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| Error::Damaged { path: path.to_path_buf(), what: e.to_string() }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Removes a file; one that is not there is fine.
pub fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn files_are_private_and_replace_the_old_one_whole() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/s.session");
        write_atomic(&p, b"old and longer").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"secret").unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"secret");
        // Nothing is left beside it.
        assert_eq!(std::fs::read_dir(p.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn damaged_json_is_named_and_missing_json_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.json");
        assert!(read_json::<Vec<u32>>(&p).unwrap().is_none());
        std::fs::write(&p, b"{nope").unwrap();
        let e = read_json::<Vec<u32>>(&p).unwrap_err();
        assert!(matches!(e, Error::Damaged { .. }) && e.to_string().contains("x.json"), "{e}");
        write_json(&p, &[1u32, 2]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&p).unwrap(), Some(vec![1, 2]));
    }
}
