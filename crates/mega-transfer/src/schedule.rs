//! Speed limits by time of day: a [`Schedule`] of windows (from a time of the week on, these
//! rates), written as rclone's `--bwlimit` timetable or built from daily windows. The engine
//! applies it while transfers run: a window boundary changes the active limits at once,
//! without restarting any job. Outside every window the base limits apply.

use std::fmt;
use std::str::FromStr;

/// Seconds in a week; times of the week count from Monday 00:00 local time.
pub const WEEK: u32 = 7 * DAY;
const DAY: u32 = 24 * 3600;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Download and upload rates in bytes per second (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rates {
    /// Downloads, shared by every download.
    pub download: Option<u64>,
    /// Uploads, shared by every upload.
    pub upload: Option<u64>,
}

/// A week of speed limits: each slot holds from its time on until the next slot's time
/// (wrapping around the week). A slot with `None` hands back to the base limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// (second of the week, rates), sorted, at most one per second.
    slots: Vec<(u32, Option<Rates>)>,
}

impl Schedule {
    /// Daily windows `(start, end, rates)` with times as seconds from midnight; outside them the
    /// base limits. A window whose end is before its start runs past midnight (22:00-06:00).
    /// Windows given later win where they overlap.
    pub fn daily(windows: &[(u32, u32, Rates)]) -> Schedule {
        let mut slots: Vec<(u32, Option<Rates>)> = Vec::new();
        // Mark every boundary, then fill each stretch with the window that covers it.
        let mut cuts: Vec<u32> = vec![0];
        for &(s, e, _) in windows {
            cuts.extend([s % DAY, e % DAY]);
        }
        cuts.sort_unstable();
        cuts.dedup();
        for day in 0..7 {
            for &c in &cuts {
                let covering = windows.iter().rev().find(|(s, e, _)| in_window(c, s % DAY, e % DAY));
                slots.push((day * DAY + c, covering.map(|w| w.2)));
            }
        }
        Schedule::from_slots(slots)
    }

    /// A schedule from `(second of the week, rates)` slots (`None`: the base limits).
    pub fn from_slots(mut slots: Vec<(u32, Option<Rates>)>) -> Schedule {
        for s in &mut slots {
            s.0 %= WEEK;
        }
        // The last slot given for a time wins.
        slots.reverse();
        slots.sort_by_key(|s| s.0);
        slots.dedup_by_key(|s| s.0);
        // Neighbours with the same rates are one slot.
        let mut out: Vec<(u32, Option<Rates>)> = Vec::with_capacity(slots.len());
        for s in slots {
            if out.last().is_none_or(|l| l.1 != s.1) {
                out.push(s);
            }
        }
        Schedule { slots: out }
    }

    /// The rates at a second of the week (`None`: the base limits).
    pub fn rates_at(&self, t: u32) -> Option<Rates> {
        let t = t % WEEK;
        match self.slots.iter().rev().find(|s| s.0 <= t) {
            Some(s) => s.1,
            None => self.slots.last().and_then(|s| s.1),
        }
    }

    /// Seconds from `t` (a second of the week) to the next slot boundary.
    pub fn next_change(&self, t: u32) -> Option<u32> {
        let t = t % WEEK;
        let next = self.slots.iter().find(|s| s.0 > t).map(|s| s.0).or(self.slots.first().map(|s| s.0 + WEEK))?;
        Some(next - t)
    }
}

fn in_window(t: u32, start: u32, end: u32) -> bool {
    if start <= end {
        (start..end).contains(&t)
    } else {
        t >= start || t < end
    }
}

/// Why a timetable was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("speed limit {0}")]
pub struct ScheduleError(String);

/// A rate as rclone writes it: bytes per second with an optional binary suffix (`B`, `K`, `M`,
/// `G`, `T`; a bare number is KiB/s), or `off` (unlimited; `0` too).
pub fn parse_rate(s: &str) -> Result<Option<u64>, ScheduleError> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || ScheduleError(format!("{s:?}: expected a rate such as 512K, 10M or off"));
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, suffix) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let suffix = suffix.to_ascii_lowercase();
    let unit = suffix.strip_suffix("ib").or_else(|| suffix.strip_suffix('b').filter(|u| !u.is_empty()));
    let mult: u64 = match unit.unwrap_or(&suffix) {
        "" => 1 << 10,
        "b" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return Err(bad()),
    };
    let v = (n * mult as f64).round();
    if !v.is_finite() || v < 0.0 {
        return Err(bad());
    }
    Ok(Some(v as u64).filter(|&v| v > 0))
}

/// `UP:DOWN` or one rate for both, as in rclone (upload first).
fn parse_pair(s: &str) -> Result<Rates, ScheduleError> {
    match s.split_once(':') {
        Some((up, down)) => Ok(Rates { upload: parse_rate(up)?, download: parse_rate(down)? }),
        None => {
            let r = parse_rate(s)?;
            Ok(Rates { upload: r, download: r })
        }
    }
}

impl FromStr for Rates {
    type Err = ScheduleError;

    /// `UP:DOWN` (`1M:256K`) or one rate for both (`10M`), as in rclone's `--bwlimit`.
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        parse_pair(s)
    }
}

/// `HH:MM` or `HHMM`, as seconds from midnight.
fn parse_time(s: &str) -> Result<u32, ScheduleError> {
    let bad = || ScheduleError(format!("{s:?}: expected a time such as 08:00"));
    let (h, m) = match s.split_once(':') {
        Some(hm) => hm,
        None if s.len() == 4 => s.split_at(2),
        None => return Err(bad()),
    };
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || s.len() > 5 {
        return Err(bad());
    }
    Ok(h * 3600 + m * 60)
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    /// rclone's `--bwlimit` timetable: entries separated by spaces or `;`, each
    /// `[DAY-]HH:MM,RATE` where RATE is `UP:DOWN` or one rate for both and DAY is `Mon` to
    /// `Sun` (without a day, every day). From each entry's time on its rates hold, until the
    /// next entry; before the first, the last one of the week. One plain rate (`10M`, `1M:256K`)
    /// holds all the time.
    fn from_str(s: &str) -> Result<Self, ScheduleError> {
        let entries: Vec<&str> = s.split([' ', ';']).filter(|e| !e.is_empty()).collect();
        if entries.is_empty() {
            return Err(ScheduleError("is empty".into()));
        }
        if let [one] = entries[..] {
            if !one.contains(',') {
                return Ok(Schedule::from_slots(vec![(0, Some(parse_pair(one)?))]));
            }
        }
        let mut slots = Vec::new();
        for e in entries {
            let (when, rate) =
                e.split_once(',').ok_or_else(|| ScheduleError(format!("{e:?}: expected [DAY-]HH:MM,RATE")))?;
            let rates = parse_pair(rate)?;
            match when.split_once('-') {
                Some((day, time)) => {
                    let d = DAYS
                        .iter()
                        .position(|n| n.eq_ignore_ascii_case(day))
                        .ok_or_else(|| ScheduleError(format!("{day:?}: expected a day from Mon to Sun")))?;
                    slots.push((d as u32 * DAY + parse_time(time)?, Some(rates)));
                }
                None => {
                    let t = parse_time(when)?;
                    slots.extend((0..7).map(|d| (d * DAY + t, Some(rates))));
                }
            }
        }
        Ok(Schedule::from_slots(slots))
    }
}

impl fmt::Display for Rates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = |v: Option<u64>| v.map_or("off".to_string(), |v| format!("{v}B"));
        write!(f, "{}:{}", r(self.upload), r(self.download))
    }
}

/// The local time of the week, in seconds from Monday 00:00.
pub(crate) trait Clock: Send + Sync {
    fn now(&self) -> u32;

    /// How long `secs` seconds of this clock last in real time (a test's clock runs faster).
    fn seconds(&self, secs: u64) -> std::time::Duration {
        std::time::Duration::from_secs(secs)
    }
}

/// The machine's local time (its time zone, daylight saving included).
pub(crate) struct LocalClock;

impl Clock for LocalClock {
    fn now(&self) -> u32 {
        use chrono::{Datelike, Timelike};
        let now = chrono::Local::now();
        now.weekday().num_days_from_monday() * DAY + now.num_seconds_from_midnight()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: u32 = 3600;

    fn rates(down: u64, up: u64) -> Rates {
        Rates { download: Some(down), upload: Some(up) }
    }

    #[test]
    fn daily_windows_fall_back_to_the_base_outside() {
        let s = Schedule::daily(&[(8 * H, 18 * H, rates(1 << 20, 256 << 10))]);
        assert_eq!(s.rates_at(7 * H + 3599), None);
        assert_eq!(s.rates_at(8 * H), Some(rates(1 << 20, 256 << 10)));
        assert_eq!(s.rates_at(17 * H), Some(rates(1 << 20, 256 << 10)));
        assert_eq!(s.rates_at(18 * H), None);
        // Every day of the week, and the week wraps.
        assert_eq!(s.rates_at(6 * DAY + 9 * H), Some(rates(1 << 20, 256 << 10)));
        assert_eq!(s.rates_at(WEEK + 9 * H), Some(rates(1 << 20, 256 << 10)));
        assert_eq!(s.next_change(7 * H), Some(H));
        assert_eq!(s.next_change(18 * H), Some(14 * H));
        // Past midnight.
        let night = Schedule::daily(&[(22 * H, 6 * H, rates(5, 5))]);
        assert_eq!(night.rates_at(23 * H), Some(rates(5, 5)));
        assert_eq!(night.rates_at(DAY + 2 * H), Some(rates(5, 5)));
        assert_eq!(night.rates_at(2 * H), Some(rates(5, 5)), "Monday 02:00 belongs to Sunday's night");
        assert_eq!(night.rates_at(12 * H), None);
    }

    #[test]
    fn rclone_timetables() {
        let s: Schedule = "08:00,1M:256K 18:00,off".parse().unwrap();
        // rclone's pairs are UP:DOWN.
        assert_eq!(s.rates_at(9 * H), Some(Rates { upload: Some(1 << 20), download: Some(256 << 10) }));
        assert_eq!(s.rates_at(19 * H), Some(Rates::default()));
        assert_eq!(s.rates_at(3 * H), Some(Rates::default()), "before the first entry: the last one");
        let week: Schedule = "Mon-00:00,512;Sat-09:00,off Sun-20:00,10M".parse().unwrap();
        assert_eq!(week.rates_at(3 * DAY), Some(rates(512 << 10, 512 << 10)));
        assert_eq!(week.rates_at(5 * DAY + 10 * H), Some(Rates::default()));
        assert_eq!(week.rates_at(6 * DAY + 21 * H), Some(rates(10 << 20, 10 << 20)));
        let plain: Schedule = "10M".parse().unwrap();
        assert_eq!(plain.rates_at(12345), Some(rates(10 << 20, 10 << 20)));
        assert_eq!(plain.next_change(5), Some(WEEK - 5));
        assert_eq!(parse_rate("1.5M").unwrap(), Some(3 << 19));
        assert_eq!(parse_rate("100").unwrap(), Some(100 << 10));
        assert_eq!(parse_rate("100B").unwrap(), Some(100));
        assert_eq!(parse_rate("2MiB").unwrap(), Some(2 << 20));
        assert_eq!(parse_rate("0").unwrap(), None);
        for bad in ["", "25:00,1M", "08:61,1M", "Xyz-08:00,1M", "08:00,fast", "1X", "08:00,1M:2Q"] {
            assert!(bad.parse::<Schedule>().is_err(), "{bad:?} was accepted");
        }
    }
}
