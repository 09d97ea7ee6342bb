//! How a command ends when it does not conclude: a typed error whose kind decides the exit
//! code, in one place (`exit_code`), for every command.

use crate::scenario::ScenarioErrors;

/// Why a command stopped without a verdict.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad input or configuration (a flag, a file, a run that does not exist, a store that
    /// cannot be opened). For `run`, `ab` and `demo` it is found before anything is sent.
    #[error("{}", chain(.0))]
    Invalid(anyhow::Error),
    /// Scenario files with errors, each located at file:line:col; nothing was sent.
    #[error("{0}")]
    Scenario(ScenarioErrors),
    /// A run failed (the target never answered), or something after the load failed
    /// (storing, comparing, reporting): what was measured is kept, the message says where.
    /// Also a run named on the command line that failed as a run.
    #[error("{}", chain(.0))]
    RunFailed(anyhow::Error),
    /// Stopped by Ctrl-C or SIGTERM; what was finished is kept.
    #[error("{0}")]
    Interrupted(String),
}

impl AppError {
    /// The process exit code of this error (see the README's table).
    pub fn exit_code(&self) -> u8 {
        match self {
            AppError::Invalid(_) | AppError::Scenario(_) => 2,
            AppError::RunFailed(_) | AppError::Interrupted(_) => 3,
        }
    }

    /// Bad input or configuration.
    pub fn invalid(e: impl Into<anyhow::Error>) -> Self {
        AppError::Invalid(e.into())
    }

    /// A failure during or after the load.
    pub fn run_failed(e: impl Into<anyhow::Error>) -> Self {
        AppError::RunFailed(e.into())
    }
}

/// "context: cause: its cause", leaving out a cause its error's message already quotes (sqlx
/// and io errors often repeat their source in their own text).
fn chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !last.is_empty() && last.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

impl From<ScenarioErrors> for AppError {
    fn from(e: ScenarioErrors) -> Self {
        AppError::Scenario(e)
    }
}

/// What a command concluded when it did conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing regressed, every threshold held: exit 0.
    Passed,
    /// A regression, a threshold breach, or an inconclusive verdict with
    /// `--fail-on-inconclusive`: exit 1.
    Failed,
}

impl Outcome {
    /// The process exit code.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => 0,
            Outcome::Failed => 1,
        }
    }

    /// The worse of two outcomes.
    pub fn and(self, other: Outcome) -> Outcome {
        if self == Outcome::Failed || other == Outcome::Failed {
            Outcome::Failed
        } else {
            Outcome::Passed
        }
    }
}

/// A command's result.
pub type AppResult = Result<Outcome, AppError>;

/// Converting errors at the edge of a stage: `.invalid()?` for input that cannot be used,
/// `.run_failed()?` for a failure once load has been sent.
pub trait Classify<T> {
    /// The error is bad input (exit 2).
    fn invalid(self) -> Result<T, AppError>;
    /// The error happened during or after the load (exit 3).
    fn run_failed(self) -> Result<T, AppError>;
}

impl<T, E: Into<anyhow::Error>> Classify<T> for Result<T, E> {
    fn invalid(self) -> Result<T, AppError> {
        self.map_err(AppError::invalid)
    }

    fn run_failed(self) -> Result<T, AppError> {
        self.map_err(AppError::run_failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_documented_exit_code() {
        assert_eq!(Outcome::Passed.exit_code(), 0);
        assert_eq!(Outcome::Failed.exit_code(), 1);
        assert_eq!(AppError::invalid(anyhow::anyhow!("x")).exit_code(), 2);
        assert_eq!(AppError::Scenario(ScenarioErrors::default()).exit_code(), 2);
        assert_eq!(AppError::run_failed(anyhow::anyhow!("x")).exit_code(), 3);
        assert_eq!(AppError::Interrupted("SIGINT".into()).exit_code(), 3);
        assert_eq!(Outcome::Passed.and(Outcome::Failed), Outcome::Failed);
    }

    #[test]
    fn a_cause_already_quoted_by_its_error_is_said_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("error communicating with database: {0}")]
        struct Io(#[source] std::io::Error);
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = anyhow::Error::new(Io(io)).context("cannot open the store `x`");
        assert_eq!(
            AppError::invalid(e).to_string(),
            "cannot open the store `x`: error communicating with database: Connection refused"
        );
        let plain = anyhow::anyhow!("disk full").context("writing results.json");
        assert_eq!(
            AppError::run_failed(plain).to_string(),
            "writing results.json: disk full"
        );
    }
}
