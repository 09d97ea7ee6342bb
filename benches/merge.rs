//! The lossless merge of a sharded run (issue 13: "the merge of 8 shards of a 20-step
//! scenario takes under 1 s"): 8 shards, each 20 steps and a workflow of 10,000 requests
//! drawn from the reference generator, with service-time histograms and 60 s timelines;
//! every histogram decoded, added and re-encoded, thresholds re-evaluated. Then the whole of
//! what `rehearse merge` does in the store: the same 8 shards stored in PostgreSQL as one
//! sharded group with 60-interval logs, read back, merged (interval logs too) and the merged
//! run stored in place of the last merge. PostgreSQL is `REHEARSE_TEST_POSTGRES_URL` or
//! postgres://postgres@127.0.0.1:5432/test; without it that half is skipped with a message.

use std::hint::black_box;
use std::time::Duration;

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
    in_postgres(c, shards);
}

/// A 60-second interval log of every step of a shard.
fn interval_log(run: &RunResult) -> Vec<u8> {
    use hdrhistogram::serialization::V2DeflateSerializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
    let start = std::time::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    let mut out = Vec::new();
    let mut ser = V2DeflateSerializer::new();
    let mut w = IntervalLogWriterBuilder::new()
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut ser)
        .unwrap();
    let steps: Vec<_> = run.steps.iter().chain(run.workflow.as_ref()).collect();
    for i in 0..60u64 {
        for s in &steps {
            let whole = model::decode(&s.histogram).unwrap();
            // A sixtieth of the step's requests in each interval, as a steady run has.
            let mut h = model::new_histogram();
            for v in whole
                .iter_recorded()
                .step_by(60)
                .map(|v| v.value_iterated_to())
            {
                h.record(v).unwrap();
            }
            w.write_histogram(
                &h,
                Duration::from_secs(i),
                Duration::from_secs(1),
                Tag::new(&s.name),
            )
            .unwrap();
        }
    }
    drop(w);
    out
}

fn in_postgres(c: &mut Criterion, shards: Vec<Shard>) {
    use rehearse::model::{GroupKind, GroupRef};
    use rehearse::store::{Access, Group, PartState, Store};
    use sqlx::Executor;

    let base = std::env::var("REHEARSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let schema = format!("rh_bench_{}", uuid::Uuid::now_v7().simple());
    let created = rt.block_on(async {
        let pool = sqlx::PgPool::connect(&base).await?;
        pool.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .map(|_| pool)
    });
    let Ok(admin) = created else {
        eprintln!("skipping the PostgreSQL merge bench: {base} is unreachable");
        return;
    };
    let url = format!("{base}?options[search_path]={schema}");
    let dir = tempfile::tempdir().unwrap();
    let (store, group) = rt.block_on(async {
        let store = Store::open(&url, Access::Create).await.unwrap();
        let group = store
            .join_group(&Group {
                id: "bench-group".into(),
                kind: GroupKind::Sharded.name().into(),
                name: "checkout".into(),
                branch: None,
                commit: None,
                parts: i64::from(SHARDS),
                created_ms: 0,
                start_at_ms: Some(1_796_000_000_000),
                document: "{}".into(),
            })
            .await
            .unwrap();
        for s in &shards {
            let mut run = s.run.clone();
            run.run_id = format!("bench-shard-{}", s.part);
            run.group = Some(GroupRef {
                id: group.id.clone(),
                kind: GroupKind::Sharded,
                part: s.part,
                parts: SHARDS,
            });
            store
                .start_part(&group.id, i64::from(s.part), "bench")
                .await
                .unwrap();
            store.insert(&run, Some(interval_log(&run))).await.unwrap();
            store
                .finish_part(&group.id, i64::from(s.part), PartState::Done, None)
                .await
                .unwrap();
        }
        let group = store.group(&group.id).await.unwrap().unwrap();
        (store, group)
    });
    let mut g = c.benchmark_group("rehearse merge in PostgreSQL");
    g.sample_size(20);
    g.bench_function("read 8 shards x 20 steps, merge, store", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (merged, log) = rehearse::app::commands::merge::merge_group(&store, &group)
                    .await
                    .unwrap();
                rehearse::app::commands::merge::keep(&store, &merged, &log, dir.path(), true)
                    .await
                    .unwrap();
                black_box(merged.steps.len())
            })
        })
    });
    g.finish();
    rt.block_on(async {
        store.close().await;
        let _ = admin
            .execute(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
            .await;
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
