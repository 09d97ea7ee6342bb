//! Connection pools per database and access mode: read-only sessions (the server refuses
//! writes) unless a step says `read_only = false`, connected lazily so a database that is
//! down is measured as connect errors, never a crash.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use sqlx::pool::PoolOptions;
use sqlx::postgres::{PgConnectOptions, PgPool};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::scenario::{DatabasePlan, Driver, Plan, StepAction};

/// A pool of one driver.
#[derive(Debug, Clone)]
pub enum Pool {
    /// PostgreSQL.
    Pg(PgPool),
    /// MySQL or MariaDB.
    My(MySqlPool),
    /// SQLite.
    Lite(SqlitePool),
}

/// The pools of one database.
#[derive(Debug)]
struct Database {
    name: String,
    read_only: Option<Mode>,
    read_write: Option<Mode>,
    /// The most connections each pool opens.
    size: u32,
}

/// One access mode's pool and how many of its connections steps hold right now.
#[derive(Debug)]
struct Mode {
    pool: Pool,
    busy: Arc<AtomicU32>,
    acquired: AtomicU64,
}

/// A pool as a step uses it.
pub struct Lease<'a> {
    /// The database's name in the scenario.
    pub name: &'a str,
    /// The pool.
    pub pool: &'a Pool,
    /// Its most connections.
    pub size: u32,
    /// Connections steps hold now (or that are closing after a step was cut off).
    pub busy: &'a Arc<AtomicU32>,
    /// Connections handed to steps so far: one handed to another step while a step waited
    /// means the database gives connections and the pool is the limit.
    pub acquired: &'a AtomicU64,
}

/// Every database a run's SQL steps use.
#[derive(Debug, Default)]
pub struct Databases {
    dbs: Vec<Database>,
}

/// A database URL the driver could not read (it names the database, never the URL).
#[derive(Debug, thiserror::Error)]
#[error("database `{name}`: {why}")]
pub struct SetupError {
    name: String,
    why: String,
}

impl Databases {
    /// Pools for the access modes the plan's SQL steps use; nothing connects yet.
    pub fn open(plan: &Plan) -> Result<Self, SetupError> {
        let mut dbs = Vec::with_capacity(plan.databases.len());
        for (i, db) in plan.databases.iter().enumerate() {
            let steps = plan.steps.iter().filter_map(|s| match &s.action {
                StepAction::Sql(q) if q.database == i => Some((q.read_only, s.timeout)),
                _ => None,
            });
            let (mut ro, mut rw, mut wait) = (false, false, Duration::ZERO);
            let mut shortest = db.statement_timeout;
            for (read_only, timeout) in steps {
                if read_only {
                    ro = true;
                } else {
                    rw = true;
                }
                wait = wait.max(timeout);
                shortest = shortest.min(timeout);
            }
            let mode = |read_only| {
                connect_lazy(db, read_only, wait, shortest, &plan.secrets).map(|pool| Mode {
                    pool,
                    busy: Arc::new(AtomicU32::new(0)),
                    acquired: AtomicU64::new(0),
                })
            };
            dbs.push(Database {
                name: db.name.clone(),
                read_only: if ro { Some(mode(true)?) } else { None },
                read_write: if rw { Some(mode(false)?) } else { None },
                size: db.pool,
            });
        }
        Ok(Self { dbs })
    }

    /// The pool a step uses.
    pub fn lease(&self, database: usize, read_only: bool) -> Lease<'_> {
        let db = &self.dbs[database];
        let mode = if read_only {
            db.read_only.as_ref()
        } else {
            db.read_write.as_ref()
        };
        let mode = mode.expect("a pool for every mode a step uses");
        Lease {
            name: &db.name,
            pool: &mode.pool,
            size: db.size,
            busy: &mode.busy,
            acquired: &mode.acquired,
        }
    }

    /// Closes every connection (at the end of the run), waiting at most a moment: a statement
    /// still running on the server is the server's to end (its statement timeout), not a
    /// reason to hold the run open past its grace period.
    pub async fn close(&self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.close_all()).await;
    }

    async fn close_all(&self) {
        for db in &self.dbs {
            for mode in [&db.read_only, &db.read_write].into_iter().flatten() {
                match &mode.pool {
                    Pool::Pg(p) => p.close().await,
                    Pool::My(p) => p.close().await,
                    Pool::Lite(p) => p.close().await,
                }
            }
        }
    }
}

fn options<DB: sqlx::Database>(db: &DatabasePlan, wait: Duration) -> PoolOptions<DB> {
    PoolOptions::new()
        .max_connections(db.pool)
        .min_connections(0)
        // The pool's own wait is a backstop: each step's timeout ends its wait first.
        .acquire_timeout(wait + Duration::from_secs(1))
        // A connection checked out is used at once: a ping before each would add a round
        // trip to every measured statement.
        .test_before_acquire(false)
}

fn connect_lazy(
    db: &DatabasePlan,
    read_only: bool,
    wait: Duration,
    // The server's limit per statement: the database's `statement_timeout`, or the shortest
    // step timeout when that is shorter, so the server cancels a statement about when the
    // step gives up on it (a statement left running would load the database on its own).
    limit: Duration,
    secrets: &crate::scenario::secrets::Secrets,
) -> Result<Pool, SetupError> {
    let fail = |e: sqlx::Error| SetupError {
        name: db.name.clone(),
        // The driver's message may quote the URL: its password is masked.
        why: secrets
            .redact(&format!("{} URL not understood: {e}", db.driver.name()))
            .into_owned(),
    };
    let timeout_ms = limit.as_millis().max(1).to_string();
    Ok(match db.driver {
        Driver::Postgres => {
            let mut settings = vec![("statement_timeout", timeout_ms)];
            if read_only {
                settings.push(("default_transaction_read_only", "on".into()));
            }
            let o = PgConnectOptions::from_str(&db.url)
                .map_err(fail)?
                .options(settings)
                .application_name("rehearse");
            Pool::Pg(options(db, wait).connect_lazy_with(o))
        }
        Driver::MySql => {
            let url = match db.url.strip_prefix("mariadb:") {
                Some(rest) => format!("mysql:{rest}"),
                None => db.url.clone(),
            };
            let o = MySqlConnectOptions::from_str(&url).map_err(fail)?;
            let pool = options::<sqlx::MySql>(db, wait).after_connect(move |conn, _| {
                Box::pin(async move {
                    use sqlx::Executor as _;
                    if read_only {
                        conn.execute("SET SESSION TRANSACTION READ ONLY").await?;
                    }
                    // MariaDB's limit (seconds) or MySQL's (milliseconds, SELECT only).
                    let secs = format!("SET SESSION max_statement_time = {}", limit.as_secs_f64());
                    if conn.execute(sqlx::AssertSqlSafe(secs)).await.is_err() {
                        let ms = format!("SET SESSION max_execution_time = {}", limit.as_millis());
                        let _ = conn.execute(sqlx::AssertSqlSafe(ms)).await;
                    }
                    Ok(())
                })
            });
            Pool::My(pool.connect_lazy_with(o))
        }
        Driver::Sqlite => {
            let o = SqliteConnectOptions::from_str(&db.url)
                .map_err(fail)?
                .create_if_missing(false)
                .read_only(read_only)
                // A locked database waits as long as a statement may run, then fails.
                .busy_timeout(limit);
            Pool::Lite(options(db, wait).connect_lazy_with(o))
        }
    })
}
