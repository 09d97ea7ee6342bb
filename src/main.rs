//! The `rehearse` binary: runs the command and maps its outcome to the exit code.

use std::process::ExitCode;

use rehearse::app::{AppError, console};

fn main() -> ExitCode {
    match rehearse::cli::main() {
        Ok(outcome) => ExitCode::from(outcome.exit_code()),
        Err(err) => {
            match &err {
                // Scenario errors are already located and formatted.
                AppError::Scenario(e) => console::note(&e.to_string()),
                other => console::note(&format!("error: {other}")),
            }
            ExitCode::from(err.exit_code())
        }
    }
}
