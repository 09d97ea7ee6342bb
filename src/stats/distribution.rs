//! A run's latency distribution as sorted (representative value, count) buckets, and the
//! rank arithmetic every quantile in the crate goes through.

/// Latency histogram of one run: bucket representative values (µs) in ascending order with
/// their counts, as HdrHistogram's recorded buckets at their median-equivalent value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distribution {
    /// Distinct representative values, ascending.
    values: Vec<f64>,
    /// Count of each value.
    counts: Vec<u64>,
    /// Running total of counts up to and including each value.
    cumulative: Vec<u64>,
}

/// The rank of the q-quantile among n ordered values: max(1, ceil(q n)).
///
/// Computed as `q * n` in floating point, exactly as simulation.py, so both pick the same rank.
pub fn quantile_rank(q: f64, n: u64) -> u64 {
    ((q * n as f64).ceil() as u64).max(1)
}

impl Distribution {
    /// Builds a distribution from buckets in any order: equal values merge, and buckets with a
    /// zero count or a non-finite value are dropped.
    pub fn from_buckets(buckets: impl IntoIterator<Item = (f64, u64)>) -> Self {
        let mut sorted: Vec<(f64, u64)> = buckets
            .into_iter()
            .filter(|&(value, count)| count > 0 && value.is_finite())
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut values: Vec<f64> = Vec::with_capacity(sorted.len());
        let mut counts: Vec<u64> = Vec::with_capacity(sorted.len());
        for (value, count) in sorted {
            match (values.last(), counts.last_mut()) {
                (Some(&last), Some(merged)) if last == value => *merged += count,
                _ => {
                    values.push(value);
                    counts.push(count);
                }
            }
        }
        let cumulative = counts
            .iter()
            .scan(0u64, |total, &count| {
                *total += count;
                Some(*total)
            })
            .collect();
        Distribution {
            values,
            counts,
            cumulative,
        }
    }

    /// Number of recorded values.
    pub fn count(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The value of the `rank`-th smallest recording (1-based): the first bucket whose
    /// cumulative count reaches `rank`. Rank 0 reads as 1 and ranks past the end read the
    /// largest bucket, as simulation.py's `value_at_rank`. None when empty.
    pub fn value_at_rank(&self, rank: u64) -> Option<f64> {
        let last = self.values.len().checked_sub(1)?;
        let index = self.cumulative.partition_point(|&c| c < rank).min(last);
        Some(self.values[index])
    }

    /// The q-quantile by the rank rule r = max(1, ceil(q n)). None when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.value_at_rank(quantile_rank(q, self.count()))
    }

    /// The buckets as (representative value, count), ascending by value.
    pub fn buckets(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.values.iter().copied().zip(self.counts.iter().copied())
    }

    /// Mean of the representative values weighted by counts. None when empty.
    pub fn mean(&self) -> Option<f64> {
        if self.is_empty() {
            return None;
        }
        let sum: f64 = self.buckets().map(|(v, c)| v * c as f64).sum();
        Some(sum / self.count() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::property::for_all;

    #[test]
    fn rank_rule_matches_the_design() {
        assert_eq!(quantile_rank(0.5, 1), 1);
        assert_eq!(quantile_rank(0.5, 10), 5);
        assert_eq!(quantile_rank(0.5, 11), 6);
        assert_eq!(quantile_rank(0.99, 1000), 990);
        assert_eq!(quantile_rank(0.99, 1001), 991);
        assert_eq!(quantile_rank(0.9, 0), 1);
        assert_eq!(quantile_rank(0.0, 50), 1);
    }

    #[test]
    fn merges_sorts_and_drops() {
        let d = Distribution::from_buckets([(3.0, 2), (1.0, 1), (3.0, 1), (2.0, 0), (f64::NAN, 4)]);
        assert_eq!(d.count(), 4);
        assert_eq!(d.buckets().collect::<Vec<_>>(), vec![(1.0, 1), (3.0, 3)]);
        assert_eq!(d.value_at_rank(1), Some(1.0));
        assert_eq!(d.value_at_rank(2), Some(3.0));
        assert_eq!(d.value_at_rank(0), Some(1.0));
        assert_eq!(d.value_at_rank(99), Some(3.0));
        assert_eq!(d.mean(), Some(2.5));
    }

    #[test]
    fn empty_distribution_has_no_values() {
        let d = Distribution::from_buckets(std::iter::empty());
        assert_eq!(d.count(), 0);
        assert_eq!(d.value_at_rank(1), None);
        assert_eq!(d.quantile(0.5), None);
        assert_eq!(d.mean(), None);
    }

    #[test]
    fn quantiles_agree_with_a_sorted_sample() {
        for_all(300, |rng| {
            let n = rng.usize(1..400);
            let distinct = rng.u32(1..30);
            let mut sample: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.u32(0..distinct)) * 1.5 + 1.0)
                .collect();
            let d = Distribution::from_buckets(sample.iter().map(|&v| (v, 1)));
            sample.sort_by(f64::total_cmp);
            assert_eq!(d.count(), n as u64);
            for q in [0.0, 0.01, 0.5, 0.9, 0.99, 0.999, 1.0, rng.f64()] {
                let rank = quantile_rank(q, n as u64) as usize;
                assert_eq!(d.quantile(q), Some(sample[rank - 1]), "q={q}, n={n}");
            }
            let r = rng.u64(1..=n as u64);
            assert_eq!(d.value_at_rank(r), Some(sample[r as usize - 1]));
            let brute_mean = sample.iter().sum::<f64>() / n as f64;
            assert!((d.mean().unwrap() - brute_mean).abs() < 1e-9 * brute_mean);
        });
    }
}
