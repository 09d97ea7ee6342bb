use super::*;
use crate::model::{Harness, Intervals, Outcome, RunResult};

/// A step of `latencies` (µs), all successful but `errors` check failures, with a timeline.
fn step(name: &str, latencies: &[u64], errors: u64, timeline: Vec<u64>) -> StepResult {
    let mut h = new_histogram();
    for &l in latencies {
        h.record(l).unwrap();
    }
    let mut s = StepResult::from_histogram(name, &h, 0.0);
    s.outcomes.ok = latencies.len() as u64 - errors;
    s.outcomes.check_failed = errors;
    s.count = latencies.len() as u64;
    s.errors = errors;
    s.service_histogram = Some(encode(&h));
    s.timeline_ok = timeline;
    s
}

/// Shard `part`'s run: steps `login` and `pay`, started `offset_s` after 10:00:00.
fn shard(part: u32, login: &[u64], pay: &[u64], offset_s: u32) -> Shard {
    let mut run: RunResult = serde_json::from_value(serde_json::json!({
        "schema": 1,
        "scenario": "pay-invoice",
        "steps": [],
    }))
    .unwrap();
    run.run_id = format!("shard-{part}");
    run.scenario_hash = Some("hash-a".into());
    run.harness = Some(Harness {
        name: "rehearse".into(),
        version: "0.1.0".into(),
    });
    run.started_at = Some(format!("2026-12-01T10:00:{offset_s:02}Z"));
    run.ended_at = Some(format!("2026-12-01T10:00:{:02}Z", offset_s + 3));
    run.measured_seconds = Some(3.0);
    run.complete = true;
    run.intervals = Some(Intervals {
        file: "intervals.hlog".into(),
        seconds: 1.0,
        warmup_intervals: 0,
        started: vec![1, 1, 1],
        dropped: vec![0, 0, 0],
    });
    run.steps = vec![
        step("login", login, 0, vec![1, 2, 3]),
        step("pay", pay, 1, vec![10, 20, 30]),
    ];
    run.workflow = Some(step("workflow", login, 0, vec![1, 1, 1]));
    Shard { part, run }
}

fn expected(parts: u32) -> Expected {
    Expected {
        group_id: "g-1".into(),
        parts,
        start_ms: None,
        failed: Vec::new(),
    }
}

fn histogram_of(s: &StepResult) -> Histogram<u64> {
    decode(&s.histogram).unwrap()
}

#[test]
fn histograms_add_exactly_so_percentiles_are_of_every_request() {
    // Shard 1 fast, shard 2 slow: the merged p99 is the p99 of all requests together, which
    // no average or maximum of the shards' own p99s gives.
    let fast: Vec<u64> = (1..=990).map(|i| 1_000 + i).collect();
    let slow: Vec<u64> = (1..=10).map(|i| 50_000 + i * 1_000).collect();
    let merged = merge(
        &expected(2),
        &[shard(2, &slow, &slow, 0), shard(1, &fast, &fast, 0)],
    )
    .unwrap();
    let mut all = new_histogram();
    for &l in fast.iter().chain(&slow) {
        all.record(l).unwrap();
    }
    let pay = &merged.steps[1];
    assert_eq!(pay.name, "pay");
    assert_eq!(
        histogram_of(pay),
        all,
        "the merged histogram is the histogram of every request"
    );
    assert_eq!(pay.latency, LatencySummary::of(&all));
    assert_eq!(pay.count, 1_000);
    assert_eq!(pay.outcomes.check_failed, 2);
    assert_eq!(pay.errors, 2);
    assert_eq!(pay.error_rate, 0.002);
    assert_eq!(pay.outcomes.get(Outcome::Ok), 998);
    // 998 successes over the 3 s window both shards measured.
    assert_eq!(pay.throughput, 332.667);
    assert_eq!(
        decode(pay.service_histogram.as_deref().unwrap()).unwrap(),
        all
    );
    assert_eq!(merged.run_id, "g-1");
    assert!(merged.complete, "{:?}", merged.stop_reason);
    let parts: Vec<(u32, &str)> = merged
        .shards
        .iter()
        .map(|s| (s.part, s.run_id.as_str()))
        .collect();
    assert_eq!(parts, [(1, "shard-1"), (2, "shard-2")]);
}

#[test]
fn timelines_are_aligned_on_the_common_start_and_added() {
    let a = shard(1, &[1_000], &[1_000], 0);
    let b = shard(2, &[1_000], &[1_000], 1);
    let merged = merge(&expected(2), &[a.clone(), b.clone()]).unwrap();
    // Part 2 started one interval later.
    assert_eq!(merged.steps[1].timeline_ok, [10, 30, 50, 30]);
    assert_eq!(merged.intervals.as_ref().unwrap().started, [1, 2, 2, 1]);
    assert_eq!(merged.started_at.as_deref(), Some("2026-12-01T10:00:00Z"));
    assert_eq!(merged.ended_at.as_deref(), Some("2026-12-01T10:00:04Z"));
    // Shards that met at the barrier all began at T0, whatever their clocks wrote: part 2's
    // clock running a second fast does not shift its intervals.
    let t0 = unix_ms("2026-12-01T09:59:59Z").unwrap();
    let at_t0 = merge(
        &Expected {
            start_ms: Some(t0),
            ..expected(2)
        },
        &[a, b],
    )
    .unwrap();
    assert_eq!(at_t0.steps[1].timeline_ok, [20, 40, 60]);
    assert_eq!(at_t0.intervals.as_ref().unwrap().started, [2, 2, 2]);
    assert_eq!(
        at_t0.started_at.as_deref(),
        Some("2026-12-01T09:59:59.000Z")
    );
}

#[test]
fn a_missing_failed_or_different_shard_makes_the_run_incomplete_with_the_reason() {
    let fast = [1_000, 2_000];
    let merged = merge(&expected(3), &[shard(1, &fast, &fast, 0)]).unwrap();
    assert!(!merged.complete);
    assert_eq!(
        merged.stop_reason.as_deref(),
        Some("shard index 1, 2 of 3 stored no run")
    );

    let failed = Expected {
        failed: vec![(2, "killed".into())],
        ..expected(2)
    };
    let merged = merge(&failed, &[shard(1, &fast, &fast, 0)]).unwrap();
    assert_eq!(
        merged.stop_reason.as_deref(),
        Some("shard index 1 failed: killed")
    );

    let mut other = shard(2, &fast, &fast, 0);
    other.run.scenario_hash = Some("hash-b".into());
    other.run.harness.as_mut().unwrap().version = "0.2.0".into();
    let merged = merge(&expected(2), &[shard(1, &fast, &fast, 0), other]).unwrap();
    assert!(!merged.complete);
    let why = merged.stop_reason.unwrap();
    assert!(
        why.contains(
            "shards ran different scenario files: hash-a on shard index 0; hash-b on shard index 1"
        ),
        "{why}"
    );
    assert!(
        why.contains("different rehearse versions: 0.1.0 on shard index 0; 0.2.0 on shard index 1"),
        "{why}"
    );

    let mut cut = shard(2, &fast, &fast, 0);
    cut.run.complete = false;
    cut.run.stop_reason = Some("interrupted".into());
    let merged = merge(&expected(2), &[shard(1, &fast, &fast, 0), cut]).unwrap();
    assert_eq!(
        merged.stop_reason.as_deref(),
        Some("shard index 1 did not complete: interrupted")
    );
}

#[test]
fn shards_of_different_scenarios_or_none_are_refused() {
    let mut other = shard(2, &[1_000], &[1_000], 0);
    other.run.scenario = "browse".into();
    let err = merge(&expected(2), &[shard(1, &[1_000], &[1_000], 0), other]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "group g-1: shards ran different scenarios (pay-invoice, browse)"
    );
    assert_eq!(
        merge(&expected(2), &[]).unwrap_err().to_string(),
        "group g-1: no shard stored a run"
    );
    let mut broken = shard(2, &[1_000], &[1_000], 0);
    broken.run.steps[0].histogram = "not a histogram".into();
    let err = merge(&expected(2), &[shard(1, &[1_000], &[1_000], 0), broken]).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("group g-1: shard index 1, step `login`: not base64"),
        "{err}"
    );
}

#[test]
fn a_step_only_some_shards_reached_keeps_their_counts() {
    let mut short = shard(2, &[1_000], &[1_000], 0);
    short.run.steps.truncate(1);
    let merged = merge(&expected(2), &[shard(1, &[1_000], &[3_000], 0), short]).unwrap();
    let names: Vec<&str> = merged.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["login", "pay"]);
    assert_eq!(merged.steps[0].count, 2);
    assert_eq!(merged.steps[1].count, 1);
}

#[test]
fn thresholds_hold_or_fail_on_the_merged_run_not_on_any_one_shard() {
    // k6-operator judges each pod on its own: the slow shard alone fails "pay p99 < 10ms",
    // although over every request the p99 holds.
    use crate::model::{Op, SummaryMetric, Threshold};
    let limit = Threshold {
        step: "pay".into(),
        workflow: false,
        metric: SummaryMetric::P99,
        op: Op::Lt,
        limit: 10_000.0,
        expression: "< 10ms".into(),
        default: false,
    };
    let fast: Vec<u64> = (1..=990).map(|i| 1_000 + i).collect();
    let slow: Vec<u64> = (1..=10).map(|i| 50_000 + i * 1_000).collect();
    let mut shards = [shard(1, &fast, &fast, 0), shard(2, &slow, &slow, 0)];
    for s in &mut shards {
        s.run.thresholds = thresholds::evaluate(std::slice::from_ref(&limit), &[&s.run]);
    }
    assert!(
        !shards[1].run.thresholds[0].passed,
        "the slow shard alone fails"
    );
    let merged = merge(&expected(2), &shards).unwrap();
    assert_eq!(merged.thresholds.len(), 1);
    assert!(merged.thresholds[0].passed, "{:?}", merged.thresholds);
}

#[test]
fn the_generators_health_adds_its_lag_and_says_which_shard_was_starved() {
    let lagging = |part: u32, lags: &[u64], limited: bool| {
        let mut s = shard(part, &[1_000], &[1_000], 0);
        let mut h = new_histogram();
        for &l in lags {
            h.record(l).unwrap();
        }
        s.run.health = Some(HarnessHealth {
            lag: LatencySummary::of(&h),
            lag_histogram: encode(&h),
            cpu_cores: Some(0.5),
            pressure_some: Some(if limited { 0.4 } else { 0.01 }),
            steal: None,
            intervals: HealthIntervals {
                lag_p99: vec![100, 200],
                lag_max: vec![150, 250],
                cpu_cores: vec![0.5, 0.5],
                pressure_some: vec![0.0, 0.4],
            },
            harness_limited: limited,
            reasons: if limited {
                vec!["schedule lag p99 2 ms".into()]
            } else {
                Vec::new()
            },
        });
        s
    };
    let merged = merge(
        &expected(2),
        &[lagging(1, &[50, 60], false), lagging(2, &[5_000], true)],
    )
    .unwrap();
    let h = merged.health.unwrap();
    assert_eq!(decode(&h.lag_histogram).unwrap().len(), 3);
    assert_eq!(h.cpu_cores, Some(1.0));
    assert_eq!(h.pressure_some, Some(0.4));
    assert!(h.harness_limited);
    assert_eq!(h.reasons, ["shard index 1: schedule lag p99 2 ms"]);
    assert_eq!(h.intervals.cpu_cores, [1.0, 1.0]);
    assert_eq!(h.intervals.lag_p99, [100, 200]);
}

/// An interval log of `tag`, one interval per entry of `per_second`, each with that many
/// latencies of `value` µs.
fn log_of(tag: &str, value: u64, per_second: &[u64]) -> Vec<u8> {
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    let mut out = Vec::new();
    let mut ser = V2DeflateSerializer::new();
    let start = std::time::UNIX_EPOCH;
    let mut w = IntervalLogWriterBuilder::new()
        .with_start_time(start)
        .with_base_time(start)
        .begin_log_with(&mut out, &mut ser)
        .unwrap();
    for (i, n) in per_second.iter().enumerate() {
        let mut h = new_histogram();
        h.record_n(value, *n).unwrap();
        w.write_histogram(
            &h,
            std::time::Duration::from_secs(i as u64),
            std::time::Duration::from_secs(1),
            Tag::new(tag),
        )
        .unwrap();
    }
    drop(w);
    out
}

#[test]
fn interval_logs_add_per_step_and_interval() {
    use crate::model::parse_interval_log;
    let merged = interval_logs(
        &[
            log_of("pay", 1_000, &[10, 20]),
            log_of("pay", 100_000, &[1, 0, 5]),
            log_of("login", 500, &[3]),
        ],
        std::time::UNIX_EPOCH,
    )
    .unwrap();
    let series = parse_interval_log(&merged);
    let counts = |tag: &str| series[tag].iter().map(|p| p.count).collect::<Vec<_>>();
    assert_eq!(counts("pay"), [11, 20, 5]);
    assert_eq!(counts("login"), [3]);
    // The second shard's slow request is in the first interval's tail, not averaged away.
    assert!(series["pay"][0].p99 >= 99_000, "{:?}", series["pay"][0]);
    assert_eq!(series["pay"][1].p99, 1_000);
}
