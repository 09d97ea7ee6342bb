//! Change points over a branch's history: every step's series of each metric (one value per
//! run, from its histogram, with its within-run uncertainty) searched with
//! [`crate::stats::changes`], Holm's correction across the scenario's steps, and a
//! minimum magnitude (the scenario's `[compare] min_effect`), so a change is reported only
//! when it matters and is unlikely to be noise.

use super::evidence::estimates;
use crate::model::{ChangePoint, RunResult};
use crate::stats::changes::{self, Change};
use crate::stats::{DaqParams, Estimate, Metric, holm};

/// How change points are searched.
#[derive(Debug, Clone)]
pub struct Settings {
    /// False-alarm level per metric, before Holm's correction across steps.
    pub alpha: f64,
    /// Fewest runs on each side of a change: a shorter level is a spike, not a change.
    pub min_segment: usize,
    /// Minimum effects per metric (and the rest of the comparison settings).
    pub params: DaqParams,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            alpha: DEFAULT_ALPHA,
            min_segment: DEFAULT_MIN_SEGMENT,
            params: DaqParams::default(),
        }
    }
}

impl Settings {
    /// The settings for a scenario's runs (oldest first): its newest run's `[compare]`
    /// minimum effects, the level given or the default.
    pub fn for_runs(runs: &[RunResult], alpha: Option<f64>) -> Settings {
        let params = runs
            .last()
            .map(|r| super::params(&r.compare, &super::Overrides::default()))
            .unwrap_or_default();
        Settings {
            alpha: alpha.unwrap_or(DEFAULT_ALPHA),
            params,
            ..Settings::default()
        }
    }
}

/// Default level per metric, before the correction across steps.
pub const DEFAULT_ALPHA: f64 = 0.03;

/// Default fewest runs a side.
pub const DEFAULT_MIN_SEGMENT: usize = 3;

/// One series: a step's metric over the runs that have it.
struct Series {
    step: String,
    metric: Metric,
    /// Index into the runs of each point.
    runs: Vec<usize>,
    values: Vec<Estimate>,
}

/// The change points of `runs` (one scenario, one branch, oldest first).
///
/// The false-alarm control is the one comparisons use (regression-detection.md step 9):
/// Holm's step-down across steps, on each step's smallest metric p-value, the level reached
/// applying to each of that step's metrics. A step's metrics move together (a slower
/// endpoint moves its p50, p90 and mean at once), so correcting among them as if they were
/// independent would only throw power away.
pub fn change_points(runs: &[RunResult], settings: &Settings) -> Vec<ChangePoint> {
    let series = series(runs);
    let p_of: Vec<f64> = series
        .iter()
        .map(|s| changes::series_p(&s.values, settings.min_segment, worse(s.metric)))
        .collect();
    let mut steps: Vec<&str> = Vec::new();
    for s in &series {
        if !steps.contains(&s.step.as_str()) {
            steps.push(&s.step);
        }
    }
    let step_p: Vec<f64> = steps
        .iter()
        .map(|step| {
            series
                .iter()
                .zip(&p_of)
                .filter(|(s, _)| s.step == *step)
                .map(|(_, p)| *p)
                .fold(1.0, f64::min)
        })
        .collect();
    let levels = holm(&step_p, settings.alpha);
    let mut out = Vec::new();
    for (s, p) in series.iter().zip(&p_of) {
        let k = steps.iter().position(|x| *x == s.step).expect("listed");
        let Some(level) = levels[k].filter(|l| p < l) else {
            continue;
        };
        for c in changes::changes(&s.values, settings.min_segment, level, worse(s.metric)) {
            if let Some(point) = describe(runs, s, &c, &settings.params) {
                out.push(point);
            }
        }
    }
    out.sort_by(|a, b| {
        b.worse
            .cmp(&a.worse)
            .then(a.index.cmp(&b.index))
            .then(a.step.cmp(&b.step))
    });
    out
}

/// Every step (in the newest run's order, then any older ones) and the workflow, each metric.
fn series(runs: &[RunResult]) -> Vec<Series> {
    let mut steps: Vec<String> = Vec::new();
    for r in runs.iter().rev() {
        for s in r.steps.iter().chain(r.workflow.as_ref()) {
            if !steps.contains(&s.name) {
                steps.push(s.name.clone());
            }
        }
    }
    let mut out = Vec::new();
    for step in steps {
        let per_run: Vec<(usize, [Option<Estimate>; 6])> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let s = r
                    .steps
                    .iter()
                    .chain(r.workflow.as_ref())
                    .find(|s| s.name == step)?;
                Some((i, estimates(s, r.measured_seconds)))
            })
            .collect();
        for (k, metric) in Metric::ALL.into_iter().enumerate() {
            let (runs_of, values): (Vec<usize>, Vec<Estimate>) = per_run
                .iter()
                .filter_map(|(i, e)| e[k].map(|e| (*i, e)))
                .unzip();
            out.push(Series {
                step: step.clone(),
                metric,
                runs: runs_of,
                values,
            });
        }
    }
    out
}

/// A change in a series as a change point, or None when it is smaller than the metric's
/// minimum effect.
fn describe(runs: &[RunResult], s: &Series, c: &Change, params: &DaqParams) -> Option<ChangePoint> {
    let (low, high) = c.interval(0.95);
    let (before, after, effect, interval) = match s.metric {
        Metric::ErrorRate => {
            let (b, a) = (logistic(c.before), logistic(c.after));
            let at = |d: f64| logistic(c.before + d) - b;
            (b, a, a - b, (at(low), at(high)))
        }
        _ => (
            c.before.exp(),
            c.after.exp(),
            (c.after - c.before).exp() - 1.0,
            (low.exp() - 1.0, high.exp() - 1.0),
        ),
    };
    if effect.abs() < params.min_effect(s.metric) {
        return None;
    }
    let run = &runs[s.runs[c.at]];
    let previous = c.at.checked_sub(1).map(|i| &runs[s.runs[i]]);
    let commit = |r: &RunResult| r.git.as_ref().and_then(|g| g.commit.clone());
    Some(ChangePoint {
        scenario: run.scenario.clone(),
        step: s.step.clone(),
        metric: s.metric.name().into(),
        worse: (after > before) == s.metric.higher_is_worse(),
        run_id: run.run_id.clone(),
        commit: commit(run),
        started_at: run.started_at.clone(),
        previous_run_id: previous.map(|r| r.run_id.clone()),
        previous_commit: previous.and_then(commit),
        before,
        after,
        effect,
        interval,
        p: c.p,
        runs_before: c.before_runs,
        runs_after: c.after_runs,
        index: s.runs[c.at],
        creep: c.creep.map(|(from, to)| {
            let last = s.runs.len() - 1;
            (
                runs[s.runs[from]].run_id.clone(),
                runs[s.runs[to.min(last)]].run_id.clone(),
            )
        }),
        creep_runs: c.creep.map(|(from, to)| to - from),
    })
}

/// The series of one step's metric over `runs`, in the metric's unit, for plots: per run,
/// its value or None when the run has no value of it.
pub fn values(runs: &[RunResult], step: &str, metric: Metric) -> Vec<Option<f64>> {
    let k = Metric::ALL
        .iter()
        .position(|m| *m == metric)
        .expect("every metric is in ALL");
    runs.iter()
        .map(|r| {
            let s = r
                .steps
                .iter()
                .chain(r.workflow.as_ref())
                .find(|s| s.name == step)?;
            let e = estimates(s, r.measured_seconds)[k]?;
            Some(match metric {
                Metric::ErrorRate => logistic(e.value),
                _ => e.value.exp(),
            })
        })
        .collect()
}

/// Which way a metric's series gets worse.
fn worse(metric: Metric) -> changes::Worse {
    if metric.higher_is_worse() {
        changes::Worse::Up
    } else {
        changes::Worse::Down
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
