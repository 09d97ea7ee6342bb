//! `rehearse watch` (and `rehearse history --changes`): change points over a branch's stored
//! history, per scenario, step and metric. `watch` remembers what it announced in the store,
//! so each change is announced once, exits 1 on a new one for the worse, and writes a
//! ticket-ready report folder naming the commit range to bisect.

use anyhow::anyhow;

use crate::app::args::{HistoryArgs, WatchArgs};
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::compare::changes::{self, Settings};
use crate::model::{RunRef, RunResult, WatchReport, WatchedChange, WatchedScenario};
use crate::stats::Metric;
use crate::store::{Access, RunFilter, Store, Which};

/// How far (in runs) a change may have moved since it was announced and still be the same
/// change: its location is uncertain by a few runs, more so while it is young.
const SAME_CHANGE_RUNS: usize = 3;

/// Runs the command.
pub async fn watch(args: WatchArgs) -> AppResult {
    let store = Store::open(&args.store.url(), Access::Write)
        .await
        .invalid()?;
    let scenarios = if args.scenarios.is_empty() {
        scenarios_of(&store, &args.branch).await?
    } else {
        named(&args.scenarios)?
    };
    if scenarios.is_empty() {
        console::note(&format!(
            "no runs of branch `{}` in the store: nothing to watch",
            args.branch
        ));
    }
    let mut report = WatchReport {
        branch: args.branch.clone(),
        scenarios: Vec::new(),
    };
    for scenario in &scenarios {
        let runs = branch_runs(&store, scenario, &args.branch, args.runs).await?;
        let settings = Settings::for_runs(&runs, args.alpha);
        let found = changes::change_points(&runs, &settings);
        let announced = store.announced(scenario, &args.branch).await.run_failed()?;
        let mut watched = Vec::new();
        for change in found {
            let known = announced.iter().any(|a| {
                a.step == change.step
                    && a.metric == change.metric
                    && a.worse == change.worse
                    && runs
                        .iter()
                        .position(|r| r.run_id == a.run_id)
                        .is_some_and(|i| i.abs_diff(change.index) <= SAME_CHANGE_RUNS)
            });
            if !known {
                store.announce(&args.branch, &change).await.run_failed()?;
            }
            let metric = Metric::from_name(&change.metric).expect("a change names its metric");
            let series = changes::values(&runs, &change.step, metric);
            watched.push(WatchedChange {
                change,
                new: !known,
                series,
            });
        }
        report.scenarios.push(WatchedScenario {
            scenario: scenario.clone(),
            runs: runs.iter().map(run_ref).collect(),
            changes: watched,
        });
    }
    store.close().await;

    if args.json {
        console::json(&report);
    } else {
        console::out(&crate::report::watch::console(&report, true));
    }
    if let Some(dir) = &args.publish.report {
        let written = crate::report::watch::write(&report, dir, args.publish.link.as_deref())
            .map_err(|e| AppError::run_failed(anyhow!(e).context("writing the watch report")))?;
        if !args.json {
            console::out(&format!(
                "report: {}\n",
                written
                    .first()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            ));
        }
    }
    if report.new_changes().any(|c| c.change.worse) {
        Ok(Outcome::Failed)
    } else {
        Ok(Outcome::Passed)
    }
}

/// `rehearse history SCENARIO --changes`: every change point of the branch's runs.
pub async fn history_changes(args: HistoryArgs) -> AppResult {
    let store = Store::open(&args.store.url(), Access::Read)
        .await
        .invalid()?;
    let branch = args.branch.clone().unwrap_or_else(|| "main".into());
    let runs = branch_runs(&store, &args.scenario, &branch, args.limit).await?;
    store.close().await;
    let found = changes::change_points(&runs, &Settings::for_runs(&runs, None));
    if args.json {
        console::json(&found);
        return Ok(Outcome::Passed);
    }
    let report = WatchReport {
        branch,
        scenarios: vec![WatchedScenario {
            scenario: args.scenario.clone(),
            runs: runs.iter().map(run_ref).collect(),
            changes: found
                .into_iter()
                .map(|change| WatchedChange {
                    change,
                    new: false,
                    series: Vec::new(),
                })
                .collect(),
        }],
    };
    console::out(&crate::report::watch::console(&report, false));
    Ok(Outcome::Passed)
}

/// The scenarios named: names as stored, or files and folders (a scenario file, a suite
/// folder or a suite file), read for their scenarios' names.
fn named(args: &[String]) -> Result<Vec<String>, AppError> {
    let mut names = Vec::new();
    for a in args {
        let path = std::path::Path::new(a);
        if !path.exists() {
            names.push(a.clone());
            continue;
        }
        let overrides = crate::scenario::Overrides::default();
        match crate::scenario::suite::load(&[path.to_path_buf()], &overrides)? {
            crate::scenario::suite::Target::Scenario(file) => {
                names.push(crate::scenario::load(&file, &overrides)?.name);
            }
            crate::scenario::suite::Target::Suite(suite) => {
                names.extend(suite.members.iter().map(|m| m.plan.name.clone()));
            }
            crate::scenario::suite::Target::Mix(mix) => names.push(mix.name),
        }
    }
    let mut once: Vec<String> = Vec::new();
    for n in names {
        if !once.contains(&n) {
            once.push(n);
        }
    }
    Ok(once)
}

/// Every scenario with runs that can stand for the branch.
async fn scenarios_of(store: &Store, branch: &str) -> Result<Vec<String>, AppError> {
    let runs = store
        .list(&RunFilter {
            scenario: None,
            branch: Some(branch.to_string()),
            limit: 100_000,
            offset: 0,
            which: Which::Baselines,
            group: None,
        })
        .await
        .invalid()?;
    let mut names: Vec<String> = runs.into_iter().map(|r| r.scenario).collect();
    names.sort();
    let mut once: Vec<String> = Vec::new();
    for n in names {
        if !once.contains(&n) {
            once.push(n);
        }
    }
    Ok(once)
}

/// The newest `limit` runs of a scenario that stand for the branch, oldest first.
async fn branch_runs(
    store: &Store,
    scenario: &str,
    branch: &str,
    limit: i64,
) -> Result<Vec<RunResult>, AppError> {
    let summaries = store
        .list(&RunFilter {
            scenario: Some(scenario.to_string()),
            branch: Some(branch.to_string()),
            limit,
            offset: 0,
            which: Which::Baselines,
            group: None,
        })
        .await
        .invalid()?;
    let mut runs = Vec::with_capacity(summaries.len());
    for s in summaries.iter().rev() {
        runs.push(store.load(&s.id).await.invalid()?);
    }
    Ok(runs)
}

fn run_ref(r: &RunResult) -> RunRef {
    RunRef {
        run_id: r.run_id.clone(),
        commit: r.git.as_ref().and_then(|g| g.commit.clone()),
        started_at: r.started_at.clone(),
    }
}
