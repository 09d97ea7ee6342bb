//! What `rehearse serve` shows, gathered from the store: the pages as plain addresses
//! ([`Page`]), each rendered to HTML by [`Dashboard::render`]. Read-only: it lists, loads and
//! compares, and never writes. Verdicts and change points are costly to reach (they decode
//! histograms), and a stored run never changes, so each is kept, keyed by the runs it was
//! computed from: a new run changes the key, never a stale answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::app::args::GateArgs;
use crate::app::pipeline::{baseline_for, compare_with};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::{Resolver, SelectError, Spec};
use crate::app::settings::{Gate, Publish};
use crate::compare::{Baseline, changes};
use crate::model::{ChangePoint, RunResult, SummaryMetric};
use crate::report::dashboard::{
    self as pages, BranchLatest, BranchSeries, IndexView, RunLine, ScenarioSummary, ScenarioView,
    StepTrend, TrendRun, VerdictCell,
};
use crate::report::views::Conclusion;
use crate::store::{BranchSummary, HistoryMetric, RunFilter, RunSummary, Store, Which};

/// Branches of a scenario on the front page (the base branch and the most recently run).
const FRONT_BRANCHES: usize = 6;
/// Branches a scenario page charts unless asked.
const CHART_BRANCHES: usize = 4;
/// Runs per branch a scenario page charts unless asked, and the most it will.
const CHART_RUNS: i64 = 60;
const MAX_CHART_RUNS: i64 = 500;
/// Newest runs per branch listed under a scenario's trends.
const RECENT_RUNS: i64 = 10;
/// Entries kept before the cache starts again (each is one verdict or one branch's changes).
const CACHE_ENTRIES: usize = 4096;

/// A page of the dashboard, as its address names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// `/`: every scenario with each branch's latest verdict.
    Index,
    /// `/scenario/NAME?metric=p50&runs=60&branch=main&branch=…`: trends with change points.
    Scenario {
        /// The scenario.
        name: String,
        /// The metric charted.
        metric: SummaryMetric,
        /// Runs per branch.
        runs: i64,
        /// Branches charted (none: the base branch and the most recent others).
        branches: Vec<String>,
    },
    /// `/run/ID`: the run's report.
    Run {
        /// Run id or unique prefix.
        id: String,
    },
    /// `/compare?scenario=…&baseline=…&candidate=…`: any two runs or branches.
    Compare {
        /// The scenario, when the specs do not say.
        scenario: Option<String>,
        /// `branch:NAME`, `latest` or a run id.
        baseline: String,
        /// The same.
        candidate: String,
    },
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Nothing is at that address.
    #[error("{0}")]
    NotFound(String),
    /// The address asks for something that cannot be.
    #[error("{0}")]
    BadRequest(String),
    /// The store failed to answer.
    #[error("{0}")]
    Failed(String),
}

impl From<crate::store::StoreError> for PageError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound(_) | crate::store::StoreError::Ambiguous { .. } => {
                PageError::NotFound(e.to_string())
            }
            e => PageError::Failed(e.to_string()),
        }
    }
}

impl Page {
    /// The page at a path and query string (without the `?`).
    pub fn parse(path: &str, query: &str) -> Result<Page, PageError> {
        let params = decode_query(query);
        let one = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        match path {
            "/" | "/index.html" => Ok(Page::Index),
            "/compare" => Ok(Page::Compare {
                scenario: one("scenario"),
                baseline: one("baseline").unwrap_or_default(),
                candidate: one("candidate").unwrap_or_default(),
            }),
            _ => {
                if let Some(name) = path.strip_prefix("/scenario/") {
                    let name = percent_decode(name);
                    let metric = match one("metric") {
                        None => SummaryMetric::P50,
                        Some(m) => SummaryMetric::from_name(&m).ok_or_else(|| {
                            PageError::BadRequest(format!("unknown metric `{m}`"))
                        })?,
                    };
                    let runs = match one("runs") {
                        None => CHART_RUNS,
                        Some(n) => n
                            .parse::<i64>()
                            .ok()
                            .filter(|n| (2..=MAX_CHART_RUNS).contains(n))
                            .ok_or_else(|| {
                                PageError::BadRequest(format!(
                                    "runs must be a number from 2 to {MAX_CHART_RUNS}, not `{n}`"
                                ))
                            })?,
                    };
                    let branches = params
                        .iter()
                        .filter(|(n, v)| n == "branch" && !v.is_empty())
                        .map(|(_, v)| v.clone())
                        .collect();
                    return Ok(Page::Scenario {
                        name,
                        metric,
                        runs,
                        branches,
                    });
                }
                if let Some(id) = path.strip_prefix("/run/") {
                    return Ok(Page::Run {
                        id: percent_decode(id),
                    });
                }
                Err(PageError::NotFound(format!("no page at `{path}`")))
            }
        }
    }
}

/// A baseline shared by a scenario's branches, or the verdict every one of them gets.
type Shared = Result<Arc<(Baseline, Vec<String>)>, VerdictCell>;

/// A front-page verdict not kept yet: where it goes, its key, the run.
struct Wanted {
    slot: (usize, usize),
    key: String,
    id: String,
    base: bool,
}

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
        pages::page(
            "rehearse: error",
            &self.shown_url,
            &format!(
                "<h1>{}</h1><p class=\"note\">{}</p><p><a href=\"/\">back to the scenarios</a></p>",
                match e {
                    PageError::NotFound(_) => "Not found",
                    PageError::BadRequest(_) => "Cannot show that",
                    PageError::Failed(_) => "The store did not answer",
                },
                crate::report::escape_xml(&e.to_string())
            ),
        )
    }

    async fn index(&self) -> Result<String, PageError> {
        let all = self.store.branches().await?;
        let mut scenarios: Vec<ScenarioSummary> = Vec::new();
        let mut jobs = tokio::task::JoinSet::new();
        for (name, branches) in by_scenario(&all) {
            let named: Vec<&BranchSummary> = branches
                .iter()
                .filter(|b| b.branch.is_some())
                .copied()
                .collect();
            let shown = self.front_branches(&named);
            let base_newest = self.newest(name, &self.base).await?;
            let mut rows = Vec::new();
            let mut wanted = Vec::new();
            for b in &shown {
                let branch = b.branch.clone().expect("named branches only");
                let Some(latest) = self.newest(name, &branch).await? else {
                    continue;
                };
                let key = format!(
                    "verdict|{}|{}|{}",
                    latest.id,
                    base_newest.as_ref().map(|r| r.id.as_str()).unwrap_or(""),
                    named
                        .iter()
                        .find(|x| x.branch.as_deref() == Some(self.base.as_str()))
                        .map(|x| x.runs)
                        .unwrap_or(0)
                );
                let slot = (scenarios.len(), rows.len());
                match self.kept(&key) {
                    Some(Kept::Verdict(v)) => rows.push((b.runs, branch.clone(), latest, v)),
                    _ => {
                        wanted.push(Wanted {
                            slot,
                            key,
                            id: latest.id.clone(),
                            base: branch == self.base,
                        });
                        rows.push((
                            b.runs,
                            branch.clone(),
                            latest,
                            VerdictCell::Alone("not compared: the comparison failed".into()),
                        ));
                    }
                }
            }
            if !wanted.is_empty() {
                let me = self.clone();
                let name = name.to_string();
                jobs.spawn(async move { me.verdicts(&name, wanted).await });
            }
            scenarios.push(ScenarioSummary {
                name: name.to_string(),
                branches: rows
                    .into_iter()
                    .map(|(runs, branch, latest, verdict)| BranchLatest {
                        branch,
                        runs,
                        latest: line(&latest),
                        verdict,
                    })
                    .collect(),
                more_branches: named.len().saturating_sub(shown.len()),
            });
        }
        while let Some(done) = jobs.join_next().await {
            for ((s, b), v) in done.map_err(|e| PageError::Failed(e.to_string()))? {
                scenarios[s].branches[b].verdict = v;
            }
        }
        let view = IndexView {
            store: self.shown_url.clone(),
            base: self.base.clone(),
            scenarios,
        };
        Ok(pages::page(
            "rehearse: scenarios",
            &self.shown_url,
            &pages::index(&view),
        ))
    }

    /// The base branch first, then the most recently run others.
    fn front_branches<'a>(&self, named: &[&'a BranchSummary]) -> Vec<&'a BranchSummary> {
        let mut shown: Vec<&BranchSummary> = named
            .iter()
            .filter(|b| b.branch.as_deref() == Some(self.base.as_str()))
            .copied()
            .collect();
        shown.extend(
            named
                .iter()
                .filter(|b| b.branch.as_deref() != Some(self.base.as_str()))
                .take(FRONT_BRANCHES - shown.len()),
        );
        shown
    }

    /// The verdicts a scenario's front-page rows want. The branches other than the base
    /// share one baseline (the base branch's newest runs), read once and compared with each
    /// in parallel; the base branch's own newest run is compared with the runs before it.
    async fn verdicts(
        &self,
        scenario: &str,
        wanted: Vec<Wanted>,
    ) -> Vec<((usize, usize), VerdictCell)> {
        let against = Spec::Branch(self.base.clone());
        let first_run = || {
            VerdictCell::Alone(format!(
                "first run: no earlier run of {} to compare with",
                self.base
            ))
        };
        let mut out = Vec::new();
        let mut baselines: HashMap<usize, Shared> = HashMap::new();
        let mut jobs = tokio::task::JoinSet::new();
        for w in wanted {
            if w.base {
                let v = self.verdict(&w.id).await;
                self.keep(w.key, Kept::Verdict(v.clone()));
                out.push((w.slot, v));
                continue;
            }
            let run = match self.store.load(&w.id).await {
                Ok(r) => r,
                Err(e) => {
                    out.push((w.slot, VerdictCell::Alone(format!("not compared: {e}"))));
                    continue;
                }
            };
            if let Err(e) = crate::app::select::check_whole(&run, "") {
                out.push((w.slot, VerdictCell::Alone(format!("not compared: {e}"))));
                continue;
            }
            let gate = Gate::new(&GateArgs::default(), &run.compare);
            let shared = match baselines.get(&gate.history) {
                Some(b) => b.clone(),
                None => {
                    let mut resolver = Resolver::with_store(&self.url, self.store.clone());
                    let found =
                        match baseline_for(&mut resolver, &against, scenario, &gate, &[]).await {
                            Ok(b) => Ok(Arc::new(b)),
                            Err(SelectError::NoRuns(_)) => Err(first_run()),
                            Err(e) => Err(VerdictCell::Alone(format!("not compared: {e}"))),
                        };
                    baselines.insert(gate.history, found.clone());
                    found
                }
            };
            match shared {
                Err(v) => {
                    self.keep(w.key, Kept::Verdict(v.clone()));
                    out.push((w.slot, v));
                }
                Ok(baseline) => {
                    let against = against.to_string();
                    jobs.spawn_blocking(move || {
                        let thresholds: Vec<_> =
                            run.thresholds.iter().map(|t| t.threshold.clone()).collect();
                        let c = crate::compare::compare(
                            &baseline.0,
                            std::slice::from_ref(&run),
                            &gate.params,
                            &thresholds,
                            &run.run_id,
                        );
                        let v = VerdictCell::Compared {
                            against,
                            conclusion: conclusion(&c),
                            text: c.overall.summary.clone(),
                        };
                        (w, v)
                    });
                }
            }
        }
        while let Some(done) = jobs.join_next().await {
            // A comparison that panicked leaves its row saying so (its placeholder).
            if let Ok((w, v)) = done {
                self.keep(w.key, Kept::Verdict(v.clone()));
                out.push((w.slot, v));
            }
        }
        out
    }

    /// The verdict of a branch's newest run against the base branch.
    async fn verdict(&self, id: &str) -> VerdictCell {
        let run = match self.store.load(id).await {
            Ok(r) => r,
            Err(e) => return VerdictCell::Alone(format!("not compared: {e}")),
        };
        let mut resolver = Resolver::with_store(&self.url, self.store.clone());
        let gate = Gate::new(&GateArgs::default(), &run.compare);
        let against = Spec::Branch(self.base.clone());
        match compare_with(&mut resolver, &against, &[run], id, &gate).await {
            Ok((c, _)) => VerdictCell::Compared {
                against: against.to_string(),
                conclusion: conclusion(&c),
                text: c.overall.summary.clone(),
            },
            Err(SelectError::NoRuns(_)) => VerdictCell::Alone(format!(
                "first run: no earlier run of {} to compare with",
                self.base
            )),
            Err(e) => VerdictCell::Alone(format!("not compared: {e}")),
        }
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
        let settings = crate::app::commands::watch::settings_for(&loaded, None);
        let found = tokio::task::spawn_blocking(move || changes::change_points(&loaded, &settings))
            .await
            .map_err(|e| e.to_string());
        self.keep(key, Kept::Changes(found.clone()));
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
            crate::report::html_page(&input).map_err(|e| PageError::Failed(e.to_string()))?;
        let base = format!("branch:{}", self.base);
        let form = self.compare_form(Some(&scenario), &base, &id).await?;
        let links = format!(
            "<p style=\"margin:8px 24px;font-family:system-ui,sans-serif;font-size:14px\"><a href=\"{}\">compare this run with {}</a> · <a href=\"{}\">{} trends</a></p>",
            pages::compare_href(&base, &id, &scenario),
            crate::report::escape_xml(&base),
            pages::scenario_href(&scenario, None),
            crate::report::escape_xml(&scenario)
        );
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
                &format!(
                    "<h1>Compare</h1>{form}<p class=\"muted\">Pick a baseline and a candidate: a run id (or its first characters), <code>branch:NAME</code> (that branch's newest runs) or <code>latest</code>.</p>"
                ),
            ));
        }
        match self.comparison(scenario, baseline, candidate).await {
            Ok(report) => Ok(pages::framed(&report, &self.shown_url, &form)),
            // A comparison that cannot be made is said on the page, the picker kept to try again.
            Err(PageError::BadRequest(why)) => Ok(pages::page(
                "rehearse: compare",
                &self.shown_url,
                &format!(
                    "<h1>Compare</h1>{form}<p class=\"note\">{}</p>",
                    crate::report::escape_xml(&why)
                ),
            )),
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
        crate::report::html_page(&input).map_err(|e| PageError::Failed(e.to_string()))
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

/// A comparison's conclusion, as the reports' banners put it.
fn conclusion(c: &crate::model::Comparison) -> Conclusion {
    if !c.overall.passed {
        Conclusion::Failed
    } else if c.overall.inconclusive > 0 {
        Conclusion::Inconclusive
    } else {
        Conclusion::Passed
    }
}

/// A spec typed into the page: a branch, `latest` or a run id. Never a file: a page must not
/// make the server read a path it names.
fn spec(text: &str) -> Result<Spec, PageError> {
    if let Some(b) = text.strip_prefix("branch:")
        && !b.is_empty()
    {
        return Ok(Spec::Branch(b.to_string()));
    }
    if text == "latest" {
        return Ok(Spec::Latest);
    }
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Ok(Spec::Id(text.to_string()));
    }
    Err(PageError::BadRequest(format!(
        "`{text}` names no run: give a run id (or its first characters), branch:NAME or latest"
    )))
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

/// `a=1&b=x%20y` as pairs, `+` as a space (HTML forms), percent escapes decoded.
fn decode_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_pages() {
        assert_eq!(Page::parse("/", "").unwrap(), Page::Index);
        assert_eq!(
            Page::parse(
                "/scenario/pay%20invoice",
                "metric=p99&runs=30&branch=main&branch=feat%2Fx"
            )
            .unwrap(),
            Page::Scenario {
                name: "pay invoice".into(),
                metric: SummaryMetric::P99,
                runs: 30,
                branches: vec!["main".into(), "feat/x".into()],
            }
        );
        assert_eq!(
            Page::parse("/compare", "baseline=branch%3Amain&candidate=0190+").unwrap(),
            Page::Compare {
                scenario: None,
                baseline: "branch:main".into(),
                candidate: "0190".into(),
            }
        );
        assert!(matches!(
            Page::parse("/etc/passwd", ""),
            Err(PageError::NotFound(_))
        ));
        assert!(matches!(
            Page::parse("/scenario/x", "metric=p42"),
            Err(PageError::BadRequest(_))
        ));
        assert!(matches!(
            Page::parse("/scenario/x", "runs=100000"),
            Err(PageError::BadRequest(_))
        ));
    }

    #[test]
    fn a_page_never_names_a_file() {
        assert_eq!(spec("branch:main").unwrap(), Spec::Branch("main".into()));
        assert_eq!(spec("0190ab-cd").unwrap(), Spec::Id("0190ab-cd".into()));
        for bad in [
            "/etc/passwd",
            "../results.json",
            "results.json",
            "branch:",
            "",
        ] {
            assert!(spec(bad).is_err(), "{bad}");
        }
    }
}
