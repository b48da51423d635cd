//! The settings file (`settings.json` in the config dir): validated before anything is
//! written, so a bad value is refused with a clear error and the old settings stay. The speed
//! limits in force are the base limits, or those of the schedule window the local time is in.

use std::path::PathBuf;

use crate::dirs::{write_atomic, Dirs};
use crate::dto::{Settings, SpeedWindow};
use crate::error::{IpcError, IpcResult};

impl Settings {
    /// The defaults: the user's Downloads folder, 8 connections, 4 files, no limits.
    pub fn defaults() -> Self {
        let download_dir = directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(PathBuf::from))
            .or_else(|| directories::BaseDirs::new().map(|b| b.home_dir().join("Downloads")))
            .unwrap_or_else(|| PathBuf::from("Downloads"));
        Settings {
            download_dir: download_dir.to_string_lossy().into_owned(),
            connections: 8,
            max_files_at_once: 4,
            download_limit: None,
            upload_limit: None,
            schedule: Vec::new(),
            use_https: false,
            notifications: true,
            watch_clipboard: false,
        }
    }

    /// Checks every field; the first problem is the error.
    pub fn validate(&self) -> IpcResult<()> {
        if self.download_dir.trim().is_empty() {
            return Err(IpcError::invalid("the download folder is empty"));
        }
        if !(1..=32).contains(&self.connections) {
            return Err(IpcError::invalid("connections per file must be between 1 and 32"));
        }
        if !(1..=32).contains(&self.max_files_at_once) {
            return Err(IpcError::invalid("files at once must be between 1 and 32"));
        }
        if self.download_limit == Some(0) || self.upload_limit == Some(0) {
            return Err(IpcError::invalid("a speed limit of 0 would stop transfers: pause them instead"));
        }
        for w in &self.schedule {
            minutes(&w.from)?;
            minutes(&w.to)?;
        }
        Ok(())
    }

    /// The limits (download, upload) in force at `minute` of the day (local time).
    pub fn limits_at(&self, minute: u32) -> (Option<u64>, Option<u64>) {
        self.schedule
            .iter()
            .find(|w| window_contains(w, minute))
            .map_or((self.download_limit, self.upload_limit), |w| (w.download_limit, w.upload_limit))
    }

    /// The limits in force now.
    pub fn limits_now(&self) -> (Option<u64>, Option<u64>) {
        use chrono::Timelike;
        let now = chrono::Local::now();
        self.limits_at(now.hour() * 60 + now.minute())
    }
}

/// `HH:MM` as minutes of the day.
fn minutes(hhmm: &str) -> IpcResult<u32> {
    let bad = || IpcError::invalid(format!("{hhmm:?} is not a time of day (HH:MM)"));
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn window_contains(w: &SpeedWindow, minute: u32) -> bool {
    match (minutes(&w.from), minutes(&w.to)) {
        (Ok(from), Ok(to)) if from <= to => (from..to).contains(&minute),
        (Ok(from), Ok(to)) => minute >= from || minute < to,
        _ => false,
    }
}

/// Loads and saves the settings file.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// The settings file of these directories.
    pub fn new(dirs: &Dirs) -> Self {
        SettingsFile { path: dirs.config.join("settings.json") }
    }

    /// The saved settings; the defaults when there are none, or when the file is damaged (it
    /// is kept aside as `settings.json.damaged`, never silently lost).
    pub fn load(&self) -> Settings {
        match std::fs::read(&self.path) {
            Ok(b) => match serde_json::from_slice::<Settings>(&b) {
                Ok(s) if s.validate().is_ok() => s,
                _ => {
                    log::warn!("{} is damaged; using the defaults", self.path.display());
                    let _ = std::fs::rename(&self.path, self.path.with_extension("json.damaged"));
                    Settings::defaults()
                }
            },
            Err(_) => Settings::defaults(),
        }
    }

    /// Validates and saves.
    pub fn save(&self, s: &Settings) -> IpcResult<()> {
        s.validate()?;
        let body = serde_json::to_vec_pretty(s).map_err(|e| IpcError::internal(e.to_string()))?;
        Ok(write_atomic(&self.path, &body)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(from: &str, to: &str, down: u64) -> SpeedWindow {
        SpeedWindow { from: from.into(), to: to.into(), download_limit: Some(down), upload_limit: None }
    }

    #[test]
    fn schedule_windows_pick_their_limits_and_wrap_midnight() {
        let mut s = Settings::defaults();
        s.download_limit = Some(1000);
        s.schedule = vec![window("09:00", "17:00", 10), window("22:00", "06:30", 20)];
        assert_eq!(s.limits_at(8 * 60 + 59).0, Some(1000));
        assert_eq!(s.limits_at(9 * 60).0, Some(10));
        assert_eq!(s.limits_at(17 * 60).0, Some(1000));
        assert_eq!(s.limits_at(23 * 60).0, Some(20));
        assert_eq!(s.limits_at(6 * 60 + 29).0, Some(20));
        assert!(s.validate().is_ok());
    }

    #[test]
    fn bad_settings_are_refused_and_the_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dirs = Dirs { config: dir.path().into(), data: dir.path().into() };
        let file = SettingsFile::new(&dirs);
        let mut s = Settings::defaults();
        s.connections = 3;
        file.save(&s).unwrap();
        let mut bad = s.clone();
        bad.schedule = vec![window("25:00", "01:00", 5)];
        assert_eq!(file.save(&bad).unwrap_err().kind, crate::error::IpcErrorKind::Invalid);
        bad = s.clone();
        bad.connections = 0;
        assert!(file.save(&bad).is_err());
        assert_eq!(file.load(), s);
    }
}
