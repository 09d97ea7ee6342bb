//! Change points on seeded histories (issue 14's acceptance): 60-run histories from the
//! reference generator of regression-detection.md (lognormal body, Pareto tail, hiccup
//! bursts, per-run drift with sd 4%, 2k to 20k requests a run), one step, searched the way
//! `rehearse watch` does: every metric of the step, Holm across them, the default settings.
//! `REHEARSE_WATCH_TRIALS` sets the histories per cell (default 40; seeded, so the same every
//! time); the rates are printed.

use rehearse::compare::changes::{Settings, change_points};
use rehearse::model::{ChangePoint, RunResult, StepResult};
use rehearse::stats::simulate::{Generator, Regression};

const RUNS: usize = 60;

fn trials() -> u64 {
    std::env::var("REHEARSE_WATCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// One history: run i's latencies multiplied by `factor(i)` (and its drift), oldest first.
fn history(seed: u64, factor: impl Fn(usize) -> f64) -> Vec<RunResult> {
    let mut g = Generator::new(seed);
    let base = g.trial_requests((2_000.0, 20_000.0));
    (0..RUNS)
        .map(|i| {
            let n = g.run_requests(base);
            let drift = g.drift() * factor(i);
            let h = g.run(n, drift, Regression::None).histogram();
            let mut step = StepResult::from_histogram("pay", &h, n as f64 / 60.0);
            step.outcomes.ok = step.count;
            let mut run: RunResult = serde_json::from_value(serde_json::json!({
                "schema": 1, "scenario": "pay-invoice", "steps": []
            }))
            .unwrap();
            run.run_id = format!("run-{i:02}");
            run.complete = true;
            run.measured_seconds = Some(60.0);
            run.git = Some(rehearse::model::Git {
                commit: Some(format!("c{i:02}")),
                ..Default::default()
            });
            run.steps = vec![step];
            run
        })
        .collect()
}

fn worse_near(found: &[ChangePoint], at: usize, within: usize) -> bool {
    found
        .iter()
        .any(|c| c.worse && c.metric != "throughput" && c.index.abs_diff(at) <= within)
}

#[test]
fn an_8_percent_step_is_found_located_and_watched_within_5_runs() {
    let settings = Settings::default();
    let n = trials();
    let (mut found, mut watched, mut watched_10) = (0, 0, 0);
    for t in 0..n {
        let mut g = Generator::new(9_000 + t);
        let at = g.uniform(10.0, 50.0) as usize;
        let runs = history(1_000 + t, |i| if i >= at { 1.08 } else { 1.0 });
        if worse_near(&change_points(&runs, &settings), at, 3) {
            found += 1;
        }
        // As the runs arrive: a watch after each run after the change.
        let first =
            (1..=10).find(|k| worse_near(&change_points(&runs[..at + k], &settings), at, 3));
        if first.is_some_and(|k| k <= 5) {
            watched += 1;
        }
        if first.is_some() {
            watched_10 += 1;
        }
    }
    let (f, w, w10) = (
        found as f64 / n as f64,
        watched as f64 / n as f64,
        watched_10 as f64 / n as f64,
    );
    eprintln!(
        "+8% step: found and located within 3 runs {f:.3}; a watch after each run reported it within 5 runs {w:.3}, within 10 runs {w10:.3}"
    );
    assert!(f >= 0.90, "found {f}");
    assert!(w >= 0.90, "watched within 5 runs {w}");
    assert!(w10 >= 0.95, "watched within 10 runs {w10}");
}

#[test]
fn without_a_change_few_series_have_one_and_an_outlier_run_is_none() {
    let settings = Settings::default();
    let n = trials();
    let mut per_metric = std::collections::BTreeMap::<String, u64>::new();
    let mut outlier_made_one = 0;
    for t in 0..n {
        let runs = history(5_000 + t, |_| 1.0);
        for c in change_points(&runs, &settings) {
            *per_metric.entry(c.metric.clone()).or_default() += 1;
        }
        let spike = 5 + (t as usize * 7) % 50;
        let runs = history(5_000 + t, |i| if i == spike { 3.0 } else { 1.0 });
        if change_points(&runs, &settings)
            .iter()
            .any(|c| c.index == spike || c.index == spike + 1)
        {
            outlier_made_one += 1;
        }
    }
    for (metric, count) in &per_metric {
        let rate = *count as f64 / n as f64;
        eprintln!("no change: {metric} false change points in {rate:.3} of series");
        assert!(rate <= 0.05, "{metric}: {rate}");
    }
    eprintln!("a 3x outlier run made a change point at itself in {outlier_made_one} of {n}");
    assert_eq!(outlier_made_one, 0);
}

#[test]
fn a_creep_of_1_percent_a_run_is_reported_before_it_ends() {
    let settings = Settings::default();
    let n = trials();
    let (mut caught, mut caught_5_after) = (0, 0);
    for t in 0..n {
        let start = 35;
        let runs = history(7_000 + t, |i| {
            1.0 + 0.01 * (i.saturating_sub(start - 1).min(10)) as f64
        });
        // Watches after each run of the creep (runs start..start+10) and 5 runs on.
        let first = (1..=15).find(|k| {
            change_points(&runs[..start + k], &settings)
                .iter()
                .any(|c| c.worse && c.index + 3 >= start)
        });
        if first.is_some_and(|k| k <= 10) {
            caught += 1;
        }
        if first.is_some() {
            caught_5_after += 1;
        }
    }
    let (rate, after) = (caught as f64 / n as f64, caught_5_after as f64 / n as f64);
    eprintln!(
        "+1%/run creep over 10 runs: reported before it ended {rate:.3}, by 5 runs after {after:.3}"
    );
    assert!(rate >= 0.9, "{rate}");
    assert!(after >= 0.97, "{after}");
}
