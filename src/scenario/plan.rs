//! The validated scenario: every default applied, every reference resolved. Nothing after
//! validation reads the raw TOML model.

use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};
use regex::Regex;

use super::template::Template;
use super::units::Think;

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Scenario name (`name` in the file).
    pub name: String,
    /// Free text from `description`.
    pub description: String,
    /// The file it came from.
    pub source: PathBuf,
    /// `sha256:<hex>` of the file's bytes, so runs of different scenario versions are told apart.
    pub hash: String,
    /// Where requests go.
    pub target: TargetPlan,
    /// How much load, for how long.
    pub load: LoadPlan,
    /// The CSV data feeder, if any.
    pub data: Option<DataFeed>,
    /// The workflow, in order.
    pub steps: Vec<StepPlan>,
    /// Names of captured variables, indexed by [`super::template::VarRef::Capture`].
    pub captures: Vec<String>,
    /// Cookie names templates read (`{{ cookie.NAME }}`), by slot.
    pub cookie_names: Vec<String>,
    /// Absolute thresholds (SLOs), checked on every run.
    pub thresholds: Vec<crate::model::Threshold>,
    /// Regression-verdict settings.
    pub compare: crate::model::CompareSettings,
    /// Values from the environment and base-URL credentials, masked in everything written.
    pub secrets: super::secrets::Secrets,
    /// The databases SQL steps use, by [`SqlPlan::database`].
    pub databases: Vec<DatabasePlan>,
}

/// The system under test.
#[derive(Debug, Clone)]
pub struct TargetPlan {
    /// The base URL (after `${ENV}` interpolation and `--target`), without any user
    /// information: this is what results and reports show.
    pub base_url: String,
    /// `Authorization: Basic …` from user information in the base URL (`https://user:pass@host`).
    pub basic_auth: Option<HeaderValue>,
    /// `http` or `https`.
    pub tls: Option<TlsPlan>,
    /// Host name or address to connect to.
    pub host: String,
    /// Port to connect to.
    pub port: u16,
    /// Value of the `Host` header (host and port, never user information).
    pub authority: String,
    /// Path prefix every step's path is appended to (no trailing slash).
    pub base_path: String,
    /// Headers sent with every request unless a step overrides them.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Default per-request timeout.
    pub timeout: Duration,
    /// Default largest response body kept for checks and captures, bytes.
    pub max_body: u64,
    /// Whether each simulated customer keeps a cookie jar.
    pub cookies: bool,
    /// Default most redirects a step follows (0: none, the 3xx is the step's response).
    pub max_redirects: u32,
    /// Which HTTP version requests use.
    pub http: HttpVersion,
    /// HTTP/2: how many connections the requests' streams share.
    pub connections: u32,
}

/// The HTTP version a target is spoken to in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpVersion {
    /// HTTP/1.1: one request at a time per connection, a connection per customer.
    #[default]
    Http1,
    /// HTTP/2: over TLS by ALPN, in plain text with prior knowledge (h2c).
    Http2,
    /// Over TLS, what the server picks by ALPN (HTTP/2 preferred); HTTP/1.1 in plain text.
    Auto,
}

/// TLS settings for an `https` target.
#[derive(Debug, Clone, Default)]
pub struct TlsPlan {
    /// Extra CA certificates (PEM) trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Accept any certificate: an explicit, loud opt-in for self-signed staging hosts.
    pub insecure: bool,
}

/// Load settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    /// Open (arrival rate) or closed (users).
    pub model: LoadModel,
    /// Load run before measurement starts; recorded in the time series only.
    pub warmup: Duration,
    /// How the load level changes over the measured part of the run.
    pub profile: Profile,
    /// Stop after this many iterations have started (besides the time limit).
    pub iterations: Option<u64>,
    /// How long in-flight iterations may finish after the end before they are cut off.
    pub grace: Duration,
    /// The open model's arrival process.
    pub arrivals: Arrivals,
}

/// How the open model spaces arrivals at a given rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arrivals {
    /// Evenly: the k-th arrival when the integral of the rate reaches k (wrk2, k6).
    #[default]
    Uniform,
    /// A Poisson process (pgbench -R, independent customers): exponential gaps, seeded.
    Poisson,
}

impl LoadPlan {
    /// Warm-up plus the measured profile.
    pub fn total_duration(&self) -> Duration {
        self.warmup + self.profile.duration()
    }
}

/// Which load model.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadModel {
    /// Iterations arrive at a rate whatever the target's speed (the profile is iterations/s).
    Open {
        /// Arrivals beyond this many iterations in flight are dropped and counted.
        max_in_flight: usize,
    },
    /// A number of users loop through the workflow (the profile is users).
    Closed {
        /// Pause between a user's iterations.
        think: Option<Think>,
    },
}

/// A piecewise-linear load level over time: iterations/s (open) or users (closed).
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// Level at the start of the first stage.
    pub start: f64,
    /// Stages in order; each ramps linearly from the previous level to its target.
    pub stages: Vec<Stage>,
}

/// One ramp or hold of a profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stage {
    /// How long the stage lasts.
    pub duration: Duration,
    /// Level reached at its end.
    pub target: f64,
}

impl Profile {
    /// A constant level.
    pub fn constant(level: f64, duration: Duration) -> Self {
        Self {
            start: level,
            stages: vec![Stage {
                duration,
                target: level,
            }],
        }
    }

    /// Sum of the stage durations.
    pub fn duration(&self) -> Duration {
        self.stages.iter().map(|s| s.duration).sum()
    }

    /// The level `t` into the profile (the last target after its end).
    pub fn level_at(&self, t: Duration) -> f64 {
        let mut from = self.start;
        let mut elapsed = Duration::ZERO;
        for stage in &self.stages {
            if t < elapsed + stage.duration {
                let f = (t - elapsed).as_secs_f64() / stage.duration.as_secs_f64();
                return from + (stage.target - from) * f;
            }
            elapsed += stage.duration;
            from = stage.target;
        }
        from
    }

    /// The highest level reached.
    pub fn peak(&self) -> f64 {
        self.stages
            .iter()
            .map(|s| s.target)
            .fold(self.start, f64::max)
    }

    /// The level used during warm-up: where the profile starts, or its first target
    /// when it ramps up from zero.
    pub fn warmup_level(&self) -> f64 {
        if self.start > 0.0 {
            self.start
        } else {
            self.stages.first().map(|s| s.target).unwrap_or(0.0)
        }
    }
}

/// CSV rows feeding variables to iterations.
#[derive(Debug, Clone)]
pub struct DataFeed {
    /// The CSV file.
    pub file: PathBuf,
    /// Header names, indexed by [`super::template::VarRef::Column`].
    pub columns: Vec<String>,
    /// The rows.
    pub rows: Arc<Vec<Vec<String>>>,
    /// How rows are handed out.
    pub mode: FeedMode,
}

/// How a data feeder picks the row for an iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedMode {
    /// In file order, wrapping around.
    Sequential,
    /// A random row each time.
    Random,
    /// Each row once; the run stops scheduling when they are used up.
    Unique,
}

/// One workflow step.
#[derive(Debug, Clone)]
pub struct StepPlan {
    /// The step's name, as reports show it.
    pub name: String,
    /// What it does.
    pub action: StepAction,
    /// Values taken from the response into variables.
    pub captures: Vec<CapturePlan>,
    /// Conditions the response must meet.
    pub checks: CheckPlan,
    /// Pause after the step, before the next one.
    pub think: Option<Think>,
    /// Limit for the whole request (connect, send, response body).
    pub timeout: Duration,
    /// Largest response body kept for checks and captures, bytes; a larger one fails them.
    pub max_body: u64,
    /// Most redirects followed (0: none, the 3xx is the step's response).
    pub max_redirects: u32,
    /// Polling: the request is repeated until this holds (`[steps.until]`).
    pub until: Option<UntilPlan>,
}

/// A polling step's condition and pace.
#[derive(Debug, Clone)]
pub struct UntilPlan {
    /// What a response must show to end the polling (no status condition when `status` is empty).
    pub checks: CheckPlan,
    /// Time from the start of one poll to the start of the next.
    pub interval: Duration,
    /// Longest time from the first poll's start to a response that satisfies `checks`.
    pub timeout: Duration,
}

impl StepPlan {
    /// Whether the response body is needed: by a check, the polling condition or a capture.
    pub fn needs_body(&self) -> bool {
        self.checks.needs_body()
            || self.until.as_ref().is_some_and(|u| u.checks.needs_body())
            || self.captures_need_body()
    }

    /// Whether a capture reads the response body (JSON or regex, not a header).
    pub fn captures_need_body(&self) -> bool {
        self.captures.iter().any(|c| {
            matches!(
                c.source,
                CaptureSource::Json { .. } | CaptureSource::Regex(_)
            )
        })
    }
}

/// The kinds of step.
#[derive(Debug, Clone)]
pub enum StepAction {
    /// One HTTP request.
    Http(HttpRequestPlan),
    /// SQL statements against one database.
    Sql(SqlPlan),
}

/// A `[databases.NAME]` connection.
#[derive(Debug, Clone)]
pub struct DatabasePlan {
    /// Its name in the scenario.
    pub name: String,
    /// Which database server speaks at the other end.
    pub driver: Driver,
    /// The URL as interpolated, password included: only the runner reads it.
    pub url: String,
    /// The URL without its password, for people.
    pub display: String,
    /// Host to connect to (none for SQLite), checked against the allowed hosts.
    pub host: Option<String>,
    /// Most connections open at once, per access mode.
    pub pool: u32,
    /// Longest a statement may run, enforced by the server where it can.
    pub statement_timeout: Duration,
}

/// A database server kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// SQLite (a file).
    Sqlite,
}

impl Driver {
    /// The name people know it by.
    pub fn name(self) -> &'static str {
        match self {
            Driver::Postgres => "PostgreSQL",
            Driver::MySql => "MySQL",
            Driver::Sqlite => "SQLite",
        }
    }
}

/// A SQL step's statements.
#[derive(Debug, Clone)]
pub struct SqlPlan {
    /// Index into [`Plan::databases`].
    pub database: usize,
    /// The statements, in order; captures and checks read the last one's rows.
    pub statements: Vec<StatementPlan>,
    /// All statements in one transaction.
    pub transaction: bool,
    /// Writes refused (by the server: the session is read-only).
    pub read_only: bool,
    /// Prepared once per connection and reused.
    pub prepare: bool,
    /// What reports show: the database and the first statement's start.
    pub display: String,
    /// Rows of the last statement captures and checks read: the highest row index they need.
    pub rows_needed: Option<usize>,
    /// The columns captures and checks read, sorted, each once: the only ones decoded.
    pub columns: Vec<String>,
}

/// One statement and its parameters.
#[derive(Debug, Clone)]
pub struct StatementPlan {
    /// The SQL text, sent as written (parameters are bound, never spliced in).
    pub query: String,
    /// Bound parameters, in placeholder order.
    pub params: Vec<ParamPlan>,
}

/// A bound parameter: a rendered template sent with a type.
#[derive(Debug, Clone)]
pub struct ParamPlan {
    /// The type it is bound as.
    pub kind: ParamKind,
    /// Its value, as text before conversion.
    pub value: Template,
}

/// The SQL type a parameter is bound as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Text.
    Text,
    /// A 64-bit integer.
    Int,
    /// A double.
    Float,
    /// A boolean.
    Bool,
}

/// An HTTP request with templated parts.
#[derive(Debug, Clone)]
pub struct HttpRequestPlan {
    /// Method and path as written, e.g. `POST /api/invoices/{{ invoice }}/pay`, for reports.
    pub display: String,
    /// Request method.
    pub method: Method,
    /// Path (after the target's base path), possibly with a query string; variables URL-encoded.
    pub path: Template,
    /// Query parameters appended to the path: encoded name and value template.
    pub query: Vec<(String, Template)>,
    /// Headers for this step (override the target's).
    pub headers: Vec<(HeaderName, Template)>,
    /// The request body.
    pub body: BodyPlan,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum BodyPlan {
    /// No body.
    Empty,
    /// JSON text with variables escaped as JSON strings; sent as `application/json`.
    Json(Template),
    /// `application/x-www-form-urlencoded` text.
    Form(Template),
    /// Sent as written.
    Raw(Template),
    /// `multipart/form-data`: its parts, in order.
    Multipart(Vec<PartPlan>),
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone)]
pub struct PartPlan {
    /// The field name.
    pub name: String,
    /// What it holds.
    pub content: PartContent,
}

/// A multipart field's content.
#[derive(Debug, Clone)]
pub enum PartContent {
    /// A text field (templated, inserted as is).
    Text(Template),
    /// A file, read once when the scenario loads and shared by every request.
    File {
        /// Its bytes.
        bytes: bytes::Bytes,
        /// The file name sent.
        filename: String,
        /// Its media type.
        content_type: String,
    },
}

/// One capture: where a variable's value comes from.
#[derive(Debug, Clone)]
pub struct CapturePlan {
    /// Index of the variable, see [`Plan::captures`].
    pub slot: usize,
    /// Where to read.
    pub source: CaptureSource,
}

/// Where a capture reads its value.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// A JSON pointer into the response body; `display` is what the user wrote.
    Json {
        /// RFC 6901 pointer.
        pointer: String,
        /// The expression as written (`$.a.b[0]` or `/a/b/0`).
        display: String,
    },
    /// A response header.
    Header(HeaderName),
    /// The first capture group (or the whole match) of a regex over the body.
    Regex(Regex),
    /// A cookie the step's responses set, by name.
    Cookie(String),
    /// A SQL step's column in one row of the last statement's result.
    Column {
        /// The row (0: the first).
        row: usize,
        /// The column's name.
        column: String,
    },
    /// A SQL step's number of rows (of the last statement).
    RowCount,
}

/// Conditions on a response.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    /// Accepted status codes (in a polling condition, empty: any status the checks accept).
    pub status: Vec<RangeInclusive<u16>>,
    /// JSON values that must be equal to what is expected.
    pub json: Vec<JsonCheck>,
    /// Texts the body must contain.
    pub body_contains: Vec<Template>,
    /// A SQL step's accepted row counts.
    pub rows: Option<RangeInclusive<u64>>,
    /// A SQL step's first-row columns and their expected values.
    pub columns: Vec<(String, Expected)>,
}

impl CheckPlan {
    /// Whether the body is needed to evaluate this step's checks or captures.
    pub fn needs_body(&self) -> bool {
        !self.json.is_empty() || !self.body_contains.is_empty()
    }
}

/// A `check.json` entry.
#[derive(Debug, Clone)]
pub struct JsonCheck {
    /// RFC 6901 pointer.
    pub pointer: String,
    /// The path as written.
    pub display: String,
    /// The expected value.
    pub expected: Expected,
}

/// An expected JSON value.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Equal to this value.
    Value(serde_json::Value),
    /// A string (or a number or bool, compared as text) equal to the rendered template.
    Text(Template),
}
