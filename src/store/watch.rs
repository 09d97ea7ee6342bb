//! Change points `rehearse watch` has announced, so each is announced once.

use sqlx::Row;

use super::write::epoch_ms;
use super::{Store, StoreError, with_pool};
use crate::model::ChangePoint;

/// A change point announced earlier.
#[derive(Debug, Clone, PartialEq)]
pub struct Announced {
    /// The step.
    pub step: String,
    /// The metric.
    pub metric: String,
    /// The first run at the new level, as announced.
    pub run_id: String,
    /// Whether it was for the worse.
    pub worse: bool,
}

impl Store {
    /// The change points announced for a scenario's branch.
    pub async fn announced(
        &self,
        scenario: &str,
        branch: &str,
    ) -> Result<Vec<Announced>, StoreError> {
        const SQL: &str = "SELECT step, metric, run_id, worse FROM change_points WHERE scenario = $1 AND branch = $2";
        let found: Vec<Announced> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(scenario).bind(branch).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(Announced {
                        step: r.try_get("step")?,
                        metric: r.try_get("metric")?,
                        run_id: r.try_get("run_id")?,
                        worse: r.try_get("worse")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(found)
    }

    /// Records a change point as announced (again is a no-op).
    pub async fn announce(&self, branch: &str, c: &ChangePoint) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO change_points (scenario, branch, step, metric, run_id, worse, effect, announced_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (scenario, branch, step, metric, run_id) DO NOTHING";
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(&c.scenario).bind(branch).bind(&c.step).bind(&c.metric).bind(&c.run_id)
            .bind(c.worse).bind(c.effect).bind(epoch_ms(std::time::SystemTime::now()))
            .execute(pool).await?.rows_affected());
        Ok(())
    }
}
