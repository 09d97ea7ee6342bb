//! Statistical acceptance of paired (interleaved A/B) DAQ on seeded simulated trials, against
//! bounds set a few binomial standard errors beside the simulated figures of
//! regression-detection.md step 8 (in brackets in each bound's description).
//!
//! Each trial draws R rounds in the interleaved regime: per round a shared N(1, 0.04) drift,
//! each run of the pair a residual N(1, 0.01) on top, 1k-5k requests per run. Every latency
//! metric is tested on the rounds alone (no earlier A/A rounds): noise from the rounds' own
//! log-ratio spread moderated toward sqrt(2) x sigma0 with nu0 = 4, alpha 0.005. A trial
//! detects (or false-alarms) when any of p50, p90, p99 and mean is regressed.

use rehearse::stats::simulate::{Generator, Regression, interleaved_rounds, seeded_trials};
use rehearse::stats::{
    DaqParams, Estimate, Metric, Verdict, daq_paired, estimate_latency, minimum_detectable_effect,
};

#[path = "common/bound.rs"]
mod bound;
use bound::Bound;

/// Trials per cell (the design's 1,000).
const TRIALS: usize = 1_000;
/// Base seed of the acceptance trials (simulation.py's BASE_SEED).
const SEED: u64 = 20_240_601;
/// Cells of this file are seeded apart from those of daq_acceptance.rs.
const CELL_OFFSET: u64 = 100;

/// Per latency metric, whether the paired test of one trial said regressed.
type Flags = [bool; 4];

fn trial(generator: &mut Generator, rounds: usize, regression: Regression) -> Flags {
    let params = DaqParams::default();
    let drawn = interleaved_rounds(generator, rounds, regression);
    let estimate = |run: &rehearse::stats::simulate::SimulatedRun| {
        let d = run.distribution();
        Metric::LATENCY.map(|m| estimate_latency(&d, m).expect("runs are not empty"))
    };
    let per_round: Vec<([Estimate; 4], [Estimate; 4])> = drawn
        .iter()
        .map(|(b, c)| (estimate(b), estimate(c)))
        .collect();
    std::array::from_fn(|i| {
        let pairs: Vec<(Estimate, Estimate)> =
            per_round.iter().map(|(b, c)| (b[i], c[i])).collect();
        let test = daq_paired(Metric::LATENCY[i], &pairs, &[], &params, params.alpha);
        test.verdict == Verdict::Regressed
    })
}

/// Runs a cell and checks its detection (or false-alarm) rate against `bound`.
fn check(cell: u64, rounds: usize, regression: Regression, label: &str, bound: Bound) {
    let results = seeded_trials(SEED, CELL_OFFSET + cell, TRIALS, |g| {
        trial(g, rounds, regression)
    });
    let share = |hit: &dyn Fn(&Flags) -> bool| {
        results.iter().filter(|f| hit(f)).count() as f64 / TRIALS as f64
    };
    let measured = share(&|f| f.iter().any(|&x| x));
    let breakdown: Vec<String> = Metric::LATENCY
        .iter()
        .enumerate()
        .map(|(i, m)| format!("{} {:.1}%", m.name(), 100.0 * share(&|f| f[i])))
        .collect();
    let line = format!(
        "paired, {rounds} rounds / {label}: {:.1}% of {TRIALS} trials ({}); bound {} {:.1}%, simulation {:.1}%",
        100.0 * measured,
        breakdown.join(", "),
        bound.symbol(),
        100.0 * bound.value(),
        100.0 * bound.simulated()
    );
    eprintln!("{line}");
    assert!(bound.holds(measured), "cell failed: {line}");
}

#[test]
fn six_rounds_aa_false_alarms() {
    check(0, 6, Regression::None, "A/A", Bound::AtMost(0.01, 0.0));
}

#[test]
fn six_rounds_ten_percent_median_shift() {
    check(
        1,
        6,
        Regression::Uniform(0.10),
        "+10% median",
        Bound::AtLeast(0.95, 0.997),
    );
}

#[test]
fn six_rounds_fifty_percent_p99_only_shift() {
    check(
        2,
        6,
        Regression::Tail(0.50),
        "+50% p99 only",
        Bound::AtLeast(0.55, 0.70),
    );
}

#[test]
fn ten_rounds_five_percent_median_shift() {
    check(
        3,
        10,
        Regression::Uniform(0.05),
        "+5% median",
        Bound::AtLeast(0.70, 0.82),
    );
}

#[test]
fn three_rounds_cannot_see_small_median_shifts() {
    let params = DaqParams::default();
    let mde = minimum_detectable_effect(Metric::P50, 3, &params, 0.8);
    eprintln!(
        "paired, 3 rounds: minimum detectable p50 change at 80% power {:.1}%",
        100.0 * mde
    );
    assert!(
        mde > 0.15,
        "3-round MDE for p50 is {:.1}%, expected above 15%",
        100.0 * mde
    );
    let at_ten = minimum_detectable_effect(Metric::P50, 10, &params, 0.8);
    assert!(
        at_ten < mde,
        "10 rounds ({at_ten}) should see less than 3 ({mde})"
    );
}
