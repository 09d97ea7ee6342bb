//! The runner: replays a plan against its target under the planned load and returns what
//! was recorded. One scheduler serves every load model, HTTP and SQL steps alike.

mod arrivals;
mod gate;
pub mod http;
mod iteration;
mod result;
mod schedule;
pub mod sql;
mod tickets;
mod user;
mod vars;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;

use crate::model::{Git, Host, RunResult};
use crate::record::interval::{Counters, FlushConfig, Flusher, OnInterval, Timeline, tags_for};
use crate::record::{CellTotals, Recorder};
use crate::scenario::units::Think;
use crate::scenario::{LoadModel, Plan};
use gate::Gate;
use http::HttpClient;

/// Asks a running run to stop; sent by the CLI on SIGINT/SIGTERM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopRequest {
    /// Keep going.
    None,
    /// Stop scheduling, let in-flight iterations finish within the grace period.
    Graceful(&'static str),
    /// Stop scheduling and cut in-flight iterations off now.
    Immediate(&'static str),
}

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Its duration elapsed.
    Duration,
    /// Its iteration cap was reached.
    Iterations,
    /// A `unique` data feeder ran out of rows.
    DataExhausted,
    /// A signal (named) stopped it.
    Interrupted(&'static str),
}

impl StopReason {
    /// Whether the run did what it was asked to.
    pub fn complete(&self) -> bool {
        !matches!(self, StopReason::Interrupted(_))
    }

    /// Text for results.json and the console.
    pub fn describe(&self) -> String {
        match self {
            StopReason::Duration => "duration".into(),
            StopReason::Iterations => "iterations".into(),
            StopReason::DataExhausted => "data exhausted".into(),
            StopReason::Interrupted(why) => format!("interrupted ({why})"),
        }
    }
}

/// Which share of a sharded run's load this process sends: shard `index` (0-based) of `count`.
/// Arrival k of the whole process, iteration k of the cap, user j and row k of a `unique`
/// feeder belong to the shard with `k mod count = index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard (0-based, as Kubernetes' JOB_COMPLETION_INDEX).
    pub index: u32,
    /// How many shards share the load.
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl Shard {
    /// One process sends all of the load.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether item `k` of the whole run is this shard's.
    pub fn owns(&self, k: u64) -> bool {
        k % u64::from(self.count.max(1)) == u64::from(self.index)
    }

    /// How many of the first `total` items are this shard's.
    pub fn share(&self, total: u64) -> u64 {
        let (n, i) = (u64::from(self.count.max(1)), u64::from(self.index));
        (total + n - 1 - i.min(n - 1)) / n
    }

    /// The number in the whole run of this shard's `local`-th item.
    pub fn global(&self, local: u64) -> u64 {
        local * u64::from(self.count.max(1)) + u64::from(self.index)
    }

    /// This shard's seed: the run's seed for shard 0 (so an unsharded run is unchanged), a
    /// different one for each other shard, so shards do not draw the same random rows.
    pub fn seed(&self, seed: u64) -> u64 {
        seed.wrapping_add(u64::from(self.index).wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

/// How to run.
pub struct RunOptions {
    /// Where the interval log goes.
    pub interval_log: PathBuf,
    /// Time-series interval length.
    pub interval: Duration,
    /// Seeds feeders and think times.
    pub seed: u64,
    /// Stop requests.
    pub stop: watch::Receiver<StopRequest>,
    /// Told after every interval (progress display).
    pub on_interval: OnInterval,
    /// Where the run comes from, recorded with it.
    pub provenance: Provenance,
    /// This process's share of a sharded run's load ([`Shard::WHOLE`] when not sharded).
    pub shard: Shard,
    /// When the load starts (a sharded run's common start); `None` starts now. An instant
    /// already past starts at once, with the arrivals due since then sent late and measured
    /// from when they were due.
    pub start_at: Option<Instant>,
}

/// What a run records about where it came from, besides what it measured.
#[derive(Debug, Clone, Default)]
pub struct Provenance {
    /// `--label` pairs.
    pub labels: BTreeMap<String, String>,
    /// Commit and branch of the code under test.
    pub git: Option<Git>,
    /// The load-generating machine.
    pub host: Option<Host>,
    /// The group (suite run) the run is part of.
    pub group: Option<crate::model::GroupRef>,
}

/// Everything a run recorded, before it becomes a results file.
#[derive(Debug)]
struct RunRecord {
    /// Per step, then the workflow: merged histograms and counts.
    pub totals: Vec<CellTotals>,
    /// Per-interval counts.
    pub timeline: Timeline,
    /// Wall-clock start.
    pub started_at: SystemTime,
    /// Wall-clock end.
    pub ended_at: SystemTime,
    /// Length of the measured window (after warm-up, until scheduling stopped).
    pub measured: Duration,
    /// Why it ended.
    pub stop: StopReason,
    /// Iterations started after warm-up.
    pub started: u64,
    /// Arrivals dropped after warm-up (open model, `max_in_flight` reached).
    pub dropped: u64,
    /// How many leading intervals were warm-up.
    pub warmup_intervals: usize,
    /// Response bodies not kept because the body memory budget was in use.
    pub bodies_not_kept: u64,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// TLS could not be configured.
    #[error(transparent)]
    Tls(#[from] http::tls::TlsError),
    /// A database URL could not be read.
    #[error(transparent)]
    Sql(#[from] sql::SetupError),
    /// The interval log could not be created.
    #[error("cannot create the interval log `{path}`: {source}")]
    IntervalLog {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Shared by the scheduler and every iteration of one run.
pub(crate) struct Context {
    plan: Arc<Plan>,
    client: Arc<HttpClient>,
    databases: sql::Databases,
    recorder: Recorder,
    gate: Gate,
    seed: u64,
    /// The run's own seed (not this shard's): a Poisson process's arrivals, the same in
    /// every shard.
    arrival_seed: u64,
    /// This process's share of the load.
    shard: Shard,
    /// Differs in every run: seeds `{{ uuid }}`.
    nonce: u64,
    iteration_think: Option<Think>,
    tickets: tickets::Tickets,
    /// Set when the run is ending: closed-model users finish their iteration and leave.
    stopping: AtomicBool,
    /// Closed model: how many users the profile wants now.
    users_wanted: AtomicUsize,
    /// Closed model: which user slots have a running task; grows with the users started,
    /// never with the users configured.
    users_running: Mutex<Vec<bool>>,
}

impl Context {
    fn workflow_cell(&self) -> usize {
        self.plan.steps.len()
    }
}

pub use result::{INTERVAL_LOG, load_settings, rfc3339};

/// A finished run: its results, and what people should know about how it went.
#[derive(Debug)]
pub struct Finished {
    /// The results, every secret of the plan masked.
    pub result: RunResult,
    /// Problems of the harness, not the target (an interval log cut short, bodies not kept).
    pub warnings: Vec<String>,
}

/// Runs a plan to its end (or a stop request) and returns its results.
pub async fn run(plan: Arc<Plan>, opts: RunOptions) -> Result<Finished, RunError> {
    let provenance = opts.provenance.clone();
    let record = record_run(plan.clone(), opts).await?;
    let mut warnings = Vec::new();
    if let Some(e) = &record.timeline.write_error {
        warnings.push(format!(
            "the interval log could not be written completely: {e}"
        ));
    }
    if record.bodies_not_kept > 0 {
        warnings.push(format!(
            "{} response bodies could not be kept for their checks and captures because rehearse's memory for bodies in flight was in use; those steps failed: lower max_in_flight or max_body",
            record.bodies_not_kept
        ));
    }
    Ok(Finished {
        result: result::assemble(&plan, record, provenance),
        warnings,
    })
}

/// Memory the bodies of all requests in flight may keep: many times the largest
/// `max_body`, so a few large bodies at once still fit.
fn body_budget(plan: &Plan) -> u64 {
    let largest = plan.steps.iter().map(|s| s.max_body).max().unwrap_or(0);
    largest.saturating_mul(16)
}

async fn record_run(plan: Arc<Plan>, opts: RunOptions) -> Result<RunRecord, RunError> {
    let client = HttpClient::new(&plan.target, body_budget(&plan))?;
    let databases = sql::Databases::open(&plan)?;
    let recorder = Recorder::new(plan.steps.len() + 1);
    let counters = Arc::new(Counters::default());
    let names: Vec<String> = plan.steps.iter().map(|s| s.name.clone()).collect();
    let start = match opts.start_at {
        Some(at) => {
            tokio::time::sleep_until(at.into()).await;
            at
        }
        None => Instant::now(),
    };
    let started_at = SystemTime::now() - start.elapsed();
    let flusher = Flusher::start(FlushConfig {
        recorder: recorder.clone(),
        counters: counters.clone(),
        tags: tags_for(&names),
        path: opts.interval_log.clone(),
        start,
        measure_start: start + plan.load.warmup,
        start_wall: started_at,
        interval: opts.interval,
        on_interval: opts.on_interval,
    })
    .map_err(|source| RunError::IntervalLog {
        path: opts.interval_log.clone(),
        source,
    })?;
    let iteration_think = match plan.load.model {
        LoadModel::Closed { think } => think,
        LoadModel::Open { .. } => None,
    };
    let ctx = Arc::new(Context {
        plan: plan.clone(),
        client,
        databases,
        recorder: recorder.clone(),
        gate: Gate::default(),
        seed: opts.shard.seed(opts.seed),
        arrival_seed: opts.seed,
        shard: opts.shard,
        nonce: fastrand::u64(..),
        iteration_think,
        tickets: tickets::Tickets::new(
            &plan,
            counters.clone(),
            start + plan.load.warmup,
            opts.shard,
        ),
        stopping: AtomicBool::new(false),
        users_wanted: AtomicUsize::new(0),
        users_running: Mutex::new(Vec::new()),
    });

    // The scheduler (and the drain after it) run on a thread of their own; a small task
    // forwards stop requests to it so a signal wakes it at once.
    let waker = {
        let (ctx, mut stop) = (ctx.clone(), opts.stop.clone());
        tokio::spawn(async move {
            while stop.changed().await.is_ok() {
                ctx.gate.wake();
            }
        })
    };
    let (stop, scheduling_end) = {
        let ctx = ctx.clone();
        let stop_rx = opts.stop.clone();
        let runtime = tokio::runtime::Handle::current();
        let grace = plan.load.grace;
        tokio::task::spawn_blocking(move || {
            let mut tasks = schedule::Tasks::default();
            let reason = schedule::drive(&ctx, &runtime, start, &stop_rx, &mut tasks);
            let scheduling_end = Instant::now();
            schedule::drain(&ctx, grace, &stop_rx, &mut tasks);
            (reason, scheduling_end)
        })
        .await
        .expect("the scheduler thread does not panic")
    };
    waker.abort();
    ctx.databases.close().await;

    let timeline = tokio::task::spawn_blocking(move || flusher.finish())
        .await
        .unwrap_or_default();
    let measure_start = start + plan.load.warmup;
    let interval = opts.interval.as_secs_f64();
    Ok(RunRecord {
        totals: recorder.totals(),
        timeline,
        started_at,
        ended_at: SystemTime::now(),
        measured: scheduling_end.saturating_duration_since(measure_start),
        stop,
        started: counters.started_measured.load(Ordering::Relaxed),
        dropped: counters.dropped_measured.load(Ordering::Relaxed),
        warmup_intervals: (plan.load.warmup.as_secs_f64() / interval).floor() as usize,
        bodies_not_kept: ctx.client.budget.exhausted.load(Ordering::Relaxed),
    })
}

#[cfg(test)]
mod shard_tests {
    use super::Shard;

    #[test]
    fn shares_of_every_shard_add_up_to_the_whole_and_differ_by_at_most_one() {
        for count in 1..=7u32 {
            for total in 0..50u64 {
                let shares: Vec<u64> = (0..count)
                    .map(|index| Shard { index, count }.share(total))
                    .collect();
                assert_eq!(shares.iter().sum::<u64>(), total, "{count} {total}");
                assert!(shares.iter().max().unwrap() - shares.iter().min().unwrap() <= 1);
                for index in 0..count {
                    let s = Shard { index, count };
                    let owned = (0..total).filter(|k| s.owns(*k)).count() as u64;
                    assert_eq!(owned, s.share(total));
                    assert!((0..s.share(total)).all(|l| s.owns(s.global(l))));
                }
            }
        }
        assert_eq!(Shard::WHOLE.seed(7), 7);
        assert_ne!(Shard { index: 1, count: 2 }.seed(7), 7);
    }
}
