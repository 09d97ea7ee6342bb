//! `rehearse report`, `--report DIR`, and the GitHub job summary: gathering what a report
//! shows (interval logs, baseline runs, the branch's history) and writing it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::baseline::{Resolver, Spec};
use super::{Outcome, ReportArgs, compare};
use crate::compare::Comparison;
use crate::model::{RunResult, SummaryMetric, parse_interval_log};
use crate::report::{self, ReportInput, StepHistory, TrendPoint};
use crate::store::HistoryMetric;

/// Runs of the baseline branch a report's trends show by default.
pub const DEFAULT_TREND_RUNS: usize = 30;

/// Runs the command.
pub async fn report(args: ReportArgs) -> anyhow::Result<Outcome> {
    let mut resolver = Resolver::new(&args.store.store);
    let mut candidates = Vec::new();
    let mut dirs = Vec::new();
    for text in &args.runs {
        let spec = Spec::parse(text);
        let scenario = candidates
            .first()
            .map(|c: &RunResult| c.scenario.clone())
            .or_else(|| args.scenario.clone());
        let exclude: Vec<String> = candidates.iter().map(|c| c.run_id.clone()).collect();
        for run in resolver
            .runs(&spec, scenario.as_deref(), 1, &exclude)
            .await?
        {
            dirs.push(compare::source_dir(&spec));
            candidates.push(run);
        }
    }
    let (comparison, baseline) = match &args.baseline {
        Some(b) => {
            let (c, runs) = compare::against(
                &mut resolver,
                &Spec::parse(b),
                &candidates,
                &args.runs.join(" "),
                &args.gate,
            )
            .await?;
            (Some(c), runs)
        }
        None => (None, Vec::new()),
    };
    let outcome = match &comparison {
        Some(c) => compare::verdict(c, &args.gate),
        None if candidates
            .iter()
            .flat_map(|r| &r.thresholds)
            .any(|t| !t.passed) =>
        {
            Outcome::Failed
        }
        None => Outcome::Success,
    };
    let input = gather(
        &mut resolver,
        candidates,
        &dirs,
        comparison,
        baseline,
        args.trend_runs,
        args.link.clone(),
    )
    .await;
    resolver.close().await;
    let files = report::write(&input, &args.out)?;
    for f in files {
        eprintln!("wrote {}", f.display());
    }
    Ok(outcome)
}

/// Everything a report shows, from candidates (with the folders their results came from),
/// an optional comparison, and the store when there is one.
pub async fn gather(
    resolver: &mut Resolver,
    candidates: Vec<RunResult>,
    dirs: &[Option<PathBuf>],
    comparison: Option<Comparison>,
    baseline: Vec<RunResult>,
    trend_runs: usize,
    link: Option<String>,
) -> ReportInput {
    let mut intervals = Vec::new();
    for (i, run) in candidates.iter().enumerate() {
        let dir = dirs.get(i).cloned().flatten();
        let log = resolver.interval_log(run, dir.as_deref()).await;
        intervals.push(log.map(|b| parse_interval_log(&b)).unwrap_or_default());
    }
    let branch = match &comparison {
        Some(c) => c.baseline.branches.first().cloned(),
        None => candidates
            .first()
            .and_then(|r| r.git.as_ref())
            .and_then(|g| g.branch.clone()),
    };
    let history = match &branch {
        Some(b) => trends(resolver, &candidates, b, trend_runs).await,
        None => Vec::new(),
    };
    ReportInput {
        candidates,
        intervals,
        baseline,
        comparison,
        history,
        history_branch: branch,
        link,
    }
}

/// p50 and p99 of every step over the branch's last runs (candidates left out), oldest first.
async fn trends(
    resolver: &mut Resolver,
    candidates: &[RunResult],
    branch: &str,
    n: usize,
) -> Vec<StepHistory> {
    let Some(first) = candidates.first() else {
        return Vec::new();
    };
    let Some(store) = resolver.existing_store().await else {
        return Vec::new();
    };
    let exclude: Vec<&str> = candidates.iter().map(|c| c.run_id.as_str()).collect();
    let names = first
        .steps
        .iter()
        .map(|s| s.name.clone())
        .chain(first.workflow.iter().map(|_| "workflow".to_string()));
    let mut out = Vec::new();
    for step in names {
        let get = |metric| {
            store.history(
                &first.scenario,
                &step,
                metric,
                Some(branch),
                n as i64 + exclude.len() as i64,
            )
        };
        let (Ok(p50), Ok(p99)) = (
            get(HistoryMetric::Summary(SummaryMetric::P50)).await,
            get(HistoryMetric::Summary(SummaryMetric::P99)).await,
        ) else {
            continue;
        };
        let mut points: Vec<TrendPoint> = p50
            .iter()
            .zip(&p99)
            .filter(|(a, _)| !exclude.contains(&a.run_id.as_str()))
            .take(n)
            .map(|(a, b)| TrendPoint {
                run_id: a.run_id.clone(),
                started_ms: a.started_ms,
                p50: a.value,
                p99: b.value,
            })
            .collect();
        points.reverse();
        out.push(StepHistory { step, points });
    }
    out
}

/// Appends summary.md to `$GITHUB_STEP_SUMMARY` when it is set (GitHub Actions job summary).
pub fn append_step_summary(input: &ReportInput) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("GITHUB_STEP_SUMMARY '{}'", Path::new(&path).display()))?;
    file.write_all(report::markdown(input, false).as_bytes())?;
    file.write_all(b"\n")?;
    Ok(())
}

/// Writes the report folder (when asked) and the GitHub job summary (when running there).
pub async fn publish(
    resolver: &mut Resolver,
    candidates: Vec<RunResult>,
    dirs: &[Option<PathBuf>],
    comparison: Option<Comparison>,
    baseline: Vec<RunResult>,
    dir: Option<&Path>,
    link: Option<String>,
) -> anyhow::Result<()> {
    let summary_wanted = std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty());
    if dir.is_none() && !summary_wanted {
        return Ok(());
    }
    let input = gather(
        resolver,
        candidates,
        dirs,
        comparison,
        baseline,
        DEFAULT_TREND_RUNS,
        link,
    )
    .await;
    if let Some(dir) = dir {
        report::write(&input, dir)?;
        super::print_out(&format!("report: {}\n", dir.join("index.html").display()));
    }
    append_step_summary(&input)
}
