//! The results contract: plain serde types every stage after the runner reads (`results.json`).

pub mod gates;
pub mod histogram;
pub mod interval_log;
mod io;
pub mod outcome;
pub mod result;

pub use gates::{CompareSettings, Op, SummaryMetric, Threshold, ThresholdResult};
pub use histogram::{LatencySummary, decode, encode, new_histogram};
pub use interval_log::{IntervalPoint, IntervalSeries, parse_interval_log};
pub use io::ModelError;
pub use outcome::{Outcome, OutcomeCounts};
pub use result::*;
