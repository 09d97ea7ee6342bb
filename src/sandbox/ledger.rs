//! The sandbox's seeded data as a SQLite file (`rehearse sandbox --ledger FILE`): the same
//! customers, cards and invoices the API starts with, for SQL steps to query.

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection as _, Executor as _};

use super::seed::seeded_store;

const SCHEMA: &str = "
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE TABLE cards (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    brand TEXT NOT NULL,
    last4 TEXT NOT NULL
);
CREATE TABLE invoices (
    id TEXT PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL,
    due_date TEXT NOT NULL,
    description TEXT NOT NULL
);
CREATE INDEX invoices_by_customer ON invoices (customer_id, status, due_date);
";

/// Why the ledger could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write the ledger `{path}`: {source}")]
pub struct LedgerError {
    path: String,
    source: sqlx::Error,
}

/// Writes the data a sandbox with `seed` starts with into a new SQLite file at `path`
/// (replacing one that is there); returns how many invoices it holds.
pub async fn write_ledger(path: &Path, seed: u64) -> Result<usize, LedgerError> {
    let fail = |source| LedgerError {
        path: path.display().to_string(),
        source,
    };
    let _ = std::fs::remove_file(path);
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(fail)?
        .filename(path)
        .create_if_missing(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .map_err(fail)?;
    let store = seeded_store(seed);
    let data = store.ledger();
    let mut tx = conn.begin().await.map_err(fail)?;
    tx.execute(SCHEMA).await.map_err(fail)?;
    for c in &data.customers {
        sqlx::query("INSERT INTO customers (id, email, name) VALUES (?, ?, ?)")
            .bind(&c.0)
            .bind(&c.1)
            .bind(&c.2)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
    }
    for card in &data.cards {
        sqlx::query("INSERT INTO cards (id, customer_id, brand, last4) VALUES (?, ?, ?, ?)")
            .bind(&card.0)
            .bind(&card.1)
            .bind(&card.2)
            .bind(&card.3)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
    }
    for i in &data.invoices {
        sqlx::query(
            "INSERT INTO invoices (id, number, customer_id, amount_cents, currency, status, due_date, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&i.id)
        .bind(&i.number)
        .bind(format!("cus_{}", i.customer))
        .bind(i.amount_cents)
        .bind(&i.currency)
        .bind(match i.status {
            super::records::Status::Open => "open",
            super::records::Status::Paid => "paid",
        })
        .bind(&i.due_date)
        .bind(&i.description)
        .execute(&mut *tx)
        .await
        .map_err(fail)?;
    }
    tx.commit().await.map_err(fail)?;
    conn.close().await.map_err(fail)?;
    Ok(data.invoices.len())
}
