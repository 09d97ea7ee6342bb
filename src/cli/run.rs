//! `rehearse run`: one scenario against one target, optionally repeated, compared with a
//! baseline and reported.

use anyhow::Context as _;

use super::baseline::{NoRuns, Resolver, Spec};
use super::pipeline::{RunSettings, default_out_dir, execute, target_answered};
use super::progress::Mode;
use super::{LoadArgs, Outcome, RunArgs, compare, provenance};
use crate::model::RunResult;
use crate::report::console;
use crate::scenario::{self, Overrides};

/// Runs the command.
pub async fn run(args: RunArgs) -> anyhow::Result<Outcome> {
    let overrides = overrides(&args.load, args.target.clone());
    let plan = match scenario::load(&args.scenario, &overrides) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(Outcome::Invalid);
        }
    };
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&plan.name));
    let store = (!args.no_store).then(|| args.store.store.clone());
    if args.baseline.is_some()
        && store.is_none()
        && !matches!(
            args.baseline.as_deref().map(Spec::parse),
            Some(Spec::File(_))
        )
    {
        anyhow::bail!(
            "--baseline {} needs the store; drop --no-store",
            args.baseline.as_deref().unwrap_or("")
        );
    }
    let mut candidates: Vec<RunResult> = Vec::new();
    let mut dirs = Vec::new();
    let mut resolver = Resolver::new(&args.store.store);
    let mut failure = None;
    for i in 1..=args.repeat {
        let run_dir = if args.repeat > 1 {
            out_dir.join(format!("run-{i}"))
        } else {
            out_dir.clone()
        };
        let settings = RunSettings {
            out_dir: run_dir.clone(),
            labels: args.labels.iter().cloned().collect(),
            git: provenance::git(args.commit.clone(), args.branch.clone()),
            seed: args.seed,
            progress: Mode::detect(args.quiet),
            store: store.clone(),
        };
        if args.repeat > 1 {
            eprintln!("run {i} of {}", args.repeat);
        }
        let (result, path) = execute(plan.clone(), &settings).await?;
        super::print_out(&console::summary(&result));
        super::print_out(&format!("results: {}\n", path.display()));
        let outcome = verdict(&result);
        candidates.push(result);
        dirs.push(Some(run_dir));
        if outcome != Outcome::Success {
            failure = Some(outcome);
            break;
        }
    }

    // A failed run is not compared, but it is reported: the report and job summary say what
    // happened, with the runs before it.
    let (comparison, baseline_runs) = match (&args.baseline, failure) {
        (None, _) | (_, Some(_)) => (None, Vec::new()),
        (Some(baseline), None) => {
            let candidate_spec = if args.repeat > 1 {
                format!("this run x{}", args.repeat)
            } else {
                "this run".to_string()
            };
            match compare::against(
                &mut resolver,
                &Spec::parse(baseline),
                &candidates,
                &candidate_spec,
                &args.gate,
            )
            .await
            {
                Ok((c, runs)) => (Some(c), runs),
                // The first runs of a branch have nothing to compare with; they become the baseline.
                Err(e) if e.downcast_ref::<NoRuns>().is_some() => {
                    eprintln!("no baseline yet: {e:#}; this run is stored and will serve as one");
                    (None, Vec::new())
                }
                Err(e) => return Err(e).context("comparing with the baseline"),
            }
        }
    };
    let outcome = match (failure, &comparison) {
        (Some(failed), _) => failed,
        (None, Some(c)) => compare::report(c, &args.gate, Some(&out_dir), false)?,
        (None, None) => {
            // No comparison: the thresholds alone decide.
            if let Some(last) = candidates.last().filter(|r| !r.thresholds.is_empty()) {
                super::print_out(&console::thresholds(&last.thresholds));
            }
            let breached = candidates
                .iter()
                .flat_map(|r| &r.thresholds)
                .any(|t| !t.passed);
            if breached {
                Outcome::Failed
            } else {
                Outcome::Success
            }
        }
    };
    let published = super::report::publish(
        &mut resolver,
        candidates,
        &dirs,
        comparison,
        baseline_runs,
        args.publish.report.as_deref(),
        args.publish.link.clone(),
    )
    .await;
    resolver.close().await;
    match published {
        // The run's own failure is the news; a report that could not be written is a footnote.
        Err(e) if failure.is_some() => eprintln!("warning: no report: {e:#}"),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    Ok(outcome)
}

/// Exit outcome of a finished run on its own (no baseline).
pub fn verdict(result: &RunResult) -> Outcome {
    if !result.complete {
        eprintln!("the run was interrupted: its results are marked incomplete");
        return Outcome::RunFailed;
    }
    if !target_answered(result) {
        eprintln!("the target never answered: see the errors above");
        return Outcome::RunFailed;
    }
    Outcome::Success
}

/// Command-line load settings as scenario overrides.
pub fn overrides(load: &LoadArgs, target: Option<String>) -> Overrides {
    Overrides {
        target,
        duration: load.duration,
        warmup: load.warmup,
        rate: load.rate,
        users: load.users,
        iterations: load.iterations,
    }
}
