//! `rehearse compare`: candidate runs against a baseline, from the store or results files.

use anyhow::anyhow;

use crate::app::args::CompareArgs;
use crate::app::error::{AppError, AppResult};
use crate::app::pipeline::{compare_with, selection_error, show_comparison};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::{Resolver, Spec, SuiteSpec};
use crate::app::settings::{Gate, Publish};
use crate::model::RunResult;

/// Runs the command.
pub async fn compare(args: CompareArgs) -> AppResult {
    let mut resolver = Resolver::new(&args.store.url());
    let baseline = Spec::parse(&args.baseline);
    let specs: Vec<Spec> = args.candidates.iter().map(|c| Spec::parse(c)).collect();
    if let Some(suite) = one_suite(&specs)? {
        return super::suite::verdict(
            resolver,
            super::suite::NamedRequest {
                suite,
                baseline: Some(&baseline),
                gate: &args.gate,
                wait: args.wait,
                show: Some((args.out.as_deref(), args.json)),
                publish: Publish::from(&args.publish),
                job_summary: true,
            },
        )
        .await;
    }
    if args.wait.is_some() {
        return Err(AppError::invalid(anyhow!(
            "--wait waits for the parts of a split suite: name one as suite:ID"
        )));
    }
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

/// The suite run named among the candidates, when one is: it must be the only candidate.
pub fn one_suite(specs: &[Spec]) -> Result<Option<&SuiteSpec>, AppError> {
    let suites: Vec<&SuiteSpec> = specs
        .iter()
        .filter_map(|s| match s {
            Spec::Suite(s) => Some(s),
            _ => None,
        })
        .collect();
    match (suites.as_slice(), specs.len()) {
        ([], _) => Ok(None),
        ([one], 1) => Ok(Some(one)),
        _ => Err(AppError::invalid(anyhow!(
            "a suite run is compared on its own: name one suite:… and no other runs"
        ))),
    }
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
