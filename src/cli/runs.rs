//! `rehearse runs …` and `rehearse history`: the stored runs.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{HistoryArgs, Outcome, RunsCommand, StoreArgs};
use crate::model::RunResult;
use crate::report::console::{fmt_us, format_value, summary};
use crate::store::{HistoryMetric, RunFilter, Store, Stored, redact};

/// Opens the store named by `--store` / `REHEARSE_STORE`.
pub async fn open(args: &StoreArgs) -> anyhow::Result<Store> {
    Store::open(&args.store)
        .await
        .with_context(|| format!("store {}", redact(&args.store)))
}

/// Runs a `runs` subcommand.
pub async fn runs(command: RunsCommand) -> anyhow::Result<Outcome> {
    match command {
        RunsCommand::List {
            store,
            scenario,
            branch,
            limit,
            all,
            json,
        } => {
            let store = open(&store).await?;
            let runs = store
                .list(&RunFilter {
                    scenario,
                    branch,
                    limit,
                    offset: 0,
                    include_incomplete: all,
                })
                .await?;
            if json {
                super::print_out(&(serde_json::to_string_pretty(&runs)? + "\n"));
                return Ok(Outcome::Success);
            }
            if runs.is_empty() {
                eprintln!("no stored runs match");
                return Ok(Outcome::Success);
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
                let when: String = humantime::format_rfc3339_seconds(
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(r.started_ms as u64),
                )
                .to_string()
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string();
                let flag = if r.complete { "" } else { " (incomplete)" };
                out.push_str(&format!(
                    "{:<36}  {:<20}  {:<24}  {:<12}  {:<9}  {:>7}  {:>7}  {:>9}  {:>9}{flag}\n",
                    r.id,
                    when,
                    cut(&r.scenario, 24),
                    cut(r.branch.as_deref().unwrap_or("-"), 12),
                    cut(r.commit.as_deref().unwrap_or("-"), 9),
                    r.iterations
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.errors
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "-".into()),
                    r.p50
                        .map(|v| fmt_us(v as u64))
                        .unwrap_or_else(|| "-".into()),
                    r.p99
                        .map(|v| fmt_us(v as u64))
                        .unwrap_or_else(|| "-".into()),
                ));
            }
            super::print_out(&out);
            Ok(Outcome::Success)
        }
        RunsCommand::Show { store, id } => {
            let store = open(&store).await?;
            let id = store.resolve(&id).await?;
            let run = store.load(&id).await?;
            let git = run.git.clone().unwrap_or_default();
            super::print_out(&format!(
                "run {}  started {}  branch {}  commit {}\n",
                run.run_id,
                run.started_at.as_deref().unwrap_or("?"),
                git.branch.as_deref().unwrap_or("-"),
                git.commit.as_deref().unwrap_or("-")
            ));
            super::print_out(&summary(&run));
            Ok(Outcome::Success)
        }
        RunsCommand::Import { store, files } => {
            let store = open(&store).await?;
            for file in &files {
                let (run, log) = read_for_import(file)?;
                match store.insert(&run, log).await? {
                    Stored::Inserted => super::print_out(&format!(
                        "stored {} ({}) from {}\n",
                        run.run_id,
                        run.scenario,
                        file.display()
                    )),
                    Stored::AlreadyStored => super::print_out(&format!(
                        "already stored: {} ({}) from {}\n",
                        run.run_id,
                        run.scenario,
                        file.display()
                    )),
                }
            }
            Ok(Outcome::Success)
        }
        RunsCommand::Export { store, id, out } => {
            let store = open(&store).await?;
            let id = store.resolve(&id).await?;
            let run = store.load(&id).await?;
            match out {
                None => super::print_out(&(serde_json::to_string_pretty(&run)? + "\n")),
                Some(dir) => {
                    std::fs::create_dir_all(&dir)
                        .with_context(|| format!("cannot create '{}'", dir.display()))?;
                    run.write(&dir.join("results.json"))?;
                    if let (Some(log), Some(iv)) = (store.interval_log(&id).await?, &run.intervals)
                    {
                        std::fs::write(dir.join(&iv.file), log)?;
                    }
                    eprintln!("exported {id} to {}", dir.display());
                }
            }
            Ok(Outcome::Success)
        }
        RunsCommand::Delete { store, ids } => {
            let store = open(&store).await?;
            for id in ids {
                let id = store.resolve(&id).await?;
                store.delete(&id).await?;
                super::print_out(&format!("deleted {id}\n"));
            }
            Ok(Outcome::Success)
        }
        RunsCommand::Prune {
            store,
            keep,
            scenario,
            branch,
        } => {
            let store = open(&store).await?;
            let n = store
                .prune(keep, scenario.as_deref(), branch.as_deref())
                .await?;
            super::print_out(&format!(
                "deleted {n} runs, kept the newest {keep} of each scenario and branch\n"
            ));
            Ok(Outcome::Success)
        }
    }
}

/// Reads a results file for import, with the interval log beside it when there is one.
/// A foreign file without an id gets one, so it can be stored and referred to.
pub fn read_for_import(file: &Path) -> anyhow::Result<(RunResult, Option<Vec<u8>>)> {
    let mut run = RunResult::read(file)?;
    if run.run_id.is_empty() {
        run.run_id = uuid::Uuid::now_v7().to_string();
    }
    let log = run
        .intervals
        .as_ref()
        .map(|iv| file.parent().unwrap_or(Path::new(".")).join(&iv.file))
        .filter(|p: &PathBuf| p.is_file())
        .map(std::fs::read)
        .transpose()?;
    Ok((run, log))
}

/// `rehearse history`.
pub async fn history(args: HistoryArgs) -> anyhow::Result<Outcome> {
    let store = open(&args.store).await?;
    let points = store
        .history(
            &args.scenario,
            &args.step,
            args.metric,
            args.branch.as_deref(),
            args.limit,
        )
        .await?;
    if args.json {
        super::print_out(&(serde_json::to_string_pretty(&points)? + "\n"));
        return Ok(Outcome::Success);
    }
    if points.is_empty() {
        eprintln!(
            "no complete runs of `{}` with a step `{}`{}",
            args.scenario,
            args.step,
            args.branch
                .as_ref()
                .map(|b| format!(" on branch `{b}`"))
                .unwrap_or_default()
        );
        return Ok(Outcome::Success);
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
        let when: String = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(p.started_ms as u64),
        )
        .to_string()
        .replace('T', " ")
        .trim_end_matches('Z')
        .to_string();
        let value = match args.metric {
            HistoryMetric::Summary(m) => format_value(m, p.value),
            HistoryMetric::Count => format!("{:.0}", p.value),
        };
        out.push_str(&format!(
            "{:<36}  {:<20}  {:<12}  {:<9}  {:>10}\n",
            p.run_id,
            when,
            cut(p.branch.as_deref().unwrap_or("-"), 12),
            cut(p.commit.as_deref().unwrap_or("-"), 9),
            value
        ));
    }
    super::print_out(&out);
    Ok(Outcome::Success)
}

fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
