//! `Comparison`: what a comparison concluded, as printed, written to comparison.json and
//! read by reports. A versioned contract like results.json.

use serde::{Deserialize, Serialize};

use crate::model::ThresholdResult;

/// The comparison-file format version this build writes.
pub const COMPARISON_SCHEMA: u32 = 1;

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
    /// The one-line conclusion.
    pub overall: Overall,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// How it was named: `branch:main`, a run id, a file, `latest`.
    pub spec: String,
    /// The runs used.
    pub run_ids: Vec<String>,
    /// Their commits, where known.
    pub commits: Vec<String>,
    /// Their branches, where known.
    pub branches: Vec<String>,
    /// Start of the first run and end of the last (RFC 3339).
    #[serde(default)]
    pub from: Option<String>,
    /// End of the last run.
    #[serde(default)]
    pub to: Option<String>,
}

/// A verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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

impl From<crate::stats::Verdict> for Verdict {
    fn from(v: crate::stats::Verdict) -> Self {
        match v {
            crate::stats::Verdict::Unchanged => Verdict::Unchanged,
            crate::stats::Verdict::Improved => Verdict::Improved,
            crate::stats::Verdict::Inconclusive => Verdict::Inconclusive,
            crate::stats::Verdict::Regressed => Verdict::Regressed,
        }
    }
}

/// One step (or the workflow) compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepComparison {
    /// Step name (`workflow` for the whole workflow).
    pub name: String,
    /// True for the whole workflow.
    #[serde(default)]
    pub workflow: bool,
    /// The worst of its metrics' verdicts (regressed > inconclusive > improved > unchanged).
    pub verdict: Verdict,
    /// The one-sided level its metrics were tested at after Holm's correction.
    pub alpha: f64,
    /// Per metric.
    pub metrics: Vec<MetricComparison>,
}

/// One metric of one step compared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricComparison {
    /// `p50`, `p90`, `p99`, `mean`, `error_rate` or `throughput`.
    pub metric: String,
    /// `us` (latency), `fraction` (error rate) or `per_second` (throughput).
    pub unit: String,
    /// Baseline centre in the unit (error rates: measured, pooled over the runs).
    pub baseline: f64,
    /// Candidate centre in the unit (error rates: measured, pooled over the runs).
    pub candidate: f64,
    /// Relative change (0.12 = +12%).
    pub change: f64,
    /// Confidence interval of the change at the test's level.
    pub interval: [f64; 2],
    /// For error rates: the change in percentage points and its interval (1.0 = one point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<[f64; 3]>,
    /// The verdict.
    pub verdict: Verdict,
    /// One-sided p-value in the bad direction.
    pub p_worse: f64,
    /// For an inconclusive verdict: more candidate runs that would likely settle it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runs_needed: Option<u32>,
    /// Where the run-to-run noise estimate came from: `prior`, `history`, `rounds`.
    pub noise: String,
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
    /// True when both sides were the same target (an A/A session measuring noise).
    pub same_target: bool,
    /// Earlier A/A sessions of the scenario whose noise was pooled in.
    pub aa_sessions: usize,
    /// Per step and metric, each round's log ratio (candidate over baseline; log scale,
    /// logit for error rates): 0.0953 is +10%.
    pub log_ratios:
        std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<f64>>>,
    /// Per metric: the smallest increase this many rounds would detect 80% of the time, with
    /// the noise measured here (A/A) or the priors.
    pub minimum_detectable_effect: std::collections::BTreeMap<String, f64>,
}

impl AbInfo {
    /// "p50 +15.1%, p90 +18.6%, p99 +59.4%, mean +20.4%": what the rounds can detect.
    pub fn detectable(&self) -> String {
        ["p50", "p90", "p99", "mean"]
            .iter()
            .filter_map(|m| {
                self.minimum_detectable_effect
                    .get(*m)
                    .map(|v| format!("{m} +{:.1}%", v * 100.0))
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
    pub min_effect: std::collections::BTreeMap<String, f64>,
    /// Equivalence margins per metric.
    pub eq_margin: std::collections::BTreeMap<String, f64>,
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
