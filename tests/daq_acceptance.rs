//! Statistical acceptance of the DAQ test on seeded simulated trials: false alarms and power
//! per cell of regression-detection.md, against bounds set a few binomial standard errors
//! beside simulation.py's figures (in brackets in each bound's description).
//!
//! Each trial draws, as simulation.py's `run_cell`: 10 history runs, then 3 candidate runs
//! (2k-20k requests, per-run drift sd 4%), and tests p50, p90, p99 and mean three ways:
//! one candidate against the history, all three candidates against it, and one candidate
//! against the last history run alone with the noise learned from the whole history.
//! A trial "detects" (or, in A/A, false-alarms) when any of the four metrics is regressed:
//! simulation.py's `agg(rows, det)` with no metric, which its table reports.

use rehearse::stats::simulate::{Generator, Regression, independent_trial, seeded_trials};
use rehearse::stats::{DaqParams, Estimate, Metric, MetricTest, Verdict, daq, estimate_latency};

#[path = "common/bound.rs"]
mod bound;
use bound::Bound;

/// Trials per cell (the design's 1,000).
const TRIALS: usize = 1_000;
/// Base seed of the acceptance trials (simulation.py's BASE_SEED).
const SEED: u64 = 20_240_601;
const HISTORY_RUNS: usize = 10;
const CANDIDATE_RUNS: usize = 3;

/// The three ways a trial is tested.
#[derive(Clone, Copy, Debug)]
enum Design {
    /// History of 10, one candidate run.
    Single,
    /// History of 10, candidate run 3 times.
    Repeated,
    /// One baseline run, noise learned from the history of 10.
    OneBaseline,
}

impl Design {
    const ALL: [Design; 3] = [Design::Single, Design::Repeated, Design::OneBaseline];

    fn label(self) -> &'static str {
        match self {
            Design::Single => "history of 10, one candidate",
            Design::Repeated => "history of 10, candidate k=3",
            Design::OneBaseline => "one baseline, noise from history of 10",
        }
    }
}

/// Per design, per latency metric: the test result of one trial.
type TrialTests = Vec<[MetricTest; 4]>;

fn estimates(runs: &[rehearse::stats::simulate::SimulatedRun]) -> Vec<[Estimate; 4]> {
    runs.iter()
        .map(|run| {
            let d = run.distribution();
            Metric::LATENCY.map(|m| estimate_latency(&d, m).expect("runs are not empty"))
        })
        .collect()
}

fn column(rows: &[[Estimate; 4]], metric: usize) -> Vec<Estimate> {
    rows.iter().map(|row| row[metric]).collect()
}

/// Draws one trial and tests it all three ways.
fn trial(generator: &mut Generator, regression: Regression) -> TrialTests {
    let params = DaqParams::default();
    let drawn = independent_trial(generator, HISTORY_RUNS, CANDIDATE_RUNS, regression);
    let history = estimates(&drawn.history);
    let candidates = estimates(&drawn.candidates);
    Design::ALL
        .iter()
        .map(|design| {
            std::array::from_fn(|i| {
                let metric = Metric::LATENCY[i];
                let h = column(&history, i);
                let c = column(&candidates, i);
                let alpha = params.alpha;
                match design {
                    Design::Single => daq(metric, &c[..1], &h, &h, &params, alpha),
                    Design::Repeated => daq(metric, &c, &h, &h, &params, alpha),
                    Design::OneBaseline => {
                        daq(metric, &c[..1], &h[HISTORY_RUNS - 1..], &h, &params, alpha)
                    }
                }
            })
        })
        .collect()
}

/// Verdicts of every trial of one scenario (cell index `cell` seeds it).
fn scenario(cell: u64, regression: Regression, trials: usize) -> Vec<TrialTests> {
    seeded_trials(SEED, cell, trials, |g| trial(g, regression))
}

fn any_regressed(tests: &[MetricTest; 4]) -> bool {
    tests.iter().any(|t| t.verdict == Verdict::Regressed)
}

/// Share of trials in which `design` flagged any metric, with a per-metric breakdown.
fn rate(results: &[TrialTests], design: Design) -> (f64, String) {
    let d = design as usize;
    let hits = results.iter().filter(|r| any_regressed(&r[d])).count();
    let per_metric: Vec<String> = Metric::LATENCY
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let n = results
                .iter()
                .filter(|r| r[d][i].verdict == Verdict::Regressed)
                .count();
            format!(
                "{} {:.1}%",
                m.name(),
                100.0 * n as f64 / results.len() as f64
            )
        })
        .collect();
    (hits as f64 / results.len() as f64, per_metric.join(", "))
}

/// Checks one cell and says what was measured either way (visible with --nocapture).
fn check(results: &[TrialTests], design: Design, scenario: &str, bound: Bound) {
    let (measured, breakdown) = rate(results, design);
    let line = format!(
        "{} / {scenario}: {:.1}% of {} trials ({breakdown}); bound {} {:.1}%, simulation {:.1}%",
        design.label(),
        100.0 * measured,
        results.len(),
        bound.symbol(),
        100.0 * bound.value(),
        100.0 * bound.simulated()
    );
    eprintln!("{line}");
    assert!(bound.holds(measured), "cell failed: {line}");
}

#[test]
fn aa_false_alarms_stay_rare() {
    let results = scenario(0, Regression::None, TRIALS);
    check(&results, Design::Single, "A/A", Bound::AtMost(0.025, 0.014));
    check(
        &results,
        Design::Repeated,
        "A/A",
        Bound::AtMost(0.020, 0.010),
    );
    check(
        &results,
        Design::OneBaseline,
        "A/A",
        Bound::AtMost(0.015, 0.008),
    );
}

#[test]
fn ten_percent_median_shift_with_three_candidate_runs() {
    let results = scenario(2, Regression::Uniform(0.10), TRIALS);
    check(
        &results,
        Design::Repeated,
        "+10% median",
        Bound::AtLeast(0.50, 0.59),
    );
}

#[test]
fn twenty_percent_median_shift() {
    let results = scenario(3, Regression::Uniform(0.20), TRIALS);
    check(
        &results,
        Design::Single,
        "+20% median",
        Bound::AtLeast(0.75, 0.82),
    );
    check(
        &results,
        Design::Repeated,
        "+20% median",
        Bound::AtLeast(0.98, 0.997),
    );
}

#[test]
fn fifty_percent_p99_only_shift_with_three_candidate_runs() {
    let results = scenario(5, Regression::Tail(0.50), TRIALS);
    check(
        &results,
        Design::Repeated,
        "+50% p99 only",
        Bound::AtLeast(0.65, 0.72),
    );
}

#[test]
fn same_seeds_give_identical_verdicts() {
    // Whole MetricTests, not only verdicts: every number must repeat bit for bit.
    let first = scenario(3, Regression::Uniform(0.20), 25);
    let second = scenario(3, Regression::Uniform(0.20), 25);
    assert_eq!(first, second);
    let other = scenario(4, Regression::Uniform(0.20), 25);
    assert_ne!(first, other, "different seeds should give different trials");
}
