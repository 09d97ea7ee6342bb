//! One full workflow iteration (4 HTTP steps with templating, captures and checks) against
//! the in-process sandbox with no artificial latency: the harness's own cost per iteration.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rehearse::runner::{self, RunOptions, StopRequest};
use rehearse::sandbox::{self, SandboxConfig};
use rehearse::scenario::{self, Overrides};

fn iteration(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(sandbox::start(
            SandboxConfig {
                latency_scale: 0.0,
                ..SandboxConfig::default()
            },
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        ))
        .unwrap();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pay-invoice.toml");
    let dir = tempfile::tempdir().unwrap();
    let (_keep, stop) = tokio::sync::watch::channel(StopRequest::None);

    let mut group = c.benchmark_group("workflow");
    group.throughput(Throughput::Elements(1));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("pay-invoice iteration (4 requests, 1 user)", |b| {
        b.iter_custom(|iters| {
            let overrides = Overrides {
                target: Some(sandbox.url()),
                users: Some(1),
                iterations: Some(iters),
                warmup: Some(Duration::ZERO),
                duration: Some(Duration::from_secs(600)),
                ..Overrides::default()
            };
            let mut plan = scenario::load(&scenario, &overrides).unwrap();
            // Think times would measure sleeping, not the harness.
            for s in &mut plan.steps {
                s.think = None;
            }
            let opts = RunOptions {
                interval_log: dir.path().join("intervals.hlog"),
                interval: Duration::from_secs(1),
                seed: 1,
                stop: stop.clone(),
                on_interval: Box::new(|_| {}),
                provenance: Default::default(),
                shard: runner::Shard::WHOLE,
                start_at: None,
            };
            let start = Instant::now();
            let record = rt.block_on(runner::run(Arc::new(plan), opts)).unwrap();
            let took = start.elapsed();
            assert_eq!(
                record.result.iterations.as_ref().unwrap().completed,
                iters,
                "every iteration succeeded"
            );
            took
        })
    });
    group.finish();
    rt.block_on(sandbox.stop());
}

criterion_group!(benches, iteration);
criterion_main!(benches);
