//! The command line: clap's parser over the application's argument types, and the dispatch
//! of each command to the application layer.

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::app::args::*;
use crate::app::commands;
use crate::app::{AppResult, Classify as _};

const EXIT_CODES: &str = "Exit codes:
  0  passed: nothing regressed and every threshold held
  1  a regression or a threshold breach (or inconclusive with --fail-on-inconclusive)
  2  bad input or configuration; for run, ab and demo nothing was sent
  3  a run failed (the target never answered), was interrupted, or a step after the load
     failed (storing, comparing, reporting; results.json is kept); or a run named on the
     command line failed";

/// rehearse: replay customer workflows against a target and catch slowdowns before customers do.
#[derive(Debug, Parser)]
#[command(name = "rehearse", version, after_help = EXIT_CODES, max_term_width = 110)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Replay a scenario (or a suite of them) against a target and record latency histograms.
    Run(RunArgs),
    /// Check scenario files, or a suite, without sending anything.
    Validate {
        /// Scenario files, or a suite: a folder of them, several files, or a suite file.
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
    /// Watch a branch's history for change points (steps and creeps); exit 1 on a new regression.
    Watch(WatchArgs),
    /// A read-only web dashboard over the store: verdicts per branch, trends with change points, runs, comparisons.
    Serve(ServeArgs),
    /// Merge the shards of a sharded run into one run, then compare, check and report it like any run.
    Merge(MergeArgs),
    /// Interleaved A/B rounds of two targets (ABBA), compared pairwise; --same for an A/A session.
    Ab(AbArgs),
    /// Write a commented starter scenario (and suite file) for a target.
    New(NewArgs),
    /// Make a scenario from existing work: a browser's recorded session (HAR).
    #[command(subcommand)]
    Import(ImportCommand),
    /// Print a shell completion script, e.g. `rehearse completions bash > /etc/bash_completion.d/rehearse`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// Parses the command line and runs the command.
pub fn main() -> AppResult {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rehearse-worker")
        .build()
        .invalid()?;
    runtime.block_on(async move {
        if !matches!(cli.command, Command::Sandbox(_)) {
            crate::app::signals::install();
        }
        match cli.command {
            Command::Run(args) => commands::run::run(args).await,
            Command::Validate { files } => commands::validate::validate(&files),
            Command::Sandbox(args) => commands::sandbox::sandbox(args).await,
            Command::Demo(args) => commands::demo::demo(args).await,
            Command::Runs(command) => commands::runs::runs(command).await,
            Command::History(args) => commands::runs::history(args).await,
            Command::Compare(args) => commands::compare::compare(args).await,
            Command::Report(args) => commands::report::report(args).await,
            Command::Ab(args) => commands::ab::ab(args).await,
            Command::Merge(args) => commands::merge::merge(args).await,
            Command::Watch(args) => commands::watch::watch(args).await,
            Command::Serve(args) => commands::serve::serve(args).await,
            Command::New(args) => commands::new::new(args),
            Command::Import(ImportCommand::Har(args)) => commands::import::har(args),
            Command::Completions { shell } => {
                let mut command = Cli::command();
                clap_complete::generate(shell, &mut command, "rehearse", &mut std::io::stdout());
                Ok(crate::app::Outcome::Passed)
            }
        }
    })
}
