//! Reading an HdrHistogram into a [`Distribution`]: the only file of the statistics that
//! knows the histogram crate.

use super::distribution::Distribution;
use hdrhistogram::Histogram;

impl Distribution {
    /// The recorded buckets of `histogram`, each at its median-equivalent value (the middle of
    /// the bucket's range, as simulation.py's `to_hist`).
    pub fn from_histogram(histogram: &Histogram<u64>) -> Self {
        Distribution::from_buckets(histogram.iter_recorded().map(|bucket| {
            let value = histogram.median_equivalent(bucket.value_iterated_to());
            (value as f64, bucket.count_at_value())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_read_at_their_median_equivalent() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        h.record_n(5, 2).unwrap(); // width-1 bucket: the value itself
        h.record(20_000).unwrap(); // bucket [20_000, 20_016): width 2^(14 - 10)
        h.record(20_015).unwrap(); // same bucket, read at 20_000 + 16 / 2
        h.record(2_049).unwrap(); // bucket [2_048, 2_050): width 2, read at 2_049
        let d = Distribution::from_histogram(&h);
        assert_eq!(
            d.buckets().collect::<Vec<_>>(),
            vec![(5.0, 2), (2_049.0, 1), (20_008.0, 2)]
        );
        assert_eq!(d.count(), 5);
    }
}
