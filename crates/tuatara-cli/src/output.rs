//! What the CLI writes: data on stdout (text, or JSON with `--json`), human notes on stderr,
//! spinners on stderr while something takes time (hidden when stderr is not a terminal).

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// Where output goes and in which form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `--json`: one JSON document on stdout instead of text.
    pub(crate) json: bool,
    /// `--quiet`: no notes on stderr.
    pub(crate) quiet: bool,
}

impl Out {
    /// A data line on stdout (text mode).
    pub(crate) fn line(&self, s: impl AsRef<str>) {
        println!("{}", s.as_ref());
    }

    /// The JSON document on stdout.
    pub(crate) fn json(&self, v: &Value) {
        println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    }

    /// Prints `text` lines or the `json` document, as asked.
    pub(crate) fn emit(&self, text: &[String], json: &Value) {
        if self.json {
            self.json(json);
        } else {
            for l in text {
                self.line(l);
            }
        }
    }

    /// A buffered writer for many data lines on stdout (text mode): one write per 8 KiB
    /// instead of one per line.
    pub(crate) fn lines(&self) -> Lines {
        Lines { out: std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock()), broken: false }
    }

    /// A human note on stderr.
    pub(crate) fn note(&self, s: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", s.as_ref());
        }
    }

    /// A warning on stderr (printed even with `--quiet`).
    pub(crate) fn warn(&self, s: impl AsRef<str>) {
        eprintln!("warning: {}", s.as_ref());
    }

    /// A spinner on stderr with a message; finish it with [`ProgressBar::finish_and_clear`].
    pub(crate) fn spinner(&self, msg: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new_spinner();
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").unwrap_or(ProgressStyle::default_spinner()),
        );
        pb.set_message(msg.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        pb
    }

    /// A bar counting `n` steps on stderr.
    pub(crate) fn bar(&self, n: u64, msg: &str) -> ProgressBar {
        if self.quiet {
            return ProgressBar::hidden();
        }
        let pb = ProgressBar::new(n);
        pb.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}").unwrap_or(ProgressStyle::default_bar()),
        );
        pb.set_message(msg.to_string());
        pb
    }
}

/// Data lines on stdout through one buffer; see [`Out::lines`]. A closed pipe (`ls | head`)
/// ends the output quietly.
pub(crate) struct Lines {
    out: std::io::BufWriter<std::io::StdoutLock<'static>>,
    broken: bool,
}

impl Lines {
    /// Writes one line.
    pub(crate) fn line(&mut self, s: &str) {
        use std::io::Write;
        if !self.broken && writeln!(self.out, "{s}").is_err() {
            self.broken = true;
        }
    }

    /// Flushes what is buffered.
    pub(crate) fn finish(mut self) {
        use std::io::Write;
        if !self.broken {
            let _ = self.out.flush();
        }
    }
}

/// A size in binary units: `0 B`, `1023 B`, `1.5 KiB`, `20.0 GiB`.
pub(crate) fn size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// A duration for people: `45s`, `3m 20s`, `2h 5m`, `1d 3h`.
pub(crate) fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

/// A unix time as `YYYY-MM-DD HH:MM` (UTC).
pub(crate) fn time(unix: i64) -> String {
    let days = unix.div_euclid(86400);
    let secs = unix.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(20 * 1024 * 1024 * 1024), "20.0 GiB");
        assert_eq!(size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn human_durations_and_times() {
        assert_eq!(duration(Duration::from_secs(45)), "45s");
        assert_eq!(duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(duration(Duration::from_secs(7500)), "2h 5m");
        assert_eq!(duration(Duration::from_secs(97200)), "1d 3h");
        assert_eq!(time(0), "1970-01-01 00:00");
        assert_eq!(time(1_700_000_000), "2023-11-14 22:13");
        assert_eq!(time(951_782_400), "2000-02-29 00:00");
    }
}
