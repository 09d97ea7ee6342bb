//! Reading runs back: listings, whole runs (export), and metric histories that read the
//! summary columns only, never a histogram.

use std::str::FromStr;

use sqlx::Row;

use super::{Store, StoreError, with_pool};
use crate::model::{RunResult, SummaryMetric};

/// Which runs to list.
#[derive(Debug, Clone)]
pub struct RunFilter {
    /// Only this scenario.
    pub scenario: Option<String>,
    /// Only this branch.
    pub branch: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
    /// Skip this many of the newest first (paging).
    pub offset: i64,
    /// Which runs.
    pub which: Which,
    /// Only the runs of this group (a suite run's full id).
    pub group: Option<String>,
}

/// Which runs a listing takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every run, interrupted ones included.
    All,
    /// Runs that completed (failed ones included: they are news).
    Complete,
    /// Runs that can stand for their branch: plain runs (no A/B rounds, no demo runs),
    /// complete, not failed.
    Baselines,
}

/// One line of `runs list`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RunSummary {
    /// Run id.
    pub id: String,
    /// Scenario name.
    pub scenario: String,
    /// Branch, if known.
    pub branch: Option<String>,
    /// Commit, if known.
    pub commit: Option<String>,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// Whether the run completed.
    pub complete: bool,
    /// Whether it failed as a run (the target never answered, no iteration completed).
    pub failed: bool,
    /// What it was made for: `plain`, `ab` (an A/B round) or `demo`.
    pub kind: String,
    /// Target URL.
    pub target: Option<String>,
    /// Workflow iterations ended.
    pub iterations: Option<i64>,
    /// Failed workflow iterations.
    pub errors: Option<i64>,
    /// Workflow p50, µs.
    pub p50: Option<i64>,
    /// Workflow p99, µs.
    pub p99: Option<i64>,
    /// The run's labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// The suite run it belongs to, if any.
    pub group: Option<String>,
}

/// A scenario's branch: how many runs stand for it and when the newest of them started.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BranchSummary {
    /// Scenario name.
    pub scenario: String,
    /// Branch, if known.
    pub branch: Option<String>,
    /// Runs that can stand for the branch (complete, not failed, plain).
    pub runs: i64,
    /// Start of the newest of them, epoch milliseconds.
    pub newest_ms: i64,
}

/// A metric `history` can chart, read from a summary column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMetric {
    /// A latency, error-rate or throughput figure.
    Summary(SummaryMetric),
    /// Attempts.
    Count,
}

impl HistoryMetric {
    /// Its name, which is also its `steps` column.
    pub fn name(self) -> &'static str {
        match self {
            HistoryMetric::Summary(m) => m.name(),
            HistoryMetric::Count => "count",
        }
    }

    /// The history query for this metric, with or without a branch filter. The column is
    /// fixed text from the enums, never user input. `CROSS JOIN` makes SQLite walk the runs
    /// index newest first and stop after `LIMIT` runs (PostgreSQL plans it as a plain join);
    /// a separate statement per branch case keeps the branch in the index lookup.
    fn query(self, by_branch: bool) -> String {
        let branch = if by_branch {
            "r.branch = $4"
        } else {
            "CAST($4 AS TEXT) IS NULL"
        };
        // A run in which the step got no response has no latency (its summary holds zeros),
        // and one that never attempted it has no error rate.
        let has_value = match self {
            HistoryMetric::Summary(SummaryMetric::ErrorRate) => "AND s.count > 0",
            HistoryMetric::Summary(m) if m.is_latency() => "AND s.max > 0",
            _ => "",
        };
        format!(
            "SELECT r.id, r.started_ms, r.commit_sha, r.branch, CAST(s.{} AS DOUBLE PRECISION) AS value \
             FROM runs r CROSS JOIN steps s WHERE s.run_id = r.id AND r.scenario = $1 AND {branch} \
             AND s.name = $2 AND s.is_workflow = $3 {has_value} AND r.complete AND r.kind = 'plain' ORDER BY r.started_ms DESC, r.id DESC LIMIT $5",
            self.name()
        )
    }
}

impl FromStr for HistoryMetric {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "count" {
            return Ok(HistoryMetric::Count);
        }
        SummaryMetric::from_name(s)
            .map(HistoryMetric::Summary)
            .ok_or_else(|| {
                let names: Vec<&str> = SummaryMetric::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "unknown metric \"{s}\": expected one of {}, count",
                    names.join(", ")
                )
            })
    }
}

/// One point of a history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryPoint {
    /// Run id.
    pub run_id: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// Commit, if known.
    pub commit: Option<String>,
    /// Branch, if known.
    pub branch: Option<String>,
    /// The metric's value.
    pub value: f64,
}

impl Store {
    /// Runs matching a filter, newest first.
    pub async fn list(&self, f: &RunFilter) -> Result<Vec<RunSummary>, StoreError> {
        const SQL: &str = "SELECT r.id, r.scenario, r.branch, r.commit_sha, r.started_ms, r.complete, r.failed, r.kind, r.target, r.labels, r.group_id, \
             w.count, w.errors, w.p50, w.p99 \
             FROM runs r LEFT JOIN steps w ON w.run_id = r.id AND w.is_workflow \
             WHERE (CAST($1 AS TEXT) IS NULL OR r.scenario = $1) AND (CAST($2 AS TEXT) IS NULL OR r.branch = $2) \
             AND ($3 OR r.complete) AND ($6 OR (NOT r.failed AND r.kind = 'plain')) \
             AND (CAST($7 AS TEXT) IS NULL OR r.group_id = $7) \
             ORDER BY r.started_ms DESC, r.id DESC LIMIT $4 OFFSET $5";
        let any_state = f.which == Which::All;
        let any_kind = f.which != Which::Baselines;
        with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(&f.scenario).bind(&f.branch).bind(any_state).bind(f.limit).bind(f.offset).bind(any_kind).bind(&f.group).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(RunSummary {
                        id: r.try_get("id")?,
                        scenario: r.try_get("scenario")?,
                        branch: r.try_get("branch")?,
                        commit: r.try_get("commit_sha")?,
                        started_ms: r.try_get("started_ms")?,
                        complete: r.try_get("complete")?,
                        failed: r.try_get("failed")?,
                        kind: r.try_get("kind")?,
                        target: r.try_get("target")?,
                        iterations: r.try_get("count")?,
                        errors: r.try_get("errors")?,
                        p50: r.try_get("p50")?,
                        p99: r.try_get("p99")?,
                        labels: serde_json::from_str(&r.try_get::<String, _>("labels")?).unwrap_or_default(),
                        group: r.try_get("group_id")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    /// Every scenario's branches that have runs standing for them, by scenario, then the
    /// most recently run branch first.
    pub async fn branches(&self) -> Result<Vec<BranchSummary>, StoreError> {
        const SQL: &str = "SELECT scenario, branch, COUNT(*) AS runs, MAX(started_ms) AS newest_ms FROM runs \
             WHERE complete AND NOT failed AND kind = 'plain' GROUP BY scenario, branch ORDER BY scenario, newest_ms DESC";
        with_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(BranchSummary {
                        scenario: r.try_get("scenario")?,
                        branch: r.try_get("branch")?,
                        runs: r.try_get("runs")?,
                        newest_ms: r.try_get("newest_ms")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    /// The full id of the one run whose id starts with `prefix`.
    pub async fn resolve(&self, prefix: &str) -> Result<String, StoreError> {
        let clean = prefix.trim();
        if clean.is_empty() || !clean.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(StoreError::NotFound(prefix.to_string()));
        }
        let pattern = format!("{clean}%");
        let ids: Vec<String> = with_pool!(self, pool => sqlx::query_scalar("SELECT id FROM runs WHERE id LIKE $1 ORDER BY id LIMIT 3").bind(&pattern).fetch_all(pool).await?);
        match ids.len() {
            0 => Err(StoreError::NotFound(prefix.to_string())),
            1 => Ok(ids.into_iter().next().expect("one id")),
            n => {
                if ids.iter().any(|i| i == clean) {
                    return Ok(clean.to_string());
                }
                Err(StoreError::Ambiguous {
                    prefix: prefix.to_string(),
                    count: n,
                })
            }
        }
    }

    /// The whole run, as its results.json was.
    pub async fn load(&self, id: &str) -> Result<RunResult, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            id: id.to_string(),
            message,
        };
        let (document, steps): (String, Vec<(i64, String, Option<String>)>) = with_pool!(self, pool => {
            let document: Option<String> = sqlx::query_scalar("SELECT document FROM runs WHERE id = $1").bind(id).fetch_optional(pool).await?;
            let rows = sqlx::query("SELECT position, histogram, service_histogram FROM steps WHERE run_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(pool)
                .await?;
            let steps = rows
                .iter()
                .map(|r| Ok((r.try_get("position")?, r.try_get("histogram")?, r.try_get("service_histogram")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            (document.ok_or_else(|| StoreError::NotFound(id.to_string()))?, steps)
        });
        let mut run: RunResult =
            serde_json::from_str(&document).map_err(|e| corrupt(e.to_string()))?;
        // A run stored by an older rehearse was not checked on the way in; it is on the way out.
        run.validate(std::path::Path::new("stored run"))
            .map_err(|e| corrupt(e.to_string()))?;
        let n = run.steps.len() as i64;
        for (position, histogram, service) in steps {
            let step = if position < n {
                run.steps.get_mut(position as usize)
            } else {
                run.workflow.as_mut()
            };
            let step = step.ok_or_else(|| corrupt(format!("step {position} has no record")))?;
            step.histogram = histogram;
            step.service_histogram = service;
        }
        Ok(run)
    }

    /// A run's interval log, if one was stored.
    pub async fn interval_log(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let log: Option<Option<Vec<u8>>> = with_pool!(self, pool => sqlx::query_scalar("SELECT interval_log FROM runs WHERE id = $1").bind(id).fetch_optional(pool).await?);
        log.ok_or_else(|| StoreError::NotFound(id.to_string()))
    }

    /// A step's metric over the newest complete runs of a scenario (optionally on one
    /// branch), newest first. `step` "workflow" means the whole workflow.
    pub async fn history(
        &self,
        scenario: &str,
        step: &str,
        metric: HistoryMetric,
        branch: Option<&str>,
        limit: i64,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        let workflow = step == "workflow";
        let sql = metric.query(branch.is_some());
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(scenario).bind(step).bind(workflow).bind(branch).bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(HistoryPoint {
                        run_id: r.try_get("id")?,
                        started_ms: r.try_get("started_ms")?,
                        commit: r.try_get("commit_sha")?,
                        branch: r.try_get("branch")?,
                        value: r.try_get("value")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    /// Every step's metric over the newest `limit` runs standing for a scenario's branch, in
    /// one query: (step name, whether it is the workflow, the point), newest run first and
    /// each run's steps in their order. A step without a value in a run (no response) has
    /// no point there, as in [`Store::history`].
    pub async fn histories(
        &self,
        scenario: &str,
        branch: &str,
        metric: HistoryMetric,
        limit: i64,
    ) -> Result<Vec<(String, bool, HistoryPoint)>, StoreError> {
        let has_value = match metric {
            HistoryMetric::Summary(SummaryMetric::ErrorRate) => "AND s.count > 0",
            HistoryMetric::Summary(m) if m.is_latency() => "AND s.max > 0",
            _ => "",
        };
        // The column is fixed text from the enum, never user input.
        let sql = format!(
            "SELECT r.id, r.started_ms, r.commit_sha, r.branch, s.name, s.is_workflow, CAST(s.{} AS DOUBLE PRECISION) AS value \
             FROM (SELECT id, started_ms, commit_sha, branch FROM runs WHERE scenario = $1 AND branch = $2 AND complete AND NOT failed AND kind = 'plain' \
             ORDER BY started_ms DESC, id DESC LIMIT $3) r JOIN steps s ON s.run_id = r.id {has_value} \
             ORDER BY r.started_ms DESC, r.id DESC, s.position",
            metric.name()
        );
        with_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(scenario).bind(branch).bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        r.try_get("name")?,
                        r.try_get("is_workflow")?,
                        HistoryPoint {
                            run_id: r.try_get("id")?,
                            started_ms: r.try_get("started_ms")?,
                            commit: r.try_get("commit_sha")?,
                            branch: r.try_get("branch")?,
                            value: r.try_get("value")?,
                        },
                    ))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    /// Deletes a run (its steps go with it); false if there was none.
    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let n = with_pool!(self, pool => sqlx::query("DELETE FROM runs WHERE id = $1").bind(id).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Keeps the newest `keep` runs of each scenario and branch (optionally only those
    /// named), deleting the rest; returns how many were deleted.
    pub async fn prune(
        &self,
        keep: i64,
        scenario: Option<&str>,
        branch: Option<&str>,
    ) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM runs WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER \
             (PARTITION BY scenario, branch ORDER BY started_ms DESC, id DESC) AS n FROM runs \
             WHERE (CAST($2 AS TEXT) IS NULL OR scenario = $2) AND (CAST($3 AS TEXT) IS NULL OR branch = $3)) ranked WHERE n > $1)";
        let n = with_pool!(self, pool => sqlx::query(SQL).bind(keep).bind(scenario).bind(branch).execute(pool).await?.rows_affected());
        Ok(n)
    }
}
