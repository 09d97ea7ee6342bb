//! The run store: every run kept, in SQLite (embedded, the default) or PostgreSQL (a team's
//! shared history). Depends on `model` only; the CLI decides what to store and when.

mod groups;
mod location;
mod migrate;
mod read;
mod sessions;
mod watch;
mod write;

use sqlx::{PgPool, SqlitePool};

pub use groups::{Group, GroupPart, PartState};
pub use location::{DEFAULT_URL, redact, sqlite_path};
pub use read::{BranchSummary, HistoryMetric, HistoryPoint, RunFilter, RunSummary, Which};
pub use sessions::AbSession;
pub use watch::Announced;
pub use write::Stored;

/// What a command needs from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Store runs: create the store if it does not exist yet.
    Create,
    /// Change an existing store (delete, prune); never create one.
    Write,
    /// Only read an existing store; a read-only file is fine.
    Read,
}

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
    /// The server did not answer in time.
    #[error("cannot reach the store `{url}`: no answer within {}", humantime::format_duration(*after))]
    Unreachable {
        /// The URL, password removed.
        url: String,
        /// How long it waited.
        after: std::time::Duration,
    },
    /// Nothing has been stored there yet (only commands that store runs create a store).
    #[error(
        "there is no store at `{url}`: nothing has been stored there yet (`rehearse run` creates it)"
    )]
    Missing {
        /// The URL, password removed.
        url: String,
    },
    /// The store can only be read, and the command changes it.
    #[error("the store `{url}` is read-only here, and this command changes it")]
    ReadOnly {
        /// The URL, password removed.
        url: String,
    },
    /// A read-only store whose schema this build would have to upgrade first.
    #[error(
        "the store `{url}` has schema version {found} and this rehearse needs {known}; it is read-only here, so it cannot be upgraded: open it once where it is writable"
    )]
    Outdated {
        /// The URL, password removed.
        url: String,
        /// The store's version.
        found: i64,
        /// The newest this build knows.
        known: i64,
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
    /// Two writers disagree about what a shared record is.
    #[error("{0}")]
    Conflict(String),
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
    /// Opens the store at `url` for `access` (creating it only for [`Access::Create`]) and
    /// brings its schema up to date where it can be written.
    pub async fn open(url: &str, access: Access) -> Result<Self, StoreError> {
        let (store, writable) = location::connect(url, access).await?;
        let ready = migrate::migrate(&store, url, access, writable).await;
        if let Err(e) = ready {
            store.close().await;
            return Err(e);
        }
        Ok(store)
    }

    /// Closes the pool, waiting for in-flight queries.
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}
