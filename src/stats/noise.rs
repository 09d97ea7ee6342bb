//! Between-run noise: the spread of a metric from run to run beyond its within-run sampling
//! error, learned from a history and moderated toward a prior (DAQ step 3).

use super::estimate::Estimate;
use super::metric::Metric;
use super::params::DaqParams;

/// Fewest history runs whose spread is used; with fewer, the prior alone sets the noise.
pub const MIN_HISTORY_RUNS: usize = 3;

/// Where the noise estimate of a test came from, so a report can say "history too short,
/// using priors".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseSource {
    /// The history was too short (or absent): sigma = sigma0, df = nu0.
    Prior,
    /// Learned from this many history runs, moderated toward the prior.
    History {
        /// Number of history runs (K).
        runs: u32,
    },
    /// Learned from the spread of interleaved rounds' log-ratios (paired mode), moderated
    /// toward the paired prior.
    Rounds {
        /// Rounds of the comparison itself.
        rounds: u32,
        /// Earlier A/A rounds counted in.
        aa_rounds: u32,
    },
}

/// A between-run noise estimate on the test scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Noise {
    /// Moderated between-run variance sigma^2.
    pub variance: f64,
    /// Degrees of freedom of the Student-t that goes with it: nu0 + the data's own.
    pub df: f64,
    /// Where it came from.
    pub source: NoiseSource,
}

/// Empirical-Bayes moderation: (nu0 prior^2 + df_s s2) / (nu0 + df_s), never below floor^2.
pub fn moderate(prior_sigma: f64, nu0: f64, s2: f64, df_s: f64, floor: f64) -> f64 {
    let pooled = (nu0 * prior_sigma * prior_sigma + df_s * s2) / (nu0 + df_s);
    pooled.max(floor * floor)
}

/// Sample variance with the n - 1 denominator; 0 for fewer than two values.
pub fn sample_variance(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = values
        .clone()
        .fold((0usize, 0.0), |(n, s), v| (n + 1, s + v));
    if n < 2 {
        return 0.0;
    }
    let mean = sum / n as f64;
    values.map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64
}

/// Between-run noise of `metric` from history runs: with K >= 3, s^2 = max(0, var(value) -
/// mean(se^2)) moderated toward sigma0 with df = nu0 + K - 1; otherwise the prior with nu0.
pub fn history_noise(metric: Metric, history: &[Estimate], params: &DaqParams) -> Noise {
    let prior = params.sigma0(metric);
    let k = history.len();
    if k < MIN_HISTORY_RUNS {
        return Noise {
            variance: moderate(prior, params.nu0, 0.0, 0.0, params.floor),
            df: params.nu0,
            source: NoiseSource::Prior,
        };
    }
    let spread = sample_variance(history.iter().map(|e| e.value));
    let sampling = history.iter().map(|e| e.se * e.se).sum::<f64>() / k as f64;
    let s2 = (spread - sampling).max(0.0);
    let df_s = (k - 1) as f64;
    Noise {
        variance: moderate(prior, params.nu0, s2, df_s, params.floor),
        df: params.nu0 + df_s,
        source: NoiseSource::History { runs: k as u32 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;

    fn est(value: f64, se: f64) -> Estimate {
        Estimate { value, se }
    }

    #[test]
    fn short_history_uses_the_prior() {
        let p = DaqParams::default();
        let noise = history_noise(Metric::P99, &[est(1.0, 0.01), est(2.0, 0.01)], &p);
        assert_eq!(noise.source, NoiseSource::Prior);
        assert_eq!(noise.df, 4.0);
        assert!((noise.variance - 0.15 * 0.15).abs() < 1e-15);
    }

    #[test]
    fn history_spread_is_moderated_toward_the_prior() {
        let p = DaqParams::default();
        // values 0, 0.1, 0.2, 0.3: var = 0.016667; mean se^2 = 0.0001 -> s2 = 0.016567.
        let h: Vec<Estimate> = (0..4).map(|i| est(f64::from(i) * 0.1, 0.01)).collect();
        let noise = history_noise(Metric::P50, &h, &p);
        let s2 = 0.05 / 3.0 - 0.0001;
        let expected = (4.0 * 0.05 * 0.05 + 3.0 * s2) / 7.0;
        assert!(
            (noise.variance - expected).abs() < 1e-15,
            "{}",
            noise.variance
        );
        assert_eq!(noise.df, 7.0);
        assert_eq!(noise.source, NoiseSource::History { runs: 4 });
    }

    #[test]
    fn sampling_noise_is_not_counted_twice() {
        // Spread entirely explained by within-run error: s2 clamps at 0, leaving 4/(4+9) of
        // the prior variance, then the floor.
        let p = DaqParams::default();
        let h: Vec<Estimate> = (0..10)
            .map(|i| est(if i % 2 == 0 { 0.0 } else { 0.01 }, 0.5))
            .collect();
        let noise = history_noise(Metric::P50, &h, &p);
        assert!((noise.variance - 4.0 * 0.0025 / 13.0).abs() < 1e-15);
        let quiet = DaqParams { floor: 0.04, ..p };
        assert_eq!(history_noise(Metric::P50, &h, &quiet).variance, 0.04 * 0.04);
    }

    #[test]
    fn moderated_variance_lies_between_prior_and_data() {
        for_all(500, |rng| {
            let prior = rng.f64() * 0.3 + 0.01;
            let s2 = rng.f64() * 0.1;
            let nu0 = rng.f64() * 10.0 + 0.5;
            let df_s = f64::from(rng.u32(0..50));
            let v = moderate(prior, nu0, s2, df_s, 0.0);
            let (lo, hi) = if s2 < prior * prior {
                (s2, prior * prior)
            } else {
                (prior * prior, s2)
            };
            assert!(
                v >= lo - 1e-15 && v <= hi + 1e-15,
                "{v} not in [{lo}, {hi}]"
            );
            // More data moves it toward the data.
            let more = moderate(prior, nu0, s2, df_s + 5.0, 0.0);
            assert!((more - s2).abs() <= (v - s2).abs() + 1e-15);
        });
    }

    #[test]
    fn sample_variance_of_known_values() {
        assert_eq!(
            sample_variance([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0].into_iter()),
            32.0 / 7.0
        );
        assert_eq!(sample_variance([3.0].into_iter()), 0.0);
    }
}
