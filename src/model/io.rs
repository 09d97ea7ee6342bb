//! Reading and writing results files: tolerant of minimal foreign files, strict about versions.

use std::path::{Path, PathBuf};

use super::histogram::{LatencySummary, decode};
use super::result::{RunResult, SCHEMA_VERSION, StepResult};

/// Why a results file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not valid JSON, or not a results file.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Written by a newer rehearse.
    #[error(
        "{path}: results schema {found} is newer than this rehearse understands (up to {SCHEMA_VERSION}); upgrade rehearse to read it"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: u32,
    },
    /// A histogram that does not decode.
    #[error("{path}: step `{step}`: {message}")]
    Histogram {
        /// The file.
        path: PathBuf,
        /// The step.
        step: String,
        /// What is wrong.
        message: String,
    },
}

impl RunResult {
    /// Reads a results file, filling what a minimal file leaves out from its histograms.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let text = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text, path)
    }

    /// Parses results JSON; `path` is only used in messages.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, ModelError> {
        // Check the version first so a newer file gets the right message, not a field error.
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
            && let Some(found) = v.get("schema").and_then(|s| s.as_u64())
            && found > SCHEMA_VERSION as u64
        {
            return Err(ModelError::NewerSchema {
                path: path.to_path_buf(),
                found: found as u32,
            });
        }
        let mut run: RunResult = serde_json::from_str(text).map_err(|e| ModelError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        run.normalize(path)?;
        Ok(run)
    }

    /// Writes pretty JSON via a temporary file and a rename, so a crash never leaves half a file.
    pub fn write(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut text = serde_json::to_string_pretty(self).expect("results serialize");
        text.push('\n');
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Fills summaries and counts that a minimal file leaves out, and checks every histogram decodes.
    fn normalize(&mut self, path: &Path) -> Result<(), ModelError> {
        let seconds = self.measured_seconds;
        for step in self.steps.iter_mut().chain(self.workflow.as_mut()) {
            normalize_step(step, seconds).map_err(|message| ModelError::Histogram {
                path: path.to_path_buf(),
                step: step.name.clone(),
                message,
            })?;
        }
        Ok(())
    }
}

fn normalize_step(step: &mut StepResult, seconds: Option<f64>) -> Result<(), String> {
    let h = decode(&step.histogram)?;
    if step.latency.count == 0 && !h.is_empty() {
        step.latency = LatencySummary::of(&h);
    }
    if let Some(s) = &step.service_histogram {
        let sh = decode(s)?;
        if step.service_time.count == 0 && !sh.is_empty() {
            step.service_time = LatencySummary::of(&sh);
        }
    }
    if step.outcomes.total() == 0 && step.count == 0 {
        // A foreign file with only a histogram: every recorded value was a response.
        step.outcomes.ok = h.len();
    }
    step.count = step.count.max(step.outcomes.total());
    step.errors = step.outcomes.errors();
    step.error_rate = if step.count == 0 {
        0.0
    } else {
        step.errors as f64 / step.count as f64
    };
    if step.throughput == 0.0
        && let Some(s) = seconds.filter(|s| *s > 0.0)
    {
        step.throughput = step.outcomes.ok as f64 / s;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{encode, new_histogram};

    #[test]
    fn a_minimal_foreign_file_loads_and_is_filled_in() {
        let mut h = new_histogram();
        for v in [1000u64, 2000, 3000, 4000] {
            h.record(v).unwrap();
        }
        let text = format!(
            r#"{{"schema": 1, "scenario": "pay", "steps": [{{"name": "login", "histogram": "{}"}}]}}"#,
            encode(&h)
        );
        let run = RunResult::from_json(&text, Path::new("x.json")).unwrap();
        assert!(run.complete);
        let s = &run.steps[0];
        assert_eq!(s.count, 4);
        assert_eq!(s.outcomes.ok, 4);
        assert_eq!(s.latency.count, 4);
        assert_eq!(s.latency.max, 4001);
    }

    #[test]
    fn newer_schemas_and_bad_histograms_are_refused_clearly() {
        let e = RunResult::from_json(
            r#"{"schema": 99, "scenario": "x", "steps": []}"#,
            Path::new("r.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("schema 99 is newer"), "{e}");
        let e = RunResult::from_json(
            r#"{"schema": 1, "scenario": "x", "steps": [{"name": "a", "histogram": "zz"}]}"#,
            Path::new("r.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("step `a`"), "{e}");
        let e = RunResult::from_json(
            "{\n  \"schema\": 1,\n  \"steps\": []\n}",
            Path::new("r.json"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("missing field `scenario`"), "{e}");
    }
}
