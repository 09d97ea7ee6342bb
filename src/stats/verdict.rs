//! From a difference on the test scale and its variance to a verdict, intervals, p-values and
//! "how many more runs" (DAQ steps 6 and 7, shared by the independent and paired tests).

use super::metric::{Metric, Scale, inverse_logit};
use super::noise::NoiseSource;
use super::params::DaqParams;
use super::student_t::{student_t_isf, student_t_sf};

/// Normal quantile of the 90% two-sided interval that *unchanged* is judged on
/// (scipy.stats.norm.ppf(0.95), the value simulation.py uses).
pub const UNCHANGED_Z: f64 = 1.644_853_626_951_472_2;

/// Most extra runs [`MetricTest::runs_needed`] looks ahead.
pub const MAX_EXTRA_RUNS: u32 = 20;

/// What a test concluded about one metric of one step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Significantly worse, by more than the minimum effect.
    Regressed,
    /// Significantly better, by more than the minimum effect.
    Improved,
    /// The 90% interval of the change lies inside the equivalence margin.
    Unchanged,
    /// Neither: more runs would be needed to tell.
    Inconclusive,
}

/// A (low, high) interval of a change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

/// The error rate's change in percentage points, the scale its verdict is judged on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PointsChange {
    /// Candidate rate minus baseline rate, in percentage points (0.35 = +0.35 pp).
    pub change: f64,
    /// Interval of `change` at the test's level.
    pub interval: Interval,
    /// 90% interval of `change`, the one *unchanged* is judged on.
    pub interval_90: Interval,
}

/// The full result of testing one metric of one step: plain data for reports.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricTest {
    /// The metric tested.
    pub metric: Metric,
    /// Baseline centre in natural units (µs, fraction of requests, requests per second).
    pub baseline: f64,
    /// Candidate centre in natural units.
    pub candidate: f64,
    /// Candidate minus baseline on the test scale (ln; logit for the error rate).
    pub delta: f64,
    /// Relative change candidate / baseline - 1 (0.12 = +12%).
    pub change: f64,
    /// Interval of `change` at the test's level: e^(delta +- t* sqrt(V)) - 1.
    pub interval: Interval,
    /// 90% interval of `change`: e^(delta +- 1.645 sqrt(V)) - 1.
    pub interval_90: Interval,
    /// Error rate only: the change in percentage points, which its verdict is judged on.
    pub points: Option<PointsChange>,
    /// delta / sqrt(V); positive means the value went up (worse unless throughput).
    pub z: f64,
    /// sqrt(V), the standard error of delta.
    pub std_error: f64,
    /// Between-run noise sigma used, on the test scale.
    pub sigma: f64,
    /// Degrees of freedom of the Student-t reference.
    pub df: f64,
    /// One-sided level the metric was tested at (after Holm).
    pub alpha: f64,
    /// Critical value: Student-t quantile at 1 - alpha with `df`.
    pub t_star: f64,
    /// One-sided p-value in the worse direction.
    pub p_worse: f64,
    /// One-sided p-value in the better direction.
    pub p_better: f64,
    /// The conclusion.
    pub verdict: Verdict,
    /// Where the noise estimate came from.
    pub noise: NoiseSource,
    /// For an inconclusive result, the fewest extra candidate runs (paired: rounds), at most
    /// [`MAX_EXTRA_RUNS`], after which the verdict would settle if delta and the noise stayed.
    pub runs_needed: Option<u32>,
}

impl MetricTest {
    /// The smaller of the two one-sided p-values: the evidence of any change.
    pub fn p_min(&self) -> f64 {
        self.p_worse.min(self.p_better)
    }
}

/// The evidence a verdict is drawn from: a difference on the test scale and its variance.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Contrast {
    pub metric: Metric,
    /// Baseline centre on the test scale.
    pub baseline_centre: f64,
    /// Candidate centre minus baseline centre.
    pub delta: f64,
    /// V, the variance of delta.
    pub variance: f64,
    pub df: f64,
    pub sigma: f64,
    pub noise: NoiseSource,
}

impl Contrast {
    /// The change the verdict compares with min_effect and eq_margin at difference `d`:
    /// relative for log-scale metrics, absolute (fraction of requests) for the error rate.
    fn judged_change(&self, d: f64) -> f64 {
        match self.metric.scale() {
            Scale::Log => d.exp_m1(),
            Scale::Logit => {
                inverse_logit(self.baseline_centre + d) - inverse_logit(self.baseline_centre)
            }
        }
    }

    /// The relative change of the natural value at difference `d`.
    fn relative_change(&self, d: f64) -> f64 {
        match self.metric.scale() {
            Scale::Log => d.exp_m1(),
            Scale::Logit => {
                inverse_logit(self.baseline_centre + d) / inverse_logit(self.baseline_centre) - 1.0
            }
        }
    }

    /// Step 7 at a given standard error and critical value.
    fn verdict(&self, std_error: f64, t_star: f64, params: &DaqParams) -> Verdict {
        let worse = self.metric.worse_sign();
        let z_worse = worse * self.delta / std_error;
        let change_worse = worse * self.judged_change(self.delta);
        let min_effect = params.min_effect(self.metric);
        let margin = params.eq_margin(self.metric);
        if z_worse > t_star && change_worse > min_effect {
            Verdict::Regressed
        } else if z_worse < -t_star && change_worse < -min_effect {
            Verdict::Improved
        } else if self.judged_change(self.delta + UNCHANGED_Z * std_error) < margin
            && self.judged_change(self.delta - UNCHANGED_Z * std_error) > -margin
        {
            Verdict::Unchanged
        } else {
            Verdict::Inconclusive
        }
    }
}

/// Builds the [`MetricTest`] for `contrast` at one-sided level `alpha`. `with_more(m)` gives
/// the (variance, df) the test would have with `m` more candidate runs, for `runs_needed`.
pub(crate) fn conclude(
    contrast: &Contrast,
    params: &DaqParams,
    alpha: f64,
    with_more: impl Fn(u32) -> (f64, f64),
) -> MetricTest {
    let std_error = contrast.variance.sqrt();
    let t_star = student_t_isf(alpha, contrast.df);
    let verdict = contrast.verdict(std_error, t_star, params);
    let z = contrast.delta / std_error;
    let z_worse = contrast.metric.worse_sign() * z;
    let d = contrast.delta;
    let interval_of = |change: &dyn Fn(f64) -> f64, half: f64| Interval {
        low: change(d - half),
        high: change(d + half),
    };
    let relative = |x: f64| contrast.relative_change(x);
    let points = (contrast.metric.scale() == Scale::Logit).then(|| {
        let pp = |x: f64| 100.0 * contrast.judged_change(x);
        PointsChange {
            change: pp(d),
            interval: interval_of(&pp, t_star * std_error),
            interval_90: interval_of(&pp, UNCHANGED_Z * std_error),
        }
    });
    let runs_needed = (verdict == Verdict::Inconclusive)
        .then(|| {
            (1..=MAX_EXTRA_RUNS).find(|&m| {
                let (variance, df) = with_more(m);
                // Where more runs leave the df as it is, reuse t* rather than re-invert.
                let t_more = if df == contrast.df {
                    t_star
                } else {
                    student_t_isf(alpha, df)
                };
                let settled = contrast.verdict(variance.sqrt(), t_more, params);
                settled != Verdict::Inconclusive
            })
        })
        .flatten();
    MetricTest {
        metric: contrast.metric,
        baseline: contrast.metric.to_natural(contrast.baseline_centre),
        candidate: contrast.metric.to_natural(contrast.baseline_centre + d),
        delta: d,
        change: relative(d),
        interval: interval_of(&relative, t_star * std_error),
        interval_90: interval_of(&relative, UNCHANGED_Z * std_error),
        points,
        z,
        std_error,
        sigma: contrast.sigma,
        df: contrast.df,
        alpha,
        t_star,
        p_worse: student_t_sf(z_worse, contrast.df),
        p_better: student_t_sf(-z_worse, contrast.df),
        verdict,
        noise: contrast.noise,
        runs_needed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(metric: Metric, delta: f64, variance: f64) -> Contrast {
        Contrast {
            metric,
            baseline_centre: 20_000f64.ln(),
            delta,
            variance,
            df: 13.0,
            sigma: 0.05,
            noise: NoiseSource::History { runs: 10 },
        }
    }

    fn run(c: &Contrast) -> MetricTest {
        conclude(c, &DaqParams::default(), 0.005, |_| (c.variance, c.df))
    }

    #[test]
    fn the_four_verdicts() {
        // t*(0.995, 13) = 3.0123: z = 4 and +10.5% is a regression.
        assert_eq!(
            run(&contrast(Metric::P50, 0.1, 0.025 * 0.025)).verdict,
            Verdict::Regressed
        );
        assert_eq!(
            run(&contrast(Metric::P50, -0.1, 0.025 * 0.025)).verdict,
            Verdict::Improved
        );
        // Significant but below the 3% minimum effect: not a regression; the tight interval
        // makes it unchanged.
        assert_eq!(
            run(&contrast(Metric::P50, 0.02, 0.004 * 0.004)).verdict,
            Verdict::Unchanged
        );
        assert_eq!(
            run(&contrast(Metric::P50, 0.05, 0.05 * 0.05)).verdict,
            Verdict::Inconclusive
        );
    }

    #[test]
    fn throughput_is_worse_when_it_drops() {
        let drop = run(&contrast(Metric::Throughput, -0.1, 0.025 * 0.025));
        assert_eq!(drop.verdict, Verdict::Regressed);
        assert!(drop.p_worse < 0.005 && drop.p_better > 0.99);
        assert!(drop.change < 0.0);
        assert_eq!(
            run(&contrast(Metric::Throughput, 0.1, 0.025 * 0.025)).verdict,
            Verdict::Improved
        );
    }

    #[test]
    fn intervals_and_p_values_are_consistent() {
        let t = run(&contrast(Metric::P99, 0.1, 0.04 * 0.04));
        assert!((t.z - 2.5).abs() < 1e-12);
        assert!((t.change - 0.1f64.exp_m1()).abs() < 1e-15);
        assert!(t.interval.low < t.interval_90.low && t.interval_90.high < t.interval.high);
        assert!((t.interval.high - (0.1 + t.t_star * 0.04).exp_m1()).abs() < 1e-15);
        assert!((t.p_worse + t.p_better - 1.0).abs() < 1e-15);
        // scipy.stats.t.sf(2.5, 13)
        assert!((t.p_worse - 0.013_294_391_405_428_731).abs() < 1e-12);
        assert_eq!(t.p_min(), t.p_worse);
        assert_eq!(t.verdict, Verdict::Inconclusive);
        assert!(t.points.is_none());
    }

    #[test]
    fn runs_needed_is_the_first_extra_run_that_settles() {
        // Variance shrinks as 1/(1 + m): z = 2 sqrt(1 + m) is 2.83 at m = 1 (and its 90% interval
        // reaches +13.5%), 3.46 > 3.0123 at m = 2.
        let c = contrast(Metric::P50, 0.08, 0.04 * 0.04);
        let t = conclude(&c, &DaqParams::default(), 0.005, |m| {
            (0.04 * 0.04 / f64::from(1 + m), 13.0)
        });
        assert_eq!(t.verdict, Verdict::Inconclusive);
        assert_eq!(t.runs_needed, Some(2));
        // A variance that never shrinks never settles.
        assert_eq!(run(&c).runs_needed, None);
        // Settled verdicts need no more runs.
        assert_eq!(
            run(&contrast(Metric::P50, 0.1, 0.025 * 0.025)).runs_needed,
            None
        );
    }

    #[test]
    fn error_rate_is_judged_in_points() {
        // Baseline 1% errors; the candidate's log-odds up by 0.5 is about +0.64 points.
        let base = (0.01f64 / 0.99).ln();
        let c = Contrast {
            baseline_centre: base,
            ..contrast(Metric::ErrorRate, 0.5, 0.1 * 0.1)
        };
        let t = run(&c);
        let points = t.points.expect("error rate reports points");
        let expected = 100.0 * (inverse_logit(base + 0.5) - 0.01);
        assert!(
            (points.change - expected).abs() < 1e-12,
            "{}",
            points.change
        );
        assert!((t.baseline - 0.01).abs() < 1e-15);
        assert!((t.change - (inverse_logit(base + 0.5) / 0.01 - 1.0)).abs() < 1e-12);
        assert_eq!(t.verdict, Verdict::Regressed);
        // The same log-odds change on a 0.01% rate is below the 0.1 point minimum effect.
        let rare = (0.0001f64 / 0.9999).ln();
        let c = Contrast {
            baseline_centre: rare,
            ..c
        };
        assert_ne!(run(&c).verdict, Verdict::Regressed);
    }
}
