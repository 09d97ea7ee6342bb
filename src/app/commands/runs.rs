//! `rehearse runs …` and `rehearse history`: the stored runs. Commands that only read never
//! create a store; import validates every file before storing any.

use anyhow::anyhow;

use crate::app::args::{HistoryArgs, RunsCommand, StoreArgs};
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::app::select::{Spec, find_suite, read_for_import};
use crate::model::{GroupKind, RunResult, is_plain_file_name};
use crate::report::console::{fmt_us, format_value, summary};
use crate::store::{Access, Group, GroupPart, HistoryMetric, RunFilter, Store, Stored, Which};

/// Opens the store named by `--store` / `REHEARSE_STORE`.
async fn open(args: &StoreArgs, access: Access) -> Result<Store, AppError> {
    Store::open(&args.url(), access).await.invalid()
}

/// Runs a `runs` subcommand.
pub async fn runs(command: RunsCommand) -> AppResult {
    match command {
        RunsCommand::List {
            store,
            scenario,
            branch,
            limit,
            all,
            suites,
            suite,
            json,
        } => {
            let store = open(&store, Access::Read).await?;
            if suites {
                let listed = suite_runs(&store, branch.as_deref(), limit).await;
                store.close().await;
                return listed.map(|groups| {
                    if json {
                        console::json(&groups);
                    } else {
                        console::out(&suite_table(&groups));
                    }
                    Outcome::Passed
                });
            }
            let group = match &suite {
                Some(text) => {
                    let spec = match Spec::parse(&format!("suite:{text}")) {
                        Spec::Suite(s) => s,
                        _ => unreachable!("a suite: spec parses as a suite"),
                    };
                    match find_suite(&store, &spec, None).await {
                        Ok(g) => Some(g.id),
                        Err(e) => {
                            store.close().await;
                            return Err(AppError::invalid(anyhow!(e)));
                        }
                    }
                }
                None => None,
            };
            let runs = store
                .list(&RunFilter {
                    scenario,
                    branch,
                    limit,
                    offset: 0,
                    which: if all || group.is_some() {
                        Which::All
                    } else {
                        Which::Complete
                    },
                    group,
                })
                .await
                .invalid()?;
            store.close().await;
            if json {
                console::json(&runs);
                return Ok(Outcome::Passed);
            }
            if runs.is_empty() {
                console::note("no stored runs match");
                return Ok(Outcome::Passed);
            }
            let mut out = format!(
                "{:<36}  {:<20}  {:<24}  {:<12}  {:<9}  {:>7}  {:>7}  {:>9}  {:>9}\n",
                "id",
                "started (UTC)",
                "scenario",
                "branch",
                "commit",
                "iters",
                "errors",
                "p50",
                "p99"
            );
            for r in runs {
                let mut flags = Vec::new();
                if !r.complete {
                    flags.push("incomplete");
                }
                if r.failed {
                    flags.push("failed: no baseline");
                }
                if r.kind != "plain" {
                    flags.push(match r.kind.as_str() {
                        "ab" => "A/B round",
                        "superseded" => "superseded by a retried suite part",
                        "shard" => "one shard: no baseline",
                        _ => "demo",
                    });
                }
                let group = if r.kind == "shard" {
                    "sharded run"
                } else {
                    "suite"
                };
                let member = r.group.as_ref().map(|g| format!("{group} {}", cut(g, 13)));
                if let Some(m) = &member {
                    flags.push(m);
                }
                let flag = if flags.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", flags.join(", "))
                };
                let latency = |v: Option<i64>| match v {
                    Some(v) if v > 0 => fmt_us(v as u64),
                    _ => "-".into(),
                };
                out.push_str(&format!(
                    "{:<36}  {:<20}  {:<24}  {:<12}  {:<9}  {:>7}  {:>7}  {:>9}  {:>9}{flag}\n",
                    r.id,
                    when(r.started_ms),
                    cut(&r.scenario, 24),
                    cut(r.branch.as_deref().unwrap_or("-"), 12),
                    cut(r.commit.as_deref().unwrap_or("-"), 9),
                    r.iterations
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.errors
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    latency(r.p50),
                    latency(r.p99),
                ));
            }
            console::out(&out);
            Ok(Outcome::Passed)
        }
        RunsCommand::Show { store, id } => {
            let store = open(&store, Access::Read).await?;
            let run = load(&store, &id).await?;
            store.close().await;
            let git = run.git.clone().unwrap_or_default();
            console::out(&format!(
                "run {}  started {}  branch {}  commit {}\n",
                run.run_id,
                run.started_at.as_deref().unwrap_or("?"),
                git.branch.as_deref().unwrap_or("-"),
                git.commit.as_deref().unwrap_or("-")
            ));
            if let Some(g) = &run.group {
                console::out(&format!(
                    "{} run {} (part {} of {})\n",
                    g.kind.name(),
                    g.id,
                    g.part,
                    g.parts
                ));
            }
            if let Some(why) = run.not_a_baseline() {
                console::out(&format!("not a baseline: {why}\n"));
            }
            console::out(&summary(&run));
            if let Some(line) = crate::report::console::health(&run, true)
                .filter(|_| !run.health.as_ref().is_some_and(|h| h.harness_limited))
            {
                console::out(&format!("{line}\n"));
            }
            Ok(Outcome::Passed)
        }
        RunsCommand::Import { store, files } => {
            // Every file is read and checked first: one bad file stores nothing.
            let mut read = Vec::new();
            for file in &files {
                read.push(read_for_import(file).invalid()?);
            }
            let store = open(&store, Access::Create).await?;
            for (file, (run, log)) in files.iter().zip(read) {
                let what = match store.insert(&run, log).await.invalid()? {
                    Stored::Inserted => "stored",
                    Stored::AlreadyStored => "already stored:",
                };
                console::out(&format!(
                    "{what} {} ({}) from {}\n",
                    run.run_id,
                    run.scenario,
                    file.display()
                ));
            }
            store.close().await;
            Ok(Outcome::Passed)
        }
        RunsCommand::Export { store, id, out } => {
            let store = open(&store, Access::Read).await?;
            let run = load(&store, &id).await?;
            match out {
                None => console::json(&run),
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| anyhow!("cannot create '{}': {e}", dir.display()))
                        .invalid()?;
                    run.write(&dir.join("results.json")).invalid()?;
                    let log = store.interval_log(&run.run_id).await.invalid()?;
                    if let (Some(log), Some(iv)) = (log, &run.intervals) {
                        // Checked when the run was read; a file name from data never leaves DIR.
                        if !is_plain_file_name(&iv.file) {
                            return Err(AppError::invalid(anyhow!(
                                "run {}: its interval log name `{}` is not a plain file name",
                                run.run_id,
                                iv.file.escape_debug()
                            )));
                        }
                        std::fs::write(dir.join(&iv.file), log).invalid()?;
                    }
                    console::note(&format!("exported {} to {}", run.run_id, dir.display()));
                }
            }
            store.close().await;
            Ok(Outcome::Passed)
        }
        RunsCommand::Delete { store, ids } => {
            let store = open(&store, Access::Write).await?;
            // Every id is resolved first: a typo deletes nothing.
            let mut full = Vec::new();
            for id in &ids {
                full.push(store.resolve(id).await.invalid()?);
            }
            for id in full {
                store.delete(&id).await.invalid()?;
                console::out(&format!("deleted {id}\n"));
            }
            store.close().await;
            Ok(Outcome::Passed)
        }
        RunsCommand::Prune {
            store,
            keep,
            scenario,
            branch,
        } => {
            let store = open(&store, Access::Write).await?;
            let n = store
                .prune(keep, scenario.as_deref(), branch.as_deref())
                .await
                .invalid()?;
            store.close().await;
            console::out(&format!(
                "deleted {n} runs, kept the newest {keep} of each scenario and branch\n"
            ));
            Ok(Outcome::Passed)
        }
    }
}

/// A suite run as `runs list --suites` shows it.
#[derive(Debug, serde::Serialize)]
struct SuiteRun {
    #[serde(flatten)]
    group: Group,
    /// Each part that registered.
    part_states: Vec<GroupPart>,
    /// Runs stored under it.
    runs: usize,
}

async fn suite_runs(
    store: &Store,
    branch: Option<&str>,
    limit: i64,
) -> Result<Vec<SuiteRun>, AppError> {
    let mut out = Vec::new();
    for group in store
        .groups(GroupKind::Suite.name(), limit)
        .await
        .invalid()?
        .into_iter()
        .filter(|g| branch.is_none() || g.branch.as_deref() == branch)
    {
        let part_states = store.parts(&group.id).await.invalid()?;
        let runs = store.group_runs(&group.id).await.invalid()?.len();
        out.push(SuiteRun {
            group,
            part_states,
            runs,
        });
    }
    Ok(out)
}

fn suite_table(groups: &[SuiteRun]) -> String {
    if groups.is_empty() {
        return "no suite runs stored\n".into();
    }
    let mut out = format!(
        "{:<36}  {:<20}  {:<20}  {:<12}  {:<9}  {:>5}  parts\n",
        "suite run", "created (UTC)", "suite", "branch", "commit", "runs"
    );
    for g in groups {
        let done = g.part_states.iter().filter(|p| p.state == "done").count();
        let mut state = format!("{done}/{} done", g.group.parts);
        for p in &g.part_states {
            if p.state != "done" {
                state.push_str(&format!(", part {} {}", p.part, p.state));
            }
        }
        let absent = (1..=g.group.parts)
            .filter(|n| !g.part_states.iter().any(|p| p.part == *n))
            .map(|n| n.to_string())
            .collect::<Vec<_>>();
        if !absent.is_empty() {
            state.push_str(&format!(", never ran: {}", absent.join(", ")));
        }
        out.push_str(&format!(
            "{:<36}  {:<20}  {:<20}  {:<12}  {:<9}  {:>5}  {state}\n",
            cut(&g.group.id, 36),
            when(g.group.created_ms),
            cut(&g.group.name, 20),
            cut(g.group.branch.as_deref().unwrap_or("-"), 12),
            cut(g.group.commit.as_deref().unwrap_or("-"), 9),
            g.runs,
        ));
    }
    out
}

async fn load(store: &Store, id: &str) -> Result<RunResult, AppError> {
    let id = store.resolve(id).await.invalid()?;
    store.load(&id).await.invalid()
}

/// `rehearse history`.
pub async fn history(args: HistoryArgs) -> AppResult {
    if args.changes {
        return super::watch::history_changes(args).await;
    }
    let step = args
        .step
        .clone()
        .expect("clap requires --step without --changes");
    let store = open(&args.store, Access::Read).await?;
    let points = store
        .history(
            &args.scenario,
            &step,
            args.metric,
            args.branch.as_deref(),
            args.limit,
        )
        .await
        .invalid()?;
    store.close().await;
    if args.json {
        console::json(&points);
        return Ok(Outcome::Passed);
    }
    if points.is_empty() {
        console::note(&format!(
            "no complete runs of `{}` with a step `{}`{}",
            args.scenario,
            step,
            args.branch
                .as_ref()
                .map(|b| format!(" on branch `{b}`"))
                .unwrap_or_default()
        ));
        return Ok(Outcome::Passed);
    }
    let mut out = format!(
        "{:<36}  {:<20}  {:<12}  {:<9}  {:>10}\n",
        "id",
        "started (UTC)",
        "branch",
        "commit",
        args.metric.name()
    );
    for p in points {
        let value = match args.metric {
            HistoryMetric::Summary(m) => format_value(m, p.value),
            HistoryMetric::Count => format!("{:.0}", p.value),
        };
        out.push_str(&format!(
            "{:<36}  {:<20}  {:<12}  {:<9}  {:>10}\n",
            p.run_id,
            when(p.started_ms),
            cut(p.branch.as_deref().unwrap_or("-"), 12),
            cut(p.commit.as_deref().unwrap_or("-"), 9),
            value
        ));
    }
    console::out(&out);
    Ok(Outcome::Passed)
}

/// "2026-11-29 01:02:03" from epoch milliseconds.
fn when(ms: i64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64),
    )
    .to_string()
    .replace('T', " ")
    .trim_end_matches('Z')
    .to_string()
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
