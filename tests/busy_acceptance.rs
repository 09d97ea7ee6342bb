//! Verdicts on a busy machine, on seeded simulated A/B sessions: errors come in bursts (a
//! starved client times several requests out at once; a compound-Poisson count, far more
//! dispersed than binomial), and some runs are starved outright (their latencies inflated by
//! 30-100% and several extra timeouts, marked harness-limited as the runner would). A/A
//! sessions must stay at or under 1% false alarms with 3 and with 6 rounds, and a +30% step
//! must still be caught, with other steps flagged no more often than that bound.

use rehearse::model::{
    HarnessHealth, LatencySummary, RunResult, StepResult, Verdict, new_histogram,
};
use rehearse::stats::DaqParams;
use rehearse::stats::simulate::{Generator, Regression, seeded_trials};

/// Sessions per cell: at a 1% bound, 600 sessions have a binomial standard error of 0.4%.
const SESSIONS: usize = 600;
const SEED: u64 = 20_261_129;
/// Chance that one run of a round is starved.
const STARVED: f64 = 0.15;
/// Mean error rate of a healthy run (0.2%).
const ERROR_RATE: f64 = 0.002;
/// Chance of a burst of errors in a run, and its mean size.
const BURST_CHANCE: f64 = 0.2;
const BURST_MEAN: f64 = 4.0;

/// One simulated run of two steps (`login`, `pay`) and their workflow.
fn run(g: &mut Generator, id: String, drift: f64, pay: Regression) -> RunResult {
    let starved = g.uniform(0.0, 1.0) < STARVED;
    let inflation = if starved { g.uniform(1.3, 2.0) } else { 1.0 };
    let requests = g.run_requests(1_500);
    let mut workflow = new_histogram();
    let steps: Vec<StepResult> = [("login", Regression::None), ("pay", pay)]
        .into_iter()
        .map(|(name, regression)| {
            let h = g.run(requests, drift * inflation, regression).histogram();
            workflow.add(&h).unwrap();
            let mut errors = g.poisson(ERROR_RATE * requests as f64) as u64;
            if g.uniform(0.0, 1.0) < BURST_CHANCE {
                errors += g.poisson(BURST_MEAN) as u64;
            }
            if starved {
                errors += g.poisson(3.0) as u64;
            }
            let mut s = StepResult::from_histogram(name, &h, 100.0).with_errors(errors);
            s.lag = Some(LatencySummary {
                p99: if starved { 30_000 } else { 200 },
                ..LatencySummary::default()
            });
            s
        })
        .collect();
    let json = serde_json::json!({"schema": 1, "scenario": "busy", "steps": []});
    let mut r: RunResult = serde_json::from_value(json).unwrap();
    r.run_id = id;
    r.measured_seconds = Some(20.0);
    r.workflow = Some(StepResult::from_histogram("workflow", &workflow, 100.0));
    r.steps = steps;
    r.health = Some(HarnessHealth {
        harness_limited: starved,
        reasons: if starved {
            vec!["simulated starvation".into()]
        } else {
            Vec::new()
        },
        ..HarnessHealth::default()
    });
    r
}

/// One session of `rounds` ABBA rounds sharing each round's drift; the names of the steps
/// (not the workflow) it called regressed.
fn session(g: &mut Generator, rounds: usize, pay: Regression) -> Vec<String> {
    let pairs: Vec<(RunResult, RunResult)> = (0..rounds)
        .map(|i| {
            let shared = g.drift();
            let (drift_b, drift_c) = (shared * g.normal(1.0, 0.01), shared * g.normal(1.0, 0.01));
            let b = run(g, format!("b{i}"), drift_b, Regression::None);
            let c = run(g, format!("c{i}"), drift_c, pay);
            (b, c)
        })
        .collect();
    let c = rehearse::compare::paired(
        &pairs,
        &Default::default(),
        0,
        &DaqParams::default(),
        &[],
        ("a", "b"),
        false,
    );
    c.steps
        .iter()
        .filter(|s| s.verdict == Verdict::Regressed && !s.id.is_workflow())
        .map(|s| s.id.to_string())
        .collect()
}

fn rate(cell: u64, rounds: usize, pay: Regression, hit: impl Fn(&[String]) -> bool) -> f64 {
    let sessions = seeded_trials(SEED, cell, SESSIONS, |g| session(g, rounds, pay));
    sessions.iter().filter(|s| hit(s)).count() as f64 / SESSIONS as f64
}

#[test]
fn a_a_sessions_with_bursty_errors_and_starved_rounds_rarely_cry_wolf() {
    // The two cells are independent: each on its own thread.
    let rates = std::thread::scope(|scope| {
        let cells = [(1, 3), (2, 6)].map(|(cell, rounds)| {
            scope.spawn(move || {
                (
                    rounds,
                    rate(cell, rounds, Regression::None, |s| !s.is_empty()),
                )
            })
        });
        cells.map(|c| c.join().unwrap())
    });
    for (rounds, measured) in rates {
        eprintln!(
            "busy A/A, {rounds} rounds: {:.1}% false alarms",
            measured * 100.0
        );
        assert!(
            measured <= 0.01,
            "busy A/A, {rounds} rounds: {:.1}% false alarms, bound 1%",
            measured * 100.0
        );
    }
}

#[test]
fn a_slower_step_is_still_caught_and_nothing_else_is_flagged() {
    let sessions = seeded_trials(SEED, 3, 200, |g| session(g, 6, Regression::Uniform(0.3)));
    let caught = sessions
        .iter()
        .filter(|s| s.iter().any(|n| n == "pay"))
        .count() as f64
        / 200.0;
    let others = sessions
        .iter()
        .filter(|s| s.iter().any(|n| n != "pay"))
        .count();
    eprintln!(
        "busy, 6 rounds, pay +30%: caught in {:.1}%, another step flagged in {others}",
        caught * 100.0
    );
    assert!(
        caught >= 0.8,
        "pay +30% caught in {:.1}% of sessions, bound 80%",
        caught * 100.0
    );
    // Another step is flagged no more often than the A/A false-alarm bound allows.
    assert!(
        others <= 2,
        "another step flagged in {others} of 200 sessions"
    );
}
