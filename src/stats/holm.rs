//! Holm's step-down procedure across the steps of a scenario, so testing S steps does not
//! multiply the run's false alarms by S (regression-detection.md step 9).

use super::daq::daq;
use super::estimate::Estimate;
use super::metric::Metric;
use super::paired::daq_paired;
use super::params::DaqParams;
use super::verdict::{MetricTest, Verdict};

/// The level each test is run at under Holm's step-down: sorted by ascending p, the i-th of S
/// (1-based) is tested at alpha / (S - i + 1) and rejected when p < that level (strict, as
/// DAQ's z > t*). Tests after the first non-rejection get None: they cannot be declared
/// significant. With one test its level is exactly `alpha`. Ties keep input order; NaN sorts
/// last.
pub fn holm(p_values: &[f64], alpha: f64) -> Vec<Option<f64>> {
    let s = p_values.len();
    let mut order: Vec<usize> = (0..s).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut levels = vec![None; s];
    for (i, &index) in order.iter().enumerate() {
        let level = alpha / (s - i) as f64;
        levels[index] = Some(level);
        // A NaN p-value is no evidence: it stops the procedure like a large one.
        let rejected = p_values[index] < level;
        if !rejected {
            break;
        }
    }
    levels
}

/// The data one metric of one step is tested on.
#[derive(Clone, Copy, Debug)]
pub enum Evidence<'a> {
    /// Independent runs: candidates, baselines and the noise history (see [`daq`]).
    Runs {
        /// Candidate runs' estimates.
        candidates: &'a [Estimate],
        /// Baseline runs' estimates.
        baselines: &'a [Estimate],
        /// Earlier baseline-branch runs the noise is learned from.
        history: &'a [Estimate],
    },
    /// Interleaved rounds (see [`daq_paired`]).
    Rounds {
        /// (baseline, candidate) estimates per round.
        rounds: &'a [(Estimate, Estimate)],
        /// Log-ratios of earlier A/A rounds.
        aa_log_ratios: &'a [f64],
    },
}

/// One metric of one step with its evidence.
#[derive(Clone, Copy, Debug)]
pub struct MetricEvidence<'a> {
    /// The metric.
    pub metric: Metric,
    /// What it is tested on.
    pub evidence: Evidence<'a>,
}

impl MetricEvidence<'_> {
    /// Runs the metric's test at one-sided level `alpha`.
    pub fn test(&self, params: &DaqParams, alpha: f64) -> MetricTest {
        match self.evidence {
            Evidence::Runs {
                candidates,
                baselines,
                history,
            } => daq(self.metric, candidates, baselines, history, params, alpha),
            Evidence::Rounds {
                rounds,
                aa_log_ratios,
            } => daq_paired(self.metric, rounds, aa_log_ratios, params, alpha),
        }
    }
}

/// Tests every metric of every step with Holm's correction across steps: each step's
/// evidence is its smallest one-sided p-value over metrics and directions; [`holm`] gives
/// each step its level, and every metric of the step is tested at that level. Steps after the
/// one Holm stopped at are tested at that step's level, and can only be unchanged or
/// inconclusive. Returns one `Vec<MetricTest>` per step, in input order.
pub fn test_steps<'a, S: AsRef<[MetricEvidence<'a>]>>(
    steps: &[S],
    params: &DaqParams,
) -> Vec<Vec<MetricTest>> {
    // p-values do not depend on alpha, so one pass at the nominal level finds them.
    let p_values: Vec<f64> = steps
        .iter()
        .map(|step| {
            step.as_ref()
                .iter()
                .map(|m| m.test(params, params.alpha).p_min())
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let levels = holm(&p_values, params.alpha);
    // Levels grow along Holm's order, so the step it stopped at holds the largest one.
    let stop_level = levels.iter().flatten().copied().fold(0.0, f64::max);
    steps
        .iter()
        .zip(&levels)
        .map(|(step, level)| {
            step.as_ref()
                .iter()
                .map(|m| {
                    let mut test = m.test(params, level.unwrap_or(stop_level));
                    if level.is_none()
                        && matches!(test.verdict, Verdict::Regressed | Verdict::Improved)
                    {
                        // Only reachable through rounding at the boundary; Holm forbids it.
                        test.verdict = Verdict::Inconclusive;
                    }
                    test
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;

    #[test]
    fn one_step_is_tested_at_exactly_alpha() {
        for p in [0.0, 0.001, 0.004_999, 0.005, 0.3, 1.0] {
            assert_eq!(holm(&[p], 0.005), vec![Some(0.005)], "p = {p}");
        }
    }

    #[test]
    fn textbook_example() {
        // Four hypotheses, alpha 0.05 (the standard worked example of Holm 1979's method):
        // 0.005 < 0.05/4 and 0.01 < 0.05/3 are rejected, 0.03 > 0.05/2 stops, 0.04 untested.
        let levels = holm(&[0.01, 0.04, 0.03, 0.005], 0.05);
        assert_eq!(
            levels,
            vec![Some(0.05 / 3.0), None, Some(0.05 / 2.0), Some(0.05 / 4.0)]
        );
    }

    #[test]
    fn empty_family() {
        assert!(holm(&[], 0.05).is_empty());
    }

    #[test]
    fn holm_is_monotone_and_a_prefix() {
        for_all(500, |rng| {
            let s = rng.usize(1..12);
            let p: Vec<f64> = (0..s).map(|_| rng.f64().powi(4) * 0.05).collect();
            let alpha = 0.05;
            let levels = holm(&p, alpha);
            let rejected = |levels: &[Option<f64>], p: &[f64]| -> Vec<bool> {
                levels
                    .iter()
                    .zip(p)
                    .map(|(l, &p)| l.is_some_and(|l| p < l))
                    .collect()
            };
            let r = rejected(&levels, &p);
            // Levels grow along ascending p; rejections are the smallest p-values.
            let mut order: Vec<usize> = (0..s).collect();
            order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
            let assigned: Vec<f64> = order.iter().filter_map(|&i| levels[i]).collect();
            assert!(assigned.windows(2).all(|w| w[0] <= w[1]), "{assigned:?}");
            let flags: Vec<bool> = order.iter().map(|&i| r[i]).collect();
            assert!(
                flags.windows(2).all(|w| w[0] || !w[1]),
                "rejections not a prefix: {flags:?}"
            );
            // Never more lenient than unadjusted, never stricter than Bonferroni.
            for (l, _) in levels.iter().zip(&p) {
                if let Some(l) = l {
                    assert!(*l <= alpha && *l >= alpha / s as f64);
                }
            }
            // Lowering one p-value never undoes another rejection.
            let j = rng.usize(0..s);
            let mut lower = p.clone();
            lower[j] *= rng.f64();
            let r2 = rejected(&holm(&lower, alpha), &lower);
            for i in 0..s {
                assert!(
                    !r[i] || r2[i],
                    "lowering p[{j}] undid rejection of {i}: {p:?} -> {lower:?}"
                );
            }
        });
    }

    fn est(value: f64) -> Estimate {
        Estimate { value, se: 0.005 }
    }

    #[test]
    fn a_single_step_family_is_the_plain_test() {
        let history: Vec<Estimate> = (0..10).map(|i| est(f64::from(i % 4) * 0.02)).collect();
        let candidates = [est(0.25)];
        let step = [MetricEvidence {
            metric: Metric::P50,
            evidence: Evidence::Runs {
                candidates: &candidates,
                baselines: &history,
                history: &history,
            },
        }];
        let p = DaqParams::default();
        let family = test_steps(&[step], &p);
        let plain = daq(Metric::P50, &candidates, &history, &history, &p, p.alpha);
        assert_eq!(family, vec![vec![plain]]);
    }

    /// A candidate shift whose one-sided p-value against `history` is `target`.
    fn shift_with_p(history: &[Estimate], target: f64) -> f64 {
        let p = DaqParams::default();
        let (mut low, mut high) = (0.0, 1.0);
        for _ in 0..100 {
            let mid = 0.5 * (low + high);
            let t = daq(Metric::P50, &[est(mid)], history, history, &p, p.alpha);
            if t.p_worse > target {
                low = mid;
            } else {
                high = mid;
            }
        }
        high
    }

    #[test]
    fn holm_withholds_what_each_step_alone_would_flag() {
        // Two steps, each with p = 0.004 < alpha = 0.005 and a shift far beyond min_effect:
        // alone, each is regressed; together the first is tested at 0.0025 and not rejected,
        // so Holm stops and neither may be flagged.
        let history: Vec<Estimate> = (0..10).map(|i| est(f64::from(i % 4) * 0.02)).collect();
        let shift = shift_with_p(&history, 0.004);
        let candidates = [est(shift)];
        let step = vec![MetricEvidence {
            metric: Metric::P50,
            evidence: Evidence::Runs {
                candidates: &candidates,
                baselines: &history,
                history: &history,
            },
        }];
        let p = DaqParams::default();
        let alone = test_steps(std::slice::from_ref(&step), &p);
        assert_eq!(alone[0][0].verdict, Verdict::Regressed, "shift {shift}");
        let family = test_steps(&[step.clone(), step], &p);
        assert_eq!(family[0][0].alpha, p.alpha / 2.0);
        assert_eq!(
            family[1][0].alpha,
            p.alpha / 2.0,
            "untested steps report the stop level"
        );
        for s in &family {
            assert_ne!(s[0].verdict, Verdict::Regressed);
            assert_eq!(s[0].verdict, Verdict::Inconclusive);
        }
    }

    #[test]
    fn later_steps_face_stricter_levels() {
        // Three steps with the same moderate shift: the family may flag fewer than the
        // unadjusted tests, never more, and the least significant step is tested last.
        let history: Vec<Estimate> = (0..10).map(|i| est(f64::from(i % 4) * 0.02)).collect();
        let shifts = [[est(0.17)], [est(0.5)], [est(0.16)]];
        let p = DaqParams::default();
        let steps: Vec<Vec<MetricEvidence>> = shifts
            .iter()
            .map(|c| {
                vec![MetricEvidence {
                    metric: Metric::P50,
                    evidence: Evidence::Runs {
                        candidates: c,
                        baselines: &history,
                        history: &history,
                    },
                }]
            })
            .collect();
        let family = test_steps(&steps, &p);
        let alphas: Vec<f64> = family.iter().map(|s| s[0].alpha).collect();
        assert_eq!(alphas[1], p.alpha / 3.0);
        assert!(alphas[0] <= p.alpha / 2.0 && alphas[2] <= p.alpha);
        for (step, c) in family.iter().zip(&shifts) {
            let plain = daq(Metric::P50, c, &history, &history, &p, p.alpha);
            let flagged = |v: Verdict| v == Verdict::Regressed;
            assert!(!flagged(step[0].verdict) || flagged(plain.verdict));
        }
        assert_eq!(family[1][0].verdict, Verdict::Regressed);
    }
}
