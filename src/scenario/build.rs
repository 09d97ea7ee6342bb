//! Validation: turns the raw TOML model into a [`Plan`], collecting every problem with its location.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, Method};
use toml::{Spanned, Value};

use super::Overrides;
use super::diagnostic::{Diagnostic, SourceFile};
use super::env::interpolate;
use super::load::build_load;
use super::plan::*;
use super::raw::*;
use super::steps::build_step;
use super::target::build_target;
use super::template::{Builtin, Escape, Piece, Template, VarRef, parse};
use super::units::{Think, parse_duration, parse_think};

/// Default per-request timeout when neither the target nor the step sets one.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds one plan, accumulating diagnostics instead of stopping at the first.
pub(super) struct Builder<'a> {
    pub source: &'a SourceFile,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub diags: Vec<Diagnostic>,
    /// Static variables (`[vars]`), already interpolated.
    pub vars: BTreeMap<String, String>,
    /// Feeder column names.
    pub columns: Vec<String>,
    /// Capture slot names, in order of first definition.
    pub captures: Vec<String>,
    /// For each capture slot, the index of the first step that defines it.
    pub captured_by: Vec<usize>,
    /// Step names, for messages.
    pub step_names: Vec<String>,
    /// Secret values met so far (environment values outside `public_env`, URL credentials).
    pub secrets: super::secrets::Secrets,
    /// `public_env`: environment variables whose values are not secret.
    pub public_env: Vec<String>,
    /// The `[data]` file could not be read, so its columns are unknown: references that
    /// might name one are not reported as undefined (the data error is the one to fix).
    pub data_failed: bool,
    /// Cookie names templates read, by slot.
    pub cookie_names: Vec<String>,
    /// Whether `[target] cookies` is on (a `{{ cookie.NAME }}` needs it).
    pub cookies: bool,
    /// The scenario file's folder: files it names are relative to it.
    pub base_dir: PathBuf,
}

impl<'a> Builder<'a> {
    /// A builder for one file, with nothing found yet.
    pub fn new(
        source: &'a SourceFile,
        env: &'a dyn Fn(&str) -> Option<String>,
        public_env: Vec<String>,
    ) -> Self {
        Builder {
            source,
            env,
            diags: Vec::new(),
            vars: BTreeMap::new(),
            columns: Vec::new(),
            captures: Vec::new(),
            captured_by: Vec::new(),
            step_names: Vec::new(),
            data_failed: false,
            cookie_names: Vec::new(),
            cookies: true,
            base_dir: PathBuf::from("."),
            secrets: Default::default(),
            public_env,
        }
    }

    /// Records a problem at a span.
    pub fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.diags.push(Diagnostic::at(self.source, span, message));
    }

    /// Records a problem with a hint.
    pub fn error_help(
        &mut self,
        span: Range<usize>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags
            .push(Diagnostic::at(self.source, span, message).with_help(help));
    }

    /// Parses a duration value, reporting a located error.
    pub fn duration(&mut self, v: &Spanned<Value>) -> Option<Duration> {
        match v.get_ref() {
            Value::String(s) => match parse_duration(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.error(v.span(), e);
                    None
                }
            },
            other => {
                self.error(
                    v.span(),
                    format!(
                        "expected a duration string such as \"30s\" or \"500ms\", found {}",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    /// `follow_redirects`: `true` (the default limit), `false` (none) or the most hops.
    pub fn redirects(&mut self, v: &Spanned<Value>) -> Option<u32> {
        let max = super::limits::MAX_REDIRECTS;
        match v.get_ref() {
            Value::Boolean(true) => Some(super::limits::DEFAULT_REDIRECTS),
            Value::Boolean(false) => Some(0),
            Value::Integer(n) if (0..=max as i64).contains(n) => Some(*n as u32),
            other => {
                self.error(
                    v.span(),
                    format!(
                        "`follow_redirects` is true, false or a number of hops from 0 to {max}, not {}",
                        describe(other)
                    ),
                );
                None
            }
        }
    }

    /// Parses a duration and checks it against its documented range (see [`super::limits`]).
    pub fn duration_in(
        &mut self,
        v: &Spanned<Value>,
        name: &str,
        exclusive_zero: bool,
        max: Duration,
    ) -> Option<Duration> {
        let d = self.duration(v)?;
        super::limits::check_duration(name, d, exclusive_zero, max)
            .map_err(|e| self.error(v.span(), e))
            .ok()
    }

    /// Parses a size (`max_body`) within its documented range.
    pub fn size(&mut self, v: &Spanned<Value>, name: &str) -> Option<u64> {
        let parsed = match v.get_ref() {
            Value::Integer(i) if *i >= 0 => Ok(*i as u64),
            Value::String(s) => super::units::parse_size(s),
            other => Err(format!(
                "expected a size such as \"1MiB\" or a number of bytes, found {}",
                describe(other)
            )),
        };
        let max = super::limits::MAX_BODY;
        match parsed {
            Ok(n) if (1..=max).contains(&n) => Some(n),
            Ok(n) => {
                self.error(
                    v.span(),
                    format!("`{name}` must be between 1 B and 256 MiB, found {n} bytes"),
                );
                None
            }
            Err(e) => {
                self.error(v.span(), e);
                None
            }
        }
    }

    /// Parses a think time (`"1s"` or `"500ms..2s"`) within its documented range.
    pub fn think(&mut self, v: &Spanned<Value>) -> Option<Think> {
        let parsed = match v.get_ref() {
            Value::String(s) => parse_think(s),
            other => Err(format!(
                "expected a think time such as \"1s\" or \"500ms..2s\", found {}",
                describe(other)
            )),
        };
        let longest = match parsed {
            Ok(Think::Fixed(d)) | Ok(Think::Uniform(_, d)) => d,
            Err(e) => {
                self.error(v.span(), e);
                return None;
            }
        };
        super::limits::check_duration("think", longest, false, super::limits::MAX_THINK)
            .map_err(|e| self.error(v.span(), e))
            .ok()?;
        parsed.ok()
    }

    /// Compiles `{{ var }}` references in `text` (found at `span`) for step `step` (None: no step).
    pub fn template(
        &mut self,
        text: &str,
        span: Range<usize>,
        escape: Escape,
        literal_escape: Escape,
        step: Option<usize>,
    ) -> Template {
        let mut t = Template::default();
        let pieces = match parse(text) {
            Ok(p) => p,
            Err((offset, message)) => {
                let needle: String = text[offset..].chars().take(8).collect();
                let at = self.source.find_in(&span, &needle);
                self.error(at, message);
                return t;
            }
        };
        for piece in pieces {
            match piece {
                Piece::Text(s) => push_escaped(&mut t, s, literal_escape),
                Piece::Var { name, offset } => {
                    let end = text[offset..]
                        .find("}}")
                        .map(|i| offset + i + 2)
                        .unwrap_or(text.len());
                    let at = self.source.find_in(&span, &text[offset..end]);
                    if let Some(value) = self.resolve_static(name, at.clone()) {
                        push_escaped(&mut t, &value, escape);
                    } else if let Some(var) = self.resolve_dynamic(name, at, step) {
                        t.segments.push(super::template::Segment::Var(var, escape));
                    }
                }
            }
        }
        t
    }

    /// `env.*` and `[vars]`: known at load time, folded into literal text.
    fn resolve_static(&mut self, name: &str, at: Range<usize>) -> Option<String> {
        if let Some(env_name) = name.strip_prefix("env.") {
            return match (self.env)(env_name) {
                Some(v) => {
                    if !self.public_env.iter().any(|p| p == env_name) {
                        self.secrets.add(&v);
                    }
                    Some(v)
                }
                None => {
                    self.error(at, format!("environment variable `{env_name}` is not set"));
                    Some(String::new())
                }
            };
        }
        if self.captures.iter().any(|c| c == name) || self.columns.iter().any(|c| c == name) {
            return None;
        }
        self.vars.get(name).cloned()
    }

    /// Captures, feeder columns and builtins: resolved to a slot read at run time.
    fn resolve_dynamic(
        &mut self,
        name: &str,
        at: Range<usize>,
        step: Option<usize>,
    ) -> Option<VarRef> {
        if let Some(slot) = self.captures.iter().position(|c| c == name) {
            let by = self.captured_by[slot];
            return match step {
                Some(s) if by < s => Some(VarRef::Capture(slot)),
                _ => {
                    let who = &self.step_names[by];
                    let message = format!(
                        "variable `{name}` is captured by step `{who}`, which has not run yet at this point"
                    );
                    self.error_help(
                        at,
                        message,
                        "a step can only use values captured by the steps before it",
                    );
                    None
                }
            };
        }
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return Some(VarRef::Column(i));
        }
        if let Some((_, b)) = Builtin::ALL.iter().find(|(n, _)| *n == name) {
            return Some(VarRef::Builtin(*b));
        }
        if let Some(cookie) = name.strip_prefix("cookie.") {
            if !self.cookies {
                self.error_help(
                    at,
                    format!("`{name}` reads the cookie jar, and `[target] cookies = false` turns it off"),
                    "remove `cookies = false`, or capture the value with `{ header = \"set-cookie\" }`",
                );
                return None;
            }
            if cookie.is_empty() {
                self.error(at, "`cookie.` needs a cookie name: `{{ cookie.session }}`");
                return None;
            }
            let slot = match self.cookie_names.iter().position(|c| c == cookie) {
                Some(i) => i,
                None => {
                    self.cookie_names.push(cookie.to_string());
                    self.cookie_names.len() - 1
                }
            };
            return Some(VarRef::Cookie(slot));
        }
        if self.data_failed {
            return None;
        }
        let mut known: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        known.extend(self.columns.iter().map(String::as_str));
        known.extend(self.captures.iter().map(String::as_str));
        known.extend(Builtin::ALL.iter().map(|(n, _)| *n));
        let help = match closest(name, &known) {
            Some(c) => format!("did you mean `{c}`?"),
            None => "variables come from [vars], [data] columns, captures of earlier steps, `env.NAME`, `cookie.NAME`, and the builtins iteration, uuid, now_ms".into(),
        };
        self.error_help(at, format!("undefined variable `{name}`"), help);
        None
    }

    /// Interpolates `${ENV}` in a string at `span`; the values it used are secret unless
    /// named in `public_env`.
    pub fn interpolate(&mut self, text: &Spanned<String>) -> Option<String> {
        self.interpolate_as(text, true)
    }

    /// Interpolates `${ENV}` in an address (a base URL, a file path): its values are shown
    /// as they are (a URL's credentials are masked where the URL is parsed).
    pub fn interpolate_address(&mut self, text: &Spanned<String>) -> Option<String> {
        self.interpolate_as(text, false)
    }

    fn interpolate_as(&mut self, text: &Spanned<String>, secret: bool) -> Option<String> {
        let used = std::cell::RefCell::new(Vec::new());
        let env = self.env;
        let lookup = |name: &str| {
            let value = env(name);
            if let Some(v) = &value {
                used.borrow_mut().push((name.to_string(), v.clone()));
            }
            value
        };
        let result = interpolate(text.get_ref(), &lookup);
        if secret {
            for (name, value) in used.into_inner() {
                if !self.public_env.contains(&name) {
                    self.secrets.add(&value);
                }
            }
        }
        match result {
            Ok(s) => Some(s),
            Err(e) => {
                let at = self.source.find_in(&text.span(), &e.reference);
                self.error(at, e.message);
                None
            }
        }
    }

    /// Parses a header name.
    pub fn header_name(&mut self, name: &Spanned<String>) -> Option<HeaderName> {
        match HeaderName::from_bytes(name.get_ref().trim().as_bytes()) {
            Ok(h) => Some(h),
            Err(_) => {
                self.error(
                    name.span(),
                    format!("invalid header name `{}`", name.get_ref()),
                );
                None
            }
        }
    }
}

fn push_escaped(t: &mut Template, text: &str, escape: Escape) {
    let mut buf = String::new();
    match escape {
        Escape::None => buf.push_str(text),
        Escape::Url => super::template::percent_encode_into(text, &mut buf),
        Escape::JsonString => super::template::json_escape_into(text, &mut buf),
    }
    t.push_literal(&buf);
}

/// Describes a TOML value's type for messages.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string \"{s}\""),
        Value::Integer(i) => format!("integer {i}"),
        Value::Float(f) => format!("float {f}"),
        Value::Boolean(b) => format!("boolean {b}"),
        Value::Datetime(d) => format!("datetime {d}"),
        Value::Array(_) => "an array".into(),
        Value::Table(_) => "a table".into(),
    }
}

/// Renders a scalar TOML value as text (for `[vars]`, query and form values).
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        Value::Datetime(d) => Some(d.to_string()),
        Value::Array(_) | Value::Table(_) => None,
    }
}

/// The known name closest to `name` by edit distance, if close enough to be a typo.
pub fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Builds the plan from a parsed file.
pub(super) fn build(
    raw: RawScenario,
    source: &SourceFile,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, Vec<Diagnostic>> {
    let public_env = raw.public_env.iter().map(|n| n.get_ref().clone()).collect();
    let mut b = Builder::new(source, env, public_env);
    let name = match &raw.name {
        Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_string(),
        Some(n) => {
            b.error(n.span(), "`name` must not be empty");
            String::new()
        }
        None => {
            b.error_help(
                0..0,
                "missing `name`",
                "add `name = \"pay-invoice\"` at the top of the file",
            );
            String::new()
        }
    };
    let base_dir = source
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    b.base_dir = base_dir.clone();

    for (key, value) in &raw.vars {
        let text = match value.get_ref() {
            Value::String(s) => b.interpolate(&Spanned::new(value.span(), s.clone())),
            other => match scalar_text(other) {
                Some(t) => Some(t),
                None => {
                    b.error(
                        value.span(),
                        format!(
                            "`[vars]` values must be strings, numbers or booleans, found {}",
                            describe(other)
                        ),
                    );
                    None
                }
            },
        };
        if let Some(text) = text {
            b.vars.insert(key.get_ref().clone(), text);
        }
    }

    let data = raw
        .data
        .as_ref()
        .and_then(|d| super::data::build_data(&mut b, d.get_ref(), &base_dir));
    match &data {
        Some(d) => b.columns = d.columns.clone(),
        None => b.data_failed = raw.data.is_some(),
    }
    let databases = super::sql::build_databases(&mut b, &raw.databases);
    let sql_only = !raw.steps.is_empty() && raw.steps.iter().all(|s| s.get_ref().sql.is_some());
    let target = if sql_only && raw.target.is_none() && overrides.target.is_none() {
        // Nothing goes over HTTP: the run's target is its (first) database.
        databases.first().map(super::target::database_target)
    } else {
        build_target(&mut b, raw.target.as_ref(), overrides, &base_dir)
    };
    b.cookies = target.as_ref().is_none_or(|t| t.cookies);
    let load = build_load(&mut b, raw.load.as_ref(), overrides);

    if raw.steps.is_empty() {
        b.error_help(
            0..0,
            "the scenario has no steps",
            "add at least one `[[steps]]` table with a `name` and an `[steps.http]` request (or `[steps.sql]` statements)",
        );
    }
    // Captures are registered in step order before templates are compiled, so a
    // reference to a later step's capture gets a precise message rather than "undefined".
    for (i, step) in raw.steps.iter().enumerate() {
        let step_name = step
            .get_ref()
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| format!("#{}", i + 1));
        b.step_names.push(step_name);
        for key in step.get_ref().capture.keys() {
            if !b.captures.contains(key.get_ref()) {
                b.captures.push(key.get_ref().clone());
                b.captured_by.push(i);
            }
        }
    }
    let mut steps = Vec::new();
    let mut seen: BTreeMap<String, Range<usize>> = BTreeMap::new();
    for (i, step) in raw.steps.iter().enumerate() {
        if let Some(n) = step
            .get_ref()
            .name
            .as_ref()
            .filter(|n| n.get_ref().trim() == "workflow")
        {
            b.error_help(
                n.span(),
                "`workflow` names the whole workflow in reports, histories and thresholds",
                "give the step another name",
            );
        }
        if let Some(n) = &step.get_ref().name
            && seen.insert(n.get_ref().clone(), n.span()).is_some()
        {
            b.error(
                n.span(),
                format!(
                    "duplicate step name `{}`: step names must be unique",
                    n.get_ref()
                ),
            );
        }
        let defaults = target
            .as_ref()
            .map(|t| (t.timeout, t.max_body, t.max_redirects));
        if let Some(s) = build_step(&mut b, step, i, defaults, &databases, &raw.databases) {
            steps.push(s);
        }
    }
    let step_names: Vec<String> = steps.iter().map(|s: &StepPlan| s.name.clone()).collect();
    let thresholds = super::gates::build_thresholds(&mut b, &raw.thresholds, Some(&step_names));
    let compare = super::gates::build_compare(&mut b, raw.compare.as_ref());
    if !b.diags.is_empty() {
        b.diags.sort_by_key(|d| (d.line, d.column));
        return Err(b.diags);
    }
    let (Some(target), Some(load)) = (target, load) else {
        return Err(b.diags);
    };
    Ok(Plan {
        name,
        description: raw.description.unwrap_or_default(),
        source: source.path.clone(),
        hash: super::content_hash(source.text.as_bytes()),
        target,
        load,
        data,
        steps,
        captures: b.captures,
        cookie_names: b.cookie_names,
        thresholds,
        compare,
        secrets: b.secrets,
        databases,
    })
}

/// A suite file's `[thresholds]` (workflow metrics only: step names differ between
/// scenarios) and `[compare]`, checked as a scenario's are.
pub(super) fn suite_gates(
    thresholds: &BTreeMap<Spanned<String>, Spanned<Value>>,
    compare: Option<&Spanned<RawCompare>>,
    source: &SourceFile,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Vec<crate::model::Threshold>, crate::model::CompareSettings), Vec<Diagnostic>> {
    let mut b = Builder::new(source, env, Vec::new());
    let mut t = super::gates::build_thresholds(&mut b, thresholds, None);
    // The default threshold is each scenario's own business.
    t.retain(|t| !t.default);
    let c = super::gates::build_compare(&mut b, compare);
    if b.diags.is_empty() {
        Ok((t, c))
    } else {
        Err(b.diags)
    }
}

/// A mix file's `[thresholds]` (on its members' qualified `steps` and the whole mix, with the
/// default workflow error rate) and `[compare]`.
pub(super) fn mix_gates(
    thresholds: &BTreeMap<Spanned<String>, Spanned<Value>>,
    compare: Option<&Spanned<RawCompare>>,
    source: &SourceFile,
    env: &dyn Fn(&str) -> Option<String>,
    steps: &[String],
) -> Result<(Vec<crate::model::Threshold>, crate::model::CompareSettings), Vec<Diagnostic>> {
    let mut b = Builder::new(source, env, Vec::new());
    let t = super::gates::build_thresholds(&mut b, thresholds, Some(steps));
    let c = super::gates::build_compare(&mut b, compare);
    if b.diags.is_empty() {
        Ok((t, c))
    } else {
        Err(b.diags)
    }
}

/// Parses an HTTP method name.
pub fn parse_method(text: &str) -> Result<Method, String> {
    let upper = text.trim().to_ascii_uppercase();
    match upper.as_str() {
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => {
            Ok(Method::from_bytes(upper.as_bytes()).expect("standard method"))
        }
        _ => Err(format!(
            "unknown HTTP method \"{text}\": expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"
        )),
    }
}
