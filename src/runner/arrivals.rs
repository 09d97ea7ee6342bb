//! Open-model arrival times: the k-th iteration is due when the integral of the rate
//! profile reaches k, computed exactly on each linear segment (so ramps are smooth and a
//! constant rate gives evenly spaced arrivals, as wrk2 and k6's arrival-rate executor do).
//! A Poisson process is the same clock with exponential steps of the integral instead of
//! steps of one (a time change of a unit-rate Poisson process, exact under ramps too).

use std::time::Duration;

use crate::scenario::{Arrivals, LoadPlan, Profile};

/// Mixed into the seed of the Poisson draws (any odd constant apart from the run's others).
const ARRIVAL_STREAM: u64 = 0xA076_1D64_78BD_642F;

#[derive(Debug, Clone, Copy)]
struct Segment {
    start: f64,
    length: f64,
    from: f64,
    to: f64,
}

/// Yields successive arrival offsets from the start of the run.
#[derive(Debug, Clone)]
pub struct ArrivalClock {
    segments: Vec<Segment>,
    current: usize,
    /// Position inside the current segment, seconds.
    at: f64,
    /// The first arrival is at the start, as k6's arrival-rate executors do.
    first: bool,
    /// Poisson arrivals: the draws of the exponential steps.
    poisson: Option<fastrand::Rng>,
}

impl ArrivalClock {
    /// A clock for a load plan: warm-up at the profile's warm-up level, then the profile;
    /// `seed` draws a Poisson process's gaps (the same seed, the same arrivals).
    pub fn new(load: &LoadPlan, seed: u64) -> Self {
        let mut segments = Vec::new();
        let w = load.warmup.as_secs_f64();
        if w > 0.0 {
            let level = load.profile.warmup_level();
            segments.push(Segment {
                start: 0.0,
                length: w,
                from: level,
                to: level,
            });
        }
        push_profile(&mut segments, &load.profile, w);
        Self {
            segments,
            current: 0,
            at: 0.0,
            first: true,
            // A stream of its own: the run's other draws (data rows, think times) start from
            // `seed` too, and sharing it would tie each gap to the row of the same arrival.
            poisson: (load.arrivals == Arrivals::Poisson)
                .then(|| fastrand::Rng::with_seed(seed ^ ARRIVAL_STREAM)),
        }
    }

    /// The offset of the next arrival, or None when the profile has no more.
    pub fn next_arrival(&mut self) -> Option<Duration> {
        let first = std::mem::take(&mut self.first);
        let mut need = match &mut self.poisson {
            // Exp(1): the integral of the rate between two arrivals of a Poisson process.
            Some(rng) => -(1.0 - rng.f64()).ln(),
            None if first => 0.0,
            None => 1.0f64,
        };
        while let Some(seg) = self.segments.get(self.current).copied() {
            let slope = (seg.to - seg.from) / seg.length.max(f64::MIN_POSITIVE);
            let rate_here = (seg.from + slope * self.at).max(0.0);
            if need == 0.0 && rate_here <= 0.0 {
                // The profile starts from zero: the first arrival waits for a whole one.
                need = 1.0;
            }
            let remaining = seg.length - self.at;
            let available = rate_here * remaining + 0.5 * slope * remaining * remaining;
            // The margin keeps float error from squeezing an arrival in at the very end of
            // a ramp down to zero, where a tiny excess of integral means a visible time.
            if available > need + 1e-9 && remaining > 0.0 {
                let dx = solve(rate_here, slope, need).clamp(0.0, remaining);
                self.at += dx;
                return Some(Duration::from_secs_f64(seg.start + self.at));
            }
            need -= available.max(0.0);
            self.current += 1;
            self.at = 0.0;
        }
        None
    }
}

/// One shard's arrivals: every `count`-th arrival of the whole scenario's process, from the
/// same start, so the shards together send exactly the arrivals one process would.
#[derive(Debug, Clone)]
pub struct ShardClock {
    clock: ArrivalClock,
    shard: super::Shard,
    /// The number of the whole process's next arrival.
    next: u64,
}

impl ShardClock {
    /// The arrivals of `shard` under `load`; every shard draws the whole process with the
    /// run's `seed`, so together they send what one process would.
    pub fn new(load: &LoadPlan, shard: super::Shard, seed: u64) -> Self {
        Self {
            clock: ArrivalClock::new(load, seed),
            shard,
            next: 0,
        }
    }

    /// The offset of this shard's next arrival, or None when the profile has no more.
    pub fn next_arrival(&mut self) -> Option<Duration> {
        loop {
            let at = self.clock.next_arrival()?;
            let k = self.next;
            self.next += 1;
            if self.shard.owns(k) {
                return Some(at);
            }
        }
    }
}

fn push_profile(out: &mut Vec<Segment>, p: &Profile, offset: f64) {
    let mut from = p.start;
    let mut start = offset;
    for s in &p.stages {
        let length = s.duration.as_secs_f64();
        if length > 0.0 {
            out.push(Segment {
                start,
                length,
                from,
                to: s.target,
            });
        }
        start += length;
        from = s.target;
    }
}

/// Smallest x >= 0 with r x + slope x^2 / 2 = need.
fn solve(r: f64, slope: f64, need: f64) -> f64 {
    if slope.abs() < 1e-12 {
        return need / r;
    }
    let a = 0.5 * slope;
    let disc = (r * r + 4.0 * a * need).max(0.0);
    // The numerically stable root for both signs of the slope.
    2.0 * need / (r + disc.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadModel, Stage};

    fn plan(profile: Profile, warmup: f64) -> LoadPlan {
        LoadPlan {
            model: LoadModel::Open { max_in_flight: 10 },
            arrivals: crate::scenario::Arrivals::Uniform,
            warmup: Duration::from_secs_f64(warmup),
            profile,
            iterations: None,
            grace: Duration::ZERO,
        }
    }

    /// Arrivals before `end` (the scheduler never starts one at or after the end).
    fn all(mut c: ArrivalClock, end: f64) -> Vec<f64> {
        std::iter::from_fn(|| c.next_arrival())
            .map(|d| d.as_secs_f64())
            .filter(|t| *t < end - 1e-9)
            .collect()
    }

    #[test]
    fn a_constant_rate_is_evenly_spaced() {
        let t = all(
            ArrivalClock::new(
                &plan(Profile::constant(100.0, Duration::from_secs(2)), 0.0),
                1,
            ),
            2.0,
        );
        assert_eq!(t.len(), 200);
        for (k, x) in t.iter().enumerate() {
            assert!((x - k as f64 * 0.01).abs() < 1e-9, "{k}: {x}");
        }
    }

    #[test]
    fn a_ramp_delivers_its_integral_front_loaded_correctly() {
        // 0 -> 100/s over 10 s: 500 arrivals, the k-th at sqrt(2k/10), k from 1 (the rate starts at 0).
        let p = Profile {
            start: 0.0,
            stages: vec![Stage {
                duration: Duration::from_secs(10),
                target: 100.0,
            }],
        };
        let t = all(ArrivalClock::new(&plan(p, 0.0), 1), 10.0);
        assert_eq!(t.len(), 499);
        for (k, x) in t.iter().enumerate() {
            let want = (2.0 * (k + 1) as f64 / 10.0).sqrt();
            assert!((x - want).abs() < 1e-6, "{k}: {x} vs {want}");
        }
    }

    #[test]
    fn shards_take_every_nth_arrival_and_together_make_the_whole_process() {
        let load = plan(Profile::constant(300.0, Duration::from_secs(1)), 0.5);
        let whole = all(ArrivalClock::new(&load, 1), 1.5);
        let mut merged: Vec<f64> = Vec::new();
        for index in 0..3 {
            let mut c = ShardClock::new(&load, crate::runner::Shard { index, count: 3 }, 1);
            let mine: Vec<f64> = std::iter::from_fn(|| c.next_arrival())
                .map(|d| d.as_secs_f64())
                .filter(|t| *t < 1.5 - 1e-9)
                .collect();
            // Shard i starts with arrival i and takes every third after it.
            assert_eq!(mine[0], whole[index as usize]);
            assert!(mine.len().abs_diff(whole.len() / 3) <= 1, "{}", mine.len());
            merged.extend(mine);
        }
        merged.sort_by(f64::total_cmp);
        assert_eq!(merged, whole);
    }

    fn poisson(profile: Profile, seed: u64, end: f64) -> Vec<f64> {
        let mut load = plan(profile, 0.0);
        load.arrivals = crate::scenario::Arrivals::Poisson;
        all(ArrivalClock::new(&load, seed), end)
    }

    #[test]
    fn poisson_arrivals_have_exponential_gaps_at_the_rate() {
        // 200/s for 50 s: 10,000 expected (sd 100); gaps exponential with mean 5 ms.
        let t = poisson(Profile::constant(200.0, Duration::from_secs(50)), 7, 50.0);
        assert!((t.len() as f64 - 10_000.0).abs() < 400.0, "{}", t.len());
        let gaps: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64).sqrt();
        assert!((mean - 0.005).abs() < 0.0002, "mean gap {mean}");
        // An exponential's coefficient of variation is 1 (evenly spaced arrivals: 0).
        assert!((sd / mean - 1.0).abs() < 0.05, "cv {}", sd / mean);
        // P(gap < a quarter of the mean) = 1 - e^-0.25 = 0.221: arrivals bunch.
        let close = gaps.iter().filter(|g| **g < 0.00125).count() as f64 / gaps.len() as f64;
        assert!((close - 0.221).abs() < 0.015, "{close}");
        // The same seed, the same arrivals; another seed, others.
        assert_eq!(
            t,
            poisson(Profile::constant(200.0, Duration::from_secs(50)), 7, 50.0)
        );
        assert_ne!(
            t,
            poisson(Profile::constant(200.0, Duration::from_secs(50)), 8, 50.0)
        );
    }

    #[test]
    fn poisson_gaps_are_independent_of_the_runs_other_draws() {
        // The scheduler draws data rows from an Rng seeded with the run's seed: arrival k's
        // gap (draw k of the arrival stream) must not predict arrival k's row (draw k there).
        let t = poisson(Profile::constant(200.0, Duration::from_secs(50)), 7, 50.0);
        let gaps: Vec<f64> = std::iter::once(t[0])
            .chain(t.windows(2).map(|w| w[1] - w[0]))
            .collect();
        let correlation = |mut rows: fastrand::Rng| {
            let pairs: Vec<(f64, f64)> = gaps
                .iter()
                .map(|g| (*g, rows.usize(..100) as f64))
                .collect();
            let n = pairs.len() as f64;
            let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
            let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
            let cov = pairs.iter().map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / n;
            let sx = (pairs.iter().map(|(x, _)| (x - mx).powi(2)).sum::<f64>() / n).sqrt();
            let sy = (pairs.iter().map(|(_, y)| (y - my).powi(2)).sum::<f64>() / n).sqrt();
            cov / (sx * sy)
        };
        // 10,000 independent pairs: |r| beyond 0.05 would be a 5-sigma event.
        let r = correlation(fastrand::Rng::with_seed(7));
        assert!(r.abs() < 0.05, "correlation {r}");
        // The measure sees a shared stream when there is one.
        assert!(correlation(fastrand::Rng::with_seed(7 ^ ARRIVAL_STREAM)) > 0.5);
    }

    #[test]
    fn poisson_arrivals_follow_a_ramp_and_split_across_shards() {
        // 0 -> 100/s over 10 s: 125 expected in the first half, 375 in the second.
        let p = Profile {
            start: 0.0,
            stages: vec![Stage {
                duration: Duration::from_secs(10),
                target: 100.0,
            }],
        };
        let (mut first, mut second) = (0.0, 0.0);
        for seed in 0..40 {
            let t = poisson(p.clone(), seed, 10.0);
            first += t.iter().filter(|x| **x < 5.0).count() as f64;
            second += t.iter().filter(|x| **x >= 5.0).count() as f64;
        }
        assert!((first / 40.0 - 125.0).abs() < 8.0, "{}", first / 40.0);
        assert!((second / 40.0 - 375.0).abs() < 12.0, "{}", second / 40.0);
        let mut load = plan(Profile::constant(300.0, Duration::from_secs(1)), 0.0);
        load.arrivals = crate::scenario::Arrivals::Poisson;
        let whole = all(ArrivalClock::new(&load, 3), 1.0);
        let mut merged: Vec<f64> = (0..3)
            .flat_map(|index| {
                let mut c = ShardClock::new(&load, crate::runner::Shard { index, count: 3 }, 3);
                std::iter::from_fn(move || c.next_arrival())
                    .map(|d| d.as_secs_f64())
                    .filter(|t| *t < 1.0 - 1e-9)
                    .collect::<Vec<_>>()
            })
            .collect();
        merged.sort_by(f64::total_cmp);
        assert_eq!(merged, whole);
    }

    #[test]
    fn warmup_runs_at_the_first_level_then_the_profile_follows() {
        let p = Profile {
            start: 0.0,
            stages: vec![
                Stage {
                    duration: Duration::from_secs(2),
                    target: 10.0,
                },
                Stage {
                    duration: Duration::from_secs(2),
                    target: 0.0,
                },
            ],
        };
        let t = all(ArrivalClock::new(&plan(p, 1.0), 1), 5.0);
        // 10 in warm-up (from t = 0), then 10 up the ramp and 10 down it.
        assert_eq!(t.len(), 30);
        assert_eq!(t[0], 0.0);
        assert!(t[9] < 1.0 && (t[10] - 1.0).abs() < 1e-6, "{t:?}");
        assert!(t.windows(2).all(|w| w[1] > w[0]));
        assert!(*t.last().unwrap() <= 5.0 + 1e-9);
    }
}
