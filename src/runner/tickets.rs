//! Hands out iterations: sequence numbers, data rows, the iteration cap and the measured
//! counts. The open model's scheduler and the closed model's users both draw from here.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::iteration::Launch;
use crate::record::interval::Counters;
use crate::scenario::{FeedMode, Plan};

/// Why no more iterations may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// The iteration cap was reached.
    Cap,
    /// A `unique` feeder ran out of rows.
    Data,
}

/// The iteration dispenser for one run.
#[derive(Debug)]
pub struct Tickets {
    counters: Arc<Counters>,
    measure_start: Instant,
    cap: Option<u64>,
    rows: usize,
    mode: Option<FeedMode>,
    cap_reached: AtomicBool,
    data_exhausted: AtomicBool,
    shard: super::Shard,
}

impl Tickets {
    /// A dispenser for a plan whose measurement starts at `measure_start`.
    /// A shard takes its share of the cap and its rows of a `unique` feeder.
    pub fn new(
        plan: &Plan,
        counters: Arc<Counters>,
        measure_start: Instant,
        shard: super::Shard,
    ) -> Self {
        Self {
            counters,
            measure_start,
            shard,
            cap: plan.load.iterations.map(|c| shard.share(c)),
            rows: plan.data.as_ref().map(|d| d.rows.len()).unwrap_or(0),
            mode: plan.data.as_ref().map(|d| d.mode),
            cap_reached: AtomicBool::new(false),
            data_exhausted: AtomicBool::new(false),
        }
    }

    /// Takes the next iteration, due at `due`; None once the cap or the data has run out.
    pub fn take(&self, due: Instant, rng: &mut fastrand::Rng) -> Option<Launch> {
        if self.exhausted().is_some() {
            return None;
        }
        let measured = due >= self.measure_start;
        if measured {
            let n = self
                .counters
                .started_measured
                .fetch_add(1, Ordering::Relaxed);
            if self.cap.is_some_and(|cap| n >= cap) {
                self.counters
                    .started_measured
                    .fetch_sub(1, Ordering::Relaxed);
                self.cap_reached.store(true, Ordering::Release);
                return None;
            }
        }
        // Numbered in the whole (sharded) run, so the shards' rows interleave and never repeat.
        let index = self
            .shard
            .global(self.counters.started.fetch_add(1, Ordering::Relaxed));
        let row = match self.mode {
            None => 0,
            Some(FeedMode::Sequential) => (index % self.rows as u64) as usize,
            Some(FeedMode::Random) => rng.usize(..self.rows),
            Some(FeedMode::Unique) if index < self.rows as u64 => index as usize,
            Some(FeedMode::Unique) => {
                self.counters.started.fetch_sub(1, Ordering::Relaxed);
                if measured {
                    self.counters
                        .started_measured
                        .fetch_sub(1, Ordering::Relaxed);
                }
                self.data_exhausted.store(true, Ordering::Release);
                return None;
            }
        };
        Some(Launch {
            index,
            intended: due,
            measured,
            row,
        })
    }

    /// Counts an arrival that could not start.
    pub fn drop_one(&self, due: Instant) {
        self.counters.dropped.fetch_add(1, Ordering::Relaxed);
        if due >= self.measure_start {
            self.counters
                .dropped_measured
                .fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Whether (and why) no more iterations may start.
    pub fn exhausted(&self) -> Option<Exhausted> {
        if self.data_exhausted.load(Ordering::Acquire) {
            Some(Exhausted::Data)
        } else if self.cap_reached.load(Ordering::Acquire) {
            Some(Exhausted::Cap)
        } else {
            None
        }
    }
}
