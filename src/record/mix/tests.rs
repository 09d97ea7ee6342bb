//! Combining a mix's member runs: qualified steps, member workflows as steps, the mix's
//! workflow of every iteration, thresholds on the whole, one interval log.

use hdrhistogram::Histogram;

use super::*;
use crate::model::{HarnessHealth, IterationCounts, Op, SummaryMetric, decode, new_histogram};

fn histogram(values: &[u64]) -> Histogram<u64> {
    let mut h = new_histogram();
    for v in values {
        h.record(*v).unwrap();
    }
    h
}

fn step(name: &str, values: &[u64]) -> StepResult {
    StepResult::from_histogram(name, &histogram(values), 10.0)
}

/// An interval log with one interval per tag, each holding `value` once.
fn log(tags: &[&str], value: u64) -> Vec<u8> {
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    let mut out = Vec::new();
    let mut s = V2DeflateSerializer::new();
    let start = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let mut w = IntervalLogWriterBuilder::new()
        .with_start_time(start)
        .with_base_time(start)
        .begin_log_with(&mut out, &mut s)
        .unwrap();
    for tag in tags {
        w.write_histogram(
            &histogram(&[value]),
            std::time::Duration::ZERO,
            std::time::Duration::from_secs(1),
            Tag::new(tag),
        )
        .unwrap();
    }
    drop(w);
    out
}

fn member(name: &str, steps: &[(&str, &[u64])], workflow: &[u64], cores: f64) -> MemberRun {
    let mut run: RunResult = serde_json::from_value(serde_json::json!({
        "schema": crate::model::SCHEMA_VERSION,
        "scenario": name,
        "started_at": "2026-12-02T10:00:00.000Z",
        "measured_seconds": 10.0,
        "steps": [],
    }))
    .unwrap();
    run.run_id = format!("{name}-run");
    run.scenario_hash = Some(format!("sha256:{name}"));
    run.steps = steps.iter().map(|(n, v)| step(n, v)).collect();
    run.workflow = Some(step("workflow", workflow));
    run.iterations = Some(IterationCounts {
        started: workflow.len() as u64,
        completed: workflow.len() as u64,
        ..IterationCounts::default()
    });
    run.health = Some(HarnessHealth {
        cpu_cores: Some(cores),
        reasons: vec!["lag".into()],
        ..HarnessHealth::default()
    });
    let tags: Vec<&str> = steps.iter().map(|(n, _)| *n).chain(["workflow"]).collect();
    MemberRun {
        log: log(&tags, 1000 * (steps.len() as u64 + 1)),
        run,
    }
}

fn info(thresholds: Vec<Threshold>) -> MixInfo {
    MixInfo {
        run_id: "mix-1".into(),
        name: "shop".into(),
        hash: "sha256:mix".into(),
        file: Some("mix.toml".into()),
        load: None,
        thresholds,
        compare: Default::default(),
        start_ms: Some(1_764_669_600_000),
    }
}

fn limit(step: &str, workflow: bool, metric: SummaryMetric, op: Op, value: f64) -> Threshold {
    Threshold {
        step: step.into(),
        workflow,
        metric,
        op,
        limit: value,
        expression: step.to_string(),
        default: false,
    }
}

#[test]
fn members_become_qualified_steps_and_the_mix_workflow_holds_every_iteration() {
    let members = [
        member(
            "pay",
            &[("login", &[10, 20]), ("pay", &[80, 90])],
            &[100, 120],
            0.4,
        ),
        member("browse", &[("login", &[11, 21, 31])], &[30, 40, 50], 0.5),
    ];
    let thresholds = vec![
        limit("pay/pay", false, SummaryMetric::Max, Op::Le, 50.0),
        limit("workflow", true, SummaryMetric::Max, Op::Le, 1000.0),
    ];
    let (run, log) = combine(&info(thresholds), &members).unwrap();
    assert_eq!(
        (run.run_id.as_str(), run.scenario.as_str()),
        ("mix-1", "shop")
    );
    assert_eq!(run.scenario_hash.as_deref(), Some("sha256:mix"));
    assert!(run.complete && run.shards.is_empty());
    let names: Vec<&str> = run.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "pay/login",
            "pay/pay",
            "pay/workflow",
            "browse/login",
            "browse/workflow"
        ]
    );
    // Same-named steps of two members stay apart.
    assert_eq!(run.steps[0].count, 2);
    assert_eq!(run.steps[3].count, 3);
    let workflow = run.workflow.as_ref().unwrap();
    assert_eq!(workflow.count, 5, "every iteration of every member");
    let h = decode(&workflow.histogram).unwrap();
    assert_eq!((h.min(), h.max()), (30, h.highest_equivalent(120)));
    assert_eq!(run.iterations.as_ref().unwrap().started, 5);
    // Thresholds are the mix's, on the combined run.
    assert_eq!(run.thresholds.len(), 2);
    assert!(!run.thresholds[0].passed, "pay/pay max 90 > 50");
    assert!(run.thresholds[1].passed);
    // One process: its CPU is counted once; reasons name their scenario.
    let health = run.health.as_ref().unwrap();
    assert_eq!(health.cpu_cores, Some(0.5));
    assert_eq!(health.reasons, ["pay: lag", "browse: lag"]);
    // The interval log: each member's steps under qualified tags, the workflows both as their
    // member's step and added into the mix's.
    let mut by_tag: std::collections::BTreeMap<String, u64> = Default::default();
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    for entry in IntervalLogIterator::new(&log) {
        if let Ok(LogEntry::Interval(h)) = entry {
            let count = decode(h.encoded_histogram()).unwrap().len();
            *by_tag
                .entry(h.tag().unwrap().as_str().to_string())
                .or_default() += count;
        }
    }
    let tags: Vec<(&str, u64)> = by_tag.iter().map(|(t, n)| (t.as_str(), *n)).collect();
    assert_eq!(
        tags,
        [
            ("browse_login", 1),
            ("browse_workflow", 1),
            ("pay_login", 1),
            ("pay_pay", 1),
            ("pay_workflow", 1),
            ("workflow", 2),
        ]
    );
    let tagged: Vec<&str> = run
        .steps
        .iter()
        .map(|s| s.interval_tag.as_deref().unwrap())
        .collect();
    assert_eq!(
        tagged,
        [
            "pay_login",
            "pay_pay",
            "pay_workflow",
            "browse_login",
            "browse_workflow"
        ]
    );
}

#[test]
fn a_member_that_did_not_complete_makes_the_mix_incomplete_and_says_which() {
    let mut stopped = member("browse", &[("login", &[11])], &[30], 0.1);
    stopped.run.complete = false;
    stopped.run.stop_reason = Some("interrupted (SIGINT)".into());
    let members = [member("pay", &[("pay", &[80])], &[100], 0.1), stopped];
    let (run, _) = combine(&info(Vec::new()), &members).unwrap();
    assert!(!run.complete);
    assert_eq!(
        run.stop_reason.as_deref(),
        Some("browse did not complete: interrupted (SIGINT)")
    );
}

#[test]
fn steps_whose_tags_would_meet_across_scenarios_keep_their_own() {
    // `a b/c` and `a_b/c` are both `a_b_c` once made tag-safe.
    let members = [
        member("a b", &[("c", &[10])], &[20], 0.1),
        member("a_b", &[("c", &[30])], &[40], 0.1),
    ];
    let (run, log) = combine(&info(Vec::new()), &members).unwrap();
    let tags: Vec<&str> = run
        .steps
        .iter()
        .map(|s| s.interval_tag.as_deref().unwrap())
        .collect();
    let mut unique = tags.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tags.len(), "{tags:?}");
    // Each step's interval holds its own request only.
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
    for entry in IntervalLogIterator::new(&log) {
        if let Ok(LogEntry::Interval(h)) = entry {
            let tag = h.tag().unwrap().as_str().to_string();
            let n = decode(h.encoded_histogram()).unwrap().len();
            assert_eq!(n, if tag == "workflow" { 2 } else { 1 }, "{tag}");
        }
    }
}
