//! Text for the terminal: the run summary, threshold results and comparison tables.

mod comparison;
mod run;
mod suite;

pub use comparison::{comparison, thresholds};
pub use run::{health, summary};
pub use suite::suite;

use crate::model::SummaryMetric;

/// Formats microseconds for people: `850µs`, `26.1ms`, `1.25s`.
pub fn fmt_us(us: u64) -> String {
    let us = us as f64;
    if us < 1_000.0 {
        format!("{us:.0}µs")
    } else if us < 10_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else if us < 1_000_000.0 {
        format!("{:.1}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// Formats a summary metric's value in its unit: `26.1ms`, `0.50%`, `98.5/s`.
pub fn format_value(metric: SummaryMetric, value: f64) -> String {
    match metric {
        SummaryMetric::ErrorRate => format!("{:.2}%", value * 100.0),
        SummaryMetric::Throughput => format!("{value:.1}/s"),
        _ => fmt_us(value.round() as u64),
    }
}

/// A number with at most one decimal, `.0` dropped.
pub fn trim(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// At most `n` characters, with an ellipsis when cut.
pub fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n).chain(['…']).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_read_naturally() {
        assert_eq!(fmt_us(850), "850µs");
        assert_eq!(fmt_us(2_345), "2.35ms");
        assert_eq!(fmt_us(26_140), "26.1ms");
        assert_eq!(fmt_us(1_250_000), "1.25s");
    }
}
