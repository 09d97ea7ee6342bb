//! Statistics behind rehearse's verdicts: per-run estimates from latency histograms, the
//! drift-aware log-quantile (DAQ) test, its paired mode, Holm's correction across steps, and
//! the seeded reference generator the acceptance tests draw from. Pure functions of their
//! inputs: no clock, no I/O, no randomness outside `simulate`.
//!
//! The design and the figures these must reach are in `regression-detection.md`; its
//! `simulation.py` is the reference for every formula detail.

pub mod changes;
pub mod daq;
pub mod distribution;
pub mod estimate;
pub mod hdr;
pub mod holm;
pub mod metric;
pub mod noise;
pub mod paired;
pub mod params;
pub mod simulate;
pub mod special;
pub mod student_t;
pub mod verdict;

#[cfg(test)]
mod property;

pub use daq::daq;
pub use distribution::Distribution;
pub use estimate::{Estimate, estimate_error_rate, estimate_latency, estimate_throughput};
pub use holm::{Evidence, MetricEvidence, holm, test_steps};
pub use metric::Metric;
pub use noise::NoiseSource;
pub use paired::{daq_paired, minimum_detectable_effect};
pub use params::{DaqParams, PerMetric};
pub use verdict::{Interval, MetricTest, PointsChange, Verdict};
