//! The sandbox's knobs: `SandboxConfig`, `Stall`, and parsing/validation of their CLI forms.

use std::time::Duration;

use super::SandboxError;
use super::latency::ENDPOINTS;

/// How the sandbox behaves: latency, failures and freezes, all seeded.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Multiplies every endpoint's latency; 0.0 turns artificial latency off.
    pub latency_scale: f64,
    /// Probability (0..=1) that a named endpoint answers 500 `{"error":"injected failure"}`.
    pub error_rate: f64,
    /// Periodic freezes of the whole server, like a GC pause.
    pub stall: Option<Stall>,
    /// Per-endpoint latency factors, e.g. `("pay", 1.3)`, to emulate a regression.
    pub slowdowns: Vec<(String, f64)>,
    /// Seeds all randomness: data, tokens, latency and injected errors.
    pub seed: u64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            latency_scale: 1.0,
            error_rate: 0.0,
            stall: None,
            slowdowns: Vec::new(),
            seed: 42,
        }
    }
}

/// A freeze of `length` at the end of every `every` period, measured from start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    /// Time between the starts of two freezes.
    pub every: Duration,
    /// How long each freeze lasts; always shorter than `every`.
    pub length: Duration,
}

/// Parses `NAME=FACTOR` (e.g. `pay=1.3`) into a slowdown for a known endpoint.
pub fn parse_slowdown(s: &str) -> Result<(String, f64), SandboxError> {
    let bad = |reason: &str| SandboxError::Slowdown {
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let (name, factor) = s
        .split_once('=')
        .ok_or_else(|| bad("expected NAME=FACTOR, e.g. pay=1.3"))?;
    let name = name.trim();
    let factor: f64 = factor
        .trim()
        .parse()
        .map_err(|_| bad("the factor is not a number"))?;
    check_slowdown(name, factor).map_err(bad)?;
    Ok((name.to_string(), factor))
}

/// Parses `LENGTH/EVERY` (e.g. `1s/5s`: freeze 1 s every 5 s); units ms, s, m.
pub fn parse_stall(s: &str) -> Result<Stall, SandboxError> {
    let bad = |reason: &str| SandboxError::Stall {
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let (length, every) = s
        .split_once('/')
        .ok_or_else(|| bad("expected LENGTH/EVERY"))?;
    let stall = Stall {
        length: parse_duration(length).map_err(bad)?,
        every: parse_duration(every).map_err(bad)?,
    };
    check_stall(&stall).map_err(bad)?;
    Ok(stall)
}

impl SandboxConfig {
    /// Rejects knob values that `parse_*` would reject, for configs built in code.
    pub(super) fn validate(&self) -> Result<(), SandboxError> {
        if !(self.latency_scale.is_finite() && self.latency_scale >= 0.0) {
            return Err(SandboxError::Knob {
                knob: "latency_scale",
                value: self.latency_scale.to_string(),
                reason: "must be a finite number >= 0",
            });
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(SandboxError::Knob {
                knob: "error_rate",
                value: self.error_rate.to_string(),
                reason: "must be between 0 and 1",
            });
        }
        for (name, factor) in &self.slowdowns {
            check_slowdown(name, *factor).map_err(|reason| SandboxError::Slowdown {
                value: format!("{name}={factor}"),
                reason: reason.to_string(),
            })?;
        }
        if let Some(stall) = &self.stall {
            check_stall(stall).map_err(|reason| SandboxError::Stall {
                value: format!("{:?}/{:?}", stall.length, stall.every),
                reason: reason.to_string(),
            })?;
        }
        Ok(())
    }
}

fn check_slowdown(name: &str, factor: f64) -> Result<(), &'static str> {
    if !ENDPOINTS.contains(&name) {
        return Err("unknown endpoint");
    }
    if !(factor.is_finite() && factor > 0.0) {
        return Err("the factor must be a number > 0");
    }
    Ok(())
}

fn check_stall(stall: &Stall) -> Result<(), &'static str> {
    if stall.length.is_zero() {
        return Err("the freeze length must be > 0");
    }
    if stall.length >= stall.every {
        return Err("the freeze length must be shorter than the period");
    }
    Ok(())
}

/// Parses `250ms`, `1s`, `1.5s`, `2m`; a unit is required so `5` is never guessed at.
fn parse_duration(s: &str) -> Result<Duration, &'static str> {
    let s = s.trim();
    let (number, seconds_per_unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        return Err("each duration needs a unit: ms, s or m");
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| "a duration is not a number")?;
    if !(value.is_finite() && value >= 0.0) {
        return Err("a duration must be >= 0");
    }
    Duration::try_from_secs_f64(value * seconds_per_unit).map_err(|_| "a duration is too large")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowdown_accepts_known_endpoint_and_positive_factor() {
        assert_eq!(parse_slowdown("pay=1.3").ok(), Some(("pay".into(), 1.3)));
        assert_eq!(
            parse_slowdown(" login = 2 ").ok(),
            Some(("login".into(), 2.0))
        );
    }

    #[test]
    fn slowdown_rejects_and_names_the_value_and_the_endpoints() {
        for bad in [
            "paid=1.3", "pay=0", "pay=-1", "pay=fast", "pay", "pay=NaN", "pay=inf",
        ] {
            let message = match parse_slowdown(bad) {
                Ok(ok) => panic!("'{bad}' was accepted as {ok:?}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(bad), "{message}");
            assert!(message.contains("search_invoices"), "{message}");
        }
    }

    #[test]
    fn stall_accepts_units() {
        let stall = |length_ms, every_ms| Stall {
            length: Duration::from_millis(length_ms),
            every: Duration::from_millis(every_ms),
        };
        assert_eq!(parse_stall("1s/5s").ok(), Some(stall(1000, 5000)));
        assert_eq!(parse_stall("300ms/600ms").ok(), Some(stall(300, 600)));
        assert_eq!(parse_stall("1.5s/2m").ok(), Some(stall(1500, 120_000)));
    }

    #[test]
    fn stall_rejects_and_names_the_value() {
        for bad in [
            "5s/1s", "1s/1s", "0s/1s", "1/5", "1s", "1x/5s", "s/5s", "-1s/5s",
        ] {
            let message = match parse_stall(bad) {
                Ok(ok) => panic!("'{bad}' was accepted as {ok:?}"),
                Err(e) => e.to_string(),
            };
            assert!(message.contains(bad), "{message}");
        }
    }

    #[test]
    fn validate_rejects_out_of_range_knobs() {
        let with = |change: fn(&mut SandboxConfig)| {
            let mut config = SandboxConfig::default();
            change(&mut config);
            config.validate()
        };
        assert!(with(|_| {}).is_ok());
        assert!(with(|c| c.error_rate = 1.5).is_err());
        assert!(with(|c| c.latency_scale = -1.0).is_err());
        assert!(with(|c| c.slowdowns.push(("nope".into(), 2.0))).is_err());
        assert!(with(|c| c.slowdowns.push(("pay".into(), 0.0))).is_err());
    }
}
