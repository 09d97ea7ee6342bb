//! The interval flusher: a thread that closes each interval, appends its histograms to the
//! HdrHistogram interval log at once (memory stays flat however long the run), and keeps
//! the small per-interval counters the time series and the progress display need.

use std::fs::File;
use std::io::LineWriter;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};

use super::{IntervalTotals, KINDS, Recorder};
use crate::model::Outcome;

/// Iteration counters the scheduler and closed-model users bump and the flusher reads.
#[derive(Debug, Default)]
pub struct Counters {
    /// Iterations started, warm-up included.
    pub started: AtomicU64,
    /// Iterations dropped because `max_in_flight` was reached, warm-up included.
    pub dropped: AtomicU64,
    /// Iterations started in the measured window.
    pub started_measured: AtomicU64,
    /// Arrivals dropped in the measured window.
    pub dropped_measured: AtomicU64,
}

/// What the progress display is told after each interval.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Time since the run started.
    pub elapsed: Duration,
    /// Still warming up: nothing is measured yet.
    pub warming_up: bool,
    /// Iterations started so far.
    pub started: u64,
    /// Iterations dropped so far.
    pub dropped: u64,
    /// Step attempts that succeeded so far in the measured window (the final table's counts).
    pub ok: u64,
    /// Step attempts that failed so far in the measured window.
    pub errors: u64,
    /// Iterations started per second in the last interval.
    pub rate: f64,
    /// Workflow p99 (or the slowest step's p99) in the last interval, µs.
    pub p99_us: Option<u64>,
    /// The schedule lag's 99th percentile in the last interval, µs.
    pub lag_p99_us: u64,
}

/// A callback told about every closed interval.
pub type OnInterval = Box<dyn FnMut(&Live) + Send>;

/// Per-interval counts collected over the run.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    /// Per cell, per interval: successful attempts.
    pub ok: Vec<Vec<u64>>,
    /// Per cell, per interval: attempts that count against the target.
    pub errors: Vec<Vec<u64>>,
    /// Per interval: iterations started.
    pub started: Vec<u64>,
    /// Per interval: iterations dropped.
    pub dropped: Vec<u64>,
    /// Per interval: the schedule lag's 99th percentile over every step, µs.
    pub lag_p99: Vec<u64>,
    /// Per interval: the largest schedule lag, µs.
    pub lag_max: Vec<u64>,
    /// Per interval: this process's CPU use and the machine's CPU pressure.
    pub machine: Vec<super::machine::MachineSample>,
    /// Set if the interval log could not be written (the run itself goes on).
    pub write_error: Option<String>,
}

/// Settings for the flusher.
pub struct FlushConfig {
    /// What to flush.
    pub recorder: Recorder,
    /// The scheduler's counters.
    pub counters: Arc<Counters>,
    /// Interval-log tag per cell.
    pub tags: Vec<String>,
    /// Where the interval log goes.
    pub path: PathBuf,
    /// When the run started (monotonic).
    pub start: Instant,
    /// When measurement starts (after warm-up).
    pub measure_start: Instant,
    /// When the run started (wall clock), written as the log's StartTime.
    pub start_wall: SystemTime,
    /// Interval length.
    pub interval: Duration,
    /// Told after every interval.
    pub on_interval: OnInterval,
}

/// A running flusher.
pub struct Flusher {
    stop: mpsc::Sender<()>,
    handle: JoinHandle<Timeline>,
}

impl Flusher {
    /// Starts the flusher thread; fails only if the log file cannot be created.
    pub fn start(cfg: FlushConfig) -> std::io::Result<Self> {
        let file = File::create(&cfg.path)?;
        let (stop, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("rehearse-intervals".into())
            .spawn(move || flush_loop(cfg, file, rx))?;
        Ok(Self { stop, handle })
    }

    /// Flushes the last, partial interval and returns the time series.
    pub fn finish(self) -> Timeline {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or_else(|_| Timeline {
            write_error: Some("the interval flusher panicked".into()),
            ..Timeline::default()
        })
    }
}

fn flush_loop(mut cfg: FlushConfig, file: File, rx: mpsc::Receiver<()>) -> Timeline {
    let cells = cfg.recorder.cells();
    let mut timeline = Timeline {
        ok: vec![Vec::new(); cells],
        errors: vec![Vec::new(); cells],
        ..Timeline::default()
    };
    // LineWriter pushes each histogram line to the file as it is written, so a crash
    // mid-run keeps every closed interval.
    let mut out = LineWriter::new(file);
    let mut serializer = V2DeflateSerializer::new();
    let mut log = match IntervalLogWriterBuilder::new()
        .add_comment(&format!(
            "rehearse {} interval log; values in microseconds; tags are steps",
            env!("CARGO_PKG_VERSION")
        ))
        .with_start_time(cfg.start_wall)
        .with_base_time(cfg.start_wall)
        .with_max_value_divisor(1000.0)
        .begin_log_with(&mut out, &mut serializer)
    {
        Ok(log) => Some(log),
        Err(e) => {
            timeline.write_error = Some(format!("{}: {e}", cfg.path.display()));
            None
        }
    };
    let tags: Vec<Option<Tag>> = cfg.tags.iter().map(|t| Tag::new(t)).collect();
    let mut totals: IntervalTotals = cfg.recorder.interval_totals();
    let mut probe = super::machine::Probe::start();
    let mut live = Live::default();
    let (mut prev_started, mut prev_dropped) = (0u64, 0u64);
    let mut index: u32 = 0;
    loop {
        let due = cfg.start + cfg.interval * (index + 1);
        let wait = due.saturating_duration_since(Instant::now());
        let stopping = !matches!(rx.recv_timeout(wait), Err(mpsc::RecvTimeoutError::Timeout));
        let end = if stopping {
            Instant::now().min(due)
        } else {
            due
        };
        let begin = cfg.interval * index;
        let length = end
            .saturating_duration_since(cfg.start)
            .saturating_sub(begin);

        cfg.recorder.take_interval(&mut totals);
        let ok_and_errors = |counts: &[u64; KINDS]| {
            let errors: u64 = (0..KINDS)
                .filter(|k| Outcome::ALL[*k].is_error())
                .map(|k| counts[k])
                .sum();
            (counts[Outcome::Ok.index()], errors)
        };
        let workflow_cell = totals.histograms.len().saturating_sub(1);
        for (cell, h) in totals.histograms.iter().enumerate() {
            let (ok, errors) = ok_and_errors(&totals.counts[cell]);
            timeline.ok[cell].push(ok);
            timeline.errors[cell].push(errors);
            if cell != workflow_cell {
                let (ok, errors) = ok_and_errors(&totals.measured[cell]);
                live.ok += ok;
                live.errors += errors;
            }
            if let Some(w) = log.as_mut()
                && let Err(e) = w.write_histogram(h, begin, length, tags[cell])
            {
                timeline.write_error = Some(format!("{}: {e}", cfg.path.display()));
                log = None;
            }
        }
        let (lag_p99, lag_max) = if totals.lag.is_empty() {
            (0, 0)
        } else {
            (totals.lag.value_at_quantile(0.99), totals.lag.max())
        };
        timeline.lag_p99.push(lag_p99);
        timeline.lag_max.push(lag_max);
        timeline.machine.push(probe.sample());
        live.lag_p99_us = lag_p99;
        let started = cfg.counters.started.load(Ordering::Relaxed);
        let dropped = cfg.counters.dropped.load(Ordering::Relaxed);
        timeline.started.push(started - prev_started);
        timeline.dropped.push(dropped - prev_dropped);
        live.rate = (started - prev_started) as f64 / length.as_secs_f64().max(1e-3);
        (prev_started, prev_dropped) = (started, dropped);
        live.elapsed = end.saturating_duration_since(cfg.start);
        live.warming_up = end < cfg.measure_start;
        live.started = started;
        live.dropped = dropped;
        live.p99_us = p99_of_interest(&totals);
        (cfg.on_interval)(&live);
        index += 1;
        if stopping {
            break;
        }
    }
    timeline
}

/// The workflow's p99 when iterations completed in the interval, else the slowest step's.
fn p99_of_interest(t: &IntervalTotals) -> Option<u64> {
    let workflow = t.histograms.last()?;
    if !workflow.is_empty() {
        return Some(workflow.value_at_quantile(0.99));
    }
    t.histograms
        .iter()
        .filter(|h| !h.is_empty())
        .map(|h| h.value_at_quantile(0.99))
        .max()
}

/// Interval-log tags for the cells: step names made tag-safe and unique, then `workflow`.
pub fn tags_for(step_names: &[String]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for name in step_names.iter().map(String::as_str).chain(["workflow"]) {
        let mut base: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() {
            base.push('_');
        }
        let mut tag = base.clone();
        let mut n = 2;
        while tags.contains(&tag) {
            tag = format!("{base}~{n}");
            n += 1;
        }
        tags.push(tag);
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Sample;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn tags_are_safe_and_unique() {
        let names = vec![
            "log in".to_string(),
            "log,in".to_string(),
            "<script>".to_string(),
            "workflow".to_string(),
        ];
        assert_eq!(
            tags_for(&names),
            vec!["log_in", "log_in~2", "_script_", "workflow", "workflow~2"]
        );
    }

    #[test]
    fn every_interval_is_written_as_it_closes_and_parses_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("intervals.hlog");
        let recorder = Recorder::new(2);
        let counters = Arc::new(Counters::default());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let flusher = Flusher::start(FlushConfig {
            recorder: recorder.clone(),
            counters: counters.clone(),
            tags: tags_for(&["step one".to_string()]),
            path: path.clone(),
            start: Instant::now(),
            measure_start: Instant::now(),
            start_wall: SystemTime::now(),
            interval: Duration::from_millis(100),
            on_interval: Box::new(move |l| seen2.lock().unwrap().push(l.clone())),
        })
        .unwrap();
        for _ in 0..3 {
            counters.started.fetch_add(1, Ordering::Relaxed);
            recorder.record(
                0,
                Sample {
                    outcome: Outcome::Ok,
                    corrected_us: 2000,
                    service_us: 1000,
                    lag_us: 10,
                    measured: true,
                },
            );
            recorder.record(
                1,
                Sample {
                    outcome: Outcome::Ok,
                    corrected_us: 3000,
                    service_us: 1000,
                    lag_us: 10,
                    measured: true,
                },
            );
        }
        // Lines are on disk before the flusher stops: two intervals (a line per tag each) show
        // up while it runs. Waiting for them, not sleeping a fixed time, guards against issue 9:
        // a starved flusher thread may close its intervals late, but it must close them.
        // Checked to fail when the log goes through a 1 MiB BufWriter instead of a LineWriter.
        let tags_written = || {
            std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("Tag="))
                .count()
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while tags_written() < 4 {
            assert!(
                Instant::now() < deadline,
                "no two intervals on disk after 60 s: {}",
                std::fs::read_to_string(&path).unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let timeline = flusher.finish();
        assert!(timeline.write_error.is_none());
        assert_eq!(timeline.ok[0].iter().sum::<u64>(), 3);
        assert_eq!(timeline.started.iter().sum::<u64>(), 3);
        let bytes = std::fs::read(&path).unwrap();
        let mut total = 0;
        let mut entries = 0;
        let mut tags = std::collections::BTreeSet::new();
        for entry in IntervalLogIterator::new(&bytes) {
            if let Ok(LogEntry::Interval(h)) = entry {
                entries += 1;
                tags.insert(h.tag().map(|t| t.as_str().to_string()).unwrap_or_default());
                let decoded: hdrhistogram::Histogram<u64> =
                    hdrhistogram::serialization::Deserializer::new()
                        .deserialize(
                            &mut base64::Engine::decode(
                                &base64::engine::general_purpose::STANDARD,
                                h.encoded_histogram(),
                            )
                            .unwrap()
                            .as_slice(),
                        )
                        .unwrap();
                total += decoded.len();
            }
        }
        assert_eq!(total, 6);
        assert_eq!(
            tags.into_iter().collect::<Vec<_>>(),
            vec!["step_one", "workflow"]
        );
        let seen = seen.lock().unwrap();
        assert!(seen.iter().filter_map(|l| l.p99_us).max().unwrap() >= 3000);
        assert_eq!(seen.last().unwrap().started, 3);
        // Every closed interval was written, counted and told about, however many there were.
        let intervals = seen.len();
        assert!(
            intervals >= 3,
            "two while running and the last at finish: {intervals}"
        );
        assert_eq!(timeline.started.len(), intervals);
        assert_eq!(timeline.ok[0].len(), intervals);
        assert_eq!(entries, 2 * intervals, "one histogram per tag per interval");
    }
}
