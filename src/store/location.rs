//! Store URLs: `sqlite://path` (created on first use) or `postgres://…`; passwords are
//! never printed.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolOptions;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};

use super::{Store, StoreError};

/// The store used when neither `--store` nor `REHEARSE_STORE` is set.
pub const DEFAULT_URL: &str = "sqlite://.rehearse/rehearse.db";

/// How long an SQLite writer waits for another process's write to finish.
const SQLITE_BUSY: Duration = Duration::from_secs(60);

/// The SQLite file a URL names, if it is an SQLite URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

pub(super) async fn connect(url: &str) -> Result<Store, StoreError> {
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
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Url {
                url: shown.clone(),
                message: format!("cannot create `{}`: {e}", dir.display()),
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(SQLITE_BUSY)
            .foreign_keys(true);
        let pool = PoolOptions::new()
            .max_connections(4)
            .acquire_timeout(SQLITE_BUSY)
            .connect_with(options)
            .await
            .map_err(open)?;
        return Ok(Store::Sqlite(pool));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Url {
            url: shown.clone(),
            message: e.to_string(),
        })?;
        let pool = PoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(15))
            .connect_with(options)
            .await
            .map_err(open)?;
        return Ok(Store::Postgres(pool));
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
