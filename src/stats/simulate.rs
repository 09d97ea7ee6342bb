//! The reference latency generator: a seeded Rust port of the generator in simulation.py,
//! which the acceptance tests and the compare benchmark draw their runs from.
//!
//! Per run: a lognormal body (median 20 ms, sigma 0.45); with per-run probability
//! 0.02 exp(N(0, 0.3)) a request is Pareto(2.2) from the body's p98 instead; Poisson(0.5)
//! hiccup bursts, each adding U(0, P) µs (P ~ U(50, 300) ms) to a contiguous U(0.1%, 1%) slice;
//! the whole run multiplied by its drift. Values are rounded to µs, clipped to 1 µs .. 60 s and
//! recorded at HdrHistogram's 3-significant-digit resolution. Same seed, same runs.

use super::distribution::Distribution;
use hdrhistogram::Histogram;
use std::sync::OnceLock;

/// Median of the lognormal body, µs.
pub const MEDIAN_US: f64 = 20_000.0;
/// Log-scale standard deviation of the body.
pub const BODY_SIGMA: f64 = 0.45;
/// Typical share of requests drawn from the Pareto tail.
pub const P_TAIL: f64 = 0.02;
/// Log-scale spread of the tail share from run to run.
pub const TAIL_SHARE_SPREAD: f64 = 0.3;
/// Shape of the Pareto tail.
pub const PARETO_ALPHA: f64 = 2.2;
/// The tail starts at the body's quantile of this z (the p98, about 2.5x the median).
pub const TAIL_START_Z: f64 = 2.054;
/// Mean number of hiccup bursts per run.
pub const HICCUP_RATE: f64 = 0.5;
/// Standard deviation of a run's drift factor.
pub const DRIFT_SD: f64 = 0.04;
/// Residual drift of each run of an interleaved round around the round's shared drift.
pub const RESIDUAL_SD: f64 = 0.01;
/// Highest trackable latency, µs (60 s); larger values are clipped to it.
pub const MAX_US: u64 = 60_000_000;
/// Significant digits of the recording histograms.
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// Request counts of independent runs: log-uniform per trial in this range.
pub const INDEPENDENT_REQUESTS: (f64, f64) = (2_000.0, 20_000.0);
/// Request counts of interleaved runs: log-uniform per trial in this range.
pub const PAIRED_REQUESTS: (f64, f64) = (1_000.0, 5_000.0);

/// Seed and size of the sample the true p95 and p99 are read from (as simulation.py).
const TRUE_QUANTILE_SEED: u64 = 12_345;
const TRUE_QUANTILE_SAMPLE: usize = 4_000_000;

/// Values below this are their own bucket; above, buckets double in width every power of two.
const SUB_BUCKETS: u64 = 2_048;
const HALF_SUB_BUCKETS: u64 = SUB_BUCKETS / 2;
/// Dense bucket index range covering 1 µs .. 60 s at 3 significant digits.
const BUCKET_SLOTS: usize = (SUB_BUCKETS + 15 * HALF_SUB_BUCKETS) as usize;

/// A change applied to a candidate's base draws, before drift and hiccups.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regression {
    /// Nothing changed (an A/A comparison).
    None,
    /// Every latency multiplied by 1 + e: p50, p90, p99 and mean all move by +e.
    Uniform(f64),
    /// Monotone stretch above the true p95, x -> T (x / T)^g, with g chosen so the true p99
    /// moves by +e while p50 and p90 stay.
    Tail(f64),
}

/// True quantiles of the base mixture (no drift, hiccups or per-run tail spread).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TrueQuantiles {
    /// 95th percentile, µs.
    pub p95: f64,
    /// 99th percentile, µs.
    pub p99: f64,
}

/// The true p95 and p99, read once from a 4-million-draw seeded sample and cached.
pub fn true_quantiles() -> TrueQuantiles {
    static CACHE: OnceLock<TrueQuantiles> = OnceLock::new();
    *CACHE.get_or_init(|| {
        let mut generator = Generator::new(TRUE_QUANTILE_SEED);
        let mut sample = vec![0.0; TRUE_QUANTILE_SAMPLE];
        generator.fill_base(&mut sample, P_TAIL);
        TrueQuantiles {
            p95: interpolated_quantile(&mut sample, 0.95),
            p99: interpolated_quantile(&mut sample, 0.99),
        }
    })
}

/// numpy's default (linear) quantile, by selection rather than a full sort.
fn interpolated_quantile(sample: &mut [f64], q: f64) -> f64 {
    let h = (sample.len() - 1) as f64 * q;
    let below = h.floor() as usize;
    let (_, &mut low, above) = sample.select_nth_unstable_by(below, f64::total_cmp);
    let high = above.iter().copied().reduce(f64::min).unwrap_or(low);
    low + (h - below as f64) * (high - low)
}

/// One simulated run as HdrHistogram buckets: (lowest equivalent value µs, count), ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatedRun {
    buckets: Vec<(u64, u64)>,
}

impl SimulatedRun {
    /// Number of requests in the run.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|&(_, c)| c).sum()
    }

    /// The run as a [`Distribution`], each bucket at its median-equivalent value.
    pub fn distribution(&self) -> Distribution {
        Distribution::from_buckets(self.buckets.iter().map(|&(low, count)| {
            let width = bucket_width(low);
            ((low + width / 2) as f64, count)
        }))
    }

    /// The run recorded into a 3-significant-digit HdrHistogram over 1 µs .. 60 s.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut histogram = Histogram::new_with_bounds(1, MAX_US, SIGNIFICANT_DIGITS)
            .expect("1 µs .. 60 s at 3 digits is a valid histogram");
        for &(low, count) in &self.buckets {
            histogram
                .record_n(low, count)
                .expect("values are clipped to the trackable range");
        }
        histogram
    }
}

/// Dense slot of value `v` (1 ..= MAX_US) in a 3-significant-digit histogram.
fn bucket_slot(v: u64) -> usize {
    if v < SUB_BUCKETS {
        return v as usize;
    }
    let shift = 63 - v.leading_zeros() as u64 - 10;
    (SUB_BUCKETS + (shift - 1) * HALF_SUB_BUCKETS + ((v >> shift) - HALF_SUB_BUCKETS)) as usize
}

/// Lowest value of dense slot `slot`.
fn slot_lowest(slot: usize) -> u64 {
    let slot = slot as u64;
    if slot < SUB_BUCKETS {
        return slot;
    }
    let j = slot - SUB_BUCKETS;
    (HALF_SUB_BUCKETS + j % HALF_SUB_BUCKETS) << (j / HALF_SUB_BUCKETS + 1)
}

/// Width of the bucket whose lowest value is `low`.
fn bucket_width(low: u64) -> u64 {
    if low < SUB_BUCKETS {
        1
    } else {
        1 << (63 - low.leading_zeros() as u64 - 10)
    }
}

/// A seeded source of simulated runs; reuses its buffers between runs.
pub struct Generator {
    rng: fastrand::Rng,
    spare_normal: Option<f64>,
    samples: Vec<f64>,
    counts: Vec<u64>,
}

impl Generator {
    /// A generator whose every draw follows from `seed`.
    pub fn new(seed: u64) -> Self {
        Generator {
            rng: fastrand::Rng::with_seed(seed),
            spare_normal: None,
            samples: Vec::new(),
            counts: vec![0; BUCKET_SLOTS],
        }
    }

    /// Uniform on [low, high).
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.rng.f64()
    }

    /// Standard normal by Marsaglia's polar method (keeps the second value of each pair).
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let (a, b) = polar_pair(&mut self.rng);
        self.spare_normal = Some(b);
        a
    }

    /// Normal with the given mean and standard deviation.
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.standard_normal()
    }

    /// Poisson count with the given (small) mean, by Knuth's product of uniforms.
    pub fn poisson(&mut self, mean: f64) -> u32 {
        let limit = (-mean).exp();
        let mut product = self.rng.f64();
        let mut k = 0;
        while product > limit {
            product *= self.rng.f64();
            k += 1;
        }
        k
    }

    /// A trial's base request count: round(exp(U(ln low, ln high))).
    pub fn trial_requests(&mut self, (low, high): (f64, f64)) -> usize {
        self.uniform(low.ln(), high.ln()).exp().round() as usize
    }

    /// One run's request count around a trial's base: int(n0 x U(0.9, 1.1)).
    pub fn run_requests(&mut self, base: usize) -> usize {
        (base as f64 * self.uniform(0.9, 1.1)) as usize
    }

    /// An independent run's drift factor, N(1, 0.04).
    pub fn drift(&mut self) -> f64 {
        self.normal(1.0, DRIFT_SD)
    }

    /// Fills `out` with draws of the base mixture: lognormal body, Pareto tail with share `p_tail`.
    fn fill_base(&mut self, out: &mut [f64], p_tail: f64) {
        let tail_start = MEDIAN_US * (BODY_SIGMA * TAIL_START_Z).exp();
        let tail_power = -1.0 / PARETO_ALPHA;
        let mut spare: Option<f64> = None;
        for slot in out.iter_mut() {
            let u = self.rng.f64();
            // Tail membership and the Pareto draw share one uniform: given u < p_tail,
            // u / p_tail is uniform, so no normal is wasted on requests the tail replaces.
            *slot = if u < p_tail {
                tail_start * (1.0 - u / p_tail).powf(tail_power)
            } else {
                let z = match spare.take() {
                    Some(z) => z,
                    None => {
                        let (a, b) = polar_pair(&mut self.rng);
                        spare = Some(b);
                        a
                    }
                };
                MEDIAN_US * (BODY_SIGMA * z).exp()
            };
        }
    }

    /// Simulates one run of `requests` requests with drift factor `drift`.
    pub fn run(&mut self, requests: usize, drift: f64, regression: Regression) -> SimulatedRun {
        let p_tail = P_TAIL * (TAIL_SHARE_SPREAD * self.standard_normal()).exp();
        let mut samples = std::mem::take(&mut self.samples);
        samples.resize(requests, 0.0);
        self.fill_base(&mut samples, p_tail);
        match regression {
            Regression::None => samples.iter_mut().for_each(|x| *x *= drift),
            Regression::Uniform(e) => samples.iter_mut().for_each(|x| *x *= (1.0 + e) * drift),
            Regression::Tail(e) => {
                let truth = true_quantiles();
                let power = 1.0 + e.ln_1p() / (truth.p99 / truth.p95).ln();
                for x in samples.iter_mut() {
                    if *x > truth.p95 {
                        *x = truth.p95 * (*x / truth.p95).powf(power);
                    }
                    *x *= drift;
                }
            }
        }
        self.add_hiccups(&mut samples);
        let run = self.bucket(&samples);
        self.samples = samples;
        run
    }

    /// Poisson(0.5) bursts, each adding U(0, P) µs to a contiguous slice of the requests.
    fn add_hiccups(&mut self, samples: &mut [f64]) {
        let n = samples.len();
        for _ in 0..self.poisson(HICCUP_RATE) {
            let fraction = self.uniform(0.001, 0.01);
            let length = ((fraction * n as f64) as usize).max(1);
            let start = self.rng.usize(0..n.saturating_sub(length).max(1));
            let pause = self.uniform(50_000.0, 300_000.0);
            let end = (start + length).min(n);
            for x in &mut samples[start..end] {
                *x += pause * self.rng.f64();
            }
        }
    }

    /// Rounds to whole µs, clips to 1 µs .. 60 s and counts into 3-significant-digit buckets.
    fn bucket(&mut self, samples: &[f64]) -> SimulatedRun {
        let (mut first, mut last) = (BUCKET_SLOTS, 0);
        for &x in samples {
            let v = (x.round_ties_even() as u64).clamp(1, MAX_US);
            let slot = bucket_slot(v);
            self.counts[slot] += 1;
            // Plain comparisons: this loop runs for every simulated request, in debug builds too.
            if slot < first {
                first = slot;
            }
            if slot > last {
                last = slot;
            }
        }
        let mut buckets = Vec::new();
        for slot in first..(last + 1).min(BUCKET_SLOTS) {
            let count = std::mem::take(&mut self.counts[slot]);
            if count > 0 {
                buckets.push((slot_lowest(slot), count));
            }
        }
        SimulatedRun { buckets }
    }
}

/// Two independent standard normals from Marsaglia's polar method.
fn polar_pair(rng: &mut fastrand::Rng) -> (f64, f64) {
    loop {
        let u = 2.0 * rng.f64() - 1.0;
        let v = 2.0 * rng.f64() - 1.0;
        let s = u * u + v * v;
        if s < 1.0 && s > 0.0 {
            let factor = (-2.0 * s.ln() / s).sqrt();
            return (u * factor, v * factor);
        }
    }
}

/// History and candidate runs of one step, drawn as simulation.py's `run_cell` does for its
/// independent regime.
#[derive(Clone, Debug, PartialEq)]
pub struct IndependentTrial {
    /// Baseline-branch runs, each with its own drift.
    pub history: Vec<SimulatedRun>,
    /// Candidate runs, each with its own drift and the regression applied.
    pub candidates: Vec<SimulatedRun>,
}

/// Draws one independent trial: a base request count log-uniform in 2k..20k, every run of it
/// ±10% and with its own N(1, 0.04) drift; all candidate runs share one request count.
pub fn independent_trial(
    generator: &mut Generator,
    history_runs: usize,
    candidate_runs: usize,
    regression: Regression,
) -> IndependentTrial {
    let base = generator.trial_requests(INDEPENDENT_REQUESTS);
    let sizes: Vec<usize> = (0..=history_runs)
        .map(|_| generator.run_requests(base))
        .collect();
    let drifts: Vec<f64> = (0..=history_runs).map(|_| generator.drift()).collect();
    let history = (0..history_runs)
        .map(|i| generator.run(sizes[i], drifts[i], Regression::None))
        .collect();
    let candidate_size = sizes[history_runs];
    let candidates = (0..candidate_runs)
        .map(|i| {
            let drift = if i == 0 {
                drifts[history_runs]
            } else {
                generator.drift()
            };
            generator.run(candidate_size, drift, regression)
        })
        .collect();
    IndependentTrial {
        history,
        candidates,
    }
}

/// Draws `rounds` interleaved (baseline, candidate) rounds: a base request count log-uniform
/// in 1k..5k, each run ±10%; each round has a shared N(1, 0.04) drift and each run of it a
/// residual N(1, 0.01) on top.
pub fn interleaved_rounds(
    generator: &mut Generator,
    rounds: usize,
    regression: Regression,
) -> Vec<(SimulatedRun, SimulatedRun)> {
    let base = generator.trial_requests(PAIRED_REQUESTS);
    (0..rounds)
        .map(|_| {
            let shared = generator.drift();
            let baseline_drift = shared * generator.normal(1.0, RESIDUAL_SD);
            let candidate_drift = shared * generator.normal(1.0, RESIDUAL_SD);
            let baseline_size = generator.run_requests(base);
            let candidate_size = generator.run_requests(base);
            let baseline = generator.run(baseline_size, baseline_drift, Regression::None);
            let candidate = generator.run(candidate_size, candidate_drift, regression);
            (baseline, candidate)
        })
        .collect()
}

/// Seed of trial `trial` of cell `cell` under `base_seed`: a splitmix64 mix, so every trial
/// has its own stream and results do not depend on how trials are split across threads.
pub fn trial_seed(base_seed: u64, cell: u64, trial: u64) -> u64 {
    let mut z = base_seed
        .wrapping_add(cell.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(trial.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Runs `trials` seeded trials of one cell, each with a fresh [`Generator`] seeded by
/// [`trial_seed`], and collects what `trial` returns, in trial order.
pub fn seeded_trials<T>(
    base_seed: u64,
    cell: u64,
    trials: usize,
    mut trial: impl FnMut(&mut Generator) -> T,
) -> Vec<T> {
    (0..trials as u64)
        .map(|i| trial(&mut Generator::new(trial_seed(base_seed, cell, i))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;

    #[test]
    fn arithmetic_buckets_are_hdrhistograms() {
        let histogram = Histogram::<u64>::new_with_bounds(1, MAX_US, SIGNIFICANT_DIGITS).unwrap();
        for_all(2_000, |rng| {
            let v = match rng.u8(0..3) {
                0 => rng.u64(1..5_000),
                1 => (rng.f64() * 17.9).exp() as u64 + 1,
                _ => rng.u64(1..=MAX_US),
            };
            let slot = bucket_slot(v);
            assert!(slot < BUCKET_SLOTS);
            let low = slot_lowest(slot);
            assert_eq!(low, histogram.lowest_equivalent(v), "v = {v}");
            assert_eq!(
                low + bucket_width(low) / 2,
                histogram.median_equivalent(v),
                "v = {v}"
            );
            assert_eq!(bucket_slot(low), slot);
        });
        assert_eq!(
            slot_lowest(bucket_slot(MAX_US)),
            histogram.lowest_equivalent(MAX_US)
        );
    }

    #[test]
    fn histogram_and_distribution_agree() {
        let mut generator = Generator::new(7);
        let run = generator.run(3_000, 1.0, Regression::None);
        let from_histogram = Distribution::from_histogram(&run.histogram());
        assert_eq!(from_histogram, run.distribution());
        assert_eq!(run.count(), 3_000);
    }

    #[test]
    fn same_seed_same_runs() {
        let draw = |seed| {
            let mut g = Generator::new(seed);
            independent_trial(&mut g, 2, 1, Regression::Tail(0.5))
        };
        assert_eq!(draw(11), draw(11));
        assert_ne!(draw(11), draw(12));
    }

    #[test]
    fn true_quantiles_match_the_simulation() {
        // simulation.py: TRUE_P95 = 46418.886731597464, TRUE_P99 = 75002.61784059016 (numpy
        // sample of 4M); ours is another 4M sample, so agree to sampling error (~0.2%).
        let truth = true_quantiles();
        assert!(
            (truth.p95 / 46_418.886_731_597_464 - 1.0).abs() < 0.003,
            "p95 {}",
            truth.p95
        );
        assert!(
            (truth.p99 / 75_002.617_840_590_16 - 1.0).abs() < 0.005,
            "p99 {}",
            truth.p99
        );
    }

    #[test]
    fn drawn_moments_match_the_model() {
        let mut g = Generator::new(99);
        let z: Vec<f64> = (0..200_000).map(|_| g.standard_normal()).collect();
        let mean = z.iter().sum::<f64>() / z.len() as f64;
        let var = z.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / z.len() as f64;
        assert!(
            mean.abs() < 0.01 && (var - 1.0).abs() < 0.01,
            "mean {mean}, var {var}"
        );
        let k: u32 = (0..200_000).map(|_| g.poisson(HICCUP_RATE)).sum();
        assert!((f64::from(k) / 200_000.0 - 0.5).abs() < 0.01);
        let sizes: Vec<usize> = (0..2_000)
            .map(|_| g.trial_requests(INDEPENDENT_REQUESTS))
            .collect();
        assert!(sizes.iter().all(|&n| (2_000..=20_000).contains(&n)));
        // Median of a log-uniform on [2k, 20k] is sqrt(2k x 20k) = 6325.
        let mut sorted = sizes.clone();
        sorted.sort_unstable();
        assert!(
            (sorted[1_000] as f64 / 6_325.0 - 1.0).abs() < 0.08,
            "median {}",
            sorted[1_000]
        );
    }

    #[test]
    fn a_run_looks_like_the_model() {
        let mut g = Generator::new(3);
        let d = g.run(200_000, 1.0, Regression::None).distribution();
        let p50 = d.quantile(0.5).unwrap();
        assert!((p50 / MEDIAN_US - 1.0).abs() < 0.02, "p50 {p50}");
        let truth = true_quantiles();
        let p99 = d.quantile(0.99).unwrap();
        assert!(
            (p99 / truth.p99 - 1.0).abs() < 0.15,
            "p99 {p99} vs {}",
            truth.p99
        );
    }

    #[test]
    fn regressions_move_what_they_should() {
        // The same seed with and without the change: the uniform one moves p50 by +e, the
        // tail one moves p99 by about +e and leaves p50 and p90 where they were.
        let draw = |regression| {
            let mut g = Generator::new(5);
            g.run(400_000, 1.0, regression).distribution()
        };
        let base = draw(Regression::None);
        let uniform = draw(Regression::Uniform(0.2));
        let tail = draw(Regression::Tail(0.5));
        let ratio = |d: &Distribution, q| d.quantile(q).unwrap() / base.quantile(q).unwrap();
        assert!((ratio(&uniform, 0.5) - 1.2).abs() < 0.005);
        assert!((ratio(&tail, 0.5) - 1.0).abs() < 1e-9 && (ratio(&tail, 0.9) - 1.0).abs() < 1e-9);
        assert!(
            (ratio(&tail, 0.99) - 1.5).abs() < 0.08,
            "p99 ratio {}",
            ratio(&tail, 0.99)
        );
    }

    #[test]
    fn interleaved_rounds_share_their_drift() {
        let mut g = Generator::new(21);
        let rounds = interleaved_rounds(&mut g, 40, Regression::None);
        // Within a round the medians differ by ~1.4% residual drift plus sampling; across
        // rounds by ~5.7%: the paired spread must be clearly smaller.
        let ln_p50 = |r: &SimulatedRun| r.distribution().quantile(0.5).unwrap().ln();
        let within: Vec<f64> = rounds.iter().map(|(a, b)| ln_p50(b) - ln_p50(a)).collect();
        let across: Vec<f64> = rounds
            .windows(2)
            .map(|w| ln_p50(&w[1].0) - ln_p50(&w[0].0))
            .collect();
        let sd = |x: &[f64]| (x.iter().map(|v| v * v).sum::<f64>() / x.len() as f64).sqrt();
        assert!(
            sd(&within) < 0.5 * sd(&across),
            "within {} across {}",
            sd(&within),
            sd(&across)
        );
        assert!(
            rounds
                .iter()
                .all(|(a, _)| (900..=5_500).contains(&a.count()))
        );
    }
}
