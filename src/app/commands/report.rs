//! `rehearse report`: a report folder for stored runs or results files, compared with a
//! baseline when one is named.

use anyhow::anyhow;

use crate::app::args::ReportArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Outcome};
use crate::app::pipeline::{compare_with, selection_error};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::{Resolver, Spec};
use crate::app::settings::{Gate, Publish};

/// Runs the command.
pub async fn report(args: ReportArgs) -> AppResult {
    let mut resolver = Resolver::new(&args.store.url());
    let specs: Vec<Spec> = args.runs.iter().map(|r| Spec::parse(r)).collect();
    let baseline = args.baseline.as_deref().map(Spec::parse);
    if let Some(suite) = super::compare::one_suite(&specs)? {
        return super::suite::verdict(
            resolver,
            super::suite::NamedRequest {
                suite,
                baseline: baseline.as_ref(),
                gate: &args.gate,
                wait: None,
                show: None,
                publish: Publish {
                    report: Some(args.out.clone()),
                    link: args.link.clone(),
                },
                job_summary: false,
            },
        )
        .await;
    }
    let anchor = baseline.clone().unwrap_or(Spec::Latest);
    let (candidates, dirs) =
        super::compare::candidates(&mut resolver, &specs, &anchor, args.scenario.clone()).await?;
    let gate = Gate::new(&args.gate, &candidates[0].compare);
    let (comparison, baseline_runs) = match &baseline {
        Some(spec) => {
            let (c, runs) = compare_with(
                &mut resolver,
                spec,
                &candidates,
                &args.runs.join(" "),
                &gate,
            )
            .await
            .map_err(selection_error)?;
            (Some(c), runs)
        }
        None => (None, Vec::new()),
    };
    let outcome = match &comparison {
        Some(c) => gate.outcome(c),
        None if candidates
            .iter()
            .flat_map(|r| &r.thresholds)
            .any(|t| !t.passed) =>
        {
            Outcome::Failed
        }
        None => Outcome::Passed,
    };
    let input = publish::gather(
        &mut resolver,
        ReportRequest {
            candidates,
            dirs,
            comparison,
            baseline: baseline_runs,
            publish: Publish {
                report: Some(args.out.clone()),
                link: args.link.clone(),
            },
        },
        args.trend_runs as usize,
    )
    .await;
    resolver.close().await;
    let files = crate::report::write(&input, &args.out)
        .map_err(|e| AppError::invalid(anyhow!(e).context("writing the report")))?;
    for f in files {
        console::note(&format!("wrote {}", f.display()));
    }
    Ok(outcome)
}
