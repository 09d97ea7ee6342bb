//! SQL steps: statements with bound parameters on a pooled connection, in a transaction
//! when asked, each failure a counted outcome (query error with its SQLSTATE, timeout,
//! connect error, pool exhausted), rows read only as far as captures and checks need.

mod pools;
mod rows;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use futures_util::TryStreamExt as _;
use sqlx::{Connection as _, Database, Executor};
use tokio::time::Instant;

pub use pools::{Databases, SetupError};

use crate::model::Outcome;
use crate::runner::http::Failure;
use crate::runner::vars::IterationVars;
use crate::scenario::{ParamKind, SqlPlan, StepPlan};
use pools::Pool;
use rows::{Cell, Rows};

/// A parameter rendered and converted to the type it is bound as.
#[derive(Debug)]
enum Bound {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// Runs one SQL step; returns its outcome and, on failure, why.
pub async fn perform(
    step: &StepPlan,
    sql: &SqlPlan,
    dbs: &Databases,
    vars: &mut IterationVars<'_>,
) -> Result<(), Failure> {
    let deadline = Instant::now() + step.timeout;
    let bound = bind_all(sql, vars)?;
    let lease = dbs.lease(sql.database, sql.read_only);
    let work = Work {
        database: lease.name,
        sql,
        wanted: &sql.columns,
        deadline,
        size: lease.size,
        busy: lease.busy,
        acquired: lease.acquired,
        timeout: step.timeout,
    };
    let rows = match lease.pool {
        Pool::Pg(p) => work.run(p, bound, rows::decode_pg).await?,
        Pool::My(p) => work.run(p, bound, rows::decode_my).await?,
        Pool::Lite(p) => work.run(p, bound, rows::decode_lite).await?,
    };
    rows::judge(step, &rows, &sql.columns, vars)
}

/// Renders every statement's parameters; a value that is not of its declared type fails
/// the step before anything is sent.
fn bind_all(sql: &SqlPlan, vars: &mut IterationVars<'_>) -> Result<Vec<Vec<Bound>>, Failure> {
    let many = sql.statements.len() > 1;
    sql.statements
        .iter()
        .enumerate()
        .map(|(s, st)| {
            st.params
                .iter()
                .enumerate()
                .map(|(p, param)| {
                    let text = vars.render(&param.value);
                    let bad = |what: &str| {
                        let at = if many {
                            format!("parameter {} of statement {}", p + 1, s + 1)
                        } else {
                            format!("parameter {}", p + 1)
                        };
                        (
                            Outcome::RequestError,
                            format!("{at}: \"{text}\" is not {what}"),
                        )
                    };
                    Ok(match param.kind {
                        ParamKind::Text => Bound::Text(text),
                        ParamKind::Int => {
                            Bound::Int(text.trim().parse().map_err(|_| bad("an integer"))?)
                        }
                        ParamKind::Float => {
                            Bound::Float(text.trim().parse().map_err(|_| bad("a number"))?)
                        }
                        ParamKind::Bool => {
                            Bound::Bool(text.trim().parse().map_err(|_| bad("true or false"))?)
                        }
                    })
                })
                .collect()
        })
        .collect()
}

/// One step's statements against one driver.
struct Work<'a> {
    database: &'a str,
    sql: &'a SqlPlan,
    wanted: &'a [String],
    deadline: Instant,
    size: u32,
    busy: &'a Arc<AtomicU32>,
    acquired: &'a AtomicU64,
    timeout: std::time::Duration,
}

/// Counts a connection as held by a step until dropped.
struct Held(Arc<AtomicU32>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Work<'_> {
    async fn run<DB>(
        &self,
        pool: &sqlx::Pool<DB>,
        bound: Vec<Vec<Bound>>,
        decode: fn(&DB::Row, usize) -> Cell,
    ) -> Result<Rows, Failure>
    where
        DB: Database + sqlx::database::HasStatementCache,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'e> String: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> i64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> f64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> bool: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    {
        let before = self.acquired.load(Ordering::Relaxed);
        let mut conn = match tokio::time::timeout_at(self.deadline, pool.acquire()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(sqlx::Error::PoolTimedOut)) | Err(_) => {
                let handed_out = self.acquired.load(Ordering::Relaxed) != before;
                return Err(self.no_connection(handed_out));
            }
            Ok(Err(e)) => return Err((Outcome::ConnectError, describe(&e))),
        };
        self.acquired.fetch_add(1, Ordering::Relaxed);
        self.busy.fetch_add(1, Ordering::Relaxed);
        let held = Held(self.busy.clone());
        let statements = async {
            if self.sql.transaction {
                let mut tx = conn.begin().await.map_err(failure)?;
                match self.statements(&mut tx, bound, decode).await {
                    Ok(rows) => {
                        tx.commit().await.map_err(failure)?;
                        Ok(rows)
                    }
                    Err(f) => {
                        // A failed statement leaves the transaction aborted: roll it back
                        // before the connection goes back to the pool.
                        let _ = tx.rollback().await;
                        Err(f)
                    }
                }
            } else {
                self.statements(&mut conn, bound, decode).await
            }
        };
        match tokio::time::timeout_at(self.deadline, statements).await {
            Ok(result) => {
                // A lost connection is closed; one whose statement the server cancelled (its
                // timeout, a lock wait) is fine and goes back to the pool.
                if matches!(&result, Err((Outcome::Reset, _))) {
                    conn.close_on_drop();
                }
                drop(held);
                result
            }
            Err(_) => {
                // Cut off mid-statement: the connection's state is unknown, so it is closed
                // rather than handed to the next iteration, and it counts as in use until it
                // is (closing may wait for the server), so the pool is not taken for a
                // database that does not answer.
                tokio::spawn(async move {
                    let _held = held;
                    let _ = conn.close().await;
                });
                Err((
                    Outcome::Timeout,
                    format!(
                        "no result within {}",
                        humantime::format_duration(self.timeout)
                    ),
                ))
            }
        }
    }

    async fn statements<DB>(
        &self,
        conn: &mut DB::Connection,
        bound: Vec<Vec<Bound>>,
        decode: fn(&DB::Row, usize) -> Cell,
    ) -> Result<Rows, Failure>
    where
        DB: Database + sqlx::database::HasStatementCache,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'e> String: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> i64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> f64: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'e> bool: sqlx::Encode<'e, DB> + sqlx::Type<DB>,
        for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    {
        let last = self.sql.statements.len() - 1;
        let mut rows = Rows::default();
        for (i, (st, params)) in self.sql.statements.iter().zip(bound).enumerate() {
            let mut q = sqlx::query::<DB>(sqlx::AssertSqlSafe(st.query.clone()))
                .persistent(self.sql.prepare);
            for p in params {
                q = match p {
                    Bound::Text(v) => q.bind(v),
                    Bound::Int(v) => q.bind(v),
                    Bound::Float(v) => q.bind(v),
                    Bound::Bool(v) => q.bind(v),
                };
            }
            if i < last {
                q.execute(&mut *conn).await.map_err(failure)?;
                continue;
            }
            let keep = self.sql.rows_needed.map_or(0, |r| r + 1);
            let mut stream = q.fetch(&mut *conn);
            // Every row is read (the database sends them all, and that is part of the
            // step's time); only the ones captures and checks need are kept.
            while let Some(row) = stream.try_next().await.map_err(failure)? {
                if (rows.count as usize) < keep {
                    rows.kept.push(rows::keep(&row, self.wanted, decode));
                }
                rows.count += 1;
            }
        }
        Ok(rows)
    }

    /// Waiting for a connection ran out: the pool was the limit (every connection held, or
    /// connections went to other steps meanwhile), or the database gave none.
    fn no_connection(&self, handed_out: bool) -> Failure {
        let db = self.database;
        if handed_out || self.busy.load(Ordering::Relaxed) >= self.size {
            (
                Outcome::PoolExhausted,
                format!(
                    "all {} connections to database `{db}` stayed in use for {}: raise its `pool`",
                    self.size,
                    humantime::format_duration(self.timeout)
                ),
            )
        } else {
            (
                Outcome::ConnectError,
                format!(
                    "no connection to database `{db}` within {}: the server refused or did not answer",
                    humantime::format_duration(self.timeout)
                ),
            )
        }
    }
}

/// A statement's failure as an outcome: the database's own error with its SQLSTATE (SQLite's
/// result code), a server-side statement timeout or lock wait as a timeout, a lost
/// connection as a reset.
fn failure(e: sqlx::Error) -> Failure {
    match &e {
        sqlx::Error::Database(db) => {
            let message = db.message().to_string();
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let (label, timed_out) = if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
            {
                // SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): the busy
                // timeout ran out waiting for a lock.
                let primary = code.parse::<u32>().map(|c| c & 0xff).unwrap_or(0);
                (format!("SQLite error {code}"), matches!(primary, 5 | 6))
            } else if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
                // MariaDB's max_statement_time (1969) and MySQL's max_execution_time (3024).
                let n = my.number();
                (
                    format!("SQLSTATE {code}, error {n}"),
                    matches!(n, 1969 | 3024),
                )
            } else {
                // PostgreSQL's statement_timeout and lock_timeout.
                (
                    format!("SQLSTATE {code}"),
                    matches!(code.as_str(), "57014" | "55P03"),
                )
            };
            if timed_out {
                (Outcome::Timeout, format!("{message} ({label})"))
            } else {
                (Outcome::QueryError, format!("{label}: {message}"))
            }
        }
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => {
            (Outcome::Reset, format!("the connection was lost: {e}"))
        }
        sqlx::Error::Encode(_) => (Outcome::RequestError, e.to_string()),
        _ => (Outcome::QueryError, e.to_string()),
    }
}

fn describe(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("SQLSTATE {code}: {}", db.message()),
            None => db.message().to_string(),
        },
        other => other.to_string(),
    }
}
