//! A/B sessions: their per-round log ratios, kept so later sessions learn the environment's
//! noise from earlier A/A sessions of the same scenario.

use sqlx::Row;

use super::{Store, StoreError, with_pool};
use crate::model::{Comparison, LogRatios};

/// One stored A/B session.
#[derive(Debug, Clone, PartialEq)]
pub struct AbSession {
    /// Session id (UUIDv7).
    pub id: String,
    /// Scenario name.
    pub scenario: String,
    /// Start, epoch milliseconds.
    pub started_ms: i64,
    /// True for an A/A session (both sides the same target).
    pub same_target: bool,
    /// Rounds run.
    pub rounds: i64,
    /// The baseline side's label.
    pub baseline_label: String,
    /// The candidate side's label.
    pub candidate_label: String,
    /// The load generator.
    pub host_fingerprint: Option<String>,
    /// The rounds' log ratios.
    pub log_ratios: LogRatios,
    /// The session's comparison (stored as its comparison.json document).
    pub comparison: Comparison,
}

impl Store {
    /// Stores a session.
    pub async fn insert_ab_session(&self, s: &AbSession) -> Result<(), StoreError> {
        let ratios = serde_json::to_string(&s.log_ratios).expect("ratios serialize");
        let comparison = serde_json::to_string(&s.comparison).expect("comparisons serialize");
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO ab_sessions (id, scenario, started_ms, same_target, rounds, baseline_label, candidate_label, host_fingerprint, log_ratios, comparison) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.id)
        .bind(&s.scenario)
        .bind(s.started_ms)
        .bind(s.same_target)
        .bind(s.rounds)
        .bind(&s.baseline_label)
        .bind(&s.candidate_label)
        .bind(&s.host_fingerprint)
        .bind(ratios)
        .bind(comparison)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }

    /// The log ratios of the newest A/A sessions of a scenario (up to `sessions` of them) on
    /// one kind of machine (host fingerprint; any when `None`), pooled per step and metric.
    pub async fn aa_log_ratios(
        &self,
        scenario: &str,
        machine: Option<&str>,
        sessions: i64,
    ) -> Result<(usize, LogRatios), StoreError> {
        const SQL: &str = "SELECT log_ratios FROM ab_sessions WHERE scenario = $1 AND same_target \
             AND (CAST($3 AS TEXT) IS NULL OR host_fingerprint = $3) ORDER BY started_ms DESC, id DESC LIMIT $2";
        let docs: Vec<String> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(scenario).bind(sessions).bind(machine).fetch_all(pool).await?;
            rows.iter().map(|r| r.try_get::<String, _>("log_ratios")).collect::<Result<Vec<_>, _>>()?
        });
        let mut pooled = LogRatios::new();
        for doc in &docs {
            let ratios: LogRatios = serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
                id: format!("A/A session of {scenario}"),
                message: e.to_string(),
            })?;
            for (step, metrics) in ratios {
                for (metric, values) in metrics {
                    pooled
                        .entry(step.clone())
                        .or_default()
                        .entry(metric)
                        .or_default()
                        .extend(values);
                }
            }
        }
        Ok((docs.len(), pooled))
    }
}
