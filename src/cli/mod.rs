//! The command line: parses arguments and wires the stages together. This is the only
//! module that knows every other one.

mod ab;
mod baseline;
mod compare;
mod demo;
mod pipeline;
mod progress;
mod provenance;
mod report;
mod run;
mod runs;
mod sandbox;
mod signals;
mod validate;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// What a command concluded; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything passed: exit 0.
    Success,
    /// A regression or a threshold breach: exit 1.
    Failed,
    /// A usage, scenario or configuration error, already reported: exit 2.
    Invalid,
    /// The run itself failed (the target never answered, interrupted, results unwritable): exit 3.
    RunFailed,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::Failed => 1,
            Outcome::Invalid => 2,
            Outcome::RunFailed => 3,
        }
    }
}

/// An error that means the run itself failed (exit 3) rather than bad input (exit 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RunFailure(pub String);

/// The exit code for an error that ended a command.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<RunFailure>().is_some() {
        Outcome::RunFailed.code()
    } else {
        Outcome::Invalid.code()
    }
}

const EXIT_CODES: &str = "Exit codes:
  0  success: the run completed and nothing regressed
  1  a regression or a threshold breach
  2  usage, scenario or configuration error (nothing was sent)
  3  the run itself failed (the target never answered, or it was interrupted)";

/// rehearse: replay customer workflows against a target and catch slowdowns before customers do.
#[derive(Debug, Parser)]
#[command(name = "rehearse", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a scenario against a target and record latency histograms.
    Run(RunArgs),
    /// Check scenario files without sending anything.
    Validate {
        /// Scenario files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Serve the built-in staging look-alike payments API.
    Sandbox(SandboxArgs),
    /// Start the sandbox and run every shipped scenario against it briefly.
    Demo(DemoArgs),
    /// List, show, import, export, delete and prune stored runs.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// A step's metric over the stored runs of a scenario, newest first.
    History(HistoryArgs),
    /// Compare candidate runs with a baseline: regression verdicts and thresholds.
    Compare(CompareArgs),
    /// Write a report folder: index.html, summary.png, summary.md, junit.xml.
    Report(ReportArgs),
    /// Interleaved A/B rounds of two targets (ABBA), compared pairwise; --same for an A/A session.
    Ab(AbArgs),
}

/// `rehearse ab`.
#[derive(Debug, Args)]
struct AbArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// The baseline side's target [default: the scenario's base_url].
    #[arg(long, value_name = "URL")]
    baseline: Option<String>,
    /// The candidate side's target.
    #[arg(long, value_name = "URL")]
    candidate: Option<String>,
    /// Both sides the same target: an A/A session that measures this setup's noise.
    #[arg(long)]
    same: bool,
    /// Rounds, each one baseline run and one candidate run.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(2..=50))]
    rounds: u32,
    /// Name of the baseline side, e.g. main.
    #[arg(long, default_value = "baseline")]
    baseline_label: String,
    /// Name of the candidate side, e.g. my-branch.
    #[arg(long, default_value = "candidate")]
    candidate_label: String,
    #[command(flatten)]
    load: LoadArgs,
    /// Directory for every run's results and comparison.json [default: reports/<scenario>-ab-<time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    publish: PublishArgs,
    /// A label stored with every run (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Print the comparison as JSON.
    #[arg(long)]
    json: bool,
    /// Seed for data-feeder order, think times and `{{ uuid }}`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    gate: GateArgs,
    #[command(flatten)]
    store: StoreArgs,
    /// Do not store the runs or the session.
    #[arg(long)]
    no_store: bool,
}

/// `rehearse report`.
#[derive(Debug, Args)]
struct ReportArgs {
    /// The run(s) to report on: run ids, results.json paths (or their folders), latest or branch:NAME.
    #[arg(required = true)]
    runs: Vec<String>,
    /// Compare with this baseline: branch:NAME, latest, a run id or a results.json.
    #[arg(long, value_name = "SPEC")]
    baseline: Option<String>,
    /// The report folder.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The scenario, when the runs are named by `latest` or `branch:NAME`.
    #[arg(long)]
    scenario: Option<String>,
    /// Runs of the baseline branch shown in the history trends.
    #[arg(long, default_value_t = report::DEFAULT_TREND_RUNS)]
    trend_runs: usize,
    /// Where index.html will be reachable (a CI artifact URL), for the link in summary.md.
    #[arg(long, value_name = "URL")]
    link: Option<String>,
    #[command(flatten)]
    gate: GateArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// How verdicts are reached and what fails.
#[derive(Debug, Args, Clone, Default)]
pub struct GateArgs {
    /// How many runs `branch:NAME` takes as the baseline [default: the scenario's, or 10].
    #[arg(long)]
    pub history: Option<usize>,
    /// One-sided significance level per metric, before Holm's correction [default: 0.005].
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Treat an inconclusive verdict as a failure (exit 1).
    #[arg(long)]
    pub fail_on_inconclusive: bool,
}

/// `rehearse compare`.
#[derive(Debug, Args)]
struct CompareArgs {
    /// The baseline: branch:NAME (its last runs), latest, a run id (or prefix) or a results.json path.
    baseline: String,
    /// The candidate runs: run ids, results.json paths, latest or branch:NAME (its newest run).
    #[arg(required = true)]
    candidates: Vec<String>,
    /// The scenario, when neither side names a run.
    #[arg(long)]
    scenario: Option<String>,
    #[command(flatten)]
    gate: GateArgs,
    /// Print the comparison as JSON (comparison schema 1).
    #[arg(long)]
    json: bool,
    /// Also write comparison.json into this directory.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    publish: PublishArgs,
    #[command(flatten)]
    store: StoreArgs,
}

/// Where a report folder goes, and where it will be reachable.
#[derive(Debug, Args, Clone, Default)]
pub struct PublishArgs {
    /// Also write a report folder (index.html, summary.png, summary.md, junit.xml).
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Where the report's index.html will be reachable (a CI artifact URL), for the link in summary.md.
    #[arg(long, value_name = "URL")]
    pub link: Option<String>,
}

/// Where runs are stored.
#[derive(Debug, Args, Clone)]
pub struct StoreArgs {
    /// Store URL: sqlite://PATH (created on first use) or postgres://USER@HOST/DB.
    #[arg(long = "store", env = "REHEARSE_STORE", default_value = crate::store::DEFAULT_URL, value_name = "URL", hide_env_values = true)]
    pub store: String,
}

/// `rehearse runs …`.
#[derive(Debug, Subcommand)]
enum RunsCommand {
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
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: i64,
        /// Include incomplete (interrupted) runs.
        #[arg(long)]
        all: bool,
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
        /// How many runs of each scenario and branch to keep.
        #[arg(long)]
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
struct HistoryArgs {
    /// Scenario name.
    scenario: String,
    /// Step name (`workflow` for the whole workflow).
    #[arg(long)]
    step: String,
    /// p50, p90, p95, p99, p999, max, mean, error_rate, throughput or count.
    #[arg(long, default_value = "p99")]
    metric: crate::store::HistoryMetric,
    /// Only runs of this branch.
    #[arg(long)]
    branch: Option<String>,
    /// At most this many runs.
    #[arg(long, default_value_t = 100)]
    limit: i64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArgs,
}

/// `rehearse run`.
#[derive(Debug, Args)]
struct RunArgs {
    /// The scenario file.
    scenario: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Base URL of the target (overrides `[target] base_url`).
    #[arg(long, value_name = "URL")]
    target: Option<String>,
    /// Directory for results.json and intervals.hlog [default: reports/<scenario>-<time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// A label stored with the run, e.g. --label env=staging (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
    /// Commit of the code under test [default: from CI variables or git].
    #[arg(long)]
    commit: Option<String>,
    /// Branch of the code under test [default: from CI variables or git].
    #[arg(long)]
    branch: Option<String>,
    /// Seed for data-feeder order, think times and `{{ uuid }}`.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: StoreArgs,
    /// Do not store the run (results.json is still written).
    #[arg(long)]
    no_store: bool,
    /// Compare with this baseline after the run: branch:NAME, latest, a run id or a results.json.
    #[arg(long, value_name = "SPEC")]
    baseline: Option<String>,
    /// Run the scenario this many times and compare them together (more power, same bar).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    repeat: u32,
    #[command(flatten)]
    publish: PublishArgs,
    #[command(flatten)]
    gate: GateArgs,
}

/// Load overrides shared by `run` and `demo`.
#[derive(Debug, Args, Clone, Default)]
struct LoadArgs {
    /// Measured duration, e.g. 30s (ramps are scaled to it).
    #[arg(long, value_parser = parse_duration_arg)]
    duration: Option<std::time::Duration>,
    /// Warm-up before measuring, e.g. 5s.
    #[arg(long, value_parser = parse_duration_arg)]
    warmup: Option<std::time::Duration>,
    /// Constant open-model arrival rate, e.g. 50/s.
    #[arg(long, value_parser = parse_rate_arg)]
    rate: Option<f64>,
    /// Constant closed-model number of users.
    #[arg(long)]
    users: Option<u32>,
    /// Stop after this many measured iterations.
    #[arg(long)]
    iterations: Option<u64>,
}

/// `rehearse sandbox`.
#[derive(Debug, Args)]
struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Multiplies every endpoint's latency (0 = no artificial latency).
    #[arg(long, default_value_t = 1.0)]
    latency_scale: f64,
    /// Fraction of requests answered 500, e.g. 0.01.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Periodic freeze LENGTH/EVERY, e.g. 1s/5s.
    #[arg(long, value_parser = |s: &str| crate::sandbox::parse_stall(s).map_err(|e| e.to_string()))]
    stall: Option<crate::sandbox::Stall>,
    /// Slow one endpoint down, e.g. pay=1.3 (repeatable).
    #[arg(long = "slowdown", value_name = "NAME=FACTOR", value_parser = |s: &str| crate::sandbox::parse_slowdown(s).map_err(|e| e.to_string()))]
    slowdowns: Vec<(String, f64)>,
    /// Seed for latency draws and data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// `rehearse demo`.
#[derive(Debug, Args)]
struct DemoArgs {
    /// Measured duration of each scenario.
    #[arg(long, default_value = "5s", value_parser = parse_duration_arg)]
    duration: std::time::Duration,
    /// Warm-up of each scenario.
    #[arg(long, default_value = "1s", value_parser = parse_duration_arg)]
    warmup: std::time::Duration,
    /// Scenario directory [default: ./scenarios, or the built-in copies].
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// Directory for the results [default: reports/demo-<time>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// No progress output.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    store: StoreArgs,
    /// Do not store the runs.
    #[arg(long)]
    no_store: bool,
}

fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, found \"{s}\"")),
    }
}

fn parse_duration_arg(s: &str) -> Result<std::time::Duration, String> {
    crate::scenario::units::parse_duration(s)
}

fn parse_rate_arg(s: &str) -> Result<f64, String> {
    crate::scenario::units::parse_rate(s)
}

/// Writes to stdout; a closed pipe (`rehearse … | head`) is not an error worth a panic.
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<Outcome> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rehearse-worker")
        .build()?;
    runtime.block_on(async move {
        if !matches!(cli.command, Command::Sandbox(_)) {
            signals::install();
        }
        match cli.command {
            Command::Run(args) => run::run(args).await,
            Command::Validate { files } => Ok(validate::validate(&files)),
            Command::Sandbox(args) => sandbox::sandbox(args).await,
            Command::Demo(args) => demo::demo(args).await,
            Command::Runs(command) => runs::runs(command).await,
            Command::History(args) => runs::history(args).await,
            Command::Compare(args) => compare::compare(args).await,
            Command::Report(args) => report::report(args).await,
            Command::Ab(args) => ab::ab(args).await,
        }
    })
}
