//! One module per command, each with a single entry function.

pub mod ab;
pub mod compare;
pub mod demo;
pub mod import;
pub mod merge;
pub mod new;
pub mod report;
pub mod run;
pub mod runs;
pub mod sandbox;
pub mod serve;
pub mod sharded;
pub mod suite;
pub mod validate;
pub mod watch;
