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

/// An iteration about to start.
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

/// Leaves the gate however the iteration ends; if the run cut it off (its task aborted),
/// records the step it was on as interrupted: the harness stopped, the target did not fail.
struct Guard<'a> {
    ctx: &'a Context,
    measured: bool,
    step: usize,
    done: bool,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let cut = Sample {
                outcome: Outcome::Interrupted,
                corrected_us: 0,
                service_us: 0,
                measured: self.measured,
            };
            self.ctx.recorder.record(self.step, cut);
            self.ctx.recorder.record(self.ctx.workflow_cell(), cut);
        }
        self.ctx.gate.leave();
    }
}

/// An open-model iteration as a task of its own, with a connection from the pool.
pub async fn spawned(ctx: Arc<Context>, launch: Launch) {
    let mut session = Session::default();
    if run(&ctx, launch, &mut session).await {
        ctx.client.release(session);
    }
}

/// Runs one iteration on `session` (the caller has entered the gate); returns whether it
/// completed, so the connection is known to be in a clean state.
pub async fn run(ctx: &Context, launch: Launch, session: &mut Session) -> bool {
    let mut guard = Guard {
        ctx,
        measured: launch.measured,
        step: 0,
        done: false,
    };
    let plan = &ctx.plan;
    let mut vars = IterationVars::new(
        plan.data.as_ref().map(|d| d.rows.as_slice()),
        launch.row,
        plan.captures.len(),
        launch.index,
        ctx.seed,
    );
    let mut due = launch.intended;
    let (mut corrected_total, mut service_total) = (0u64, 0u64);
    for (i, step) in plan.steps.iter().enumerate() {
        guard.step = i;
        let sent = Instant::now();
        let result = match &step.action {
            StepAction::Http(req) => {
                http::perform(step, req, &ctx.client, session, &mut vars).await
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
            guard.done = true;
            return false;
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
    guard.done = true;
    true
}

/// Microseconds, at least 1.
fn micros(d: std::time::Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}
