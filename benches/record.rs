//! The recording hot path: what every request pays to be measured.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rehearse::model::Outcome;
use rehearse::record::{Recorder, Sample};

fn record(c: &mut Criterion) {
    let recorder = Recorder::new(21);
    let mut group = c.benchmark_group("record");
    group.throughput(Throughput::Elements(1));
    // Latencies spread over four decades, as a real run's are.
    let mut x: u64 = 12345;
    group.bench_function("sample (measured, 4 histograms + counters)", |b| {
        b.iter(|| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let us = 200 + (x >> 40) % 2_000_000;
            recorder.record(
                black_box(7),
                Sample {
                    outcome: Outcome::Ok,
                    corrected_us: us,
                    service_us: us / 2,
                    lag_us: 10,
                    measured: true,
                },
            );
        })
    });
    group.bench_function("error sample with message", |b| {
        b.iter(|| {
            recorder.record_error(
                black_box(3),
                Sample {
                    outcome: Outcome::Http5xx,
                    corrected_us: 1500,
                    service_us: 1400,
                    lag_us: 10,
                    measured: true,
                },
                &"status 500: injected failure",
            );
        })
    });
    group.finish();

    let mut interval = recorder.interval_totals();
    c.bench_function("close one interval (21 cells, merge + reset)", |b| {
        b.iter(|| recorder.take_interval(black_box(&mut interval)))
    });
}

criterion_group!(benches, record);
criterion_main!(benches);
