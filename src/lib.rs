//! rehearse: replay customer workflows against a target, record coordinated-omission-correct
//! latency histograms, and catch regressions before customers do.

pub mod app;
pub mod cli;
pub mod compare;
pub mod import;
pub mod model;
pub mod record;
pub mod report;
pub mod runner;
pub mod sandbox;
pub mod scenario;
pub mod stats;
pub mod store;
