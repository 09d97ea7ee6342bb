//! From what a run recorded to its [`RunResult`], the results contract: per-step records,
//! iteration counts, load settings and provenance, with every secret of the plan masked so
//! nothing downstream (results.json, the store, reports) can leak one.

use std::time::SystemTime;

use super::{Provenance, RunRecord};
use crate::model::*;
use crate::record::interval::tags_for;
use crate::record::summary::{StepInfo, step_results};
use crate::scenario::{LoadModel, Plan, StepAction};

/// Name of the interval log beside results.json.
pub const INTERVAL_LOG: &str = "intervals.hlog";

pub(super) fn assemble(plan: &Plan, record: RunRecord, provenance: Provenance) -> RunResult {
    let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
    let tags = tags_for(&names);
    let infos: Vec<StepInfo> = plan
        .steps
        .iter()
        .map(|s| Some((describe_request(s), s.until.is_some())))
        .chain([None])
        .zip(names.iter().cloned().chain(["workflow".to_string()]))
        .zip(tags)
        .map(|((step, name), tag)| StepInfo {
            name,
            polling: step.as_ref().is_some_and(|s| s.1),
            request: step.map(|s| s.0),
            tag,
        })
        .collect();
    let measured = record.measured.as_secs_f64();
    let mut cells = step_results(&record.totals, &record.timeline, &infos, measured);
    let workflow = cells.pop();
    let iterations = workflow.as_ref().map(|w| IterationCounts {
        started: record.started,
        completed: w.outcomes.ok,
        failed: w.errors,
        interrupted: w.outcomes.interrupted,
        dropped: record.dropped,
    });
    let mut result = RunResult {
        schema: SCHEMA_VERSION,
        run_id: uuid::Uuid::now_v7().to_string(),
        scenario: plan.name.clone(),
        scenario_hash: Some(plan.hash.clone()),
        scenario_file: Some(plan.source.display().to_string()),
        target: Some(plan.target.base_url.clone()),
        load: Some(load_settings(plan)),
        harness: Some(Harness {
            name: "rehearse".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
        host: provenance.host,
        git: provenance.git,
        labels: provenance.labels,
        started_at: Some(rfc3339(record.started_at)),
        ended_at: Some(rfc3339(record.ended_at)),
        measured_seconds: Some((measured * 1000.0).round() / 1000.0),
        complete: record.stop.complete(),
        stop_reason: Some(record.stop.describe()),
        iterations,
        workflow,
        steps: cells,
        intervals: Some(Intervals {
            file: INTERVAL_LOG.into(),
            seconds: 1.0,
            warmup_intervals: record.warmup_intervals,
            started: record.timeline.started.clone(),
            dropped: record.timeline.dropped.clone(),
        }),
        thresholds: Vec::new(),
        compare: plan.compare.clone(),
        health: None,
        group: provenance.group,
        shards: Vec::new(),
    };
    result.health = Some(health(&record, &result.steps));
    result.thresholds = crate::model::thresholds::evaluate(&plan.thresholds, &[&result]);
    redact(&mut result, &plan.secrets);
    result
}

/// The generator's health over the measured window and per interval, with the verdict of
/// the documented rule (see `model::health`).
fn health(record: &RunRecord, steps: &[StepResult]) -> HarnessHealth {
    let mut lag = new_histogram();
    for cell in record
        .totals
        .iter()
        .take(record.totals.len().saturating_sub(1))
    {
        let _ = lag.add(&cell.lag);
    }
    let t = &record.timeline;
    let measured = || t.machine.iter().skip(record.warmup_intervals);
    let mean = |values: Vec<f64>| {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let mut health = HarnessHealth {
        lag: LatencySummary::of(&lag),
        lag_histogram: encode(&lag),
        cpu_cores: mean(measured().filter_map(|m| m.cpu_cores).collect()).map(round3),
        pressure_some: mean(measured().filter_map(|m| m.pressure_some).collect()).map(round3),
        steal: mean(measured().filter_map(|m| m.steal).collect()).map(round3),
        intervals: HealthIntervals {
            lag_p99: t.lag_p99.clone(),
            lag_max: t.lag_max.clone(),
            cpu_cores: t
                .machine
                .iter()
                .map(|m| round3(m.cpu_cores.unwrap_or(0.0)))
                .collect(),
            pressure_some: if t.machine.iter().any(|m| m.pressure_some.is_some()) {
                t.machine
                    .iter()
                    .map(|m| round3(m.pressure_some.unwrap_or(0.0)))
                    .collect()
            } else {
                Vec::new()
            },
        },
        harness_limited: false,
        reasons: Vec::new(),
    };
    health.reasons = crate::model::health::limits(steps, &health);
    health.harness_limited = !health.reasons.is_empty();
    health
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Masks secrets in every text a run carries from the target or the plan's values: the
/// target, error messages (a server may echo a token), request descriptions.
fn redact(run: &mut RunResult, secrets: &crate::scenario::secrets::Secrets) {
    if secrets.is_empty() {
        return;
    }
    if let Some(t) = run.target.as_mut() {
        secrets.redact_in_place(t);
    }
    for step in run.steps.iter_mut().chain(run.workflow.as_mut()) {
        if let Some(r) = step.request.as_mut() {
            secrets.redact_in_place(r);
        }
        for message in step.error_samples.values_mut() {
            secrets.redact_in_place(message);
        }
    }
}

fn describe_request(step: &crate::scenario::StepPlan) -> String {
    match &step.action {
        StepAction::Http(h) => h.display.clone(),
        StepAction::Sql(q) => q.display.clone(),
    }
}

/// The load a plan asks for, as results.json records it.
pub fn load_settings(plan: &Plan) -> LoadSettings {
    let l = &plan.load;
    let peak = l.profile.peak();
    let stages = if l.profile.stages.len() > 1 || l.profile.start != peak {
        l.profile
            .stages
            .iter()
            .map(|s| StageSettings {
                duration_seconds: s.duration.as_secs_f64(),
                target: s.target,
            })
            .collect()
    } else {
        Vec::new()
    };
    let (model, rate, users, max_in_flight) = match l.model {
        LoadModel::Open { max_in_flight } => ("open", Some(peak), None, Some(max_in_flight)),
        LoadModel::Closed { .. } => ("closed", None, Some(peak), None),
    };
    LoadSettings {
        model: model.into(),
        rate,
        users,
        stages,
        duration_seconds: l.profile.duration().as_secs_f64(),
        warmup_seconds: l.warmup.as_secs_f64(),
        iterations: l.iterations,
        max_in_flight,
        arrivals: (matches!(l.model, LoadModel::Open { .. })
            && l.arrivals == crate::scenario::Arrivals::Poisson)
            .then(|| "poisson".to_string()),
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}
