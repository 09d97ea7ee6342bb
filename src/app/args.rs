//! The command line as typed: one clap struct per command, every value range-checked where
//! it is parsed (the ranges are `scenario::limits`, shared with scenario files). Nothing
//! here is validated against a scenario or the environment: `settings` does that.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::scenario::limits;

/// Load overrides shared by `run`, `ab` and `demo`.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadArgs {
    /// Measured duration, e.g. 30s (ramps are scaled to it; at most 7 days).
    #[arg(long, value_parser = duration_arg)]
    pub duration: Option<Duration>,
    /// Warm-up before measuring, e.g. 5s (at most 1h).
    #[arg(long, value_parser = warmup_arg)]
    pub warmup: Option<Duration>,
    /// Constant open-model arrival rate, e.g. 50/s (at most 1,000,000/s).
    #[arg(long, value_parser = rate_arg)]
    pub rate: Option<f64>,
    /// Constant closed-model number of users (1 to 100,000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=limits::MAX_USERS as i64))]
    pub users: Option<u32>,
    /// Stop after this many measured iterations.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=limits::MAX_ITERATIONS))]
    pub iterations: Option<u64>,
}

/// How verdicts are reached and what fails.
#[derive(Debug, Args, Clone, Default)]
pub struct VerdictArgs {
    /// One-sided significance level per metric, before Holm's correction (0 < A < 0.5) [default: 0.005].
    #[arg(long, value_name = "A", value_parser = alpha_arg)]
    pub alpha: Option<f64>,
    /// Treat an inconclusive verdict as a failure (exit 1).
    #[arg(long)]
    pub fail_on_inconclusive: bool,
}

/// Verdict settings of comparisons against stored history.
#[derive(Debug, Args, Clone, Default)]
pub struct GateArgs {
    /// How many runs `branch:NAME` takes as the baseline (1 to 1000) [default: the scenario's, or 10].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=limits::MAX_HISTORY))]
    pub history: Option<u64>,
    #[command(flatten)]
    pub verdict: VerdictArgs,
}

/// Where a report folder goes, and where it will be reachable.
#[derive(Debug, Args, Clone, Default)]
pub struct PublishArgs {
    /// Also write a report folder (index.html, summary.png, summary.md, junit.xml).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Where the report's index.html will be reachable (an http(s) URL, e.g. a CI artifact), for summary.md.
    #[arg(long, value_name = "URL", value_parser = link_arg)]
    pub link: Option<String>,
}

/// Where runs are stored.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Store URL: sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://.rehearse/rehearse.db; `run` of a suite takes its suite file's `store` first].
    #[arg(
        long = "store",
        env = "REHEARSE_STORE",
        value_name = "URL",
        hide_env_values = true
    )]
    pub store: Option<String>,
}

impl StoreArgs {
    /// The store named by the flag or `REHEARSE_STORE`, else the default.
    pub fn url(&self) -> String {
        self.store
            .clone()
            .unwrap_or_else(|| crate::store::DEFAULT_URL.to_string())
    }
}

/// Which hosts load may be sent to.
#[derive(Debug, Args, Clone, Default)]
pub struct AllowArgs {
    /// Only send load to hosts matching these globs (repeatable or comma-separated, e.g. `*.staging.example.com`); anything else is refused before sending.
    #[arg(
        long = "allow-host",
        env = "REHEARSE_ALLOWED_HOSTS",
        value_name = "GLOB",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
}

/// `rehearse run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A scenario file, or a suite: a folder of them, several files, or a suite file (`rehearse.toml`).
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Base URL of the target (overrides `[target] base_url`).
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Directory for results.json and intervals.hlog [default: reports/<scenario>-<time>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A label stored with the run, e.g. --label env=staging (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = label_arg)]
    pub labels: Vec<(String, String)>,
    /// Commit of the code under test [default: from CI variables or git].
    #[arg(long)]
    pub commit: Option<String>,
    /// Branch of the code under test [default: from CI variables or git].
    #[arg(long)]
    pub branch: Option<String>,
    /// Seed for data-feeder order and think times (`{{ uuid }}` is fresh in every run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Do not store the run (results.json is still written).
    #[arg(long)]
    pub no_store: bool,
    /// Compare with this baseline after the run: branch:NAME, latest, a run id or a results.json.
    #[arg(long, value_name = "SPEC")]
    pub baseline: Option<String>,
    /// Run the scenario this many times (1 to 20) and compare them together (more power, same bar).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=limits::MAX_REPEAT as i64))]
    pub repeat: u32,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub allow: AllowArgs,
    /// Run only part I of N of a suite (parts balanced by expected duration), e.g. 2/3; the parts join in the store.
    #[arg(long, value_name = "I/N", value_parser = shard_arg)]
    pub shard: Option<(u32, u32)>,
    /// The suite run's id, shared by every part [default when sharding: gh-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT in GitHub Actions, gl-$CI_PIPELINE_ID in GitLab; else a new one].
    #[arg(long, value_name = "ID")]
    pub suite_id: Option<String>,
    #[command(flatten)]
    pub sharding: ShardArgs,
}

/// Splitting one scenario's load over several machines (shards), merged in the store.
#[derive(Debug, Args, Clone, Default)]
pub struct ShardArgs {
    /// Split this scenario's load over N processes (2 to 1,000), one per machine or pod, started together through the store; their runs merge into one.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=limits::MAX_SHARDS as i64))]
    pub shards: Option<u32>,
    /// This process's shard, 0 to N-1 [default: $JOB_COMPLETION_INDEX, set by Kubernetes Indexed Jobs].
    #[arg(long, value_name = "I")]
    pub shard_index: Option<u32>,
    /// The sharded run's id, the same for every shard [default: $REHEARSE_GROUP; in GitHub Actions gh-$GITHUB_RUN_ID-$GITHUB_RUN_ATTEMPT-<scenario>, in GitLab gl-$CI_PIPELINE_ID-<scenario>].
    #[arg(long, value_name = "ID", env = "REHEARSE_GROUP")]
    pub group: Option<String>,
    /// How long a shard waits for every other shard to register before giving up without sending anything [default: 2m].
    #[arg(long, value_name = "DURATION", value_parser = barrier_arg)]
    pub barrier_timeout: Option<Duration>,
}

/// `rehearse watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Scenarios to watch, by name, or a scenario file, suite folder or suite file [default: every scenario with runs on the branch].
    pub scenarios: Vec<String>,
    /// The branch whose history is watched.
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// How many of the branch's newest runs of each scenario are searched (10 to 1,000).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(10..=1000))]
    pub runs: i64,
    /// False-alarm level across all of a scenario's steps and metrics (0 < A < 0.5) [default: 0.03].
    #[arg(long, value_name = "A", value_parser = alpha_arg)]
    pub alpha: Option<f64>,
    /// Print what was found as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but a loopback address shares every stored run with the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Port to listen on (0 picks a free one; the URL is printed first).
    #[arg(long, default_value_t = 8077)]
    pub port: u16,
    /// The branch other branches are compared with, and whose trends come first.
    #[arg(long, default_value = "main")]
    pub branch: String,
    /// A host name the dashboard may be called by besides IP addresses and localhost (repeatable), e.g. with --bind 0.0.0.0.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The sharded run's group id (or a unique prefix).
    pub group: String,
    /// Wait up to this long for shards still running (e.g. 10m); shards that have not stored a run by then are missing.
    #[arg(long, value_name = "DURATION", value_parser = wait_arg)]
    pub wait: Option<Duration>,
    /// Compare the merged run with this baseline: branch:NAME, latest, a run id or a results.json.
    #[arg(long, value_name = "SPEC")]
    pub baseline: Option<String>,
    /// Directory for the merged run's results.json and intervals.hlog [default: reports/<scenario>-<time>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse ab`.
#[derive(Debug, Args)]
pub struct AbArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The baseline side's target URL [default: the scenario's base_url].
    #[arg(long = "baseline-url", visible_alias = "baseline", value_name = "URL")]
    pub baseline_url: Option<String>,
    /// The candidate side's target URL.
    #[arg(
        long = "candidate-url",
        visible_alias = "candidate",
        value_name = "URL"
    )]
    pub candidate_url: Option<String>,
    /// Both sides the same target: an A/A session that measures this setup's noise.
    #[arg(long)]
    pub same: bool,
    /// Rounds (2 to 50), each one baseline run and one candidate run.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(2..=50))]
    pub rounds: u32,
    /// Name of the baseline side, e.g. main.
    #[arg(long, value_name = "NAME", default_value = "baseline")]
    pub baseline_label: String,
    /// Name of the candidate side, e.g. my-branch.
    #[arg(long, value_name = "NAME", default_value = "candidate")]
    pub candidate_label: String,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Directory for every run's results and comparison.json [default: reports/<scenario>-ab-<time>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// A label stored with every run (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = label_arg)]
    pub labels: Vec<(String, String)>,
    /// Print the comparison as JSON.
    #[arg(long)]
    pub json: bool,
    /// Seed for data-feeder order and think times (`{{ uuid }}` is fresh in every run).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub verdict: VerdictArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Do not store the runs or the session.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub allow: AllowArgs,
}

/// `rehearse compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The baseline: branch:NAME (its last runs), latest, a run id (or prefix), a results.json path, or for a suite suite:ID / suite:latest / suite:branch:NAME.
    pub baseline: String,
    /// The candidate runs: run ids, results.json paths, latest or branch:NAME (its newest run); or one suite run: suite:ID, suite:latest or suite:branch:NAME.
    #[arg(required = true)]
    pub candidates: Vec<String>,
    /// For a suite run split across CI jobs: wait up to this long for parts still running (e.g. 10m).
    #[arg(long, value_name = "DURATION", value_parser = wait_arg)]
    pub wait: Option<Duration>,
    /// The scenario, when neither side names one (otherwise the newest run's scenario).
    #[arg(long)]
    pub scenario: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Print the comparison as JSON (comparison schema 2).
    #[arg(long)]
    pub json: bool,
    /// Also write comparison.json into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub publish: PublishArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run(s) to report on: run ids, results.json paths (or their folders), latest or branch:NAME; or one suite run: suite:ID, suite:latest or suite:branch:NAME.
    #[arg(required = true)]
    pub runs: Vec<String>,
    /// Compare with this baseline: branch:NAME, latest, a run id or a results.json (for a suite: branch:NAME, latest or suite:…).
    #[arg(long, value_name = "SPEC")]
    pub baseline: Option<String>,
    /// The report folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The scenario, when the runs are named by `latest` or `branch:NAME`.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Runs of the baseline branch shown in the history trends (1 to 1000).
    #[arg(long, value_name = "N", default_value_t = crate::report::DEFAULT_TREND_RUNS as u64, value_parser = clap::value_parser!(u64).range(1..=1000_u64))]
    pub trend_runs: u64,
    /// Where index.html will be reachable (an http(s) URL, e.g. a CI artifact), for summary.md.
    #[arg(long, value_name = "URL", value_parser = link_arg)]
    pub link: Option<String>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse runs …`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Stored runs, newest first.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Only this scenario.
        #[arg(long)]
        scenario: Option<String>,
        /// Only this branch.
        #[arg(long)]
        branch: Option<String>,
        /// At most this many (1 to 100,000).
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
        /// Include incomplete (interrupted) and failed runs.
        #[arg(long)]
        all: bool,
        /// List suite runs instead: each with its parts and how many runs it holds.
        #[arg(long, conflicts_with_all = ["scenario", "suite", "all"])]
        suites: bool,
        /// Only the runs of this suite run (id or unique prefix, latest, or branch:NAME).
        #[arg(long, value_name = "ID")]
        suite: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The summary table of a stored run.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        /// Run id (or a unique prefix).
        id: String,
    },
    /// Store results files made elsewhere (another machine, a CI artifact).
    Import {
        #[command(flatten)]
        store: StoreArgs,
        /// results.json files (an intervals.hlog beside one is stored too).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Write a stored run's results.json to stdout (or results.json and intervals.hlog to --out).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        /// Run id (or a unique prefix).
        id: String,
        /// Write into this directory instead of stdout.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Delete stored runs.
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        /// Run ids (or unique prefixes).
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Keep only the newest runs of each scenario and branch.
    Prune {
        #[command(flatten)]
        store: StoreArgs,
        /// How many runs of each scenario and branch to keep (at least 1).
        #[arg(long, value_parser = clap::value_parser!(i64).range(1..))]
        keep: i64,
        /// Only prune this scenario.
        #[arg(long)]
        scenario: Option<String>,
        /// Only prune this branch.
        #[arg(long)]
        branch: Option<String>,
    },
}

/// `rehearse history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Scenario name.
    pub scenario: String,
    /// Step name (`workflow` for the whole workflow); not needed with --changes.
    #[arg(long, required_unless_present = "changes")]
    pub step: Option<String>,
    /// List the change points of every step and metric over the runs (of --branch, default main) instead.
    #[arg(long)]
    pub changes: bool,
    /// p50, p90, p95, p99, p999, max, mean, error_rate, throughput or count.
    #[arg(long, default_value = "p99")]
    pub metric: crate::store::HistoryMetric,
    /// Only runs of this branch.
    #[arg(long)]
    pub branch: Option<String>,
    /// At most this many runs (1 to 100,000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=100_000))]
    pub limit: i64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// `rehearse sandbox`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Multiplies every endpoint's latency (0 = no artificial latency; at most 1000).
    #[arg(long, default_value_t = 1.0, value_parser = scale_arg)]
    pub latency_scale: f64,
    /// Fraction of requests answered 500, e.g. 0.01.
    #[arg(long, default_value_t = 0.0, value_parser = fraction_arg)]
    pub error_rate: f64,
    /// Periodic freeze LENGTH/EVERY, e.g. 1s/5s.
    #[arg(long, value_parser = |s: &str| crate::sandbox::parse_stall(s).map_err(|e| e.to_string()))]
    pub stall: Option<crate::sandbox::Stall>,
    /// Slow one endpoint down, e.g. pay=1.3 (repeatable). Endpoints: login, signup, customer, add_card, list_invoices, search_invoices, create_invoice, get_invoice, pay, receipt, payment (the payment status lookup), settle (a payment's settlement delay).
    #[arg(long = "slowdown", value_name = "NAME=FACTOR", value_parser = |s: &str| crate::sandbox::parse_slowdown(s).map_err(|e| e.to_string()))]
    pub slowdowns: Vec<(String, f64)>,
    /// Seed for latency draws and data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the seeded customers, cards and invoices to this SQLite file (replaced if
    /// it exists), for SQL steps to query.
    #[arg(long, value_name = "FILE")]
    pub ledger: Option<PathBuf>,
}

/// `rehearse import`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A browser's recorded session (HAR, from the developer tools' network tab) as a scenario.
    Har(ImportHarArgs),
}

/// `rehearse import har`.
#[derive(Debug, Args)]
pub struct ImportHarArgs {
    /// The HAR file.
    pub file: PathBuf,
    /// The scenario file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The scenario's name [default: the output file's name].
    #[arg(long)]
    pub name: Option<String>,
    /// Keep only requests to this host (host or host:port; repeatable).
    #[arg(long, value_name = "HOST")]
    pub include_host: Vec<String>,
    /// Leave out requests to this host (repeatable).
    #[arg(long, value_name = "HOST")]
    pub exclude_host: Vec<String>,
    /// Replace the output file if it exists.
    #[arg(long)]
    pub force: bool,
}

/// `rehearse new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The target's base URL, written as the default of `${REHEARSE_TARGET}` (no credentials).
    #[arg(long, default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub url: String,
    /// The scenario's name (letters, digits, `-`, `_`, `.`).
    #[arg(long, default_value = "my-workflow")]
    pub name: String,
    /// Folder the files go in.
    #[arg(long, default_value = "scenarios", value_name = "DIR")]
    pub dir: PathBuf,
    /// Also write the folder's suite file (`rehearse.toml`), unless it has one.
    #[arg(long)]
    pub suite: bool,
    /// Replace a scenario file of that name.
    #[arg(long)]
    pub force: bool,
}

/// `rehearse demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Measured duration of each scenario.
    #[arg(long, default_value = "5s", value_parser = duration_arg)]
    pub duration: Duration,
    /// Warm-up of each scenario.
    #[arg(long, default_value = "1s", value_parser = warmup_arg)]
    pub warmup: Duration,
    /// Scenario directory [default: ./scenarios, or the built-in copies].
    #[arg(long, value_name = "DIR")]
    pub scenarios: Option<PathBuf>,
    /// Directory for the results [default: reports/demo-<time>/].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write a report folder per scenario under DIR (DIR/<scenario>/index.html, …).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Do not store the runs.
    #[arg(long)]
    pub no_store: bool,
    #[command(flatten)]
    pub allow: AllowArgs,
}

fn label_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, found \"{s}\"")),
    }
}

fn duration_arg(s: &str) -> Result<Duration, String> {
    let d = crate::scenario::units::parse_duration(s)?;
    limits::check_duration("--duration", d, true, limits::MAX_DURATION)
}

fn wait_arg(s: &str) -> Result<Duration, String> {
    let d = crate::scenario::units::parse_duration(s)?;
    limits::check_duration("--wait", d, false, limits::MAX_WARMUP)
}

fn barrier_arg(s: &str) -> Result<Duration, String> {
    let d = crate::scenario::units::parse_duration(s)?;
    limits::check_duration("--barrier-timeout", d, true, limits::MAX_WARMUP)
}

fn warmup_arg(s: &str) -> Result<Duration, String> {
    let d = crate::scenario::units::parse_duration(s)?;
    limits::check_duration("--warmup", d, false, limits::MAX_WARMUP)
}

fn rate_arg(s: &str) -> Result<f64, String> {
    let r = crate::scenario::units::parse_rate(s)?;
    limits::check_rate("--rate", r, false)
}

fn alpha_arg(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(a) if a > 0.0 && a < 0.5 => Ok(a),
        _ => Err(format!(
            "expected a number between 0 and 0.5, found \"{s}\""
        )),
    }
}

fn scale_arg(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=1000.0).contains(&x) => Ok(x),
        _ => Err(format!("expected a number from 0 to 1000, found \"{s}\"")),
    }
}

fn fraction_arg(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(format!("expected a number from 0 to 1, found \"{s}\"")),
    }
}

fn shard_arg(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("expected a part such as 2/3 (part 2 of 3), found \"{s}\"");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || n > 256 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Accepts only absolute http(s) URLs: a link is written into Markdown people click.
pub fn link_arg(s: &str) -> Result<String, String> {
    let lower = s.trim().to_ascii_lowercase();
    let scheme_ok = lower.starts_with("https://") || lower.starts_with("http://");
    let parses = s
        .trim()
        .parse::<http::Uri>()
        .is_ok_and(|u| u.host().is_some());
    if scheme_ok && parses && !s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Ok(s.trim().to_string())
    } else {
        Err(format!(
            "expected an http:// or https:// URL, found \"{}\"",
            s.escape_debug()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_http_urls_only() {
        assert!(link_arg("https://ci.example.com/artifacts/1/index.html").is_ok());
        assert!(link_arg("javascript:alert(1)").is_err());
        assert!(link_arg("JAVASCRIPT://x").is_err());
        assert!(link_arg("https://x/a b").is_err());
        assert!(link_arg("data:text/html,hi").is_err());
        assert!(link_arg("/relative").is_err());
    }

    #[test]
    fn flags_are_range_checked() {
        assert!(rate_arg("1e308/1us").is_err());
        assert!(rate_arg("50/s").is_ok());
        assert!(duration_arg("0s").is_err());
        assert!(warmup_arg("400d").is_err());
        assert!(alpha_arg("0.7").is_err());
        assert!(alpha_arg("0.01").is_ok());
    }
}
