//! `SuiteComparison`: one verdict for every scenario of a suite (suite.json), each
//! scenario's comparison as comparison.json has it, and what was missing. A contract like
//! results.json and comparison.json, with its JSON Schema (`schema/suite.schema.json`).

use serde::{Deserialize, Serialize};

use super::comparison::Comparison;

/// The suite-file format version this build writes.
pub const SUITE_SCHEMA: u32 = 1;

/// A suite run compared, or checked against its thresholds, as a whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteComparison {
    /// Format version (see [`SUITE_SCHEMA`]).
    pub schema: u32,
    /// The suite's name.
    pub suite: String,
    /// The suite run's id.
    pub id: String,
    /// What the candidates were compared with (`branch:main`), when they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<String>,
    /// Each scenario's comparison, in suite order (empty without a baseline).
    #[serde(default)]
    pub scenarios: Vec<Comparison>,
    /// Each scenario's runs and thresholds, in suite order.
    pub members: Vec<SuiteMemberResult>,
    /// Scenarios the suite expected that no run stands for, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Scenarios the suite file skips.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// The one conclusion.
    pub overall: SuiteOverall,
}

/// One scenario of a suite run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteMemberResult {
    /// The scenario.
    pub scenario: String,
    /// Its runs in this suite run.
    pub run_ids: Vec<String>,
    /// Which part (CI job) of the suite ran it.
    pub part: u32,
    /// Thresholds breached (as written), evaluated on its runs pooled.
    #[serde(default)]
    pub breaches: Vec<String>,
    /// Its verdict: `regressed`, `improved`, `unchanged`, `inconclusive`, or `not compared`.
    pub verdict: String,
    /// Its worst change, for people: `pay p99 +23.4% [+8.1%, +41.0%]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worst: Option<String>,
    /// True when nothing regressed and every threshold held.
    pub passed: bool,
}

/// The suite's conclusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuiteOverall {
    /// True when no scenario regressed or breached a threshold, and none is missing.
    pub passed: bool,
    /// `scenario/step` of every regression.
    pub regressed: Vec<String>,
    /// `scenario: threshold` of every breach.
    pub breaches: Vec<String>,
    /// Metrics still inconclusive, over every scenario.
    pub inconclusive: usize,
    /// Steps in the suite's one Holm family.
    pub holm_family: usize,
    /// One line for people.
    pub summary: String,
}
