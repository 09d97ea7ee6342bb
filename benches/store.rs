//! `history` over a big store: 10,000 runs of a 20-step scenario, one step's p99 over the
//! last 100 runs of a branch, on SQLite and (when reachable) PostgreSQL. The stores are
//! filled once and kept (target/bench-store.db, schema `rehearse_bench`) for later runs.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rehearse::model::{self, RunResult, StepResult, SummaryMetric};
use rehearse::store::{HistoryMetric, RunFilter, Store};
use sqlx::Executor;

const RUNS: usize = 10_000;
const STEPS: usize = 20;

fn run(i: usize) -> RunResult {
    let mut h = model::new_histogram();
    for v in 0..150u64 {
        h.record(5_000 + v * 97 + (i as u64 % 13) * 11).unwrap();
    }
    // Encoded once: every step of every run shares the histogram, the store stores it 42 times.
    let template = StepResult {
        request: Some("GET /api/invoices".into()),
        service_histogram: Some(model::encode(&h)),
        timeline_ok: vec![15; 10],
        timeline_errors: vec![0; 10],
        ..StepResult::from_histogram("", &h, 15.0)
    };
    let step = |name: String| StepResult {
        name,
        ..template.clone()
    };
    let branch = if i % 10 < 7 {
        "main".to_string()
    } else {
        format!("feature-{}", i % 37)
    };
    let started = std::time::UNIX_EPOCH + Duration::from_secs(1_790_000_000 + i as u64 * 600);
    RunResult {
        schema: model::SCHEMA_VERSION,
        run_id: uuid::Uuid::now_v7().to_string(),
        scenario: "pay-invoice".into(),
        scenario_hash: None,
        scenario_file: None,
        target: Some("http://staging".into()),
        load: None,
        harness: None,
        host: None,
        git: Some(model::Git {
            commit: Some(format!("{i:040x}")),
            branch: Some(branch),
            dirty: Some(false),
        }),
        labels: Default::default(),
        started_at: Some(humantime::format_rfc3339_millis(started).to_string()),
        ended_at: None,
        measured_seconds: Some(10.0),
        complete: !i.is_multiple_of(50),
        stop_reason: None,
        iterations: None,
        workflow: Some(step("workflow".into())),
        steps: (0..STEPS).map(|s| step(format!("step-{s:02}"))).collect(),
        intervals: None,
        thresholds: Vec::new(),
        compare: Default::default(),
        health: None,
        group: None,
        shards: Vec::new(),
    }
}

async fn filled(url: &str) -> Store {
    let store = Store::open(url, rehearse::store::Access::Create)
        .await
        .unwrap();
    let have = store
        .list(&RunFilter {
            scenario: None,
            branch: None,
            limit: RUNS as i64,
            offset: 0,
            which: rehearse::store::Which::All,
            group: None,
        })
        .await
        .unwrap()
        .len();
    if have < RUNS {
        eprintln!(
            "filling {url} with {} runs of {STEPS} steps (once)…",
            RUNS - have
        );
        for i in have..RUNS {
            store.insert(&run(i), None).await.unwrap();
        }
    }
    store
}

fn history(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut stores = vec![(
        "sqlite",
        format!("sqlite://{}/bench-store.db", env!("CARGO_TARGET_TMPDIR")),
    )];
    let pg = std::env::var("REHEARSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let reachable = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&pg).await.ok()?;
        pool.execute("CREATE SCHEMA IF NOT EXISTS rehearse_bench")
            .await
            .ok()
    });
    match reachable {
        Some(_) => stores.push((
            "postgres",
            format!("{pg}?options[search_path]=rehearse_bench"),
        )),
        None => eprintln!("PostgreSQL at {pg} unreachable: benchmarking SQLite only"),
    }
    let mut group =
        c.benchmark_group("history: one step's p99, last 100 runs of main, 10k runs x 20 steps");
    group.sample_size(30);
    for (label, url) in stores {
        let store = rt.block_on(filled(&url));
        let points = rt
            .block_on(store.history(
                "pay-invoice",
                "step-07",
                HistoryMetric::Summary(SummaryMetric::P99),
                Some("main"),
                100,
            ))
            .unwrap();
        assert_eq!(points.len(), 100);
        group.bench_function(label, |b| {
            b.iter(|| {
                rt.block_on(store.history(
                    "pay-invoice",
                    "step-07",
                    HistoryMetric::Summary(SummaryMetric::P99),
                    Some("main"),
                    100,
                ))
                .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, history);
criterion_main!(benches);
