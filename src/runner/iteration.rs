//! One workflow iteration: steps in order, each timed from when it was due (coordinated-
//! omission correct) and from when it was sent, a failed step ending the iteration.

use std::future::Future;
use std::ops::Deref;
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

/// An iteration in the gate. Dropping it leaves the gate; if the iteration had not finished
/// (the run cut it off, even before it first ran), the step it was on (if any) and the
/// workflow are counted as interrupted: the harness stopped, the target did not fail.
pub struct Guard<C: Deref<Target = Context>> {
    ctx: C,
    measured: bool,
    /// The step in progress; none between steps (pausing) and once the last one is recorded.
    step: Option<usize>,
    done: bool,
}

impl<C: Deref<Target = Context>> Guard<C> {
    /// Enters the gate for an iteration.
    pub fn enter(ctx: C, measured: bool) -> Self {
        ctx.gate.enter();
        Self {
            ctx,
            measured,
            step: None,
            done: false,
        }
    }
}

impl<C: Deref<Target = Context>> Drop for Guard<C> {
    fn drop(&mut self) {
        if !self.done {
            let cut = Sample {
                outcome: Outcome::Interrupted,
                corrected_us: 0,
                service_us: 0,
                lag_us: 0,
                measured: self.measured,
            };
            if let Some(step) = self.step {
                self.ctx.recorder.record(step, cut);
            }
            self.ctx.recorder.record(self.ctx.workflow_cell(), cut);
        }
        self.ctx.gate.leave();
    }
}

/// An open-model iteration as a task of its own, with a connection from the pool. The gate is
/// entered here, before the task exists, so a task aborted before it ever ran still leaves.
pub fn spawned(ctx: Arc<Context>, launch: Launch) -> impl Future<Output = ()> + Send + 'static {
    let mut guard = Guard::enter(ctx, launch.measured);
    async move {
        let mut session = Session::default();
        if run(&mut guard, launch, &mut session).await {
            guard.ctx.client.release(session);
        }
    }
}

/// Runs one iteration on `session`; returns whether it completed, so the connection is known
/// to be in a clean state.
pub async fn run<C: Deref<Target = Context>>(
    guard: &mut Guard<C>,
    launch: Launch,
    session: &mut Session,
) -> bool {
    let ctx: &Context = &guard.ctx;
    let plan = &ctx.plan;
    let mut vars = IterationVars::new(
        plan.data.as_ref().map(|d| d.rows.as_slice()),
        launch.row,
        plan.captures.len(),
        launch.index,
        ctx.seed,
        ctx.nonce,
    );
    vars.cookie_names = &plan.cookie_names;
    // The customer's cookies live with its session between iterations (a closed-model
    // user's); during one, with its variables, where templates read them.
    vars.cookies = std::mem::take(&mut session.cookies);
    let mut due = launch.intended;
    let (mut corrected_total, mut service_total) = (0u64, 0u64);
    let mut start_lag = None;
    for (i, step) in plan.steps.iter().enumerate() {
        guard.step = Some(i);
        let sent = Instant::now();
        let mut polls = 0;
        let result = match &step.action {
            StepAction::Http(req) => {
                http::perform(step, req, &ctx.client, session, &mut vars, &mut polls).await
            }
            StepAction::Sql(sql) => super::sql::perform(step, sql, &ctx.databases, &mut vars).await,
        };
        if step.until.is_some() {
            ctx.recorder.record_polls(i, polls, launch.measured);
        }
        let end = Instant::now();
        let corrected = micros(end - due);
        let service = micros(end - sent);
        // How late the harness sent it: a starved generator shows here, not in the target.
        let lag = sent.saturating_duration_since(due).as_micros() as u64;
        start_lag.get_or_insert(lag);
        let outcome = result
            .as_ref()
            .err()
            .map(|(o, _)| *o)
            .unwrap_or(Outcome::Ok);
        let sample = Sample {
            outcome,
            corrected_us: corrected,
            service_us: service,
            lag_us: lag,
            measured: launch.measured,
        };
        if let Err((outcome, message)) = result {
            ctx.recorder.record_error(i, sample, &message);
            // A failed iteration has no workflow latency: it is counted, not timed.
            ctx.recorder
                .count(ctx.workflow_cell(), outcome, launch.measured);
            guard.done = true;
            session.cookies = std::mem::take(&mut vars.cookies);
            return false;
        }
        ctx.recorder.record(i, sample);
        corrected_total += corrected;
        service_total += service;
        // Recorded: from here a cut-off (say, during the pause) counts only the workflow.
        guard.step = None;
        due = end;
        if let Some(think) = &step.think {
            tokio::time::sleep(think.sample(&mut vars.rng)).await;
            // The next step is due when the pause really ended: the timer's lateness is
            // the harness's, not the target's.
            due = Instant::now();
        }
    }
    // The workflow's latency is the sum of its steps' (think time excluded); the corrected
    // sum starts at the intended start, so a late start counts against it.
    let whole = Sample {
        outcome: Outcome::Ok,
        corrected_us: corrected_total,
        service_us: service_total,
        lag_us: start_lag.unwrap_or(0),
        measured: launch.measured,
    };
    ctx.recorder.record(ctx.workflow_cell(), whole);
    guard.done = true;
    session.cookies = std::mem::take(&mut vars.cookies);
    true
}

/// Microseconds, at least 1.
fn micros(d: std::time::Duration) -> u64 {
    (d.as_micros() as u64).max(1)
}
