//! Comparison assembly on seeded synthetic runs: verdicts, Holm's family, notes, thresholds.

use super::*;
use crate::model::{Op, RunResult, StepResult, SummaryMetric, Threshold};
use crate::stats::simulate::{Generator, Regression};

/// A run with the given steps, each drawn from the reference generator.
fn run(
    generator: &mut Generator,
    steps: &[(&str, Regression)],
    drift: f64,
    errors: u64,
) -> RunResult {
    let step = |name: &str, hist: &hdrhistogram::Histogram<u64>| {
        StepResult::from_histogram(name, hist, 100.0).with_errors(errors)
    };
    let mut workflow = crate::model::new_histogram();
    let steps: Vec<StepResult> = steps
        .iter()
        .map(|(name, regression)| {
            let h = generator.run(5000, drift, *regression).histogram();
            workflow.add(&h).unwrap();
            step(name, &h)
        })
        .collect();
    let json = serde_json::json!({"schema": 1, "scenario": "s", "steps": []});
    let mut r: RunResult = serde_json::from_value(json).unwrap();
    r.run_id = format!("run-{}", gen_id());
    r.workflow = Some(step("workflow", &workflow));
    r.steps = steps;
    r
}

fn gen_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn a_clear_regression_in_one_of_several_steps_is_named_and_the_rest_are_not() {
    let mut g = Generator::new(7);
    let steps = |r: Regression| {
        [
            ("login", Regression::None),
            ("pay", r),
            ("receipt", Regression::None),
        ]
    };
    let baseline = Baseline {
        spec: "branch:main".into(),
        runs: (0..10)
            .map(|_| run(&mut g, &steps(Regression::None), 1.0, 0))
            .collect(),
        history: vec![],
    };
    let candidates: Vec<RunResult> = (0..3)
        .map(|_| run(&mut g, &steps(Regression::Uniform(0.4)), 1.0, 0))
        .collect();
    let c = compare(&baseline, &candidates, &DaqParams::default(), &[], "x3");
    let verdicts: Vec<(&str, Verdict)> = c.steps.iter().map(|s| (s.id.name(), s.verdict)).collect();
    assert_eq!(verdicts[1], ("pay", Verdict::Regressed), "{verdicts:?}");
    assert_ne!(verdicts[0].1, Verdict::Regressed);
    assert_ne!(verdicts[2].1, Verdict::Regressed);
    assert!(!c.overall.passed);
    assert!(
        c.overall.summary.starts_with("REGRESSED: pay"),
        "{}",
        c.overall.summary
    );
    assert_eq!(c.settings.holm_family, 4, "three steps and the workflow");
    assert!(c.steps.iter().all(|s| s.alpha <= 0.005 + 1e-12));
    assert!(c.notes.is_empty(), "{:?}", c.notes);
    assert_eq!(
        c.steps[1].metrics.len(),
        6,
        "p50 p90 p99 mean error_rate throughput"
    );
}

#[test]
fn one_step_is_tested_at_alpha_and_its_workflow_too() {
    let mut g = Generator::new(11);
    let baseline = Baseline {
        spec: "a".into(),
        runs: vec![run(&mut g, &[("only", Regression::None)], 1.0, 0)],
        history: vec![],
    };
    let candidates = vec![run(&mut g, &[("only", Regression::None)], 1.0, 0)];
    let c = compare(&baseline, &candidates, &DaqParams::default(), &[], "b");
    assert_eq!(c.settings.holm_family, 1);
    assert!(
        c.steps.iter().all(|s| (s.alpha - 0.005).abs() < 1e-12),
        "{:?}",
        c.steps.iter().map(|s| s.alpha).collect::<Vec<_>>()
    );
    assert!(c.notes[0].contains("priors"), "{:?}", c.notes);
    assert!(c.overall.passed);
}

#[test]
fn thresholds_are_checked_on_the_pooled_candidates() {
    let mut g = Generator::new(3);
    let candidates: Vec<RunResult> = (0..2)
        .map(|_| run(&mut g, &[("pay", Regression::None)], 1.0, 50))
        .collect();
    let t = |metric, op, limit: f64| Threshold {
        step: "pay".into(),
        workflow: false,
        metric,
        op,
        limit,
        expression: format!("{metric:?} {op} {limit}"),
        default: false,
    };
    let results = crate::model::thresholds::evaluate(
        &[
            t(SummaryMetric::P50, Op::Le, 1e9),
            t(SummaryMetric::P50, Op::Lt, 1.0),
            t(SummaryMetric::ErrorRate, Op::Le, 0.005),
            t(SummaryMetric::Throughput, Op::Ge, 99.0),
        ],
        &candidates.iter().collect::<Vec<_>>(),
    );
    let passed: Vec<bool> = results.iter().map(|r| r.passed).collect();
    assert_eq!(passed, [true, false, false, true]);
    assert!(
        (results[2].value.unwrap() - 0.01).abs() < 1e-9,
        "50 errors in 5000 per run"
    );
    let missing = Threshold {
        step: "nope".into(),
        ..t(SummaryMetric::P99, Op::Le, 1e9)
    };
    let r = crate::model::thresholds::evaluate(&[missing], &candidates.iter().collect::<Vec<_>>());
    assert_eq!(
        (r[0].value, r[0].passed),
        (None, false),
        "no data is no evidence"
    );
}

#[test]
fn settings_merge_defaults_scenario_then_flags() {
    let mut s = CompareSettings {
        alpha: Some(0.01),
        eq_margin: Some(0.2),
        ..Default::default()
    };
    s.min_effect.insert("p99".into(), 0.1);
    let p = params(&s, &Overrides { alpha: Some(0.001) });
    assert_eq!(p.alpha, 0.001);
    assert_eq!(p.min_effect(Metric::P99), 0.1);
    assert_eq!(
        p.min_effect(Metric::P50),
        DaqParams::default().min_effect(Metric::P50)
    );
    assert_eq!(p.eq_margin(Metric::P50), 0.2);
    assert_eq!(
        p.eq_margin(Metric::ErrorRate),
        DaqParams::default().eq_margin(Metric::ErrorRate),
        "the error rate's margin stays absolute"
    );
}

#[test]
fn the_same_runs_always_give_the_same_comparison() {
    let mut g = Generator::new(5);
    let baseline = Baseline {
        spec: "b".into(),
        runs: (0..5)
            .map(|_| {
                run(
                    &mut g,
                    &[("a", Regression::None), ("b", Regression::None)],
                    1.0,
                    0,
                )
            })
            .collect(),
        history: vec![],
    };
    let candidates = vec![run(
        &mut g,
        &[("a", Regression::Tail(0.5)), ("b", Regression::None)],
        1.0,
        0,
    )];
    let one = compare(&baseline, &candidates, &DaqParams::default(), &[], "c");
    let two = compare(&baseline, &candidates, &DaqParams::default(), &[], "c");
    assert_eq!(one, two);
}

#[test]
fn a_step_that_fails_outright_or_is_never_reached_regresses_even_against_one_run() {
    let mut g = Generator::new(21);
    let steps = [
        ("login", Regression::None),
        ("pay", Regression::None),
        ("receipt", Regression::None),
    ];
    let baseline = Baseline {
        spec: "one file".into(),
        runs: vec![run(&mut g, &steps, 1.0, 0)],
        history: vec![],
    };
    let mut broken = run(&mut g, &steps, 1.0, 0);
    // Every payment fails its check; the receipt step is never reached.
    let pay = broken.steps[1].clone();
    broken.steps[1] = pay.clone().with_errors(pay.count);
    broken.steps[1].throughput = 0.0;
    broken.measured_seconds = Some(50.0);
    broken.steps[2].count = 0;
    broken.steps[2].outcomes = Default::default();
    let c = compare(
        &baseline,
        &[broken],
        &DaqParams::default(),
        &[],
        "candidate",
    );
    let verdict = |name: &str| {
        c.steps
            .iter()
            .find(|s| s.id.name() == name)
            .unwrap()
            .verdict
    };
    assert_eq!(verdict("pay"), Verdict::Regressed, "{:#?}", c.steps[1]);
    assert_eq!(verdict("receipt"), Verdict::Regressed, "never reached");
    assert_ne!(verdict("login"), Verdict::Regressed);
    assert!(!c.overall.passed);
    assert!(
        c.overall.summary.contains("pay error rate +100.0pt")
            && c.overall.summary.contains("receipt never reached"),
        "{}",
        c.overall.summary
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n.contains("`receipt` was never reached")),
        "{:?}",
        c.notes
    );
    let pay_tp = c.steps[1]
        .metrics
        .iter()
        .find(|m| m.metric == crate::model::SummaryMetric::Throughput)
        .unwrap();
    assert_eq!(
        pay_tp.verdict,
        Verdict::Regressed,
        "a collapse of successful attempts is tested, not skipped"
    );
}

#[test]
fn runs_that_are_not_alike_are_flagged() {
    let mut g = Generator::new(5);
    let mut base = run(&mut g, &[("a", Regression::None)], 1.0, 0);
    base.target = Some("http://laptop".into());
    let mut cand = run(&mut g, &[("a", Regression::None)], 1.0, 0);
    cand.target = Some("http://staging".into());
    let c = compare(
        &Baseline {
            spec: "b".into(),
            runs: vec![base],
            history: vec![],
        },
        &[cand],
        &DaqParams::default(),
        &[],
        "c",
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n == "1 of 1 baseline runs differ from the candidate in the target (candidate http://staging, baseline http://laptop)"),
        "{:?}",
        c.notes
    );
}

#[test]
fn the_gross_failure_check_needs_a_large_rise_in_every_candidate_run() {
    let level = 0.005 / 5.0;
    let clean = vec![(0, 3000), (3, 3000), (30, 3000)];
    // A 3-second blip at 50/s in a one-minute run: 5% errors, as bursts are, not independent.
    assert!(!super::gross_error_rise(
        &[clean.clone(), vec![(150, 3000)]],
        level
    ));
    // One run that failed outright among three is not every run.
    assert!(!super::gross_error_rise(
        &[clean.clone(), vec![(3000, 3000), (0, 3000), (3, 3000)]],
        level
    ));
    // Beyond the worst baseline run (1%) by 20 points in each run: a gross failure.
    assert!(super::gross_error_rise(
        &[clean.clone(), vec![(650, 3000), (700, 3000), (3000, 3000)]],
        level
    ));
    assert!(!super::gross_error_rise(
        &[clean.clone(), vec![(620, 3000), (700, 3000)]],
        level
    ));
    // Runs that never attempted the step say nothing either way.
    assert!(super::gross_error_rise(
        &[vec![(0, 0), (0, 100)], vec![(100, 100), (0, 0)]],
        level
    ));
    assert!(!super::gross_error_rise(
        &[vec![(0, 0)], vec![(100, 100)]],
        level
    ));
}

/// Marks a run's generator as starved, with `lag_p99` µs of schedule lag on every step.
fn starve(mut r: RunResult, lag_p99: u64) -> RunResult {
    for s in r.steps.iter_mut() {
        s.lag = Some(crate::model::LatencySummary {
            p99: lag_p99,
            ..Default::default()
        });
    }
    r.health = Some(crate::model::HarnessHealth {
        harness_limited: true,
        reasons: vec!["starved on purpose".into()],
        ..Default::default()
    });
    r
}

#[test]
fn a_starved_candidate_does_not_pass_its_own_delay_off_as_a_regression() {
    let mut g = Generator::new(21);
    let baseline = Baseline {
        spec: "branch:main".into(),
        runs: (0..10)
            .map(|_| run(&mut g, &[("pay", Regression::None)], 1.0, 0))
            .collect(),
        history: vec![],
    };
    // +40% on a ~20 ms median is ~8 ms: under 10 x a 5 ms lag, so it is held back.
    let slow = |g: &mut Generator, lag| {
        let runs: Vec<RunResult> = (0..3)
            .map(|_| starve(run(g, &[("pay", Regression::Uniform(0.4))], 1.0, 0), lag))
            .collect();
        compare(&baseline, &runs, &DaqParams::default(), &[], "x3")
    };
    let c = slow(&mut g, 5_000);
    let pay = c.steps.iter().find(|s| s.id.name() == "pay").unwrap();
    assert_eq!(pay.verdict, Verdict::Inconclusive, "{:?}", c.notes);
    assert!(c.overall.passed);
    assert_eq!(c.harness_limited.len(), 3);
    assert!(
        c.notes.iter().any(|n| n.contains("generator was starved")),
        "{:?}",
        c.notes
    );
    // With 100 µs of lag the same change is far beyond it: it stands.
    let c = slow(&mut g, 100);
    let pay = c.steps.iter().find(|s| s.id.name() == "pay").unwrap();
    assert_eq!(pay.verdict, Verdict::Regressed, "{:?}", c.notes);
}

#[test]
fn starved_rounds_are_left_out_of_an_a_b_session() {
    let mut g = Generator::new(5);
    let mut rounds: Vec<(RunResult, RunResult)> = (0..6)
        .map(|_| {
            (
                run(&mut g, &[("pay", Regression::None)], 1.0, 0),
                run(&mut g, &[("pay", Regression::None)], 1.0, 0),
            )
        })
        .collect();
    // Round 2's candidate starved and twice as slow: left out, it cannot fake a regression.
    rounds[1].1 = starve(
        run(&mut g, &[("pay", Regression::Uniform(1.0))], 1.0, 0),
        40_000,
    );
    let c = paired(
        &rounds,
        &Default::default(),
        0,
        &DaqParams::default(),
        &[],
        ("a", "b"),
        false,
    );
    assert!(
        c.notes.iter().any(|n| n.starts_with("round 2 left out")),
        "{:?}",
        c.notes
    );
    let ab = c.ab.as_ref().unwrap();
    assert_eq!((ab.rounds, ab.left_out.clone()), (6, vec![2]));
    assert_eq!(
        ab.left_out_words().as_deref(),
        Some("round 2 left out: the load generator was starved there")
    );
    let several = crate::model::AbInfo {
        left_out: vec![2, 3, 5],
        ..ab.clone()
    };
    assert_eq!(
        several.left_out_words().as_deref(),
        Some("rounds 2, 3 and 5 left out: the load generator was starved there")
    );
    assert_eq!(ab.used_rounds(), [1, 3, 4, 5, 6]);
    assert_eq!(ab.log_ratios["workflow"][&SummaryMetric::P50].len(), 5);
    assert!(c.overall.regressed.is_empty(), "{}", c.overall.summary);
    assert_eq!(c.harness_limited.len(), 1);
}

#[test]
fn a_few_more_errors_are_not_a_regression() {
    // 3 errors in 3000 against none: a burst, not enough.
    assert!(!super::enough_errors(&[vec![(0, 3000)], vec![(3, 3000)]]));
    // 12 against 1 of 3000: beyond the baseline's rate by more than 5 and by more than 50%.
    assert!(super::enough_errors(&[vec![(1, 3000)], vec![(12, 3000)]]));
    // 60 against 50: more than 5 extra, but only 20% more than the baseline's rate.
    assert!(!super::enough_errors(&[vec![(50, 3000)], vec![(60, 3000)]]));
}
