//! The results contract: plain serde types every stage after the runner reads (`results.json`).

pub mod changes;
pub mod comparison;
pub mod gates;
pub mod health;
pub mod histogram;
pub mod interval_log;
mod io;
pub mod outcome;
pub mod result;
pub mod suite;
pub mod thresholds;

pub use changes::{ChangePoint, RunRef, WatchReport, WatchedChange, WatchedScenario};
pub use comparison::{
    AbInfo, COMPARISON_SCHEMA, Comparison, LimitedRun, LogRatios, MetricComparison, Noise, Overall,
    Settings, Side, StepComparison, StepId, Unit, Verdict,
};
pub use gates::{CompareSettings, Op, SummaryMetric, Threshold, ThresholdResult};
pub use histogram::{LatencySummary, decode, decode_bytes, encode, new_histogram};
pub use interval_log::{IntervalPoint, IntervalSeries, parse_interval_log};
pub use io::{MAX_INTERVAL_LOG, MAX_RESULTS_FILE, ModelError, is_plain_file_name, read_capped};
pub use outcome::{Outcome, OutcomeCounts};
pub use result::*;
pub use suite::{SUITE_SCHEMA, SuiteComparison, SuiteMemberResult, SuiteOverall};
