//! What the CLI writes: data on stdout (text, or JSON with `--json`), human notes on stderr,
//! spinners on stderr while something takes time (hidden when stderr is not a terminal).
//!
//! Every text line goes through [`escaped`] on its way out: node names, link names and server
//! messages come from other people, and a name holding terminal escapes, line breaks or
//! bidirectional overrides must not set the window title, colour the terminal, fake extra
//! lines or show `exe.txt` for `txt.exe`. The `--json` output is escaped by JSON itself.

use std::borrow::Cow;
use std::fmt::Write as _;
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
        println!("{}", escaped(s.as_ref()));
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
            eprintln!("{}", escaped(s.as_ref()));
        }
    }

    /// A warning on stderr (printed even with `--quiet`).
    pub(crate) fn warn(&self, s: impl AsRef<str>) {
        eprintln!("warning: {}", escaped(s.as_ref()));
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
        pb.set_message(escaped(msg).into_owned());
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
        pb.set_message(escaped(msg).into_owned());
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
        if !self.broken && writeln!(self.out, "{}", escaped(s)).is_err() {
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

/// The libraries' `tracing` events on stderr. By default the client's and the core's warnings
/// (a request retried, a node left out of the tree, a session the server cannot seal, a stored
/// session that could not be upgraded) and every error,
/// short; with `-v` notes too, `-vv` debug, `-vvv` trace, for Tuatara's own crates, with time
/// and place (the HTTP stack below stays at warnings: its traces would add nothing a user can
/// act on). The engine's own waits and retries reach the terminal as events (see
/// `transfers.rs`), so its warnings wait for `-v`. `TUATARA_LOG` overrides it all.
pub(crate) fn init_logging(verbose: u8) {
    use std::io::IsTerminal;
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let default = if verbose == 0 {
        "error,mega_api=warn,tuatara_core=warn".to_string()
    } else {
        format!("warn,mega_proto={ours},mega_api={ours},mega_transfer={ours},tuatara_core={ours},tuatara_cli={ours}")
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TUATARA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if verbose == 0 { fmt.without_time().with_target(false).try_init() } else { fmt.try_init() };
}

/// `s` as it may be shown on a terminal: C0 and C1 control characters (escape, bell, line
/// breaks, tab, DEL) and the bidirectional controls that reorder text (embeddings, overrides,
/// isolates, marks) are written out as `\x1b` or `\u{202e}`. Ordinary names print unchanged;
/// in a name that needed escaping backslashes are doubled too, so what was escaped can be
/// told from a name that holds a literal `\x1b`.
pub(crate) fn escaped(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) && u32::from(c) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Characters that a terminal acts on or that change how the text around them reads.
fn needs_escape(c: char) -> bool {
    c.is_control() || mega_transfer::names::is_bidi_control(c)
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
    fn names_cannot_drive_the_terminal() {
        assert_eq!(escaped("ordinary name.jpg"), "ordinary name.jpg");
        assert_eq!(escaped("C:\\dir ✓ Ünï"), "C:\\dir ✓ Ünï", "nothing to escape: unchanged");
        assert_eq!(escaped("title\x1b]0;pwned\x07.txt"), "title\\x1b]0;pwned\\x07.txt");
        assert_eq!(escaped("a\nfake line"), "a\\x0afake line");
        assert_eq!(escaped("red\x1b[31m\r\t\x7f\u{9b}"), "red\\x1b[31m\\x0d\\x09\\x7f\\x9b");
        assert_eq!(escaped("invoice\u{202e}fdp.exe"), "invoice\\u{202e}fdp.exe");
        assert_eq!(escaped("a\u{2066}b\u{200f}c\u{61c}"), "a\\u{2066}b\\u{200f}c\\u{61c}");
        assert_eq!(escaped("emoji 👨\u{200d}👩 joiners stay"), "emoji 👨\u{200d}👩 joiners stay");
        // A backslash in a name that needed escaping is doubled.
        assert_eq!(escaped("\\x1b\x1b"), "\\\\x1b\\x1b");
        for s in ["\x1b", "\n", "\u{202e}", "x\u{85}y"] {
            assert!(!escaped(s).chars().any(needs_escape), "{s:?}");
        }
    }

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
