//! Runs of pay-invoice drawn from the seeded generator (`rehearse::stats::simulate`) instead of
//! measured: every latency is a function of the seed, so a test of a verdict on them cannot be
//! flipped by a busy machine. The live end-to-end tests check the plumbing; these check verdicts.
//! Every step (and the workflow) has the generator's latency model: median 20 ms, a Pareto tail,
//! hiccups, and a drift per run.

use rehearse::model::{self, RunResult, StepResult};
use rehearse::stats::simulate::{
    Generator, Regression, SimulatedRun, independent_trial, interleaved_rounds, trial_seed,
};

/// The steps of the simulated pay-invoice runs, in workflow order.
pub const STEPS: [&str; 4] = ["login", "open-invoices", "pay", "receipt"];

/// The steps of `scenarios/pay-invoice.toml` as a live run records them, in workflow order.
#[allow(dead_code)]
pub const SHIPPED_STEPS: [&str; 5] = ["login", "open-invoices", "pay", "settle", "receipt"];

/// Successful iterations per second of every simulated run: an open model's throughput is its
/// arrival rate, so throughput is not what these runs differ in.
const THROUGHPUT: f64 = 50.0;

/// What changed on the candidate side: each named step's latencies multiplied by 1 + e.
/// The workflow is drawn unchanged: think times make up most of it, so a slower step moves it
/// by a fraction of that step's change.
pub type Slowdowns<'a> = &'a [(&'a str, f64)];

/// The change drawn into cell `cell` (a step in [`STEPS`] order, then the workflow).
fn regression(cell: usize, slowdowns: Slowdowns) -> Regression {
    STEPS
        .get(cell)
        .and_then(|step| slowdowns.iter().find(|(name, _)| name == step))
        .map_or(Regression::None, |&(_, e)| Regression::Uniform(e))
}

/// One run of pay-invoice on `branch`, started `minute` minutes into the day (later runs are
/// newer); `cells` are the simulated steps in [`STEPS`] order, then the workflow.
pub fn run_result(branch: &str, minute: usize, cells: Vec<SimulatedRun>) -> RunResult {
    assert_eq!(cells.len(), STEPS.len() + 1);
    let mut steps: Vec<StepResult> = cells
        .iter()
        .zip(STEPS.iter().chain(&["workflow"]))
        .map(|(run, name)| StepResult::from_histogram(name, &run.histogram(), THROUGHPUT))
        .collect();
    let workflow = steps.pop();
    RunResult {
        schema: model::SCHEMA_VERSION,
        run_id: uuid::Uuid::now_v7().to_string(),
        scenario: "pay-invoice".into(),
        scenario_hash: None,
        scenario_file: None,
        target: Some("http://staging.example".into()),
        load: None,
        harness: None,
        host: None,
        git: Some(model::Git {
            commit: Some(format!("{branch}-{minute}")),
            branch: Some(branch.into()),
            dirty: None,
        }),
        labels: Default::default(),
        started_at: Some(format!(
            "2025-01-01T{:02}:{:02}:00Z",
            minute / 60,
            minute % 60
        )),
        ended_at: None,
        measured_seconds: Some(30.0),
        complete: true,
        stop_reason: Some("duration".into()),
        iterations: None,
        workflow,
        steps,
        intervals: None,
        thresholds: Vec::new(),
        compare: Default::default(),
        health: None,
        group: None,
        shards: Vec::new(),
    }
}

/// Independent runs as `rehearse run` makes them: `history` baseline runs on `main`, then
/// `candidates` runs on `feature` with `slowdowns` applied. Same seed, same runs.
pub fn independent_runs(
    seed: u64,
    history: usize,
    candidates: usize,
    slowdowns: Slowdowns,
) -> (Vec<RunResult>, Vec<RunResult>) {
    // Per cell (step or workflow), one seeded trial: its history and its candidate runs.
    let trials: Vec<_> = (0..=STEPS.len())
        .map(|cell| {
            let mut generator = Generator::new(trial_seed(seed, cell as u64, 0));
            independent_trial(
                &mut generator,
                history,
                candidates,
                regression(cell, slowdowns),
            )
        })
        .collect();
    let baseline = (0..history)
        .map(|i| {
            run_result(
                "main",
                i,
                trials.iter().map(|t| t.history[i].clone()).collect(),
            )
        })
        .collect();
    let candidate = (0..candidates)
        .map(|i| {
            let cells = trials.iter().map(|t| t.candidates[i].clone()).collect();
            run_result("feature", history + i, cells)
        })
        .collect();
    (baseline, candidate)
}

/// Interleaved rounds as `rehearse ab` makes them: (baseline, candidate) per round, the pair
/// sharing its round's drift, with `slowdowns` applied to the candidate. Same seed, same runs.
pub fn interleaved(seed: u64, rounds: usize, slowdowns: Slowdowns) -> Vec<(RunResult, RunResult)> {
    let cells: Vec<Vec<(SimulatedRun, SimulatedRun)>> = (0..=STEPS.len())
        .map(|cell| {
            let mut generator = Generator::new(trial_seed(seed, cell as u64, 0));
            interleaved_rounds(&mut generator, rounds, regression(cell, slowdowns))
        })
        .collect();
    (0..rounds)
        .map(|round| {
            let side = |pick: fn(&(SimulatedRun, SimulatedRun)) -> &SimulatedRun| {
                cells.iter().map(|c| pick(&c[round]).clone()).collect()
            };
            (
                run_result("main", 2 * round, side(|p| &p.0)),
                run_result("my-branch", 2 * round + 1, side(|p| &p.1)),
            )
        })
        .collect()
}

/// Writes runs as results files named `{prefix}{i}.json` into `dir`; returns their paths.
pub fn write_runs(
    dir: &std::path::Path,
    prefix: &str,
    runs: &[RunResult],
) -> Vec<std::path::PathBuf> {
    runs.iter()
        .enumerate()
        .map(|(i, run)| {
            let path = dir.join(format!("{prefix}{i}.json"));
            run.write(&path).unwrap();
            path
        })
        .collect()
}
