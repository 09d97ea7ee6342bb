//! results.json is the contract every later stage reads: it matches its JSON Schema, its
//! histograms decode, its interval log parses, and it loads back unchanged.

mod common;

use common::*;
use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use std::collections::BTreeMap;

#[test]
fn a_run_matches_the_schema_and_loads_back_unchanged() {
    let target = fast_sandbox();
    let out = tempfile::tempdir().unwrap();
    // The shipped scenario plus every optional section, so the schema sees them all.
    let scenario = std::fs::read_to_string(scenarios().join("browse-invoices.toml")).unwrap()
        + "\n[thresholds]\nerror_rate = \"5%\"\n\"search\".p99 = \"10s\"\n[compare]\nalpha = 0.01\nmin_effect = { p99 = \"10%\" }\n";
    let file = write(out.path(), "browse.toml", &scenario);
    std::fs::create_dir_all(out.path().join("data")).unwrap();
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        out.path().join("data/customers.csv"),
    )
    .unwrap();
    rehearse()
        .args([
            "run",
            "-q",
            "--duration",
            "2s",
            "--warmup",
            "1s",
            "--label",
            "env=test",
            "--branch",
            "main",
            "--commit",
            "abc123",
            "--target",
            &target.url,
            "--out",
        ])
        .arg(out.path())
        .arg(&file)
        .assert()
        .success();
    let text = std::fs::read_to_string(out.path().join("results.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    schema_check(&json).unwrap();

    let run = results(out.path());
    assert_eq!(run.labels.get("env").map(String::as_str), Some("test"));
    let git = run.git.clone().unwrap();
    assert_eq!(
        (git.commit.as_deref(), git.branch.as_deref()),
        (Some("abc123"), Some("main"))
    );
    assert_eq!(run.load.as_ref().unwrap().model, "closed");
    assert_eq!(run.intervals.as_ref().unwrap().warmup_intervals, 1);
    assert_eq!(run.thresholds.len(), 2);
    assert_eq!(run.compare.alpha, Some(0.01));
    // Reading fills nothing in for our own files: what was written is what loads.
    assert_eq!(serde_json::to_value(&run).unwrap(), json);

    // Two shards of a sharded run merge into one run that matches the schema too, its
    // provenance listing both, and loads back unchanged.
    use rehearse::record::merge::{Expected, Shard, merge};
    let shards: Vec<Shard> = (1..=2)
        .map(|part| Shard {
            part,
            run: run.clone(),
        })
        .collect();
    let expected = Expected {
        group_id: "shards-of-browse".into(),
        parts: 2,
        ..Expected::default()
    };
    let merged = merge(&expected, &shards).unwrap();
    assert!(merged.complete, "{:?}", merged.stop_reason);
    assert_eq!(merged.shards.len(), 2);
    assert_eq!(merged.steps[0].count, 2 * run.steps[0].count);
    let merged_json = serde_json::to_value(&merged).unwrap();
    schema_check(&merged_json).unwrap();
    let back: rehearse::model::RunResult = serde_json::from_value(merged_json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), merged_json);

    // Every step's histograms decode and agree with the summaries.
    for s in run.steps.iter().chain(run.workflow.as_ref()) {
        let h = rehearse::model::decode(&s.histogram).unwrap();
        assert_eq!(h.len(), s.latency.count, "{}", s.name);
        assert_eq!(h.value_at_quantile(0.99), s.latency.p99, "{}", s.name);
        let sh = rehearse::model::decode(s.service_histogram.as_ref().unwrap()).unwrap();
        assert_eq!(sh.len(), s.service_time.count);
    }

    // The interval log holds one histogram per step (and the workflow) per interval,
    // warm-up included, under the tags results.json names.
    let log = std::fs::read(out.path().join("intervals.hlog")).unwrap();
    let mut per_tag: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for entry in IntervalLogIterator::new(&log) {
        if let Ok(LogEntry::Interval(h)) = entry {
            let tag = h.tag().map(|t| t.as_str().to_string()).unwrap_or_default();
            let bytes = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                h.encoded_histogram(),
            )
            .unwrap();
            let hist: hdrhistogram::Histogram<u64> =
                hdrhistogram::serialization::Deserializer::new()
                    .deserialize(&mut bytes.as_slice())
                    .unwrap();
            let e = per_tag.entry(tag).or_default();
            e.0 += 1;
            e.1 += hist.len();
        }
    }
    let tags: Vec<String> = run
        .steps
        .iter()
        .chain(run.workflow.as_ref())
        .map(|s| s.interval_tag.clone().unwrap())
        .collect();
    assert_eq!(per_tag.keys().cloned().collect::<Vec<_>>(), {
        let mut t = tags.clone();
        t.sort();
        t
    });
    // One interval per second of the 3 s run (and of the drain after it), unless a starved
    // flusher closed the last ones late (issue 9): so the warm-up interval and at least one
    // more, the same number for every tag.
    let intervals = per_tag.values().map(|v| v.0).collect::<Vec<_>>();
    let warmup = run.intervals.as_ref().unwrap().warmup_intervals;
    assert!(
        intervals.iter().all(|n| *n == intervals[0] && *n > warmup),
        "{per_tag:?}"
    );
    for s in &run.steps {
        let (_, recorded) = per_tag[s.interval_tag.as_ref().unwrap()];
        assert!(
            recorded >= s.latency.count,
            "{}: intervals hold the measured window and warm-up",
            s.name
        );
        assert_eq!(s.timeline_ok.len(), intervals[0]);
    }
}

#[test]
fn the_schema_rejects_what_it_should() {
    let ok = serde_json::json!({"schema": 1, "scenario": "x", "steps": [{"name": "a", "histogram": "HISTFAAA"}]});
    schema_check(&ok).unwrap();
    for bad in [
        serde_json::json!({"schema": 2, "scenario": "x", "steps": []}),
        serde_json::json!({"schema": 1, "steps": []}),
        serde_json::json!({"schema": 1, "scenario": "x", "steps": [{"name": "a"}]}),
        serde_json::json!({"schema": 1, "scenario": "x", "steps": [], "surprise": true}),
    ] {
        assert!(schema_check(&bad).is_err(), "{bad}");
    }
}
