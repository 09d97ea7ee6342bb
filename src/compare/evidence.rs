//! From runs to test inputs: per step and metric, the candidates', baselines' and noise
//! history's estimates, each computed from a run's histogram and counts.

use super::{Baseline, LogRatios, summary_metric};
use crate::model::{RunResult, StepComparison, StepId, StepResult, Verdict, decode};
use crate::stats::{self, Distribution, Estimate, Evidence, Metric, MetricEvidence};

/// The estimates of one step across the runs of each side.
#[derive(Debug)]
pub(super) struct StepEvidence {
    pub id: StepId,
    /// Errors and attempts per run: baseline runs, then candidate runs.
    pub errors: [Vec<(u64, u64)>; 2],
    /// Per metric that both sides can be measured on.
    metrics: Vec<MetricInputs>,
}

/// One metric's test inputs.
#[derive(Debug)]
struct MetricInputs {
    metric: Metric,
    inputs: Inputs,
}

/// Independent runs, or interleaved rounds.
#[derive(Debug)]
enum Inputs {
    Runs {
        candidates: Vec<Estimate>,
        baselines: Vec<Estimate>,
        history: Vec<Estimate>,
    },
    Rounds {
        rounds: Vec<(Estimate, Estimate)>,
        aa: Vec<f64>,
    },
}

impl StepEvidence {
    /// The test inputs, borrowing the estimates.
    pub fn evidence(&self) -> Vec<MetricEvidence<'_>> {
        self.metrics
            .iter()
            .map(|m| MetricEvidence {
                metric: m.metric,
                evidence: match &m.inputs {
                    Inputs::Runs {
                        candidates,
                        baselines,
                        history,
                    } => Evidence::Runs {
                        candidates,
                        baselines,
                        history,
                    },
                    Inputs::Rounds { rounds, aa } => Evidence::Rounds {
                        rounds,
                        aa_log_ratios: aa,
                    },
                },
            })
            .collect()
    }
}

/// One run's estimate of every metric of a step, in [`Metric::ALL`] order.
pub(super) type RunEstimates = [Option<Estimate>; 6];

/// Per run, one step's estimate of every metric (None where it cannot be measured).
/// `seconds` is the run's measured window: a step that completed nothing in it has its
/// throughput taken as half a success (finite, so its collapse can be tested).
pub(super) fn estimates(step: &StepResult, seconds: Option<f64>) -> RunEstimates {
    let distribution = decode(&step.histogram)
        .ok()
        .map(|h| Distribution::from_histogram(&h));
    Metric::ALL.map(|m| match m {
        Metric::ErrorRate => {
            (step.count > 0).then(|| stats::estimate_error_rate(step.errors, step.count))
        }
        // A run without a measured window (a foreign file) has no throughput to compare;
        // one that completed nothing counts half a success, so the collapse can be tested.
        Metric::Throughput => match (step.throughput, seconds) {
            (t, _) if t > 0.0 => Some(stats::estimate_throughput(t)),
            (_, Some(s)) if s > 0.0 && step.count > 0 => Some(stats::estimate_throughput(0.5 / s)),
            _ => None,
        },
        latency => distribution
            .as_ref()
            .and_then(|d| stats::estimate_latency(d, latency)),
    })
}

/// A step's errors and attempts in each run that has it.
fn run_errors<'a>(runs: impl Iterator<Item = &'a RunResult>, id: &StepId) -> Vec<(u64, u64)> {
    runs.filter_map(|r| r.step(id))
        .map(|s: &StepResult| (s.errors, s.count))
        .collect()
}

/// Errors and attempts of runs taken together.
pub(super) fn pooled(runs: &[(u64, u64)]) -> (u64, u64) {
    runs.iter()
        .fold((0, 0), |(e, n), (re, rn)| (e + re, n + rn))
}

/// Errors over attempts; zero when there were none.
pub(super) fn rate((errors, attempts): (u64, u64)) -> f64 {
    if attempts == 0 {
        0.0
    } else {
        errors as f64 / attempts as f64
    }
}

impl StepEvidence {
    /// Measured error rates of the runs pooled: baseline, candidate.
    pub fn error_rates(&self) -> (f64, f64) {
        (rate(pooled(&self.errors[0])), rate(pooled(&self.errors[1])))
    }

    /// The baseline attempted the step but the candidates never did (an earlier step fails).
    pub fn never_reached(&self) -> bool {
        pooled(&self.errors[0]).1 > 0 && pooled(&self.errors[1]).1 == 0
    }
}

fn collect(runs: &[RunResult], id: &StepId) -> Vec<RunEstimates> {
    runs.iter()
        .filter_map(|r| r.step(id).map(|s| estimates(s, r.measured_seconds)))
        .collect()
}

/// Every step of the candidates (in their order) and the workflow, with the metrics both
/// sides can be measured on.
pub(super) fn gather(baseline: &Baseline, candidates: &[RunResult]) -> Vec<StepEvidence> {
    let Some(first) = candidates.first() else {
        return Vec::new();
    };
    // With three or more baselines and no separate history, the baselines teach the noise.
    let history_runs = if baseline.history.is_empty() && baseline.runs.len() >= 3 {
        &baseline.runs
    } else {
        &baseline.history
    };
    first
        .step_ids()
        .into_iter()
        .map(|id| {
            let c = collect(candidates, &id);
            let b = collect(&baseline.runs, &id);
            let h = collect(history_runs, &id);
            let metrics = Metric::ALL
                .iter()
                .enumerate()
                .filter_map(|(i, metric)| {
                    let cands: Option<Vec<Estimate>> = c.iter().map(|e| e[i]).collect();
                    let cands = cands.filter(|v| !v.is_empty())?;
                    let bases: Vec<Estimate> = b.iter().filter_map(|e| e[i]).collect();
                    if bases.is_empty() {
                        return None;
                    }
                    let hist: Vec<Estimate> = h.iter().filter_map(|e| e[i]).collect();
                    Some(MetricInputs {
                        metric: *metric,
                        inputs: Inputs::Runs {
                            candidates: cands,
                            baselines: bases,
                            history: hist,
                        },
                    })
                })
                .collect();
            let errors = [
                run_errors(baseline.runs.iter(), &id),
                run_errors(candidates.iter(), &id),
            ];
            StepEvidence {
                id,
                errors,
                metrics,
            }
        })
        .collect()
}

/// Per step (candidate order, then the workflow), the rounds' paired estimates and the
/// earlier A/A sessions' log ratios of the same step and metric.
pub(super) fn gather_rounds(
    rounds: &[(RunResult, RunResult)],
    aa: &LogRatios,
) -> Vec<StepEvidence> {
    let Some((_, first)) = rounds.first() else {
        return Vec::new();
    };
    first
        .step_ids()
        .into_iter()
        .map(|id| {
            let pairs: Vec<(RunEstimates, RunEstimates)> = rounds
                .iter()
                .filter_map(|(b, c)| {
                    Some((
                        estimates(b.step(&id)?, b.measured_seconds),
                        estimates(c.step(&id)?, c.measured_seconds),
                    ))
                })
                .collect();
            let metrics = Metric::ALL
                .iter()
                .enumerate()
                .filter_map(|(i, metric)| {
                    let both: Option<Vec<(Estimate, Estimate)>> =
                        pairs.iter().map(|(b, c)| Some((b[i]?, c[i]?))).collect();
                    let both = both.filter(|v| !v.is_empty())?;
                    let earlier = aa
                        .get(id.name())
                        .and_then(|m| m.get(&summary_metric(*metric)))
                        .cloned()
                        .unwrap_or_default();
                    Some(MetricInputs {
                        metric: *metric,
                        inputs: Inputs::Rounds {
                            rounds: both,
                            aa: earlier,
                        },
                    })
                })
                .collect();
            let errors = [
                run_errors(rounds.iter().map(|r| &r.0), &id),
                run_errors(rounds.iter().map(|r| &r.1), &id),
            ];
            StepEvidence {
                id,
                errors,
                metrics,
            }
        })
        .collect()
}

/// Per step and metric, each round's log ratio (candidate over baseline, on the test scale).
pub(super) fn log_ratios(steps: &[StepEvidence]) -> LogRatios {
    steps
        .iter()
        .map(|s| {
            let key = s.id.name().to_string();
            let metrics = s
                .metrics
                .iter()
                .filter_map(|m| match &m.inputs {
                    Inputs::Rounds { rounds, .. } => Some((
                        summary_metric(m.metric),
                        rounds.iter().map(|(b, c)| c.value - b.value).collect(),
                    )),
                    Inputs::Runs { .. } => None,
                })
                .collect();
            (key, metrics)
        })
        .collect()
}

/// Caveats: a history too short to learn the noise from, steps the baseline lacks.
pub(super) fn notes(baseline: &Baseline, steps: &[StepComparison]) -> Vec<String> {
    let mut notes = Vec::new();
    let learned_from = if baseline.history.is_empty() {
        baseline.runs.len()
    } else {
        baseline.history.len()
    };
    if learned_from < 3 {
        notes.push(format!(
            "the noise between runs is taken from the priors: the baseline history has {learned_from} run{} (3 or more are needed to learn it), so verdicts are conservative; more baseline runs, or a candidate repeated with --repeat, sharpen them",
            if learned_from == 1 { "" } else { "s" }
        ));
    }
    // Steps the candidates never reached are regressions, noted where they are decided.
    for s in steps
        .iter()
        .filter(|s| s.metrics.is_empty() && s.verdict != Verdict::Regressed)
    {
        let name = &s.id;
        notes.push(format!(
            "`{name}` has nothing to compare: the baseline runs did not record it (a step new to the scenario?)"
        ));
    }
    notes
}
