//! `rehearse merge GROUP`: the shards of a sharded run become one ordinary run (histograms
//! added, counters summed, intervals aligned on the common start), stored under the group's
//! id, then compared, thresholded and reported like any run. The last shard to finish does
//! the same merge by itself; this command is for the verdict job, and for a group a shard
//! never finished.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::anyhow;

use super::run::{Conclusion, conclude};
use crate::app::args::MergeArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _};
use crate::app::pipeline::{self, INTERVAL_LOG};
use crate::app::select::{Resolver, Spec};
use crate::app::settings::{Gate, Publish};
use crate::model::{GroupKind, RunResult};
use crate::record::merge::{self as merging, Expected, Shard};
use crate::report::console as text;
use crate::store::{Access, Group, Store};

/// Runs the command.
pub async fn merge(args: MergeArgs) -> AppResult {
    let url = args.store.url();
    let store = Store::open(&url, Access::Write).await.invalid()?;
    let group = store.group(&args.group).await.invalid()?.ok_or_else(|| {
        AppError::invalid(anyhow!(
            "no sharded run `{}` in the store {}",
            args.group,
            crate::store::redact(&url)
        ))
    })?;
    if group.kind != GroupKind::Sharded.name() {
        return Err(AppError::invalid(anyhow!(
            "`{}` is a {} run, not a sharded one: judge a suite with `rehearse compare BASELINE suite:{}`",
            group.id,
            group.kind,
            group.id
        )));
    }
    let baseline = args.baseline.as_deref().map(Spec::parse);
    if let Some(wait) = args.wait {
        wait_for_shards(&store, &group, wait).await?;
    }
    let (merged, log) = merge_group(&store, &group).await?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| crate::app::settings::default_out_dir(&merged.scenario));
    let path = keep(&store, &merged, &log, &out_dir, true)
        .await
        .run_failed()?;
    console::out(&text::summary(&merged));
    console::out(&format!("results: {}\n", path.display()));
    let mut resolver = Resolver::with_store(&url, store.clone());
    let failure = pipeline::run_failure(&merged);
    let outcome = conclude(
        &mut resolver,
        Conclusion {
            baseline,
            repeat: 1,
            gate: Gate::new(&args.gate, &merged.compare),
            publish: Publish::from(&args.publish),
            out_dir,
        },
        vec![merged],
        vec![Some(
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )],
        failure,
    )
    .await;
    resolver.close().await;
    outcome
}

/// Waits until no shard is still running, or `wait` has passed.
async fn wait_for_shards(store: &Store, group: &Group, wait: Duration) -> Result<(), AppError> {
    let deadline = Instant::now() + wait;
    let mut told = false;
    loop {
        let parts = store.parts(&group.id).await.invalid()?;
        let running = (1..=group.parts)
            .filter(|p| {
                parts
                    .iter()
                    .find(|x| x.part == *p)
                    .is_none_or(|x| x.state == "running")
            })
            .count();
        if running == 0 || Instant::now() >= deadline {
            return Ok(());
        }
        if !told {
            console::note(&format!(
                "{running} of {} shards still running; waiting up to {}",
                group.parts,
                humantime::format_duration(wait)
            ));
            told = true;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Reads every shard a group holds and merges them, with their interval logs.
pub async fn merge_group(store: &Store, group: &Group) -> Result<(RunResult, Vec<u8>), AppError> {
    let parts = store.parts(&group.id).await.run_failed()?;
    let mut shards = Vec::new();
    let mut logs = Vec::new();
    for id in store.group_runs(&group.id).await.run_failed()? {
        let run = store.load(&id).await.run_failed()?;
        let Some(part) = run.group.as_ref().map(|g| g.part) else {
            continue;
        };
        if let Some(log) = store.interval_log(&id).await.run_failed()? {
            logs.push(log);
        }
        shards.push(Shard { part, run });
    }
    // A shard whose run is stored incomplete says why itself; one that failed without a run
    // (or with a run that failed as a run) is named with what it reported.
    let failed = parts
        .iter()
        .filter(|p| p.state == "failed")
        .filter(|p| {
            shards
                .iter()
                .find(|s| i64::from(s.part) == p.part)
                .is_none_or(|s| s.run.complete)
        })
        .map(|p| {
            (
                p.part as u32,
                p.detail.clone().unwrap_or_else(|| "failed".into()),
            )
        })
        .collect();
    let expected = Expected {
        group_id: group.id.clone(),
        parts: group.parts as u32,
        start_ms: group.start_at_ms,
        failed,
    };
    let merged = merging::merge(&expected, &shards).map_err(AppError::run_failed)?;
    let start = merged
        .started_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
        .unwrap_or_else(std::time::SystemTime::now);
    let log = merging::interval_logs(&logs, start)
        .map_err(|e| AppError::run_failed(anyhow!("merging the shards' interval logs: {e}")))?;
    Ok((merged, log))
}

/// Writes the merged run's results.json and interval log into `dir` and stores it under the
/// group's id; `replace` swaps out an earlier merge of the same group (shards may have
/// finished since).
pub async fn keep(
    store: &Store,
    merged: &RunResult,
    log: &[u8],
    dir: &Path,
    replace: bool,
) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow!(
            "cannot create the output directory '{}': {e}",
            dir.display()
        )
    })?;
    std::fs::write(dir.join(INTERVAL_LOG), log)
        .map_err(|e| anyhow!("cannot write {}: {e}", dir.join(INTERVAL_LOG).display()))?;
    let path = dir.join("results.json");
    merged.write(&path)?;
    if replace {
        store.delete(&merged.run_id).await?;
    }
    store.insert(merged, Some(log.to_vec())).await?;
    Ok(path)
}
