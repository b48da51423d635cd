//! Fault injection, each kind with its own rate, switched by `--faults` or the library while the
//! server runs. Clients and the transfer engine are tested against these: the answers are the
//! ones the real service gives in the same situations.

use std::str::FromStr;
use std::time::Duration;

use rand_core::{OsRng, RngCore};

/// Rates (0.0 to 1.0) of each fault.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// `cs` answers a bare `-3` (congestion; the client retries with the same id).
    pub eagain: f64,
    /// `cs` and the storage endpoints answer HTTP 500.
    pub http500: f64,
    /// A download stops mid-body with the connection reset.
    pub reset: f64,
    /// A download ends early: fewer bytes than announced, then the connection closes.
    pub truncate: f64,
    /// A download waits before its first byte.
    pub slow: f64,
    /// How long a slow first byte waits.
    pub slow_delay: Duration,
    /// A transfer URL is expired: downloads get 403, upload chunks `-8`.
    pub expired: f64,
    /// `cs` answers `-15` and the session is gone (the client must log in again).
    pub esid: f64,
}

impl Faults {
    /// True with probability `rate`.
    pub fn hit(rate: f64) -> bool {
        rate > 0.0 && (OsRng.next_u32() as f64 / u32::MAX as f64) < rate
    }
}

impl FromStr for Faults {
    type Err = String;

    /// `eagain=0.1,500=0.05,reset=0.02,truncate=0.02,slow=0.1:2000,expired=0.01,esid=0.01`
    /// (`slow=RATE:MILLISECONDS`); kinds left out stay off.
    fn from_str(spec: &str) -> Result<Self, String> {
        let mut f = Faults { slow_delay: Duration::from_secs(2), ..Faults::default() };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, value) = part.split_once('=').ok_or_else(|| format!("fault {part:?}: expected KIND=RATE"))?;
            let (rate, extra) = match value.split_once(':') {
                Some((r, e)) => (r, Some(e)),
                None => (value, None),
            };
            let rate: f64 = rate.parse().map_err(|_| format!("fault {part:?}: bad rate"))?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("fault {part:?}: rate must be between 0 and 1"));
            }
            match kind {
                "eagain" => f.eagain = rate,
                "500" => f.http500 = rate,
                "reset" => f.reset = rate,
                "truncate" => f.truncate = rate,
                "slow" => {
                    f.slow = rate;
                    if let Some(ms) = extra {
                        f.slow_delay =
                            Duration::from_millis(ms.parse().map_err(|_| format!("fault {part:?}: bad delay"))?);
                    }
                }
                "expired" => f.expired = rate,
                "esid" => f.esid = rate,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let f: Faults = "eagain=0.5, slow=1:250 ,500=0".parse().unwrap();
        assert_eq!(f.eagain, 0.5);
        assert_eq!(f.slow, 1.0);
        assert_eq!(f.slow_delay, Duration::from_millis(250));
        assert!("eagain=2".parse::<Faults>().is_err());
        assert!("nope=0.1".parse::<Faults>().is_err());
        assert!("eagain".parse::<Faults>().is_err());
        assert!(Faults::hit(1.0) && !Faults::hit(0.0));
    }
}
