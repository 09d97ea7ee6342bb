//! From runs to test inputs: per step and metric, the candidates', baselines' and noise
//! history's estimates, each computed from a run's histogram and counts.

use crate::compare::{Baseline, StepComparison};
use crate::model::{RunResult, StepResult, decode};
use crate::stats::{self, Distribution, Estimate, Evidence, Metric, MetricEvidence};

/// The estimates of one step across the runs of each side.
#[derive(Debug)]
pub(super) struct StepEvidence {
    pub name: String,
    pub workflow: bool,
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
type RunEstimates = [Option<Estimate>; 6];

/// Per run, one step's estimate of every metric (None where it cannot be measured).
/// `seconds` is the run's measured window: a step that completed nothing in it has its
/// throughput taken as half a success (finite, so its collapse can be tested).
fn estimates(step: &StepResult, seconds: Option<f64>) -> RunEstimates {
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

fn step<'a>(run: &'a RunResult, name: &str, workflow: bool) -> Option<&'a StepResult> {
    if workflow {
        run.workflow.as_ref()
    } else {
        run.steps.iter().find(|s| s.name == name)
    }
}

/// A step's errors and attempts in each run that has it.
fn run_errors<'a>(
    runs: impl Iterator<Item = &'a RunResult>,
    name: &str,
    workflow: bool,
) -> Vec<(u64, u64)> {
    runs.filter_map(|r| step(r, name, workflow))
        .map(|s| (s.errors, s.count))
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

fn collect(runs: &[RunResult], name: &str, workflow: bool) -> Vec<RunEstimates> {
    runs.iter()
        .filter_map(|r| step(r, name, workflow).map(|s| estimates(s, r.measured_seconds)))
        .collect()
}

/// Every step of the candidates (in their order) and the workflow, with the metrics both
/// sides can be measured on.
pub(super) fn gather(baseline: &Baseline, candidates: &[RunResult]) -> Vec<StepEvidence> {
    let Some(first) = candidates.first() else {
        return Vec::new();
    };
    let names = first
        .steps
        .iter()
        .map(|s| (s.name.clone(), false))
        .chain(first.workflow.iter().map(|w| (w.name.clone(), true)));
    // With three or more baselines and no separate history, the baselines teach the noise.
    let history_runs = if baseline.history.is_empty() && baseline.runs.len() >= 3 {
        &baseline.runs
    } else {
        &baseline.history
    };
    names
        .map(|(name, workflow)| {
            let c = collect(candidates, &name, workflow);
            let b = collect(&baseline.runs, &name, workflow);
            let h = collect(history_runs, &name, workflow);
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
                run_errors(baseline.runs.iter(), &name, workflow),
                run_errors(candidates.iter(), &name, workflow),
            ];
            StepEvidence {
                name,
                workflow,
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
    aa: &super::LogRatios,
) -> Vec<StepEvidence> {
    let Some((_, first)) = rounds.first() else {
        return Vec::new();
    };
    let names: Vec<(String, bool)> = first
        .steps
        .iter()
        .map(|s| (s.name.clone(), false))
        .chain(first.workflow.iter().map(|w| (w.name.clone(), true)))
        .collect();
    names
        .into_iter()
        .map(|(name, workflow)| {
            let pairs: Vec<(RunEstimates, RunEstimates)> = rounds
                .iter()
                .filter_map(|(b, c)| {
                    Some((
                        estimates(step(b, &name, workflow)?, b.measured_seconds),
                        estimates(step(c, &name, workflow)?, c.measured_seconds),
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
                    let key = if workflow { "workflow" } else { name.as_str() };
                    let earlier = aa
                        .get(key)
                        .and_then(|m| m.get(metric.name()))
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
                run_errors(rounds.iter().map(|r| &r.0), &name, workflow),
                run_errors(rounds.iter().map(|r| &r.1), &name, workflow),
            ];
            StepEvidence {
                name,
                workflow,
                errors,
                metrics,
            }
        })
        .collect()
}

/// Per step and metric, each round's log ratio (candidate over baseline, on the test scale).
pub(super) fn log_ratios(steps: &[StepEvidence]) -> super::LogRatios {
    steps
        .iter()
        .map(|s| {
            let key = if s.workflow {
                "workflow".to_string()
            } else {
                s.name.clone()
            };
            let metrics = s
                .metrics
                .iter()
                .filter_map(|m| match &m.inputs {
                    Inputs::Rounds { rounds, .. } => Some((
                        m.metric.name().to_string(),
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
        .filter(|s| s.metrics.is_empty() && s.verdict != super::Verdict::Regressed)
    {
        let name = &s.name;
        notes.push(format!(
            "`{name}` has nothing to compare: the baseline runs did not record it (a step new to the scenario?)"
        ));
    }
    notes
}
