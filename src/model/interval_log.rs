//! Reading an interval log (`intervals.hlog`) back into per-tag time series.

use std::collections::BTreeMap;

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

/// One interval of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalPoint {
    /// Seconds from the start of the run.
    pub start: f64,
    /// Interval length in seconds.
    pub length: f64,
    /// Latencies recorded.
    pub count: u64,
    /// Median, µs (0 when empty).
    pub p50: u64,
    /// 99th percentile, µs (0 when empty).
    pub p99: u64,
}

/// Every tag's intervals, in time order.
pub type IntervalSeries = BTreeMap<String, Vec<IntervalPoint>>;

/// Parses an interval log; unreadable lines are skipped (a log cut short by a crash still reads).
pub fn parse_interval_log(bytes: &[u8]) -> IntervalSeries {
    let mut out = IntervalSeries::new();
    for entry in IntervalLogIterator::new(bytes) {
        let Ok(LogEntry::Interval(h)) = entry else {
            continue;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(h.encoded_histogram())
        else {
            continue;
        };
        let Ok(hist): Result<Histogram<u64>, _> = super::histogram::decode_bytes(&raw) else {
            continue;
        };
        let empty = hist.is_empty();
        out.entry(h.tag().map(|t| t.as_str().to_string()).unwrap_or_default())
            .or_default()
            .push(IntervalPoint {
                start: h.start_timestamp().as_secs_f64(),
                length: h.duration().as_secs_f64(),
                count: hist.len(),
                p50: if empty {
                    0
                } else {
                    hist.value_at_quantile(0.5)
                },
                p99: if empty {
                    0
                } else {
                    hist.value_at_quantile(0.99)
                },
            });
    }
    for points in out.values_mut() {
        points.sort_by(|a, b| a.start.total_cmp(&b.start));
    }
    out
}
