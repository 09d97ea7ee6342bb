//! `Comparison`: what a comparison concluded, as printed, written to comparison.json and
//! read by reports. A versioned contract like results.json, with its own JSON Schema
//! (`schema/comparison.schema.json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::gates::{SummaryMetric, ThresholdResult};

/// The comparison-file format version this build writes.
pub const COMPARISON_SCHEMA: u32 = 2;

/// The outcome of comparing candidate runs with a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Format version (see [`COMPARISON_SCHEMA`]).
    pub schema: u32,
    /// Scenario name.
    pub scenario: String,
    /// What the candidate was compared with.
    pub baseline: Side,
    /// The runs under test.
    pub candidate: Side,
    /// Per step, in workflow order, then the workflow.
    pub steps: Vec<StepComparison>,
    /// Absolute thresholds, evaluated on the candidate runs pooled.
    #[serde(default)]
    pub thresholds: Vec<ThresholdResult>,
    /// Caveats people must read with the verdicts (e.g. a history too short to learn the noise).
    #[serde(default)]
    pub notes: Vec<String>,
    /// The settings the verdicts used.
    pub settings: Settings,
    /// For an interleaved A/B session: its rounds and what this setup can detect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ab: Option<AbInfo>,
    /// Runs whose load generator was starved (their latencies include its own delay).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harness_limited: Vec<LimitedRun>,
    /// The one-line conclusion.
    pub overall: Overall,
}

impl Comparison {
    /// Its worst latency change: the largest regressed one, else the largest of any step.
    pub fn worst_latency(&self) -> Option<(&StepComparison, &MetricComparison)> {
        let latencies = self.steps.iter().flat_map(|s| {
            s.metrics
                .iter()
                .filter(|m| m.unit == Unit::Us)
                .map(move |m| (s, m))
        });
        let largest = |a: &(&StepComparison, &MetricComparison),
                       b: &(&StepComparison, &MetricComparison)| {
            a.1.change.total_cmp(&b.1.change)
        };
        latencies
            .clone()
            .filter(|(_, m)| m.verdict == Verdict::Regressed)
            .max_by(largest)
            .or_else(|| latencies.max_by(largest))
    }
}

/// A run whose load generator was starved, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitedRun {
    /// The run.
    pub run_id: String,
    /// `baseline` or `candidate`.
    pub side: String,
    /// The figures that make it harness-limited.
    pub reasons: Vec<String>,
}

/// One side of a comparison.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// How it was named: `branch:main`, a run id, a file, `latest`.
    pub spec: String,
    /// The runs used.
    pub run_ids: Vec<String>,
    /// Their commits, where known.
    pub commits: Vec<String>,
    /// Their branches, where known.
    pub branches: Vec<String>,
    /// Start of the first run (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    /// End of the last run (RFC 3339).
    #[serde(default)]
    pub to: Option<String>,
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No change beyond the equivalence margin, with confidence.
    Unchanged,
    /// Better beyond the minimum effect, with confidence.
    Improved,
    /// Not enough evidence either way.
    Inconclusive,
    /// Worse beyond the minimum effect, with confidence.
    Regressed,
}

impl Verdict {
    /// The verdict's name.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Unchanged => "unchanged",
            Verdict::Improved => "improved",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Regressed => "regressed",
        }
    }
}

/// Which part of a workflow a record is about: one named step, or the whole workflow.
/// In JSON it is two fields, `name` and `workflow`, so readers need no reserved step name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "StepIdFields", into = "StepIdFields")]
pub enum StepId {
    /// A step, by its name in the scenario.
    Step(String),
    /// The whole workflow, from an iteration's start to its last step's end.
    Workflow,
}

impl StepId {
    /// The name reports show: the step's, or `workflow`.
    pub fn name(&self) -> &str {
        match self {
            StepId::Step(name) => name,
            StepId::Workflow => "workflow",
        }
    }

    /// Whether this is the whole workflow.
    pub fn is_workflow(&self) -> bool {
        matches!(self, StepId::Workflow)
    }
}

impl std::fmt::Display for StepId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The JSON shape of a [`StepId`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StepIdFields {
    name: String,
    #[serde(default)]
    workflow: bool,
}

impl From<StepIdFields> for StepId {
    fn from(f: StepIdFields) -> Self {
        if f.workflow {
            StepId::Workflow
        } else {
            StepId::Step(f.name)
        }
    }
}

impl From<StepId> for StepIdFields {
    fn from(id: StepId) -> Self {
        StepIdFields {
            name: id.name().to_string(),
            workflow: id.is_workflow(),
        }
    }
}

/// One step (or the workflow) compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepComparison {
    /// The step (`name`, and `workflow: true` for the whole workflow).
    #[serde(flatten)]
    pub id: StepId,
    /// The worst of its metrics' verdicts (regressed > inconclusive > improved > unchanged).
    pub verdict: Verdict,
    /// The one-sided level its metrics were tested at after Holm's correction.
    pub alpha: f64,
    /// Per metric.
    pub metrics: Vec<MetricComparison>,
}

/// The unit of a compared metric's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Microseconds (latency).
    Us,
    /// A fraction of attempts (error rate).
    Fraction,
    /// Per second (throughput).
    PerSecond,
}

impl Unit {
    /// The unit a metric's values are in.
    pub fn of(metric: SummaryMetric) -> Unit {
        match metric {
            SummaryMetric::ErrorRate => Unit::Fraction,
            SummaryMetric::Throughput => Unit::PerSecond,
            _ => Unit::Us,
        }
    }
}

/// Where the run-to-run (or round-to-round) noise a test used came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Noise {
    /// The documented prior: too little history to learn it.
    Prior,
    /// Learned from this many earlier runs of the baseline branch, moderated toward the prior.
    History {
        /// History runs.
        runs: u32,
    },
    /// Learned from interleaved rounds (and earlier A/A rounds), moderated toward the paired prior.
    Rounds {
        /// Rounds of this session.
        rounds: u32,
        /// Rounds of earlier A/A sessions pooled in.
        aa_rounds: u32,
    },
}

impl std::fmt::Display for Noise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Noise::Prior => f.write_str("prior"),
            Noise::History { runs } => write!(f, "history ({runs} runs)"),
            Noise::Rounds { rounds, aa_rounds } => {
                write!(f, "rounds ({rounds} + {aa_rounds} A/A)")
            }
        }
    }
}

/// One metric of one step compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `p50`, `p90`, `p99`, `mean`, `error_rate` or `throughput`.
    pub metric: SummaryMetric,
    /// `us` (latency), `fraction` (error rate) or `per_second` (throughput).
    pub unit: Unit,
    /// Baseline value in the unit (error rates: measured, pooled over the runs).
    pub baseline: f64,
    /// Candidate value in the unit (error rates: measured, pooled over the runs).
    pub candidate: f64,
    /// The change between the two values above: relative for latency and throughput
    /// (0.12 = +12%), in absolute fraction points for error rates (0.0012 = +0.12 point).
    pub change: f64,
    /// Confidence interval of the change the verdict was judged on, at the test's level,
    /// in the same terms as `change`.
    pub interval: [f64; 2],
    /// The change the test estimated, where it differs from `change` (error rates: the
    /// model's smoothed estimate, in fraction points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<f64>,
    /// The verdict.
    pub verdict: Verdict,
    /// One-sided p-value in the bad direction.
    pub p_worse: f64,
    /// For an inconclusive verdict: more candidate runs that would likely settle it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_needed: Option<u32>,
    /// The smallest worsening this comparison would have called regressed 80% of the time,
    /// in the terms of `change`: what "no regression detected" can rule out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detectable: Option<f64>,
    /// Where the run-to-run noise estimate came from.
    pub noise: Noise,
    /// Degrees of freedom of the test.
    pub df: f64,
    /// The run-to-run (or round-to-round) noise the test used, standard deviation on its scale.
    pub sigma: f64,
}

/// An interleaved A/B session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbInfo {
    /// Rounds run (each a baseline run and a candidate run, in ABBA order).
    pub rounds: usize,
    /// Rounds (numbered from 1) left out of the verdict because a side's load generator was
    /// starved; `log_ratios` holds the other rounds, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<usize>,
    /// True when both sides were the same target (an A/A session measuring noise).
    pub same_target: bool,
    /// Earlier A/A sessions of the scenario whose noise was pooled in.
    pub aa_sessions: usize,
    /// Per step and metric, each round's log ratio (candidate over baseline; log scale,
    /// logit for error rates): 0.0953 is +10%.
    pub log_ratios: LogRatios,
    /// Per metric: the smallest increase this many rounds would detect 80% of the time, with
    /// the noise measured here (A/A) or the priors.
    pub minimum_detectable_effect: BTreeMap<SummaryMetric, f64>,
}

/// Per step (its name, `workflow` for the whole workflow), per metric: one log ratio per round.
pub type LogRatios = BTreeMap<String, BTreeMap<SummaryMetric, Vec<f64>>>;

impl AbInfo {
    /// "rounds 2 and 5 left out: the load generator was starved there", or None when every
    /// round counted: the one wording of the console and the report.
    pub fn left_out_words(&self) -> Option<String> {
        let rounds: Vec<String> = self.left_out.iter().map(usize::to_string).collect();
        let named = match rounds.as_slice() {
            [] => return None,
            [one] => format!("round {one}"),
            [init @ .., last] => format!("rounds {} and {last}", init.join(", ")),
        };
        Some(format!(
            "{named} left out: the load generator was starved there"
        ))
    }

    /// The rounds (numbered from 1) the verdict used, in order: one per entry of `log_ratios`.
    pub fn used_rounds(&self) -> Vec<usize> {
        (1..=self.rounds)
            .filter(|r| !self.left_out.contains(r))
            .collect()
    }

    /// "p50 +15.1%, p90 +18.6%, p99 +59.4%, mean +20.4%": what the rounds can detect.
    pub fn detectable(&self) -> String {
        [
            SummaryMetric::P50,
            SummaryMetric::P90,
            SummaryMetric::P99,
            SummaryMetric::Mean,
        ]
        .iter()
        .filter_map(|m| {
            self.minimum_detectable_effect
                .get(m)
                .map(|v| format!("{} +{:.1}%", m.name(), v * 100.0))
        })
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// The settings verdicts were made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// One-sided level per metric, before Holm.
    pub alpha: f64,
    /// Steps in Holm's family.
    pub holm_family: usize,
    /// Minimum effects per metric.
    pub min_effect: BTreeMap<SummaryMetric, f64>,
    /// Equivalence margins per metric.
    pub eq_margin: BTreeMap<SummaryMetric, f64>,
}

/// The conclusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overall {
    /// The worst step verdict.
    pub verdict: Verdict,
    /// Steps (or the workflow) that regressed.
    pub regressed: Vec<String>,
    /// Steps that improved.
    pub improved: Vec<String>,
    /// Metrics still inconclusive.
    pub inconclusive: usize,
    /// Thresholds breached, as written.
    pub breaches: Vec<String>,
    /// True when nothing regressed and every threshold held.
    pub passed: bool,
    /// One line for people.
    pub summary: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_id_is_a_name_and_a_flag_in_json() {
        let s = StepComparison {
            id: StepId::Workflow,
            verdict: Verdict::Unchanged,
            alpha: 0.005,
            metrics: Vec::new(),
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["name"], "workflow");
        assert_eq!(json["workflow"], true);
        let back: StepComparison = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
        let step: StepComparison = serde_json::from_value(serde_json::json!({
            "name": "workflow", "verdict": "regressed", "alpha": 0.1, "metrics": []
        }))
        .unwrap();
        assert_eq!(
            step.id,
            StepId::Step("workflow".into()),
            "a step may be called anything"
        );
        assert_eq!(
            serde_json::to_value(Noise::History { runs: 4 }).unwrap(),
            serde_json::json!({"source": "history", "runs": 4})
        );
    }
}
