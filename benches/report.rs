//! Rendering a 20-step comparison with a 100-run history: index.html (every plot as SVG),
//! summary.png, summary.md and junit.xml.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use rehearse::compare::{self, Baseline};
use rehearse::model::{self, IntervalPoint, IntervalSeries, RunResult, StepResult};
use rehearse::report::{self, ReportInput, StepHistory, TrendPoint};
use rehearse::stats::DaqParams;
use rehearse::stats::simulate::{Generator, Regression};

fn run(g: &mut Generator, id: usize) -> RunResult {
    let step = |name: String, h: &hdrhistogram::Histogram<u64>| StepResult {
        interval_tag: Some(name.clone()),
        timeline_ok: vec![100; 60],
        timeline_errors: vec![0; 60],
        ..StepResult::from_histogram(&name, h, 100.0)
    };
    let mut workflow = model::new_histogram();
    let steps: Vec<StepResult> = (0..20)
        .map(|s| {
            let h = g
                .run(
                    6_000,
                    1.0,
                    if s == 3 && id >= 100 {
                        Regression::Uniform(0.3)
                    } else {
                        Regression::None
                    },
                )
                .histogram();
            workflow.add(&h).unwrap();
            step(format!("step-{s:02}"), &h)
        })
        .collect();
    let mut r: RunResult =
        serde_json::from_value(serde_json::json!({"schema": 1, "scenario": "twenty", "steps": []}))
            .unwrap();
    r.run_id = format!("run-{id}");
    r.workflow = Some(step("workflow".into(), &workflow));
    r.steps = steps;
    r
}

fn bench(c: &mut Criterion) {
    let mut g = Generator::new(9);
    let baseline: Vec<RunResult> = (0..10).map(|i| run(&mut g, i)).collect();
    let candidate = vec![run(&mut g, 100)];
    let comparison = compare::compare(
        &Baseline {
            spec: "branch:main".into(),
            runs: baseline.clone(),
            history: vec![],
        },
        &candidate,
        &DaqParams::default(),
        &[],
        "c",
    );
    let series: IntervalSeries = candidate[0]
        .steps
        .iter()
        .chain(candidate[0].workflow.as_ref())
        .map(|s| {
            (
                s.name.clone(),
                (0..60)
                    .map(|t| IntervalPoint {
                        start: t as f64,
                        length: 1.0,
                        count: 100,
                        p50: 20_000 + t * 10,
                        p99: 80_000 + (t % 7) * 1000,
                    })
                    .collect(),
            )
        })
        .collect();
    let history: Vec<StepHistory> = (0..20)
        .map(|s| format!("step-{s:02}"))
        .chain(["workflow".to_string()])
        .map(|step| StepHistory {
            step,
            points: (0..100)
                .map(|i| TrendPoint {
                    run_id: format!("h{i}"),
                    started_ms: i,
                    p50: 20_000.0 + (i % 5) as f64 * 300.0,
                    p99: 80_000.0 + (i % 9) as f64 * 900.0,
                })
                .collect(),
        })
        .collect();
    let input = ReportInput {
        candidates: candidate,
        intervals: vec![series],
        baseline,
        comparison: Some(comparison),
        history,
        history_branch: Some("main".into()),
        link: None,
        notes: Vec::new(),
    };
    let dir = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("report");
    group.sample_size(10);
    group.bench_function(
        "write a 20-step comparison with a 100-run history (html, png, md, junit)",
        |b| b.iter(|| report::write(black_box(&input), dir.path()).unwrap()),
    );
    group.finish();
    let size = std::fs::metadata(dir.path().join("index.html"))
        .unwrap()
        .len();
    eprintln!("index.html: {} KB", size / 1024);
}

criterion_group!(benches, bench);
criterion_main!(benches);
