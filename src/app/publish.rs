//! Publishing: gathering what a report shows (interval logs, baseline runs, the branch's
//! history) and writing the report folder and the GitHub job summary.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::console;
use super::error::AppError;
use super::select::Resolver;
use super::settings::Publish;
use crate::model::{Comparison, RunResult, SummaryMetric, parse_interval_log};
use crate::report::{self, ReportInput, StepHistory, TrendPoint};
use crate::store::HistoryMetric;

/// What a report is about.
pub struct ReportRequest {
    /// The runs reported on.
    pub candidates: Vec<RunResult>,
    /// The folder each candidate's results came from (where its interval log is).
    pub dirs: Vec<Option<PathBuf>>,
    /// The comparison, if any.
    pub comparison: Option<Comparison>,
    /// The baseline runs of the comparison.
    pub baseline: Vec<RunResult>,
    /// Where it goes.
    pub publish: Publish,
}

/// Everything a report shows; what could not be read (a store error) is said in `notes`.
pub async fn gather(
    resolver: &mut Resolver,
    request: ReportRequest,
    trend_runs: usize,
) -> ReportInput {
    let mut notes = Vec::new();
    let mut intervals = Vec::new();
    for (i, run) in request.candidates.iter().enumerate() {
        let dir = request.dirs.get(i).cloned().flatten();
        match resolver.interval_log(run, dir.as_deref()).await {
            Ok(log) => intervals.push(log.map(|b| parse_interval_log(&b)).unwrap_or_default()),
            Err(e) => {
                notes.push(format!(
                    "the interval log of run {} could not be read: {e}",
                    run.run_id
                ));
                intervals.push(Default::default());
            }
        }
    }
    let branch = match &request.comparison {
        Some(c) => c.baseline.branches.first().cloned(),
        None => request
            .candidates
            .first()
            .and_then(|r| r.git.as_ref())
            .and_then(|g| g.branch.clone()),
    };
    let history = match &branch {
        Some(b) => match trends(resolver, &request.candidates, b, trend_runs).await {
            Ok(h) => h,
            Err(e) => {
                notes.push(format!(
                    "the history of branch `{b}` could not be read: {e}"
                ));
                Vec::new()
            }
        },
        None => Vec::new(),
    };
    ReportInput {
        candidates: request.candidates,
        intervals,
        baseline: request.baseline,
        comparison: request.comparison,
        history,
        history_branch: branch,
        link: request.publish.link,
        notes,
    }
}

/// p50 and p99 of every step over the branch's last runs (candidates left out), oldest first.
async fn trends(
    resolver: &mut Resolver,
    candidates: &[RunResult],
    branch: &str,
    n: usize,
) -> Result<Vec<StepHistory>, crate::store::StoreError> {
    let Some(first) = candidates.first() else {
        return Ok(Vec::new());
    };
    let Some(store) = resolver.existing_store().await? else {
        return Ok(Vec::new());
    };
    let exclude: Vec<&str> = candidates.iter().map(|c| c.run_id.as_str()).collect();
    let mut out = Vec::new();
    for id in first.step_ids() {
        let step = id.name().to_string();
        let limit = n as i64 + exclude.len() as i64;
        let p50 = store
            .history(
                &first.scenario,
                &step,
                HistoryMetric::Summary(SummaryMetric::P50),
                Some(branch),
                limit,
            )
            .await?;
        let p99 = store
            .history(
                &first.scenario,
                &step,
                HistoryMetric::Summary(SummaryMetric::P99),
                Some(branch),
                limit,
            )
            .await?;
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
    Ok(out)
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
/// Runs this follows were already sent and stored, so a failure here is exit 3.
pub async fn publish(resolver: &mut Resolver, request: ReportRequest) -> Result<(), AppError> {
    let summary_wanted = std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty());
    let dir = request.publish.report.clone();
    if dir.is_none() && !summary_wanted {
        return Ok(());
    }
    let input = gather(resolver, request, report::DEFAULT_TREND_RUNS).await;
    if let Some(dir) = dir {
        report::write(&input, &dir)
            .map_err(|e| AppError::run_failed(anyhow::anyhow!(e).context("writing the report")))?;
        console::out(&format!("report: {}\n", dir.join("index.html").display()));
    }
    append_step_summary(&input)
        .map_err(|e| AppError::run_failed(e.context("writing the job summary")))
}

/// A suite's runs and what they were compared with, for its report.
pub struct SuiteRuns {
    /// Each scenario's runs in the suite run.
    pub runs: std::collections::BTreeMap<String, Vec<RunResult>>,
    /// The folders their results came from, where the interval logs are.
    pub dirs: std::collections::BTreeMap<String, Vec<Option<PathBuf>>>,
    /// Each compared scenario's baseline runs.
    pub baselines: std::collections::BTreeMap<String, Vec<RunResult>>,
}

/// Writes a suite's report folder (when asked) and its job summary (when running in GitHub
/// Actions): one page for the whole suite, with every scenario's section.
pub async fn publish_suite(
    resolver: &mut Resolver,
    verdict: &crate::model::SuiteComparison,
    mut runs: SuiteRuns,
    publish: Publish,
    job_summary: bool,
) -> Result<(), AppError> {
    let summary_wanted =
        job_summary && std::env::var_os("GITHUB_STEP_SUMMARY").is_some_and(|p| !p.is_empty());
    if publish.report.is_none() && !summary_wanted {
        return Ok(());
    }
    let mut scenarios = Vec::new();
    for m in &verdict.members {
        let candidates = runs.runs.remove(&m.scenario).unwrap_or_default();
        if candidates.is_empty() {
            continue;
        }
        let request = ReportRequest {
            dirs: runs.dirs.remove(&m.scenario).unwrap_or_default(),
            comparison: verdict
                .scenarios
                .iter()
                .find(|c| c.scenario == m.scenario)
                .cloned(),
            baseline: runs.baselines.remove(&m.scenario).unwrap_or_default(),
            candidates,
            publish: publish.clone(),
        };
        scenarios.push(gather(resolver, request, report::DEFAULT_TREND_RUNS).await);
    }
    let input = report::suite::SuiteReportInput {
        verdict: verdict.clone(),
        scenarios,
        link: publish.link.clone(),
    };
    if let Some(dir) = &publish.report {
        report::suite::write_suite(&input, dir)
            .map_err(|e| AppError::run_failed(anyhow::anyhow!(e).context("writing the report")))?;
        console::out(&format!("report: {}\n", dir.join("index.html").display()));
    }
    if let Some(path) =
        std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| summary_wanted && !p.is_empty())
    {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("GITHUB_STEP_SUMMARY '{}'", Path::new(&path).display()))
            .map_err(AppError::run_failed)?;
        file.write_all(report::suite::markdown(&input, false).as_bytes())
            .and_then(|_| file.write_all(b"\n"))
            .map_err(|e| {
                AppError::run_failed(anyhow::anyhow!(e).context("writing the job summary"))
            })?;
    }
    Ok(())
}
