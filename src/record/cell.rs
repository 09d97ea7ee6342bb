//! One step's (or the workflow's) recording state inside one thread's shard.

use hdrhistogram::Histogram;

use crate::model::Outcome;
use crate::model::histogram::{HIGHEST_US, LOWEST_US, SIGFIG};

/// Number of outcome kinds.
pub const KINDS: usize = Outcome::ALL.len();

/// Histograms and counters for one step in one shard.
#[derive(Debug)]
pub struct Cell {
    /// Corrected latency, measured window only.
    pub corrected: Histogram<u64>,
    /// Service time, measured window only.
    pub service: Histogram<u64>,
    /// Corrected latency in the current interval, warm-up included.
    pub interval: Histogram<u64>,
    /// Schedule lag (sent minus due), measured window only.
    pub lag: Histogram<u64>,
    /// Schedule lag in the current interval, warm-up included.
    pub interval_lag: Histogram<u64>,
    /// Outcomes, measured window only.
    pub counts: [u64; KINDS],
    /// Outcomes in the current interval, warm-up included.
    pub interval_counts: [u64; KINDS],
    /// Outcomes in the current interval, measured window only (what live progress shows).
    pub interval_measured: [u64; KINDS],
    /// The first error message per outcome kind.
    pub samples: [Option<String>; KINDS],
    /// A polling step's requests, measured window only.
    pub polls: PollCount,
}

/// Requests a polling step sent: per attempt, summed and the most.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollCount {
    /// Attempts that polled.
    pub attempts: u64,
    /// Requests those attempts sent.
    pub requests: u64,
    /// The most requests one attempt sent.
    pub max: u64,
}

impl PollCount {
    /// Adds one attempt's `polls` requests.
    pub fn add(&mut self, polls: u64) {
        self.attempts += 1;
        self.requests += polls;
        self.max = self.max.max(polls);
    }

    /// Adds another count (another shard's or another part's).
    pub fn merge(&mut self, other: &PollCount) {
        self.attempts += other.attempts;
        self.requests += other.requests;
        self.max = self.max.max(other.max);
    }
}

impl Cell {
    /// An empty cell. Shard histograms start small and grow to the values seen:
    /// a full 1 µs..1 h histogram is ~190 KB, and there is one per step, kind and thread.
    pub fn new() -> Self {
        let small = || {
            let mut h = Histogram::new_with_bounds(LOWEST_US, 2, SIGFIG).expect("valid bounds");
            h.auto(true);
            h
        };
        Self {
            corrected: small(),
            service: small(),
            interval: small(),
            lag: small(),
            interval_lag: small(),
            counts: [0; KINDS],
            interval_counts: [0; KINDS],
            interval_measured: [0; KINDS],
            samples: Default::default(),
            polls: PollCount::default(),
        }
    }

    /// Counts an outcome that has no latency to record.
    #[inline]
    pub fn count(&mut self, outcome: Outcome, measured: bool) {
        let i = outcome.index();
        self.interval_counts[i] += 1;
        if measured {
            self.counts[i] += 1;
            self.interval_measured[i] += 1;
        }
    }

    /// Records one attempt: its outcome, its latencies and how late it was sent.
    #[inline]
    pub fn record(
        &mut self,
        outcome: Outcome,
        corrected_us: u64,
        service_us: u64,
        lag_us: u64,
        measured: bool,
    ) {
        let i = outcome.index();
        self.interval_counts[i] += 1;
        let timed = outcome.has_response();
        if timed {
            grow_record(&mut self.interval, corrected_us);
        }
        // Every attempt that was sent has a lag, whatever the target did with it.
        let sent = outcome != Outcome::Interrupted;
        if sent {
            grow_record(&mut self.interval_lag, lag_us);
            if measured {
                grow_record(&mut self.lag, lag_us);
            }
        }
        if measured {
            self.counts[i] += 1;
            self.interval_measured[i] += 1;
            if timed {
                grow_record(&mut self.corrected, corrected_us);
                grow_record(&mut self.service, service_us);
            }
        }
    }
}

impl Default for Cell {
    fn default() -> Self {
        Self::new()
    }
}

/// Records into an auto-resizing histogram (`saturating_record` would clamp instead of growing).
#[inline]
fn grow_record(h: &mut Histogram<u64>, us: u64) {
    // Cannot fail: the value is within 1 µs..1 h and the histogram resizes to fit it.
    let _ = h.record(clamp(us));
}

/// Keeps values inside the shared 1 µs..1 h range.
#[inline]
pub fn clamp(us: u64) -> u64 {
    us.clamp(LOWEST_US, HIGHEST_US)
}
