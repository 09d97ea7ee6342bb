//! `[databases.NAME]` and `[steps.sql]`: connections (credentials kept out of everything
//! shown), statements with bound parameters, and the checks and captures rows allow.

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::time::Duration;

use toml::{Spanned, Value};

use super::build::{Builder, describe};
use super::plan::*;
use super::raw::*;
use super::template::Escape;
use address::parse_url;
use text::{looks_templated, normalized, placeholders};

mod address;
mod text;

/// Connections per access mode when `pool` is not set.
const DEFAULT_POOL: u32 = 10;
/// Most connections one database may open per access mode.
const MAX_POOL: i64 = 1_000;
/// A statement's server-side limit when `statement_timeout` is not set.
const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds `[databases]`, in name order (steps refer to them by index).
pub(super) fn build_databases(
    b: &mut Builder,
    raw: &BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
) -> Vec<DatabasePlan> {
    let mut out = Vec::new();
    for (name, db) in raw {
        let n = name.get_ref();
        if n.is_empty()
            || !n
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            b.error(
                name.span(),
                format!("invalid database name `{n}`: use letters, digits, `_` and `-`"),
            );
            continue;
        }
        let d = db.get_ref();
        let pool = match &d.pool {
            None => Some(DEFAULT_POOL),
            Some(p) if (1..=MAX_POOL).contains(p.get_ref()) => Some(*p.get_ref() as u32),
            Some(p) => {
                b.error(p.span(), format!("`pool` must be between 1 and {MAX_POOL}"));
                None
            }
        };
        let statement_timeout = match &d.statement_timeout {
            None => Some(DEFAULT_STATEMENT_TIMEOUT),
            Some(v) => b.duration_in(v, "statement_timeout", true, super::limits::MAX_TIMEOUT),
        };
        let Some(url) = b.interpolate_address(&d.url) else {
            continue;
        };
        match parse_url(&url) {
            Ok(parsed) => {
                for p in &parsed.passwords {
                    b.secrets.add(p);
                }
                if let (Some(pool), Some(statement_timeout)) = (pool, statement_timeout) {
                    out.push(DatabasePlan {
                        name: n.clone(),
                        driver: parsed.driver,
                        url,
                        display: parsed.display,
                        host: parsed.host,
                        pool,
                        statement_timeout,
                    });
                }
            }
            Err(e) => {
                // The message never quotes the URL: it may hold a password.
                b.error_help(
                    d.url.span(),
                    format!("database `{n}`: {e}"),
                    "write e.g. `url = \"${STAGING_DB_URL}\"` with postgres://user:pass@host:5432/db, mysql://user@host:3306/db or sqlite:path/to/file.db",
                );
            }
        }
    }
    out
}

/// Builds a step's `[steps.sql]`.
pub(super) fn build_sql(
    b: &mut Builder,
    raw: &Spanned<RawSql>,
    step: usize,
    databases: &[DatabasePlan],
    declared: &BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
) -> Option<SqlPlan> {
    let s = raw.get_ref();
    let before = b.diags.len();
    let database = match &s.database {
        Some(name) => match databases.iter().position(|d| d.name == *name.get_ref()) {
            Some(i) => Some(i),
            None => {
                // A database that is declared but failed to build has its own error already.
                if !declared.keys().any(|k| k.get_ref() == name.get_ref()) {
                    let known: Vec<&str> = declared.keys().map(|k| k.get_ref().as_str()).collect();
                    b.error_help(
                        name.span(),
                        format!("no database `{}`", name.get_ref()),
                        if known.is_empty() {
                            "declare it: `[databases.NAME] url = \"${STAGING_DB_URL}\"`".to_string()
                        } else {
                            format!("declared: {}", known.join(", "))
                        },
                    );
                }
                None
            }
        },
        None if declared.len() == 1 => databases.iter().position(|_| true),
        None if declared.is_empty() => {
            b.error_help(
                raw.span(),
                "a `sql` step needs a database, and the scenario declares none",
                "add `[databases.staging] url = \"${STAGING_DB_URL}\"`",
            );
            None
        }
        None => {
            b.error_help(
                raw.span(),
                "the scenario declares several databases: say which one this step uses",
                "add `database = \"NAME\"` to `[steps.sql]`",
            );
            None
        }
    };
    let driver = database.map(|i| databases[i].driver);
    let read_only = s.read_only.as_ref().is_none_or(|r| *r.get_ref());
    let statement = |b: &mut Builder, q: &Spanned<String>, p: &[Spanned<Value>]| {
        statement(b, q, p, step, driver, read_only)
    };
    let mut statements = Vec::new();
    match (&s.query, &s.statements) {
        (Some(q), None) => {
            if let Some(st) = statement(b, q, &s.params) {
                statements.push(st);
            }
        }
        (None, Some(list)) => {
            if !s.params.is_empty() {
                b.error(
                    s.params[0].span(),
                    "`params` belong to each of `statements`, not to the step",
                );
            }
            if list.get_ref().is_empty() {
                b.error(list.span(), "`statements` is an empty list");
            }
            for st in list.get_ref() {
                let r = st.get_ref();
                if let Some(st) = statement(b, &r.query, &r.params) {
                    statements.push(st);
                }
            }
        }
        (Some(q), Some(_)) => b.error(
            q.span(),
            "a `sql` step has either one `query` or a list of `statements`, not both",
        ),
        (None, None) => b.error_help(
            raw.span(),
            "the `sql` step has no statement",
            "add `query = \"SELECT ...\"` (with `params = [...]`) or `[[steps.sql.statements]]`",
        ),
    }
    let transaction = s.transaction.as_ref().is_some_and(|t| *t.get_ref());
    if statements.len() > 1 && s.transaction.is_none() {
        b.error_help(
            raw.span(),
            "several statements: say whether they run in one transaction",
            "add `transaction = true` (one transaction) or `transaction = false` (each on its own)",
        );
    }
    if b.diags.len() > before {
        return None;
    }
    let database = database?;
    let first = statements[0]
        .query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let mut short: String = first.chars().take(60).collect();
    if short.len() < first.len() {
        short.push('…');
    }
    let more = if statements.len() > 1 {
        format!(" (+{} more)", statements.len() - 1)
    } else {
        String::new()
    };
    Some(SqlPlan {
        database,
        display: format!("SQL {}: {short}{more}", databases[database].name),
        statements,
        transaction,
        read_only: s.read_only.as_ref().is_none_or(|r| *r.get_ref()),
        prepare: s.prepare.as_ref().is_none_or(|p| *p.get_ref()),
        rows_needed: None,
        columns: Vec::new(),
    })
}

fn statement(
    b: &mut Builder,
    query: &Spanned<String>,
    params: &[Spanned<Value>],
    step: usize,
    driver: Option<Driver>,
    read_only: bool,
) -> Option<StatementPlan> {
    let sql = query.get_ref();
    if sql.trim().is_empty() {
        b.error(query.span(), "the statement is empty");
        return None;
    }
    if looks_templated(sql) {
        // Splicing values into SQL text is how injections happen: values are bound.
        b.error_help(
            query.span(),
            "a statement cannot hold `{{ ... }}`: values are bound as parameters, never written into the SQL",
            "write a placeholder ($1 for PostgreSQL, ? for MySQL and SQLite) and put the template in `params`",
        );
        return None;
    }
    let words = normalized(sql);
    let first = words.split(' ').next().unwrap_or("");
    if matches!(
        first,
        "begin" | "start" | "commit" | "end" | "rollback" | "savepoint" | "release" | "abort"
    ) {
        b.error_help(
            query.span(),
            format!(
                "`{}` controls the transaction, which the step does",
                first.to_uppercase()
            ),
            "list the statements in `[[steps.sql.statements]]` with `transaction = true`",
        );
        return None;
    }
    if read_only
        && [
            "read write",
            "transaction_read_only",
            "tx_read_only",
            "query_only",
        ]
        .iter()
        .any(|w| words.contains(w))
    {
        b.error_help(
            query.span(),
            "this statement changes the session's read-only setting, in a read-only step",
            "a step that writes says `read_only = false`",
        );
        return None;
    }
    let mut out = Vec::new();
    for p in params {
        let (kind, text, span) = match p.get_ref() {
            Value::String(s) => (ParamKind::Text, s.clone(), p.span()),
            Value::Integer(i) => (ParamKind::Int, i.to_string(), p.span()),
            Value::Float(f) if f.is_finite() => (ParamKind::Float, f.to_string(), p.span()),
            Value::Boolean(v) => (ParamKind::Bool, v.to_string(), p.span()),
            Value::Table(t) if t.len() == 1 => {
                let (k, v) = t.iter().next().expect("one entry");
                let kind = match k.as_str() {
                    "int" => ParamKind::Int,
                    "float" => ParamKind::Float,
                    "bool" => ParamKind::Bool,
                    "text" => ParamKind::Text,
                    other => {
                        b.error(
                            p.span(),
                            format!(
                                "unknown parameter type `{other}`: use `int`, `float`, `bool` or `text`"
                            ),
                        );
                        continue;
                    }
                };
                let Value::String(text) = v else {
                    b.error(
                        p.span(),
                        format!(
                            "`{{ {k} = ... }}` takes a template string such as \"{{{{ id }}}}\""
                        ),
                    );
                    continue;
                };
                (kind, text.clone(), p.span())
            }
            other => {
                b.error(
                    p.span(),
                    format!(
                        "a parameter is a string, number, boolean or `{{ int = \"{{{{ var }}}}\" }}`, found {}",
                        describe(other)
                    ),
                );
                continue;
            }
        };
        let value = b.template(&text, span, Escape::None, Escape::None, Some(step));
        out.push(ParamPlan { kind, value });
    }
    if let Some(driver) = driver {
        let wanted = placeholders(sql, driver);
        if wanted != params.len() {
            let style = if driver == Driver::Postgres {
                "$1, $2, …"
            } else {
                "?"
            };
            b.error(
                query.span(),
                format!(
                    "the statement has {wanted} placeholder{} ({style}) and {} parameter{} in `params`",
                    if wanted == 1 { "" } else { "s" },
                    params.len(),
                    if params.len() == 1 { "" } else { "s" }
                ),
            );
        }
    }
    Some(StatementPlan {
        query: query.get_ref().clone(),
        params: out,
    })
}

/// A SQL step's `[steps.check]`: `rows` and `columns` (HTTP's conditions are refused).
pub(super) fn build_sql_checks(
    b: &mut Builder,
    raw: Option<&Spanned<RawCheck>>,
    step: usize,
) -> CheckPlan {
    let mut plan = CheckPlan {
        status: Vec::new(),
        json: Vec::new(),
        body_contains: Vec::new(),
        rows: None,
        columns: Vec::new(),
    };
    let Some(raw) = raw else {
        return plan;
    };
    let c = raw.get_ref();
    let http_only = [
        c.status.as_ref().map(|v| (v.span(), "status")),
        c.json.keys().next().map(|k| (k.span(), "json")),
        c.body_contains
            .as_ref()
            .map(|v| (v.span(), "body_contains")),
    ];
    for (span, key) in http_only.into_iter().flatten() {
        b.error_help(
            span,
            format!("`check.{key}` is for HTTP steps"),
            "a `sql` step checks `rows = 1` (or \"1..10\", \">= 1\") and `columns = { status = \"open\" }`",
        );
    }
    if let Some(rows) = &c.rows {
        match parse_rows(rows.get_ref()) {
            Ok(r) => plan.rows = Some(r),
            Err(e) => b.error(rows.span(), e),
        }
    }
    for (column, expected) in &c.columns {
        if column.get_ref().is_empty() {
            b.error(column.span(), "a column check names a column");
            continue;
        }
        let e = match expected.get_ref() {
            Value::Float(f) if !f.is_finite() => {
                b.error(
                    expected.span(),
                    "a column is compared with a number, not nan or inf",
                );
                continue;
            }
            Value::String(s) => Expected::Text(b.template(
                s,
                expected.span(),
                Escape::None,
                Escape::None,
                Some(step),
            )),
            other => match serde_json::to_value(other) {
                Ok(v) if !v.is_object() && !v.is_array() => Expected::Value(v),
                _ => {
                    b.error(
                        expected.span(),
                        format!(
                            "a column is compared with a string, number or boolean, not {}",
                            describe(other)
                        ),
                    );
                    continue;
                }
            },
        };
        plan.columns.push((column.get_ref().clone(), e));
    }
    plan
}

/// `rows = 1`, `"1..10"`, `">= 1"`, `"<= 5"`.
fn parse_rows(v: &Value) -> Result<RangeInclusive<u64>, String> {
    let bad = || {
        format!(
            "`rows` is a count (1), a range (\"1..10\") or a bound (\">= 1\", \"<= 5\"), not {}",
            describe(v)
        )
    };
    let num = |t: &str| t.trim().parse::<u64>().map_err(|_| bad());
    match v {
        Value::Integer(i) if *i >= 0 => Ok(*i as u64..=*i as u64),
        Value::String(s) => {
            let s = s.trim();
            if let Some(n) = s.strip_prefix(">=") {
                Ok(num(n)?..=u64::MAX)
            } else if let Some(n) = s.strip_prefix("<=") {
                Ok(0..=num(n)?)
            } else if let Some((lo, hi)) = s.split_once("..") {
                let (lo, hi) = (num(lo)?, num(hi)?);
                if hi < lo {
                    return Err(bad());
                }
                Ok(lo..=hi)
            } else {
                let n = num(s)?;
                Ok(n..=n)
            }
        }
        _ => Err(bad()),
    }
}

/// A SQL step's capture: `{ column = "id" }` (row 0), `{ row = 2, column = "id" }` or
/// `{ row_count = true }`.
pub(super) fn sql_capture(
    b: &mut Builder,
    name: &str,
    cap: &Spanned<RawCapture>,
) -> Option<CaptureSource> {
    let c = cap.get_ref();
    let http = [
        c.json.as_ref().map(|v| (v.span(), "json")),
        c.header.as_ref().map(|v| (v.span(), "header")),
        c.regex.as_ref().map(|v| (v.span(), "regex")),
        c.cookie.as_ref().map(|v| (v.span(), "cookie")),
    ];
    if let Some((span, key)) = http.into_iter().flatten().next() {
        b.error_help(
            span,
            format!("a `{key}` capture reads an HTTP response; this is a `sql` step"),
            "capture a column: `{ column = \"id\" }`, `{ row = 1, column = \"id\" }` or `{ row_count = true }`",
        );
        return None;
    }
    match (&c.column, &c.row, &c.row_count) {
        (Some(col), row, None) => {
            let row = match row {
                None => 0,
                Some(r) if *r.get_ref() >= 0 && *r.get_ref() <= 1_000_000 => *r.get_ref() as usize,
                Some(r) => {
                    b.error(r.span(), "`row` is a row number from 0 (the first row)");
                    return None;
                }
            };
            if col.get_ref().is_empty() {
                b.error(col.span(), "`column` names a column of the result");
                return None;
            }
            Some(CaptureSource::Column {
                row,
                column: col.get_ref().clone(),
            })
        }
        (None, None, Some(flag)) if *flag.get_ref() => Some(CaptureSource::RowCount),
        _ => {
            b.error_help(
                cap.span(),
                format!("capture `{name}` needs a `column` (and optionally a `row`) or `row_count = true`"),
                "write e.g. `invoice = { column = \"id\" }` or `open = { row_count = true }`",
            );
            None
        }
    }
}

/// Refuses the keys that only mean something for an HTTP request.
pub(super) fn refuse_http_keys(b: &mut Builder, s: &RawStep) {
    let keys = [
        s.until.as_ref().map(|v| (v.span(), "until")),
        s.max_body.as_ref().map(|v| (v.span(), "max_body")),
        s.follow_redirects
            .as_ref()
            .map(|v| (v.span(), "follow_redirects")),
    ];
    for (span, key) in keys.into_iter().flatten() {
        b.error(span, format!("`{key}` is for HTTP steps, not `sql` steps"));
    }
}

/// What a step's captures and checks read of the last statement's rows: the highest row
/// (so the runner keeps no more) and the columns, sorted and each once (the only ones decoded).
pub(super) fn rows_read(
    captures: &[CapturePlan],
    checks: &CheckPlan,
) -> (Option<usize>, Vec<String>) {
    let mut rows = Vec::new();
    let mut columns: Vec<String> = checks.columns.iter().map(|(c, _)| c.clone()).collect();
    if !checks.columns.is_empty() {
        rows.push(0);
    }
    for c in captures {
        if let CaptureSource::Column { row, column } = &c.source {
            rows.push(*row);
            columns.push(column.clone());
        }
    }
    columns.sort_unstable();
    columns.dedup();
    (rows.into_iter().max(), columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_counts_parse_as_ranges() {
        assert_eq!(parse_rows(&Value::Integer(1)).unwrap(), 1..=1);
        assert_eq!(parse_rows(&Value::String("1..10".into())).unwrap(), 1..=10);
        assert_eq!(
            parse_rows(&Value::String(">= 1".into())).unwrap(),
            1..=u64::MAX
        );
        assert_eq!(parse_rows(&Value::String("<=5".into())).unwrap(), 0..=5);
        assert!(parse_rows(&Value::String("10..1".into())).is_err());
        assert!(parse_rows(&Value::Integer(-1)).is_err());
        assert!(parse_rows(&Value::Boolean(true)).is_err());
    }
}
