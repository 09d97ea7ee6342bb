//! `rehearse run`: one scenario against one target, optionally repeated, compared with a
//! baseline and reported.

use anyhow::anyhow;

use crate::app::args::RunArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Outcome};
use crate::app::pipeline::{self, Placement, compare_with, selection_error, show_comparison};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::{Resolver, SelectError, Spec};
use crate::app::settings::{Gate, Publish, RunPlan, RunSettings, run_plan};
use crate::model::RunResult;
use crate::report::console as text;

/// Runs the command: one scenario, or a suite.
pub async fn run(args: RunArgs) -> AppResult {
    match run_plan(&args)? {
        RunPlan::Single(settings) => match settings.sharding.clone() {
            Some(sharding) => super::sharded::run(*settings, sharding).await,
            None => single(*settings, None).await,
        },
        RunPlan::Mix(settings, mix) => single(*settings, Some(*mix)).await,
        RunPlan::Suite(settings) => super::suite::run(*settings).await,
    }
}

/// One scenario (or a mix, which `settings.plan` stands for), optionally repeated, compared
/// and reported.
async fn single(settings: RunSettings, mix: Option<crate::scenario::mix::Mix>) -> AppResult {
    // Everything that can be checked is checked before the first request: the store opens,
    // a baseline named by id or file exists and did not fail.
    let store = pipeline::open_for_runs(settings.store.as_deref()).await?;
    let mut resolver = match &store {
        Some(s) => Resolver::with_store(&settings.lookup_store, s.clone()),
        None => Resolver::new(&settings.lookup_store),
    };
    if let Some(spec) = settings.baseline.as_ref().filter(|s| s.is_concrete()) {
        let named = resolver
            .runs(spec, None, 1, &[])
            .await
            .map_err(selection_error)?;
        crate::app::select::check_baseline(&named, spec).map_err(selection_error)?;
        if let Some(other) = named.iter().find(|r| r.scenario != settings.plan.name) {
            return Err(AppError::invalid(anyhow!(
                "--baseline {spec} is a run of `{}`, not of `{}`",
                other.scenario,
                settings.plan.name
            )));
        }
    }

    let mut candidates: Vec<RunResult> = Vec::new();
    let mut dirs = Vec::new();
    let mut failure = None;
    for i in 1..=settings.repeat {
        let out_dir = if settings.repeat > 1 {
            settings.out_dir.join(format!("run-{i}"))
        } else {
            settings.out_dir.clone()
        };
        if settings.repeat > 1 {
            console::note(&format!("run {i} of {}", settings.repeat));
        }
        let place = Placement {
            out_dir: out_dir.clone(),
            provenance: settings.provenance.clone(),
            seed: settings.seed,
            progress: settings.progress,
            shard: Default::default(),
            start_at: None,
        };
        let stored = store.as_ref().zip(settings.store.as_deref());
        let (result, path) = match &mix {
            Some(mix) => pipeline::execute_mix(mix, &place, stored).await?,
            None => pipeline::execute(&settings.plan, &place, stored).await?,
        };
        console::out(&text::summary(&result));
        console::out(&format!("results: {}\n", path.display()));
        failure = pipeline::run_failure(&result);
        candidates.push(result);
        dirs.push(Some(out_dir));
        if failure.is_some() {
            break;
        }
    }

    let outcome = conclude(
        &mut resolver,
        Conclusion {
            baseline: settings.baseline.clone(),
            repeat: settings.repeat,
            gate: settings.gate.clone(),
            publish: settings.publish.clone(),
            out_dir: settings.out_dir.clone(),
        },
        candidates,
        dirs,
        failure,
    )
    .await;
    resolver.close().await;
    outcome
}

/// What happens to finished runs: how they are judged and where they are reported.
pub struct Conclusion {
    /// The baseline to compare with, if any.
    pub baseline: Option<Spec>,
    /// How many runs the candidate side has (named in the comparison).
    pub repeat: u32,
    /// Verdict settings.
    pub gate: Gate,
    /// The report folder.
    pub publish: Publish,
    /// Where comparison.json goes.
    pub out_dir: std::path::PathBuf,
}

/// Compares finished runs with the baseline (or checks their thresholds), writes the report
/// and gives the exit outcome; a run's own `failure` wins over any verdict.
pub async fn conclude(
    resolver: &mut Resolver,
    settings: Conclusion,
    candidates: Vec<RunResult>,
    dirs: Vec<Option<std::path::PathBuf>>,
    failure: Option<AppError>,
) -> AppResult {
    // A failed run is not compared, but it is reported: the report and job summary say what
    // happened, with the runs before it.
    let mut comparison = None;
    let mut baseline_runs = Vec::new();
    if let (Some(spec), None) = (&settings.baseline, &failure) {
        let candidate_spec = if settings.repeat > 1 {
            format!("this run x{}", settings.repeat)
        } else {
            "this run".to_string()
        };
        match compare_with(resolver, spec, &candidates, &candidate_spec, &settings.gate).await {
            Ok((c, runs)) => {
                comparison = Some(c);
                baseline_runs = runs;
            }
            // The first runs of a branch have nothing to compare with; they become the baseline.
            Err(SelectError::NoRuns(why)) if matches!(spec, Spec::Branch(_) | Spec::Latest) => {
                console::note(&format!(
                    "no baseline yet: {why}; this run is stored and will serve as one"
                ));
            }
            Err(e) => {
                return Err(AppError::run_failed(
                    anyhow!(selection_error(e)).context("comparing with the baseline"),
                ));
            }
        }
    }
    let outcome = match (&failure, &comparison) {
        (Some(_), _) => Outcome::Failed,
        (None, Some(c)) => {
            show_comparison(c, Some(&settings.out_dir), false)
                .map_err(|e| AppError::run_failed(e.context("writing comparison.json")))?;
            settings.gate.outcome(c)
        }
        (None, None) => thresholds_outcome(&candidates),
    };
    let published = publish::publish(
        resolver,
        ReportRequest {
            candidates,
            dirs,
            comparison,
            baseline: baseline_runs,
            publish: settings.publish.clone(),
        },
    )
    .await;
    match (failure, published) {
        // The run's own failure is the news; a report that could not be written is a footnote.
        (Some(failure), Err(e)) => {
            console::warn(&format!("no report: {e}"));
            Err(failure)
        }
        (Some(failure), Ok(())) => Err(failure),
        (None, Err(e)) => Err(e),
        (None, Ok(())) => Ok(outcome),
    }
}

/// Without a comparison, the thresholds alone decide; they are printed.
pub fn thresholds_outcome(candidates: &[RunResult]) -> Outcome {
    if let Some(last) = candidates.last().filter(|r| !r.thresholds.is_empty()) {
        console::out(&text::thresholds(&last.thresholds));
    }
    let breached = candidates
        .iter()
        .flat_map(|r| &r.thresholds)
        .any(|t| !t.passed);
    if breached {
        Outcome::Failed
    } else {
        Outcome::Passed
    }
}
