//! One shard of a sharded run (`rehearse run --shards N --shard-index I --group ID`): it
//! registers in the group, waits at the start barrier until every shard has registered,
//! sends its share of the load from the common start taken from the store's clock, stores
//! its run, and (the last shard to finish) merges the group into one run.

use std::time::{Duration, Instant};

use anyhow::anyhow;

use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::app::pipeline::{self, Placement};
use crate::app::settings::{RunSettings, Sharding};
use crate::app::signals::Signals;
use crate::model::{GroupKind, GroupRef};
use crate::report::console as text;
use crate::runner::StopRequest;
use crate::store::{Group, PartState, Store};

/// How far ahead of the moment the last shard registers the load starts: every shard polls
/// the store several times in it, so all of them are waiting when it comes.
const LEAD: Duration = Duration::from_secs(2);

/// How often a waiting shard looks at the group.
const POLL: Duration = Duration::from_millis(200);

/// Runs this process's shard.
pub async fn run(settings: RunSettings, sharding: Sharding) -> AppResult {
    let url = settings
        .store
        .clone()
        .expect("a sharded run has a store: checked with its flags");
    let store = pipeline::open_for_runs(Some(&url))
        .await?
        .expect("a store URL opens a store");
    let Sharding {
        group: id,
        shard,
        barrier_timeout,
    } = sharding;
    let part = i64::from(shard.index) + 1;
    let git = settings.provenance.git.clone().unwrap_or_default();
    // Shards that disagree on the load they split would merge into a run nobody asked for.
    let document =
        serde_json::json!({ "load": crate::runner::load_settings(&settings.plan) }).to_string();
    let group = store
        .join_group(&Group {
            id: id.clone(),
            kind: GroupKind::Sharded.name().into(),
            name: settings.plan.name.clone(),
            branch: git.branch,
            commit: git.commit,
            parts: i64::from(shard.count),
            created_ms: store.clock_ms().await.invalid()?,
            start_at_ms: None,
            document,
        })
        .await
        .invalid()?;
    refuse_late_or_twice(&store, &group, part).await?;
    let host = settings
        .provenance
        .host
        .as_ref()
        .map(|h| h.hostname.clone())
        .unwrap_or_default();
    store.start_part(&id, part, &host).await.invalid()?;
    console::note(&format!(
        "sharded run `{id}`: shard index {} of {}, waiting for every shard to register (up to {})",
        shard.index,
        shard.count,
        humantime::format_duration(barrier_timeout)
    ));
    // A signal while waiting takes this shard out of the group, so the others stop waiting
    // for it and nobody sends load.
    let (signals, mut stop) = Signals::listen();
    let start_at = tokio::select! {
        at = barrier(&store, &id, part, shard.count, barrier_timeout) => at?,
        _ = stop.changed() => {
            let why = match *stop.borrow() {
                StopRequest::Graceful(name) | StopRequest::Immediate(name) => name,
                StopRequest::None => "a signal",
            };
            let _ = store
                .give_up_part(&id, part, &format!("stopped by {why} before the start"))
                .await;
            return Err(AppError::Interrupted(format!(
                "stopped by {why} at the start barrier: shard index {} left the sharded run `{id}`; no load was sent",
                shard.index
            )));
        }
    };
    drop(signals);

    let mut provenance = settings.provenance.clone();
    provenance.group = Some(GroupRef {
        id: id.clone(),
        kind: GroupKind::Sharded,
        part: part as u32,
        parts: shard.count,
    });
    let place = Placement {
        out_dir: settings.out_dir.clone(),
        provenance,
        seed: settings.seed,
        progress: settings.progress,
        shard,
        start_at: Some(start_at),
    };
    let executed = pipeline::execute(&settings.plan, &place, Some((&store, &url))).await;
    let (result, path) = match executed {
        Ok(done) => done,
        Err(e) => {
            // Best effort: the merge names this shard as failed instead of missing.
            let _ = store
                .finish_part(&id, part, PartState::Failed, Some(&e.to_string()))
                .await;
            return Err(e);
        }
    };
    console::out(&text::summary(&result));
    console::out(&format!("results: {}\n", path.display()));
    let failure = pipeline::run_failure(&result);
    let (state, detail) = match (&failure, result.failure()) {
        (Some(f), _) => (PartState::Failed, Some(f.to_string())),
        (None, Some(why)) => (PartState::Failed, Some(why)),
        (None, None) => (PartState::Done, None),
    };
    store
        .finish_part(&id, part, state, detail.as_deref())
        .await
        .run_failed()?;

    // The last shard to finish merges; if two finish together, both merge the same shards
    // and the store keeps one.
    let parts = store.parts(&id).await.run_failed()?;
    let running: Vec<String> = (1..=i64::from(shard.count))
        .filter(|p| {
            parts
                .iter()
                .find(|x| x.part == *p)
                .is_none_or(|x| x.state == "running")
        })
        .map(|p| (p - 1).to_string())
        .collect();
    if running.is_empty() {
        match super::merge::merge_group(&store, &group).await {
            Ok((merged, log)) => {
                let dir = settings.out_dir.join("merged");
                let stored = super::merge::keep(&store, &merged, &log, &dir, false).await;
                match stored {
                    Ok(path) => {
                        console::out(&format!("\n{}", text::summary(&merged)));
                        console::out(&format!(
                            "merged run `{}`: {}\n  judge it with: rehearse merge {} --baseline branch:NAME (or rehearse compare BASELINE {})\n",
                            merged.run_id,
                            path.display(),
                            merged.run_id,
                            merged.run_id
                        ));
                    }
                    Err(e) => console::warn(&format!(
                        "the shards could not be merged: {e}; merge them with `rehearse merge {id}`"
                    )),
                }
            }
            Err(e) => console::warn(&format!(
                "the shards could not be merged: {e}; merge them with `rehearse merge {id}`"
            )),
        }
    } else {
        console::note(&format!(
            "shard index {} still running: the last shard to finish merges the run, or `rehearse merge {id}` does",
            running.join(", ")
        ));
    }
    match failure {
        Some(f) => Err(f),
        None => Ok(Outcome::Passed),
    }
}

/// A shard that comes after the start would send its share late, and a second shard with
/// the same index (a retried pod) would send it twice: both are refused before any load.
async fn refuse_late_or_twice(store: &Store, group: &Group, part: i64) -> Result<(), AppError> {
    if let Some(t0) = group.start_at_ms {
        let now = store.clock_ms().await.invalid()?;
        if t0 <= now {
            return Err(AppError::run_failed(anyhow!(
                "the sharded run `{}` started {} ago without shard index {}: a shard cannot join late (a retried shard would send its share twice); nothing was sent, start a new group",
                group.id,
                humantime::format_duration(Duration::from_secs(((now - t0) / 1000).max(0) as u64)),
                part - 1
            )));
        }
    }
    let parts = store.parts(&group.id).await.invalid()?;
    if let Some(p) = parts.iter().find(|p| p.part == part) {
        return Err(AppError::run_failed(anyhow!(
            "shard index {} of `{}` has already registered ({}, from {}): give every shard its own --shard-index and every sharded run its own --group; nothing was sent",
            part - 1,
            group.id,
            p.state,
            p.host.as_deref().unwrap_or("an unknown host")
        )));
    }
    Ok(())
}

/// Waits until every shard has registered, then returns the common start as an instant of
/// this machine's clock. A shard that gives up (or one that never came) ends the wait for
/// all: no load is sent by anyone (exit 3, naming the shards).
async fn barrier(
    store: &Store,
    id: &str,
    part: i64,
    count: u32,
    timeout: Duration,
) -> Result<Instant, AppError> {
    let deadline = Instant::now() + timeout;
    loop {
        let group = store
            .group(id)
            .await
            .run_failed()?
            .ok_or_else(|| AppError::run_failed(anyhow!("the group `{id}` disappeared")))?;
        if let Some(t0) = group.start_at_ms {
            return local_instant(store, t0).await;
        }
        let parts = store.parts(id).await.run_failed()?;
        let gone: Vec<String> = parts
            .iter()
            .filter(|p| p.state != "running")
            .map(|p| {
                format!(
                    "shard index {} {}",
                    p.part - 1,
                    p.detail.as_deref().unwrap_or("left")
                )
            })
            .collect();
        if !gone.is_empty() {
            let _ = store
                .give_up_part(id, part, "another shard left before the start")
                .await;
            return Err(AppError::run_failed(anyhow!(
                "the sharded run `{id}` cannot start: {}; no load was sent",
                gone.join("; ")
            )));
        }
        if parts.len() >= count as usize {
            let now = store.clock_ms().await.run_failed()?;
            let t0 = store
                .set_start(id, now + LEAD.as_millis() as i64)
                .await
                .run_failed()?;
            return local_instant(store, t0).await;
        }
        if Instant::now() >= deadline {
            let missing: Vec<String> = (1..=i64::from(count))
                .filter(|p| !parts.iter().any(|x| x.part == *p))
                .map(|p| (p - 1).to_string())
                .collect();
            let waited = humantime::format_duration(timeout).to_string();
            let why = format!(
                "shard index {} of {count} did not register within {waited}",
                missing.join(", ")
            );
            // Another shard may have set the start a moment ago; then this one still runs.
            if store.give_up_part(id, part, &why).await.run_failed()? {
                return Err(AppError::run_failed(anyhow!(
                    "the sharded run `{id}` cannot start: {why}; no load was sent"
                )));
            }
            continue;
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The store-clock time `t0_ms` as an instant of this machine: the store's clock is read a
/// few times and the reading with the shortest round trip is taken to be its midpoint.
async fn local_instant(store: &Store, t0_ms: i64) -> Result<Instant, AppError> {
    let mut best: Option<(Duration, Instant, i64)> = None;
    for _ in 0..3 {
        let sent = Instant::now();
        let now = store.clock_ms().await.run_failed()?;
        let trip = sent.elapsed();
        if best.is_none_or(|(t, _, _)| trip < t) {
            best = Some((trip, sent + trip / 2, now));
        }
    }
    let (_, at, now) = best.expect("three readings");
    let ahead = t0_ms - now;
    Ok(if ahead >= 0 {
        at + Duration::from_millis(ahead as u64)
    } else {
        at.checked_sub(Duration::from_millis(ahead.unsigned_abs()))
            .unwrap_or(at)
    })
}
