//! `rehearse compare`: candidate runs against a baseline, from the store or results files.

use anyhow::anyhow;

use crate::app::args::CompareArgs;
use crate::app::error::{AppError, AppResult};
use crate::app::pipeline::{compare_with, selection_error, show_comparison};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::{Resolver, Spec};
use crate::app::settings::{Gate, Publish};
use crate::model::RunResult;

/// Runs the command.
pub async fn compare(args: CompareArgs) -> AppResult {
    let mut resolver = Resolver::new(&args.store.store);
    let baseline = Spec::parse(&args.baseline);
    let specs: Vec<Spec> = args.candidates.iter().map(|c| Spec::parse(c)).collect();
    let (candidates, dirs) =
        candidates(&mut resolver, &specs, &baseline, args.scenario.clone()).await?;
    let gate = Gate::new(&args.gate, &candidates[0].compare);
    let (comparison, baseline_runs) = compare_with(
        &mut resolver,
        &baseline,
        &candidates,
        &args.candidates.join(" "),
        &gate,
    )
    .await
    .map_err(selection_error)?;
    show_comparison(&comparison, args.out.as_deref(), args.json).map_err(AppError::invalid)?;
    let outcome = gate.outcome(&comparison);
    publish::publish(
        &mut resolver,
        ReportRequest {
            candidates,
            dirs,
            comparison: Some(comparison),
            baseline: baseline_runs,
            publish: Publish::from(&args.publish),
        },
    )
    .await?;
    resolver.close().await;
    Ok(outcome)
}

/// The candidate runs (and the folders their files came from). The scenario comes from
/// `--scenario`, else from whichever side names runs, else from the newest run in the store.
pub async fn candidates(
    resolver: &mut Resolver,
    specs: &[Spec],
    baseline: &Spec,
    scenario: Option<String>,
) -> Result<(Vec<RunResult>, Vec<Option<std::path::PathBuf>>), AppError> {
    let mut runs: Vec<RunResult> = Vec::new();
    let mut dirs = Vec::new();
    for spec in specs.iter().filter(|s| s.is_concrete()) {
        for run in resolver
            .runs(spec, None, 1, &[])
            .await
            .map_err(selection_error)?
        {
            dirs.push(spec.source_dir());
            runs.push(run);
        }
    }
    let scenario = match scenario {
        Some(s) => Some(s),
        None => match runs.first() {
            Some(c) => Some(c.scenario.clone()),
            None if baseline.is_concrete() => resolver
                .runs(baseline, None, 1, &[])
                .await
                .map_err(selection_error)?
                .first()
                .map(|r| r.scenario.clone()),
            None => None,
        },
    };
    let mut taken: Vec<String> = runs.iter().map(|c| c.run_id.clone()).collect();
    for spec in specs.iter().filter(|s| !s.is_concrete()) {
        for run in resolver
            .runs(spec, scenario.as_deref(), 1, &taken)
            .await
            .map_err(selection_error)?
        {
            taken.push(run.run_id.clone());
            dirs.push(None);
            runs.push(run);
        }
    }
    if runs.is_empty() {
        return Err(AppError::invalid(anyhow!("no candidate runs to compare")));
    }
    Ok((runs, dirs))
}
