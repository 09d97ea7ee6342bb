//! One run end to end: plan → runner → record → results.json. Shared by `run` and `demo`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

use super::RunFailure;
use super::progress::{self, Mode};
use super::provenance;
use super::signals::Signals;
use crate::model::*;
use crate::record::interval::tags_for;
use crate::record::summary::{StepInfo, step_results};
use crate::runner::{self, RunOptions};
use crate::scenario::{LoadModel, Plan, StepAction};

/// Name of the interval log beside results.json.
pub const INTERVAL_LOG: &str = "intervals.hlog";

/// How to run and where to put the results.
pub struct RunSettings {
    /// Directory for results.json and the interval log.
    pub out_dir: PathBuf,
    /// `--label` pairs.
    pub labels: BTreeMap<String, String>,
    /// Commit and branch.
    pub git: Option<Git>,
    /// Seed for feeders and think times.
    pub seed: u64,
    /// Progress display.
    pub progress: Mode,
    /// Store URL, or None not to store.
    pub store: Option<String>,
}

/// Runs a plan and writes `results.json`; returns the results and their path.
pub async fn execute(plan: Plan, settings: &RunSettings) -> anyhow::Result<(RunResult, PathBuf)> {
    std::fs::create_dir_all(&settings.out_dir).with_context(|| {
        format!(
            "cannot create the output directory '{}'",
            settings.out_dir.display()
        )
    })?;
    let plan = Arc::new(plan);
    let (report, clear) =
        progress::reporter(settings.progress, &plan.name, plan.load.total_duration());
    let (signals, stop) = Signals::listen();
    let record = runner::run(
        plan.clone(),
        RunOptions {
            interval_log: settings.out_dir.join(INTERVAL_LOG),
            interval: Duration::from_secs(1),
            seed: settings.seed,
            stop,
            on_interval: report,
        },
    )
    .await;
    drop(signals);
    clear();
    let record = record?;
    if let Some(e) = &record.timeline.write_error {
        eprintln!("warning: the interval log could not be written completely: {e}");
    }
    let mut result = assemble(&plan, record, settings);
    result.thresholds = crate::compare::thresholds::evaluate(&plan.thresholds, &[&result]);
    let path = settings.out_dir.join("results.json");
    result.write(&path).map_err(|e| {
        RunFailure(format!(
            "the run finished but its results could not be written: {e}"
        ))
    })?;
    if let Some(url) = &settings.store {
        store(url, &result, &settings.out_dir.join(INTERVAL_LOG)).await.map_err(|e| {
            RunFailure(format!(
                "the run finished and its results are in {}, but storing them failed: {e:#}\n  store them later with: rehearse runs import {} --store '{}'",
                path.display(),
                path.display(),
                crate::store::redact(url)
            ))
        })?;
    }
    Ok((result, path))
}

/// Stores a finished run and its interval log.
async fn store(url: &str, result: &RunResult, interval_log: &Path) -> anyhow::Result<()> {
    let store = crate::store::Store::open(url).await?;
    let log = std::fs::read(interval_log).ok();
    store.insert(result, log).await?;
    store.close().await;
    Ok(())
}

fn assemble(plan: &Plan, record: runner::RunRecord, settings: &RunSettings) -> RunResult {
    let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
    let tags = tags_for(&names);
    let infos: Vec<StepInfo> = plan
        .steps
        .iter()
        .map(|s| Some(describe_request(s)))
        .chain([None])
        .zip(names.iter().cloned().chain(["workflow".to_string()]))
        .zip(tags)
        .map(|((request, name), tag)| StepInfo { name, request, tag })
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
    RunResult {
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
        host: Some(provenance::host()),
        git: settings.git.clone(),
        labels: settings.labels.clone(),
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
            started: record.timeline.started,
            dropped: record.timeline.dropped,
        }),
        thresholds: Vec::new(),
        compare: plan.compare.clone(),
    }
}

fn describe_request(step: &crate::scenario::StepPlan) -> String {
    match &step.action {
        StepAction::Http(h) => h.display.clone(),
    }
}

fn load_settings(plan: &Plan) -> LoadSettings {
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
    }
}

/// RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// `reports/<name>-<YYYYMMDD-HHMMSS>`.
pub fn default_out_dir(name: &str) -> PathBuf {
    let stamp: String = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .map(|c| if c == 'T' { '-' } else { c })
        .collect();
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new("reports").join(format!("{safe}-{stamp}"))
}

/// Whether the target answered anything at all.
pub fn target_answered(run: &RunResult) -> bool {
    run.steps.iter().any(|s| s.outcomes.responses() > 0)
}
