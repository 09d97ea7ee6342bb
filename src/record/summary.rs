//! From merged totals to the results contract's per-step records.

use std::collections::BTreeMap;

use super::CellTotals;
use super::interval::Timeline;
use crate::model::{LatencySummary, Outcome, OutcomeCounts, PollStats, StepResult, encode};

/// What the results file says about a step besides its numbers.
#[derive(Debug, Clone)]
pub struct StepInfo {
    /// Step name.
    pub name: String,
    /// e.g. `POST /api/login`.
    pub request: Option<String>,
    /// Interval-log tag.
    pub tag: String,
    /// Whether the step polls (`[steps.until]`), so its results say how many requests it sent.
    pub polling: bool,
}

/// Builds one [`StepResult`] per cell (steps then workflow, like `infos`).
pub fn step_results(
    totals: &[CellTotals],
    timeline: &Timeline,
    infos: &[StepInfo],
    measured_seconds: f64,
) -> Vec<StepResult> {
    totals
        .iter()
        .zip(infos)
        .enumerate()
        .map(|(i, (t, info))| {
            let outcomes = OutcomeCounts::from_array(&t.counts);
            let count = outcomes.total();
            let errors = outcomes.errors();
            let error_samples: BTreeMap<String, String> = Outcome::ALL
                .iter()
                .filter_map(|o| {
                    t.samples[o.index()]
                        .clone()
                        .map(|m| (o.name().to_string(), m))
                })
                .collect();
            StepResult {
                name: info.name.clone(),
                request: info.request.clone(),
                count,
                errors,
                error_rate: error_rate(errors, count),
                throughput: throughput(outcomes.ok, measured_seconds),
                outcomes,
                latency: LatencySummary::of(&t.corrected),
                service_time: LatencySummary::of(&t.service),
                histogram: encode(&t.corrected),
                service_histogram: Some(encode(&t.service)),
                interval_tag: Some(info.tag.clone()),
                timeline_ok: timeline.ok.get(i).cloned().unwrap_or_default(),
                timeline_errors: timeline.errors.get(i).cloned().unwrap_or_default(),
                error_samples,
                lag: (!t.lag.is_empty()).then(|| LatencySummary::of(&t.lag)),
                polls: info
                    .polling
                    .then(|| PollStats::new(t.polls.attempts, t.polls.requests, t.polls.max)),
            }
        })
        .collect()
}

/// `errors / count`, 0 with no attempts.
pub fn error_rate(errors: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        errors as f64 / count as f64
    }
}

/// Successful attempts per second of the measured window, to 3 decimals; 0 without a window.
pub fn throughput(ok: u64, measured_seconds: f64) -> f64 {
    if measured_seconds > 0.0 {
        round3(ok as f64 / measured_seconds)
    } else {
        0.0
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
