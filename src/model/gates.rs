//! Gates a run carries from its scenario: absolute thresholds (SLOs) with their results on
//! the run, and the settings regression verdicts use. Recorded in results.json so a later
//! comparison of stored runs applies the same gates without the scenario file.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A metric of a step's summary: what a threshold measures, a history charts and a
/// comparison judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryMetric {
    /// Median latency.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// 99.9th percentile.
    P999,
    /// Maximum latency.
    Max,
    /// Mean latency.
    Mean,
    /// Share of failed attempts.
    ErrorRate,
    /// Successful attempts per second.
    Throughput,
}

impl SummaryMetric {
    /// Every metric with its name.
    pub const ALL: [(&'static str, SummaryMetric); 9] = [
        ("p50", SummaryMetric::P50),
        ("p90", SummaryMetric::P90),
        ("p95", SummaryMetric::P95),
        ("p99", SummaryMetric::P99),
        ("p999", SummaryMetric::P999),
        ("max", SummaryMetric::Max),
        ("mean", SummaryMetric::Mean),
        ("error_rate", SummaryMetric::ErrorRate),
        ("throughput", SummaryMetric::Throughput),
    ];

    /// The metric's name.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map(|(n, _)| *n)
            .expect("every metric is listed")
    }

    /// The metric called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
    }

    /// The quantile, for percentile metrics.
    pub fn quantile(self) -> Option<f64> {
        match self {
            SummaryMetric::P50 => Some(0.50),
            SummaryMetric::P90 => Some(0.90),
            SummaryMetric::P95 => Some(0.95),
            SummaryMetric::P99 => Some(0.99),
            SummaryMetric::P999 => Some(0.999),
            _ => None,
        }
    }

    /// Whether values are latencies in microseconds.
    pub fn is_latency(self) -> bool {
        !matches!(self, SummaryMetric::ErrorRate | SummaryMetric::Throughput)
    }
}

impl fmt::Display for SummaryMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// At most.
    #[serde(rename = "<=")]
    Le,
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// At least.
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    /// Whether `value op limit` holds.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        })
    }
}

/// One absolute threshold, e.g. `pay.p99 <= 400ms`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// The step it applies to (`workflow` for the whole workflow).
    pub step: String,
    /// True when it applies to the whole workflow.
    #[serde(default)]
    pub workflow: bool,
    /// What is measured.
    pub metric: SummaryMetric,
    /// How the value must compare with the limit.
    pub op: Op,
    /// The limit: µs for latencies, a fraction for error rates, per second for throughput.
    pub limit: f64,
    /// As written in the scenario, for people.
    pub expression: String,
    /// True for the threshold rehearse applies when the scenario sets none of its kind
    /// (the workflow's error rate); reports mark it "default".
    #[serde(default, skip_serializing_if = "is_false")]
    pub default: bool,
}

impl Threshold {
    /// The threshold as people read it: its expression, marked `(default)` when rehearse
    /// applied it because the scenario set none of its kind.
    pub fn label(&self) -> String {
        if self.default {
            format!("{} (default)", self.expression)
        } else {
            self.expression.clone()
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A threshold evaluated on a run (or on pooled candidate runs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdResult {
    /// The threshold.
    #[serde(flatten)]
    pub threshold: Threshold,
    /// The measured value (none when the step recorded nothing).
    #[serde(default)]
    pub value: Option<f64>,
    /// Whether it held. A threshold with nothing to measure fails: no data is no evidence.
    pub passed: bool,
}

/// Regression-verdict settings from the scenario's `[compare]` table (all optional).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareSettings {
    /// One-sided significance level per metric, before Holm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// How many baseline-branch runs `branch:NAME` uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<usize>,
    /// Smallest change that counts, per metric (p50, p90, p99, mean, throughput as fractions; error_rate in absolute points).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub min_effect: BTreeMap<String, f64>,
    /// Half-width of the band within which a change is called unchanged, as a fraction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eq_margin: Option<f64>,
}

impl CompareSettings {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
