//! `rehearse compare` and the comparison step of `rehearse run --baseline`.

use std::path::Path;

use anyhow::bail;

use super::baseline::{Resolver, Spec, describe};
use super::{CompareArgs, GateArgs, Outcome};
use crate::compare::{self, Baseline, Comparison};
use crate::model::RunResult;
use crate::report::console;

/// Default number of baseline-branch runs.
pub const DEFAULT_HISTORY: usize = 10;

/// Runs the command.
pub async fn compare(args: CompareArgs) -> anyhow::Result<Outcome> {
    let mut resolver = Resolver::new(&args.store.store);
    let baseline_spec = Spec::parse(&args.baseline);
    let candidate_specs: Vec<Spec> = args.candidates.iter().map(|c| Spec::parse(c)).collect();
    // The scenario comes from whichever side names concrete runs.
    let mut candidates = Vec::new();
    let mut dirs = Vec::new();
    for spec in candidate_specs.iter().filter(|s| s.is_concrete()) {
        for run in resolver.runs(spec, None, 1, &[]).await? {
            dirs.push(source_dir(spec));
            candidates.push(run);
        }
    }
    let scenario = match &args.scenario {
        Some(s) => Some(s.clone()),
        None => match candidates.first() {
            Some(c) => Some(c.scenario.clone()),
            None if baseline_spec.is_concrete() => resolver
                .runs(&baseline_spec, None, 1, &[])
                .await?
                .first()
                .map(|r| r.scenario.clone()),
            None => None,
        },
    };
    let mut taken: Vec<String> = candidates.iter().map(|c| c.run_id.clone()).collect();
    for spec in candidate_specs.iter().filter(|s| !s.is_concrete()) {
        for run in resolver.runs(spec, scenario.as_deref(), 1, &taken).await? {
            taken.push(run.run_id.clone());
            dirs.push(None);
            candidates.push(run);
        }
    }
    let spec_text = args.candidates.join(" ");
    let (comparison, baseline_runs) = against(
        &mut resolver,
        &baseline_spec,
        &candidates,
        &spec_text,
        &args.gate,
    )
    .await?;
    let outcome = report(&comparison, &args.gate, args.out.as_deref(), args.json)?;
    super::report::publish(
        &mut resolver,
        candidates,
        &dirs,
        Some(comparison),
        baseline_runs,
        args.publish.report.as_deref(),
        args.publish.link.clone(),
    )
    .await?;
    resolver.close().await;
    Ok(outcome)
}

/// The folder a results file was read from, where its interval log sits.
pub fn source_dir(spec: &Spec) -> Option<std::path::PathBuf> {
    match spec {
        Spec::File(p) if p.is_dir() => Some(p.clone()),
        Spec::File(p) => p.parent().map(Path::to_path_buf),
        _ => None,
    }
}

/// Compares `candidates` with what `spec` names, using the candidates' recorded gates.
pub async fn against(
    resolver: &mut Resolver,
    spec: &Spec,
    candidates: &[RunResult],
    candidate_spec: &str,
    gate: &GateArgs,
) -> anyhow::Result<(Comparison, Vec<RunResult>)> {
    let Some(first) = candidates.first() else {
        bail!("no candidate runs to compare")
    };
    let settings = first.compare.clone();
    let n = gate.history.or(settings.history).unwrap_or(DEFAULT_HISTORY);
    let exclude: Vec<String> = candidates.iter().map(|c| c.run_id.clone()).collect();
    let runs = resolver
        .runs(spec, Some(&first.scenario), n, &exclude)
        .await?;
    for r in runs.iter().chain(candidates) {
        if r.scenario != first.scenario {
            bail!(
                "cannot compare different scenarios: `{}` and `{}`",
                first.scenario,
                r.scenario
            );
        }
    }
    let history = if runs.len() == 1 {
        resolver.history_for(&runs[0], n, &exclude).await
    } else {
        Vec::new()
    };
    let baseline = Baseline {
        spec: describe(spec),
        runs,
        history,
    };
    let params = compare::params(&settings, &compare::Overrides { alpha: gate.alpha });
    let thresholds: Vec<_> = first
        .thresholds
        .iter()
        .map(|t| t.threshold.clone())
        .collect();
    let comparison = compare::compare(&baseline, candidates, &params, &thresholds, candidate_spec);
    Ok((comparison, baseline.runs))
}

/// Prints (or writes) a comparison and turns it into an exit outcome.
pub fn report(
    c: &Comparison,
    gate: &GateArgs,
    out: Option<&Path>,
    json: bool,
) -> anyhow::Result<Outcome> {
    if json {
        super::print_out(&(serde_json::to_string_pretty(c)? + "\n"));
    } else {
        super::print_out(&console::comparison(c));
    }
    if let Some(dir) = out {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("comparison.json");
        std::fs::write(&path, serde_json::to_string_pretty(c)? + "\n")?;
        if !json {
            super::print_out(&format!("comparison: {}\n", path.display()));
        }
    }
    Ok(verdict(c, gate))
}

/// Exit outcome: a regression or a breach fails; inconclusive only when asked.
pub fn verdict(c: &Comparison, gate: &GateArgs) -> Outcome {
    if !c.overall.passed || (gate.fail_on_inconclusive && c.overall.inconclusive > 0) {
        Outcome::Failed
    } else {
        Outcome::Success
    }
}
