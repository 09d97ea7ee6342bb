//! The one scheduler every load model runs on, on a thread of its own so arrivals are on
//! time to within tens of microseconds (the async runtime's timers tick in milliseconds,
//! and every late start would show up as latency the target never caused).
//! Open model: each iteration starts at its arrival time, or is dropped (and counted)
//! beyond `max_in_flight`. Closed model: one starts whenever fewer run than the profile's users.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;

use super::arrivals::ArrivalClock;
use super::iteration::{self, Launch};
use super::{Context, StopReason, StopRequest};
use crate::record::interval::Counters;
use crate::scenario::{FeedMode, LoadModel};

/// How often a closed-model ramp re-reads its user count, and the longest single sleep
/// (so a stop request is seen promptly even if a wake-up is lost).
const TICK: Duration = Duration::from_millis(50);

/// What the scheduler counted in the measured window.
#[derive(Debug, Default, Clone, Copy)]
pub struct Scheduled {
    /// Iterations started after warm-up.
    pub started: u64,
    /// Arrivals dropped after warm-up.
    pub dropped: u64,
}

/// Starts iterations until the load ends (blocking; run on its own thread); returns why it ended.
pub fn drive(
    ctx: &Arc<Context>,
    runtime: &Handle,
    start: Instant,
    stop: &watch::Receiver<StopRequest>,
    counters: &Counters,
    scheduled: &mut Scheduled,
) -> StopReason {
    ctx.gate.set_scheduler();
    let load = &ctx.plan.load;
    let end = start + load.total_duration();
    let measure_start = start + load.warmup;
    let mut clock = ArrivalClock::new(load);
    let mut rows = RowPicker::new(ctx);
    let mut index = 0u64;
    let closed = matches!(load.model, LoadModel::Closed { .. });
    ctx.gate.want_wakeups(closed);
    let mut next_arrival = if closed {
        None
    } else {
        clock.next_arrival().map(|d| start + d)
    };
    loop {
        if let StopRequest::Graceful(why) | StopRequest::Immediate(why) = *stop.borrow() {
            return StopReason::Interrupted(why);
        }
        if load.iterations.is_some_and(|cap| scheduled.started >= cap) {
            return StopReason::Iterations;
        }
        let now = Instant::now();
        if now >= end {
            return StopReason::Duration;
        }
        let due = match load.model {
            LoadModel::Open { max_in_flight } => {
                let due = next_arrival.unwrap_or(end);
                if due > now {
                    sleep_until(due.min(now + TICK));
                    continue;
                }
                next_arrival = clock.next_arrival().map(|d| start + d);
                if ctx.gate.in_flight() >= max_in_flight {
                    counters.dropped.fetch_add(1, Ordering::Relaxed);
                    if due >= measure_start {
                        scheduled.dropped += 1;
                    }
                    continue;
                }
                due
            }
            LoadModel::Closed { .. } => {
                let t = now - start;
                let users = if t < load.warmup {
                    load.profile.warmup_level()
                } else {
                    load.profile.level_at(t - load.warmup)
                };
                if ctx.gate.in_flight() as f64 >= users.floor() {
                    // Woken by an ending iteration or a stop request; the tick re-reads ramps.
                    std::thread::park_timeout(TICK.min(end - now));
                    continue;
                }
                now
            }
        };
        let Some(row) = rows.next() else {
            return StopReason::DataExhausted;
        };
        let measured = due >= measure_start;
        counters.started.fetch_add(1, Ordering::Relaxed);
        if measured {
            scheduled.started += 1;
        }
        ctx.gate.enter();
        runtime.spawn(iteration::run(
            ctx.clone(),
            Launch {
                index,
                intended: due,
                measured,
                row,
            },
        ));
        index += 1;
    }
}

/// Lets in-flight iterations finish within `grace` (or until a second stop request),
/// then cuts off the rest and waits (briefly) for them to record themselves as interrupted.
pub fn drain(ctx: &Context, grace: Duration, stop: &watch::Receiver<StopRequest>) {
    ctx.gate.want_wakeups(true);
    let deadline = Instant::now() + grace;
    while ctx.gate.in_flight() > 0 && !matches!(*stop.borrow(), StopRequest::Immediate(_)) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::park_timeout(TICK.min(deadline - now));
    }
    ctx.hard_stop.send_replace(true);
    let give_up = Instant::now() + Duration::from_secs(2);
    while ctx.gate.in_flight() > 0 && Instant::now() < give_up {
        std::thread::park_timeout(TICK);
    }
}

/// Sleeps until `t` with the OS timer (tens of microseconds of slack); a spurious or early
/// wake-up just loops in the caller.
fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::park_timeout(t - now);
    }
}

/// Hands out data rows in the feeder's order.
struct RowPicker {
    len: usize,
    mode: Option<FeedMode>,
    next: usize,
    rng: fastrand::Rng,
}

impl RowPicker {
    fn new(ctx: &Context) -> Self {
        let data = ctx.plan.data.as_ref();
        Self {
            len: data.map(|d| d.rows.len()).unwrap_or(0),
            mode: data.map(|d| d.mode),
            next: 0,
            rng: fastrand::Rng::with_seed(ctx.seed),
        }
    }

    fn next(&mut self) -> Option<usize> {
        let i = self.next;
        self.next += 1;
        match self.mode {
            None => Some(0),
            Some(FeedMode::Sequential) => Some(i % self.len),
            Some(FeedMode::Random) => Some(self.rng.usize(..self.len)),
            Some(FeedMode::Unique) => (i < self.len).then_some(i),
        }
    }
}
