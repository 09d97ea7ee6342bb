//! What a SQL step's last statement returned, read only as far as its captures and checks
//! need, and judged against them.

use serde_json::Value;
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};

use crate::model::Outcome;
use crate::runner::http::Failure;
use crate::runner::vars::IterationVars;
use crate::scenario::{CaptureSource, CheckPlan, Expected, StepPlan};

/// A column's value, or why it could not be read.
pub type Cell = Result<Value, String>;

/// The rows of a step's last statement: how many, and the needed columns of the first few.
#[derive(Debug, Default)]
pub struct Rows {
    /// Rows returned.
    pub count: u64,
    /// For each kept row, the wanted columns' cells, in [`crate::scenario::SqlPlan::columns`]
    /// order.
    pub kept: Vec<Vec<Cell>>,
}

/// Reads the wanted columns of one row with a driver's decoder.
pub fn keep<R: sqlx::Row>(row: &R, wanted: &[String], decode: fn(&R, usize) -> Cell) -> Vec<Cell> {
    wanted
        .iter()
        .map(
            |name| match row.columns().iter().position(|c| c.name() == name.as_str()) {
                Some(i) => decode(row, i),
                None => {
                    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
                    Err(format!(
                        "no column `{name}` in the result (columns: {})",
                        names.join(", ")
                    ))
                }
            },
        )
        .collect()
}

/// Checks the rows, then takes the captures; the first failure ends the step.
pub fn judge(
    step: &StepPlan,
    rows: &Rows,
    wanted: &[String],
    vars: &mut IterationVars<'_>,
) -> Result<(), Failure> {
    conditions(&step.checks, rows, wanted, vars)?;
    for capture in &step.captures {
        let value = match &capture.source {
            CaptureSource::RowCount => rows.count.to_string(),
            CaptureSource::Column { row, column } => {
                let cell = cell(rows, wanted, *row, column).map_err(|why| {
                    (Outcome::CaptureFailed, format!("capture `{column}`: {why}"))
                })?;
                match cell {
                    Value::String(s) => s.clone(),
                    Value::Null => {
                        return Err((
                            Outcome::CaptureFailed,
                            format!("capture `{column}`: row {row} holds NULL"),
                        ));
                    }
                    other => other.to_string(),
                }
            }
            _ => unreachable!("validation allows only row captures on SQL steps"),
        };
        vars.captures[capture.slot] = Some(value);
    }
    Ok(())
}

fn conditions(
    checks: &CheckPlan,
    rows: &Rows,
    wanted: &[String],
    vars: &mut IterationVars<'_>,
) -> Result<(), Failure> {
    if let Some(range) = &checks.rows
        && !range.contains(&rows.count)
    {
        let want = if range.start() == range.end() {
            range.start().to_string()
        } else if *range.end() == u64::MAX {
            format!("at least {}", range.start())
        } else {
            format!("{}..{}", range.start(), range.end())
        };
        let plural = if *range.end() == 1 { "row" } else { "rows" };
        return Err((
            Outcome::CheckFailed,
            format!("expected {want} {plural}, got {}", rows.count),
        ));
    }
    for (column, expected) in &checks.columns {
        let found = cell(rows, wanted, 0, column)
            .map_err(|why| (Outcome::CheckFailed, format!("check `{column}`: {why}")))?;
        let ok = match expected {
            // Booleans stored as 0/1 (SQLite, MySQL's TINYINT(1)) equal true/false.
            Expected::Value(Value::Bool(b)) if found.is_number() => {
                found.as_f64() == Some(if *b { 1.0 } else { 0.0 })
            }
            Expected::Value(v) => crate::runner::http::response::values_equal(v, found),
            Expected::Text(t) => {
                let want = vars.render(t);
                match found {
                    Value::String(s) => *s == want,
                    Value::Null => false,
                    // Numbers and booleans compare by their text (`12` with "12").
                    other => {
                        let text = other.to_string();
                        text == want
                    }
                }
            }
        };
        if !ok {
            let want = match expected {
                Expected::Value(v) => v.to_string(),
                Expected::Text(t) => format!("\"{}\"", vars.render(t)),
            };
            return Err((
                Outcome::CheckFailed,
                format!("check `{column}`: expected {want}, found {found}"),
            ));
        }
    }
    Ok(())
}

fn cell<'r>(
    rows: &'r Rows,
    wanted: &[String],
    row: usize,
    column: &str,
) -> Result<&'r Value, String> {
    let Some(cells) = rows.kept.get(row) else {
        return Err(format!(
            "no row {row}: the statement returned {} rows",
            rows.count
        ));
    };
    let i = wanted
        .iter()
        .position(|w| w == column)
        .expect("every column read is wanted");
    cells[i].as_ref().map_err(|e| e.clone())
}

/// A single-precision value as the decimal it was written as (0.1, not 0.10000000149…).
fn single(f: f32) -> Value {
    f.to_string()
        .parse::<f64>()
        .map(Value::from)
        .unwrap_or(Value::Null)
}

/// The message for a type rehearse cannot read.
fn unreadable(column: &str, type_name: &str) -> String {
    format!(
        "column `{column}` is {type_name}, which rehearse reads only as text: select it as text (e.g. `{column}::text` in PostgreSQL, `CAST({column} AS CHAR)` in MySQL)"
    )
}

/// A column's value type and name; none when the value is NULL.
fn value_type<R: sqlx::Row>(row: &R, i: usize) -> Result<Option<(String, &str)>, String>
where
    usize: sqlx::ColumnIndex<R>,
{
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(None);
    }
    Ok(Some((
        raw.type_info().name().to_string(),
        row.columns()[i].name(),
    )))
}

/// A PostgreSQL column as JSON.
pub fn decode_pg(row: &sqlx::postgres::PgRow, i: usize) -> Cell {
    let Some((ty, name)) = value_type(row, i)? else {
        return Ok(Value::Null);
    };
    let v = match ty.as_str() {
        "INT2" => row.try_get::<i16, _>(i).map(Value::from),
        "INT4" => row.try_get::<i32, _>(i).map(Value::from),
        "INT8" => row.try_get::<i64, _>(i).map(Value::from),
        "FLOAT4" => row.try_get::<f32, _>(i).map(single),
        "FLOAT8" => row.try_get::<f64, _>(i).map(Value::from),
        "BOOL" => row.try_get::<bool, _>(i).map(Value::from),
        "OID" => row
            .try_get::<sqlx::postgres::types::Oid, _>(i)
            .map(|o| Value::from(o.0)),
        _ => match row.try_get::<String, _>(i) {
            Ok(s) => Ok(Value::from(s)),
            Err(_) => return Err(unreadable(name, &ty)),
        },
    };
    v.map_err(|e| e.to_string())
}

/// A MySQL or MariaDB column as JSON.
pub fn decode_my(row: &sqlx::mysql::MySqlRow, i: usize) -> Cell {
    let Some((ty, name)) = value_type(row, i)? else {
        return Ok(Value::Null);
    };
    let v = match ty.as_str() {
        "BOOLEAN" => row.try_get::<bool, _>(i).map(Value::from),
        t if t.ends_with("UNSIGNED") && t.contains("INT") => {
            row.try_get::<u64, _>(i).map(Value::from)
        }
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" => {
            row.try_get::<i64, _>(i).map(Value::from)
        }
        "FLOAT" => row.try_get::<f32, _>(i).map(single),
        "YEAR" => row.try_get::<u16, _>(i).map(Value::from),
        "DOUBLE" => row.try_get::<f64, _>(i).map(Value::from),
        // Decimals travel as text in MySQL's protocol: read as written, never rounded.
        "DECIMAL" => row.try_get_unchecked::<String, _>(i).map(Value::from),
        _ => match row.try_get::<String, _>(i) {
            Ok(s) => Ok(Value::from(s)),
            Err(_) => return Err(unreadable(name, &ty)),
        },
    };
    v.map_err(|e| e.to_string())
}

/// A SQLite column as JSON (by the value's own type: SQLite columns hold any).
pub fn decode_lite(row: &sqlx::sqlite::SqliteRow, i: usize) -> Cell {
    let Some((ty, name)) = value_type(row, i)? else {
        return Ok(Value::Null);
    };
    let v = match ty.as_str() {
        "INTEGER" => row.try_get_unchecked::<i64, _>(i).map(Value::from),
        "REAL" => row.try_get_unchecked::<f64, _>(i).map(Value::from),
        "BOOLEAN" => row.try_get_unchecked::<bool, _>(i).map(Value::from),
        "TEXT" | "DATE" | "TIME" | "DATETIME" => {
            row.try_get_unchecked::<String, _>(i).map(Value::from)
        }
        _ => return Err(unreadable(name, &ty)),
    };
    v.map_err(|e| e.to_string())
}
