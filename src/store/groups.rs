//! Run groups: a suite run and its parts (the CI jobs that share it). Each part registers
//! when it starts and reports done or failed when it ends, so whoever gives the verdict can
//! tell a finished group from one with a part missing, and name the part.

use sqlx::Row;

use super::write::epoch_ms;
use super::{Store, StoreError, with_pool};

/// A group of runs made together: a suite run, or the shards of one sharded run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    /// Its id (a suite run's id).
    pub id: String,
    /// `suite`.
    pub kind: String,
    /// The suite's name.
    pub name: String,
    /// Branch of the code under test, where known.
    pub branch: Option<String>,
    /// Commit of the code under test, where known.
    pub commit: Option<String>,
    /// How many parts make it whole.
    pub parts: i64,
    /// When it was created, epoch milliseconds.
    pub created_ms: i64,
    /// A sharded run's common start on the store's clock, epoch milliseconds, once every
    /// shard has registered.
    pub start_at_ms: Option<i64>,
    /// What the group expects of its parts (a suite: each scenario and its part), as JSON.
    pub document: String,
}

/// One part of a group: a CI job of a split suite.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupPart {
    /// Which part (1-based).
    pub part: i64,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// The machine it ran on.
    pub host: Option<String>,
    /// When it registered, epoch milliseconds.
    pub registered_ms: i64,
    /// When it finished, epoch milliseconds.
    pub finished_ms: Option<i64>,
    /// Why it failed, when it did.
    pub detail: Option<String>,
}

/// How a part ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    /// It ran every run it was given and stored them.
    Done,
    /// It stopped early (a run failed, an interrupt); its detail says why.
    Failed,
}

impl PartState {
    fn name(self) -> &'static str {
        match self {
            PartState::Done => "done",
            PartState::Failed => "failed",
        }
    }
}

impl Store {
    /// Creates a group, or finds the one already created by another part. A different group
    /// under the same id (another suite, another number of parts) is refused: shards of two
    /// suites must never be merged into one verdict.
    pub async fn join_group(&self, g: &Group) -> Result<Group, StoreError> {
        const SQL: &str = "INSERT INTO run_groups (id, kind, name, branch, commit_sha, parts, created_ms, document) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING";
        with_pool!(self, pool => sqlx::query(SQL)
            .bind(&g.id).bind(&g.kind).bind(&g.name).bind(&g.branch).bind(&g.commit)
            .bind(g.parts).bind(g.created_ms).bind(&g.document)
            .execute(pool).await?.rows_affected());
        let stored = self
            .group(&g.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(g.id.clone()))?;
        if stored.kind != g.kind
            || stored.name != g.name
            || stored.parts != g.parts
            || stored.document != g.document
        {
            let (what, flag) = if g.kind == "sharded" {
                ("sharded run", "--group")
            } else {
                ("suite run", "--suite-id")
            };
            return Err(StoreError::Conflict(format!(
                "the group `{}` already exists as {} `{}` in {} parts, with other settings: give each {what} its own {flag}",
                g.id, stored.kind, stored.name, stored.parts
            )));
        }
        Ok(stored)
    }

    /// A group by id (or unique prefix).
    pub async fn group(&self, id: &str) -> Result<Option<Group>, StoreError> {
        let clean = id.trim();
        let pattern = format!("{clean}%");
        const SQL: &str = "SELECT id, kind, name, branch, commit_sha, parts, created_ms, start_at_ms, document FROM run_groups \
             WHERE id = $1 OR id LIKE $2 ORDER BY (id = $1) DESC, id LIMIT 2";
        let groups: Vec<Group> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(clean).bind(&pattern).fetch_all(pool).await?;
            rows.iter().map(group_row).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        match groups.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one.clone())),
            [exact, ..] if exact.id == clean => Ok(Some(exact.clone())),
            _ => Err(StoreError::Ambiguous {
                prefix: id.to_string(),
                count: groups.len(),
            }),
        }
    }

    /// The newest group of a kind (of one name and branch, when given), other than `not`.
    pub async fn latest_group(
        &self,
        kind: &str,
        name: Option<&str>,
        branch: Option<&str>,
        not: Option<&str>,
    ) -> Result<Option<Group>, StoreError> {
        const SQL: &str = "SELECT id, kind, name, branch, commit_sha, parts, created_ms, start_at_ms, document FROM run_groups \
             WHERE kind = $1 AND (CAST($2 AS TEXT) IS NULL OR name = $2) AND (CAST($3 AS TEXT) IS NULL OR branch = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR id <> $4) \
             ORDER BY created_ms DESC, id DESC LIMIT 1";
        let group: Option<Group> = with_pool!(self, pool => {
            let row = sqlx::query(SQL).bind(kind).bind(name).bind(branch).bind(not).fetch_optional(pool).await?;
            row.as_ref().map(group_row).transpose()?
        });
        Ok(group)
    }

    /// Groups of a kind, newest first.
    pub async fn groups(&self, kind: &str, limit: i64) -> Result<Vec<Group>, StoreError> {
        const SQL: &str = "SELECT id, kind, name, branch, commit_sha, parts, created_ms, start_at_ms, document FROM run_groups \
             WHERE kind = $1 ORDER BY created_ms DESC, id DESC LIMIT $2";
        let groups: Vec<Group> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(kind).bind(limit).fetch_all(pool).await?;
            rows.iter().map(group_row).collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(groups)
    }

    /// A part starts: it is `running` until it finishes. A part that starts again (a retried
    /// CI job) replaces its earlier attempt: those runs stay stored, marked `superseded`, but
    /// leave the group, so no scenario is counted twice.
    pub async fn start_part(&self, group: &str, part: i64, host: &str) -> Result<(), StoreError> {
        // Marked superseded, the earlier attempt is no branch's history either: the retry of
        // the same commit must not become its own baseline.
        const DETACH: &str = "UPDATE runs SET group_id = NULL, group_part = NULL, kind = 'superseded' WHERE group_id = $1 AND group_part = $2";
        with_pool!(self, pool => sqlx::query(DETACH).bind(group).bind(part).execute(pool).await?.rows_affected());
        const SQL: &str = "INSERT INTO run_group_parts (group_id, part, state, host, registered_ms) VALUES ($1, $2, 'running', $3, $4) \
             ON CONFLICT (group_id, part) DO UPDATE SET state = 'running', host = $3, registered_ms = $4, finished_ms = NULL, detail = NULL";
        with_pool!(self, pool => sqlx::query(SQL).bind(group).bind(part).bind(host).bind(epoch_ms(std::time::SystemTime::now())).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// A part ends.
    pub async fn finish_part(
        &self,
        group: &str,
        part: i64,
        state: PartState,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE run_group_parts SET state = $3, finished_ms = $4, detail = $5 WHERE group_id = $1 AND part = $2";
        with_pool!(self, pool => sqlx::query(SQL).bind(group).bind(part).bind(state.name()).bind(epoch_ms(std::time::SystemTime::now())).bind(detail).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// The parts that have registered, in order.
    pub async fn parts(&self, group: &str) -> Result<Vec<GroupPart>, StoreError> {
        const SQL: &str = "SELECT part, state, host, registered_ms, finished_ms, detail FROM run_group_parts WHERE group_id = $1 ORDER BY part";
        let parts: Vec<GroupPart> = with_pool!(self, pool => {
            let rows = sqlx::query(SQL).bind(group).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(GroupPart {
                        part: r.try_get("part")?,
                        state: r.try_get("state")?,
                        host: r.try_get("host")?,
                        registered_ms: r.try_get("registered_ms")?,
                        finished_ms: r.try_get("finished_ms")?,
                        detail: r.try_get("detail")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?
        });
        Ok(parts)
    }

    /// The store's clock, epoch milliseconds: the one clock every shard of a group reads, so
    /// machines whose own clocks disagree still start together.
    pub async fn clock_ms(&self) -> Result<i64, StoreError> {
        let now: i64 = match self {
            Store::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
                )
                .fetch_one(pool)
                .await?
            }
            Store::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
                )
                .fetch_one(pool)
                .await?
            }
        };
        Ok(now)
    }

    /// Sets a group's common start unless one is set already (the first shard to see every
    /// shard registered sets it; the others read it); returns the start that holds.
    pub async fn set_start(&self, group: &str, at_ms: i64) -> Result<i64, StoreError> {
        const SQL: &str =
            "UPDATE run_groups SET start_at_ms = $2 WHERE id = $1 AND start_at_ms IS NULL";
        with_pool!(self, pool => sqlx::query(SQL).bind(group).bind(at_ms).execute(pool).await?.rows_affected());
        self.group(group)
            .await?
            .and_then(|g| g.start_at_ms)
            .ok_or_else(|| StoreError::NotFound(group.to_string()))
    }

    /// A part that gave up waiting leaves the group as failed, unless it had already moved
    /// on; returns whether it was still waiting.
    pub async fn give_up_part(
        &self,
        group: &str,
        part: i64,
        detail: &str,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE run_group_parts SET state = 'failed', finished_ms = $3, detail = $4 \
             WHERE group_id = $1 AND part = $2 AND state = 'running'";
        let changed = with_pool!(self, pool => sqlx::query(SQL).bind(group).bind(part).bind(epoch_ms(std::time::SystemTime::now())).bind(detail).execute(pool).await?.rows_affected());
        Ok(changed > 0)
    }

    /// Ids of the runs a group holds, oldest first.
    pub async fn group_runs(&self, group: &str) -> Result<Vec<String>, StoreError> {
        const SQL: &str =
            "SELECT id FROM runs WHERE group_id = $1 ORDER BY group_part, started_ms, id";
        let ids: Vec<String> =
            with_pool!(self, pool => sqlx::query_scalar(SQL).bind(group).fetch_all(pool).await?);
        Ok(ids)
    }
}

fn group_row<R: Row>(r: &R) -> Result<Group, sqlx::Error>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Group {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        name: r.try_get("name")?,
        branch: r.try_get("branch")?,
        commit: r.try_get("commit_sha")?,
        parts: r.try_get("parts")?,
        created_ms: r.try_get("created_ms")?,
        start_at_ms: r.try_get("start_at_ms")?,
        document: r.try_get("document")?,
    })
}
