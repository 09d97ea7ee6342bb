//! `[[steps]]`: requests, captures and checks, with templates resolved against what each step can see.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::{Spanned, Value};

use super::build::{Builder, describe, parse_method, scalar_text};
use super::json_path::to_pointer;
use super::plan::*;
use super::raw::*;
use super::template::{Escape, Template};
use super::units::parse_status_pattern;

pub(super) fn build_step(
    b: &mut Builder,
    raw: &Spanned<RawStep>,
    index: usize,
    defaults: Option<(Duration, u64, u32)>,
    databases: &[DatabasePlan],
    declared: &BTreeMap<Spanned<String>, Spanned<RawDatabase>>,
) -> Option<StepPlan> {
    let s = raw.get_ref();
    let before = b.diags.len();
    let name = match &s.name {
        Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().clone(),
        Some(n) => {
            b.error(n.span(), "a step's `name` must not be empty");
            String::new()
        }
        None => {
            b.error_help(
                raw.span(),
                format!("step #{} has no `name`", index + 1),
                "add `name = \"login\"`: reports and thresholds refer to steps by name",
            );
            String::new()
        }
    };
    let action = match (&s.http, &s.sql) {
        (Some(http), None) => build_http(b, http, index).map(StepAction::Http),
        (None, Some(sql)) => {
            super::sql::refuse_http_keys(b, s);
            super::sql::build_sql(b, sql, index, databases, declared).map(StepAction::Sql)
        }
        (Some(_), Some(sql)) => {
            b.error(sql.span(), "a step is either `http` or `sql`, not both");
            None
        }
        (None, None) => {
            b.error_help(
                raw.span(),
                format!("step `{name}` does nothing"),
                "add an `[steps.http]` table with at least a `path`, or a `[steps.sql]` table with a `query`",
            );
            None
        }
    };
    let mut captures = Vec::new();
    for (var, cap) in &s.capture {
        let slot = b
            .captures
            .iter()
            .position(|c| c == var.get_ref())
            .expect("registered before build");
        if let Some(source) = capture_source(b, var, cap, s.sql.is_some()) {
            captures.push(CapturePlan { slot, source });
        }
    }
    let checks = if s.sql.is_some() {
        super::sql::build_sql_checks(b, s.check.as_ref(), index)
    } else {
        build_checks(b, s.check.as_ref(), index)
    };
    let until = s.until.as_ref().and_then(|u| build_until(b, u, index));
    let think = s.think.as_ref().and_then(|t| b.think(t));
    let timeout = match &s.timeout {
        Some(t) => b.duration_in(t, "timeout", true, super::limits::MAX_TIMEOUT),
        None => defaults.map(|d| d.0),
    };
    let max_body = match &s.max_body {
        Some(v) => b.size(v, "max_body"),
        None => defaults.map(|d| d.1),
    };
    let timeout = match (timeout, s.sql.is_some()) {
        // A SQL-only scenario may have no `[target]`: its steps wait the HTTP default.
        (None, true) if s.timeout.is_none() => Some(super::build::DEFAULT_TIMEOUT),
        (t, _) => t,
    };
    let (max_body, max_redirects_default) = if s.sql.is_some() {
        (max_body.or(Some(0)), Some(0))
    } else {
        (max_body, defaults.map(|d| d.2))
    };
    let max_redirects = match &s.follow_redirects {
        Some(v) => b.redirects(v),
        None => max_redirects_default,
    };
    if b.diags.len() > before {
        return None;
    }
    let mut action = action?;
    if let StepAction::Sql(sql) = &mut action {
        (sql.rows_needed, sql.columns) = super::sql::rows_read(&captures, &checks);
    }
    Some(StepPlan {
        name,
        action,
        captures,
        checks,
        think,
        timeout: timeout?,
        max_body: max_body?,
        max_redirects: max_redirects?,
        until,
    })
}

/// Default time between the starts of two polls.
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Default longest wait for a polling condition.
const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(30);
/// Shortest poll interval: a faster loop would be a load test of the status endpoint.
const MIN_POLL_INTERVAL: Duration = Duration::from_millis(1);

fn build_until(b: &mut Builder, raw: &Spanned<RawUntil>, step: usize) -> Option<UntilPlan> {
    let u = raw.get_ref();
    let before = b.diags.len();
    let checks = build_conditions(
        b,
        u.status.as_ref(),
        &u.json,
        u.body_contains.as_ref(),
        step,
        Vec::new(),
    );
    if u.status.is_none() && u.json.is_empty() && u.body_contains.is_none() {
        b.error_help(
            raw.span(),
            "`until` has no condition to wait for",
            "add e.g. `json = { \"$.status\" = \"settled\" }`, `status = 200` or `body_contains = \"done\"`",
        );
    }
    let limits = super::limits::MAX_TIMEOUT;
    let interval = match &u.interval {
        Some(v) => b.duration_in(v, "until.interval", true, limits),
        None => Some(DEFAULT_POLL_INTERVAL),
    };
    let timeout = match &u.timeout {
        Some(v) => b.duration_in(v, "until.timeout", true, limits),
        None => Some(DEFAULT_POLL_TIMEOUT),
    };
    if let (Some(i), Some(v)) = (interval, &u.interval)
        && i < MIN_POLL_INTERVAL
    {
        b.error(v.span(), "`interval` must be at least 1ms");
    }
    if let (Some(i), Some(t)) = (interval, timeout)
        && i > t
    {
        let span = u
            .interval
            .as_ref()
            .or(u.timeout.as_ref())
            .map(|v| v.span())
            .unwrap_or_else(|| raw.span());
        b.error(
            span,
            format!(
                "`interval` ({}) is longer than `timeout` ({}): the step would poll once",
                humantime::format_duration(i),
                humantime::format_duration(t)
            ),
        );
    }
    if b.diags.len() > before {
        return None;
    }
    Some(UntilPlan {
        checks,
        interval: interval?,
        timeout: timeout?,
    })
}

fn build_http(b: &mut Builder, raw: &Spanned<RawHttp>, step: usize) -> Option<HttpRequestPlan> {
    let h = raw.get_ref();
    let method = match &h.method {
        Some(m) => match parse_method(m.get_ref()) {
            Ok(m) => Some(m),
            Err(e) => {
                b.error(m.span(), e);
                None
            }
        },
        None => Some(http::Method::GET),
    };
    let path_text = h.path.get_ref();
    if !path_text.starts_with('/') {
        b.error_help(
            h.path.span(),
            format!("path \"{path_text}\" must start with `/`"),
            "the path is appended to the target's base_url, e.g. path = \"/api/invoices\"",
        );
    }
    let path = b.template(
        path_text,
        h.path.span(),
        Escape::Url,
        Escape::None,
        Some(step),
    );
    let mut query = Vec::new();
    for (k, v) in &h.query {
        let mut name = String::new();
        super::template::percent_encode_into(k.get_ref(), &mut name);
        if let Some(t) = value_template(b, v, Escape::Url, step) {
            query.push((name, t));
        }
    }
    let mut headers = Vec::new();
    for (k, v) in &h.headers {
        let Some(name) = b.header_name(k) else {
            continue;
        };
        let t = b.template(
            v.get_ref(),
            v.span(),
            Escape::None,
            Escape::None,
            Some(step),
        );
        if let Some(lit) = t.as_literal()
            && http::HeaderValue::from_str(lit).is_err()
        {
            b.error(
                v.span(),
                format!("invalid value for header `{}`", k.get_ref()),
            );
        }
        headers.push((name, t));
    }
    let bodies = [
        h.json.as_ref().map(|j| j.span()),
        h.form.as_ref().map(|f| f.span()),
        h.body.as_ref().map(|r| r.span()),
        h.multipart.as_ref().map(|m| m.span()),
    ];
    if bodies.iter().flatten().count() > 1 {
        let span = bodies.iter().flatten().nth(1).cloned().unwrap_or_default();
        b.error(
            span,
            "a request has one body: use only one of `json`, `form`, `body` and `multipart`",
        );
    }
    let body = if let Some(j) = &h.json {
        let mut t = Template::default();
        json_template(b, j.get_ref(), j.span(), step, &mut t);
        BodyPlan::Json(t)
    } else if let Some(f) = &h.form {
        let mut t = Template::default();
        for (i, (k, v)) in f.get_ref().iter().enumerate() {
            if i > 0 {
                t.push_literal("&");
            }
            let mut name = String::new();
            super::template::percent_encode_into(k.get_ref(), &mut name);
            t.push_literal(&name);
            t.push_literal("=");
            if let Some(v) = value_template(b, v, Escape::Url, step) {
                t.append(v);
            }
        }
        BodyPlan::Form(t)
    } else if let Some(r) = &h.body {
        BodyPlan::Raw(b.template(
            r.get_ref(),
            r.span(),
            Escape::None,
            Escape::None,
            Some(step),
        ))
    } else if let Some(m) = &h.multipart {
        if let Some((k, _)) = h
            .headers
            .iter()
            .find(|(k, _)| k.get_ref().eq_ignore_ascii_case("content-type"))
        {
            b.error(
                k.span(),
                "a `multipart` body sets its own content-type (its boundary is new for every request)",
            );
        }
        BodyPlan::Multipart(multipart(b, m.get_ref(), step))
    } else {
        BodyPlan::Empty
    };
    let method = method?;
    Some(HttpRequestPlan {
        display: format!("{method} {path_text}"),
        method,
        path,
        query,
        headers,
        body,
    })
}

/// The parts of a `multipart` table: scalars are text fields, `{ path, type, filename }` files.
fn multipart(
    b: &mut Builder,
    fields: &BTreeMap<Spanned<String>, Spanned<Value>>,
    step: usize,
) -> Vec<PartPlan> {
    let mut parts = Vec::new();
    for (name, value) in fields {
        if name.get_ref().is_empty() || name.get_ref().contains(['"', '\r', '\n']) {
            b.error(
                name.span(),
                format!("invalid multipart field name `{}`", name.get_ref()),
            );
            continue;
        }
        let content = match value.get_ref() {
            Value::Table(t) => {
                let known = ["path", "type", "filename"];
                if let Some(k) = t.keys().find(|k| !known.contains(&k.as_str())) {
                    b.error_help(
                        value.span(),
                        format!("unknown key `{k}` in the file part `{}`", name.get_ref()),
                        "a file part is `{ path = \"receipt.pdf\", type = \"application/pdf\", filename = \"r.pdf\" }`",
                    );
                    continue;
                }
                if let Some(k) = ["path", "type", "filename"]
                    .into_iter()
                    .find(|k| t.get(*k).is_some_and(|v| !v.is_str()))
                {
                    b.error(
                        value.span(),
                        format!(
                            "`{k}` of the file part `{}` must be a string",
                            name.get_ref()
                        ),
                    );
                    continue;
                }
                let text = |k: &str| t.get(k).and_then(Value::as_str).map(str::to_string);
                let Some(path) = text("path") else {
                    b.error(
                        value.span(),
                        format!(
                            "the file part `{}` needs a `path` (a string)",
                            name.get_ref()
                        ),
                    );
                    continue;
                };
                let full = b.base_dir.join(&path);
                let bytes = match super::limits::read_capped(&full, super::limits::MAX_UPLOAD) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        b.error(value.span(), format!("file `{}`: {e}", full.display()));
                        continue;
                    }
                };
                let filename = text("filename").unwrap_or_else(|| {
                    std::path::Path::new(&path)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "file".into())
                });
                let content_type = text("type").unwrap_or_else(|| media_type(&path).into());
                if [&filename, &content_type]
                    .iter()
                    .any(|s| s.contains(['"', '\r', '\n']))
                {
                    b.error(
                        value.span(),
                        "a file part's `filename` and `type` cannot hold quotes or line breaks",
                    );
                    continue;
                }
                PartContent::File {
                    bytes: bytes::Bytes::from(bytes),
                    filename,
                    content_type,
                }
            }
            _ => match value_template(b, value, Escape::None, step) {
                Some(t) => PartContent::Text(t),
                None => continue,
            },
        };
        parts.push(PartPlan {
            name: name.get_ref().clone(),
            content,
        });
    }
    parts
}

/// A media type from a file's extension, for a file part that does not say.
fn media_type(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "json" => "application/json",
        "csv" => "text/csv",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "zip" => "application/zip",
        _ => "application/octet-stream",
    }
}

/// A scalar value (query parameter, form field) as a template whose text is escaped like its variables.
fn value_template(
    b: &mut Builder,
    v: &Spanned<Value>,
    escape: Escape,
    step: usize,
) -> Option<Template> {
    match v.get_ref() {
        Value::String(s) => Some(b.template(s, v.span(), escape, escape, Some(step))),
        other => match scalar_text(other) {
            Some(text) => {
                let mut t = Template::default();
                let mut enc = String::new();
                super::template::percent_encode_into(&text, &mut enc);
                t.push_literal(&enc);
                Some(t)
            }
            None => {
                b.error(
                    v.span(),
                    format!(
                        "expected a string, number or boolean, found {}",
                        describe(other)
                    ),
                );
                None
            }
        },
    }
}

/// Serialises a TOML value as JSON text, compiling templates inside string values.
fn json_template(
    b: &mut Builder,
    v: &Value,
    span: std::ops::Range<usize>,
    step: usize,
    out: &mut Template,
) {
    match v {
        Value::String(s) => {
            out.push_literal("\"");
            let t = b.template(s, span, Escape::JsonString, Escape::JsonString, Some(step));
            out.append(t);
            out.push_literal("\"");
        }
        Value::Integer(i) => out.push_literal(&i.to_string()),
        Value::Float(f) => out.push_literal(
            &serde_json::Number::from_f64(*f)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "null".into()),
        ),
        Value::Boolean(x) => out.push_literal(if *x { "true" } else { "false" }),
        Value::Datetime(d) => {
            out.push_literal(&serde_json::to_string(&d.to_string()).unwrap_or_default())
        }
        Value::Array(items) => {
            out.push_literal("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_literal(",");
                }
                json_template(b, item, span.clone(), step, out);
            }
            out.push_literal("]");
        }
        Value::Table(t) => {
            out.push_literal("{");
            for (i, (k, item)) in t.iter().enumerate() {
                if i > 0 {
                    out.push_literal(",");
                }
                out.push_literal(&serde_json::to_string(k).unwrap_or_default());
                out.push_literal(":");
                json_template(b, item, span.clone(), step, out);
            }
            out.push_literal("}");
        }
    }
}

fn capture_source(
    b: &mut Builder,
    var: &Spanned<String>,
    cap: &Spanned<RawCapture>,
    sql: bool,
) -> Option<CaptureSource> {
    let name = var.get_ref();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with("env.");
    if !valid {
        b.error(
            var.span(),
            format!("invalid capture name `{name}`: use letters, digits, `_` and `-`"),
        );
        return None;
    }
    if b.vars.contains_key(name) {
        b.error(
            var.span(),
            format!("capture `{name}` has the same name as a `[vars]` entry; rename one of them"),
        );
        return None;
    }
    if sql {
        return super::sql::sql_capture(b, name, cap);
    }
    let c = cap.get_ref();
    let sql_keys = [
        c.column.as_ref().map(|v| (v.span(), "column")),
        c.row.as_ref().map(|v| (v.span(), "row")),
        c.row_count.as_ref().map(|v| (v.span(), "row_count")),
    ];
    if let Some((span, key)) = sql_keys.into_iter().flatten().next() {
        b.error(
            span,
            format!("a `{key}` capture reads a `sql` step's rows; this is an `http` step"),
        );
        return None;
    }
    match (&c.json, &c.header, &c.regex, &c.cookie) {
        (None, None, None, Some(cookie)) => {
            if !b.cookies {
                b.error_help(
                    cookie.span(),
                    "a `cookie` capture reads the cookie jar, and `[target] cookies = false` turns it off",
                    "capture the header instead: `{ header = \"set-cookie\" }`",
                );
                return None;
            }
            let n = cookie.get_ref().trim();
            if n.is_empty() || n.contains(['=', ';', ' ']) {
                b.error(cookie.span(), format!("invalid cookie name `{n}`"));
                return None;
            }
            Some(CaptureSource::Cookie(n.to_string()))
        }
        (Some(path), None, None, None) => match to_pointer(path.get_ref()) {
            Ok(pointer) => Some(CaptureSource::Json {
                pointer,
                display: path.get_ref().clone(),
            }),
            Err(e) => {
                b.error(path.span(), e);
                None
            }
        },
        (None, Some(h), None, None) => b.header_name(h).map(CaptureSource::Header),
        (None, None, Some(r), None) => match regex::Regex::new(r.get_ref()) {
            Ok(re) => Some(CaptureSource::Regex(re)),
            Err(e) => {
                let detail = e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                b.error(r.span(), format!("invalid regex: {detail}"));
                None
            }
        },
        _ => {
            b.error_help(cap.span(), format!("capture `{name}` needs exactly one source"), "write e.g. `token = { json = \"$.token\" }`, `{ header = \"location\" }`, `{ regex = 'id=(\\w+)' }` or `{ cookie = \"sid\" }`");
            None
        }
    }
}

fn build_checks(b: &mut Builder, raw: Option<&Spanned<RawCheck>>, step: usize) -> CheckPlan {
    let default = vec![200..=299];
    match raw {
        Some(raw) => {
            let c = raw.get_ref();
            let sql_keys = [
                c.rows.as_ref().map(|v| (v.span(), "rows")),
                c.columns.keys().next().map(|k| (k.span(), "columns")),
            ];
            for (span, key) in sql_keys.into_iter().flatten() {
                b.error(span, format!("`check.{key}` is for `sql` steps"));
            }
            build_conditions(
                b,
                c.status.as_ref(),
                &c.json,
                c.body_contains.as_ref(),
                step,
                default,
            )
        }
        None => CheckPlan {
            status: default,
            json: Vec::new(),
            body_contains: Vec::new(),
            rows: None,
            columns: Vec::new(),
        },
    }
}

/// The conditions of `[steps.check]` or `[steps.until]`; `status` is `default_status` unless given.
fn build_conditions(
    b: &mut Builder,
    status: Option<&Spanned<Value>>,
    json: &BTreeMap<Spanned<String>, Spanned<Value>>,
    body_contains: Option<&Spanned<Value>>,
    step: usize,
    default_status: Vec<std::ops::RangeInclusive<u16>>,
) -> CheckPlan {
    let mut plan = CheckPlan {
        status: default_status,
        json: Vec::new(),
        body_contains: Vec::new(),
        rows: None,
        columns: Vec::new(),
    };
    if let Some(status) = status {
        let patterns: Vec<Value> = match status.get_ref() {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        let mut ranges = Vec::new();
        for p in &patterns {
            let text = match p {
                Value::Integer(i) => i.to_string(),
                Value::String(s) => s.clone(),
                other => {
                    b.error(
                        status.span(),
                        format!(
                            "expected a status such as 200, \"2xx\" or \"200..299\", found {}",
                            describe(other)
                        ),
                    );
                    continue;
                }
            };
            match parse_status_pattern(&text) {
                Ok(r) => ranges.push(r),
                Err(e) => b.error(status.span(), e),
            }
        }
        if ranges.is_empty() && !patterns.is_empty() {
            return plan;
        }
        if patterns.is_empty() {
            b.error(status.span(), "`status` is an empty list");
        }
        plan.status = ranges;
    }
    for (path, expected) in json {
        let pointer = match to_pointer(path.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                b.error(path.span(), e);
                continue;
            }
        };
        let expected = match expected.get_ref() {
            Value::String(s) => Expected::Text(b.template(
                s,
                expected.span(),
                Escape::None,
                Escape::None,
                Some(step),
            )),
            other => match serde_json::to_value(other) {
                Ok(v) => Expected::Value(v),
                Err(e) => {
                    b.error(
                        expected.span(),
                        format!("cannot compare with this value: {e}"),
                    );
                    continue;
                }
            },
        };
        plan.json.push(JsonCheck {
            pointer,
            display: path.get_ref().clone(),
            expected,
        });
    }
    if let Some(bc) = body_contains {
        let texts: Vec<Value> = match bc.get_ref() {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for t in texts {
            match t {
                Value::String(s) => {
                    let t = b.template(&s, bc.span(), Escape::None, Escape::None, Some(step));
                    plan.body_contains.push(t);
                }
                other => b.error(
                    bc.span(),
                    format!(
                        "`body_contains` takes a string or a list of strings, found {}",
                        describe(&other)
                    ),
                ),
            }
        }
    }
    plan
}
