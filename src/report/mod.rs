//! Reports: views of results for people, from results and comparisons only (never the
//! runner, the store or a plan). One format per file, each with a single entry function.

pub mod console;
pub mod dashboard;
mod escape;
mod html;
mod junit;
mod markdown;
pub mod palette;
pub mod plots;
mod png;
pub mod suite;
mod text;
pub(crate) mod views;
pub mod watch;

use std::path::{Path, PathBuf};

use crate::model::Comparison;
use crate::model::{IntervalSeries, RunResult};

pub use escape::xml as escape_xml;
pub use junit::junit;
pub use markdown::markdown;

/// Runs of the baseline branch a report's trends show by default.
pub const DEFAULT_TREND_RUNS: usize = 30;

/// One run of the baseline branch, for history trends.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// Run id.
    pub run_id: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// Median latency, µs.
    pub p50: f64,
    /// 99th percentile, µs.
    pub p99: f64,
}

/// A step's (or the workflow's) trend on the baseline branch, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct StepHistory {
    /// Step name (`workflow` for the whole workflow).
    pub step: String,
    /// The runs.
    pub points: Vec<TrendPoint>,
}

/// Everything a report shows.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    /// The runs reported on (the candidates of a comparison); at least one.
    pub candidates: Vec<RunResult>,
    /// Each candidate's interval log, parsed (empty when it was not found).
    pub intervals: Vec<IntervalSeries>,
    /// The baseline runs of a comparison (empty for a single-run report).
    pub baseline: Vec<RunResult>,
    /// The comparison, if there is a baseline.
    pub comparison: Option<Comparison>,
    /// Trends of the baseline branch (or the run's own branch), per step.
    pub history: Vec<StepHistory>,
    /// The branch the history is of.
    pub history_branch: Option<String>,
    /// Where the HTML will be reachable, for links in summary.md (default `index.html`).
    pub link: Option<String>,
    /// What could not be gathered for the report (a store that failed to answer), for people.
    pub notes: Vec<String>,
}

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A plot failed to render.
    #[error("rendering {what}: {message}")]
    Plot {
        /// Which plot.
        what: String,
        /// What went wrong.
        message: String,
    },
}

/// The report's index.html as text (what `rehearse serve` shows for a run).
pub fn html_page(input: &ReportInput) -> Result<String, ReportError> {
    html::html(input)
}

/// Writes the report folder: index.html, summary.png, summary.md, junit.xml, results.json
/// and comparison.json. Returns the files written.
pub fn write(input: &ReportInput, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut folder = Folder::create(dir)?;
    folder.put("index.html", html::html(input)?.as_bytes())?;
    folder.put("summary.png", &png::png(input)?)?;
    folder.put("summary.md", markdown(input, true).as_bytes())?;
    folder.put("junit.xml", junit(input).as_bytes())?;
    if let [only] = input.candidates.as_slice() {
        folder.json("results.json", only)?;
    } else {
        for (i, run) in input.candidates.iter().enumerate() {
            folder.json(&format!("results-{}.json", i + 1), run)?;
        }
    }
    if let Some(c) = &input.comparison {
        folder.json("comparison.json", c)?;
    }
    Ok(folder.written)
}

/// A report folder being written: what went in so far, and errors that name the file.
pub(crate) struct Folder {
    dir: PathBuf,
    /// The files written, in order.
    pub(crate) written: Vec<PathBuf>,
}

impl Folder {
    /// Creates the folder (and its parents).
    pub(crate) fn create(dir: &Path) -> Result<Self, ReportError> {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Ok(Folder {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
    }

    /// Writes one file of the folder.
    pub(crate) fn put(&mut self, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
        self.written.push(path);
        Ok(())
    }

    /// Writes one value as pretty JSON with a final newline.
    pub(crate) fn json(
        &mut self,
        name: &str,
        value: &impl serde::Serialize,
    ) -> Result<(), ReportError> {
        let text = serde_json::to_string_pretty(value).expect("model types serialize") + "\n";
        self.put(name, text.as_bytes())
    }
}
