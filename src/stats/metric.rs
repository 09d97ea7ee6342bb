//! The metrics a step is judged on, the scale each is tested on and which direction is worse.

/// One quantity compared between baseline and candidate runs of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// Median latency.
    P50,
    /// 90th percentile latency.
    P90,
    /// 99th percentile latency.
    P99,
    /// Mean latency.
    Mean,
    /// Fraction of requests that failed.
    ErrorRate,
    /// Requests completed per second.
    Throughput,
}

/// The transform a metric is tested on, chosen so run-to-run noise is roughly additive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Natural logarithm: latency and throughput change multiplicatively.
    Log,
    /// Log-odds: error rates live in (0, 1) and are often near 0.
    Logit,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Metric; 6] = [
        Metric::P50,
        Metric::P90,
        Metric::P99,
        Metric::Mean,
        Metric::ErrorRate,
        Metric::Throughput,
    ];

    /// The metrics read from a latency histogram.
    pub const LATENCY: [Metric; 4] = [Metric::P50, Metric::P90, Metric::P99, Metric::Mean];

    /// Short lower-case name used in reports, flags and scenario files ("p50", "error_rate").
    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::Mean => "mean",
            Metric::ErrorRate => "error_rate",
            Metric::Throughput => "throughput",
        }
    }

    /// The metric called `name` (as returned by [`Metric::name`]), if any.
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// True when a larger value is a regression (everything but throughput).
    pub fn higher_is_worse(self) -> bool {
        !matches!(self, Metric::Throughput)
    }

    /// +1 when higher is worse, -1 when lower is worse: multiplies a difference into "badness".
    pub fn worse_sign(self) -> f64 {
        if self.higher_is_worse() { 1.0 } else { -1.0 }
    }

    /// The quantile level of a latency quantile metric (0.5 for p50), None otherwise.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Metric::P50 => Some(0.50),
            Metric::P90 => Some(0.90),
            Metric::P99 => Some(0.99),
            _ => None,
        }
    }

    /// True for the metrics read from a latency histogram.
    pub fn is_latency(self) -> bool {
        Metric::LATENCY.contains(&self)
    }

    /// The scale this metric's estimates and differences live on.
    pub fn scale(self) -> Scale {
        match self {
            Metric::ErrorRate => Scale::Logit,
            _ => Scale::Log,
        }
    }

    /// Maps a value on the test scale back to natural units (µs, fraction, per second).
    pub fn to_natural(self, value: f64) -> f64 {
        match self.scale() {
            Scale::Log => value.exp(),
            Scale::Logit => inverse_logit(value),
        }
    }
}

/// 1 / (1 + e^-x), evaluated without overflow for large |x|.
pub fn inverse_logit(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for m in Metric::ALL {
            assert_eq!(Metric::from_name(m.name()), Some(m));
        }
        assert_eq!(Metric::ErrorRate.name(), "error_rate");
        assert_eq!(Metric::from_name("p95"), None);
    }

    #[test]
    fn only_throughput_is_better_higher() {
        let better_higher: Vec<_> = Metric::ALL
            .into_iter()
            .filter(|m| !m.higher_is_worse())
            .collect();
        assert_eq!(better_higher, vec![Metric::Throughput]);
        assert_eq!(Metric::Throughput.worse_sign(), -1.0);
    }

    #[test]
    fn inverse_logit_is_stable_and_symmetric() {
        assert_eq!(inverse_logit(0.0), 0.5);
        assert!((inverse_logit(2.0) + inverse_logit(-2.0) - 1.0).abs() < 1e-15);
        assert!(inverse_logit(-800.0) >= 0.0 && inverse_logit(800.0) == 1.0);
        let p: f64 = 0.0123;
        assert!((inverse_logit((p / (1.0 - p)).ln()) - p).abs() < 1e-16);
    }
}
