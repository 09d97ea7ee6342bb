//! Per-run point estimates with their within-run standard errors on the test scale
//! (DAQ steps 1 and 2).

use super::distribution::{Distribution, quantile_rank};
use super::metric::Metric;

/// Smallest within-run standard error (log scale): a bucket's width can make the
/// order-statistic interval collapse to zero, which would claim impossible precision.
pub const MIN_STANDARD_ERROR: f64 = 5e-4;

/// Smallest latency (µs) taken into a log: the histogram's resolution, as the simulation clips.
pub const MIN_LATENCY_US: f64 = 1.0;

/// One run's value of one metric on its test scale (ln, or logit for the error rate) with
/// the standard error of that value due to sampling within the run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// Point estimate on the test scale.
    pub value: f64,
    /// Within-run standard error on the same scale.
    pub se: f64,
}

/// The estimate of latency metric `metric` from a run's histogram, or None when it is empty.
///
/// Quantile q: the value at rank max(1, ceil(q n)) with the distribution-free order-statistic
/// standard error 0.5 [ln v(ceil(nq + d)) - ln v(floor(nq - d))], d = sqrt(n q (1 - q)).
/// Mean: ln of the weighted mean, se = sd / (mean sqrt(n)) with the n - 1 variance.
/// Both standard errors are floored at [`MIN_STANDARD_ERROR`], as in simulation.py.
///
/// # Panics
/// If `metric` is not a latency metric.
pub fn estimate_latency(distribution: &Distribution, metric: Metric) -> Option<Estimate> {
    assert!(
        metric.is_latency(),
        "{} is not read from a latency histogram",
        metric.name()
    );
    if distribution.is_empty() {
        return None;
    }
    let estimate = match metric.quantile() {
        Some(q) => estimate_quantile(distribution, q),
        None => estimate_mean(distribution),
    };
    Some(estimate)
}

fn ln_latency(value: f64) -> f64 {
    value.max(MIN_LATENCY_US).ln()
}

fn estimate_quantile(distribution: &Distribution, q: f64) -> Estimate {
    let n = distribution.count();
    let value = distribution
        .value_at_rank(quantile_rank(q, n))
        .expect("distribution is not empty");
    let nq = q * n as f64;
    let d = (n as f64 * q * (1.0 - q)).sqrt();
    let low_rank = ((nq - d).floor().max(1.0)) as u64;
    let high_rank = ((nq + d).ceil() as u64).min(n);
    let at = |rank| ln_latency(distribution.value_at_rank(rank).expect("not empty"));
    let se = 0.5 * (at(high_rank) - at(low_rank));
    Estimate {
        value: ln_latency(value),
        se: se.max(MIN_STANDARD_ERROR),
    }
}

fn estimate_mean(distribution: &Distribution) -> Estimate {
    let n = distribution.count() as f64;
    let mean = distribution.mean().expect("distribution is not empty");
    let squares: f64 = distribution
        .buckets()
        .map(|(v, c)| (v - mean) * (v - mean) * c as f64)
        .sum();
    // One recording has no spread to speak of; the floor below then sets the error.
    let sd = if n > 1.0 {
        (squares / (n - 1.0)).max(0.0).sqrt()
    } else {
        0.0
    };
    let mean = mean.max(MIN_LATENCY_US);
    Estimate {
        value: mean.ln(),
        se: (sd / (mean * n.sqrt())).max(MIN_STANDARD_ERROR),
    }
}

/// The error-rate estimate of a run with `errors` failures out of `requests`: logit of
/// (e + 0.5) / (n + 1) with se^2 = 1/(e + 0.5) + 1/(n - e + 0.5). The half counts keep runs
/// with no errors finite. `errors` above `requests` is read as `requests`.
pub fn estimate_error_rate(errors: u64, requests: u64) -> Estimate {
    let e = errors.min(requests) as f64 + 0.5;
    let ok = (requests - errors.min(requests)) as f64 + 0.5;
    Estimate {
        value: (e / ok).ln(),
        se: (1.0 / e + 1.0 / ok).sqrt(),
    }
}

/// The throughput estimate of a run: ln of requests per second, with no within-run error
/// (a run yields one rate; all its noise is between runs). Non-positive rates are clamped to
/// the smallest positive float so the log stays finite.
pub fn estimate_throughput(per_second: f64) -> Estimate {
    Estimate {
        value: per_second.max(f64::MIN_POSITIVE).ln(),
        se: 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn median_and_its_order_statistic_interval() {
        // 100 values 1..=100: n q = 50, d = 5, ranks 45 and 55.
        let d = Distribution::from_buckets((1..=100).map(|v| (f64::from(v), 1)));
        let e = estimate_latency(&d, Metric::P50).unwrap();
        assert_eq!(e.value, 50f64.ln());
        assert!(
            close(e.se, 0.5 * (55f64.ln() - 45f64.ln()), 1e-15),
            "se {}",
            e.se
        );
        // p90: n q = 90, d = 3, ranks 87 and 93.
        let e = estimate_latency(&d, Metric::P90).unwrap();
        assert_eq!(e.value, 90f64.ln());
        assert!(close(e.se, 0.5 * (93f64.ln() - 87f64.ln()), 1e-15));
        // p99: n q = 99, d = 0.995, ranks floor(98.005) = 98 and min(100, ceil(99.995)) = 100.
        let e = estimate_latency(&d, Metric::P99).unwrap();
        assert_eq!(e.value, 99f64.ln());
        assert!(close(e.se, 0.5 * (100f64.ln() - 98f64.ln()), 1e-15));
    }

    #[test]
    fn quantile_error_is_floored_for_a_single_bucket() {
        let d = Distribution::from_buckets([(20_000.0, 5_000)]);
        for m in Metric::LATENCY {
            let e = estimate_latency(&d, m).unwrap();
            assert_eq!(e.se, MIN_STANDARD_ERROR, "{}", m.name());
            assert!(close(e.value, 20_000f64.ln(), 1e-12));
        }
    }

    #[test]
    fn mean_and_its_error_follow_the_simulation() {
        // values 10 (x3) and 20 (x1): mean 12.5, sample sd = sqrt(75 / 3) = 5.
        let d = Distribution::from_buckets([(10.0, 3), (20.0, 1)]);
        let e = estimate_latency(&d, Metric::Mean).unwrap();
        assert!(close(e.value, 12.5f64.ln(), 1e-15));
        assert!(close(e.se, 5.0 / (12.5 * 2.0), 1e-15), "se {}", e.se);
    }

    #[test]
    fn empty_histogram_has_no_estimate() {
        assert_eq!(
            estimate_latency(&Distribution::default(), Metric::P99),
            None
        );
    }

    #[test]
    #[should_panic(expected = "error_rate is not read from a latency histogram")]
    fn error_rate_is_not_a_latency_metric() {
        estimate_latency(&Distribution::from_buckets([(1.0, 1)]), Metric::ErrorRate);
    }

    #[test]
    fn quantile_error_shrinks_like_one_over_root_n() {
        // A smooth distribution: se at 4x the requests is about half.
        let spread = |n: u32| {
            let d = Distribution::from_buckets(
                (1..=n).map(|i| ((f64::from(i) / f64::from(n) * 50.0).exp(), 1)),
            );
            estimate_latency(&d, Metric::P50).unwrap().se
        };
        let ratio = spread(2_000) / spread(8_000);
        assert!((1.9..2.1).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn quantile_value_is_inside_its_interval() {
        for_all(200, |rng| {
            let n = rng.usize(1..3_000);
            let d =
                Distribution::from_buckets((0..n).map(|_| (rng.f64() * 1e5 + 1.0, rng.u64(1..4))));
            for m in [Metric::P50, Metric::P90, Metric::P99] {
                let e = estimate_latency(&d, m).unwrap();
                assert!(
                    e.se >= MIN_STANDARD_ERROR && e.se.is_finite(),
                    "{} se {}",
                    m.name(),
                    e.se
                );
                let q = m.quantile().unwrap();
                assert_eq!(e.value, d.quantile(q).unwrap().ln());
            }
        });
    }

    #[test]
    fn error_rate_logit_and_error() {
        let e = estimate_error_rate(9, 1_000);
        assert!(close(e.value, (9.5f64 / 991.5).ln(), 1e-15));
        assert!(close(e.se * e.se, 1.0 / 9.5 + 1.0 / 991.5, 1e-15));
        let none = estimate_error_rate(0, 0);
        assert_eq!(none.value, 0.0);
        assert_eq!(estimate_error_rate(7, 5), estimate_error_rate(5, 5));
    }

    #[test]
    fn throughput_is_logged_without_error() {
        assert_eq!(
            estimate_throughput(250.0),
            Estimate {
                value: 250f64.ln(),
                se: 0.0
            }
        );
        assert!(estimate_throughput(0.0).value.is_finite());
    }
}
