//! A download's temporary file, and putting it in place once verified.
//!
//! The temporary file is the job's own: `.NAME.JOBID.tuatara.part` beside the final name, so no
//! remote name collides with it and a restart finds it again. It is created exclusively and
//! never through a symbolic link; a resumed job takes up only a plain file of this user's with no
//! other name. Anything else in its place is reported and left alone.
//!
//! The verified file is renamed into place without replacing what is there (`renameat2` with
//! `RENAME_NOREPLACE`) unless the job may overwrite; a folder is never replaced.
//!
//! Journals of earlier versions kept a job's bytes in `NAME.part`. Such a job starts over in
//! its new temporary file and leaves any `NAME.part` where it is: that name cannot be told apart
//! from a user's file or another download's final name (which is how files were lost), so it is
//! never taken up.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;

use crate::engine::TransferError;
use crate::names;

/// How the temporary files of downloads end.
pub const PART_SUFFIX: &str = ".tuatara.part";

/// Where the bytes of job `job` downloading to `path` go until they are verified: beside it,
/// `.NAME.JOB.tuatara.part` (hidden, `NAME` cut so that the whole fits in 255 bytes). No
/// remote name takes it (the job id is random) and it is the same after a restart (the journal
/// keeps the job id).
pub fn part_path(path: &Path, job: &str) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let job: String = job.chars().filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')).take(64).collect();
    let room = names::MAX_NAME - (2 + job.len() + PART_SUFFIX.len());
    path.with_file_name(format!(".{}.{job}{PART_SUFFIX}", names::cut(&name, room)))
}

/// Something other than the job's own temporary file is at its path: a clear error, the thing
/// left as it is.
fn in_the_way(part: &Path, what: &str) -> TransferError {
    let why = format!(
        "{what} is where this download keeps its temporary file; it was left untouched \
         (remove it, then resume the transfer)"
    );
    TransferError::Local {
        path: part.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, why),
    }
}

/// The job's temporary file as a previous run left it, if it is there: opened without
/// following a symbolic link, and taken up only if it is a plain file of this user's with no
/// other name (a hard link would carry the download's bytes into someone else's file).
pub(super) fn open_left(part: &Path) -> Result<Option<File>, TransferError> {
    use std::os::unix::fs::MetadataExt;
    let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let file = match rustix::fs::open(part, flags, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => return Err(in_the_way(part, "a symbolic link")),
        Err(Errno::ISDIR) => return Err(in_the_way(part, "a folder")),
        Err(e) => return Err(TransferError::local(part)(e.into())),
    };
    let meta = file.metadata().map_err(TransferError::local(part))?;
    if !meta.is_file() {
        return Err(in_the_way(part, "something other than a file"));
    }
    if meta.nlink() != 1 || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(in_the_way(part, "a file this download did not make"));
    }
    Ok(Some(file))
}

/// Removes the temporary file of a cancelled job (only the job's own: see [`open_left`]).
pub(crate) fn remove_part(path: &Path, job: &str) {
    let part = part_path(path, job);
    if let Ok(Some(_)) = open_left(&part) {
        let _ = std::fs::remove_file(&part);
    }
}

/// A new temporary file: created exclusively (never an existing file, never through a link).
pub(super) fn create_part(part: &Path) -> Result<File, TransferError> {
    let flags = OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::open(part, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => Ok(File::from(fd)),
        Err(Errno::EXIST) => Err(in_the_way(part, "something made meanwhile")),
        Err(e) => Err(TransferError::local(part)(e.into())),
    }
}

/// Gives a verified temporary file its mtime, fsyncs it and renames it to its final name (see
/// [`place`]); returns where it went. If it cannot be put anywhere, the error says where the
/// verified file is kept.
pub(super) fn finish(
    file: &File,
    mtime: Option<i64>,
    part: &Path,
    path: &Path,
    overwrite: bool,
    claimed: &Mutex<HashSet<PathBuf>>,
) -> Result<PathBuf, TransferError> {
    if let Some(t) = mtime.and_then(|m| u64::try_from(m).ok()) {
        let _ = file.set_modified(std::time::UNIX_EPOCH + Duration::from_secs(t));
    }
    file.sync_all().map_err(TransferError::local(part))?;
    // The name still holds the verified file: someone who can write to the folder could have
    // swapped it while the download ran, and what they put there is never renamed into place.
    let same_file = |now: std::fs::Metadata| -> std::io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let ours = file.metadata()?;
        Ok((ours.dev(), ours.ino()) == (now.dev(), now.ino()))
    };
    if !std::fs::symlink_metadata(part).and_then(same_file).unwrap_or(false) {
        let why = format!("was replaced or removed while the download ran; nothing was put at {}", path.display());
        return Err(TransferError::Local { path: part.to_path_buf(), source: std::io::Error::other(why) });
    }
    let placed = place(file, part, path, overwrite, claimed).map_err(|e| {
        let why = format!("the verified file could not be put in place ({e}); it is kept as {}", part.display());
        TransferError::Local { path: path.to_path_buf(), source: std::io::Error::new(e.kind(), why) }
    })?;
    if let Some(dir) = placed.parent() {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(placed)
}

/// Renames the verified `part` to `path`. With `overwrite` a file there is replaced; otherwise
/// nothing at the final name is ever replaced: the same bytes there already count as done (a
/// restart after the rename), anything else (a file that appeared meanwhile, a folder of the
/// same name) sends the file to the next free `NAME (N).EXT`. A folder is never replaced.
fn place(
    file: &File,
    part: &Path,
    path: &Path,
    overwrite: bool,
    claimed: &Mutex<HashSet<PathBuf>>,
) -> std::io::Result<PathBuf> {
    if overwrite && !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        std::fs::rename(part, path)?;
        return Ok(path.to_path_buf());
    }
    let mut target = path.to_path_buf();
    for _ in 0..100 {
        match rename_noreplace(part, &target) {
            Ok(()) => return Ok(target),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if same_bytes(file, &target)? {
                    std::fs::remove_file(part)?;
                    return Ok(target);
                }
                let mut taken = claimed.lock().unwrap_or_else(|e| e.into_inner());
                target = names::unique_among(path, &taken);
                taken.insert(target.clone());
            }
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free name beside it"))
}

/// Renames `from` to `to` unless something is at `to` (`AlreadyExists` then). `renameat2`
/// with `RENAME_NOREPLACE` does it atomically; on a file system without it, a hard link (which
/// never replaces either) and an unlink; on one without hard links either (FAT), a check just
/// before a plain rename, the best such a file system allows.
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {}
        other => return other.map_err(Into::into),
    }
    match std::fs::hard_link(from, to) {
        Ok(()) => return std::fs::remove_file(from),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(e),
        Err(_) => {}
    }
    if std::fs::symlink_metadata(to).is_ok() {
        return Err(std::io::ErrorKind::AlreadyExists.into());
    }
    std::fs::rename(from, to)
}

/// Does the plain file at `path` hold exactly the bytes of `file`?
fn same_bytes(file: &File, path: &Path) -> std::io::Result<bool> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(false) };
    let len = file.metadata()?.len();
    if !meta.is_file() || meta.len() != len {
        return Ok(false);
    }
    let other = File::open(path)?;
    let (mut a, mut b) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    let mut at = 0;
    while at < len {
        let n = (len - at).min(a.len() as u64) as usize;
        file.read_exact_at(&mut a[..n], at)?;
        other.read_exact_at(&mut b[..n], at)?;
        if a[..n] != b[..n] {
            return Ok(false);
        }
        at += n as u64;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_hidden_per_job_and_fit() {
        let dir = Path::new("/downloads");
        let job = "1733390000000-AbCdEfGhIjKl";
        assert_eq!(
            part_path(&dir.join("x.part"), job),
            dir.join(format!(".x.part.{job}.tuatara.part")),
            "never the final name of a file called x.part.part"
        );
        let long = format!("a{}.txt", "é".repeat(125));
        let p = part_path(&dir.join(&long), job);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= 255 && name.starts_with(".aé") && name.ends_with(&format!(".{job}{PART_SUFFIX}")));
        assert_eq!(p.parent(), Some(dir));
        // A damaged journal's id stays one name inside the folder.
        let odd = part_path(&dir.join("f"), "../../x/y");
        assert_eq!(odd, dir.join(".f.xy.tuatara.part"));
        let huge = part_path(&dir.join(&long), &"z".repeat(300));
        assert!(huge.file_name().unwrap().len() <= 255);
    }
}
