//! Paired (interleaved A/B) DAQ: baseline and candidate runs alternate within one session so
//! each round's pair shares the drift, and the test works on per-round log-ratios
//! (regression-detection.md step 8).

use super::estimate::Estimate;
use super::metric::Metric;
use super::noise::{NoiseSource, moderate};
use super::params::DaqParams;
use super::student_t::{student_t_isf, student_t_quantile};
use super::verdict::{Contrast, MetricTest, conclude};

/// Tests `metric` on interleaved rounds of (baseline, candidate) estimates.
///
/// delta is the mean per-round difference (ln C - ln B). The noise of one round's ratio is
/// pooled from the rounds' spread around delta (R - 1 df) and `aa_log_ratios` from earlier
/// A/A rounds, whose true mean is 0 (one df each), then moderated toward the paired prior
/// sqrt(2) x sigma0 with nu0: df = nu0 + R - 1 + A, V = sigma^2 / R. The ratios carry both
/// runs' sampling error, so sigma^2 is never below the rounds' mean se_B^2 + se_C^2: a few
/// rounds that agree by chance (the same low error count each round) cannot claim more
/// precision than their counts have. For latencies the prior is far above sampling error,
/// so the floor changes nothing there. `runs_needed` counts extra rounds.
///
/// # Panics
/// If `rounds` is empty.
pub fn daq_paired(
    metric: Metric,
    rounds: &[(Estimate, Estimate)],
    aa_log_ratios: &[f64],
    params: &DaqParams,
    alpha: f64,
) -> MetricTest {
    assert!(!rounds.is_empty(), "daq_paired needs at least one round");
    let r = rounds.len() as f64;
    let ratios = rounds.iter().map(|(b, c)| c.value - b.value);
    let delta = ratios.clone().sum::<f64>() / r;
    let squares = ratios.map(|x| (x - delta) * (x - delta)).sum::<f64>()
        + aa_log_ratios.iter().map(|x| x * x).sum::<f64>();
    let df_s = (rounds.len() - 1 + aa_log_ratios.len()) as f64;
    let sampling = rounds
        .iter()
        .map(|(b, c)| b.se * b.se + c.se * c.se)
        .sum::<f64>()
        / r;
    let s2 = if df_s > 0.0 { squares / df_s } else { 0.0 };
    let sigma2 = moderate(
        params.paired_sigma0(metric),
        params.nu0,
        s2,
        df_s,
        params.floor,
    )
    .max(sampling);
    let df = params.nu0 + df_s;
    let noise = if df_s > 0.0 {
        NoiseSource::Rounds {
            rounds: rounds.len() as u32,
            aa_rounds: aa_log_ratios.len() as u32,
        }
    } else {
        NoiseSource::Prior
    };
    let baseline_centre = rounds.iter().map(|(b, _)| b.value).sum::<f64>() / r;
    let contrast = Contrast {
        metric,
        baseline_centre,
        delta,
        variance: sigma2 / r,
        df,
        sigma: sigma2.sqrt(),
        noise,
    };
    // Each extra round adds evidence for delta and one df to the noise estimate.
    conclude(&contrast, params, alpha, |more| {
        let more = f64::from(more);
        (sigma2 / (r + more), df + more)
    })
}

/// The smallest change in the worse direction that the paired test at `rounds` rounds would
/// call regressed with probability `power`, if the noise were the paired prior:
/// (t*(1 - alpha) + t(power)) x sqrt(2) sigma0 / sqrt(R), with df = nu0 + R - 1, and never
/// below the metric's minimum effect. Returned as a positive fraction: a slowdown for latency,
/// a drop for throughput, and for the error rate the rise in its odds (its minimum effect is
/// absolute, so it is not applied). Infinite for zero rounds.
pub fn minimum_detectable_effect(
    metric: Metric,
    rounds: u32,
    params: &DaqParams,
    power: f64,
) -> f64 {
    if rounds == 0 {
        return f64::INFINITY;
    }
    let r = f64::from(rounds);
    let sigma = params.paired_sigma0(metric).max(params.floor);
    let df = params.nu0 + r - 1.0;
    let shift =
        (student_t_isf(params.alpha, df) + student_t_quantile(power, df)) * sigma / r.sqrt();
    match metric {
        Metric::ErrorRate => shift.exp_m1(),
        Metric::Throughput => (-(-shift).exp_m1()).max(params.min_effect(metric)),
        _ => shift.exp_m1().max(params.min_effect(metric)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;
    use crate::stats::verdict::Verdict;

    fn round(base: f64, ratio: f64) -> (Estimate, Estimate) {
        (
            Estimate {
                value: base,
                se: 0.01,
            },
            Estimate {
                value: base + ratio,
                se: 0.01,
            },
        )
    }

    #[test]
    fn worked_example() {
        // Ratios 0.10, 0.12, 0.08, 0.11: mean 0.1025, SS = 0.000875 over 3 df.
        let rounds: Vec<_> = [0.10, 0.12, 0.08, 0.11]
            .iter()
            .enumerate()
            .map(|(i, &x)| round(9.9 + 0.05 * i as f64, x))
            .collect();
        let p = DaqParams::default();
        let t = daq_paired(Metric::P50, &rounds, &[], &p, 0.005);
        let sigma2: f64 = (4.0 * 2.0 * 0.0025 + 0.000_875) / 7.0;
        assert!((t.delta - 0.1025).abs() < 1e-12);
        assert!((t.std_error - (sigma2 / 4.0).sqrt()).abs() < 1e-12);
        assert_eq!(t.df, 7.0);
        assert_eq!(
            t.noise,
            NoiseSource::Rounds {
                rounds: 4,
                aa_rounds: 0
            }
        );
        // sqrt(V) = sqrt(0.0029821 / 4) = 0.02731, z = 3.753 > t*(0.995, 7) = 3.4995.
        assert!((t.z - 3.753).abs() < 1e-3, "z {}", t.z);
        assert_eq!(t.verdict, Verdict::Regressed);
        assert_eq!(t.runs_needed, None);
        // The first three rounds alone: z = 0.10 / sqrt(((8 x 0.0025) + 0.0008) / 6 / 3) = 2.94
        // against t*(0.995, 6) = 3.707, and the 90% interval reaches past +10%.
        let t = daq_paired(Metric::P50, &rounds[..3], &[], &p, 0.005);
        assert_eq!(t.verdict, Verdict::Inconclusive);
        assert!(t.runs_needed.is_some());
    }

    #[test]
    fn aa_rounds_count_into_the_noise_around_zero() {
        let rounds = [round(10.0, 0.05), round(10.1, 0.07)];
        let p = DaqParams::default();
        let aa = [0.01, -0.02, 0.015];
        let t = daq_paired(Metric::P99, &rounds, &aa, &p, 0.005);
        // SS = 2 x 0.01^2 + (1e-4 + 4e-4 + 2.25e-4) over 1 + 3 df.
        let s2 = (0.000_2 + 0.000_725) / 4.0;
        let sigma2: f64 = (4.0 * 2.0 * 0.0225 + 4.0 * s2) / 8.0;
        assert!((t.sigma - sigma2.sqrt()).abs() < 1e-12);
        assert_eq!(t.df, 8.0);
        assert_eq!(
            t.noise,
            NoiseSource::Rounds {
                rounds: 2,
                aa_rounds: 3
            }
        );
    }

    #[test]
    fn one_round_uses_the_paired_prior() {
        let t = daq_paired(
            Metric::P90,
            &[round(10.0, 0.3)],
            &[],
            &DaqParams::default(),
            0.005,
        );
        assert_eq!(t.noise, NoiseSource::Prior);
        assert_eq!(t.df, 4.0);
        assert!((t.sigma - std::f64::consts::SQRT_2 * 0.06).abs() < 1e-15);
    }

    #[test]
    fn a_low_error_count_repeated_by_chance_is_not_precise() {
        // One error in 300 attempts on the candidate side of each of three rounds, none on the
        // baseline side: the rounds agree, but each round's logit carries se^2 ~ 2 + 0.7 of
        // sampling error, so the test cannot be sure (it was, before sampling was added back).
        let logit = |e: f64, n: f64| ((e + 0.5) / (n + 1.0) / (1.0 - (e + 0.5) / (n + 1.0))).ln();
        let se = |e: f64, n: f64| (1.0 / (e + 0.5) + 1.0 / (n - e + 0.5)).sqrt();
        let round = (
            Estimate {
                value: logit(0.0, 300.0),
                se: se(0.0, 300.0),
            },
            Estimate {
                value: logit(1.0, 300.0),
                se: se(1.0, 300.0),
            },
        );
        let t = daq_paired(
            Metric::ErrorRate,
            &[round; 3],
            &[],
            &DaqParams::default(),
            0.005,
        );
        assert_ne!(t.verdict, Verdict::Regressed, "z {}", t.z);
    }

    #[test]
    fn consistent_rounds_detect_what_one_round_cannot() {
        let p = DaqParams::default();
        let many: Vec<_> = (0..10)
            .map(|i| round(10.0, 0.10 + 0.005 * f64::from(i % 3)))
            .collect();
        assert_eq!(
            daq_paired(Metric::P50, &many, &[], &p, 0.005).verdict,
            Verdict::Regressed
        );
        assert_ne!(
            daq_paired(Metric::P50, &many[..1], &[], &p, 0.005).verdict,
            Verdict::Regressed
        );
        let flat: Vec<_> = (0..10)
            .map(|i| round(10.0, 0.004 * f64::from(i % 3) - 0.004))
            .collect();
        assert_eq!(
            daq_paired(Metric::P50, &flat, &[], &p, 0.005).verdict,
            Verdict::Unchanged
        );
    }

    #[test]
    fn runs_needed_counts_rounds_at_fixed_delta_and_noise() {
        use crate::stats::verdict::UNCHANGED_Z;
        for_all(300, |rng| {
            let p = DaqParams::default();
            let shift = rng.f64() * 0.15 - 0.02;
            let rounds: Vec<_> = (0..3)
                .map(|_| round(10.0, shift + (rng.f64() - 0.5) * 0.04))
                .collect();
            let t = daq_paired(Metric::P50, &rounds, &[], &p, 0.005);
            // Brute force: m more rounds give V = sigma^2 / (3 + m) and df + m.
            let settles = |m: u32| {
                let sd = t.sigma / (3.0 + f64::from(m)).sqrt();
                let t_star = student_t_isf(0.005, t.df + f64::from(m));
                let d = t.delta;
                let significant = (d / sd > t_star && d.exp_m1() > 0.03)
                    || (d / sd < -t_star && d.exp_m1() < -0.03);
                let unchanged =
                    (d + UNCHANGED_Z * sd).exp_m1() < 0.1 && (d - UNCHANGED_Z * sd).exp_m1() > -0.1;
                significant || unchanged
            };
            let expected = if t.verdict == Verdict::Inconclusive {
                (1..=20).find(|&m| settles(m))
            } else {
                None
            };
            assert_eq!(
                t.runs_needed, expected,
                "delta {}, sigma {}",
                t.delta, t.sigma
            );
        });
    }

    #[test]
    fn mde_at_three_rounds_is_about_twenty_percent() {
        let p = DaqParams::default();
        // (t*(0.995, 6) + t(0.8, 6)) x 0.0707 / sqrt(3) = (3.7074 + 0.9057) x 0.04082.
        let expected =
            ((3.707_428_021_324_806_5 + 0.905_703_285_180_531_4) * 0.05 * (2.0f64 / 3.0).sqrt())
                .exp_m1();
        let mde = minimum_detectable_effect(Metric::P50, 3, &p, 0.8);
        assert!(
            (mde - expected).abs() < 1e-10,
            "mde {mde}, expected {expected}"
        );
        assert!(mde > 0.15);
        assert_eq!(
            minimum_detectable_effect(Metric::P50, 0, &p, 0.8),
            f64::INFINITY
        );
    }

    #[test]
    fn mde_shrinks_with_rounds_and_grows_with_power() {
        let p = DaqParams::default();
        for metric in Metric::ALL {
            let mut last = f64::INFINITY;
            for rounds in 1..=40 {
                let mde = minimum_detectable_effect(metric, rounds, &p, 0.8);
                assert!(
                    mde <= last,
                    "{} at {rounds} rounds: {mde} > {last}",
                    metric.name()
                );
                assert!(mde >= 0.0);
                last = mde;
                let stronger = minimum_detectable_effect(metric, rounds, &p, 0.95);
                assert!(stronger >= mde);
            }
            if metric != Metric::ErrorRate {
                assert!(last >= p.min_effect(metric));
            }
        }
    }
}
