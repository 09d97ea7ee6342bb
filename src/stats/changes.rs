//! Change points in one metric's series over a branch's runs, oldest first: where the level
//! moved and stayed moved. The series is the per-run estimate on the test scale (ln, or logit
//! for the error rate) with each run's own within-run standard error from its histogram.
//!
//! Method (binary segmentation with a calibrated maximum split statistic):
//! 1. **Spikes out.** A run further than [`SPIKE`] noise units from the median of the five
//!    runs around it is replaced by that median, so one bad run (a 3x outlier) cannot make
//!    a level of its own. A real shift moves the local median with it and is kept.
//! 2. **Noise.** The run-to-run noise comes from the series itself, robustly: the median
//!    absolute difference of successive runs (a level shift changes one difference only),
//!    floored at [`FLOOR`]. Each run's variance is the between-run part of that (less the
//!    typical within-run variance) plus its own se² from its histogram, scaled so the
//!    typical run's is the noise seen: a run with few requests counts less, and the test's
//!    scale is what the series shows.
//! 3. **Split statistic.** For every split leaving at least `min_segment` runs on each side,
//!    the weighted difference of the two sides' means over its standard error; the largest
//!    in absolute value is the candidate change.
//! 4. **Calibration.** Its p-value is read from the same statistic computed, with the same
//!    steps 1 to 3, on [`NULL_SERIES`] Gaussian series of the same length drawn from a fixed
//!    seed (cached per length): deterministic, and exact for the maximum over correlated
//!    splits, where a Bonferroni bound would throw power away.
//! 5. **Recursion.** A significant split divides the series; each side is searched again at
//!    the same level, so several changes in one history are found.
//! 6. **The newest runs.** A change a few runs old is what a watch must see first, and a
//!    scan over every split spends most of its false-alarm budget on old ones, which need
//!    little of it (a change with dozens of runs on each side stands out by far). So the
//!    splits among the last [`RECENT`] runs are also scanned on their own, with their own
//!    calibrated null, one-sided toward the worse (a watch must see a regression within a
//!    few runs; an improvement can wait for the full scan). The level is split between the
//!    scans (weighted Bonferroni): [`FULL_SHARE`] of it to the full scan, the rest to the
//!    newest runs. A creep shows here first: the newest runs' mean rises above the older
//!    ones' as it goes.
//!
//! Otava's E-Divisive uses permutations (results change from one run to the next) and finds
//! single spikes; this is permutation-free and spike-proof by construction.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use super::estimate::Estimate;
use super::simulate::Generator;
use super::student_t::student_t_isf;

/// Runs further than this many noise units from their neighbourhood's median are spikes.
pub const SPIKE: f64 = 3.5;

/// Smallest between-run noise (log scale) assumed: a series steadier than this (a seeded
/// target) would otherwise make any wobble "significant"; the minimum effect guards the rest.
pub const FLOOR: f64 = 0.005;

/// Gaussian series drawn per length to calibrate the split statistic.
pub const NULL_SERIES: usize = 10_000;

/// How many of the newest runs the recent scan splits among.
pub const RECENT: usize = 7;

/// Share of the level the scan over every split gets (two-sided); the scan of the newest
/// runs gets the rest (one-sided, toward the worse).
pub const FULL_SHARE: f64 = 0.1;

/// Which way a series gets worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worse {
    /// Higher is worse (latency, error rate).
    Up,
    /// Lower is worse (throughput).
    Down,
}

impl Worse {
    /// +1 when higher is worse, -1 when lower is.
    fn sign(self) -> f64 {
        match self {
            Worse::Up => 1.0,
            Worse::Down => -1.0,
        }
    }
}

/// Seed of the calibration draws.
const NULL_SEED: u64 = 0x00C4_A46E_5EED;

/// One change in a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Index of the first run at the new level.
    pub at: usize,
    /// Runs in the segment before (back to the previous change or the start).
    pub before_runs: usize,
    /// Runs in the segment after (up to the next change or the end).
    pub after_runs: usize,
    /// Weighted mean of the segment before, on the test scale.
    pub before: f64,
    /// Weighted mean of the segment after, on the test scale.
    pub after: f64,
    /// Standard error of `after - before`.
    pub se: f64,
    /// Degrees of freedom for an interval of the difference.
    pub df: f64,
    /// Calibrated p-value of the split (maximum over the splits of its scan), weighted for
    /// the scan's share of the level: compared with the level as it is.
    pub p: f64,
    /// When the level moved gradually (a creep, not a step): the first run of the ramp and
    /// the first run after it.
    pub creep: Option<(usize, usize)>,
}

impl Change {
    /// The interval of `after - before` at confidence `level` (e.g. 0.95).
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let t = student_t_isf((1.0 - level) / 2.0, self.df.max(1.0));
        let d = self.after - self.before;
        (d - t * self.se, d + t * self.se)
    }
}

/// The best split of a series and how unusual it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    /// Index of the first run after the split.
    pub at: usize,
    /// The split statistic (after minus before, in standard errors).
    pub statistic: f64,
    /// Its calibrated p-value.
    pub p: f64,
}

/// A series made ready for splitting: spikes replaced, weights set.
#[derive(Debug, Clone)]
pub struct Prepared {
    values: Vec<f64>,
    weights: Vec<f64>,
    noise: f64,
}

impl Prepared {
    /// Steps 1 and 2 of the method for `series`.
    pub fn new(series: &[Estimate]) -> Self {
        let raw: Vec<f64> = series.iter().map(|e| e.value).collect();
        let se2: Vec<f64> = series.iter().map(|e| e.se * e.se).collect();
        let total = robust_noise(&raw).max(FLOOR);
        let values = despike(&raw, total);
        let typical_se2 = median(se2.clone());
        let noise2 = (total * total - typical_se2).max(FLOOR * FLOOR);
        // Each run's own se sets how much it counts relative to the others; the scale is
        // the spread the series shows. (Runs whose draws are not independent, such as a
        // seeded target's, vary less than their se says; runs with hiccups, more.)
        let variances: Vec<f64> = se2.iter().map(|s| noise2 + s).collect();
        let scale = (total * total) / median(variances.clone());
        let weights = variances.iter().map(|v| 1.0 / (v * scale)).collect();
        Self {
            values,
            weights,
            noise: total,
        }
    }

    /// The run-to-run noise (log scale) the series was found to have.
    pub fn noise(&self) -> f64 {
        self.noise
    }

    /// The series after spikes were replaced.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The largest split statistic of `[from, to)`, with at least `min_segment` runs a side.
    fn best_split(&self, from: usize, to: usize, min_segment: usize) -> Option<(usize, f64)> {
        best_split(&self.values[from..to], &self.weights[from..to], min_segment)
            .map(|(at, t)| (from + at, t))
    }

    /// The split of `[from, n)` among its newest [`RECENT`] runs with the largest statistic
    /// toward the worse, each split against every run of the segment before it; the
    /// statistic is returned in that direction (positive: worse).
    fn recent_split(
        &self,
        from: usize,
        n: usize,
        min_segment: usize,
        worse: Worse,
    ) -> Option<(usize, f64)> {
        best_split_from(
            &self.values[from..n],
            &self.weights[from..n],
            min_segment,
            (n - from).saturating_sub(RECENT),
            |t| t * worse.sign(),
        )
        .map(|(at, t)| (from + at, t * worse.sign()))
    }

    /// Weighted mean and total weight of `[from, to)`.
    fn segment(&self, from: usize, to: usize) -> (f64, f64) {
        let w: f64 = self.weights[from..to].iter().sum();
        let m = self.values[from..to]
            .iter()
            .zip(&self.weights[from..to])
            .map(|(v, w)| v * w)
            .sum::<f64>()
            / w;
        (m, w)
    }
}

/// The best split of the whole series with its calibrated p-value; None when the series is
/// shorter than two segments.
pub fn best_split_of(series: &[Estimate], min_segment: usize) -> Option<Split> {
    let prepared = Prepared::new(series);
    let (at, statistic) = prepared.best_split(0, series.len(), min_segment)?;
    Some(Split {
        at,
        statistic,
        p: p_value(series.len(), min_segment, statistic.abs()),
    })
}

/// The p-value of the series as a whole (both scans, weighted Bonferroni): how unlikely
/// its most unusual split is if nothing changed. 1 for a series too short to split.
pub fn series_p(series: &[Estimate], min_segment: usize, worse: Worse) -> f64 {
    let n = series.len();
    let prepared = Prepared::new(series);
    let full = prepared
        .best_split(0, n, min_segment)
        .map_or(1.0, |(_, t)| p_value(n, min_segment, t.abs()));
    let recent = prepared
        .recent_split(0, n, min_segment, worse)
        .map_or(1.0, |(_, t)| recent_p_value(n, min_segment, t));
    (full / FULL_SHARE)
        .min(recent / (1.0 - FULL_SHARE))
        .min(1.0)
}

/// Every change of `series` significant at `alpha`, oldest first (steps 1 to 6).
pub fn changes(series: &[Estimate], min_segment: usize, alpha: f64, worse: Worse) -> Vec<Change> {
    let min_segment = min_segment.max(1);
    let prepared = Prepared::new(series);
    let mut cuts: Vec<(usize, f64)> = Vec::new();
    let mut stack = vec![(0usize, series.len())];
    while let Some((from, to)) = stack.pop() {
        let Some((at, t)) = prepared.best_split(from, to, min_segment) else {
            continue;
        };
        let p = p_value(to - from, min_segment, t.abs());
        if p <= alpha * FULL_SHARE {
            // On the scale of `series_p` and the level: a cut of either scan compares.
            cuts.push((at, (p / FULL_SHARE).min(1.0)));
            stack.push((from, at));
            stack.push((at, to));
        }
    }
    // The newest level, against the one before it: since the last change found.
    let n = series.len();
    let last = cuts.iter().map(|(c, _)| *c).max().unwrap_or(0);
    if let Some((at, t)) = prepared.recent_split(last, n, min_segment, worse) {
        let p = recent_p_value(n - last, min_segment, t);
        let window = n.saturating_sub(RECENT);
        if p <= alpha * (1.0 - FULL_SHARE) && !cuts.iter().any(|(c, _)| *c >= window) {
            cuts.push((at, (p / (1.0 - FULL_SHARE)).min(1.0)));
        }
    }
    cuts.sort_by_key(|(at, _)| *at);
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(cuts.iter().map(|(at, _)| *at))
        .chain(std::iter::once(series.len()))
        .collect();
    cuts.iter()
        .enumerate()
        .map(|(k, (at, p))| {
            let (from, to) = (bounds[k], bounds[k + 2]);
            let (before, wb) = prepared.segment(from, *at);
            let (after, wa) = prepared.segment(*at, to);
            Change {
                at: *at,
                before_runs: at - from,
                after_runs: to - at,
                before,
                after,
                se: (1.0 / wb + 1.0 / wa).sqrt(),
                df: ((to - from) as f64 - 2.0).max(1.0),
                p: *p,
                creep: ramp(&prepared, from, *at, to),
            }
        })
        .collect()
}

/// Whether the level between the previous and the next change (`[from, to)`) moved
/// gradually: a ramp (flat, then a straight line over at least [`MIN_RAMP`] runs, then flat)
/// fits those runs better than the step at `at` by more than [`RAMP_GAIN`] × noise² of
/// squared error (about a 5% chance for one extra parameter). Returns the ramp's runs.
fn ramp(p: &Prepared, from: usize, at: usize, to: usize) -> Option<(usize, usize)> {
    let ys = &p.values[from..to];
    let n = ys.len();
    let sse = |r: &dyn Fn(usize) -> f64| -> f64 {
        let mean_r = (0..n).map(r).sum::<f64>() / n as f64;
        let mean_y = ys.iter().sum::<f64>() / n as f64;
        let (mut srr, mut sry, mut syy) = (0.0, 0.0, 0.0);
        for (i, y) in ys.iter().enumerate() {
            let (dr, dy) = (r(i) - mean_r, y - mean_y);
            srr += dr * dr;
            sry += dr * dy;
            syy += dy * dy;
        }
        if srr > 0.0 {
            syy - sry * sry / srr
        } else {
            syy
        }
    };
    let step = at - from;
    let step_sse = sse(&|i| if i >= step { 1.0 } else { 0.0 });
    let mut best: Option<(f64, usize, usize)> = None;
    for s in 0..n {
        for e in (s + MIN_RAMP)..=n {
            let r = |i: usize| {
                if i < s {
                    0.0
                } else if i >= e {
                    1.0
                } else {
                    (i - s + 1) as f64 / (e - s) as f64
                }
            };
            let fit = sse(&r);
            if best.is_none_or(|(b, _, _)| fit < b) {
                best = Some((fit, s, e));
            }
        }
    }
    let (fit, s, e) = best?;
    (step_sse - fit > RAMP_GAIN * p.noise * p.noise).then_some((from + s, from + e))
}

/// Shortest ramp called a creep, in runs.
pub const MIN_RAMP: usize = 4;

/// How much better (in noise² of squared error) a ramp must fit than a step to be a creep.
pub const RAMP_GAIN: f64 = 4.0;

/// The largest |statistic| over splits of `values` with `weights`, at its index.
fn best_split(values: &[f64], weights: &[f64], min_segment: usize) -> Option<(usize, f64)> {
    best_split_from(values, weights, min_segment, 0, f64::abs)
}

/// The split at `first` or later whose statistic scores highest, with its statistic.
fn best_split_from(
    values: &[f64],
    weights: &[f64],
    min_segment: usize,
    first: usize,
    score: impl Fn(f64) -> f64,
) -> Option<(usize, f64)> {
    let n = values.len();
    if n < 2 * min_segment {
        return None;
    }
    let total_w: f64 = weights.iter().sum();
    let total_wv: f64 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    let (mut w_left, mut wv_left) = (0.0, 0.0);
    let mut best: Option<(usize, f64)> = None;
    for at in 1..n {
        w_left += weights[at - 1];
        wv_left += values[at - 1] * weights[at - 1];
        if at < min_segment.max(first) || n - at < min_segment {
            continue;
        }
        let w_right = total_w - w_left;
        let diff = (total_wv - wv_left) / w_right - wv_left / w_left;
        let t = diff / (1.0 / w_left + 1.0 / w_right).sqrt();
        if best.is_none_or(|(_, b)| score(t) > score(b)) {
            best = Some((at, t));
        }
    }
    best
}

/// The calibrated p-value of a maximum split statistic `t` for a series of `n` runs.
pub fn p_value(n: usize, min_segment: usize, t: f64) -> f64 {
    upper_share(&null_maxima(n, min_segment).0, t)
}

/// The calibrated p-value of the recent scan's statistic `t` (toward the worse) for a
/// series of `n` runs.
pub fn recent_p_value(n: usize, min_segment: usize, t: f64) -> f64 {
    let null = &null_maxima(n, min_segment).1;
    // A length with no recent split has nothing to calibrate against: nothing is unusual.
    if null.last().is_none_or(|m| !m.is_finite()) {
        return 1.0;
    }
    upper_share(null, t)
}

/// The share of `null` (sorted) at or above `t`. Beyond the draws' 99.9th percentile, where
/// a count of a few draws would floor every p-value at 1 / draws (too coarse for Holm over
/// dozens of series), the tail is extended as log p linear in t², fitted through the 99th
/// and 99.9th percentiles: the Gaussian-like tail of a maximum of t statistics.
fn upper_share(null: &[f64], t: f64) -> f64 {
    let n = null.len();
    let at = |q: f64| null[((q * n as f64) as usize).min(n - 1)];
    let (t1, t2) = (at(0.99), at(0.999));
    if t > t2 && t2 > t1 {
        let b = 10f64.ln() / (t2 * t2 - t1 * t1);
        return 0.001 * (-b * (t * t - t2 * t2)).exp();
    }
    let above = n - null.partition_point(|x| *x < t);
    (1.0 + above as f64) / (1.0 + n as f64)
}

/// Sorted maxima of the split statistic over [`NULL_SERIES`] Gaussian series of length `n`
/// (steps 1 to 3 applied to each), |t| over every split and t (one direction: the null is
/// symmetric) over the recent ones, computed once per length.
fn null_maxima(n: usize, min_segment: usize) -> std::sync::Arc<(Vec<f64>, Vec<f64>)> {
    type Cache = Mutex<HashMap<(usize, usize), std::sync::Arc<(Vec<f64>, Vec<f64>)>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(n, min_segment))
    {
        return found.clone();
    }
    let mut g = Generator::new(NULL_SEED ^ ((n as u64) << 16) ^ min_segment as u64);
    let (mut full, mut recent): (Vec<f64>, Vec<f64>) = (0..NULL_SERIES)
        .map(|_| {
            // A noise level well above the floor, so the floor never shapes the null.
            let series: Vec<Estimate> = (0..n)
                .map(|_| Estimate {
                    value: 0.05 * g.standard_normal(),
                    se: 0.0,
                })
                .collect();
            let p = Prepared::new(&series);
            (
                p.best_split(0, n, min_segment)
                    .map_or(0.0, |(_, t)| t.abs()),
                p.recent_split(0, n, min_segment, Worse::Up)
                    .map_or(f64::NEG_INFINITY, |(_, t)| t),
            )
        })
        .unzip();
    full.sort_by(f64::total_cmp);
    recent.sort_by(f64::total_cmp);
    let maxima = std::sync::Arc::new((full, recent));
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((n, min_segment), maxima.clone());
    maxima
}

/// Robust standard deviation of run-to-run noise, from successive differences (a level
/// shift changes one of them, a spike two): the mean square of the differences with the
/// largest tenth (at least two) left out, corrected for that trimming under a normal, over 2.
/// Far more efficient than a median of them, which on a short series is small by chance
/// often enough to make any split look significant.
fn robust_noise(values: &[f64]) -> f64 {
    if values.len() < 3 {
        return 0.0;
    }
    let mut squares: Vec<f64> = values.windows(2).map(|w| (w[1] - w[0]).powi(2)).collect();
    squares.sort_by(f64::total_cmp);
    let drop = (squares.len() / 10).max(2).min(squares.len() - 1);
    let kept = &squares[..squares.len() - drop];
    // E[d² | d² below its (1 - f) quantile] for d ~ N(0, 1), f the share left out.
    let f = drop as f64 / squares.len() as f64;
    let correction = trimmed_second_moment(f);
    (kept.iter().sum::<f64>() / kept.len() as f64 / correction / 2.0).sqrt()
}

/// E[Z² | |Z| < q] for a standard normal Z, with q such that P(|Z| >= q) = `f`.
fn trimmed_second_moment(f: f64) -> f64 {
    if f <= 0.0 {
        return 1.0;
    }
    // A Student-t with a million df is the normal to many digits.
    let q = student_t_isf(f / 2.0, 1e6);
    let density = (-0.5 * q * q).exp() / (2.0 * std::f64::consts::PI).sqrt();
    1.0 - 2.0 * q * density / (1.0 - f)
}

/// Each value further than [`SPIKE`] × `noise` from the median of the five around it
/// (fewer at the ends) replaced by that median.
fn despike(values: &[f64], noise: f64) -> Vec<f64> {
    let n = values.len();
    (0..n)
        .map(|i| {
            let window = values[i.saturating_sub(2)..(i + 3).min(n)].to_vec();
            let m = median(window);
            if (values[i] - m).abs() > SPIKE * noise {
                m
            } else {
                values[i]
            }
        })
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests;
