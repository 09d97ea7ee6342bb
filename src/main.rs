//! The `rehearse` binary: runs the command and maps its outcome to the exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    match rehearse::cli::main() {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(rehearse::cli::exit_code_for(&err))
        }
    }
}
