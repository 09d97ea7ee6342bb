//! What `rehearse serve` shows, gathered from the store: the pages as plain addresses
//! ([`Page`]), each rendered to HTML by [`Dashboard::render`]. Read-only: it lists, loads and
//! compares, and never writes. Verdicts and change points are costly to reach (they decode
//! histograms), and a stored run never changes, so each is kept, keyed by the runs it was
//! computed from: a new run changes the key, never a stale answer.

mod page;
mod verdicts;

use page::{CHART_RUNS, spec};
pub use page::{Page, PageError};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::app::args::GateArgs;
use crate::app::pipeline::compare_with;
use crate::app::publish::{self, ReportRequest};
use crate::app::select::Resolver;
use crate::app::settings::{Gate, Publish};
use crate::compare::changes;
use crate::model::{ChangePoint, RunResult, SummaryMetric};
use crate::report::dashboard::{
    self as pages, BranchSeries, RunLine, ScenarioView, StepTrend, TrendRun, VerdictCell,
};
use crate::store::{BranchSummary, HistoryMetric, RunFilter, RunSummary, Store, Which};

/// Branches a scenario page charts unless asked.
const CHART_BRANCHES: usize = 4;
/// Newest runs per branch listed under a scenario's trends.
const RECENT_RUNS: i64 = 10;
/// Entries kept before the cache starts again (each is one verdict or one branch's changes).
const CACHE_ENTRIES: usize = 4096;

/// What a verdict or a change-point search left behind.
#[derive(Debug, Clone)]
enum Kept {
    Verdict(VerdictCell),
    Changes(Result<Vec<ChangePoint>, String>),
}

/// The dashboard over one store.
#[derive(Debug, Clone)]
pub struct Dashboard {
    store: Store,
    url: String,
    shown_url: String,
    base: String,
    kept: Arc<Mutex<HashMap<String, Kept>>>,
}

impl Dashboard {
    /// A dashboard over an open store; `base` is the branch others are compared with.
    pub fn new(store: Store, url: &str, base: &str) -> Self {
        Self {
            store,
            url: url.to_string(),
            shown_url: crate::store::redact(url),
            base: base.to_string(),
            kept: Arc::default(),
        }
    }

    /// The page's HTML.
    pub async fn render(&self, page: &Page) -> Result<String, PageError> {
        match page {
            Page::Index => self.index().await,
            Page::Scenario {
                name,
                metric,
                runs,
                branches,
            } => self.scenario(name, *metric, *runs, branches).await,
            Page::Run { id } => self.run(id).await,
            Page::Compare {
                scenario,
                baseline,
                candidate,
            } => self.compare(scenario.as_deref(), baseline, candidate).await,
        }
    }

    /// Renders the front page and every scenario's page once, so the first person to look
    /// does not wait for the verdicts, the change points and their calibration.
    pub async fn warm(&self) {
        let _ = self.render(&Page::Index).await;
        let Ok(all) = self.store.branches().await else {
            return;
        };
        for (name, _) in by_scenario(&all) {
            let page = Page::Scenario {
                name: name.to_string(),
                metric: SummaryMetric::P50,
                runs: CHART_RUNS,
                branches: Vec::new(),
            };
            let _ = self.render(&page).await;
        }
    }

    /// An error as a page of its own, with the navigation.
    pub fn error_page(&self, e: &PageError) -> String {
        let title = match e {
            PageError::Refused { html, .. } => return html.clone(),
            PageError::NotFound(_) => "Not found",
            PageError::BadRequest(_) => "Cannot show that",
            PageError::Failed(_) => "The store did not answer",
            PageError::Internal(_) => "Something went wrong",
        };
        pages::page(
            "rehearse: error",
            &self.shown_url,
            &pages::error_body(title, &e.to_string()),
        )
    }

    async fn scenario(
        &self,
        name: &str,
        metric: SummaryMetric,
        runs: i64,
        asked: &[String],
    ) -> Result<String, PageError> {
        let all = self.store.branches().await?;
        let branches: Vec<String> = all
            .iter()
            .filter(|b| b.scenario == name)
            .filter_map(|b| b.branch.clone())
            .collect();
        if branches.is_empty() {
            return Err(PageError::NotFound(format!(
                "no runs of a scenario named `{name}` (with a branch) in this store"
            )));
        }
        let mut shown: Vec<String> = asked
            .iter()
            .filter(|b| branches.contains(b))
            .cloned()
            .collect();
        // The base branch leads when it is asked for: its colour is the same on every page.
        shown.sort_by_key(|b| *b != self.base);
        if shown.is_empty() {
            if branches.contains(&self.base) {
                shown.push(self.base.clone());
            }
            shown.extend(
                branches
                    .iter()
                    .filter(|b| **b != self.base)
                    .take(CHART_BRANCHES - shown.len())
                    .cloned(),
            );
        }
        // One listing per branch serves its newest run, its recent runs and the key of its
        // change points; one query per branch, every step's trend.
        let mut listed: Vec<Vec<RunSummary>> = Vec::new();
        let mut trends_of: Vec<Vec<(String, bool, crate::store::HistoryPoint)>> = Vec::new();
        for b in &shown {
            listed.push(self.list(name, b, runs.max(RECENT_RUNS)).await?);
            trends_of.push(
                self.store
                    .histories(name, b, HistoryMetric::Summary(metric), runs)
                    .await?,
            );
        }
        // Step names and order from the newest run charted, workflow last.
        let newest = listed
            .iter()
            .filter_map(|l| l.first())
            .max_by_key(|r| r.started_ms)
            .ok_or_else(|| PageError::NotFound(format!("no runs of `{name}`")))?;
        let mut steps: Vec<(String, bool)> = Vec::new();
        for (step, workflow, p) in trends_of.iter().flatten() {
            if p.run_id == newest.id && !steps.iter().any(|(s, w)| s == step && w == workflow) {
                steps.push((step.clone(), *workflow));
            }
        }
        for (step, workflow, _) in trends_of.iter().flatten() {
            if !steps.iter().any(|(s, w)| s == step && w == workflow) {
                steps.push((step.clone(), *workflow));
            }
        }
        steps.sort_by_key(|(_, w)| *w);
        let trends: Vec<StepTrend> = steps
            .iter()
            .map(|(step, workflow)| StepTrend {
                step: step.clone(),
                series: shown
                    .iter()
                    .zip(&trends_of)
                    .map(|(b, points)| BranchSeries {
                        branch: b.clone(),
                        runs: points
                            .iter()
                            .rev()
                            .filter(|(s, w, _)| s == step && w == workflow)
                            .map(|(_, _, p)| TrendRun {
                                run_id: p.run_id.clone(),
                                started_ms: p.started_ms,
                                commit: p.commit.clone(),
                                value: p.value,
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        let mut changes = Vec::new();
        let mut notes = Vec::new();
        let mut jobs = tokio::task::JoinSet::new();
        for (i, b) in shown.iter().enumerate() {
            let me = self.clone();
            let (name, b) = (name.to_string(), b.clone());
            let ids: Vec<String> = listed[i]
                .iter()
                .filter(|r| !r.failed)
                .take(runs as usize)
                .map(|r| r.id.clone())
                .collect();
            jobs.spawn(async move { (i, me.changes(&name, &b, ids).await) });
        }
        let mut found: Vec<(usize, Result<Vec<ChangePoint>, String>)> = Vec::new();
        while let Some(done) = jobs.join_next().await {
            found.push(done.map_err(|e| PageError::Failed(e.to_string()))?);
        }
        found.sort_by_key(|(i, _)| *i);
        for (i, f) in found {
            match f {
                Ok(points) => changes.extend(points.into_iter().map(|c| (shown[i].clone(), c))),
                Err(e) => notes.push(format!(
                    "change points of {} could not be searched: {e}",
                    shown[i]
                )),
            }
        }
        let mut recent: Vec<(String, RunLine)> = shown
            .iter()
            .zip(&listed)
            .flat_map(|(b, l)| {
                l.iter()
                    .take(RECENT_RUNS as usize)
                    .map(|r| (b.clone(), line(r)))
            })
            .collect();
        recent.sort_by_key(|r| std::cmp::Reverse(r.1.started_ms));
        recent.truncate(2 * RECENT_RUNS as usize);
        let view = ScenarioView {
            name: name.to_string(),
            metric,
            runs,
            max_runs: page::MAX_CHART_RUNS,
            base: self.base.clone(),
            searched: crate::stats::Metric::from_name(metric.name()).is_some(),
            shown,
            branches,
            steps: trends,
            changes,
            notes,
            recent,
        };
        Ok(pages::page(
            &format!("rehearse: {name}"),
            &self.shown_url,
            &pages::scenario(&view),
        ))
    }

    /// The change points of a branch's newest runs (`ids`, newest first), kept until the
    /// branch gains a run.
    async fn changes(
        &self,
        scenario: &str,
        branch: &str,
        ids: Vec<String>,
    ) -> Result<Vec<ChangePoint>, String> {
        if ids.len() < 2 * changes::DEFAULT_MIN_SEGMENT {
            return Ok(Vec::new());
        }
        let key = format!(
            "changes|{scenario}|{branch}|{}|{}|{}",
            ids.len(),
            ids[0],
            ids[ids.len() - 1]
        );
        if let Some(Kept::Changes(c)) = self.kept(&key) {
            return c;
        }
        let mut loaded: Vec<RunResult> = Vec::with_capacity(ids.len());
        for id in ids.iter().rev() {
            loaded.push(self.store.load(id).await.map_err(|e| e.to_string())?);
        }
        let settings = changes::Settings::for_runs(&loaded, None);
        let found = tokio::task::spawn_blocking(move || changes::change_points(&loaded, &settings))
            .await
            .map_err(|e| e.to_string());
        // A search that failed is tried again on the next view.
        if found.is_ok() {
            self.keep(key, Kept::Changes(found.clone()));
        }
        found
    }

    async fn run(&self, id: &str) -> Result<String, PageError> {
        let id = self.store.resolve(id).await?;
        let run = self.store.load(&id).await?;
        let scenario = run.scenario.clone();
        let mut resolver = Resolver::with_store(&self.url, self.store.clone());
        let input = publish::gather(
            &mut resolver,
            ReportRequest {
                candidates: vec![run],
                dirs: vec![None],
                comparison: None,
                baseline: Vec::new(),
                publish: Publish::default(),
            },
            crate::report::DEFAULT_TREND_RUNS,
        )
        .await;
        let report =
            crate::report::html_page(&input).map_err(|e| PageError::Internal(e.to_string()))?;
        let base = format!("branch:{}", self.base);
        let form = self.compare_form(Some(&scenario), &base, &id).await?;
        let links = pages::run_links(&self.base, &id, &scenario);
        Ok(pages::framed(&report, &self.shown_url, &(links + &form)))
    }

    async fn compare(
        &self,
        scenario: Option<&str>,
        baseline: &str,
        candidate: &str,
    ) -> Result<String, PageError> {
        let form = self.compare_form(scenario, baseline, candidate).await?;
        if baseline.is_empty() || candidate.is_empty() {
            return Ok(pages::page(
                "rehearse: compare",
                &self.shown_url,
                &pages::compare_body(&form, None),
            ));
        }
        match self.comparison(scenario, baseline, candidate).await {
            Ok(report) => Ok(pages::framed(&report, &self.shown_url, &form)),
            // A comparison that cannot be made is said on the page, the picker kept to try again.
            Err(PageError::BadRequest(reason)) => Err(PageError::Refused {
                html: pages::page(
                    "rehearse: compare",
                    &self.shown_url,
                    &pages::compare_body(&form, Some(&reason)),
                ),
                reason,
            }),
            Err(e) => Err(e),
        }
    }

    /// The report of a comparison of two specs.
    async fn comparison(
        &self,
        scenario: Option<&str>,
        baseline: &str,
        candidate: &str,
    ) -> Result<String, PageError> {
        let base_spec = spec(baseline)?;
        let cand_spec = spec(candidate)?;
        let mut resolver = Resolver::with_store(&self.url, self.store.clone());
        let picked = |e: crate::app::AppError| PageError::BadRequest(format!("{e:#}"));
        let (candidates, dirs) = crate::app::commands::compare::candidates(
            &mut resolver,
            std::slice::from_ref(&cand_spec),
            &base_spec,
            scenario.map(str::to_string),
        )
        .await
        .map_err(picked)?;
        let gate = Gate::new(&GateArgs::default(), &candidates[0].compare);
        let (comparison, baseline_runs) =
            compare_with(&mut resolver, &base_spec, &candidates, candidate, &gate)
                .await
                .map_err(|e| PageError::BadRequest(format!("{e:#}")))?;
        let input = publish::gather(
            &mut resolver,
            ReportRequest {
                candidates,
                dirs,
                comparison: Some(comparison),
                baseline: baseline_runs,
                publish: Publish::default(),
            },
            crate::report::DEFAULT_TREND_RUNS,
        )
        .await;
        crate::report::html_page(&input).map_err(|e| PageError::Internal(e.to_string()))
    }

    /// The comparison picker, its suggestions the scenario's branches and newest runs.
    async fn compare_form(
        &self,
        scenario: Option<&str>,
        baseline: &str,
        candidate: &str,
    ) -> Result<String, PageError> {
        let all = self.store.branches().await?;
        let mut scenarios: Vec<String> = Vec::new();
        for b in &all {
            if !scenarios.contains(&b.scenario) {
                scenarios.push(b.scenario.clone());
            }
        }
        let chosen = scenario
            .map(str::to_string)
            .or_else(|| scenarios.first().cloned());
        let mut suggestions: Vec<String> = all
            .iter()
            .filter(|b| Some(&b.scenario) == chosen.as_ref())
            .filter_map(|b| b.branch.as_ref().map(|n| format!("branch:{n}")))
            .collect();
        if let Some(s) = &chosen {
            let newest = self
                .store
                .list(&RunFilter {
                    scenario: Some(s.clone()),
                    branch: None,
                    limit: 20,
                    offset: 0,
                    which: Which::Complete,
                    group: None,
                })
                .await?;
            suggestions.extend(newest.into_iter().map(|r| r.id));
        }
        Ok(pages::compare_form(
            &scenarios,
            chosen.as_deref(),
            baseline,
            candidate,
            &suggestions,
        ))
    }

    async fn newest(&self, scenario: &str, branch: &str) -> Result<Option<RunSummary>, PageError> {
        Ok(self.list(scenario, branch, 1).await?.into_iter().next())
    }

    async fn list(
        &self,
        scenario: &str,
        branch: &str,
        limit: i64,
    ) -> Result<Vec<RunSummary>, PageError> {
        Ok(self
            .store
            .list(&RunFilter {
                scenario: Some(scenario.to_string()),
                branch: Some(branch.to_string()),
                limit,
                offset: 0,
                which: Which::Baselines,
                group: None,
            })
            .await?)
    }

    fn kept(&self, key: &str) -> Option<Kept> {
        self.kept.lock().expect("not poisoned").get(key).cloned()
    }

    fn keep(&self, key: String, value: Kept) {
        let mut kept = self.kept.lock().expect("not poisoned");
        if kept.len() >= CACHE_ENTRIES {
            kept.clear();
        }
        kept.insert(key, value);
    }
}

fn by_scenario(all: &[BranchSummary]) -> Vec<(&str, Vec<&BranchSummary>)> {
    let mut out: Vec<(&str, Vec<&BranchSummary>)> = Vec::new();
    for b in all {
        match out.last_mut() {
            Some((name, list)) if *name == b.scenario => list.push(b),
            _ => out.push((&b.scenario, vec![b])),
        }
    }
    out
}

fn line(r: &RunSummary) -> RunLine {
    RunLine {
        id: r.id.clone(),
        started_ms: r.started_ms,
        commit: r.commit.clone(),
        iterations: r.iterations,
        errors: r.errors,
        p50: r.p50,
        p99: r.p99,
    }
}
