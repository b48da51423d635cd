//! The app's settings (`settings.json` in the config dir): validated before anything is
//! written, so a bad value is refused with a clear error and the old settings stay. The speed
//! schedule is handed to the transfer engine as a [`mega_transfer::Schedule`], which applies
//! each window at its boundaries by itself: nothing polls the clock here.

use std::path::PathBuf;

use mega_transfer::{Engine, EngineConfig, Rates, Schedule};
use serde::{Deserialize, Serialize};

use crate::dirs::Dirs;
use crate::error::{Error, Result};
use crate::files::{read_json, write_json};

/// A time window with its own speed limits (local time, every day).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "SpeedWindow.ts"))]
#[serde(rename_all = "camelCase")]
pub struct SpeedWindow {
    /// Start, `HH:MM`.
    pub from: String,
    /// End, `HH:MM` (before `from`: the window runs past midnight).
    pub to: String,
    /// Bytes per second, none for unlimited.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub download_limit: Option<u64>,
    /// Bytes per second, none for unlimited.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub upload_limit: Option<u64>,
}

/// The longest period of the received links' re-check: a month.
pub const MAX_RECHECK_HOURS: u32 = 24 * 30;

/// What closing the app's window does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "CloseAction.ts"))]
#[serde(rename_all = "kebab-case")]
pub enum CloseAction {
    /// The app keeps running without its window while transfers run; with none, it quits.
    #[default]
    BackgroundWhileTransferring,
    /// The app quits (unfinished transfers continue at the next start).
    Quit,
    /// The app always keeps running without its window.
    BackgroundAlways,
}

impl CloseAction {
    /// Whether closing the window keeps the app running in the background (the window
    /// hidden) rather than quitting, with transfers running or not.
    pub fn keeps_running(self, transfers_running: bool) -> bool {
        match self {
            CloseAction::BackgroundWhileTransferring => transfers_running,
            CloseAction::Quit => false,
            CloseAction::BackgroundAlways => true,
        }
    }
}

/// The user's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export_to = "Settings.ts"))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// Where downloads go.
    pub download_dir: String,
    /// Connections per file (1 to 32).
    pub connections: u32,
    /// Files moving at once (1 to 32).
    pub max_files_at_once: u32,
    /// Bytes per second, none for unlimited.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub download_limit: Option<u64>,
    /// Bytes per second, none for unlimited.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub upload_limit: Option<u64>,
    /// Windows with other limits; where two overlap, the one listed first holds.
    pub schedule: Vec<SpeedWindow>,
    /// Transfers over HTTPS.
    pub use_https: bool,
    /// Desktop notifications when transfers finish or fail.
    pub notifications: bool,
    /// Offer MEGA links copied to the clipboard.
    pub watch_clipboard: bool,
    /// Re-check the received links (the links ledger) every this many hours; 0: never.
    #[serde(default)]
    pub links_recheck_hours: u32,
    /// What closing the window does (the desktop app).
    #[serde(default)]
    pub close_action: CloseAction,
    /// Start the desktop app at login (it continues unfinished transfers).
    #[serde(default)]
    pub start_at_login: bool,
}

impl Default for Settings {
    /// The user's Downloads folder, 8 connections, 4 files, no limits.
    fn default() -> Self {
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
            links_recheck_hours: 0,
            close_action: CloseAction::default(),
            start_at_login: false,
        }
    }
}

impl Settings {
    /// Checks every field; the first problem is the error ([`Error::Invalid`]).
    pub fn validate(&self) -> Result<()> {
        let invalid = |m: &str| Err(Error::Invalid(m.into()));
        if self.download_dir.trim().is_empty() {
            return invalid("the download folder is empty");
        }
        if !(1..=32).contains(&self.connections) {
            return invalid("connections per file must be between 1 and 32");
        }
        if !(1..=32).contains(&self.max_files_at_once) {
            return invalid("files at once must be between 1 and 32");
        }
        if self.download_limit == Some(0) || self.upload_limit == Some(0) {
            return invalid("a speed limit of 0 would stop transfers: pause them instead");
        }
        if self.links_recheck_hours > MAX_RECHECK_HOURS {
            return invalid("links are re-checked at least once a month (720 hours)");
        }
        for w in &self.schedule {
            seconds(&w.from)?;
            seconds(&w.to)?;
        }
        Ok(())
    }

    /// The windows as the engine's schedule (`None` without windows). Windows whose times do
    /// not parse are left out ([`Settings::validate`] refuses them before they are saved).
    pub fn speed_schedule(&self) -> Option<Schedule> {
        // The engine lets a later window win where two overlap; here the first listed does.
        let windows: Vec<(u32, u32, Rates)> = self
            .schedule
            .iter()
            .rev()
            .filter_map(|w| {
                let rates = Rates { download: w.download_limit, upload: w.upload_limit };
                Some((seconds(&w.from).ok()?, seconds(&w.to).ok()?, rates))
            })
            .collect();
        (!windows.is_empty()).then(|| Schedule::daily(&windows))
    }

    /// The engine's configuration for these settings over a journal directory.
    pub fn engine_config(&self, journal_dir: impl Into<PathBuf>) -> EngineConfig {
        let mut config = EngineConfig::new(journal_dir);
        config.connections_per_file = self.connections as usize;
        config.max_files = self.max_files_at_once as usize;
        (config.download_limit, config.upload_limit) = (self.download_limit, self.upload_limit);
        config.schedule = self.speed_schedule();
        config
    }

    /// Puts the speed limits and the schedule in force on a running engine, at once.
    /// Connections and files at once apply to the next engine.
    pub fn apply_limits(&self, engine: &Engine) {
        engine.set_limits(self.download_limit, self.upload_limit);
        engine.set_schedule(self.speed_schedule());
    }
}

/// `HH:MM` as seconds from midnight.
fn seconds(hhmm: &str) -> Result<u32> {
    let bad = || Error::Invalid(format!("{hhmm:?} is not a time of day (HH:MM)"));
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok((h * 60 + m) * 60)
}

/// Loads and saves the settings file.
#[derive(Debug, Clone)]
pub struct SettingsFile {
    path: PathBuf,
}

impl SettingsFile {
    /// The settings file of these directories.
    pub fn new(dirs: &Dirs) -> Self {
        SettingsFile { path: dirs.settings() }
    }

    /// The saved settings; the defaults when there are none, or when the file is damaged (it
    /// is kept aside as `settings.json.damaged`, never silently lost).
    pub fn load(&self) -> Settings {
        match read_json::<Settings>(&self.path) {
            Ok(Some(s)) if s.validate().is_ok() => s,
            Ok(None) => Settings::default(),
            Ok(Some(_)) | Err(Error::Damaged { .. }) => {
                tracing::warn!("{} is damaged; using the defaults", self.path.display());
                let _ = std::fs::rename(&self.path, self.path.with_extension("json.damaged"));
                Settings::default()
            }
            // Not readable now (permissions, a passing I/O error): left as it is.
            Err(e) => {
                tracing::warn!("the settings could not be read ({e}); using the defaults");
                Settings::default()
            }
        }
    }

    /// Validates and saves.
    pub fn save(&self, s: &Settings) -> Result<()> {
        s.validate()?;
        write_json(&self.path, s)
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
        let mut s = Settings { download_limit: Some(1000), ..Settings::default() };
        s.schedule = vec![window("09:00", "17:00", 10), window("22:00", "06:30", 20), window("10:00", "11:00", 30)];
        let schedule = s.speed_schedule().unwrap();
        let down = |h: u32, m: u32| schedule.rates_at((h * 60 + m) * 60).map_or(s.download_limit, |r| r.download);
        assert_eq!(down(8, 59), Some(1000));
        assert_eq!(down(9, 0), Some(10));
        assert_eq!(down(10, 30), Some(10), "the window listed first holds where two overlap");
        assert_eq!(down(17, 0), Some(1000));
        assert_eq!(down(23, 0), Some(20));
        assert_eq!(down(6, 29), Some(20));
        // Every day of the week.
        assert_eq!(schedule.rates_at(3 * 86_400 + 9 * 3600).unwrap().download, Some(10));
        assert!(s.validate().is_ok());
        assert_eq!(Settings::default().speed_schedule(), None);
    }

    #[test]
    fn bad_settings_are_refused_and_the_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(&Dirs::new(dir.path(), dir.path()));
        let s = Settings { connections: 3, ..Settings::default() };
        file.save(&s).unwrap();
        let mut bad = s.clone();
        bad.schedule = vec![window("25:00", "01:00", 5)];
        assert!(matches!(file.save(&bad).unwrap_err(), Error::Invalid(_)));
        bad = s.clone();
        bad.connections = 0;
        assert!(file.save(&bad).is_err());
        assert_eq!(file.load(), s);
    }

    #[test]
    fn closing_keeps_the_app_running_as_the_setting_says() {
        use CloseAction::*;
        let cases = [
            (BackgroundWhileTransferring, true, true),
            (BackgroundWhileTransferring, false, false),
            (Quit, true, false),
            (Quit, false, false),
            (BackgroundAlways, true, true),
            (BackgroundAlways, false, true),
        ];
        for (action, running, keeps) in cases {
            assert_eq!(action.keeps_running(running), keeps, "{action:?} with transfers running: {running}");
        }
        // A settings file from before these settings reads with their defaults; the names on
        // disk are the UI's.
        let old: Settings = serde_json::from_str(
            r#"{"downloadDir":"/d","connections":4,"maxFilesAtOnce":4,"downloadLimit":null,"uploadLimit":null,
                "schedule":[],"useHttps":false,"notifications":false,"watchClipboard":false}"#,
        )
        .unwrap();
        assert_eq!((old.close_action, old.start_at_login), (BackgroundWhileTransferring, false));
        let s = Settings { close_action: BackgroundAlways, start_at_login: true, ..old };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(
            (&json["closeAction"], &json["startAtLogin"]),
            (&serde_json::json!("background-always"), &serde_json::json!(true))
        );
    }

    #[test]
    fn a_damaged_file_is_kept_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = SettingsFile::new(&Dirs::new(dir.path(), dir.path()));
        std::fs::write(dir.path().join("settings.json"), b"{\"connections\": ").unwrap();
        assert_eq!(file.load(), Settings::default());
        assert!(dir.path().join("settings.json.damaged").exists());
    }
}
