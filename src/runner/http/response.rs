//! Judges a response: status, checks and captures, in that order, into an outcome.

use http::response::Parts;

use super::body::ReadBody;
use crate::model::Outcome;
use crate::runner::vars::IterationVars;
use crate::scenario::{CaptureSource, CheckPlan, Expected, StepPlan};

/// What a polling step's response showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// The condition held: captures were taken, the step is done.
    Met,
    /// Not yet: why, for the message if the wait times out.
    Pending(String),
}

/// Evaluates a response against the step; on failure returns the outcome and why.
pub fn judge(
    step: &StepPlan,
    parts: &Parts,
    read: &ReadBody,
    vars: &mut IterationVars<'_>,
) -> Result<(), super::Failure> {
    match judge_poll(step, parts, read, vars)? {
        Poll::Met => Ok(()),
        Poll::Pending(why) => Err((Outcome::PollTimeout, why)),
    }
}

/// Evaluates a response against the step's checks, then its polling condition (if any),
/// then (once the condition holds) its captures. A failed check fails the step whatever the
/// condition; a condition not yet met is no failure.
pub fn judge_poll(
    step: &StepPlan,
    parts: &Parts,
    read: &ReadBody,
    vars: &mut IterationVars<'_>,
) -> Result<Poll, super::Failure> {
    let status = parts.status.as_u16();
    if !step.checks.status.iter().any(|r| r.contains(&status)) {
        let outcome = match status {
            300..=399 => Outcome::Http3xx,
            400..=499 => Outcome::Http4xx,
            500..=599 => Outcome::Http5xx,
            _ => Outcome::CheckFailed,
        };
        return Err((
            outcome,
            format!("status {status}: {}", excerpt(read.excerpt())),
        ));
    }
    let until = step.until.as_ref().map(|u| &u.checks);
    if let Some(why) = read.truncated {
        // Checks and captures over part of a body would judge something the server did
        // not send; the step fails and says why.
        let outcome = if step.checks.needs_body() || until.is_some_and(|u| u.needs_body()) {
            Outcome::CheckFailed
        } else {
            Outcome::CaptureFailed
        };
        return Err((outcome, why.describe()));
    }
    let body = &read.bytes;
    let needs_json = !step.checks.json.is_empty()
        || until.is_some_and(|u| !u.json.is_empty())
        || step
            .captures
            .iter()
            .any(|c| matches!(c.source, CaptureSource::Json { .. }));
    let json = if needs_json {
        serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string())
    } else {
        Ok(serde_json::Value::Null)
    };
    conditions(&step.checks, status, body, &json, vars)?;
    if let Some(until) = until
        && let Err((_, why)) = conditions(until, status, body, &json, vars)
    {
        return Ok(Poll::Pending(why));
    }
    captures(step, parts, body, &json, vars)?;
    Ok(Poll::Met)
}

/// Whether a response meets `checks`' JSON and body conditions, and its status unless the
/// list is empty (a polling condition's default: the step's own checks judged the status).
fn conditions(
    checks: &CheckPlan,
    status: u16,
    body: &[u8],
    json: &Result<serde_json::Value, String>,
    vars: &mut IterationVars<'_>,
) -> Result<(), super::Failure> {
    if !checks.status.is_empty() && !checks.status.iter().any(|r| r.contains(&status)) {
        return Err((Outcome::CheckFailed, format!("status was {status}")));
    }
    for check in &checks.json {
        let doc = json.as_ref().map_err(|e| {
            (
                Outcome::CheckFailed,
                format!("check `{}`: the body is not JSON ({e})", check.display),
            )
        })?;
        let found = doc.pointer(&check.pointer);
        let ok = match (&check.expected, found) {
            (_, None) => false,
            (Expected::Value(v), Some(f)) => values_equal(v, f),
            (Expected::Text(t), Some(f)) => {
                let want = vars.render(t);
                match f {
                    serde_json::Value::String(s) => *s == want,
                    // Numbers and booleans compare by their JSON text.
                    other => {
                        let text = other.to_string();
                        text == want
                    }
                }
            }
        };
        if !ok {
            let want = match &check.expected {
                Expected::Value(v) => v.to_string(),
                Expected::Text(t) => format!("\"{}\"", vars.render(t)),
            };
            let got = found
                .map(|f| f.to_string())
                .unwrap_or_else(|| "nothing".into());
            return Err((
                Outcome::CheckFailed,
                format!("check `{}`: expected {want}, found {got}", check.display),
            ));
        }
    }
    if !checks.body_contains.is_empty() {
        let text = String::from_utf8_lossy(body);
        for t in &checks.body_contains {
            let needle = vars.render(t);
            if !text.contains(&needle) {
                return Err((
                    Outcome::CheckFailed,
                    format!("body does not contain \"{needle}\""),
                ));
            }
        }
    }
    Ok(())
}

/// Takes the step's captures into `vars`; fails on the first one that finds nothing.
fn captures(
    step: &StepPlan,
    parts: &Parts,
    body: &[u8],
    json: &Result<serde_json::Value, String>,
    vars: &mut IterationVars<'_>,
) -> Result<(), super::Failure> {
    for capture in &step.captures {
        let value = match &capture.source {
            CaptureSource::Json { pointer, display } => {
                let doc = json.as_ref().map_err(|e| {
                    (
                        Outcome::CaptureFailed,
                        format!("capture from `{display}`: the body is not JSON ({e})"),
                    )
                })?;
                match doc.pointer(pointer) {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(serde_json::Value::Null) | None => None,
                    Some(other) => Some(other.to_string()),
                }
            }
            CaptureSource::Header(name) => parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            CaptureSource::Cookie(name) => vars
                .step_cookies
                .contains(name)
                .then(|| vars.cookies.get(name, std::time::SystemTime::now()))
                .flatten()
                .map(str::to_string),
            CaptureSource::Regex(re) => {
                let text = String::from_utf8_lossy(body);
                re.captures(&text).map(|c| {
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map(|m| m.as_str().to_string())
                        .unwrap_or_default()
                })
            }
            CaptureSource::Column { .. } | CaptureSource::RowCount => {
                unreachable!("validation allows row captures only on SQL steps")
            }
        };
        match value {
            Some(v) => vars.captures[capture.slot] = Some(v),
            None => {
                let what = match &capture.source {
                    CaptureSource::Json { display, .. } => {
                        format!("`{display}` not found in the body")
                    }
                    CaptureSource::Header(h) => format!("no `{h}` header"),
                    CaptureSource::Regex(re) => format!("regex `{re}` did not match"),
                    CaptureSource::Cookie(c) => format!("no cookie `{c}` set by this step"),
                    CaptureSource::Column { .. } | CaptureSource::RowCount => {
                        unreachable!("row captures are only on SQL steps")
                    }
                };
                return Err((Outcome::CaptureFailed, format!("capture: {what}")));
            }
        }
    }
    Ok(())
}

/// Integers and floats compare by value (TOML `12` equals JSON `12.0`).
pub(crate) fn values_equal(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

/// The start of a body, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(empty body)".into()
    } else {
        text.replace('\n', " ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Overrides, SourceFile, parse};

    type Judged = (
        Result<(), crate::runner::http::Failure>,
        Vec<Option<String>>,
    );

    fn judge_one(step: &str, status: u16, headers: &[(&str, &str)], body: &str) -> Judged {
        let text = format!(
            "name = \"r\"\n[target]\nbase_url = \"http://h\"\n[[steps]]\nname = \"s\"\nhttp = {{ path = \"/\" }}\n{step}"
        );
        let plan = parse(
            &SourceFile::new("r.toml", text),
            &Overrides::default(),
            &|_| None,
        )
        .unwrap();
        let mut resp = http::Response::builder().status(status);
        for (k, v) in headers {
            resp = resp.header(*k, *v);
        }
        let (parts, ()) = resp.body(()).unwrap().into_parts();
        let mut vars = IterationVars::new(None, 0, plan.captures.len(), 0, 1, 1);
        let r = judge(
            &plan.steps[0],
            &parts,
            &ReadBody::whole(bytes::Bytes::from(body.to_string())),
            &mut vars,
        );
        (r, vars.captures)
    }

    #[test]
    fn captures_read_json_headers_and_regexes() {
        let (r, caps) = judge_one(
            "capture = { id = { json = \"$.items[1].id\" }, n = { json = \"/count\" }, loc = { header = \"location\" }, code = { regex = 'code=(\\w+)' }, all = { regex = 'c..e' } }",
            201,
            &[("location", "/receipts/9")],
            r#"{"items": [{"id": "a"}, {"id": "b"}], "count": 2, "note": "code=XY12"}"#,
        );
        assert_eq!(r, Ok(()));
        // A step's captures are a TOML table, so their slots come in name order: all, code, id, loc, n.
        let caps: Vec<&str> = caps.iter().map(|c| c.as_deref().unwrap()).collect();
        assert_eq!(caps, ["code", "XY12", "b", "/receipts/9", "2"]);
    }

    #[test]
    fn failures_are_classified_with_a_reason() {
        let (r, _) = judge_one("", 503, &[], "busy");
        assert_eq!(r, Err((Outcome::Http5xx, "status 503: busy".into())));
        let (r, _) = judge_one("", 302, &[], "");
        assert_eq!(r.unwrap_err().0, Outcome::Http3xx);
        let (r, _) = judge_one("check = { status = 201 }", 200, &[], "");
        assert_eq!(r.unwrap_err().0, Outcome::CheckFailed);
        let (r, _) = judge_one("check = { status = 404 }", 404, &[], "");
        assert_eq!(r, Ok(()), "an expected 404 is a success");
        let (r, _) = judge_one(
            "check = { json = { \"$.n\" = 2 } }",
            200,
            &[],
            r#"{"n": 2.0}"#,
        );
        assert_eq!(r, Ok(()), "numbers compare by value");
        let (r, _) = judge_one(
            "check = { json = { \"$.n\" = \"2\" } }",
            200,
            &[],
            r#"{"n": 2}"#,
        );
        assert_eq!(r, Ok(()), "a template string compares with a number's text");
        let (r, _) = judge_one(
            "capture = { x = { json = \"$.x\" } }",
            200,
            &[],
            "<html>not json</html>",
        );
        let (outcome, why) = r.unwrap_err();
        assert_eq!(outcome, Outcome::CaptureFailed);
        assert!(why.contains("not JSON"), "{why}");
        let (r, _) = judge_one("capture = { x = { header = \"etag\" } }", 200, &[], "");
        assert_eq!(
            r.unwrap_err(),
            (Outcome::CaptureFailed, "capture: no `etag` header".into())
        );
    }
}
