//! Suites (issue 12) on seeded simulated runs: the verdict's statistics and the report's size.
//!
//! A suite of 25 scenarios of 5 steps (plus each workflow), every scenario compared with its own
//! branch history of 10 runs from one candidate run, as `rehearse run --baseline branch:main`
//! does for a suite (`app::commands::suite::judge`): every step of every scenario in one Holm
//! family. Every latency comes from the seeded generator (`rehearse::stats::simulate`: median
//! 20 ms, a Pareto tail, hiccups, a drift of sd 4% per run), so the verdicts are a function of
//! the seed alone.
//!
//! - A/A: the suite in one Holm family false-alarms within the project's single-scenario bound
//!   (`daq_acceptance.rs`, history of 10, one candidate run: <= 2.5%), as one 5-step scenario
//!   compared on its own does, and far less often than its 25 scenarios compared separately.
//! - The same suites with one step of one scenario +30%: that step alone is flagged in at
//!   least 35% of suites (one candidate run, tested at alpha/150), nothing else more often
//!   than the suite's A/A bound.
//! - index.html of 25 scenarios x 5 steps is self-contained and stays under a size cap, with all
//!   passing and with 3 scenarios regressed (their sections plot every step).
//! - summary.md of 50 scenarios (long names, long worst changes, breaches) keeps one row per
//!   scenario under GitHub's comment limit; 150 and 500 scenarios stay under it with a counted
//!   heading, whole rows (failing first) and a count of the rows left out.
//!
//! Trials: `REHEARSE_SUITE_TRIALS` sets how many suites each statistical cell draws; by default
//! 200 in a release build, and none in a debug build (`cargo test`), where the statistical
//! cells print why they skip: a debug build draws and compares ~15x slower, and 8 trials
//! cannot hold a 2.5% bound. The report and summary tests run in every build.
//! `cargo test --release --test suite_acceptance -- --nocapture` prints every figure.

use rehearse::compare::suite::{MemberOutcome, SuiteFacts, conclude};
use rehearse::compare::{self, Baseline, SuiteMember};
use rehearse::model::{
    self, Comparison, HarnessHealth, IntervalPoint, IntervalSeries, Op, RunResult, StepResult,
    SuiteComparison, SummaryMetric, Threshold,
};
use rehearse::report::suite::{COMMENT_LIMIT, SuiteReportInput};
use rehearse::report::{ReportInput, StepHistory, TrendPoint};
use rehearse::stats::DaqParams;
use rehearse::stats::simulate::{
    Generator, IndependentTrial, Regression, SimulatedRun, independent_trial, trial_seed,
};

#[path = "common/bound.rs"]
mod bound;
use bound::Bound;

/// Base seed of this file's trials.
const SEED: u64 = 20_261_212;
/// Scenarios in the suite.
const SCENARIOS: usize = 25;
/// The steps of every scenario, in workflow order.
const STEPS: [&str; 5] = ["login", "search", "add-to-cart", "pay", "receipt"];
/// Baseline-branch runs per scenario (`branch:main` takes the last 10 by default).
const HISTORY: usize = 10;
/// Successful iterations per second of every simulated run (an open model's arrival rate).
const THROUGHPUT: f64 = 50.0;
/// Trials per cell by default (a release build).
const RELEASE_TRIALS: usize = 200;

/// The project's single-scenario bound on A/A false alarms with a history of 10 and one
/// candidate run (`daq_acceptance.rs::aa_false_alarms_stay_rare`, docs/method.md); `.1` is
/// what one 5-step scenario compared on its own gave here (release run, 1,000 x 25 comparisons).
const SINGLE_SCENARIO_BOUND: Bound = Bound::AtMost(0.025, SINGLE_MEASURED);
/// Issue 12: the whole suite in one family holds the single-scenario bound. `.1`: a release
/// run of 1,000 suites.
const SUITE_BOUND: Bound = Bound::AtMost(0.025, SUITE_MEASURED);
const SINGLE_MEASURED: f64 = 0.003;
const SUITE_MEASURED: f64 = 0.001;
/// The share of suites in which the slowed step, and nothing else, is flagged: one candidate
/// run, tested at alpha/150 in the suite's family (alone, in a family of 6, it is caught 94%).
const SUITE_POWER_FLOOR: Bound = Bound::AtLeast(0.35, 0.498);

/// Trials per statistical cell, or None (with the reason printed) where a debug build would
/// draw too few for its bounds to mean anything: one trial takes ~30 s of CPU there.
fn trials() -> Option<usize> {
    match std::env::var("REHEARSE_SUITE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        Some(n) => Some(n),
        None if cfg!(debug_assertions) => {
            eprintln!(
                "skipped: the suite's statistical cells need {RELEASE_TRIALS} trials, ~30 s of CPU each in a debug build; run `cargo test --release --test suite_acceptance -- --nocapture` (or set REHEARSE_SUITE_TRIALS)"
            );
            None
        }
        None => Some(RELEASE_TRIALS),
    }
}

/// `n` seeded trials of cell `cell`, spread over the machine's cores; trial `i` is seeded by
/// `trial_seed(SEED, cell, i)` whatever the split, and results come back in trial order.
fn seeded<T: Send>(cell: u64, n: usize, trial: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map(|p| p.get())
        .unwrap_or(1)
        .clamp(1, 4);
    let trial = &trial;
    let mut out: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..n)
                        .step_by(threads)
                        .map(|i| (i, trial(trial_seed(SEED, cell, i as u64))))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a trial panicked"))
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

fn scenario_name(i: usize) -> String {
    format!("customer-flow-{:02}", i + 1)
}

/// Run `index` of `scenario` on `branch`: its steps and workflow, with what a real run records
/// around them (target, load, git, times).
fn run_result(
    scenario: &str,
    branch: &str,
    index: usize,
    steps: Vec<StepResult>,
    workflow: StepResult,
) -> RunResult {
    let mut r: RunResult = serde_json::from_value(serde_json::json!({
        "schema": 1,
        "scenario": scenario,
        "steps": [],
        "load": {"model": "open", "rate": 10.0, "duration_seconds": 30.0, "warmup_seconds": 5.0},
    }))
    .expect("a minimal results file");
    r.run_id = format!("{scenario}-{branch}-{index:02}");
    r.target = Some("http://staging.example".into());
    r.git = Some(model::Git {
        commit: Some(format!("{branch}{index:02}cafe")),
        branch: Some(branch.into()),
        dirty: Some(false),
    });
    r.started_at = Some(format!("2026-12-12T10:{:02}:00Z", index % 60));
    r.ended_at = Some(format!("2026-12-12T10:{:02}:35Z", index % 60));
    r.measured_seconds = Some(30.0);
    r.complete = true;
    r.steps = steps;
    r.workflow = Some(workflow);
    r
}

/// One scenario's runs: `HISTORY` baseline runs on `main` and `candidates` runs on `feature`,
/// each step (and the workflow) its own seeded cell as `common/simulated.rs` draws them, with
/// `slow` (step index, relative change) applied to the candidates. Same seed, same runs.
fn scenario_runs(
    seed: u64,
    scenario: &str,
    history: usize,
    candidates: usize,
    slow: &[(usize, f64)],
) -> (Vec<RunResult>, Vec<RunResult>) {
    let cells: Vec<_> = (0..=STEPS.len())
        .map(|cell| {
            let regression = slow
                .iter()
                .find(|(step, _)| *step == cell)
                .map_or(Regression::None, |&(_, e)| Regression::Uniform(e));
            let mut g = Generator::new(trial_seed(seed, cell as u64, 0));
            independent_trial(&mut g, history, candidates, regression)
        })
        .collect();
    let side =
        |branch: &str, offset: usize, n: usize, runs: fn(&IndependentTrial) -> &[SimulatedRun]| {
            (0..n)
                .map(|i| {
                    let mut steps: Vec<StepResult> = cells
                        .iter()
                        .zip(STEPS.iter().chain(&["workflow"]))
                        .map(|(c, name)| {
                            StepResult::from_histogram(name, &runs(c)[i].histogram(), THROUGHPUT)
                        })
                        .collect();
                    let workflow = steps.pop().expect("the workflow cell");
                    run_result(scenario, branch, offset + i, steps, workflow)
                })
                .collect::<Vec<RunResult>>()
        };
    (
        side("main", 0, history, |c| &c.history),
        side("feature", history, candidates, |c| &c.candidates),
    )
}

/// The slowed scenario and step of the power cell, and how much slower (+30%).
const SLOW_SCENARIO: usize = 12;
const SLOW_STEP: usize = 3;
const SLOWDOWN: f64 = 0.30;

/// One scenario of a suite drawn from `seed`: its baseline (`branch:main`, the last
/// `HISTORY` runs, which also teach the noise) and one candidate run, with `slow` (step,
/// change) applied to the candidate.
fn draw_scenario(seed: u64, s: usize, slow: &[(usize, f64)]) -> (Baseline, Vec<RunResult>) {
    let (runs, candidates) = scenario_runs(
        trial_seed(seed, s as u64, 1),
        &scenario_name(s),
        HISTORY,
        1,
        slow,
    );
    let baseline = Baseline {
        spec: "branch:main".into(),
        runs,
        history: Vec::new(),
    };
    (baseline, candidates)
}

/// Judges a suite as `rehearse run --baseline branch:main` does (`suite::judge`): every
/// scenario with its own baseline and thresholds in one Holm family, then one verdict.
/// Returns the verdict and each scenario's comparison.
fn judge(
    suite: &[(Baseline, Vec<RunResult>)],
    thresholds: &[Vec<Threshold>],
) -> (SuiteComparison, Vec<Comparison>) {
    let none = Vec::new();
    let members: Vec<SuiteMember> = suite
        .iter()
        .enumerate()
        .map(|(i, (baseline, candidates))| SuiteMember {
            baseline,
            candidates,
            thresholds: thresholds.get(i).unwrap_or(&none),
            candidate_spec: "suite acceptance".into(),
        })
        .collect();
    let comparisons = compare::compare_suite(&members, &DaqParams::default());
    let outcomes = suite
        .iter()
        .zip(&comparisons)
        .map(|((_, candidates), c)| MemberOutcome {
            scenario: candidates[0].scenario.clone(),
            part: 1,
            runs: candidates,
            comparison: Some(c.clone()),
        })
        .collect();
    let facts = SuiteFacts {
        name: "acceptance".into(),
        id: "0193-suite-acceptance".into(),
        baseline: Some("branch:main".into()),
        missing: Vec::new(),
        skipped: Vec::new(),
    };
    (conclude(facts, outcomes), comparisons)
}

/// Whether comparing one scenario on its own (`rehearse compare` of one scenario) flags it.
fn flagged_alone(baseline: &Baseline, candidates: &[RunResult]) -> bool {
    let c = compare::compare(baseline, candidates, &DaqParams::default(), &[], "this run");
    !c.overall.passed
}

/// What one suite verdict said.
struct Verdicts {
    /// The suite's verdict failed.
    failed: bool,
    /// `scenario/step` of everything it flagged.
    regressed: Vec<String>,
    /// Steps in its Holm family.
    holm_family: usize,
}

impl Verdicts {
    fn of(v: &SuiteComparison) -> Self {
        Verdicts {
            failed: !v.overall.passed,
            regressed: v.overall.regressed.clone(),
            holm_family: v.overall.holm_family,
        }
    }
}

/// One trial: a suite of A/A data, then the same suite with one step of one scenario slower.
/// The two share every draw (common random numbers): the slowed candidate run is the A/A
/// one's base draws times 1.3, and nothing else differs.
struct Trial {
    aa: Verdicts,
    /// Per scenario of the A/A suite, whether comparing it on its own flagged it.
    aa_alone: Vec<bool>,
    ab: Verdicts,
    /// Whether comparing the slowed scenario on its own flagged it.
    ab_alone: bool,
}

fn trial(seed: u64) -> Trial {
    let mut suite: Vec<(Baseline, Vec<RunResult>)> = (0..SCENARIOS)
        .map(|s| draw_scenario(seed, s, &[]))
        .collect();
    let aa = Verdicts::of(&judge(&suite, &[]).0);
    let aa_alone = suite.iter().map(|(b, c)| flagged_alone(b, c)).collect();
    suite[SLOW_SCENARIO] = draw_scenario(seed, SLOW_SCENARIO, &[(SLOW_STEP, SLOWDOWN)]);
    let ab = Verdicts::of(&judge(&suite, &[]).0);
    let (b, c) = &suite[SLOW_SCENARIO];
    Trial {
        aa,
        aa_alone,
        ab,
        ab_alone: flagged_alone(b, c),
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// What the statistical cell measured, over every trial.
struct Figures {
    trials: usize,
    /// (a) A/A suites whose verdict failed (one Holm family).
    suite: usize,
    /// (b) the first scenario compared on its own, flagged; and every scenario's own
    /// comparison flagged, pooled (`trials` x `SCENARIOS` comparisons).
    first_alone: usize,
    pooled_alone: usize,
    /// (c) A/A suites in which comparing the scenarios separately flagged one.
    separate: usize,
    /// A/B suites that flagged the slowed step; that and nothing else; anything else.
    caught: usize,
    exactly: usize,
    others: usize,
    /// The slowed scenario compared on its own caught it.
    alone: usize,
}

/// The slowed step, as the suite's verdict names it.
fn target() -> String {
    format!("{}/{}", scenario_name(SLOW_SCENARIO), STEPS[SLOW_STEP])
}

/// The figures, measured once and printed: both statistical tests read them (whichever asks
/// first draws the trials, the other waits), as a debug build draws a suite in ~20 seconds.
fn figures() -> Option<&'static Figures> {
    static FIGURES: std::sync::OnceLock<Option<Figures>> = std::sync::OnceLock::new();
    FIGURES.get_or_init(|| Some(measure(trials()?))).as_ref()
}

fn measure(trials: usize) -> Figures {
    {
        let results = &seeded(1, trials, trial);
        for t in results {
            // Every step of every scenario, and each workflow, in one family.
            assert_eq!(t.aa.holm_family, SCENARIOS * (STEPS.len() + 1));
            assert_eq!(t.ab.holm_family, SCENARIOS * (STEPS.len() + 1));
            // The verdict fails exactly when something regressed (there are no thresholds).
            assert_eq!(t.aa.failed, !t.aa.regressed.is_empty());
            assert_eq!(t.ab.failed, !t.ab.regressed.is_empty());
        }
        let count = |hit: &dyn Fn(&Trial) -> bool| results.iter().filter(|t| hit(t)).count();
        let target = target();
        let f = Figures {
            trials: results.len(),
            suite: count(&|t| t.aa.failed),
            first_alone: count(&|t| t.aa_alone[0]),
            pooled_alone: results
                .iter()
                .map(|t| t.aa_alone.iter().filter(|&&f| f).count())
                .sum(),
            separate: count(&|t| t.aa_alone.iter().any(|&f| f)),
            caught: count(&|t| t.ab.regressed.contains(&target)),
            exactly: count(&|t| t.ab.regressed == [target.clone()]),
            others: count(&|t| t.ab.regressed.iter().any(|s| *s != target)),
            alone: count(&|t| t.ab_alone),
        };
        let n = f.trials;
        let share = |k: usize| pct(k as f64 / n as f64);
        let flagged: Vec<&String> = results.iter().flat_map(|t| &t.aa.regressed).collect();
        eprintln!(
            "suite A/A, {SCENARIOS} scenarios x {} steps, history of {HISTORY}, one candidate run, {n} trials (REHEARSE_SUITE_TRIALS):\n  \
             (a) the suite in one Holm family of {} steps (compare_suite): {} of suites flagged ({}/{n})\n  \
             (b) one scenario compared on its own (compare): {} ({}/{n}, the first scenario); {} ({}/{}, every scenario's own comparison)\n  \
             (c) the {SCENARIOS} scenarios compared separately: {} of suites had a false alarm ({}/{n})\n  \
             flagged by the suite: {flagged:?}",
            STEPS.len(),
            SCENARIOS * (STEPS.len() + 1),
            share(f.suite),
            f.suite,
            share(f.first_alone),
            f.first_alone,
            pct(f.pooled_alone as f64 / (n * SCENARIOS) as f64),
            f.pooled_alone,
            n * SCENARIOS,
            share(f.separate),
            f.separate,
        );
        eprintln!(
            "suite A/B, the same suites with {target} +{:.0}%, {n} trials:\n  \
             caught by the suite: {} ({}/{n}); exactly it and nothing else: {} ({}/{n})\n  \
             anything else flagged: {} ({}/{n})\n  \
             the same scenario compared on its own (a family of {} steps): {} ({}/{n})",
            SLOWDOWN * 100.0,
            share(f.caught),
            f.caught,
            share(f.exactly),
            f.exactly,
            share(f.others),
            f.others,
            STEPS.len() + 1,
            share(f.alone),
            f.alone,
        );
        f
    }
}

/// Checks a measured rate against a bound, saying what was measured either way.
fn check(label: &str, hits: usize, of: usize, bound: Bound) {
    let rate = hits as f64 / of as f64;
    let line = format!(
        "{label}: {} ({hits}/{of}); bound {} {}, release run {}",
        pct(rate),
        bound.symbol(),
        pct(bound.value()),
        pct(bound.simulated())
    );
    eprintln!("{line}");
    assert!(bound.holds(rate), "cell failed: {line}");
}

/// Issue 12's acceptance: "25 scenarios x 5 steps of A/A data give a suite-wide false-alarm
/// rate within the single-scenario bound". Holm's correction keeps a family's false alarms at
/// one test's level only if each test's p-values are valid down to alpha/150 = 3.3e-5. They
/// first were not: 31 of 1,000 suites (3.1%) false-alarmed, 30 of them on a p99 that more than
/// doubled in the one candidate run (a hiccup burst over ~1% of its requests) against a
/// history spread of 9-13% (Student-t, df 13). A tail quantile of one run is now judged
/// against a Student-t of at most 6 df per candidate run (`DaqParams::run_df`).
#[test]
fn a_suite_false_alarms_within_the_single_scenario_bound() {
    let Some(f) = figures() else { return };
    let n = f.trials;
    check(
        "(b) one 5-step scenario alone, A/A false alarms",
        f.pooled_alone,
        n * SCENARIOS,
        SINGLE_SCENARIO_BOUND,
    );
    check(
        "(a) 25 scenarios in one Holm family, A/A false alarms",
        f.suite,
        n,
        SUITE_BOUND,
    );
    // The point of one family: compared separately, the chance of a false alarm grows with
    // the number of scenarios (about 1 - (1 - b)^25); in one family it does not.
    assert!(
        f.separate >= 4 * f.suite.max(1),
        "separate comparisons flagged {} of {n} suites, one family {}: expected at least 4 times fewer",
        f.separate,
        f.suite
    );
}

#[test]
fn one_slower_step_in_a_suite_is_caught_and_little_else_is_flagged() {
    let Some(f) = figures() else { return };
    let n = f.trials;
    check(
        &format!("{} +30% flagged, and nothing else", target()),
        f.exactly,
        n,
        SUITE_POWER_FLOOR,
    );
    check(
        "another scenario or step flagged beside it",
        f.others,
        n,
        SUITE_BOUND,
    );
}

// ---------------------------------------------------------------------------------------
// Report size.

/// Intervals of a 30-second run after 5 seconds of warm-up, one second each.
const INTERVALS: usize = 35;
const WARMUP_INTERVALS: usize = 5;

/// A candidate run as `rehearse run` leaves it for a report: per-interval counts, health, and
/// an interval series per step (drawn around the run's own p50 and p99).
fn with_intervals(g: &mut Generator, mut run: RunResult) -> (RunResult, IntervalSeries) {
    let mut series = IntervalSeries::new();
    let all: Vec<&mut StepResult> = run.steps.iter_mut().chain(run.workflow.as_mut()).collect();
    for s in all {
        let tag = s.name.clone();
        let per = s.count / INTERVALS as u64;
        let points = (0..INTERVALS)
            .map(|i| IntervalPoint {
                start: i as f64,
                length: 1.0,
                count: per,
                p50: (s.latency.p50 as f64 * g.normal(1.0, 0.05)) as u64,
                p99: (s.latency.p99 as f64 * g.normal(1.0, 0.15)) as u64,
            })
            .collect();
        series.insert(tag.clone(), points);
        s.interval_tag = Some(tag);
        s.timeline_ok = vec![per; INTERVALS];
        s.timeline_errors = vec![0; INTERVALS];
    }
    run.intervals = Some(
        serde_json::from_value(serde_json::json!({
            "file": "intervals.hlog", "seconds": 1.0, "warmup_intervals": WARMUP_INTERVALS,
            "started": vec![10; INTERVALS], "dropped": vec![0; INTERVALS],
        }))
        .expect("interval info"),
    );
    run.health = Some(HarnessHealth {
        lag: model::LatencySummary {
            p50: 90,
            p99: 400,
            max: 2_000,
            ..Default::default()
        },
        cpu_cores: Some(0.3),
        pressure_some: Some(0.02),
        intervals: model::HealthIntervals {
            lag_p99: vec![400; INTERVALS],
            lag_max: vec![2_000; INTERVALS],
            ..Default::default()
        },
        ..Default::default()
    });
    (run, series)
}

/// The baseline branch's last 30 runs per step and the workflow, as the report's trends show.
fn history(g: &mut Generator) -> Vec<StepHistory> {
    STEPS
        .iter()
        .copied()
        .chain(["workflow"])
        .map(|step| StepHistory {
            step: step.into(),
            points: (0..rehearse::report::DEFAULT_TREND_RUNS)
                .map(|i| {
                    let drift = g.drift();
                    TrendPoint {
                        run_id: format!("{step}-h{i:02}"),
                        started_ms: 1_797_000_000_000 + i as i64 * 3_600_000,
                        p50: 20_000.0 * drift,
                        p99: 95_000.0 * drift * g.normal(1.0, 0.1),
                    }
                })
                .collect(),
        })
        .collect()
}

/// A suite report of 25 scenarios x 5 steps, each scenario with its history of 10, one
/// candidate run (its interval series and health), its trends and its comparison; the
/// scenarios in `regressed` have their `pay` step 60% slower.
fn suite_report(seed: u64, regressed: &[usize]) -> SuiteReportInput {
    let suite: Vec<(Baseline, Vec<RunResult>)> = (0..SCENARIOS)
        .map(|s| {
            let slow: &[(usize, f64)] = if regressed.contains(&s) {
                &[(SLOW_STEP, 0.6)]
            } else {
                &[]
            };
            draw_scenario(seed, s, slow)
        })
        .collect();
    let (verdict, comparisons) = judge(&suite, &[]);
    let mut g = Generator::new(trial_seed(seed, 99, 0));
    let scenarios = suite
        .into_iter()
        .zip(comparisons)
        .map(|((baseline, candidates), comparison)| {
            let (candidates, intervals): (Vec<RunResult>, Vec<IntervalSeries>) = candidates
                .into_iter()
                .map(|c| with_intervals(&mut g, c))
                .unzip();
            ReportInput {
                candidates,
                intervals,
                baseline: baseline.runs,
                comparison: Some(comparison),
                history: history(&mut g),
                history_branch: Some("main".into()),
                link: None,
                notes: Vec::new(),
            }
        })
        .collect();
    SuiteReportInput {
        verdict,
        scenarios,
        link: Some("https://ci.example/artifacts/report/index.html".into()),
    }
}

/// Checks a suite's index.html is self-contained and under the cap; returns its size in bytes.
fn check_html(label: &str, input: &SuiteReportInput, regressed: &[usize]) -> usize {
    let html = rehearse::report::suite::html(input).expect("the report renders");
    let bytes = html.len();
    let svgs = html.matches("<svg").count();
    let sections = html.matches("<details id=").count();
    let open = html.matches("\" open><summary>").count();
    let step_plots = html.matches("<h3>step ").count();
    eprintln!(
        "suite index.html, {label}: {bytes} bytes ({:.2} MB), {svgs} SVG plots, {sections} sections ({open} open), {step_plots} per-step plot groups",
        bytes as f64 / 1e6
    );
    // Self-contained: nothing fetched, no external script or stylesheet, a CSP that forbids
    // fetching.
    let lower = html.to_ascii_lowercase();
    for fetched in [
        "src=\"http",
        "src='http",
        "href=\"http",
        "<link",
        "<script src",
        "@import",
        "url(http",
        "url(//",
        "src=\"//",
    ] {
        assert!(
            !lower.contains(fetched),
            "{label}: index.html contains `{fetched}`"
        );
    }
    assert!(
        html.contains("default-src 'none'"),
        "{label}: no strict CSP"
    );
    assert_eq!(sections, SCENARIOS, "{label}: one section per scenario");
    for s in 0..SCENARIOS {
        assert!(
            html.contains(&format!("href=\"#s-{}\"", scenario_name(s))),
            "{label}: the summary links to {}",
            scenario_name(s)
        );
    }
    // A scenario that failed shows every step; one that passed only its workflow.
    assert_eq!(open, regressed.len(), "{label}: open sections");
    assert_eq!(
        step_plots,
        regressed.len() * STEPS.len(),
        "{label}: per-step plots only in the failed scenarios' sections"
    );
    assert!(
        bytes < 3_000_000,
        "{label}: index.html is {bytes} bytes, cap 3 MB"
    );
    bytes
}

#[test]
fn a_suite_report_of_25_scenarios_is_self_contained_and_compact() {
    let all_pass = suite_report(trial_seed(SEED, 3, 0), &[]);
    assert!(
        all_pass.verdict.overall.passed,
        "A/A suite for the report: {}",
        all_pass.verdict.overall.summary
    );
    let passing = check_html("all pass", &all_pass, &[]);

    let regressed = [2, 11, 20];
    let failing = suite_report(trial_seed(SEED, 3, 0), &regressed);
    let expected: Vec<String> = regressed
        .iter()
        .map(|&s| format!("{}/{}", scenario_name(s), STEPS[SLOW_STEP]))
        .collect();
    assert_eq!(
        failing.verdict.overall.regressed, expected,
        "{}",
        failing.verdict.overall.summary
    );
    let failed = check_html("3 scenarios regressed", &failing, &regressed);
    eprintln!(
        "suite index.html: {:.0} kB per scenario all passing; each regressed scenario adds {:.0} kB",
        passing as f64 / SCENARIOS as f64 / 1e3,
        (failed as f64 - passing as f64) / regressed.len() as f64 / 1e3
    );
}

// ---------------------------------------------------------------------------------------
// summary.md.

/// Long step names, as real workflows have them.
const LONG_STEPS: [&str; 5] = [
    "sign in with single sign-on and accept the updated terms of service",
    "search the product catalogue by category, brand and price range",
    "add the configured item to the basket and apply the loyalty discount",
    "pay with the saved card after strong customer authentication (3DS2)",
    "download the PDF receipt and e-mail a copy to the accounts department",
];

/// Thresholds with long expressions that the simulated runs breach (latencies are ~20 ms).
fn breached_thresholds() -> Vec<Threshold> {
    let limit = |step: &str, metric: SummaryMetric, ms: f64, text: &str| Threshold {
        step: step.into(),
        workflow: false,
        metric,
        op: Op::Le,
        limit: ms * 1_000.0,
        expression: format!("{step}.{text} <= {ms}ms"),
        default: false,
    };
    vec![
        limit(LONG_STEPS[0], SummaryMetric::P99, 25.0, "p99"),
        limit(LONG_STEPS[2], SummaryMetric::P50, 12.0, "p50"),
        limit(LONG_STEPS[3], SummaryMetric::P99, 30.0, "p99"),
        limit(LONG_STEPS[4], SummaryMetric::Mean, 15.0, "mean"),
    ]
}

/// What a templated scenario shows.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Pass,
    /// One step regressed.
    Regressed,
    /// Three steps regressed and four thresholds breached.
    RegressedAndBreached,
    /// Four thresholds breached, nothing regressed.
    Breached,
}

/// Of every 10 scenarios: one regressed, one regressed and breached, one breached.
fn kind(i: usize) -> Kind {
    match i % 10 {
        3 => Kind::Regressed,
        6 => Kind::RegressedAndBreached,
        8 => Kind::Breached,
        _ => Kind::Pass,
    }
}

/// A real comparison of each kind (5 long-named steps, 3 baseline runs, one candidate),
/// compared in one family; with its candidate runs.
fn templates() -> Vec<(Kind, Comparison, Vec<RunResult>)> {
    let kinds = [
        Kind::Pass,
        Kind::Regressed,
        Kind::RegressedAndBreached,
        Kind::Breached,
    ];
    let mut suite = Vec::new();
    let mut thresholds = Vec::new();
    for (i, k) in kinds.iter().enumerate() {
        let slow: &[(usize, f64)] = match k {
            Kind::Regressed => &[(3, 0.8)],
            Kind::RegressedAndBreached => &[(1, 0.8), (2, 0.9), (3, 1.0)],
            _ => &[],
        };
        let (runs, mut candidates) = long_runs(
            trial_seed(SEED, 4, i as u64),
            &format!("template-{i}"),
            slow,
        );
        let t = if matches!(k, Kind::Breached | Kind::RegressedAndBreached) {
            breached_thresholds()
        } else {
            Vec::new()
        };
        let refs: Vec<&RunResult> = candidates.iter().collect();
        let evaluated = model::thresholds::evaluate(&t, &refs);
        for c in &mut candidates {
            c.thresholds = evaluated.clone();
        }
        thresholds.push(t);
        let baseline = Baseline {
            spec: "branch:main".into(),
            runs,
            history: Vec::new(),
        };
        suite.push((baseline, candidates));
    }
    let (_, comparisons) = judge(&suite, &thresholds);
    kinds
        .into_iter()
        .zip(comparisons)
        .zip(suite)
        .map(|((k, c), (_, candidates))| {
            let failed = !c.overall.passed;
            assert_eq!(
                failed,
                k != Kind::Pass,
                "template {k:?}: {}",
                c.overall.summary
            );
            (k, c, candidates)
        })
        .collect()
}

/// Runs of 5 long-named steps: 3 baseline runs, one candidate.
fn long_runs(seed: u64, scenario: &str, slow: &[(usize, f64)]) -> (Vec<RunResult>, Vec<RunResult>) {
    let (mut b, mut c) = scenario_runs(seed, scenario, 3, 1, slow);
    for r in b.iter_mut().chain(c.iter_mut()) {
        for (s, name) in r.steps.iter_mut().zip(LONG_STEPS) {
            s.name = name.into();
        }
    }
    (b, c)
}

/// A long scenario name (~100 characters, some Markdown to escape) for scenario `i`.
fn long_scenario(i: usize) -> String {
    format!(
        "checkout_{i:03}: returning business customer with saved card, loyalty discount and split shipping (EU)"
    )
}

/// A suite verdict of `n` scenarios built from the templates, as `conclude` makes it.
fn long_suite(n: usize, templates: &[(Kind, Comparison, Vec<RunResult>)]) -> SuiteReportInput {
    let named: Vec<(String, Comparison, Vec<RunResult>)> = (0..n)
        .map(|i| {
            let (_, c, runs) = templates
                .iter()
                .find(|(k, _, _)| *k == kind(i))
                .expect("a template of every kind");
            let name = long_scenario(i);
            let mut c = c.clone();
            c.scenario = name.clone();
            (name, c, runs.clone())
        })
        .collect();
    let outcomes = named
        .iter()
        .map(|(name, c, runs)| MemberOutcome {
            scenario: name.clone(),
            part: 1,
            runs,
            comparison: Some(c.clone()),
        })
        .collect();
    let facts = SuiteFacts {
        name: "every customer workflow on staging (nightly and on each merge)".into(),
        id: "0193f1e7-de6b-7c4a-9a55-0123456789ab".into(),
        baseline: Some("branch:main".into()),
        missing: Vec::new(),
        skipped: Vec::new(),
    };
    SuiteReportInput {
        verdict: conclude(facts, outcomes),
        scenarios: Vec::new(),
        link: Some("https://ci.example/acme/shop/actions/runs/123456/artifacts/report".into()),
    }
}

/// Table rows of a summary.md: lines that open with a pass or fail mark cell.
fn rows(md: &str) -> usize {
    md.lines()
        .filter(|l| l.starts_with("| ✅ |") || l.starts_with("| ❌ |"))
        .count()
}

#[test]
fn summary_md_of_50_scenarios_fits_a_pull_request_comment() {
    let templates = templates();
    let input = long_suite(50, &templates);
    let v = &input.verdict;
    let md = rehearse::report::suite::markdown(&input, false);
    let chars = md.chars().count();
    let failing = v.members.iter().filter(|m| !m.passed).count();
    let longest_worst = v
        .members
        .iter()
        .filter_map(|m| m.worst.as_ref())
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0);
    eprintln!(
        "suite summary.md, 50 scenarios ({failing} failing, {} regressed steps, {} breaches; names of {} chars, worst changes up to {longest_worst} chars): {chars} chars ({} bytes) of {COMMENT_LIMIT}, {} rows",
        v.overall.regressed.len(),
        v.overall.breaches.len(),
        long_scenario(0).chars().count(),
        md.len(),
        rows(&md)
    );
    assert!(
        chars < COMMENT_LIMIT,
        "summary.md is {chars} chars, limit {COMMENT_LIMIT}"
    );
    // One row per scenario, naming it, with its mark: nothing cut at 50.
    assert_eq!(rows(&md), 50, "one table row per scenario");
    let escaped = |s: &str| s.replace('_', "\\_");
    for m in &v.members {
        let name = escaped(&m.scenario);
        let row = md
            .lines()
            .find(|l| l.contains(&format!(" {name} |")))
            .unwrap_or_else(|| panic!("no row for {}", m.scenario));
        let mark = if m.passed { "| ✅ |" } else { "| ❌ |" };
        assert!(row.starts_with(mark), "row of {}: {row}", m.scenario);
        if !m.breaches.is_empty() {
            assert!(
                row.contains("&lt;= 25ms"),
                "row of {} names its breaches",
                m.scenario
            );
        }
    }
    assert!(!md.contains("cut to fit"), "nothing is cut at 50 scenarios");
    assert!(md.contains("https://ci.example/acme/shop/actions/runs/123456/artifacts/report"));
}

#[test]
fn summary_md_of_500_scenarios_stays_under_the_comment_limit() {
    let templates = templates();
    let input = long_suite(500, &templates);
    let md = rehearse::report::suite::markdown(&input, false);
    let chars = md.chars().count();
    let heading = md.lines().next().unwrap_or_default().chars().count();
    let kept = rows(&md);
    let last = md.trim_end().lines().next_back().unwrap_or_default();
    eprintln!(
        "suite summary.md, 500 scenarios: {chars} chars ({} bytes) of {COMMENT_LIMIT}; heading line {heading} chars; {kept} of 500 rows kept; ends with: {last:?}",
        md.len()
    );
    assert!(
        chars < COMMENT_LIMIT,
        "summary.md is {chars} chars, limit {COMMENT_LIMIT}"
    );
    assert!(md.starts_with("### ❌ suite "), "the verdict comes first");
    if kept < 500 {
        assert!(
            md.contains("cut to fit a comment"),
            "rows were cut without saying so"
        );
    }
}

/// Past a few hundred failing scenarios the suite's summary no longer fits a heading: the
/// heading counts instead, the table keeps whole rows (failing ones first) and says how many
/// it left out. (Checked to fail when the heading holds the whole summary, as it first did:
/// at 300 scenarios or more the heading alone filled the comment.)
#[test]
fn summary_md_of_many_scenarios_keeps_its_table_and_counts_what_it_cut() {
    let templates = templates();
    for n in [150, 500] {
        let input = long_suite(n, &templates);
        let md = rehearse::report::suite::markdown(&input, false);
        let heading = md.lines().next().unwrap_or_default().chars().count();
        let kept = rows(&md);
        eprintln!(
            "summary.md, {n} scenarios: {} chars, heading line {heading} chars, {kept} rows",
            md.chars().count()
        );
        assert!(md.chars().count() < COMMENT_LIMIT);
        assert!(
            md.contains("| | scenario | verdict | worst change | thresholds |"),
            "{n} scenarios: the table is gone (heading line {heading} chars)"
        );
        let last_row = md.lines().rfind(|l| l.starts_with("| "));
        assert!(
            last_row.is_some_and(|l| l.ends_with(" |")),
            "{n} scenarios: the last row is cut half-way: {:?}",
            last_row.map(|l| l.chars().rev().take(60).collect::<String>())
        );
        // Failing scenarios are the ones a reader needs: no passing row takes a failing one's
        // place.
        let failing = input.verdict.members.iter().filter(|m| !m.passed).count();
        let failing_rows = md.lines().filter(|l| l.starts_with("| ❌ |")).count();
        let passing_rows = kept - failing_rows;
        assert!(
            passing_rows == 0 || failing_rows == failing,
            "{n} scenarios: {passing_rows} passing rows kept but only {failing_rows} of {failing} failing ones"
        );
        assert!(failing_rows > 0, "{n} scenarios: no failing row kept");
        if kept < n {
            let cut = (n - kept).to_string();
            let counted = md.lines().any(|l| {
                (l.contains("cut") || l.contains("not shown") || l.contains("more"))
                    && l.split(|c: char| !c.is_ascii_digit()).any(|w| w == cut)
            });
            assert!(
                counted,
                "{n} scenarios: {} of {n} rows were cut and the comment does not say how many",
                n - kept
            );
        }
    }
}

/// summary.png draws each compared scenario's worst latency change as a bar on one axis:
/// the regressed ones reach right of zero in the regressed colour, no other row has that
/// colour in the change column.
#[test]
fn summary_png_draws_each_scenarios_worst_change_on_one_axis() {
    use rehearse::report::suite::{CHART, change_axis, png, row_centre};
    let templates = templates();
    let input = long_suite(10, &templates);
    let v = &input.verdict;
    let bytes = png(v).expect("summary.png renders");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut rgb = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut rgb).unwrap();
    let w = info.width as usize;
    let red = rehearse::report::palette::verdict(model::Verdict::Regressed);
    let (low, high) = change_axis(v);
    assert!(
        low < 0.0 && high > 0.0 && low >= -100.0,
        "axis {low}..{high}"
    );
    let zero = CHART.0 + ((-low) / (high - low) * f64::from(CHART.1 - CHART.0)) as u32;
    for (i, m) in v.members.iter().enumerate() {
        // Above the whisker drawn through the bar's middle: the bar's own colour.
        let y = row_centre(i) as usize - 4;
        let reds: Vec<u32> = (CHART.0..CHART.1)
            .filter(|&x| rgb[(y * w + x as usize) * 3..][..3] == [red.0, red.1, red.2])
            .collect();
        let regressed = v
            .overall
            .regressed
            .iter()
            .any(|r| r.starts_with(&format!("{}/", m.scenario)));
        if regressed {
            assert!(
                reds.len() > 10 && reds.iter().all(|&x| x >= zero),
                "{}: its regression is not a bar right of zero ({} pixels)",
                m.scenario,
                reds.len()
            );
        } else {
            assert!(
                reds.is_empty(),
                "{} ({}): {} regressed-coloured pixels in the change column",
                m.scenario,
                m.verdict,
                reds.len()
            );
        }
    }
}
