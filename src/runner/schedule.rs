//! The one scheduler every load model runs on, on a thread of its own so arrivals are on
//! time to within tens of microseconds (the async runtime's timers tick in milliseconds,
//! and every late start would show up as latency the target never caused).
//! Open model: each iteration is spawned at its arrival time, or dropped (and counted)
//! beyond `max_in_flight`. Closed model: the scheduler keeps as many user tasks running as
//! the profile asks for; each user loops through iterations by itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::AbortHandle;

use super::arrivals::ShardClock;
use super::tickets::Exhausted;
use super::{Context, StopReason, StopRequest, iteration, user};
use crate::scenario::LoadModel;

/// How often a closed-model ramp re-reads its user count, and the longest single sleep
/// (so a stop request is seen promptly even if a wake-up is lost).
const TICK: Duration = Duration::from_millis(50);

/// Prune finished task handles after this many spawns.
const PRUNE_EVERY: u64 = 1024;

/// Tasks that may still run, to cut them off at the end. Only the scheduler thread touches
/// them, so iterations share nothing to be stoppable.
#[derive(Debug, Default)]
pub struct Tasks(Vec<AbortHandle>);

/// Starts iterations (or users) until the load ends (blocking; run on its own thread);
/// returns why it ended.
pub fn drive(
    ctx: &Arc<Context>,
    runtime: &Handle,
    start: Instant,
    stop: &watch::Receiver<StopRequest>,
    tasks: &mut Tasks,
) -> StopReason {
    ctx.gate.set_scheduler();
    let load = &ctx.plan.load;
    let end = start + load.total_duration();
    let mut clock = ShardClock::new(load, ctx.shard, ctx.arrival_seed);
    let mut rng = fastrand::Rng::with_seed(ctx.seed);
    let mut next_arrival = clock.next_arrival().map(|d| start + d);
    let mut spawned = 0u64;
    loop {
        if let StopRequest::Graceful(why) | StopRequest::Immediate(why) = *stop.borrow() {
            return StopReason::Interrupted(why);
        }
        match ctx.tickets.exhausted() {
            Some(Exhausted::Cap) => return StopReason::Iterations,
            Some(Exhausted::Data) => return StopReason::DataExhausted,
            None => {}
        }
        let now = Instant::now();
        // Arrivals that fell due before the end are started (or counted as dropped) even if
        // the scheduler woke after it: a starved scheduler must not lose them silently.
        let overdue = matches!(load.model, LoadModel::Open { .. })
            && next_arrival.is_some_and(|due| due < end && due <= now);
        if now >= end && !overdue {
            return StopReason::Duration;
        }
        match load.model {
            LoadModel::Open { max_in_flight } => {
                let due = next_arrival.unwrap_or(end);
                if due > now {
                    park_until(due.min(now + TICK));
                    continue;
                }
                next_arrival = clock.next_arrival().map(|d| start + d);
                if ctx.gate.in_flight() >= max_in_flight {
                    ctx.tickets.drop_one(due);
                    continue;
                }
                let Some(launch) = ctx.tickets.take(due, &mut rng) else {
                    continue;
                };
                let task = runtime.spawn(iteration::spawned(ctx.clone(), launch));
                tasks.0.push(task.abort_handle());
                spawned += 1;
                if spawned.is_multiple_of(PRUNE_EVERY) {
                    tasks.0.retain(|t| !t.is_finished());
                }
            }
            LoadModel::Closed { .. } => {
                let t = now - start;
                let level = if t < load.warmup {
                    load.profile.warmup_level()
                } else {
                    load.profile.level_at(t - load.warmup)
                };
                // User j of the profile's is shard (j mod N)'s.
                let wanted = ctx.shard.share(level.max(0.0).floor() as u64) as usize;
                ctx.users_wanted.store(wanted, Ordering::Relaxed);
                let mut running = ctx.users_running.lock().unwrap_or_else(|e| e.into_inner());
                if running.len() < wanted {
                    running.resize(wanted, false);
                }
                for (index, slot) in running.iter_mut().enumerate().take(wanted) {
                    if !std::mem::replace(slot, true) {
                        tasks
                            .0
                            .push(runtime.spawn(user::run(ctx.clone(), index)).abort_handle());
                    }
                }
                drop(running);
                // Woken early by a stop request or an exhausted feeder; the tick re-reads ramps.
                park_until((now + TICK).min(end));
            }
        }
    }
}

/// Stops new iterations, lets in-flight ones finish within `grace` (or until a second stop
/// request), then cuts off the rest and waits (briefly) for them to record themselves.
pub fn drain(
    ctx: &Context,
    grace: Duration,
    stop: &watch::Receiver<StopRequest>,
    tasks: &mut Tasks,
) {
    ctx.stopping.store(true, Ordering::Release);
    ctx.gate.want_wakeups(true);
    let deadline = Instant::now() + grace;
    while ctx.gate.in_flight() > 0 && !matches!(*stop.borrow(), StopRequest::Immediate(_)) {
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        std::thread::park_timeout(TICK.min(deadline - now));
    }
    for task in tasks.0.drain(..) {
        task.abort();
    }
    let give_up = Instant::now() + Duration::from_secs(2);
    while ctx.gate.in_flight() > 0 && Instant::now() < give_up {
        std::thread::park_timeout(TICK);
    }
}

/// Sleeps until `t` with the OS timer (tens of microseconds of slack); an early wake-up
/// just loops in the caller.
fn park_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        std::thread::park_timeout(t - now);
    }
}
