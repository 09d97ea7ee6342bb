//! The application layer between the command line and the library: it turns flags, scenario
//! files and the environment into validated settings, wires the stages (run, store,
//! compare, report) and ends every command in an [`Outcome`] or a typed [`AppError`] whose
//! kind is the exit code. It is the only module that knows every other one.

pub mod allow;
pub mod args;
pub mod commands;
pub mod console;
pub mod dashboard;
pub mod error;
pub mod pipeline;
pub mod progress;
pub mod provenance;
pub mod publish;
pub mod select;
pub mod settings;
pub mod signals;

pub use error::{AppError, AppResult, Classify, Outcome};
