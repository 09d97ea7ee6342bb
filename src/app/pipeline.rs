//! The stages a command wires together: execute a plan (runner → RunResult → results.json →
//! store), compare runs, and publish (report folder, job summary). Each stage returns a
//! typed error whose kind says whether anything had been sent.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};

use super::console;
use super::error::{AppError, Classify as _};
use super::progress::{self, Mode};
use super::select::{Resolver, SelectError, Spec, check_baseline};
use super::settings::Gate;
use super::signals::Signals;
use crate::compare::{self, Baseline};
use crate::model::{Comparison, MAX_INTERVAL_LOG, RunResult, read_capped};
use crate::record::mix::{MemberRun, MixInfo};
use crate::runner::{self, Provenance, RunOptions};
use crate::scenario::Plan;
use crate::scenario::mix::Mix;
use crate::store::{Access, Store, redact};

pub use crate::runner::INTERVAL_LOG;

/// Where one run goes and how it is shown.
pub struct Placement {
    /// The folder for results.json and the interval log.
    pub out_dir: PathBuf,
    /// Labels, git state, host.
    pub provenance: Provenance,
    /// Seed.
    pub seed: u64,
    /// Progress display.
    pub progress: Mode,
    /// This process's share of a sharded run's load.
    pub shard: crate::runner::Shard,
    /// When the load starts (a sharded run's common start); `None` starts now.
    pub start_at: Option<std::time::Instant>,
}

/// Opens the store a command will write runs to, before any load is sent: a wrong URL,
/// a refused connection or a newer schema is found now, not after a long run.
pub async fn open_for_runs(url: Option<&str>) -> Result<Option<Store>, AppError> {
    match url {
        None => Ok(None),
        Some(url) => Store::open(url, Access::Create)
            .await
            .map(Some)
            .map_err(|e| {
                AppError::invalid(anyhow!(e).context("the store must work before any load is sent"))
            }),
    }
}

/// Runs a plan, writes results.json beside the interval log, and stores the run. A run
/// that was sent but could not be written or stored is a [`AppError::RunFailed`] whose
/// message says what is kept and how to store it later.
pub async fn execute(
    plan: &Plan,
    place: &Placement,
    store: Option<(&Store, &str)>,
) -> Result<(RunResult, PathBuf), AppError> {
    std::fs::create_dir_all(&place.out_dir)
        .with_context(|| {
            format!(
                "cannot create the output directory '{}'",
                place.out_dir.display()
            )
        })
        .invalid()?;
    let plan = Arc::new(plan.clone());
    let (report, clear) =
        progress::reporter(place.progress, &plan.name, plan.load.total_duration());
    let (signals, stop) = Signals::listen();
    let finished = runner::run(
        plan.clone(),
        RunOptions {
            interval_log: place.out_dir.join(INTERVAL_LOG),
            interval: Duration::from_secs(1),
            seed: place.seed,
            stop,
            on_interval: report,
            provenance: place.provenance.clone(),
            shard: place.shard,
            start_at: place.start_at,
        },
    )
    .await;
    drop(signals);
    clear();
    let finished = finished.invalid()?;
    for warning in &finished.warnings {
        console::warn(warning);
    }
    keep(finished.result, place, store).await
}

/// Writes a finished run's results.json beside its interval log and stores it.
async fn keep(
    result: RunResult,
    place: &Placement,
    store: Option<(&Store, &str)>,
) -> Result<(RunResult, PathBuf), AppError> {
    let path = place.out_dir.join("results.json");
    result
        .write(&path)
        .context("the run finished but its results could not be written")
        .run_failed()?;
    if let Some((store, url)) = store {
        let log = read_capped(&place.out_dir.join(INTERVAL_LOG), MAX_INTERVAL_LOG).ok();
        store.insert(&result, log).await.map_err(|e| {
            AppError::run_failed(anyhow!(
                "the run finished and its results are in {}, but storing them failed: {e}\n  store them later with: rehearse runs import {} --store '{}'",
                path.display(),
                path.display(),
                redact(url)
            ))
        })?;
    }
    Ok((result, path))
}

/// Runs a mix: every member from one common start in this process, each with its own arrival
/// process, then one run of them all (qualified steps, the mix's workflow and thresholds),
/// written and stored like any run. Member runs are not stored on their own.
pub async fn execute_mix(
    mix: &Mix,
    place: &Placement,
    store: Option<(&Store, &str)>,
) -> Result<(RunResult, PathBuf), AppError> {
    // What could stop a member from starting is found before any member sends a request.
    for member in &mix.members {
        crate::runner::http::HttpClient::new(&member.plan.target, 0)
            .with_context(|| format!("{}: the target's TLS settings", member.plan.name))
            .invalid()?;
        // Database URLs are read (nothing connects): one a driver refuses stops the mix here.
        crate::runner::sql::Databases::open(&member.plan)
            .with_context(|| format!("{}: its databases", member.plan.name))
            .invalid()?;
    }
    // A folder of this run's own: nothing the user keeps beside results.json is touched.
    let members_dir = place
        .out_dir
        .join(format!(".mix-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&members_dir)
        .with_context(|| {
            format!(
                "cannot create the output directory '{}'",
                members_dir.display()
            )
        })
        .invalid()?;
    let (report, clear) = progress::reporter(place.progress, &mix.name, mix.warmup + mix.duration);
    let mut report = Some(report);
    let (signals, stop) = Signals::listen();
    // Every member starts at once: their intervals line up and their load overlaps.
    let start = std::time::Instant::now() + Duration::from_millis(20);
    let start_wall = std::time::SystemTime::now() + Duration::from_millis(20);
    let mut tasks = Vec::new();
    for (i, member) in mix.members.iter().enumerate() {
        let opts = RunOptions {
            interval_log: members_dir.join(format!("{}.hlog", i + 1)),
            interval: Duration::from_secs(1),
            // The first member keeps the run's seed; the others draw their own rows.
            seed: crate::runner::Shard {
                index: i as u32,
                count: mix.members.len() as u32,
            }
            .seed(place.seed),
            stop: stop.clone(),
            // The progress line follows the first member; all share its clock.
            on_interval: report.take().unwrap_or_else(|| Box::new(|_| {})),
            provenance: place.provenance.clone(),
            shard: crate::runner::Shard::WHOLE,
            start_at: Some(start),
        };
        tasks.push(tokio::spawn(runner::run(
            Arc::new(member.plan.clone()),
            opts,
        )));
    }
    let mut members = Vec::new();
    let mut failure = None;
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await {
            Ok(Ok(finished)) => {
                for warning in &finished.warnings {
                    console::warn(&format!("{}: {warning}", mix.members[i].plan.name));
                }
                let log = read_capped(
                    &members_dir.join(format!("{}.hlog", i + 1)),
                    MAX_INTERVAL_LOG,
                )
                .unwrap_or_else(|e| {
                    console::warn(&format!(
                        "{}: its interval log could not be read ({e}); the mix's time series leaves it out",
                        mix.members[i].plan.name
                    ));
                    Vec::new()
                });
                members.push(MemberRun {
                    run: finished.result,
                    log,
                });
            }
            Ok(Err(e)) => failure = failure.or(Some(anyhow!(e))),
            Err(e) => failure = failure.or(Some(anyhow!("a scenario of the mix stopped: {e}"))),
        }
    }
    drop(signals);
    clear();
    let _ = std::fs::remove_dir_all(&members_dir);
    if let Some(e) = failure {
        // Others may have sent load by now: their results are not a run of the mix.
        return Err(AppError::run_failed(e.context(
            "a scenario of the mix could not run, so the mix has no results",
        )));
    }
    let info = MixInfo {
        run_id: uuid::Uuid::now_v7().to_string(),
        name: mix.name.clone(),
        hash: mix.hash.clone(),
        file: Some(mix.source.display().to_string()),
        load: mix_load(mix, &members),
        thresholds: mix.thresholds.clone(),
        compare: mix.compare.clone(),
        start_ms: start_wall
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_millis() as i64),
    };
    let (mut result, log) = crate::record::mix::combine(&info, &members)
        .context("the mix's scenarios ran but could not be combined into one run")
        .run_failed()?;
    if let Some(i) = result.intervals.as_mut() {
        i.file = INTERVAL_LOG.into();
    }
    std::fs::write(place.out_dir.join(INTERVAL_LOG), log)
        .context("the mix ran but its interval log could not be written")
        .run_failed()?;
    keep(result, place, store).await
}

/// The mix's load as results show it: every member's level added (rate or users; `mixed`
/// when members use both models), the members' common duration and warm-up.
fn mix_load(mix: &Mix, members: &[MemberRun]) -> Option<crate::model::LoadSettings> {
    let mut load = members.first()?.run.load.clone()?;
    let sum = |f: fn(&crate::model::LoadSettings) -> Option<f64>| {
        let values: Vec<f64> = members
            .iter()
            .filter_map(|m| m.run.load.as_ref().and_then(f))
            .collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>())
    };
    load.rate = sum(|l| l.rate);
    load.users = sum(|l| l.users);
    load.model = match (load.rate, load.users) {
        (Some(_), Some(_)) => "mixed".into(),
        (Some(_), None) => "open".into(),
        _ => "closed".into(),
    };
    load.stages.clear();
    load.max_in_flight = None;
    load.duration_seconds = mix.duration.as_secs_f64();
    load.warmup_seconds = mix.warmup.as_secs_f64();
    Some(load)
}

/// Why a finished run cannot be judged, if so: it was interrupted, or the target never
/// answered (exit 3; its results are written and stored).
pub fn run_failure(run: &RunResult) -> Option<AppError> {
    if !run.complete && !run.shards.is_empty() {
        return Some(AppError::run_failed(anyhow!(
            "the merged run `{}` is incomplete ({}): it is kept and reported, but it cannot stand for the scenario's load and is never a baseline",
            run.run_id,
            run.stop_reason.as_deref().unwrap_or("a shard is missing")
        )));
    }
    if !run.complete {
        return Some(AppError::Interrupted(format!(
            "the run was {}: its results are kept, marked incomplete",
            run.stop_reason.as_deref().unwrap_or("interrupted")
        )));
    }
    if run
        .failure()
        .is_some_and(|why| why == "the target never answered")
    {
        return Some(AppError::run_failed(anyhow!(
            "the target never answered: see the errors above"
        )));
    }
    None
}

/// Compares candidates with what `spec` names; the candidates' recorded `[compare]` settings
/// and thresholds apply, flags over them. A baseline branch with no runs yet is
/// `Err(SelectError::NoRuns)`, which callers may treat as "first run of the branch".
pub async fn compare_with(
    resolver: &mut Resolver,
    spec: &Spec,
    candidates: &[RunResult],
    candidate_spec: &str,
    gate: &Gate,
) -> Result<(Comparison, Vec<RunResult>), SelectError> {
    let Some(first) = candidates.first() else {
        return Err(SelectError::Invalid(anyhow!(
            "no candidate runs to compare"
        )));
    };
    for c in candidates {
        crate::app::select::check_whole(c, "")?;
    }
    let exclude: Vec<String> = candidates.iter().map(|c| c.run_id.clone()).collect();
    let (baseline, notes) = baseline_for(resolver, spec, &first.scenario, gate, &exclude).await?;
    for r in candidates {
        if r.scenario != first.scenario {
            return Err(SelectError::Invalid(anyhow!(
                "cannot compare different scenarios: `{}` and `{}`",
                first.scenario,
                r.scenario
            )));
        }
    }
    let thresholds: Vec<_> = first
        .thresholds
        .iter()
        .map(|t| t.threshold.clone())
        .collect();
    let mut comparison = compare::compare(
        &baseline,
        candidates,
        &gate.params,
        &thresholds,
        candidate_spec,
    );
    comparison.notes.extend(notes);
    Ok((comparison, baseline.runs))
}

/// The baseline `spec` names for a scenario (runs in `exclude` left out), with the earlier
/// runs of its branch when it is a single run, and notes on what could not be read. One
/// baseline serves every candidate compared with it.
pub async fn baseline_for(
    resolver: &mut Resolver,
    spec: &Spec,
    scenario: &str,
    gate: &Gate,
    exclude: &[String],
) -> Result<(Baseline, Vec<String>), SelectError> {
    let runs = resolver
        .runs(spec, Some(scenario), gate.history, exclude)
        .await?;
    check_baseline(&runs, spec)?;
    if let Some(r) = runs.iter().find(|r| r.scenario != scenario) {
        return Err(SelectError::Invalid(anyhow!(
            "cannot compare different scenarios: `{scenario}` and `{}`",
            r.scenario
        )));
    }
    let mut notes = Vec::new();
    let history = if runs.len() == 1 {
        match resolver.history_for(&runs[0], gate.history, exclude).await {
            Ok(h) => h,
            Err(e) => {
                notes.push(format!(
                    "the baseline branch's earlier runs could not be read ({e}), so the noise between runs is taken from the priors"
                ));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    Ok((
        Baseline {
            spec: spec.to_string(),
            runs,
            history,
        },
        notes,
    ))
}

/// A selection error as the command's error: a failed named run is exit 3, anything else
/// is input that cannot be used (exit 2).
pub fn selection_error(e: SelectError) -> AppError {
    match e {
        SelectError::FailedRun(m) => AppError::run_failed(anyhow!(m)),
        SelectError::NoRuns(m) => AppError::invalid(anyhow!(m)),
        SelectError::Invalid(e) => AppError::Invalid(e),
    }
}

/// Prints a comparison (or its JSON) and writes comparison.json into `out`.
pub fn show_comparison(c: &Comparison, out: Option<&Path>, json: bool) -> anyhow::Result<()> {
    if json {
        console::json(c);
    } else {
        console::out(&crate::report::console::comparison(c));
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create '{}'", dir.display()))?;
        let path = dir.join("comparison.json");
        std::fs::write(&path, serde_json::to_string_pretty(c)? + "\n")
            .with_context(|| format!("cannot write {}", path.display()))?;
        if !json {
            console::out(&format!("comparison: {}\n", path.display()));
        }
    }
    Ok(())
}
