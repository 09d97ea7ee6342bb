//! The knobs of the DAQ test with their documented defaults, as plain data a scenario file or
//! command-line flags can override field by field.

use super::metric::Metric;

/// One value per metric, so each default can be overridden on its own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PerMetric<T> {
    /// Median latency.
    pub p50: T,
    /// 90th percentile latency.
    pub p90: T,
    /// 99th percentile latency.
    pub p99: T,
    /// Mean latency.
    pub mean: T,
    /// Error rate.
    pub error_rate: T,
    /// Throughput.
    pub throughput: T,
}

impl<T: Copy> PerMetric<T> {
    /// The value for `metric`.
    pub fn get(&self, metric: Metric) -> T {
        match metric {
            Metric::P50 => self.p50,
            Metric::P90 => self.p90,
            Metric::P99 => self.p99,
            Metric::Mean => self.mean,
            Metric::ErrorRate => self.error_rate,
            Metric::Throughput => self.throughput,
        }
    }

    /// Replaces the value for `metric`.
    pub fn set(&mut self, metric: Metric, value: T) {
        let slot = match metric {
            Metric::P50 => &mut self.p50,
            Metric::P90 => &mut self.p90,
            Metric::P99 => &mut self.p99,
            Metric::Mean => &mut self.mean,
            Metric::ErrorRate => &mut self.error_rate,
            Metric::Throughput => &mut self.throughput,
        };
        *slot = value;
    }
}

/// Parameters of the drift-aware log-quantile test (regression-detection.md, "Defaults").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DaqParams {
    /// One-sided significance level per metric before Holm's correction across steps.
    pub alpha: f64,
    /// Prior weight, in pseudo-runs, of `sigma0` against the history's own spread.
    pub nu0: f64,
    /// Smallest between-run noise (log scale) the test will ever assume.
    pub floor: f64,
    /// Smallest change that can be called regressed or improved: relative for latency and
    /// throughput (0.03 = 3%), absolute for the error rate (0.001 = 0.1 percentage point).
    pub min_effect: PerMetric<f64>,
    /// Prior between-run standard deviation on the test scale (ln, logit for error rate).
    pub sigma0: PerMetric<f64>,
    /// *Unchanged* needs the 90% interval of the change inside plus or minus this margin:
    /// relative for latency and throughput, absolute (fraction of requests) for the error rate.
    pub eq_margin: PerMetric<f64>,
    /// Most degrees of freedom one candidate run's deviation can claim: a tail quantile moves
    /// from run to run with a heavier tail than a normal (a hiccup burst over 1% of a run's
    /// requests doubles its p99), so its reference Student-t has at most this many df per
    /// candidate run; infinite where the history's own df is right.
    pub run_df: PerMetric<f64>,
}

impl Default for DaqParams {
    fn default() -> Self {
        DaqParams {
            alpha: 0.005,
            nu0: 4.0,
            floor: 0.01,
            min_effect: PerMetric {
                p50: 0.03,
                p90: 0.03,
                p99: 0.05,
                mean: 0.03,
                // Absolute: +0.1 percentage point of requests.
                error_rate: 0.001,
                // A 3% drop in completed requests per second, like the body latency metrics.
                throughput: 0.03,
            },
            sigma0: PerMetric {
                p50: 0.05,
                p90: 0.06,
                p99: 0.15,
                mean: 0.06,
                // Logit scale: error rates of a healthy service wander by ~20% between runs
                // (flaky dependencies, retries), more than its latency does.
                error_rate: 0.2,
                throughput: 0.05,
            },
            eq_margin: PerMetric {
                p50: 0.10,
                p90: 0.10,
                p99: 0.10,
                mean: 0.10,
                // Absolute: a relative margin on a rate near zero is never met (the logit of
                // 0 errors has se ~1.4), so the error rate is "unchanged" within 0.5 point.
                error_rate: 0.005,
                throughput: 0.10,
            },
            // Calibrated on the reference generator (100,000 seeded A/A cells, history of 10,
            // one candidate run: daq_acceptance's `p99_tail_calibration_over_100000_cells`):
            // with the history's df 13 a p99 rose past t* 2.4x as often as alpha = 0.005
            // says, 3.7x at alpha / 6 and 5.4x at alpha / 150; with 6 per run 0.89x, 0.32x and
            // never. Three candidate runs (18) keep the history's df.
            run_df: PerMetric {
                p50: f64::INFINITY,
                p90: f64::INFINITY,
                p99: 6.0,
                mean: f64::INFINITY,
                error_rate: f64::INFINITY,
                throughput: f64::INFINITY,
            },
        }
    }
}

impl DaqParams {
    /// Smallest reportable change for `metric` (see [`DaqParams::min_effect`]).
    pub fn min_effect(&self, metric: Metric) -> f64 {
        self.min_effect.get(metric)
    }

    /// Prior between-run noise for `metric` on its test scale.
    pub fn sigma0(&self, metric: Metric) -> f64 {
        self.sigma0.get(metric)
    }

    /// Equivalence margin for `metric` (see [`DaqParams::eq_margin`]).
    pub fn eq_margin(&self, metric: Metric) -> f64 {
        self.eq_margin.get(metric)
    }

    /// Degrees of freedom of the reference Student-t for `metric` with `runs` candidate runs
    /// and a noise estimate of `noise_df`: the fewer of the two (see [`DaqParams::run_df`]).
    pub fn reference_df(&self, metric: Metric, noise_df: f64, runs: f64) -> f64 {
        noise_df.min(self.run_df.get(metric) * runs)
    }

    /// Prior noise of one interleaved round's log-ratio: sqrt(2) x sigma0, as the ratio
    /// carries the residual noise of two runs.
    pub fn paired_sigma0(&self, metric: Metric) -> f64 {
        std::f64::consts::SQRT_2 * self.sigma0(metric)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = DaqParams::default();
        assert_eq!((p.alpha, p.nu0, p.floor), (0.005, 4.0, 0.01));
        let min: Vec<f64> = Metric::LATENCY.iter().map(|&m| p.min_effect(m)).collect();
        assert_eq!(min, vec![0.03, 0.03, 0.05, 0.03]);
        let sigma: Vec<f64> = Metric::LATENCY.iter().map(|&m| p.sigma0(m)).collect();
        assert_eq!(sigma, vec![0.05, 0.06, 0.15, 0.06]);
        assert_eq!(p.sigma0(Metric::Throughput), 0.05);
        assert_eq!(p.min_effect(Metric::ErrorRate), 0.001);
        assert_eq!(p.eq_margin(Metric::P99), 0.10);
        assert!((p.paired_sigma0(Metric::P50) - 0.070_710_678_118_654_76).abs() < 1e-15);
        assert_eq!(p.reference_df(Metric::P99, 13.0, 1.0), 6.0);
        assert_eq!(p.reference_df(Metric::P99, 13.0, 3.0), 13.0);
        assert_eq!(p.reference_df(Metric::P50, 13.0, 1.0), 13.0);
        assert_eq!(p.reference_df(Metric::P99, 4.0, 1.0), 4.0);
    }

    #[test]
    fn fields_override_one_metric_at_a_time() {
        let mut p = DaqParams::default();
        p.min_effect.set(Metric::P99, 0.08);
        assert_eq!(p.min_effect(Metric::P99), 0.08);
        assert_eq!(p.min_effect(Metric::P90), 0.03);
    }
}
