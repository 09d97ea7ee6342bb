//! A starved load generator never passes for a slow target. Runs marked `harness_limited`
//! (see `model::health`) are named in the comparison; a latency or error-rate regression
//! seen only in harness-limited candidates is inconclusive at worst, unless the change is
//! far beyond the lag the generator itself added.

use crate::model::{Comparison, LimitedRun, RunResult, StepId, Unit, Verdict};

/// A latency regression in a harness-limited candidate stands when the step got slower by
/// more than this many times the generator's own schedule lag there (its p99).
pub const FAR_BEYOND_LAG: f64 = 10.0;

/// And by at least this much, µs, whatever the lag: under CPU pressure responses are read
/// late by an amount no lag figure shows.
pub const FAR_BEYOND_FLOOR_US: f64 = 10_000.0;

/// The harness-limited runs of each side.
pub fn limited(baselines: &[RunResult], candidates: &[RunResult]) -> Vec<LimitedRun> {
    let of = |runs: &[RunResult], side: &str| -> Vec<LimitedRun> {
        runs.iter()
            .filter_map(|r| {
                let h = r.health.as_ref().filter(|h| h.harness_limited)?;
                Some(LimitedRun {
                    run_id: r.run_id.clone(),
                    side: side.to_string(),
                    reasons: h.reasons.clone(),
                })
            })
            .collect()
    };
    let mut out = of(baselines, "baseline");
    out.extend(of(candidates, "candidate"));
    out
}

/// Whether a run's generator was starved.
pub fn is_limited(run: &RunResult) -> bool {
    run.health.as_ref().is_some_and(|h| h.harness_limited)
}

/// Names the limited runs and downgrades to inconclusive every regression the generator's
/// own delay could explain; returns whether anything changed (the overall verdict must then
/// be drawn again).
pub fn review(c: &mut Comparison, baselines: &[RunResult], candidates: &[RunResult]) -> bool {
    let limited = limited(baselines, candidates);
    if limited.is_empty() {
        return false;
    }
    let mut changed = false;
    let starved: Vec<&RunResult> = candidates.iter().filter(|r| is_limited(r)).collect();
    if !starved.is_empty() {
        for step in c.steps.iter_mut() {
            let lag = step_lag_us(&starved, &step.id);
            let bar = (FAR_BEYOND_LAG * lag).max(FAR_BEYOND_FLOOR_US);
            let mut downgraded = Vec::new();
            for m in step.metrics.iter_mut() {
                if m.verdict != Verdict::Regressed {
                    continue;
                }
                let explained = match m.unit {
                    Unit::Us => m.candidate - m.baseline <= bar,
                    // Timeouts of a starved generator are its own; a step that failed outright
                    // is caught by the gross-failure check and its note, which stand.
                    Unit::Fraction => m.change < super::GROSS_ERROR_RISE,
                    Unit::PerSecond => true,
                };
                if explained {
                    m.verdict = Verdict::Inconclusive;
                    downgraded.push(m.metric.name());
                }
            }
            if !downgraded.is_empty() {
                changed = true;
                step.verdict = step
                    .metrics
                    .iter()
                    .map(|m| m.verdict)
                    .max()
                    .unwrap_or(Verdict::Inconclusive);
                c.notes.push(format!(
                    "`{}` {} looked worse, but the candidate's load generator was starved (schedule lag p99 {:.1} ms there): inconclusive unless the change exceeds {:.0} ms",
                    step.id,
                    downgraded.join(", "),
                    lag / 1000.0,
                    bar / 1000.0
                ));
            }
        }
    }
    for run in &limited {
        c.notes.push(format!(
            "the {} run {} was harness-limited: {}",
            run.side,
            run.run_id,
            run.reasons.join("; ")
        ));
    }
    c.harness_limited = limited;
    changed
}

/// The largest schedule lag p99 of a step among the runs, µs.
fn step_lag_us(runs: &[&RunResult], id: &StepId) -> f64 {
    runs.iter()
        .filter_map(|r| {
            let lag = match id {
                // The workflow's lag is its steps': their worst.
                // The workflow's latency sums its steps', and so does their lag.
                StepId::Workflow => Some(
                    r.steps
                        .iter()
                        .filter_map(|s| s.lag.as_ref())
                        .map(|l| l.p99)
                        .sum(),
                ),
                StepId::Step(_) => r.step(id).and_then(|s| s.lag.as_ref()).map(|l| l.p99),
            };
            lag.map(|l| l as f64)
        })
        .fold(0.0, f64::max)
}
