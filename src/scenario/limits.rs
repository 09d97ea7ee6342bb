//! The documented range of every numeric setting, shared by scenario files and command-line
//! flags, so what `validate` accepts is what `run` can run: nothing is allocated per
//! configured user, no rate overflows a timer, no file is read without a size cap.

use std::time::Duration;

/// Largest file a multipart body may upload (read once, shared by every request).
pub const MAX_UPLOAD: u64 = 64 * 1024 * 1024;

/// Redirects `follow_redirects = true` follows; browsers stop near 20, k6 at 10.
pub const DEFAULT_REDIRECTS: u32 = 10;
/// Most redirects a step may be told to follow.
pub const MAX_REDIRECTS: u32 = 30;

/// Highest open-model arrival rate, iterations per second.
pub const MAX_RATE: f64 = 1_000_000.0;
/// Most closed-model users.
pub const MAX_USERS: u64 = 100_000;
/// Most iterations in flight in the open model.
pub const MAX_IN_FLIGHT: u64 = 100_000;
/// Largest iteration cap.
pub const MAX_ITERATIONS: u64 = 1_000_000_000_000;
/// Longest measured duration (a week-long soak).
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);
/// Longest warm-up.
pub const MAX_WARMUP: Duration = Duration::from_secs(3600);
/// Longest grace period for in-flight iterations at the end.
pub const MAX_GRACE: Duration = Duration::from_secs(600);
/// Longest request timeout: latencies are recorded up to one hour.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// Longest think time.
pub const MAX_THINK: Duration = Duration::from_secs(3600);
/// Largest response-body prefix kept per request (`max_body`).
pub const MAX_BODY: u64 = 256 * 1024 * 1024;
/// Default response-body prefix kept per request.
pub const DEFAULT_MAX_BODY: u64 = 1024 * 1024;
/// Largest scenario file read.
pub const MAX_SCENARIO_FILE: u64 = 4 * 1024 * 1024;
/// Largest CSV data file read.
pub const MAX_DATA_FILE: u64 = 256 * 1024 * 1024;
/// Largest CA certificate file read.
pub const MAX_CA_FILE: u64 = 4 * 1024 * 1024;
/// Most runs a `branch:NAME` baseline takes (`--history`, `[compare] history`).
pub const MAX_HISTORY: u64 = 1000;
/// Most repeats of `run --repeat`.
pub const MAX_REPEAT: u64 = 20;

/// Most shards one sharded run may be split into.
pub const MAX_SHARDS: u64 = 1000;

/// Checks a whole-number setting against its range; the message names the setting.
pub fn check_count(name: &str, value: i64, min: u64, max: u64) -> Result<u64, String> {
    if value < min as i64 || value as u64 > max {
        Err(format!(
            "`{name}` must be between {min} and {}, found {value}",
            group(max)
        ))
    } else {
        Ok(value as u64)
    }
}

/// Checks a rate (iterations per second) against its range; zero only where `zero_ok`.
pub fn check_rate(name: &str, rate: f64, zero_ok: bool) -> Result<f64, String> {
    let low_ok = if zero_ok { rate >= 0.0 } else { rate > 0.0 };
    if rate.is_finite() && low_ok && rate <= MAX_RATE {
        Ok(rate)
    } else {
        let low = if zero_ok { "0/s" } else { "more than 0/s" };
        Err(format!(
            "`{name}` must be {low} and at most {}/s, found {}",
            group(MAX_RATE as u64),
            show_rate(rate)
        ))
    }
}

/// Checks a duration against `[min, max]`; a zero `min` with `exclusive_zero` means "more than 0".
pub fn check_duration(
    name: &str,
    d: Duration,
    exclusive_zero: bool,
    max: Duration,
) -> Result<Duration, String> {
    if (exclusive_zero && d.is_zero()) || d > max {
        let low = if exclusive_zero {
            "more than 0"
        } else {
            "between 0"
        };
        let and = if exclusive_zero {
            " and at most"
        } else {
            " and"
        };
        Err(format!(
            "`{name}` must be {low}{and} {}, found {}",
            humantime::format_duration(max),
            humantime::format_duration(d)
        ))
    } else {
        Ok(d)
    }
}

fn show_rate(rate: f64) -> String {
    if rate.is_finite() && rate.abs() < 1e12 {
        format!("{}/s", (rate * 1000.0).round() / 1000.0)
    } else {
        format!("{rate:e}/s")
    }
}

/// 1000000 as "1,000,000".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub use crate::model::read_capped;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_name_the_setting_and_the_value() {
        assert_eq!(check_count("users", 10, 1, MAX_USERS), Ok(10));
        let e = check_count("users", 1_000_000_000_000, 1, MAX_USERS).unwrap_err();
        assert_eq!(
            e,
            "`users` must be between 1 and 100,000, found 1000000000000"
        );
        assert!(check_count("users", 0, 1, MAX_USERS).is_err());
        assert!(check_rate("rate", f64::INFINITY, false).is_err());
        assert!(check_rate("rate", 0.0, false).is_err());
        assert_eq!(check_rate("rate", 0.0, true), Ok(0.0));
        assert!(
            check_rate("rate", f64::MAX * 10.0, false)
                .unwrap_err()
                .contains("found inf/s")
        );
        assert!(check_duration("duration", Duration::ZERO, true, MAX_DURATION).is_err());
        assert!(check_duration("warmup", Duration::ZERO, false, MAX_WARMUP).is_ok());
        let e = check_duration(
            "warmup",
            Duration::from_secs(400 * 86400),
            false,
            MAX_WARMUP,
        )
        .unwrap_err();
        assert!(e.contains("between 0 and 1h"), "{e}");
    }

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.csv");
        std::fs::write(&f, "a,b\n1,2\n").unwrap();
        assert_eq!(read_capped(&f, 100).unwrap(), b"a,b\n1,2\n");
        assert!(
            read_capped(&f, 3)
                .unwrap_err()
                .contains("more than the 3 bytes"),
            "{:?}",
            read_capped(&f, 3)
        );
        assert_eq!(
            read_capped(dir.path(), 100).unwrap_err(),
            "not a regular file"
        );
        #[cfg(unix)]
        assert_eq!(
            read_capped(std::path::Path::new("/dev/zero"), 100).unwrap_err(),
            "not a regular file"
        );
    }
}
