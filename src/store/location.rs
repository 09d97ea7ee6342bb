//! Store URLs: `sqlite://path` (created on first use) or `postgres://…`; passwords are
//! never printed.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection;
use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::{Access, Store, StoreError};

/// The store used when neither `--store` nor `REHEARSE_STORE` is set.
pub const DEFAULT_URL: &str = "sqlite://.rehearse/rehearse.db";

/// How long an SQLite writer waits for another process's write to finish.
const SQLITE_BUSY: Duration = Duration::from_secs(60);

/// How long connecting to PostgreSQL may take before the store is called unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SQLite file a URL names, if it is an SQLite URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// Connects to the store; `writable` is false when an SQLite file can only be read.
pub(super) async fn connect(url: &str, access: Access) -> Result<(Store, bool), StoreError> {
    let shown = redact(url);
    let open = |source| StoreError::Open {
        url: shown.clone(),
        source,
    };
    if let Some(path) = sqlite_path(url) {
        if path.as_os_str().is_empty() {
            return Err(StoreError::Url {
                url: shown,
                message: "no file name after `sqlite://`".into(),
            });
        }
        let exists = path.is_file();
        if !exists && access != Access::Create {
            return Err(StoreError::Missing { url: shown });
        }
        if !exists && let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Url {
                url: shown.clone(),
                message: format!("cannot create `{}`: {e}", dir.display()),
            })?;
        }
        // A file this process cannot write (a read-only copy, a CI artifact) is still read,
        // as an immutable database: no journal, no locks, nothing written beside it.
        let writable = !exists
            || std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .is_ok();
        let options = if writable {
            SqliteConnectOptions::new()
                .filename(&path)
                .create_if_missing(access == Access::Create)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY)
                .foreign_keys(true)
        } else if access == Access::Read {
            SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true)
                .immutable(true)
        } else {
            return Err(StoreError::ReadOnly { url: shown });
        };
        let pool = PoolOptions::new()
            .max_connections(4)
            .acquire_timeout(SQLITE_BUSY)
            .connect_with(options)
            .await
            .map_err(open)?;
        return Ok((Store::Sqlite(pool), writable));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: shown.clone(),
            message: e.to_string(),
        })?;
        // One direct attempt first: a pool only reports "timed out" after retrying, where
        // this names the cause (connection refused, authentication, unknown database).
        match tokio::time::timeout(CONNECT_TIMEOUT, sqlx::PgConnection::connect_with(&options))
            .await
        {
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
            Ok(Err(e)) => return Err(open(e)),
            Err(_) => {
                return Err(StoreError::Unreachable {
                    url: shown,
                    after: CONNECT_TIMEOUT,
                });
            }
        }
        let pool = PoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(open)?;
        return Ok((Store::Postgres(pool), true));
    }
    Err(StoreError::Url {
        url: shown,
        message: "expected `sqlite://PATH` or `postgres://USER@HOST/DATABASE`".into(),
    })
}

/// The URL with any password replaced by `***`. The user information ends at the *last* `@`
/// (a pasted password may hold `/`, `?`, `#` or `@`), so everything between the first `:`
/// after the scheme and that `@` is hidden; when unsure, more is hidden, never less.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        if let Some(at) = out[rest_start..].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    if let Some(i) = out.find("password=") {
        let start = i + "password=".len();
        let end = out[start..]
            .find('&')
            .map(|j| start + j)
            .unwrap_or(out.len());
        out.replace_range(start..end, "***");
    }
    out
}

/// The lock file serialising schema changes of an SQLite store across processes.
pub(super) fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    db.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://ci:s3cret@db.internal:5432/perf"),
            "postgres://ci:***@db.internal:5432/perf"
        );
        assert_eq!(
            redact("postgres://ci@db/perf?password=s3cret&sslmode=require"),
            "postgres://ci@db/perf?password=***&sslmode=require"
        );
        assert_eq!(redact("postgres://u:p%40ss@h/d"), "postgres://u:***@h/d");
        assert_eq!(
            redact("postgres://ci:pa/ss#w0rd@db.internal/perf"),
            "postgres://ci:***@db.internal/perf"
        );
        assert_eq!(
            redact("postgres://ci:a@b?c@db/perf"),
            "postgres://ci:***@db/perf"
        );
        assert_eq!(
            redact("sqlite://.rehearse/rehearse.db"),
            "sqlite://.rehearse/rehearse.db"
        );
    }

    #[test]
    fn sqlite_urls_name_files() {
        assert_eq!(
            sqlite_path("sqlite://.rehearse/r.db"),
            Some(PathBuf::from(".rehearse/r.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/r.db?mode=rwc"),
            Some(PathBuf::from("/tmp/r.db"))
        );
        assert_eq!(sqlite_path("postgres://x"), None);
        assert_eq!(lock_path(Path::new("a/r.db")), PathBuf::from("a/r.db.lock"));
    }
}
