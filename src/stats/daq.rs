//! The drift-aware log-quantile (DAQ) test of candidate runs against baseline runs
//! (regression-detection.md steps 3 to 7).

use super::estimate::Estimate;
use super::metric::Metric;
use super::noise::{MIN_HISTORY_RUNS, history_noise};
use super::params::DaqParams;
use super::verdict::{Contrast, MetricTest, conclude};

/// Variance inflation of a median centre over a mean one for normal data (pi / 2).
const MEDIAN_VARIANCE_FACTOR: f64 = std::f64::consts::FRAC_PI_2;

/// Tests `metric` of one step: candidate runs against baseline runs, with the between-run
/// noise learned from `history` (earlier baseline-branch runs of the step).
///
/// An empty `history` with at least three baselines learns the noise from the baselines,
/// as the design says; a history of one or two runs falls back to the prior. `alpha` is the
/// one-sided level, passed explicitly because Holm's procedure lowers it.
///
/// # Panics
/// If `candidates` or `baselines` is empty.
pub fn daq(
    metric: Metric,
    candidates: &[Estimate],
    baselines: &[Estimate],
    history: &[Estimate],
    params: &DaqParams,
    alpha: f64,
) -> MetricTest {
    assert!(
        !candidates.is_empty(),
        "daq needs at least one candidate run"
    );
    assert!(!baselines.is_empty(), "daq needs at least one baseline run");
    let history = if history.is_empty() && baselines.len() >= MIN_HISTORY_RUNS {
        baselines
    } else {
        history
    };
    let noise = history_noise(metric, history, params);
    let sigma2 = noise.variance;

    // Step 4: a median resists one odd baseline run, but only from three runs on.
    let (baseline_centre, centre_factor) = if baselines.len() >= MIN_HISTORY_RUNS {
        (
            median(baselines.iter().map(|e| e.value)),
            MEDIAN_VARIANCE_FACTOR,
        )
    } else {
        (mean(baselines.iter().map(|e| e.value)), 1.0)
    };
    let candidate_centre = mean(candidates.iter().map(|e| e.value));

    // Step 5: each side's variance is its runs' drift plus sampling, over its run count.
    let k = candidates.len() as f64;
    let n = baselines.len() as f64;
    let candidate_per_run = sigma2 + mean(candidates.iter().map(|e| e.se * e.se));
    let baseline_term = centre_factor * (sigma2 + mean(baselines.iter().map(|e| e.se * e.se))) / n;
    let variance_with = |runs: f64| candidate_per_run / runs + baseline_term;

    // Step 6: a tail quantile of few candidate runs is judged against a heavier tail.
    let df_with = |runs: f64| params.reference_df(metric, noise.df, runs);
    let contrast = Contrast {
        metric,
        baseline_centre,
        delta: candidate_centre - baseline_centre,
        variance: variance_with(k),
        df: df_with(k),
        sigma: sigma2.sqrt(),
        noise: noise.source,
    };
    // More candidate runs shrink only the candidate's share and lighten its tail.
    conclude(&contrast, params, alpha, |more| {
        let runs = k + f64::from(more);
        (variance_with(runs), df_with(runs))
    })
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (n, sum) = values.fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    sum / n as f64
}

/// Median, averaging the middle two of an even count (as numpy).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut sorted: Vec<f64> = values.collect();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        0.5 * (sorted[mid - 1] + sorted[mid])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::noise::NoiseSource;
    use crate::stats::property::for_all;
    use crate::stats::verdict::Verdict;

    fn est(value: f64, se: f64) -> Estimate {
        Estimate { value, se }
    }

    /// simulation.py's `daq` on these inputs (run once, values pasted) gives for p50:
    /// verdict inconclusive, effect 0.077884..., interval (-0.048146..., 0.220601...),
    /// z = 1.816900000214475, df = 13.
    #[test]
    fn matches_the_reference_on_a_worked_example() {
        let base = 20_000f64.ln();
        let history: Vec<Estimate> = [
            0.00, 0.03, -0.02, 0.05, -0.04, 0.01, 0.02, -0.01, 0.04, -0.03,
        ]
        .iter()
        .map(|&d| est(base + d, 0.01))
        .collect();
        let candidate = [est(base + 0.08, 0.012)];
        let t = daq(
            Metric::P50,
            &candidate,
            &history,
            &history,
            &DaqParams::default(),
            0.005,
        );
        // var(history) = 0.00091667, mean se^2 = 1e-4 -> s2 = 0.00081667;
        // sigma^2 = (4 * 0.0025 + 9 * s2) / 13 = 0.0013346; V = sigma^2 + 1.44e-4
        // + pi/2 (sigma^2 + 1e-4) / 10 = 0.0017040; median centre = base + 0.005.
        let s2 = 0.000_916_666_666_666_666_7 - 1e-4;
        let sigma2 = (4.0 * 0.0025 + 9.0 * s2) / 13.0;
        let v = sigma2 + 1.44e-4 + std::f64::consts::FRAC_PI_2 * (sigma2 + 1e-4) / 10.0;
        assert!((t.delta - 0.075).abs() < 1e-12, "delta {}", t.delta);
        assert!((t.std_error - v.sqrt()).abs() < 1e-12);
        assert!((t.z - 0.075 / v.sqrt()).abs() < 1e-12, "z {}", t.z);
        assert!((t.z - 1.816_900_000_214_475).abs() < 1e-12, "z {}", t.z);
        assert!((t.change - 0.077_884_150_884_632_69).abs() < 1e-12);
        assert!((t.interval.low + 0.048_146_403_190_848_39).abs() < 1e-10);
        assert!((t.interval.high - 0.220_601_830_599_832_77).abs() < 1e-10);
        assert_eq!(t.df, 13.0);
        assert_eq!(t.noise, NoiseSource::History { runs: 10 });
        assert!((t.t_star - 3.012_275_838_716_578).abs() < 1e-10);
        assert!((t.baseline - 20_000.0 * 0.005f64.exp()).abs() < 1e-8);
        assert_eq!(t.verdict, Verdict::Inconclusive);
    }

    #[test]
    fn one_baseline_uses_a_mean_centre_and_the_prior_without_history() {
        let b = [est(10.0, 0.0)];
        let c = [est(10.2, 0.0)];
        let t = daq(Metric::P99, &c, &b, &[], &DaqParams::default(), 0.005);
        assert_eq!(t.noise, NoiseSource::Prior);
        assert_eq!(t.df, 4.0);
        // V = 2 sigma0^2, no pi/2 factor.
        assert!((t.std_error - (2.0f64 * 0.15 * 0.15).sqrt()).abs() < 1e-15);
    }

    #[test]
    fn one_candidate_run_judges_its_p99_against_a_heavier_tail() {
        // A p99 one run doubles (a hiccup burst) is as likely as the history's spread says
        // only within a Student-t of 6 df; three runs average such a burst away.
        let h: Vec<Estimate> = (0..10)
            .map(|i| est(f64::from(i % 5) * 0.04, 0.01))
            .collect();
        let p = DaqParams::default();
        let one = daq(Metric::P99, &[est(0.5, 0.01)], &h, &h, &p, 0.005);
        assert_eq!(one.df, 6.0);
        assert!(one.t_star > daq(Metric::P50, &[est(0.5, 0.01)], &h, &h, &p, 0.005).t_star);
        let three = daq(Metric::P99, &[est(0.5, 0.01); 3], &h, &h, &p, 0.005);
        assert_eq!(three.df, 13.0);
        assert_eq!(
            daq(Metric::P50, &[est(0.5, 0.01)], &h, &h, &p, 0.005).df,
            13.0
        );
    }

    #[test]
    fn baselines_serve_as_history_when_none_is_given() {
        let b: Vec<Estimate> = (0..5).map(|i| est(f64::from(i) * 0.01, 0.001)).collect();
        let t = daq(Metric::P50, &b[..1], &b, &[], &DaqParams::default(), 0.005);
        assert_eq!(t.noise, NoiseSource::History { runs: 5 });
        let t = daq(
            Metric::P50,
            &b[..1],
            &b[..2],
            &[],
            &DaqParams::default(),
            0.005,
        );
        assert_eq!(t.noise, NoiseSource::Prior);
    }

    #[test]
    fn more_candidate_runs_never_hurt() {
        // runs_needed is monotone in evidence: an inconclusive shift with a history settles
        // after at most as many extra runs as a noisier one.
        for_all(200, |rng| {
            let history: Vec<Estimate> = (0..10)
                .map(|_| est((rng.f64() - 0.5) * 0.1, 0.01))
                .collect();
            let shift = rng.f64() * 0.2;
            let c = [est(shift, 0.01)];
            let p = DaqParams::default();
            let t = daq(Metric::P50, &c, &history, &history, &p, 0.005);
            let c3 = [c[0]; 3];
            let t3 = daq(Metric::P50, &c3, &history, &history, &p, 0.005);
            assert!(t3.std_error < t.std_error);
            if let (Some(one), Some(three)) = (t.runs_needed, t3.runs_needed) {
                assert!(
                    three + 2 >= one && three <= one,
                    "k=1 needs {one}, k=3 needs {three}"
                );
            }
            if t.verdict == Verdict::Inconclusive
                && let Some(m) = t.runs_needed
            {
                let more = vec![c[0]; 1 + m as usize];
                let settled = daq(Metric::P50, &more, &history, &history, &p, 0.005);
                assert_ne!(
                    settled.verdict,
                    Verdict::Inconclusive,
                    "shift {shift}, m {m}"
                );
                if m > 1 {
                    let fewer = vec![c[0]; m as usize];
                    let still = daq(Metric::P50, &fewer, &history, &history, &p, 0.005);
                    assert_eq!(still.verdict, Verdict::Inconclusive, "shift {shift}, m {m}");
                }
            }
        });
    }

    #[test]
    fn verdict_is_symmetric_in_direction() {
        for_all(200, |rng| {
            let history: Vec<Estimate> =
                (0..6).map(|_| est((rng.f64() - 0.5) * 0.1, 0.01)).collect();
            let mirrored: Vec<Estimate> = history.iter().map(|e| est(-e.value, e.se)).collect();
            let shift = (rng.f64() - 0.5) * 0.6;
            let p = DaqParams::default();
            let up = daq(
                Metric::P90,
                &[est(shift, 0.01)],
                &history,
                &history,
                &p,
                0.005,
            );
            let down = daq(
                Metric::P90,
                &[est(-shift, 0.01)],
                &mirrored,
                &mirrored,
                &p,
                0.005,
            );
            assert!((up.z + down.z).abs() < 1e-9);
            // Regressed and improved mirror exactly away from the min_effect edge (it is a
            // relative change, so +x% and -x% differ slightly); the equivalence rule is not
            // symmetric in log space, so unchanged and inconclusive may swap.
            if (shift.abs() - 0.03).abs() > 0.005 {
                match up.verdict {
                    Verdict::Regressed => assert_eq!(down.verdict, Verdict::Improved),
                    Verdict::Improved => assert_eq!(down.verdict, Verdict::Regressed),
                    _ => assert!(matches!(
                        down.verdict,
                        Verdict::Unchanged | Verdict::Inconclusive
                    )),
                }
            }
        });
    }

    #[test]
    fn same_inputs_same_result() {
        let h: Vec<Estimate> = (0..10)
            .map(|i| est(f64::from(i % 3) * 0.02, 0.01))
            .collect();
        let c = [est(0.1, 0.02)];
        let p = DaqParams::default();
        assert_eq!(
            daq(Metric::Mean, &c, &h, &h, &p, 0.005),
            daq(Metric::Mean, &c, &h, &h, &p, 0.005)
        );
    }

    #[test]
    #[should_panic(expected = "at least one candidate")]
    fn no_candidate_is_a_bug() {
        daq(
            Metric::P50,
            &[],
            &[est(1.0, 0.0)],
            &[],
            &DaqParams::default(),
            0.005,
        );
    }
}
