//! The store's schema: migrations embedded in the binary and applied on open. A store with
//! a newer schema than this build knows is refused before anything is written.

use std::borrow::Cow;

use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::location::{lock_path, sqlite_path};
use super::{Access, Store, StoreError, redact, with_pool};

/// (version, description, SQLite DDL, PostgreSQL DDL)
const MIGRATIONS: &[(i64, &str, &str, &str)] = &[
    (
        1,
        "runs",
        include_str!("../../migrations/sqlite/0001_runs.sql"),
        include_str!("../../migrations/postgres/0001_runs.sql"),
    ),
    (
        2,
        "ab sessions",
        include_str!("../../migrations/sqlite/0002_ab_sessions.sql"),
        include_str!("../../migrations/postgres/0002_ab_sessions.sql"),
    ),
    (
        3,
        "run kinds",
        include_str!("../../migrations/sqlite/0003_run_kinds.sql"),
        include_str!("../../migrations/postgres/0003_run_kinds.sql"),
    ),
    (
        4,
        "run groups",
        include_str!("../../migrations/sqlite/0004_run_groups.sql"),
        include_str!("../../migrations/postgres/0004_run_groups.sql"),
    ),
    (
        5,
        "change points",
        include_str!("../../migrations/sqlite/0005_change_points.sql"),
        include_str!("../../migrations/postgres/0005_change_points.sql"),
    ),
];

fn migrator(postgres: bool) -> Migrator {
    Migrator::with_migrations(
        MIGRATIONS
            .iter()
            .map(|(version, description, sqlite, pg)| {
                let sql = if postgres { pg } else { sqlite };
                Migration::new(
                    *version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    SqlStr::from_static(sql),
                    false,
                )
            })
            .collect(),
    )
}

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

pub(super) async fn migrate(
    store: &Store,
    url: &str,
    access: Access,
    writable: bool,
) -> Result<(), StoreError> {
    // The common case, a store already up to date, takes no lock and writes nothing.
    let found = applied_version(store).await?;
    if found == latest() {
        return Ok(());
    }
    if found == 0 && access != Access::Create && matches!(store, Store::Postgres(_)) {
        return Err(StoreError::Missing { url: redact(url) });
    }
    if found < latest() && !writable {
        return Err(StoreError::Outdated {
            url: redact(url),
            found,
            known: latest(),
        });
    }
    // sqlx's SQLite migrator takes no lock, so several processes opening a new store at
    // once would race to create it; a lock file beside the database serialises them.
    let _lock = match sqlite_path(url) {
        Some(db) => Some(lock_file(&lock_path(&db), url).await?),
        None => None,
    };
    let found = applied_version(store).await?;
    if found > latest() {
        return Err(StoreError::NewerSchema {
            url: redact(url),
            found,
            known: latest(),
        });
    }
    let postgres = matches!(store, Store::Postgres(_));
    with_pool!(store, pool => migrator(postgres).run(pool).await).map_err(|e| StoreError::Migrate {
        url: redact(url),
        message: e.to_string(),
    })
}

/// The highest migration applied to the store, 0 for a new one.
async fn applied_version(store: &Store) -> Result<i64, StoreError> {
    let exists: bool = match store {
        Store::Sqlite(pool) => sqlx::query_scalar("SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'")
            .fetch_one(pool)
            .await?,
        Store::Postgres(pool) => sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL").fetch_one(pool).await?,
    };
    if !exists {
        return Ok(0);
    }
    let version: Option<i64> = with_pool!(store, pool => sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?);
    Ok(version.unwrap_or(0))
}

async fn lock_file(path: &std::path::Path, url: &str) -> Result<std::fs::File, StoreError> {
    let path = path.to_path_buf();
    let shown = redact(url);
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| StoreError::Migrate {
        url: shown.clone(),
        message: e.to_string(),
    })?
    .map_err(|e| StoreError::Migrate {
        url: shown,
        message: format!("cannot lock the store: {e}"),
    })
}
