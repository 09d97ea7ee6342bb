//! `rehearse serve`: server time of every page type over a store of 10,000 runs (4 scenarios
//! of 8 steps; 70% on main, the rest over 25 feature branches; one step of one scenario 10%
//! slower from main's 1,200th run, so change points exist). Cold: a new dashboard, nothing
//! kept (every verdict and change-point search done in the request). Warm: the same
//! dashboard again. The store is filled once and kept (target/tmp/bench-serve.db).
//!
//! cargo bench --bench serve

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use rehearse::app::dashboard::{Dashboard, Page};
use rehearse::model::{self, RunResult, StepResult, SummaryMetric};
use rehearse::store::{Access, RunFilter, Store, Which};

const RUNS: usize = 10_000;
const SCENARIOS: usize = 4;
const STEPS: usize = 8;

/// A deterministic number in [-1, 1) from a few integers.
fn noise(a: u64, b: u64) -> f64 {
    let mut x = a
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 29;
    (x % 2_000_000) as f64 / 1_000_000.0 - 1.0
}

fn run(i: usize) -> RunResult {
    let scenario = i % SCENARIOS;
    let k = i / SCENARIOS;
    let branch = if k % 10 < 7 {
        "main".to_string()
    } else {
        format!("feature-{:02}", k % 25)
    };
    let slow = scenario == 0 && branch == "main" && k * 7 / 10 >= 1_200;
    let step = |s: usize| {
        let mut h = model::new_histogram();
        let level = 5_000.0 * (1.0 + s as f64 * 0.4) * (1.0 + 0.03 * noise(i as u64, s as u64));
        let level = if slow && s == 3 { level * 1.10 } else { level };
        for v in 0..200u64 {
            h.record((level * (0.5 + v as f64 / 200.0 + (v / 196) as f64 * 2.0)) as u64)
                .unwrap();
        }
        StepResult {
            request: Some("GET /api/invoices".into()),
            ..StepResult::from_histogram(&format!("step-{s}"), &h, 20.0)
        }
    };
    let mut workflow = step(STEPS);
    workflow.name = "workflow".into();
    let started = std::time::UNIX_EPOCH + Duration::from_secs(1_790_000_000 + i as u64 * 300);
    RunResult {
        schema: model::SCHEMA_VERSION,
        run_id: uuid::Uuid::now_v7().to_string(),
        scenario: format!("scenario-{scenario}"),
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
        complete: true,
        stop_reason: None,
        iterations: None,
        workflow: Some(workflow),
        steps: (0..STEPS).map(step).collect(),
        intervals: None,
        thresholds: Vec::new(),
        compare: Default::default(),
        health: None,
        group: None,
        shards: Vec::new(),
    }
}

async fn filled(url: &str) -> Store {
    let store = Store::open(url, Access::Create).await.unwrap();
    let have = store
        .list(&RunFilter {
            scenario: None,
            branch: None,
            limit: RUNS as i64,
            offset: 0,
            which: Which::All,
            group: None,
        })
        .await
        .unwrap()
        .len();
    if have < RUNS {
        eprintln!("filling {url} with {} runs (once)…", RUNS - have);
        for i in have..RUNS {
            store.insert(&run(i), None).await.unwrap();
        }
    }
    store
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = format!("sqlite://{}/bench-serve.db", env!("CARGO_TARGET_TMPDIR"));
    let store = rt.block_on(filled(&url));
    let a_run = rt
        .block_on(store.list(&RunFilter {
            scenario: Some("scenario-0".into()),
            branch: Some("main".into()),
            limit: 1,
            offset: 0,
            which: Which::Baselines,
            group: None,
        }))
        .unwrap()
        .remove(0)
        .id;
    let list: Vec<(&str, Page)> = vec![
        ("index", Page::Index),
        (
            "scenario (4 branches x 60 runs, p50)",
            Page::Scenario {
                name: "scenario-0".into(),
                metric: SummaryMetric::P50,
                runs: 60,
                branches: Vec::new(),
            },
        ),
        ("run", Page::Run { id: a_run.clone() }),
        (
            "compare (feature branch vs main)",
            Page::Compare {
                scenario: Some("scenario-0".into()),
                baseline: "branch:main".into(),
                candidate: "branch:feature-03".into(),
            },
        ),
    ];
    // The very first view after start also pays for the change-point calibration (once per
    // process, per series length).
    for (name, page) in &list {
        let fresh = Dashboard::new(store.clone(), &url, "main");
        let t = Instant::now();
        let html = rt.block_on(fresh.render(page)).unwrap();
        eprintln!(
            "first view of {name}: {:.1} ms, {} KB",
            t.elapsed().as_secs_f64() * 1e3,
            html.len() / 1024
        );
    }
    let mut group = c.benchmark_group("serve: server time per page, 10,000 runs");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for (name, page) in &list {
        group.bench_function(format!("{name}, cold"), |b| {
            b.iter(|| {
                let fresh = Dashboard::new(store.clone(), &url, "main");
                rt.block_on(fresh.render(page)).unwrap()
            })
        });
        let warm = Dashboard::new(store.clone(), &url, "main");
        rt.block_on(warm.render(page)).unwrap();
        group.bench_function(format!("{name}, warm"), |b| {
            b.iter(|| rt.block_on(warm.render(page)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, pages);
criterion_main!(benches);
