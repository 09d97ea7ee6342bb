//! `RunResult`: one run, as written to `results.json` and read back by every later stage.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::comparison::StepId;
use super::gates::{CompareSettings, ThresholdResult};
use super::histogram::LatencySummary;
use super::outcome::OutcomeCounts;

/// The results-file format version this build writes.
pub const SCHEMA_VERSION: u32 = 1;

/// One run of a scenario. Only `schema`, `scenario` and each step's `name` and `histogram`
/// are required when reading, so results made elsewhere can be imported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Format version (see [`SCHEMA_VERSION`]).
    pub schema: u32,
    /// Unique, time-sortable run id (UUIDv7).
    #[serde(default)]
    pub run_id: String,
    /// Scenario name.
    pub scenario: String,
    /// `sha256:<hex>` of the scenario file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_hash: Option<String>,
    /// Scenario file path as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_file: Option<String>,
    /// Target base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Load settings the run used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<LoadSettings>,
    /// Which harness made the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness: Option<Harness>,
    /// The machine that generated the load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// Version-control state of the code under test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<Git>,
    /// Free-form `--label key=value` pairs.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When the run started (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// When it ended (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Length of the measured window (after warm-up) in seconds; rates are per this window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_seconds: Option<f64>,
    /// False when the run was interrupted; such runs are never chosen as baselines.
    #[serde(default = "yes")]
    pub complete: bool,
    /// Why the run stopped: `duration`, `iterations`, `data exhausted`, `interrupted (SIGINT)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<String>,
    /// Workflow iterations by fate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<IterationCounts>,
    /// The whole workflow, from an iteration's intended start to its last step's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<StepResult>,
    /// Each step, in workflow order.
    pub steps: Vec<StepResult>,
    /// The per-interval time series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intervals: Option<Intervals>,
    /// The scenario's absolute thresholds, evaluated on this run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdResult>,
    /// The scenario's regression-verdict settings.
    #[serde(default, skip_serializing_if = "CompareSettings::is_empty")]
    pub compare: CompareSettings,
    /// How the load generator itself fared: schedule lag, CPU, machine pressure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<HarnessHealth>,
    /// The group the run belongs to: a suite run, or a shard of a sharded run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupRef>,
    /// A run merged from the shards of a sharded run: each shard's provenance, by part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shards: Vec<ShardInfo>,
}

/// Where one shard of a merged run came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardInfo {
    /// Its part of the group (1-based).
    pub part: u32,
    /// The shard's own run id.
    pub run_id: String,
    /// The machine (pod) that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The commit it ran from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Hash of the scenario file it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_hash: Option<String>,
    /// The rehearse version that ran it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When it started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Whether it ran to its end.
    pub complete: bool,
}

/// A run's place in a group of runs made together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    /// The group's id (a suite run's or a sharded run's).
    pub id: String,
    /// What the group is.
    pub kind: GroupKind,
    /// The part of the group that made this run (1-based): the CI job of a split suite, or
    /// shard index + 1 of a sharded run.
    pub part: u32,
    /// How many parts the group has.
    pub parts: u32,
}

/// What a group of runs is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Every scenario of a suite, run by one CI job or split across several.
    Suite,
    /// One scenario's load split across machines (shards), merged into one run.
    Sharded,
}

impl GroupKind {
    /// The name stored with the group.
    pub fn name(self) -> &'static str {
        match self {
            GroupKind::Suite => "suite",
            GroupKind::Sharded => "sharded",
        }
    }
}

/// How the load generator fared during a run. A starved generator sends late (schedule
/// lag) and reads responses late (CPU pressure), and with coordinated-omission correction
/// both would pass for target latency; this says when that happened.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HarnessHealth {
    /// Schedule lag of every attempt in the measured window: when it was sent minus when it
    /// was due, µs.
    pub lag: LatencySummary,
    /// The schedule-lag histogram, same encoding as the steps'.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub lag_histogram: String,
    /// Average number of cores this process kept busy in the measured window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores: Option<f64>,
    /// Share of the measured window in which some task waited for a CPU (Linux pressure
    /// stall information), 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pressure_some: Option<f64>,
    /// Share of the machine's CPU time stolen by the hypervisor in the measured window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal: Option<f64>,
    /// Per interval, warm-up included.
    #[serde(default)]
    pub intervals: HealthIntervals,
    /// True when the generator was starved enough that latencies include its own delay.
    pub harness_limited: bool,
    /// Why, with the figures (empty when not limited).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// The generator's health per interval, aligned with `intervals.started`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HealthIntervals {
    /// Schedule lag's 99th percentile, µs.
    pub lag_p99: Vec<u64>,
    /// Largest schedule lag, µs.
    pub lag_max: Vec<u64>,
    /// Cores this process kept busy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cpu_cores: Vec<f64>,
    /// Share of the interval some task waited for a CPU.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pressure_some: Vec<f64>,
}

fn yes() -> bool {
    true
}

/// The label naming the A/B session a run was a round of.
pub const LABEL_AB_SESSION: &str = "ab.session";
/// The label saying where a run came from (`demo` for `rehearse demo`).
pub const LABEL_SOURCE: &str = "source";

/// What a run was made for, which decides whether it can stand for its branch's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// An ordinary run of the scenario against its target.
    Plain,
    /// A round of an interleaved A/B session (its target is one side of the session).
    AbRound,
    /// A `rehearse demo` run against the built-in sandbox.
    Demo,
    /// One shard of a sharded run: a share of the load, never a baseline by itself (the
    /// merged run is).
    Shard,
}

impl RunKind {
    /// The name stored with the run.
    pub fn name(self) -> &'static str {
        match self {
            RunKind::Plain => "plain",
            RunKind::AbRound => "ab",
            RunKind::Demo => "demo",
            RunKind::Shard => "shard",
        }
    }
}

impl RunResult {
    /// What the run was made for, from its labels.
    pub fn kind(&self) -> RunKind {
        if self
            .group
            .as_ref()
            .is_some_and(|g| g.kind == GroupKind::Sharded)
        {
            RunKind::Shard
        } else if self.labels.contains_key(LABEL_AB_SESSION) {
            RunKind::AbRound
        } else if self.labels.get(LABEL_SOURCE).map(String::as_str) == Some("demo") {
            RunKind::Demo
        } else {
            RunKind::Plain
        }
    }

    /// Why the run failed as a run, if it did: nothing measured can stand for the target's
    /// speed, so it is never a baseline. A run whose attempts got responses that failed
    /// their checks is not failed: those failures are measurements.
    pub fn failure(&self) -> Option<String> {
        let attempted: u64 = self.steps.iter().map(|s| s.count).sum();
        let answered: u64 = self.steps.iter().map(|s| s.outcomes.responses()).sum();
        let succeeded: u64 = self.steps.iter().map(|s| s.outcomes.ok).sum();
        if attempted > 0 && answered == 0 {
            return Some("the target never answered".into());
        }
        if attempted == 0 {
            return Some("nothing was attempted".into());
        }
        match (&self.iterations, &self.workflow) {
            (Some(it), _) if it.started > 0 && it.completed == 0 => {
                Some("no iteration completed".into())
            }
            _ if succeeded == 0 => Some("no attempt succeeded".into()),
            _ => None,
        }
    }

    /// Why the run cannot serve as a baseline (interrupted or failed), if so.
    pub fn not_a_baseline(&self) -> Option<String> {
        if let Some(why) = self.failure() {
            return Some(format!("it failed: {why}"));
        }
        (!self.complete).then(|| {
            format!(
                "it is incomplete ({})",
                self.stop_reason.as_deref().unwrap_or("interrupted")
            )
        })
    }

    /// The steps in workflow order, then the workflow when the run has one.
    pub fn step_ids(&self) -> Vec<StepId> {
        self.steps
            .iter()
            .map(|s| StepId::Step(s.name.clone()))
            .chain(self.workflow.iter().map(|_| StepId::Workflow))
            .collect()
    }

    /// A step's (or the workflow's) record.
    pub fn step(&self, id: &StepId) -> Option<&StepResult> {
        match id {
            StepId::Workflow => self.workflow.as_ref(),
            StepId::Step(name) => self.steps.iter().find(|s| &s.name == name),
        }
    }
}

/// One step's (or the workflow's) measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// Step name.
    pub name: String,
    /// What the step does, e.g. `POST /api/login`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Attempts in the measured window.
    #[serde(default)]
    pub count: u64,
    /// Attempts by outcome.
    #[serde(default)]
    pub outcomes: OutcomeCounts,
    /// Attempts that count against the target (all but `ok` and `interrupted`).
    #[serde(default)]
    pub errors: u64,
    /// `errors / count`.
    #[serde(default)]
    pub error_rate: f64,
    /// Successful attempts per second of the measured window.
    #[serde(default)]
    pub throughput: f64,
    /// Latency from when the step was due (coordinated-omission corrected), µs.
    #[serde(default)]
    pub latency: LatencySummary,
    /// Latency from when the request was sent (service time, uncorrected), µs.
    #[serde(default)]
    pub service_time: LatencySummary,
    /// The corrected-latency histogram: base64 of HdrHistogram's V2 compressed encoding.
    pub histogram: String,
    /// The service-time histogram, same encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_histogram: Option<String>,
    /// The tag of this step's histograms in the interval log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_tag: Option<String>,
    /// Per interval: successful attempts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline_ok: Vec<u64>,
    /// Per interval: attempts that count against the target.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline_errors: Vec<u64>,
    /// The first error message seen for each outcome kind, to say *why*.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_samples: BTreeMap<String, String>,
    /// How late this step's requests were sent (sent minus due), µs: the harness's delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag: Option<LatencySummary>,
    /// A polling step's requests (`[steps.until]`); absent for other steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polls: Option<PollStats>,
}

/// How many requests a polling step's attempts sent, measured window only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PollStats {
    /// Attempts that polled (every attempt that was sent).
    pub attempts: u64,
    /// Requests those attempts sent, every poll counted.
    pub requests: u64,
    /// Requests per attempt, on average.
    pub mean: f64,
    /// The most requests one attempt sent.
    pub max: u64,
}

impl PollStats {
    /// From counts; `mean` is rounded to 2 decimals.
    pub fn new(attempts: u64, requests: u64, max: u64) -> Self {
        let mean = if attempts == 0 {
            0.0
        } else {
            (requests as f64 / attempts as f64 * 100.0).round() / 100.0
        };
        Self {
            attempts,
            requests,
            mean,
            max,
        }
    }
}

impl StepResult {
    /// A step whose every recorded latency was a successful attempt (e.g. one imported from
    /// another tool's histogram), with `throughput` attempts per second.
    pub fn from_histogram(
        name: &str,
        histogram: &hdrhistogram::Histogram<u64>,
        throughput: f64,
    ) -> Self {
        let summary = super::histogram::LatencySummary::of(histogram);
        StepResult {
            name: name.to_string(),
            request: None,
            count: histogram.len(),
            outcomes: OutcomeCounts {
                ok: histogram.len(),
                ..OutcomeCounts::default()
            },
            errors: 0,
            error_rate: 0.0,
            throughput,
            latency: summary.clone(),
            service_time: summary,
            histogram: super::histogram::encode(histogram),
            service_histogram: None,
            interval_tag: None,
            timeline_ok: Vec::new(),
            timeline_errors: Vec::new(),
            error_samples: BTreeMap::new(),
            lag: None,
            polls: None,
        }
    }

    /// Marks `errors` of the attempts as server errors (5xx), keeping the counts consistent.
    pub fn with_errors(mut self, errors: u64) -> Self {
        self.outcomes.ok = self.count.saturating_sub(errors);
        self.outcomes.http_5xx = errors;
        self.errors = errors;
        self.error_rate = if self.count == 0 {
            0.0
        } else {
            errors as f64 / self.count as f64
        };
        self
    }
}

/// The load a run was made with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSettings {
    /// `open` or `closed`.
    pub model: String,
    /// Open model: peak arrival rate, iterations per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Closed model: peak users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<f64>,
    /// Ramps, when the level changes over time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<StageSettings>,
    /// Measured duration in seconds.
    pub duration_seconds: f64,
    /// Warm-up in seconds.
    pub warmup_seconds: f64,
    /// Iteration cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iterations: Option<u64>,
    /// Open model: in-flight cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<usize>,
    /// Open model with Poisson arrivals: `"poisson"` (absent: evenly spaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<String>,
}

/// One stage of a ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSettings {
    /// Stage length in seconds.
    pub duration_seconds: f64,
    /// Level at its end (iterations/s or users).
    pub target: f64,
}

/// The harness that made a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Harness {
    /// `rehearse`.
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The load-generating machine: results from different machines are not comparable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Host name.
    pub hostname: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// A short stable hash of the kind of machine: OS, architecture, CPUs and CPU model.
    pub fingerprint: String,
}

/// Version-control state of the working directory (or CI variables).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Git {
    /// Commit id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Branch name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether there were uncommitted changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
}

/// Workflow iterations by fate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IterationCounts {
    /// Started in the measured window.
    pub started: u64,
    /// Every step succeeded.
    pub completed: u64,
    /// Ended early by a failed step.
    pub failed: u64,
    /// Cut off at the end of the run.
    pub interrupted: u64,
    /// Open model: due but not started because `max_in_flight` iterations were running.
    pub dropped: u64,
}

/// The time series: per-interval histograms live in an HdrHistogram interval log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intervals {
    /// The interval log, relative to results.json.
    pub file: String,
    /// Interval length in seconds.
    pub seconds: f64,
    /// How many leading intervals are warm-up.
    #[serde(default)]
    pub warmup_intervals: usize,
    /// Per interval: iterations started.
    #[serde(default)]
    pub started: Vec<u64>,
    /// Per interval: iterations dropped.
    #[serde(default)]
    pub dropped: Vec<u64>,
}
