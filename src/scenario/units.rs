//! Parsers for the small value languages of scenario files: durations, rates, think times, status sets.

use std::ops::RangeInclusive;
use std::time::Duration;

/// A pause between steps or iterations: fixed, or drawn uniformly from a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Think {
    /// Always this long.
    Fixed(Duration),
    /// Uniformly between the two bounds, inclusive.
    Uniform(Duration, Duration),
}

impl Think {
    /// Draws one pause.
    pub fn sample(&self, rng: &mut fastrand::Rng) -> Duration {
        match *self {
            Think::Fixed(d) => d,
            Think::Uniform(lo, hi) => {
                let span = (hi - lo).as_nanos() as u64;
                lo + Duration::from_nanos(rng.u64(0..=span))
            }
        }
    }
}

/// Parses `250ms`, `5s`, `1.5s`, `2m`, `1h`, `1m30s`, `500us`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || {
        format!(
            "invalid duration \"{text}\": expected a number with a unit, such as \"500ms\", \"30s\", \"2m\" or \"1m30s\""
        )
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(expected());
    }
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(expected)?;
        if num_len == 0 {
            return Err(expected());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| expected())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            _ => return Err(expected()),
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > 366.0 * 24.0 * 3600.0 {
        return Err(format!("invalid duration \"{text}\": too long"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Parses a size: a number of bytes (`1048576`) or a number with a unit: `B`, `KB`/`kB`,
/// `MB`, `GB` (powers of 1000) or `KiB`, `MiB`, `GiB` (powers of 1024), e.g. `"1MiB"`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let expected = || {
        format!(
            "invalid size \"{text}\": expected bytes with a unit, such as \"512KiB\", \"1MiB\" or \"2MB\""
        )
    };
    let s = text.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number.parse().map_err(|_| expected())?;
    let scale: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(expected()),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes > u64::MAX as f64 / 2.0 {
        return Err(expected());
    }
    // A fraction of a byte is a typo, not something to round away ("0.5B" is not 1 byte).
    if (bytes - bytes.round()).abs() > 1e-6 * bytes.max(1.0) {
        return Err(format!(
            "invalid size \"{text}\": {bytes} is not a whole number of bytes"
        ));
    }
    Ok(bytes.round() as u64)
}

/// Parses an arrival rate such as `50/s`, `3000/m` or `0.5/s` into iterations per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let expected = || {
        format!(
            "invalid rate \"{text}\": expected iterations per unit of time, such as \"50/s\" or \"3000/m\""
        )
    };
    let (count, unit) = text.trim().split_once('/').ok_or_else(expected)?;
    let count: f64 = count.trim().parse().map_err(|_| expected())?;
    let per = match unit.trim() {
        "s" | "sec" | "1s" => 1.0,
        "m" | "min" | "1m" => 60.0,
        "h" | "1h" => 3600.0,
        other => parse_duration(other).map_err(|_| expected())?.as_secs_f64(),
    };
    if !count.is_finite() || count < 0.0 || per <= 0.0 {
        return Err(expected());
    }
    Ok(count / per)
}

/// Parses `500ms` (fixed) or `200ms..800ms` (uniform).
pub fn parse_think(text: &str) -> Result<Think, String> {
    match text.split_once("..") {
        None => parse_duration(text).map(Think::Fixed),
        Some((lo, hi)) => {
            let lo = parse_duration(lo)?;
            let hi = parse_duration(hi)?;
            if hi < lo {
                return Err(format!(
                    "invalid think time \"{text}\": the upper bound is below the lower bound"
                ));
            }
            Ok(Think::Uniform(lo, hi))
        }
    }
}

/// Parses one status pattern: `200`, `2xx`, `200..299` or `200-299`.
pub fn parse_status_pattern(text: &str) -> Result<RangeInclusive<u16>, String> {
    let expected = || {
        format!(
            "invalid status \"{text}\": expected a code such as 200, a class such as \"2xx\", or a range such as \"200..299\""
        )
    };
    let s = text.trim();
    let code = |t: &str| -> Result<u16, String> {
        // Three digits, as HTTP writes them: not `+200`, not `0200`.
        let t = t.trim();
        if t.len() != 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(expected());
        }
        let c: u16 = t.parse().map_err(|_| expected())?;
        if (100..=599).contains(&c) {
            Ok(c)
        } else {
            Err(expected())
        }
    };
    if let Some(class) = s.strip_suffix("xx").or_else(|| s.strip_suffix("XX")) {
        if class.len() != 1 {
            return Err(expected());
        }
        let d: u16 = class.parse().map_err(|_| expected())?;
        if !(1..=5).contains(&d) {
            return Err(expected());
        }
        return Ok(d * 100..=d * 100 + 99);
    }
    if let Some((lo, hi)) = s.split_once("..").or_else(|| s.split_once('-')) {
        let (lo, hi) = (code(lo)?, code(hi)?);
        if hi < lo {
            return Err(expected());
        }
        return Ok(lo..=hi);
    }
    code(s).map(|c| c..=c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        for bad in ["", "5", "s", "5 parsecs", "1..2s", "-1s", "5sx"] {
            assert!(parse_duration(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Ok(1024 * 1024));
        assert_eq!(parse_size("512 KiB"), Ok(512 * 1024));
        assert_eq!(parse_size("2MB"), Ok(2_000_000));
        assert_eq!(parse_size("300"), Ok(300));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        for bad in [
            "",
            "1 parsec",
            "-1MiB",
            "MiB",
            "1e400GiB",
            "0.5B",
            "1.0001KiB",
        ] {
            assert!(parse_size(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("50/s"), Ok(50.0));
        assert_eq!(parse_rate("3000/m"), Ok(50.0));
        assert_eq!(parse_rate("1/10s"), Ok(0.1));
        assert!(parse_rate("50").is_err());
        assert!(parse_rate("fast/s").is_err());
        assert!(parse_rate("-1/s").is_err());
    }

    #[test]
    fn think_times() {
        assert_eq!(
            parse_think("200ms..800ms"),
            Ok(Think::Uniform(
                Duration::from_millis(200),
                Duration::from_millis(800)
            ))
        );
        assert!(parse_think("2s..1s").is_err());
        let t = Think::Uniform(Duration::from_millis(10), Duration::from_millis(20));
        let mut rng = fastrand::Rng::with_seed(1);
        for _ in 0..100 {
            let d = t.sample(&mut rng);
            assert!(d >= Duration::from_millis(10) && d <= Duration::from_millis(20));
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status_pattern("2xx"), Ok(200..=299));
        assert_eq!(parse_status_pattern("200..204"), Ok(200..=204));
        assert_eq!(parse_status_pattern("404"), Ok(404..=404));
        assert!(parse_status_pattern("6xx").is_err());
        assert!(parse_status_pattern("99").is_err());
        assert!(parse_status_pattern("300..200").is_err());
        for bad in ["+200", "0200", "02xx", "+2xx", "200..+299", " 2 00"] {
            assert!(
                parse_status_pattern(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
