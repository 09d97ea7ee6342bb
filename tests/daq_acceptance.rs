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

/// Levels of a p99 test past which the tail tests count: alpha divided by these (150 is the
/// first step of a 25-scenario suite's Holm family).
const TAIL_DIVISORS: [f64; 4] = [1.0, 6.0, 30.0, 150.0];

/// In `cells` seeded cells (history of 10, one candidate run with `regression`), how often the
/// p99 passed t* at alpha / each of `TAIL_DIVISORS`, judged with each of `params` (on the
/// same draws).
fn p99_past_t_star(
    cells: usize,
    cell: u64,
    regression: Regression,
    params: &[DaqParams],
) -> Vec<Vec<usize>> {
    let p99 = Metric::LATENCY
        .iter()
        .position(|&m| m == Metric::P99)
        .expect("p99 is a latency metric");
    let tests: Vec<Vec<MetricTest>> = seeded_trials(SEED, cell, cells, |g| {
        let drawn = independent_trial(g, HISTORY_RUNS, 1, regression);
        let h = column(&estimates(&drawn.history), p99);
        let c = column(&estimates(&drawn.candidates), p99);
        params
            .iter()
            .map(|p| daq(Metric::P99, &c, &h, &h, p, p.alpha))
            .collect()
    });
    params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            TAIL_DIVISORS
                .iter()
                .map(|divisor| {
                    let level = p.alpha / divisor;
                    let t_star = |df: f64| rehearse::stats::student_t::student_t_isf(level, df);
                    tests
                        .iter()
                        .filter(|t| {
                            t[i].z > t_star(t[i].df) && t[i].change > p.min_effect(Metric::P99)
                        })
                        .count()
                })
                .collect()
        })
        .collect()
}

/// A p99 from one candidate run passes t* no more often than its level says, from alpha down
/// to alpha/150 (the first step of a 25-scenario suite's Holm family). Run-to-run, a p99 has
/// a heavier tail than a normal (a hiccup burst over 1% of a run doubles it); judged with the
/// history's df of 13 it passed 2.4x as often as alpha says and 3.7x at alpha/6
/// (`p99_tail_calibration_over_100000_cells`), which let a suite false-alarm more often than
/// one scenario. `DaqParams::run_df` holds it to 6 df per candidate run. At alpha and alpha/6
/// the history's df fails this test; at alpha/30 and alpha/150, 5,000 cells are too few to
/// tell them apart, so those two levels are checks that nothing is far off.
#[test]
fn one_run_p99_stays_within_its_level_deep_in_the_tail() {
    const CELLS: usize = 5_000;
    let hits = p99_past_t_star(CELLS, 6, Regression::None, &[DaqParams::default()]).remove(0);
    for (divisor, hits) in TAIL_DIVISORS.iter().zip(hits) {
        let nominal = DaqParams::default().alpha / divisor * CELLS as f64;
        let bound = 1.25 * nominal + 2.0;
        eprintln!(
            "one candidate run, p99 past t* at alpha/{divisor}: {hits} of {CELLS} (nominal {nominal:.1}, bound {bound:.1})"
        );
        assert!(
            hits as f64 <= bound,
            "p99 passed t* at alpha/{divisor} in {hits} of {CELLS} A/A cells; its level allows {nominal:.1}"
        );
    }
}

/// The calibration behind `DaqParams::run_df`, on 100,000 cells: how often a p99 from one
/// candidate run passes t* with the history's df alone and with the limit, at each level;
/// and what the limit costs: p99-only changes of +50% and +100% seen in one run, 10,000
/// cells each. Run in release: `cargo test --release --test daq_acceptance -- --ignored
/// --nocapture`.
#[test]
#[ignore = "120,000 cells: about 10 minutes in a release build"]
fn p99_tail_calibration_over_100000_cells() {
    const CELLS: usize = 100_000;
    let limited = DaqParams::default();
    let mut history_df = limited;
    history_df.run_df.p99 = f64::INFINITY;
    for (cell, change) in [(8, 0.5), (9, 1.0)] {
        let mut caught = p99_past_t_star(
            10_000,
            cell,
            Regression::Tail(change),
            &[limited, history_df],
        );
        let without = caught.pop().expect("two settings");
        let with_limit = caught.pop().expect("two settings");
        let share = |hits: &[usize], i: usize| 100.0 * hits[i] as f64 / 10_000.0;
        eprintln!(
            "p99 +{:.0}% in one run, caught at alpha: history's df {:.1}%, at most 6 df {:.1}%; at alpha/6: {:.1}%, {:.1}%; at alpha/150: {:.1}%, {:.1}%",
            change * 100.0,
            share(&without, 0),
            share(&with_limit, 0),
            share(&without, 1),
            share(&with_limit, 1),
            share(&without, 3),
            share(&with_limit, 3),
        );
    }
    let mut hits = p99_past_t_star(CELLS, 7, Regression::None, &[limited, history_df]);
    let without = hits.pop().expect("two settings");
    let with_limit = hits.pop().expect("two settings");
    for (i, divisor) in TAIL_DIVISORS.iter().enumerate() {
        let nominal = limited.alpha / divisor * CELLS as f64;
        eprintln!(
            "alpha/{divisor}: nominal {nominal:.1}; history's df {} ({:.2}x); at most 6 df per run {} ({:.2}x)",
            without[i],
            without[i] as f64 / nominal,
            with_limit[i],
            with_limit[i] as f64 / nominal
        );
        assert!(
            with_limit[i] as f64 <= 1.1 * nominal + 2.0,
            "alpha/{divisor}: {} of {CELLS}",
            with_limit[i]
        );
    }
}
