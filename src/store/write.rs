//! Storing a run: one transaction, so a crash or a kill mid-write leaves no half run.

use std::time::SystemTime;

use sqlx::Row;

use super::{Store, StoreError};
use crate::model::{RunResult, StepResult};

/// What storing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The run is now in the store.
    Inserted,
    /// A run with this id was already there; nothing changed.
    AlreadyStored,
}

/// Milliseconds since the Unix epoch.
pub(super) fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Parses an RFC 3339 time into epoch milliseconds.
pub(super) fn parse_ms(text: Option<&str>) -> Option<i64> {
    humantime::parse_rfc3339_weak(text?.trim_end_matches('Z'))
        .ok()
        .map(epoch_ms)
}

/// The document stored for a run: results.json without its histograms, which live in
/// the steps table.
fn document(run: &RunResult) -> String {
    let mut doc = run.clone();
    for s in doc.steps.iter_mut().chain(doc.workflow.as_mut()) {
        s.histogram = String::new();
        s.service_histogram = None;
    }
    serde_json::to_string(&doc).expect("results serialize")
}

/// Steps in stored order: the workflow last, flagged.
fn rows(run: &RunResult) -> impl Iterator<Item = (i64, &StepResult, bool)> {
    run.steps
        .iter()
        .map(|s| (s, false))
        .chain(run.workflow.iter().map(|w| (w, true)))
        .enumerate()
        .map(|(i, (s, w))| (i as i64, s, w))
}

/// The run insert and its step inserts, expanded once per driver.
macro_rules! insert_in {
    ($tx:expr, $run:expr, $interval_log:expr) => {{
        let run: &RunResult = $run;
        let git = run.git.clone().unwrap_or_default();
        let started = parse_ms(run.started_at.as_deref()).unwrap_or_else(|| epoch_ms(SystemTime::now()));
        let inserted = sqlx::query(
            "INSERT INTO runs (id, scenario, scenario_hash, target, branch, commit_sha, dirty, harness_version, \
             host_fingerprint, started_ms, ended_ms, measured_seconds, complete, labels, document, interval_log, stored_ms, kind, failed, group_id, group_part) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&run.run_id)
        .bind(&run.scenario)
        .bind(&run.scenario_hash)
        .bind(&run.target)
        .bind(&git.branch)
        .bind(&git.commit)
        .bind(git.dirty)
        .bind(run.harness.as_ref().map(|h| h.version.clone()))
        .bind(run.host.as_ref().map(|h| h.fingerprint.clone()))
        .bind(started)
        .bind(parse_ms(run.ended_at.as_deref()))
        .bind(run.measured_seconds)
        .bind(run.complete)
        .bind(serde_json::to_string(&run.labels).expect("labels serialize"))
        .bind(document(run))
        .bind($interval_log)
        .bind(epoch_ms(SystemTime::now()))
        .bind(run.kind().name())
        .bind(run.failure().is_some())
        .bind(run.group.as_ref().map(|g| g.id.clone()))
        .bind(run.group.as_ref().map(|g| i64::from(g.part)))
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            Stored::AlreadyStored
        } else {
            for (position, s, workflow) in rows(run) {
                sqlx::query(
                    "INSERT INTO steps (run_id, position, name, is_workflow, count, ok, errors, error_rate, throughput, \
                     min, mean, p50, p90, p95, p99, p999, max, service_p50, service_p99, histogram, service_histogram) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
                )
                .bind(&run.run_id)
                .bind(position)
                .bind(&s.name)
                .bind(workflow)
                .bind(s.count as i64)
                .bind(s.outcomes.ok as i64)
                .bind(s.errors as i64)
                .bind(s.error_rate)
                .bind(s.throughput)
                .bind(s.latency.min as i64)
                .bind(s.latency.mean)
                .bind(s.latency.p50 as i64)
                .bind(s.latency.p90 as i64)
                .bind(s.latency.p95 as i64)
                .bind(s.latency.p99 as i64)
                .bind(s.latency.p999 as i64)
                .bind(s.latency.max as i64)
                .bind(s.service_time.p50 as i64)
                .bind(s.service_time.p99 as i64)
                .bind(&s.histogram)
                .bind(&s.service_histogram)
                .execute(&mut *$tx)
                .await?;
            }
            Stored::Inserted
        }
    }};
}

impl Store {
    /// Stores a run (and its interval log) in one transaction. A run must have an id.
    pub async fn insert(
        &self,
        run: &RunResult,
        interval_log: Option<Vec<u8>>,
    ) -> Result<Stored, StoreError> {
        assert!(!run.run_id.is_empty(), "a stored run has an id");
        let stored = match self {
            Store::Sqlite(pool) => {
                // IMMEDIATE takes the write lock up front, so concurrent writers queue on the
                // busy timeout instead of failing when a read lock cannot be upgraded.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let stored = insert_in!(tx, run, interval_log);
                tx.commit().await?;
                stored
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let stored = insert_in!(tx, run, interval_log);
                tx.commit().await?;
                stored
            }
        };
        Ok(stored)
    }

    /// Ids of stored runs, newest first (used by tests and tools).
    pub async fn ids(&self) -> Result<Vec<String>, StoreError> {
        let rows = super::with_pool!(self, pool => sqlx::query("SELECT id FROM runs ORDER BY started_ms DESC, id DESC").fetch_all(pool).await?
            .iter().map(|r| r.try_get::<String, _>("id")).collect::<Result<Vec<_>, _>>()?);
        Ok(rows)
    }
}
