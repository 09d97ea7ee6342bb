//! The run store: every run kept, in SQLite (embedded, the default) or PostgreSQL (a team's
//! shared history). Depends on `model` only; the CLI decides what to store and when.

mod location;
mod migrate;
mod read;
mod sessions;
mod write;

use sqlx::{PgPool, SqlitePool};

pub use location::{DEFAULT_URL, redact, sqlite_path};
pub use read::{HistoryMetric, HistoryPoint, RunFilter, RunSummary};
pub use sessions::{AbSession, LogRatios};
pub use write::Stored;

/// An open store.
#[derive(Debug, Clone)]
pub enum Store {
    /// An SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL database.
    Postgres(PgPool),
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is not one rehearse understands.
    #[error("invalid store URL `{url}`: {message}")]
    Url {
        /// The URL, password removed.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot open the store `{url}`: {source}")]
    Open {
        /// The URL, password removed.
        url: String,
        /// The cause.
        source: sqlx::Error,
    },
    /// The store was written by a newer rehearse.
    #[error(
        "the store `{url}` has schema version {found}, newer than this rehearse understands ({known}); upgrade rehearse to use it (nothing was changed)"
    )]
    NewerSchema {
        /// The URL, password removed.
        url: String,
        /// The store's version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// Applying the schema failed.
    #[error("cannot prepare the store `{url}`: {message}")]
    Migrate {
        /// The URL, password removed.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Query(#[from] sqlx::Error),
    /// No run with that id (or id prefix).
    #[error("no stored run matches `{0}`")]
    NotFound(String),
    /// An id prefix matches several runs.
    #[error("`{prefix}` matches {count} runs; give more of the id")]
    Ambiguous {
        /// What was given.
        prefix: String,
        /// How many runs match.
        count: usize,
    },
    /// A stored document could not be read back.
    #[error("stored run `{id}` is unreadable: {message}")]
    Corrupt {
        /// The run.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// Runs the same code against whichever pool the store has; the SQL is written once with
/// `$N` placeholders, which both drivers accept.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

impl Store {
    /// Opens (creating if needed) and migrates the store at `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let store = location::connect(url).await?;
        migrate::migrate(&store, url).await?;
        Ok(store)
    }

    /// Closes the pool, waiting for in-flight queries.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}
