//! Shards of one run merged into one run (issue 13's lossless merge): HdrHistograms add
//! exactly, so every percentile of the merged run is the percentile of every shard's requests
//! together, never an average of percentiles; counters add; per-interval series are aligned on
//! the group's common start and added. A merged run that cannot stand for the whole scenario
//! (a shard missing or failed, shards of different scenario files or versions) is kept, with
//! `complete: false` and the reason, so it is reported but never used as a baseline.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::model::{
    HarnessHealth, HealthIntervals, IterationCounts, LatencySummary, OutcomeCounts, RunResult,
    ShardInfo, StepResult, decode, encode, new_histogram, thresholds,
};

/// One shard's stored run, with its part number in the group (1-based: shard index + 1).
#[derive(Debug, Clone)]
pub struct Shard {
    /// Which part of the group ran it.
    pub part: u32,
    /// Its run, as stored.
    pub run: RunResult,
}

/// What the group expected, beside the shards it got.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// The group's id: the merged run's id.
    pub group_id: String,
    /// Shards the group was made of.
    pub parts: u32,
    /// The common start every shard began at (the start barrier's T0 on the store's clock,
    /// Unix ms): their intervals line up as they are, whatever each machine's own clock wrote
    /// in `started_at`. `None` (no barrier) aligns each shard by its `started_at`.
    pub start_ms: Option<i64>,
    /// Parts that reported a failure, with what they said.
    pub failed: Vec<(u32, String)>,
}

/// Why shards could not be merged at all (as opposed to merged into an incomplete run).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("group {0}: no shard stored a run")]
    NoShards(String),
    /// Shards of different scenarios are not parts of one run.
    #[error("group {group}: shards ran different scenarios ({names})")]
    Scenarios {
        /// The group.
        group: String,
        /// The scenario names met.
        names: String,
    },
    /// A stored histogram did not decode or could not be added.
    #[error("group {group}: shard index {}, step `{step}`: {message}", part - 1)]
    Histogram {
        /// The group.
        group: String,
        /// The shard.
        part: u32,
        /// The step.
        step: String,
        /// What went wrong.
        message: String,
    },
}

/// Merges `shards` (in any order) into one run of the whole scenario.
pub fn merge(expected: &Expected, shards: &[Shard]) -> Result<RunResult, MergeError> {
    let group = expected.group_id.clone();
    let mut shards: Vec<&Shard> = shards.iter().collect();
    shards.sort_by_key(|s| s.part);
    let first = &shards
        .first()
        .ok_or(MergeError::NoShards(group.clone()))?
        .run;
    let names: Vec<&str> = first_seen(shards.iter().map(|s| s.run.scenario.as_str()));
    if names.len() > 1 {
        return Err(MergeError::Scenarios {
            group,
            names: names.join(", "),
        });
    }

    let starts: Vec<Option<i64>> = shards
        .iter()
        .map(|s| s.run.started_at.as_deref().and_then(unix_ms))
        .collect();
    let origin = starts.iter().flatten().min().copied();
    let interval_seconds = first.intervals.as_ref().map_or(1.0, |i| i.seconds);
    // Where each shard's first interval falls in the merged series: shards that met at the
    // barrier all began at T0; others are placed by their own clocks.
    let shifts: Vec<usize> = starts
        .iter()
        .map(|start| match (start, origin, expected.start_ms) {
            (_, _, Some(_)) => 0,
            (Some(s), Some(o), None) if *s > o => {
                ((*s - o) as f64 / 1000.0 / interval_seconds).round() as usize
            }
            _ => 0,
        })
        .collect();

    let mut merged = first.clone();
    merged.run_id = group.clone();
    merged.host = None;
    merged.stop_reason = None;
    merged.group = None;
    merged.started_at = match expected.start_ms {
        Some(t0) => Some(
            humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(t0.max(0) as u64),
            )
            .to_string(),
        ),
        None => earliest(shards.iter().map(|s| s.run.started_at.as_deref()), true),
    };
    merged.ended_at = earliest(shards.iter().map(|s| s.run.ended_at.as_deref()), false);
    merged.measured_seconds = shards
        .iter()
        .filter_map(|s| s.run.measured_seconds)
        .reduce(f64::max);
    for s in &shards[1..] {
        for (k, v) in &s.run.labels {
            merged.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    merged.iterations = shards
        .iter()
        .filter_map(|s| s.run.iterations.clone())
        .reduce(|a, b| IterationCounts {
            started: a.started + b.started,
            completed: a.completed + b.completed,
            failed: a.failed + b.failed,
            interrupted: a.interrupted + b.interrupted,
            dropped: a.dropped + b.dropped,
        });
    if let Some(intervals) = merged.intervals.as_mut() {
        let each = |f: fn(&crate::model::Intervals) -> &Vec<u64>| {
            aligned(
                shards.iter().zip(&shifts).map(|(s, &shift)| {
                    (
                        s.run.intervals.as_ref().map(f).cloned().unwrap_or_default(),
                        shift,
                    )
                }),
                |a, b| a + b,
            )
        };
        intervals.started = each(|i| &i.started);
        intervals.dropped = each(|i| &i.dropped);
    }

    let measured = merged.measured_seconds.unwrap_or(0.0);
    let step_names = first_seen(
        shards
            .iter()
            .flat_map(|s| s.run.steps.iter().map(|x| &x.name)),
    );
    merged.steps = step_names
        .iter()
        .map(|name| {
            let parts: Vec<(u32, &StepResult, usize)> = shards
                .iter()
                .zip(&shifts)
                .filter_map(|(s, &shift)| {
                    let step = s.run.steps.iter().find(|x| &x.name == *name)?;
                    Some((s.part, step, shift))
                })
                .collect();
            merge_step(&group, &parts, measured)
        })
        .collect::<Result<_, _>>()?;
    let workflows: Vec<(u32, &StepResult, usize)> = shards
        .iter()
        .zip(&shifts)
        .filter_map(|(s, &shift)| Some((s.part, s.run.workflow.as_ref()?, shift)))
        .collect();
    merged.workflow = if workflows.is_empty() {
        None
    } else {
        Some(merge_step(&group, &workflows, measured)?)
    };
    merged.health = merge_health(&group, &shards, &shifts)?;

    let definitions: Vec<_> = first
        .thresholds
        .iter()
        .map(|t| t.threshold.clone())
        .collect();
    merged.thresholds = thresholds::evaluate(&definitions, &[&merged]);

    merged.shards = shards
        .iter()
        .map(|s| ShardInfo {
            part: s.part,
            run_id: s.run.run_id.clone(),
            host: s.run.host.as_ref().map(|h| h.hostname.clone()),
            commit: s.run.git.as_ref().and_then(|g| g.commit.clone()),
            scenario_hash: s.run.scenario_hash.clone(),
            version: s.run.harness.as_ref().map(|h| h.version.clone()),
            started_at: s.run.started_at.clone(),
            complete: s.run.complete,
        })
        .collect();
    let reasons = incomplete(expected, &shards);
    merged.complete = reasons.is_empty();
    if !reasons.is_empty() {
        merged.stop_reason = Some(reasons.join("; "));
    }
    Ok(merged)
}

/// Why the merged run does not stand for the whole scenario (empty when it does).
fn incomplete(expected: &Expected, shards: &[&Shard]) -> Vec<String> {
    let mut reasons = Vec::new();
    let present: Vec<u32> = shards.iter().map(|s| s.part).collect();
    let failed: Vec<u32> = expected.failed.iter().map(|(p, _)| *p).collect();
    let missing: Vec<String> = (1..=expected.parts)
        .filter(|p| !present.contains(p) && !failed.contains(p))
        .map(|p| (p - 1).to_string())
        .collect();
    if !missing.is_empty() {
        reasons.push(format!(
            "shard index {} of {} stored no run",
            missing.join(", "),
            expected.parts
        ));
    }
    for (part, why) in &expected.failed {
        reasons.push(format!("shard index {} failed: {why}", part - 1));
    }
    for s in shards.iter().filter(|s| !s.run.complete) {
        let why = s.run.stop_reason.as_deref().unwrap_or("stopped early");
        reasons.push(format!(
            "shard index {} did not complete: {why}",
            s.part - 1
        ));
    }
    for (what, values) in [
        (
            "scenario files",
            shards
                .iter()
                .map(|s| (s.part, s.run.scenario_hash.clone()))
                .collect::<Vec<_>>(),
        ),
        (
            "rehearse versions",
            shards
                .iter()
                .map(|s| (s.part, s.run.harness.as_ref().map(|h| h.version.clone())))
                .collect(),
        ),
    ] {
        let mut by_value: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (part, value) in values {
            let value = value.unwrap_or_else(|| "unknown".into());
            by_value
                .entry(value)
                .or_default()
                .push((part - 1).to_string());
        }
        if by_value.len() > 1 {
            let said: Vec<String> = by_value
                .iter()
                .map(|(v, parts)| format!("{v} on shard index {}", parts.join(", ")))
                .collect();
            reasons.push(format!("shards ran different {what}: {}", said.join("; ")));
        }
    }
    reasons
}

/// One step of every shard that has it, added: histograms exactly, counters summed, the
/// timelines aligned. Rates are recomputed over the common measured window.
fn merge_step(
    group: &str,
    parts: &[(u32, &StepResult, usize)],
    measured_seconds: f64,
) -> Result<StepResult, MergeError> {
    let (_, first, _) = parts[0];
    let added =
        |which: fn(&StepResult) -> Option<&str>| -> Result<Option<Histogram<u64>>, MergeError> {
            let mut sum: Option<Histogram<u64>> = None;
            for (part, step, _) in parts {
                let Some(text) = which(step) else { continue };
                let fail = |message: String| MergeError::Histogram {
                    group: group.to_string(),
                    part: *part,
                    step: step.name.clone(),
                    message,
                };
                let h = decode(text).map_err(fail)?;
                let total = sum.get_or_insert_with(new_histogram);
                total.add(&h).map_err(|e| fail(format!("{e:?}")))?;
            }
            Ok(sum)
        };
    let corrected = added(|s| Some(s.histogram.as_str()))?.unwrap_or_else(new_histogram);
    let service = added(|s| s.service_histogram.as_deref())?;
    let mut outcomes = [0u64; crate::model::Outcome::ALL.len()];
    for (_, step, _) in parts {
        for (slot, o) in outcomes.iter_mut().zip(crate::model::Outcome::ALL) {
            *slot += step.outcomes.get(o);
        }
    }
    let outcomes = OutcomeCounts::from_array(&outcomes);
    let count = outcomes.total();
    let errors = outcomes.errors();
    let mut error_samples = BTreeMap::new();
    for (_, step, _) in parts {
        for (k, v) in &step.error_samples {
            error_samples.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let timeline = |f: fn(&StepResult) -> &Vec<u64>| {
        aligned(
            parts.iter().map(|(_, s, shift)| (f(s).clone(), *shift)),
            |a, b| a + b,
        )
    };
    Ok(StepResult {
        name: first.name.clone(),
        request: first.request.clone(),
        count,
        errors,
        error_rate: super::summary::error_rate(errors, count),
        throughput: super::summary::throughput(outcomes.ok, measured_seconds),
        latency: LatencySummary::of(&corrected),
        service_time: service
            .as_ref()
            .map_or_else(|| first.service_time.clone(), LatencySummary::of),
        histogram: encode(&corrected),
        service_histogram: service.as_ref().map(encode),
        interval_tag: first.interval_tag.clone(),
        timeline_ok: timeline(|s| &s.timeline_ok),
        timeline_errors: timeline(|s| &s.timeline_errors),
        error_samples,
        // A step's lag is kept as a summary only: the worst shard's is reported (the run's
        // whole lag histogram, in `health`, adds exactly).
        lag: parts
            .iter()
            .filter_map(|(_, s, _)| s.lag.clone())
            .max_by_key(|l| l.p99),
        polls: polls(parts),
        outcomes,
    })
}

/// The generator's health over every shard: lag histograms added, busy cores summed (each
/// shard is its own process), pressure and steal the worst shard's, limited if any shard was.
fn merge_health(
    group: &str,
    shards: &[&Shard],
    shifts: &[usize],
) -> Result<Option<HarnessHealth>, MergeError> {
    let healths: Vec<(u32, &HarnessHealth, usize)> = shards
        .iter()
        .zip(shifts)
        .filter_map(|(s, &shift)| Some((s.part, s.run.health.as_ref()?, shift)))
        .collect();
    if healths.is_empty() {
        return Ok(None);
    }
    let mut lag = new_histogram();
    for (part, h, _) in &healths {
        if h.lag_histogram.is_empty() {
            continue;
        }
        let fail = |message: String| MergeError::Histogram {
            group: group.to_string(),
            part: *part,
            step: "schedule lag".into(),
            message,
        };
        lag.add(decode(&h.lag_histogram).map_err(fail)?)
            .map_err(|e| fail(format!("{e:?}")))?;
    }
    let worst = |f: fn(&HarnessHealth) -> Option<f64>| {
        healths.iter().filter_map(|(_, h, _)| f(h)).reduce(f64::max)
    };
    let cores: Vec<f64> = healths.iter().filter_map(|(_, h, _)| h.cpu_cores).collect();
    // Per interval, the worst shard's lag and pressure (shares and percentiles of parts do not
    // add) and the cores of every shard together.
    let per_interval = |f: fn(&HealthIntervals) -> &Vec<u64>| {
        aligned(
            healths
                .iter()
                .map(|(_, h, s)| (f(&h.intervals).clone(), *s)),
            u64::max,
        )
    };
    let per_interval_f64 = |f: fn(&HealthIntervals) -> &Vec<f64>, join: fn(f64, f64) -> f64| {
        aligned(
            healths
                .iter()
                .map(|(_, h, s)| (f(&h.intervals).clone(), *s)),
            join,
        )
    };
    Ok(Some(HarnessHealth {
        lag: LatencySummary::of(&lag),
        lag_histogram: if lag.is_empty() {
            String::new()
        } else {
            encode(&lag)
        },
        cpu_cores: (!cores.is_empty()).then(|| cores.iter().sum()),
        pressure_some: worst(|h| h.pressure_some),
        steal: worst(|h| h.steal),
        intervals: HealthIntervals {
            lag_p99: per_interval(|i| &i.lag_p99),
            lag_max: per_interval(|i| &i.lag_max),
            cpu_cores: per_interval_f64(|i| &i.cpu_cores, |a, b| a + b),
            pressure_some: per_interval_f64(|i| &i.pressure_some, f64::max),
        },
        harness_limited: healths.iter().any(|(_, h, _)| h.harness_limited),
        reasons: healths
            .iter()
            .flat_map(|(part, h, _)| {
                h.reasons
                    .iter()
                    .map(move |r| format!("shard index {}: {r}", part - 1))
            })
            .collect(),
    }))
}

/// The shards' interval logs as one: each step's histogram of an interval is the sum of every
/// shard's for that interval (shards started together, so their intervals line up), so the
/// merged log's per-interval percentiles are of every request, as the run's are. Unreadable
/// lines are skipped, as when a log is read for a report.
pub fn interval_logs(logs: &[Vec<u8>], start: std::time::SystemTime) -> Result<Vec<u8>, String> {
    let logs: Vec<(Vec<u8>, Renames)> = logs.iter().map(|l| (l.clone(), Vec::new())).collect();
    interval_logs_retagged(&logs, start)
}

/// A log's tag renames: each old tag and the tags it is written under.
pub type Renames = Vec<(String, Vec<String>)>;

/// [`interval_logs`] with each log's tags renamed first: a tag listed in its log's map is
/// written under each of its new tags (a mix member's workflow is its own step and part of
/// the mix's workflow); a tag not listed keeps its name.
pub fn interval_logs_retagged(
    logs: &[(Vec<u8>, Renames)],
    start: std::time::SystemTime,
) -> Result<Vec<u8>, String> {
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{
        IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag,
    };
    use std::time::Duration;

    // (interval start in ms, tag order) -> (tag, length, histogram)
    let mut tags: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(u64, usize), (Duration, Histogram<u64>)> = BTreeMap::new();
    for (log, renames) in logs {
        for entry in IntervalLogIterator::new(log) {
            let Ok(LogEntry::Interval(h)) = entry else {
                continue;
            };
            let tag = h.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
            let Ok(hist) = crate::model::decode(h.encoded_histogram()) else {
                continue;
            };
            let targets = renames
                .iter()
                .find(|(old, _)| *old == tag)
                .map(|(_, new)| new.clone())
                .unwrap_or_else(|| vec![tag]);
            for tag in targets {
                let order = match tags.iter().position(|t| *t == tag) {
                    Some(i) => i,
                    None => {
                        tags.push(tag);
                        tags.len() - 1
                    }
                };
                let begin = h.start_timestamp().as_millis() as u64;
                let cell = cells
                    .entry((begin, order))
                    .or_insert_with(|| (Duration::ZERO, new_histogram()));
                cell.0 = cell.0.max(h.duration());
                cell.1.add(&hist).map_err(|e| format!("{e:?}"))?;
            }
        }
    }
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    let mut writer = IntervalLogWriterBuilder::new()
        .add_comment(&format!(
            "rehearse {} interval log, merged from {} runs; values in microseconds; tags are steps",
            env!("CARGO_PKG_VERSION"),
            logs.len()
        ))
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)
        .map_err(|e| e.to_string())?;
    for ((begin, order), (length, h)) in &cells {
        writer
            .write_histogram(
                h,
                Duration::from_millis(*begin),
                *length,
                Tag::new(&tags[*order]),
            )
            .map_err(|e| format!("{e:?}"))?;
    }
    drop(writer);
    Ok(out)
}

/// Series combined element by element with `join`, each first shifted right by its offset;
/// a slot no series reaches stays at the default.
fn aligned<T: Copy + Default>(
    series: impl Iterator<Item = (Vec<T>, usize)>,
    join: impl Fn(T, T) -> T,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for (values, shift) in series {
        if values.is_empty() {
            continue;
        }
        if out.len() < values.len() + shift {
            out.resize(values.len() + shift, T::default());
        }
        for (i, v) in values.into_iter().enumerate() {
            out[i + shift] = join(out[i + shift], v);
        }
    }
    out
}

/// Values in order of first appearance, each once.
fn first_seen<T: PartialEq>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for v in values {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// The earliest (or, with `first = false`, the latest) of RFC 3339 times, as written.
fn earliest<'a>(times: impl Iterator<Item = Option<&'a str>>, first: bool) -> Option<String> {
    let known = times.flatten().filter_map(|t| Some((unix_ms(t)?, t)));
    let pick = if first {
        known.min_by_key(|(ms, _)| *ms)
    } else {
        known.max_by_key(|(ms, _)| *ms)
    };
    pick.map(|(_, t)| t.to_string())
}

/// An RFC 3339 time (as results.json writes them, UTC) in Unix milliseconds.
fn unix_ms(rfc3339: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(rfc3339.trim_end_matches('Z')).ok()?;
    let since = t.duration_since(std::time::SystemTime::UNIX_EPOCH).ok()?;
    i64::try_from(since.as_millis()).ok()
}

#[cfg(test)]
mod tests;

/// The parts' poll counts added; none when no part polled.
fn polls(parts: &[(u32, &StepResult, usize)]) -> Option<crate::model::PollStats> {
    let mut any = false;
    let mut total = super::PollCount::default();
    for (_, step, _) in parts {
        if let Some(p) = &step.polls {
            any = true;
            total.merge(&super::PollCount {
                attempts: p.attempts,
                requests: p.requests,
                max: p.max,
            });
        }
    }
    any.then(|| crate::model::PollStats::new(total.attempts, total.requests, total.max))
}
