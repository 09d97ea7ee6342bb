//! One workflow iteration: steps in order, each timed from when it was due (coordinated-
//! omission correct) and from when it was sent, a failed step ending the iteration.

use std::sync::Arc;
use std::time::Instant;

use super::Context;
use super::http::{self, Session};
use super::vars::IterationVars;
use crate::model::Outcome;
use crate::record::Sample;
use crate::scenario::StepAction;

/// An iteration the scheduler has decided to start.
#[derive(Debug, Clone, Copy)]
pub struct Launch {
    /// Sequence number.
    pub index: u64,
    /// When it was due to start (the open model's arrival time).
    pub intended: Instant,
    /// False during warm-up.
    pub measured: bool,
    /// The data row it uses.
    pub row: usize,
}

/// Runs one iteration to the end, or until the run's hard stop cuts it off.
pub async fn run(ctx: Arc<Context>, launch: Launch) {
    let mut state = Progress {
        step: 0,
        done: false,
    };
    let mut hard = ctx.hard_stop.subscribe();
    tokio::select! {
        biased;
        _ = hard.wait_for(|stop| *stop) => {}
        _ = steps(&ctx, launch, &mut state) => {}
    }
    if !state.done {
        // Cut off by the end of the run: the harness stopped, the target did not fail.
        let cut = Sample {
            outcome: Outcome::Interrupted,
            corrected_us: 0,
            service_us: 0,
            measured: launch.measured,
        };
        ctx.recorder.record(state.step, cut);
        ctx.recorder.record(ctx.workflow_cell(), cut);
    }
    ctx.gate.leave();
}

struct Progress {
    step: usize,
    done: bool,
}

async fn steps(ctx: &Context, launch: Launch, state: &mut Progress) {
    let plan = &ctx.plan;
    let mut vars = IterationVars::new(
        plan.data.as_ref().map(|d| d.rows.clone()),
        launch.row,
        plan.captures.len(),
        launch.index,
        ctx.seed,
    );
    let mut session = Session::default();
    let mut due = launch.intended;
    let (mut corrected_total, mut service_total) = (0u64, 0u64);
    for (i, step) in plan.steps.iter().enumerate() {
        state.step = i;
        let sent = Instant::now();
        let result = match &step.action {
            StepAction::Http(req) => {
                http::perform(step, req, &ctx.client, &mut session, &mut vars).await
            }
        };
        let end = Instant::now();
        let corrected = micros(end - due);
        let service = micros(end - sent);
        let outcome = result
            .as_ref()
            .err()
            .map(|(o, _)| *o)
            .unwrap_or(Outcome::Ok);
        let sample = Sample {
            outcome,
            corrected_us: corrected,
            service_us: service,
            measured: launch.measured,
        };
        if let Err((outcome, message)) = result {
            ctx.recorder.record_error(i, sample, &message);
            let failed = Sample {
                outcome,
                corrected_us: 0,
                service_us: 0,
                measured: launch.measured,
            };
            ctx.recorder.record(ctx.workflow_cell(), failed);
            state.done = true;
            return;
        }
        ctx.recorder.record(i, sample);
        corrected_total += corrected;
        service_total += service;
        due = end;
        if let Some(think) = &step.think {
            let pause = think.sample(&mut vars.rng);
            tokio::time::sleep(pause).await;
            due = end + pause;
        }
    }
    // The workflow's latency is the sum of its steps' (think time excluded); the corrected
    // sum starts at the intended start, so a late start counts against it.
    let whole = Sample {
        outcome: Outcome::Ok,
        corrected_us: corrected_total,
        service_us: service_total,
        measured: launch.measured,
    };
    ctx.recorder.record(ctx.workflow_cell(), whole);
    state.done = true;
    ctx.client.release(session);
    if let Some(think) = ctx.iteration_think {
        // A closed-model user pauses before its next iteration, unless the run is ending.
        let pause = think.sample(&mut vars.rng);
        let mut over = ctx.scheduling_over.subscribe();
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = over.wait_for(|o| *o) => {}
        }
    }
}

/// Microseconds, at least 1.
fn micros(d: std::time::Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}
