//! A mix's member runs as one run: every member's steps under qualified names
//! (`pay-invoice/pay`), each member's workflow as the step `pay-invoice/workflow`, and the
//! mix's workflow (every iteration of every member) as the run's. Histograms add exactly, as
//! when shards merge; the members ran in one process from one start, so their intervals line
//! up as they are.

use crate::model::{LoadSettings, RunResult, StepResult, Threshold, thresholds};
use crate::scenario::mix::qualified;

use super::interval::tags_for;
use super::merge::{self, Expected, MergeError, Shard};

/// One member's finished run and its interval log.
#[derive(Debug, Clone)]
pub struct MemberRun {
    /// The member's run, as its own runner wrote it.
    pub run: RunResult,
    /// Its interval log's bytes.
    pub log: Vec<u8>,
}

/// What the mix run is, beside what its members measured.
#[derive(Debug, Clone)]
pub struct MixInfo {
    /// The mix run's id.
    pub run_id: String,
    /// The mix's name (the run's scenario).
    pub name: String,
    /// The mix's hash.
    pub hash: String,
    /// The mix file.
    pub file: Option<String>,
    /// The mix's load: the total level and the members' common duration.
    pub load: Option<LoadSettings>,
    /// The mix's and (qualified) members' thresholds.
    pub thresholds: Vec<Threshold>,
    /// The mix's `[compare]`.
    pub compare: crate::model::CompareSettings,
    /// When every member started (Unix ms).
    pub start_ms: Option<i64>,
}

/// Combines the members' runs (in mix order) into one run and one interval log.
pub fn combine(info: &MixInfo, members: &[MemberRun]) -> Result<(RunResult, Vec<u8>), MergeError> {
    // Tags are made once for every member's steps together: made tag-safe, `a b/c` and `a_b/c`
    // would meet, and tags_for keeps them apart only within one list.
    let names: Vec<Vec<String>> = members.iter().map(|m| qualified_names(&m.run)).collect();
    let all: Vec<String> = names.iter().flatten().cloned().collect();
    let mut tags = tags_for(&all).into_iter();
    let tags: Vec<Vec<String>> = names
        .iter()
        .map(|n| tags.by_ref().take(n.len()).collect())
        .collect();
    let shards: Vec<Shard> = members
        .iter()
        .zip(&tags)
        .enumerate()
        .map(|(i, (m, tags))| Shard {
            part: i as u32 + 1,
            run: qualify(info, &m.run, tags),
        })
        .collect();
    let expected = Expected {
        group_id: info.run_id.clone(),
        parts: members.len() as u32,
        start_ms: info.start_ms,
        failed: Vec::new(),
    };
    let mut run = merge::merge(&expected, &shards)?;
    run.shards.clear();
    run.scenario_file = info.file.clone();
    run.load = info.load.clone().or(run.load);
    run.compare = info.compare.clone();
    run.host = members.first().and_then(|m| m.run.host.clone());
    // One process: every member saw the same CPU, so its figure is the process's, not a sum.
    if let Some(h) = run.health.as_mut() {
        h.cpu_cores = members
            .iter()
            .filter_map(|m| m.run.health.as_ref().and_then(|h| h.cpu_cores))
            .reduce(f64::max);
        h.intervals.cpu_cores = members
            .iter()
            .filter_map(|m| m.run.health.as_ref().map(|h| h.intervals.cpu_cores.clone()))
            .reduce(|a, b| {
                let n = a.len().max(b.len());
                (0..n)
                    .map(|i| {
                        f64::max(
                            a.get(i).copied().unwrap_or(0.0),
                            b.get(i).copied().unwrap_or(0.0),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        h.reasons = members
            .iter()
            .filter_map(|m| m.run.health.as_ref().map(|h| (&m.run.scenario, h)))
            .flat_map(|(name, h)| h.reasons.iter().map(move |r| format!("{name}: {r}")))
            .collect();
    }
    // Incomplete members say which scenario stopped, not which "shard".
    if !run.complete {
        let reasons: Vec<String> = members
            .iter()
            .filter(|m| !m.run.complete)
            .map(|m| {
                format!(
                    "{} did not complete: {}",
                    m.run.scenario,
                    m.run.stop_reason.as_deref().unwrap_or("stopped early")
                )
            })
            .collect();
        run.stop_reason = Some(reasons.join("; "));
    } else {
        run.stop_reason = members.first().and_then(|m| m.run.stop_reason.clone());
    }
    run.thresholds = thresholds::evaluate(&info.thresholds, &[&run]);
    let logs: Vec<(Vec<u8>, merge::Renames)> = members
        .iter()
        .zip(&tags)
        .map(|(m, tags)| (m.log.clone(), retagging(&m.run, tags)))
        .collect();
    let start = run
        .started_at
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t.trim_end_matches('Z')).ok())
        .unwrap_or_else(std::time::SystemTime::now);
    let log =
        merge::interval_logs_retagged(&logs, start).map_err(|message| MergeError::Histogram {
            group: info.run_id.clone(),
            part: 1,
            step: "interval log".into(),
            message,
        })?;
    Ok((run, log))
}

/// A member's step names in the mix, its workflow's last: `member/step`…, `member/workflow`.
fn qualified_names(run: &RunResult) -> Vec<String> {
    run.steps
        .iter()
        .map(|s| qualified(&run.scenario, &s.name))
        .chain(
            run.workflow
                .iter()
                .map(|_| qualified(&run.scenario, "workflow")),
        )
        .collect()
}

/// A member's run as a part of the mix: the mix's name and hash, its steps qualified (with
/// their mix-wide `tags`) and its workflow also a step of its own.
fn qualify(info: &MixInfo, run: &RunResult, tags: &[String]) -> RunResult {
    let mut run = run.clone();
    let names = qualified_names(&run);
    let mut steps: Vec<StepResult> = run.steps.clone();
    steps.extend(run.workflow.clone());
    for ((s, name), tag) in steps.iter_mut().zip(names).zip(tags) {
        s.name = name;
        s.interval_tag = Some(tag.clone());
    }
    run.scenario = info.name.clone();
    run.scenario_hash = Some(info.hash.clone());
    run.steps = steps;
    run
}

/// For a member's interval log: each tag it wrote and the tags it stands for in the mix's
/// (a step's qualified tag; the workflow's both its member's workflow step and the mix's).
fn retagging(run: &RunResult, tags: &[String]) -> merge::Renames {
    let own: Vec<String> = run.steps.iter().map(|s| s.name.clone()).collect();
    let own_tags = tags_for(&own);
    let mut map: merge::Renames = own_tags
        .iter()
        .take(own.len())
        .cloned()
        .zip(tags.iter().map(|t| vec![t.clone()]))
        .collect();
    if let Some(workflow) = tags.get(own.len()) {
        map.push((
            "workflow".to_string(),
            vec![workflow.clone(), "workflow".to_string()],
        ));
    }
    map
}

#[cfg(test)]
mod tests;
