//! Correlation: a value a later request sends that an earlier response returned (a token, an
//! id, a CSRF value) becomes a capture on the step that received it and a `{{ var }}` where it
//! is sent. Credentials the recording cannot explain become `{{ env.HAR_… }}` references, and
//! values that look generated but appear in no earlier response are reported where they are.
//! The latest response holding a value wins, and ties go to the first place in it, so the
//! same recording always gives the same scenario.

use super::calls::{Body, Call};

/// Where a capture reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A JSON path into the response body (`$.invoices[0].id`).
    Json(String),
    /// A response header.
    Header(String),
}

/// One step of the imported scenario: a call with its values templated.
#[derive(Debug, Clone)]
pub struct Step {
    /// The step's name.
    pub name: String,
    /// Method.
    pub method: String,
    /// Path and query, templated.
    pub path: String,
    /// Headers, templated.
    pub headers: Vec<(String, String)>,
    /// The body, its strings templated.
    pub body: Body,
    /// The recorded status, checked on replay.
    pub status: u16,
    /// Captures this step's response feeds to later steps: variable name and source.
    pub captures: Vec<(String, Source)>,
    /// `HAR_…` variables this step reads.
    pub env: Vec<String>,
    /// Set-Cookie names its response set (the cookie jar carries them on).
    set_cookies: Vec<String>,
}

/// A value an earlier response returned.
struct Known {
    value: String,
    step: usize,
    source: Source,
    /// The variable, once a request used it.
    var: Option<String>,
}

/// Whether a value looks generated (an id, a token) rather than chosen (`open`, `5`, `en`,
/// `application/json`): only such values are correlated, or every `status=open` would become
/// a capture. Generated values carry a digit; a short number (a page size) is a choice.
fn looks_dynamic(v: &str) -> bool {
    let v = v.trim();
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    digits > 0 && v.len() >= 3 && !(digits == v.len() && v.len() <= 3)
}

/// Names of fields that hold secrets, matched case-insensitively in body and query keys.
fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    [
        "password",
        "passwd",
        "pwd",
        "secret",
        "pin",
        "otp",
        "apikey",
        "clientsecret",
        "accesstoken",
        "refreshtoken",
        "token",
    ]
    .iter()
    .any(|s| n == *s || n.ends_with(s))
}

/// An environment variable name for a header or field: `HAR_` and its name in capitals.
fn env_name(name: &str) -> String {
    let mut out = String::from("HAR_");
    for c in name.chars() {
        out.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    out
}

/// The calls as steps, correlated, and the `[vars]` that carry recorded text holding `{{`
/// (which a template would read as a reference).
pub fn steps(calls: &[Call], warnings: &mut Vec<String>) -> (Vec<Step>, Vec<(String, String)>) {
    let mut literals: Vec<(String, String)> = Vec::new();
    let mut known: Vec<Known> = Vec::new();
    let mut vars: Vec<String> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut steps: Vec<Step> = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let mut cx = Cx {
            known: &mut known,
            vars: &mut vars,
            captures: Vec::new(),
            env: Vec::new(),
            warnings,
            literals: &mut literals,
            at: format!("{} {}", call.method, call.path),
        };
        // Path segments, then the query, the headers and the body, in that order.
        let mut path = String::new();
        for segment in call.path.split('/').skip(1) {
            path.push('/');
            let decoded = crate::scenario::template::percent_decode(segment);
            match cx.value(&decoded, "path segment") {
                Some(t) => path.push_str(&t),
                // Braces a lenient recorder kept raw go percent-encoded, as a browser sends
                // them, so no template reads them as a reference.
                None => path.push_str(&segment.replace('{', "%7B").replace('}', "%7D")),
            }
        }
        if path.is_empty() {
            path.push('/');
        }
        for (n, (k, v)) in call.query.iter().enumerate() {
            path.push(if n == 0 { '?' } else { '&' });
            let mut key = String::new();
            crate::scenario::template::percent_encode_into(k, &mut key);
            path.push_str(&key);
            path.push('=');
            let templated = if is_secret_name(k) && !v.is_empty() {
                cx.correlated(v).unwrap_or_else(|| cx.secret(k))
            } else {
                cx.value(v, &format!("query `{k}`")).unwrap_or_else(|| {
                    let mut enc = String::new();
                    crate::scenario::template::percent_encode_into(v, &mut enc);
                    enc
                })
            };
            path.push_str(&templated);
        }
        let earlier_cookies: Vec<&str> = steps
            .iter()
            .flat_map(|s| s.set_cookies.iter().map(String::as_str))
            .collect();
        let mut headers = Vec::new();
        for (name, value) in &call.headers {
            match name.as_str() {
                "cookie" => {
                    // Cookies an earlier response set travel in the jar; any other is a
                    // credential from before the recording began.
                    let foreign = value.split(';').any(|c| {
                        let n = c.split('=').next().unwrap_or("").trim();
                        !n.is_empty() && !earlier_cookies.contains(&n)
                    });
                    if foreign {
                        let t = cx.secret("cookie");
                        cx.warnings.push(format!(
                            "{}: sends cookies no recorded response set; they come from ${} (this step's own Cookie header replaces the jar's)",
                            cx.at,
                            env_name("cookie")
                        ));
                        headers.push((name.clone(), t));
                    }
                }
                "authorization" => {
                    let (scheme, credential) = match value.split_once(' ') {
                        Some((s, c)) => (format!("{s} "), c.trim().to_string()),
                        None => (String::new(), value.clone()),
                    };
                    let t = match cx.correlated(&credential) {
                        Some(v) => format!("{}{v}", cx.literal(&scheme)),
                        None => cx.secret("authorization"),
                    };
                    headers.push((name.clone(), t));
                }
                _ => {
                    let t = if is_secret_name(name) {
                        cx.correlated(value).unwrap_or_else(|| cx.secret(name))
                    } else {
                        match cx.value(value, &format!("header `{name}`")) {
                            Some(t) => t,
                            None => cx.literal(value),
                        }
                    };
                    headers.push((name.clone(), t));
                }
            }
        }
        let body = match &call.body {
            Body::Json(v) => {
                let templated = cx.json(v, None);
                if super::emit::has_toml_form(&templated) {
                    Body::Json(templated)
                } else if keys_hold_braces(v) {
                    // Sent as recorded text, whole: a key holding `{{` cannot be templated.
                    cx.warnings.push(format!(
                        "{}: a JSON body TOML cannot hold (a null, or a number out of range) with `{{{{` in a key: sent exactly as recorded, without correlation",
                        cx.at
                    ));
                    Body::Text("application/json".into(), cx.literal(&v.to_string()))
                } else {
                    Body::Text("application/json".into(), templated.to_string())
                }
            }
            Body::Form(fields) => Body::Form(
                fields
                    .iter()
                    .map(|(k, v)| {
                        let t = if is_secret_name(k) && !v.is_empty() {
                            cx.correlated(v).unwrap_or_else(|| cx.secret(k))
                        } else {
                            match cx.value(v, &format!("form field `{k}`")) {
                                Some(t) => t,
                                None => cx.literal(v),
                            }
                        };
                        (k.clone(), t)
                    })
                    .collect(),
            ),
            Body::Text(mime, text) => Body::Text(mime.clone(), cx.literal(text)),
            other => other.clone(),
        };
        let (captures, env) = (cx.captures, cx.env);
        let name = unique(&mut names, slug(&call.method, &call.path));
        for (var, source) in captures {
            let step: &mut Step = &mut steps[source.0];
            step.captures.push((var, source.1));
        }
        steps.push(Step {
            name,
            method: call.method.clone(),
            path,
            headers,
            body,
            status: call.status,
            captures: Vec::new(),
            env,
            set_cookies: call
                .response_headers
                .iter()
                .filter(|(n, _)| n == "set-cookie")
                .filter_map(|(_, v)| v.split('=').next().map(|n| n.trim().to_string()))
                .collect(),
        });
        learn(&mut known, i, call);
    }
    (steps, literals)
}

/// What one request's values are being templated against.
struct Cx<'a> {
    known: &'a mut Vec<Known>,
    vars: &'a mut Vec<String>,
    /// New captures: (step index, source) by variable.
    captures: Vec<(String, (usize, Source))>,
    env: Vec<String>,
    warnings: &'a mut Vec<String>,
    literals: &'a mut Vec<(String, String)>,
    at: String,
}

impl Cx<'_> {
    /// Recorded text as a template that sends it unchanged: as is, or through a `[vars]`
    /// entry when it holds `{{`.
    fn literal(&mut self, text: &str) -> String {
        if !text.contains("{{") {
            return text.to_string();
        }
        let name = format!("har_text_{}", self.literals.len() + 1);
        self.literals.push((name.clone(), text.to_string()));
        format!("{{{{ {name} }}}}")
    }

    /// `{{ var }}` for a value an earlier response returned, else none.
    fn correlated(&mut self, value: &str) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        // A value already captured keeps its variable; else the latest response holding it.
        let at = self
            .known
            .iter()
            .position(|k| k.value == value && k.var.is_some())
            .or_else(|| self.known.iter().rposition(|k| k.value == value))?;
        let k = &mut self.known[at];
        let var = match &k.var {
            Some(v) => v.clone(),
            None => {
                let var = unique(self.vars, var_name(&k.source));
                k.var = Some(var.clone());
                self.captures
                    .push((var.clone(), (k.step, k.source.clone())));
                var
            }
        };
        Some(format!("{{{{ {var} }}}}"))
    }

    /// A correlated value, or none; a generated-looking value no response explains is
    /// reported, with where it is sent.
    fn value(&mut self, value: &str, place: &str) -> Option<String> {
        if !looks_dynamic(value) {
            return None;
        }
        let found = self.correlated(value);
        if found.is_none() {
            let shown: String = value.chars().take(40).collect();
            self.warnings.push(format!(
                "{}: {place} `{shown}` looks generated, but no earlier response returned it; kept as recorded",
                self.at
            ));
        }
        found
    }

    /// `{{ env.HAR_NAME }}` for a credential, never its value.
    fn secret(&mut self, name: &str) -> String {
        let env = env_name(name);
        if !self.env.contains(&env) {
            self.env.push(env.clone());
        }
        format!("{{{{ env.{env} }}}}")
    }

    /// A JSON body with its strings templated; `key` is the field a value sits in.
    fn json(&mut self, v: &serde_json::Value, key: Option<&str>) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => {
                let t = if key.is_some_and(is_secret_name) && !s.is_empty() {
                    self.correlated(s)
                        .unwrap_or_else(|| self.secret(key.unwrap_or("secret")))
                } else {
                    let place = format!("JSON field `{}`", key.unwrap_or("(array item)"));
                    match self.value(s, &place) {
                        Some(t) => t,
                        None => self.literal(s),
                    }
                };
                Value::String(t)
            }
            Value::Array(items) => Value::Array(items.iter().map(|x| self.json(x, key)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, x)| (k.clone(), self.json(x, Some(k))))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// Whether any object key in `v` holds `{{`.
fn keys_hold_braces(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Array(items) => items.iter().any(keys_hold_braces),
        serde_json::Value::Object(map) => map
            .iter()
            .any(|(k, x)| k.contains("{{") || keys_hold_braces(x)),
        _ => false,
    }
}

/// Everything a response returned that a later request could send back: its JSON strings and
/// numbers, and its headers other than cookies (the jar carries those).
fn learn(known: &mut Vec<Known>, step: usize, call: &Call) {
    if let Some(json) = &call.response_json {
        let mut found = Vec::new();
        walk(json, "$".to_string(), &mut found);
        for (path, value) in found {
            if looks_dynamic(&value) {
                known.push(Known {
                    value,
                    step,
                    source: Source::Json(path),
                    var: None,
                });
            }
        }
    }
    for (name, value) in &call.response_headers {
        // An application's own headers (`x-csrf-token`, `x-request-id`) and where a redirect
        // goes; the protocol's (dates, lengths, caching) and cookies (the jar's) are not.
        let own = name.starts_with("x-") || name.contains("csrf") || name == "location";
        if own && looks_dynamic(value) {
            known.push(Known {
                value: value.clone(),
                step,
                source: Source::Header(name.clone()),
                var: None,
            });
        }
    }
}

/// Every string and number leaf with its JSON path, first to last.
fn walk(v: &serde_json::Value, path: String, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    match v {
        Value::String(s) => out.push((path, s.clone())),
        Value::Number(n) => out.push((path, n.to_string())),
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                walk(x, format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, x) in map {
                let simple =
                    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                let next = if simple {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\'', "\\'"))
                };
                walk(x, next, out);
            }
        }
        _ => {}
    }
}

/// A variable name from where the value came: `$.token` → `token`, `$.invoices[0].id` →
/// `invoice_id`, header `x-csrf-token` → `x_csrf_token`.
fn var_name(source: &Source) -> String {
    let raw = match source {
        Source::Header(h) => h.clone(),
        Source::Json(path) => {
            let keys: Vec<&str> = path
                .split(['.', '['])
                .map(|k| k.trim_end_matches(']').trim_matches('\''))
                .filter(|k| !k.is_empty() && k != &"$" && !k.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            match keys.as_slice() {
                [.., parent, "id"] => format!("{}_id", parent.strip_suffix('s').unwrap_or(parent)),
                [.., last] => last.to_string(),
                [] => "value".into(),
            }
        }
    };
    let clean: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if clean.is_empty() || clean.starts_with(|c: char| c.is_ascii_digit()) {
        format!("v_{clean}")
    } else {
        clean
    }
}

/// `name`, or `name_2`, `name_3`… (`name-2` for step names) when taken; remembered as taken.
fn unique(taken: &mut Vec<String>, name: String) -> String {
    let sep = if name.contains('-') || taken.iter().any(|t| t.contains('-')) {
        '-'
    } else {
        '_'
    };
    let mut candidate = name.clone();
    let mut n = 2;
    while taken.contains(&candidate) {
        candidate = format!("{name}{sep}{n}");
        n += 1;
    }
    taken.push(candidate.clone());
    candidate
}

/// A step name from the request: `POST /api/invoices/inv_7/pay` → `post-api-invoices-id-pay`.
fn slug(method: &str, path: &str) -> String {
    let mut parts = vec![method.to_ascii_lowercase()];
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        let decoded = crate::scenario::template::percent_decode(segment);
        if looks_dynamic(&decoded) {
            parts.push("id".into());
        } else {
            let s: String = decoded
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect();
            let s = s.trim_matches('-').to_string();
            if !s.is_empty() {
                parts.push(s);
            }
        }
    }
    let mut name = parts.join("-");
    name.truncate(60);
    name
}
