//! A closed-model user: a task that loops through the workflow on its own connection,
//! pausing between iterations, until the profile retires it or the run ends. Nothing is
//! spawned or woken per iteration.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::Context;
use super::http::Session;
use super::iteration;

/// Runs user number `index` until it is no longer wanted.
pub async fn run(ctx: Arc<Context>, index: usize) {
    let mut session = Session::default();
    let mut rng =
        fastrand::Rng::with_seed(ctx.seed ^ (index as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F));
    loop {
        if ctx.stopping.load(Ordering::Relaxed) || index >= ctx.users_wanted.load(Ordering::Relaxed)
        {
            break;
        }
        let Some(launch) = ctx.tickets.take(Instant::now(), &mut rng) else {
            ctx.gate.wake();
            break;
        };
        let mut guard = iteration::Guard::enter(&*ctx, launch.measured);
        let completed = iteration::run(&mut guard, launch, &mut session).await;
        drop(guard);
        if !completed {
            // A failed step may leave the connection mid-exchange: start the next clean.
            session.reconnect();
        }
        if let Some(think) = &ctx.iteration_think {
            tokio::time::sleep(think.sample(&mut rng)).await;
        }
    }
    ctx.client.release(session);
    if let Some(slot) = ctx
        .users_running
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(index)
    {
        *slot = false;
    }
}
