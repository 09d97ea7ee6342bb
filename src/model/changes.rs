//! Change points found in a branch's history: where a step's metric moved to a new level and
//! stayed there, with the commit range to bisect.

use serde::{Deserialize, Serialize};

/// One change point of one step's metric over a branch's runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangePoint {
    /// The scenario.
    pub scenario: String,
    /// The step (`workflow` for the whole workflow).
    pub step: String,
    /// p50, p90, p99, mean, error_rate or throughput.
    pub metric: String,
    /// Whether the change is for the worse (slower, more errors, less throughput).
    pub worse: bool,
    /// The first run at the new level.
    pub run_id: String,
    /// Its commit, where known.
    pub commit: Option<String>,
    /// Its start time.
    pub started_at: Option<String>,
    /// The last run before the change: the commit range to bisect is
    /// `previous_commit..commit`.
    pub previous_run_id: Option<String>,
    /// Its commit, where known.
    pub previous_commit: Option<String>,
    /// Level before the change, in the metric's unit (µs, a fraction for the error rate,
    /// per second for throughput).
    pub before: f64,
    /// Level after the change, in the same unit.
    pub after: f64,
    /// The change: relative (0.08 = +8%), in points of the rate for the error rate.
    pub effect: f64,
    /// 95% interval of the change, in the same terms.
    pub interval: (f64, f64),
    /// Calibrated p-value of the split, weighted for its scan's share of the level (before
    /// the correction across steps).
    pub p: f64,
    /// Runs at the old level before it (back to the previous change).
    pub runs_before: usize,
    /// Runs at the new level since (up to the next change, or the newest run).
    pub runs_after: usize,
    /// Position of the first run at the new level among the runs looked at, oldest first.
    pub index: usize,
    /// A creep (the level moved over several runs, not at once): its first run and the
    /// first run after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creep: Option<(String, String)>,
    /// Runs the creep took.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creep_runs: Option<usize>,
}

impl ChangePoint {
    /// "+8.1%", or "+0.52pt" for the error rate.
    pub fn effect_text(&self) -> String {
        if self.metric == "error_rate" {
            format!("{:+.2}pt", self.effect * 100.0)
        } else {
            format!("{:+.1}%", self.effect * 100.0)
        }
    }

    /// The commit range to bisect, `previous..commit`, as far as the commits are known.
    pub fn range(&self) -> String {
        let short = |c: &Option<String>| {
            c.as_deref()
                .map(|c| c.chars().take(12).collect::<String>())
                .unwrap_or_else(|| "?".into())
        };
        format!("{}..{}", short(&self.previous_commit), short(&self.commit))
    }
}

/// What `rehearse watch` found: per scenario, its change points over the branch's last runs,
/// each marked new (announced by this watch) or known.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchReport {
    /// The branch watched.
    pub branch: String,
    /// Every scenario looked at.
    pub scenarios: Vec<WatchedScenario>,
}

/// One scenario's history as watched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchedScenario {
    /// The scenario.
    pub scenario: String,
    /// The runs looked at, oldest first.
    pub runs: Vec<RunRef>,
    /// Its change points.
    pub changes: Vec<WatchedChange>,
}

/// A run of a watched history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRef {
    /// Its id.
    pub run_id: String,
    /// Its commit.
    pub commit: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
}

/// A change point and whether this watch announced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchedChange {
    /// The change.
    pub change: ChangePoint,
    /// First announced by this watch.
    pub new: bool,
    /// The metric's value in each run looked at (None where the run has none), for the trend.
    pub series: Vec<Option<f64>>,
}

impl WatchReport {
    /// The changes this watch announced.
    pub fn new_changes(&self) -> impl Iterator<Item = &WatchedChange> {
        self.scenarios
            .iter()
            .flat_map(|s| s.changes.iter())
            .filter(|c| c.new)
    }
}
