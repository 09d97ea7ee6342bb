//! `compare` of a 20-step scenario against a 10-run history: decoding every histogram,
//! estimating, DAQ with Holm, thresholds. Runs are drawn from the reference generator.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rehearse::compare::{self, Baseline};
use rehearse::model::{self, Op, RunResult, StepResult, SummaryMetric, Threshold};
use rehearse::stats::DaqParams;
use rehearse::stats::simulate::{Generator, Regression};

fn run(g: &mut Generator, id: usize) -> RunResult {
    let step = |name: String, h: &hdrhistogram::Histogram<u64>| {
        StepResult::from_histogram(&name, h, 100.0)
    };
    let mut workflow = model::new_histogram();
    let steps: Vec<StepResult> = (0..20)
        .map(|s| {
            let h = g.run(10_000, 1.0, Regression::None).histogram();
            workflow.add(&h).unwrap();
            step(format!("step-{s:02}"), &h)
        })
        .collect();
    let mut r: RunResult =
        serde_json::from_value(serde_json::json!({"schema": 1, "scenario": "s", "steps": []}))
            .unwrap();
    r.run_id = format!("run-{id}");
    r.workflow = Some(step("workflow".into(), &workflow));
    r.steps = steps;
    r
}

fn bench(c: &mut Criterion) {
    let mut g = Generator::new(42);
    let baseline = Baseline {
        spec: "branch:main".into(),
        runs: (0..10).map(|i| run(&mut g, i)).collect(),
        history: vec![],
    };
    let candidate = vec![run(&mut g, 99)];
    let thresholds: Vec<Threshold> = (0..20)
        .map(|s| Threshold {
            step: format!("step-{s:02}"),
            workflow: false,
            metric: SummaryMetric::P99,
            op: Op::Le,
            limit: 400_000.0,
            expression: String::new(),
            default: false,
        })
        .collect();
    c.bench_function(
        "compare 20 steps + workflow vs a 10-run history (1 candidate)",
        |b| {
            b.iter(|| {
                compare::compare(
                    black_box(&baseline),
                    black_box(&candidate),
                    &DaqParams::default(),
                    &thresholds,
                    "c",
                )
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
