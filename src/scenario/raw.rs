//! The scenario file as written: serde types mirroring the TOML, with source spans.
//! Only `build` reads these; everything later sees the validated `Plan`.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::{Spanned, Value};

/// A whole scenario file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Scenario name.
    pub name: Option<Spanned<String>>,
    /// Free text.
    pub description: Option<String>,
    /// Environment variables whose values are not secret (shown as they are in outputs).
    #[serde(default)]
    pub public_env: Vec<Spanned<String>>,
    /// `[target]`.
    pub target: Option<Spanned<RawTarget>>,
    /// `[load]`.
    pub load: Option<Spanned<RawLoad>>,
    /// `[vars]`: static variables.
    #[serde(default)]
    pub vars: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// `[data]`: the CSV feeder.
    pub data: Option<Spanned<RawData>>,
    /// `[[steps]]`.
    #[serde(default)]
    pub steps: Vec<Spanned<RawStep>>,
    /// `[thresholds]`: `metric = "expr"` for the workflow, or `step.metric = "expr"`.
    #[serde(default)]
    pub thresholds: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// `[compare]`: regression-verdict settings.
    pub compare: Option<Spanned<RawCompare>>,
    /// `[databases.NAME]`: connections SQL steps use.
    #[serde(default)]
    pub databases: BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
}

/// `[databases.NAME]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    /// `postgres://`, `mysql://`/`mariadb://` or `sqlite:` URL, `${ENV}` interpolated.
    pub url: Spanned<String>,
    /// Most connections open at once (per access mode).
    pub pool: Option<Spanned<i64>>,
    /// Longest a statement may run, enforced by the server where it can.
    pub statement_timeout: Option<Spanned<Value>>,
}

/// `[steps.sql]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSql {
    /// Which `[databases.NAME]` (optional when there is one).
    pub database: Option<Spanned<String>>,
    /// One statement.
    pub query: Option<Spanned<String>>,
    /// Its bound parameters.
    #[serde(default)]
    pub params: Vec<Spanned<Value>>,
    /// Several statements, in order.
    pub statements: Option<Spanned<Vec<Spanned<RawStatement>>>>,
    /// Run the statements in one transaction.
    pub transaction: Option<Spanned<bool>>,
    /// Refuse writes (default true).
    pub read_only: Option<Spanned<bool>>,
    /// Prepare and cache the statements on each connection (default true).
    pub prepare: Option<Spanned<bool>>,
}

/// One `[[steps.sql.statements]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatement {
    /// The statement.
    pub query: Spanned<String>,
    /// Its bound parameters.
    #[serde(default)]
    pub params: Vec<Spanned<Value>>,
}

/// `[compare]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    /// One-sided significance level per metric.
    pub alpha: Option<Spanned<f64>>,
    /// Runs `branch:NAME` uses as the baseline.
    pub history: Option<Spanned<i64>>,
    /// Smallest change that counts, per metric: `{ p99 = "5%" }`.
    #[serde(default)]
    pub min_effect: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// Band within which a change is "unchanged": `"10%"`.
    pub eq_margin: Option<Spanned<Value>>,
}

/// `[target]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    /// Base URL, `${ENV}` interpolated.
    pub base_url: Option<Spanned<String>>,
    /// Default headers.
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, Spanned<String>>,
    /// Default request timeout.
    pub timeout: Option<Spanned<Value>>,
    /// Extra trusted CA certificates (PEM), relative to the scenario file.
    pub ca_file: Option<Spanned<String>>,
    /// Accept any TLS certificate.
    pub insecure: Option<bool>,
    /// Largest response body kept for checks and captures (bytes, or `"1MiB"`).
    pub max_body: Option<Spanned<Value>>,
    /// Keep a cookie jar per simulated customer (default true).
    pub cookies: Option<Spanned<Value>>,
    /// Follow redirects: `true` (up to 10), `false`, or the most hops.
    pub follow_redirects: Option<Spanned<Value>>,
    /// HTTP version: `"1.1"` (default), `"2"` or `"auto"` (ALPN over TLS).
    pub http: Option<Spanned<Value>>,
    /// HTTP/2 connections the streams are multiplexed over.
    pub connections: Option<Spanned<i64>>,
}

/// `[load]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    /// `"open"` or `"closed"`; inferred from `rate` / `users` when absent.
    pub model: Option<Spanned<String>>,
    /// Open model: arrival rate such as `"50/s"`.
    pub rate: Option<Spanned<Value>>,
    /// Closed model: number of users.
    pub users: Option<Spanned<i64>>,
    /// Measured duration.
    pub duration: Option<Spanned<Value>>,
    /// Warm-up before measuring.
    pub warmup: Option<Spanned<Value>>,
    /// Stop after this many iterations.
    pub iterations: Option<Spanned<i64>>,
    /// Open model: most iterations in flight before arrivals are dropped.
    pub max_in_flight: Option<Spanned<i64>>,
    /// Closed model: pause between a user's iterations.
    pub think: Option<Spanned<Value>>,
    /// Level at the start of the first stage (default 0 when ramping).
    pub start_rate: Option<Spanned<Value>>,
    /// Closed-model counterpart of `start_rate`.
    pub start_users: Option<Spanned<i64>>,
    /// Ramps.
    pub stages: Option<Vec<Spanned<RawStage>>>,
    /// Time in-flight iterations get to finish at the end.
    pub grace: Option<Spanned<Value>>,
    /// Open model's arrival process: `"uniform"` (default) or `"poisson"`.
    pub arrivals: Option<Spanned<String>>,
}

/// One `[[load.stages]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStage {
    /// Stage length.
    pub duration: Spanned<Value>,
    /// Open model: rate reached at the end.
    pub rate: Option<Spanned<Value>>,
    /// Closed model: users reached at the end.
    pub users: Option<Spanned<i64>>,
}

/// `[data]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawData {
    /// CSV file, relative to the scenario file.
    pub file: Spanned<String>,
    /// `sequential` (default), `random` or `unique`.
    pub mode: Option<Spanned<String>>,
}

/// One `[[steps]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Step name.
    pub name: Option<Spanned<String>>,
    /// An HTTP request.
    pub http: Option<Spanned<RawHttp>>,
    /// SQL statements against a `[databases.NAME]`.
    pub sql: Option<Spanned<RawSql>>,
    /// Variables to capture from the response.
    #[serde(default)]
    pub capture: BTreeMap<Spanned<String>, Spanned<RawCapture>>,
    /// Conditions on the response.
    pub check: Option<Spanned<RawCheck>>,
    /// Polling: repeat the request until these conditions hold.
    pub until: Option<Spanned<RawUntil>>,
    /// Pause after the step.
    pub think: Option<Spanned<Value>>,
    /// Request timeout for this step.
    pub timeout: Option<Spanned<Value>>,
    /// Largest response body kept for this step's checks and captures.
    pub max_body: Option<Spanned<Value>>,
    /// Follow redirects for this step: `true`, `false`, or the most hops.
    pub follow_redirects: Option<Spanned<Value>>,
}

/// `[steps.http]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// HTTP method (default GET).
    pub method: Option<Spanned<String>>,
    /// Path after the base URL.
    pub path: Spanned<String>,
    /// Query parameters.
    #[serde(default)]
    pub query: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// Headers.
    #[serde(default)]
    pub headers: BTreeMap<Spanned<String>, Spanned<String>>,
    /// JSON body.
    pub json: Option<Spanned<Value>>,
    /// Form body.
    pub form: Option<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
    /// Raw body.
    pub body: Option<Spanned<String>>,
    /// `multipart/form-data` body: text fields, and files as `{ path, type, filename }`.
    pub multipart: Option<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
}

/// One capture: exactly one of `json`, `header`, `regex`, `cookie`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCapture {
    /// JSON path or pointer into the body.
    pub json: Option<Spanned<String>>,
    /// Response header name.
    pub header: Option<Spanned<String>>,
    /// Regex over the body; its first group (or whole match) is the value.
    pub regex: Option<Spanned<String>>,
    /// A cookie the step's responses set (`Set-Cookie`), by name.
    pub cookie: Option<Spanned<String>>,
    /// A SQL step's column, by name.
    pub column: Option<Spanned<String>>,
    /// Which row a `column` capture reads (default 0).
    pub row: Option<Spanned<i64>>,
    /// A SQL step's number of rows.
    pub row_count: Option<Spanned<bool>>,
}

/// `[steps.check]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    /// Accepted status: `200`, `[200, 201]`, `"2xx"`, `"200..299"`.
    pub status: Option<Spanned<Value>>,
    /// JSON path → expected value.
    #[serde(default)]
    pub json: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// Text (or list of texts) the body must contain.
    pub body_contains: Option<Spanned<Value>>,
    /// A SQL step's row count: `1`, `"1..10"`, `">= 1"`.
    pub rows: Option<Spanned<Value>>,
    /// A SQL step's first-row column → expected value.
    #[serde(default)]
    pub columns: BTreeMap<Spanned<String>, Spanned<Value>>,
}

/// `[steps.until]`: the check syntax, plus the polling pace.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUntil {
    /// Status that ends the polling.
    pub status: Option<Spanned<Value>>,
    /// JSON path → value that ends the polling.
    #[serde(default)]
    pub json: BTreeMap<Spanned<String>, Spanned<Value>>,
    /// Text (or list of texts) that ends the polling.
    pub body_contains: Option<Spanned<Value>>,
    /// Time between the starts of two polls.
    pub interval: Option<Spanned<Value>>,
    /// Longest wait for the condition, from the first poll.
    pub timeout: Option<Spanned<Value>>,
}
