//! The imported scenario as TOML text: written by hand (not serialised) so it reads like a
//! scenario someone wrote, with a header saying where it came from and what to set.

use std::fmt::Write as _;

use super::Options;
use super::calls::Body;
use super::correlate::{Source, Step};

/// The scenario file.
pub fn scenario(
    options: &Options,
    origin: &str,
    steps: &[Step],
    literals: &[(String, String)],
    env: &[String],
    recorded: usize,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `rehearse import har` from {}: {} of its {recorded} requests.",
        one_line(&options.source),
        steps.len()
    );
    out.push_str(
        "# Check the captures and checks, then `rehearse validate` and `rehearse run` it.\n",
    );
    if !env.is_empty() {
        let _ = writeln!(
            out,
            "# Credentials are not in this file; set before running: {}.",
            env.join(", ")
        );
    }
    let _ = writeln!(out, "name = {}", string(&options.name));
    let _ = writeln!(
        out,
        "description = {}",
        string(&format!("Imported from {}.", one_line(&options.source)))
    );
    out.push_str("\n[target]\n");
    let _ = writeln!(
        out,
        "base_url = {}",
        string(&format!("${{REHEARSE_TARGET:-{origin}}}"))
    );
    if !literals.is_empty() {
        out.push_str("\n[vars]                   # recorded text holding `{{`, sent as it is\n");
        for (name, value) in literals {
            // `[vars]` values read `${ENV}`; `$$` keeps a recorded `$` as it is.
            let _ = writeln!(out, "{name} = {}", string(&value.replace('$', "$$")));
        }
    }
    for step in steps {
        out.push_str("\n[[steps]]\n");
        let _ = writeln!(out, "name = {}", string(&step.name));
        if (300..400).contains(&step.status) {
            // The recording shows the redirect and the request after it as two steps.
            out.push_str("follow_redirects = false\n");
        }
        out.push_str("[steps.http]\n");
        if step.method != "GET" {
            let _ = writeln!(out, "method = {}", string(&step.method));
        }
        let _ = writeln!(out, "path = {}", string(&step.path));
        let mut headers: Vec<(String, String)> = step.headers.clone();
        match &step.body {
            Body::Json(v) => {
                headers.retain(|(n, _)| n != "content-type");
                match toml_value(v) {
                    Some(t) => {
                        let _ = writeln!(out, "json = {t}");
                    }
                    // TOML has no null: such a body goes as the recorded text.
                    None => {
                        headers.push(("content-type".into(), "application/json".into()));
                        let _ = writeln!(out, "body = {}", string(&v.to_string()));
                    }
                }
            }
            Body::Form(fields) => {
                headers.retain(|(n, _)| n != "content-type");
                let unique = fields
                    .iter()
                    .enumerate()
                    .all(|(i, (k, _))| !fields[..i].iter().any(|(j, _)| j == k));
                if unique {
                    let items: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| format!("{} = {}", key(k), string(v)))
                        .collect();
                    let _ = writeln!(out, "form = {{ {} }}", items.join(", "));
                } else {
                    headers.push((
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ));
                    let text: Vec<String> = fields
                        .iter()
                        .map(|(k, v)| {
                            let (mut a, mut b) = (String::new(), String::new());
                            crate::scenario::template::percent_encode_into(k, &mut a);
                            if v.contains("{{") {
                                b.push_str(v);
                            } else {
                                crate::scenario::template::percent_encode_into(v, &mut b);
                            }
                            format!("{a}={b}")
                        })
                        .collect();
                    let _ = writeln!(out, "body = {}", string(&text.join("&")));
                }
            }
            Body::Text(mime, text) => {
                if !headers.iter().any(|(n, _)| n == "content-type") && !mime.is_empty() {
                    headers.push(("content-type".into(), mime.clone()));
                }
                let _ = writeln!(out, "body = {}", string(text));
            }
            Body::None | Body::Multipart => {
                if matches!(step.body, Body::Multipart) {
                    headers.retain(|(n, _)| n != "content-type");
                    out.push_str("# multipart = { … }   # the recording has no files: add them\n");
                }
            }
        }
        if !headers.is_empty() {
            // Header values read `${ENV}` too.
            let items: Vec<String> = headers
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), string(&v.replace('$', "$$"))))
                .collect();
            let _ = writeln!(out, "headers = {{ {} }}", items.join(", "));
        }
        if !step.captures.is_empty() {
            out.push_str("[steps.capture]\n");
            for (var, source) in &step.captures {
                let from = match source {
                    Source::Json(path) => format!("{{ json = {} }}", string(path)),
                    Source::Header(h) => format!("{{ header = {} }}", string(h)),
                };
                let _ = writeln!(out, "{} = {from}", key(var));
            }
        }
        out.push_str("[steps.check]\n");
        let _ = writeln!(out, "status = {}", step.status);
    }
    out
}

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        string(k)
    }
}

/// Whether a JSON value can be written as TOML (no null, no number TOML cannot hold).
pub fn has_toml_form(v: &serde_json::Value) -> bool {
    toml_value(v).is_some()
}

/// A JSON value as a TOML inline value; none when it holds a null (TOML has none) or a
/// number TOML cannot hold.
fn toml_value(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                let f = n.as_f64().filter(|f| f.is_finite())?;
                if n.is_u64() {
                    return None;
                }
                let text = format!("{f:?}");
                if text.contains(['.', 'e', 'E']) {
                    text
                } else {
                    format!("{text}.0")
                }
            }
        }
        Value::String(s) => string(s),
        Value::Array(items) => {
            let parts: Option<Vec<String>> = items.iter().map(toml_value).collect();
            format!("[{}]", parts?.join(", "))
        }
        Value::Object(map) => {
            let parts: Option<Vec<String>> = map
                .iter()
                .map(|(k, x)| toml_value(x).map(|t| format!("{} = {t}", key(k))))
                .collect();
            format!("{{ {} }}", parts?.join(", "))
        }
    })
}

/// A file name for a comment: one line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}
