//! The lossless merge of a sharded run (issue 13: "the merge of 8 shards of a 20-step
//! scenario takes under 1 s"): 8 shards, each 20 steps and a workflow of 10,000 requests
//! drawn from the reference generator, with service-time histograms and 60 s timelines;
//! every histogram decoded, added and re-encoded, thresholds re-evaluated. The store's part
//! (reading the 8 runs from PostgreSQL) is measured with `rehearse merge` once it lands.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rehearse::model::{self, Op, RunResult, StepResult, SummaryMetric, Threshold, thresholds};
use rehearse::record::merge::{Expected, Shard, merge};
use rehearse::stats::simulate::{Generator, Regression};

const SHARDS: u32 = 8;
const STEPS: usize = 20;

fn shard(g: &mut Generator, part: u32) -> Shard {
    let step = |name: String, h: &hdrhistogram::Histogram<u64>| StepResult {
        service_histogram: Some(model::encode(h)),
        timeline_ok: vec![160; 60],
        timeline_errors: vec![1; 60],
        ..StepResult::from_histogram(&name, h, 160.0)
    };
    let mut workflow = model::new_histogram();
    let steps: Vec<StepResult> = (0..STEPS)
        .map(|s| {
            let h = g.run(10_000, 1.0, Regression::None).histogram();
            workflow.add(&h).unwrap();
            step(format!("step-{s:02}"), &h)
        })
        .collect();
    let mut r: RunResult = serde_json::from_value(serde_json::json!({
        "schema": 1, "scenario": "checkout", "steps": []
    }))
    .unwrap();
    r.run_id = format!("shard-{part}");
    r.started_at = Some("2026-12-01T10:00:00Z".into());
    r.measured_seconds = Some(60.0);
    r.complete = true;
    r.workflow = Some(step("workflow".into(), &workflow));
    r.steps = steps;
    let limits: Vec<Threshold> = (0..STEPS)
        .map(|s| Threshold {
            step: format!("step-{s:02}"),
            workflow: false,
            metric: SummaryMetric::P99,
            op: Op::Lt,
            limit: 400_000.0,
            expression: "< 400ms".into(),
            default: false,
        })
        .collect();
    r.thresholds = thresholds::evaluate(&limits, &[&r]);
    Shard { part, run: r }
}

fn bench(c: &mut Criterion) {
    let mut g = Generator::new(13);
    let shards: Vec<Shard> = (1..=SHARDS).map(|p| shard(&mut g, p)).collect();
    let expected = Expected {
        group_id: "bench".into(),
        parts: SHARDS,
        start_ms: None,
        failed: Vec::new(),
    };
    c.bench_function("merge 8 shards x 20 steps", |b| {
        b.iter(|| merge(black_box(&expected), black_box(&shards)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
