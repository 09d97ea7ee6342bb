//! Scenario files: the TOML format, its validation into a [`Plan`], and templates.

mod build;
mod data;
pub mod diagnostic;
pub mod env;
mod gates;
pub mod json_path;
pub mod limits;
mod load;
pub mod mix;
pub mod plan;
mod raw;
pub mod secrets;
mod sql;
mod steps;
pub mod suite;
mod target;
pub mod template;
pub mod units;

use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};

pub use diagnostic::{Diagnostic, ScenarioErrors, SourceFile};
pub use gates::{DEFAULT_ERROR_RATE, default_error_rate, parse_fraction};
pub use plan::*;

/// Settings from the command line that take precedence over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Replaces `[target] base_url`.
    pub target: Option<String>,
    /// Replaces the measured duration (stages are scaled to it).
    pub duration: Option<Duration>,
    /// Replaces the warm-up.
    pub warmup: Option<Duration>,
    /// Switches to a constant open-model rate (iterations per second).
    pub rate: Option<f64>,
    /// Switches to a constant closed-model number of users.
    pub users: Option<u32>,
    /// Caps the number of iterations.
    pub iterations: Option<u64>,
}

/// Reads and validates a scenario file.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Plan, ScenarioErrors> {
    let unreadable = |e: String| {
        ScenarioErrors(vec![Diagnostic::whole_file(
            path,
            format!("cannot read scenario: {e}"),
        )])
    };
    let bytes = limits::read_capped(path, limits::MAX_SCENARIO_FILE).map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        unreadable(format!(
            "not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let source = SourceFile::new(path, text);
    parse(&source, overrides, &env::process_env)
}

/// Validates a scenario's text; `env` looks up environment variables.
pub fn parse(
    source: &SourceFile,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ScenarioErrors> {
    let raw: raw::RawScenario = toml::from_str(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = friendly(e.message());
        ScenarioErrors(vec![Diagnostic::at(source, span, message)])
    })?;
    build::build(raw, source, overrides, env).map_err(ScenarioErrors)
}

/// Rewrites serde's Rust type names into words a scenario author knows.
fn friendly(message: &str) -> String {
    message
        .trim()
        .replace('\n', " ")
        .replace("expected i64", "expected an integer")
        .replace("expected bool", "expected a boolean (true or false)")
        .replace("expected a sequence", "expected an array")
        .replace("expected struct ", "expected a table ")
}

/// `sha256:<hex>` of a scenario's bytes.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        use std::fmt::Write;
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests;
