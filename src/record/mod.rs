//! Recording: per-thread shards of HdrHistograms and outcome counts, merged when a run ends.
//!
//! Each runtime thread records into its own shard, found through a thread-local, so the
//! hot path takes only an uncontended lock; the interval flusher is the only other party,
//! once a second.

mod cell;
pub mod interval;
pub mod machine;
pub mod merge;
pub mod mix;
pub mod summary;

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use hdrhistogram::Histogram;

use cell::Cell;
pub use cell::{KINDS, PollCount, clamp};

use crate::model::{Outcome, new_histogram};

type Shard = Mutex<Vec<Cell>>;

static NEXT_RECORDER_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's shard for each live recorder (there can be several: tests, A/B runs).
    static SHARDS: RefCell<Vec<(u64, Weak<Shard>)>> = const { RefCell::new(Vec::new()) };
}

/// One attempt to record.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// What happened.
    pub outcome: Outcome,
    /// Latency from when the step was due, µs.
    pub corrected_us: u64,
    /// Latency from when the request was sent, µs.
    pub service_us: u64,
    /// How late the request was sent: sent minus due, µs (the harness's delay).
    pub lag_us: u64,
    /// False during warm-up: counted in the time series only.
    pub measured: bool,
}

/// Records a run's samples; cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Recorder {
    inner: Arc<Inner>,
}

struct Inner {
    id: u64,
    cells: usize,
    shards: Mutex<Vec<Arc<Shard>>>,
}

/// Everything recorded for one cell, merged over all threads.
#[derive(Debug)]
pub struct CellTotals {
    /// Corrected latency (1 µs..1 h bounds).
    pub corrected: Histogram<u64>,
    /// Service time.
    pub service: Histogram<u64>,
    /// Schedule lag.
    pub lag: Histogram<u64>,
    /// Outcome counts, indexed like [`Outcome::ALL`].
    pub counts: [u64; KINDS],
    /// First error message per outcome kind.
    pub samples: [Option<String>; KINDS],
    /// A polling step's requests per attempt.
    pub polls: PollCount,
}

/// One interval's data for every cell, merged over all threads.
pub struct IntervalTotals {
    /// Per cell: the interval's corrected-latency histogram.
    pub histograms: Vec<Histogram<u64>>,
    /// Per cell: the interval's outcome counts.
    pub counts: Vec<[u64; KINDS]>,
    /// Per cell: the interval's outcome counts in the measured window only.
    pub measured: Vec<[u64; KINDS]>,
    /// The interval's schedule lag, every cell together.
    pub lag: Histogram<u64>,
}

impl Recorder {
    /// A recorder for `cells` cells (the steps, then the workflow, always last).
    pub fn new(cells: usize) -> Self {
        assert!(cells >= 1, "a recorder has at least the workflow's cell");
        Self {
            inner: Arc::new(Inner {
                id: NEXT_RECORDER_ID.fetch_add(1, Ordering::Relaxed),
                cells,
                shards: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Number of cells.
    pub fn cells(&self) -> usize {
        self.inner.cells
    }

    /// Records one attempt into this thread's shard.
    #[inline]
    pub fn record(&self, cell: usize, s: Sample) {
        self.with_shard(|cells| {
            cells[cell].record(
                s.outcome,
                s.corrected_us,
                s.service_us,
                s.lag_us,
                s.measured,
            )
        });
    }

    /// Counts an outcome without a latency (a failed or cut-off iteration of the workflow).
    pub fn count(&self, cell: usize, outcome: Outcome, measured: bool) {
        self.with_shard(|cells| cells[cell].count(outcome, measured));
    }

    /// Counts the requests one attempt of a polling step sent (measured window only).
    pub fn record_polls(&self, cell: usize, polls: u32, measured: bool) {
        if measured {
            self.with_shard(|cells| cells[cell].polls.add(u64::from(polls)));
        }
    }

    /// Records a failed attempt, keeping the first message of its kind.
    pub fn record_error(&self, cell: usize, s: Sample, message: &dyn std::fmt::Display) {
        self.with_shard(|cells| {
            let c = &mut cells[cell];
            c.record(
                s.outcome,
                s.corrected_us,
                s.service_us,
                s.lag_us,
                s.measured,
            );
            let slot = &mut c.samples[s.outcome.index()];
            if slot.is_none() {
                *slot = Some(message.to_string());
            }
        });
    }

    fn with_shard<R>(&self, f: impl FnOnce(&mut Vec<Cell>) -> R) -> R {
        let shard = SHARDS.with(|local| {
            let mut local = local.borrow_mut();
            if let Some(shard) = local
                .iter()
                .find(|(id, _)| *id == self.inner.id)
                .and_then(|(_, w)| w.upgrade())
            {
                return shard;
            }
            local.retain(|(_, w)| w.strong_count() > 0);
            let shard: Arc<Shard> = Arc::new(Mutex::new(
                (0..self.inner.cells).map(|_| Cell::new()).collect(),
            ));
            lock(&self.inner.shards).push(shard.clone());
            local.push((self.inner.id, Arc::downgrade(&shard)));
            shard
        });
        let mut cells = lock(&shard);
        f(&mut cells)
    }

    /// Moves every shard's current-interval data into `into`, leaving the shards' intervals empty.
    pub fn take_interval(&self, into: &mut IntervalTotals) {
        for h in &mut into.histograms {
            h.reset();
        }
        for c in into.counts.iter_mut().chain(into.measured.iter_mut()) {
            *c = [0; KINDS];
        }
        into.lag.reset();
        let shards = lock(&self.inner.shards).clone();
        let workflow = self.inner.cells - 1;
        for shard in shards {
            let mut cells = lock(&shard);
            for (i, cell) in cells.iter_mut().enumerate() {
                into.histograms[i]
                    .add(&cell.interval)
                    .expect("values are clamped to the shared bounds");
                cell.interval.reset();
                // The workflow's lag is its first step's: counted once, with the steps.
                if i != workflow {
                    into.lag
                        .add(&cell.interval_lag)
                        .expect("values are clamped to the shared bounds");
                }
                cell.interval_lag.reset();
                for (k, n) in cell.interval_counts.iter_mut().enumerate() {
                    into.counts[i][k] += *n;
                    *n = 0;
                }
                for (k, n) in cell.interval_measured.iter_mut().enumerate() {
                    into.measured[i][k] += *n;
                    *n = 0;
                }
            }
        }
    }

    /// An empty interval accumulator sized for this recorder.
    pub fn interval_totals(&self) -> IntervalTotals {
        IntervalTotals {
            histograms: (0..self.inner.cells).map(|_| new_histogram()).collect(),
            counts: vec![[0; KINDS]; self.inner.cells],
            measured: vec![[0; KINDS]; self.inner.cells],
            lag: new_histogram(),
        }
    }

    /// Merges every shard's measured data.
    pub fn totals(&self) -> Vec<CellTotals> {
        let mut out: Vec<CellTotals> = (0..self.inner.cells)
            .map(|_| CellTotals {
                corrected: new_histogram(),
                service: new_histogram(),
                lag: new_histogram(),
                counts: [0; KINDS],
                samples: Default::default(),
                polls: PollCount::default(),
            })
            .collect();
        let shards = lock(&self.inner.shards).clone();
        for shard in shards {
            let cells = lock(&shard);
            for (t, c) in out.iter_mut().zip(cells.iter()) {
                t.corrected.add(&c.corrected).expect("values are clamped");
                t.service.add(&c.service).expect("values are clamped");
                t.lag.add(&c.lag).expect("values are clamped");
                t.polls.merge(&c.polls);
                for k in 0..KINDS {
                    t.counts[k] += c.counts[k];
                    if t.samples[k].is_none() {
                        t.samples[k].clone_from(&c.samples[k]);
                    }
                }
            }
        }
        out
    }
}

/// Locks a mutex, recovering from poisoning: a panicked recorder thread must not lose the run.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(outcome: Outcome, us: u64, measured: bool) -> Sample {
        Sample {
            outcome,
            corrected_us: us,
            service_us: us / 2,
            lag_us: us / 10,
            measured,
        }
    }

    #[test]
    fn shards_from_several_threads_merge() {
        let r = Recorder::new(2);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let r = r.clone();
                s.spawn(move || {
                    for i in 0..1000u64 {
                        r.record(0, sample(Outcome::Ok, 1000 + i + t, true));
                    }
                    r.record_error(1, sample(Outcome::Timeout, 0, true), &format!("thread {t}"));
                });
            }
        });
        let totals = r.totals();
        assert_eq!(totals[0].corrected.len(), 4000);
        assert_eq!(totals[0].service.len(), 4000);
        assert_eq!(totals[0].counts[Outcome::Ok.index()], 4000);
        assert_eq!(totals[1].counts[Outcome::Timeout.index()], 4);
        assert_eq!(totals[1].corrected.len(), 0, "timeouts have no latency");
        assert!(
            totals[1].samples[Outcome::Timeout.index()]
                .as_deref()
                .unwrap()
                .starts_with("thread")
        );
        assert_eq!(lock(&r.inner.shards).len(), 4);
    }

    #[test]
    fn warmup_goes_to_the_interval_only_and_intervals_reset() {
        let r = Recorder::new(1);
        r.record(0, sample(Outcome::Ok, 500, false));
        r.record(0, sample(Outcome::Ok, 700, true));
        r.record(0, sample(Outcome::Http5xx, 9_000_000_000, true));
        let mut iv = r.interval_totals();
        r.take_interval(&mut iv);
        assert_eq!(iv.histograms[0].len(), 3);
        assert_eq!(iv.counts[0][Outcome::Ok.index()], 2);
        assert_eq!(
            iv.histograms[0].max(),
            iv.histograms[0].highest_equivalent(3_600_000_000)
        );
        r.take_interval(&mut iv);
        assert_eq!(iv.histograms[0].len(), 0);
        let t = r.totals();
        assert_eq!(t[0].corrected.len(), 2);
        assert_eq!(t[0].counts[Outcome::Ok.index()], 1);
    }

    #[test]
    fn a_dropped_recorder_frees_its_shards() {
        let r = Recorder::new(1);
        r.record(0, sample(Outcome::Ok, 1, true));
        let weak = Arc::downgrade(&lock(&r.inner.shards)[0]);
        drop(r);
        assert!(weak.upgrade().is_none());
    }
}
