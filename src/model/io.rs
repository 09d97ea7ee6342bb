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
    /// A value no run can have (a negative rate, an overflowing count, a path outside
    /// the file's folder, two steps of one name).
    #[error("{path}: {field}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where in the file, e.g. `steps[2].count`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

/// Largest results file read: a run of a hundred steps is well under a megabyte.
pub const MAX_RESULTS_FILE: u64 = 64 * 1024 * 1024;

/// Largest interval log read beside a results file (a day of 1 s intervals of 40 steps).
pub const MAX_INTERVAL_LOG: u64 = 1024 * 1024 * 1024;

/// Largest count a results file may carry: the store keeps counts as signed 64-bit numbers.
const MAX_COUNT: u64 = i64::MAX as u64;

/// Reads a file the user named, refusing what is not a regular file (a FIFO, a device such
/// as `/dev/zero`, a directory) and anything larger than `cap` bytes, before reading it.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > cap {
        return Err(format!(
            "{} bytes, more than the {} bytes rehearse reads",
            meta.len(),
            cap
        ));
    }
    // The size can change between the check and the read; the read is capped too.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .map_err(|e| e.to_string())?
        .take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("more than the {cap} bytes rehearse reads"));
    }
    Ok(bytes)
}

/// Whether a file name taken from data stays inside its folder: one plain name, no
/// separators, no `..`, not absolute.
pub fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && !name.starts_with('~')
        && Path::new(name).components().count() == 1
        && matches!(
            Path::new(name).components().next(),
            Some(std::path::Component::Normal(_))
        )
}

impl RunResult {
    /// Reads a results file, filling what a minimal file leaves out from its histograms.
    pub fn read(path: &Path) -> Result<Self, ModelError> {
        let unreadable = |message: String| ModelError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other(message),
        };
        let bytes = read_capped(path, MAX_RESULTS_FILE).map_err(unreadable)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            unreadable(format!(
                "not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
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

    /// Checks every value a run can have, then fills summaries and counts that a minimal
    /// file leaves out and checks every histogram decodes.
    fn normalize(&mut self, path: &Path) -> Result<(), ModelError> {
        self.check(path)?;
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

    /// Refuses what no run can hold, naming the field: every later stage (the store, reports,
    /// exports) may then trust the run. `origin` names where it was read from, for messages.
    pub fn validate(&self, origin: &Path) -> Result<(), ModelError> {
        self.check(origin)
    }

    fn check(&self, path: &Path) -> Result<(), ModelError> {
        let invalid = |field: String, message: String| ModelError::Invalid {
            path: path.to_path_buf(),
            field,
            message,
        };
        let number = |field: &str, x: f64, max: f64| {
            if x.is_finite() && x >= 0.0 && x <= max {
                Ok(())
            } else {
                Err(invalid(
                    field.to_string(),
                    format!("{x} is not a number from 0 to {max}"),
                ))
            }
        };
        if self.scenario.trim().is_empty() {
            return Err(invalid(
                "scenario".into(),
                "the scenario name is empty".into(),
            ));
        }
        if let Some(s) = self.measured_seconds {
            number("measured_seconds", s, 1e9)?;
        }
        if let Some(iv) = &self.intervals {
            if !is_plain_file_name(&iv.file) {
                return Err(invalid(
                    "intervals.file".into(),
                    format!(
                        "`{}` is not a file name beside the results file (no folders, no `..`, not absolute)",
                        iv.file.escape_debug()
                    ),
                ));
            }
            number("intervals.seconds", iv.seconds, 86_400.0)?;
        }
        if let Some(it) = &self.iterations {
            for (name, n) in [
                ("started", it.started),
                ("completed", it.completed),
                ("failed", it.failed),
                ("interrupted", it.interrupted),
                ("dropped", it.dropped),
            ] {
                if n > MAX_COUNT {
                    return Err(invalid(
                        format!("iterations.{name}"),
                        format!("{n} is too large"),
                    ));
                }
            }
        }
        if let Some(load) = &self.load {
            number("load.duration_seconds", load.duration_seconds, 1e9)?;
            number("load.warmup_seconds", load.warmup_seconds, 1e9)?;
            if let Some(r) = load.rate {
                number("load.rate", r, 1e12)?;
            }
            if let Some(u) = load.users {
                number("load.users", u, 1e12)?;
            }
        }
        let mut names = std::collections::BTreeSet::new();
        for (i, step) in self.steps.iter().enumerate() {
            if !names.insert(step.name.as_str()) {
                return Err(invalid(
                    format!("steps[{i}].name"),
                    format!("two steps are called `{}`", step.name),
                ));
            }
            if step.name.trim().is_empty() {
                return Err(invalid(
                    format!("steps[{i}].name"),
                    "a step has no name".into(),
                ));
            }
        }
        let labelled = self
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("steps[{i}]"), s))
            .chain(self.workflow.iter().map(|w| ("workflow".to_string(), w)));
        for (at, step) in labelled {
            let mut total: u64 = 0;
            for o in super::Outcome::ALL {
                total = total
                    .checked_add(step.outcomes.get(o))
                    .filter(|t| *t <= MAX_COUNT)
                    .ok_or_else(|| {
                        invalid(format!("{at}.outcomes"), "the counts overflow".into())
                    })?;
            }
            for (name, n) in [("count", step.count), ("errors", step.errors)] {
                if n > MAX_COUNT {
                    return Err(invalid(format!("{at}.{name}"), format!("{n} is too large")));
                }
            }
            if step.errors > step.count.max(total) {
                return Err(invalid(
                    format!("{at}.errors"),
                    format!(
                        "{} errors out of {} attempts",
                        step.errors,
                        step.count.max(total)
                    ),
                ));
            }
            number(&format!("{at}.error_rate"), step.error_rate, 1.0)?;
            number(&format!("{at}.throughput"), step.throughput, 1e12)?;
            for (name, l) in [
                ("latency", &step.latency),
                ("service_time", &step.service_time),
            ] {
                number(&format!("{at}.{name}.mean"), l.mean, 1e13)?;
                number(&format!("{at}.{name}.stdev"), l.stdev, 1e13)?;
                if l.count > MAX_COUNT {
                    return Err(invalid(format!("{at}.{name}.count"), "too large".into()));
                }
            }
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
    fn values_no_run_can_hold_are_refused_with_the_field_named() {
        let mut h = new_histogram();
        h.record(1000).unwrap();
        let step =
            |extra: &str| format!(r#"{{"name": "a", "histogram": "{}"{extra}}}"#, encode(&h));
        let file = |body: &str| format!(r#"{{"schema": 1, "scenario": "x", {body}}}"#);
        let cases = [
            (
                file(&format!(
                    r#""intervals": {{"file": "../../x", "seconds": 1}}, "steps": [{}]"#,
                    step("")
                )),
                "intervals.file",
            ),
            (
                file(&format!(
                    r#""intervals": {{"file": "/etc/hostname", "seconds": 1}}, "steps": [{}]"#,
                    step("")
                )),
                "intervals.file",
            ),
            (
                file(&format!(
                    r#""measured_seconds": -1, "steps": [{}]"#,
                    step("")
                )),
                "measured_seconds",
            ),
            (
                file(&format!(r#""steps": [{}]"#, step(r#", "throughput": -5"#))),
                "steps[0].throughput",
            ),
            (
                file(&format!(r#""steps": [{}]"#, step(r#", "error_rate": 2"#))),
                "steps[0].error_rate",
            ),
            (
                file(&format!(
                    r#""steps": [{}]"#,
                    step(r#", "outcomes": {"ok": 18446744073709551615, "timeout": 5}"#)
                )),
                "steps[0].outcomes",
            ),
            (
                file(&format!(r#""steps": [{}, {}]"#, step(""), step(""))),
                "steps[1].name",
            ),
        ];
        for (text, field) in cases {
            let e = RunResult::from_json(&text, Path::new("r.json")).unwrap_err();
            assert!(
                e.to_string().starts_with(&format!("r.json: {field}:")),
                "{field}: {e}"
            );
        }
        assert!(is_plain_file_name("intervals.hlog"));
        for bad in ["", ".", "..", "a/b", "/x", "..\\x", "a\0b"] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_histogram_that_declares_gigabytes_is_refused_before_allocating() {
        // Compressed cookie, then a 4 GB compressed length, in 12 bytes.
        let mut bytes = vec![0x1c, 0x84, 0x93, 0x14, 0xff, 0xff, 0xff, 0xf0];
        bytes.extend_from_slice(&[0u8; 34]);
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
        assert!(text.len() <= 56, "{}", text.len());
        let e = crate::model::decode(&text).unwrap_err();
        assert!(e.contains("declares"), "{e}");
        // Uncompressed V2 declaring a 4 GB payload.
        let mut v2 = vec![
            0x1c, 0x84, 0x93, 0x13, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0, 0, 0, 0, 3,
        ];
        v2.extend_from_slice(&1u64.to_be_bytes());
        v2.extend_from_slice(&3_600_000_000u64.to_be_bytes());
        v2.extend_from_slice(&1.0f64.to_be_bytes());
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &v2);
        let e = crate::model::decode(&text).unwrap_err();
        assert!(e.contains("payload"), "{e}");
        // Bounds that need more counters than any real histogram.
        let mut wide = vec![0x1c, 0x84, 0x93, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
        wide.extend_from_slice(&1u64.to_be_bytes());
        wide.extend_from_slice(&u64::MAX.to_be_bytes());
        wide.extend_from_slice(&1.0f64.to_be_bytes());
        let text = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &wide);
        let e = crate::model::decode(&text).unwrap_err();
        assert!(e.contains("counters"), "{e}");
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
