//! `rehearse import har`: a browser's recorded session (HAR) becomes a runnable scenario. The
//! API calls are kept and static assets dropped (by what the response was, not only its file
//! name); values a response returned and a later request sent back (tokens, ids, CSRF values)
//! become captures and `{{ var }}` references; credentials become `{{ env.HAR_… }}`
//! references; and what looks generated but cannot be explained is listed, with where it is.
//! Deterministic: the same recording always gives the same file.

mod calls;
mod correlate;
mod emit;
pub mod model;

use std::collections::BTreeMap;

pub use calls::Call;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The scenario's name.
    pub name: String,
    /// Keep only requests to these hosts (host or host:port); empty keeps every host.
    pub include_hosts: Vec<String>,
    /// Drop requests to these hosts.
    pub exclude_hosts: Vec<String>,
    /// The recording's file name, for the scenario's description.
    pub source: String,
}

/// A scenario made from a recording.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The scenario file's text.
    pub toml: String,
    /// Steps written.
    pub steps: usize,
    /// Requests in the recording.
    pub recorded: usize,
    /// Why requests were left out, with how many each.
    pub dropped: BTreeMap<String, usize>,
    /// What people should check: values that look generated but were not explained,
    /// credentials moved to the environment, bodies that could not be imported.
    pub warnings: Vec<String>,
    /// Environment variables the scenario reads (`HAR_…`), to set before running it.
    pub env: Vec<String>,
}

/// Why a recording cannot become a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Not a HAR file.
    #[error("not a HAR file: {0}")]
    Format(String),
    /// Nothing left to replay.
    #[error("no request to replay is left: {0}")]
    Empty(String),
    /// Requests to several origins; a scenario has one target.
    #[error(
        "the recording calls {count} origins ({list}): a scenario has one target; pick one with --include-host"
    )]
    Origins {
        /// How many.
        count: usize,
        /// Each with its number of requests.
        list: String,
    },
}

/// Imports a HAR file's bytes.
pub fn import(bytes: &[u8], options: &Options) -> Result<Imported, ImportError> {
    let har: model::Har =
        serde_json::from_slice(bytes).map_err(|e| ImportError::Format(e.to_string()))?;
    let recorded = har.log.entries.len();
    let mut warnings = Vec::new();
    let (calls, dropped) = calls::keep(har.log.entries, options, &mut warnings)?;
    let (steps, literals) = correlate::steps(&calls, &mut warnings);
    let env: Vec<String> = {
        let mut e: Vec<String> = steps.iter().flat_map(|s| s.env.iter().cloned()).collect();
        e.sort();
        e.dedup();
        e
    };
    let origin = calls[0].origin.clone();
    let toml = emit::scenario(options, &origin, &steps, &literals, &env, recorded);
    Ok(Imported {
        toml,
        steps: steps.len(),
        recorded,
        dropped,
        warnings,
        env,
    })
}

#[cfg(test)]
mod tests;
