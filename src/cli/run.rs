//! `rehearse run`: one scenario against one target.

use super::pipeline::{RunSettings, default_out_dir, execute, target_answered};
use super::progress::Mode;
use super::{LoadArgs, Outcome, RunArgs, provenance};
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
    let settings = RunSettings {
        out_dir: args
            .out
            .clone()
            .unwrap_or_else(|| default_out_dir(&plan.name)),
        labels: args.labels.iter().cloned().collect(),
        git: provenance::git(args.commit.clone(), args.branch.clone()),
        seed: args.seed,
        progress: Mode::detect(args.quiet),
        store: (!args.no_store).then(|| args.store.store.clone()),
    };
    let (result, path) = execute(plan, &settings).await?;
    super::print_out(&console::summary(&result));
    super::print_out(&format!("results: {}\n", path.display()));
    Ok(verdict(&result))
}

/// Exit outcome of a finished run on its own (no baseline).
pub fn verdict(result: &crate::model::RunResult) -> Outcome {
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
