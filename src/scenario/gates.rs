//! `[thresholds]` and `[compare]`: the gates a scenario sets for its runs.
//!
//! ```toml
//! [thresholds]
//! error_rate = "1%"            # the workflow's error rate at most 1%
//! throughput = ">= 45/s"       # the workflow completes at least 45 iterations/s
//! workflow.p95 = "1.5s"
//! "pay".p99 = "400ms"          # a step's p99 at most 400 ms ("< 400ms" for strictly below)
//! ```
//!
//! A scenario that sets no workflow error-rate threshold gets [`DEFAULT_ERROR_RATE`], so a
//! workflow that fails outright fails CI even without thresholds; `error_rate = "off"` turns
//! it off.

use std::collections::BTreeMap;

use toml::{Spanned, Value};

use super::build::{Builder, closest, describe};
use super::raw::RawCompare;
use super::units::{parse_duration, parse_rate};
use crate::model::{CompareSettings, Op, SummaryMetric, Threshold};
use crate::stats::Metric;

/// The workflow error rate a run must stay under when the scenario sets none: 5% of iterations.
pub const DEFAULT_ERROR_RATE: f64 = 0.05;

/// The thresholds of a scenario with these `steps`, or (`None`) a suite file's defaults,
/// which every scenario takes and so can name no step.
pub(super) fn build_thresholds(
    b: &mut Builder,
    raw: &BTreeMap<Spanned<String>, Spanned<Value>>,
    steps: Option<&[String]>,
) -> Vec<Threshold> {
    let suite = steps.is_none();
    let steps = steps.unwrap_or_default();
    let mut out = Vec::new();
    // Whether the scenario says anything about the workflow's error rate (a limit or "off").
    let mut own_error_rate = false;
    for (key, value) in raw {
        match value.get_ref() {
            Value::Table(table) => {
                let step = key.get_ref();
                let workflow = step == "workflow" && !steps.iter().any(|s| s == "workflow");
                if !workflow && !steps.iter().any(|s| s == step) {
                    let names: Vec<&str> = steps.iter().map(String::as_str).collect();
                    let help = if suite {
                        "a suite file's [thresholds] apply to every scenario, so they name the workflow's metrics only (`p99 = \"1s\"` or `workflow.p99 = \"1s\"`); a step's threshold goes in its scenario file".to_string()
                    } else {
                        closest(step, &names).map(|c| format!("did you mean `{c}`?")).unwrap_or_else(|| format!("steps: {}, or `workflow`", names.join(", ")))
                    };
                    b.error_help(key.span(), format!("thresholds name an unknown step `{step}`"), help);
                    continue;
                }
                for (metric, expr) in table {
                    let Value::String(text) = expr else {
                        b.error(value.span(), format!("threshold `{step}.{metric}`: expected a string such as \"400ms\" or \"< 1%\", found {}", describe(expr)));
                        continue;
                    };
                    if workflow && metric == "error_rate" {
                        own_error_rate = true;
                        if is_off(text) {
                            continue;
                        }
                    }
                    let at = b.source.find_in(&value.span(), text);
                    if let Some(t) = threshold(b, step, workflow, metric, text, at) {
                        out.push(t);
                    }
                }
            }
            Value::String(text) => {
                if key.get_ref() == "error_rate" {
                    own_error_rate = true;
                    if is_off(text) {
                        continue;
                    }
                }
                if let Some(t) = threshold(b, "workflow", true, key.get_ref(), text, value.span()) {
                    out.push(t);
                }
            }
            other => b.error(value.span(), format!("expected a threshold such as \"400ms\" or a table of them for a step, found {}", describe(other))),
        }
    }
    if !own_error_rate {
        out.push(default_error_rate());
    }
    out
}

/// `"off"` turns the default workflow error-rate threshold off.
fn is_off(text: &str) -> bool {
    text.trim().eq_ignore_ascii_case("off")
}

/// The threshold applied when a scenario sets no workflow error rate.
pub fn default_error_rate() -> Threshold {
    Threshold {
        step: "workflow".into(),
        workflow: true,
        metric: SummaryMetric::ErrorRate,
        op: Op::Lt,
        limit: DEFAULT_ERROR_RATE,
        expression: format!("workflow.error_rate < {}%", DEFAULT_ERROR_RATE * 100.0),
        default: true,
    }
}

fn threshold(
    b: &mut Builder,
    step: &str,
    workflow: bool,
    metric: &str,
    text: &str,
    at: std::ops::Range<usize>,
) -> Option<Threshold> {
    let Some(m) = SummaryMetric::from_name(metric) else {
        let names: Vec<&str> = SummaryMetric::ALL.iter().map(|(n, _)| *n).collect();
        b.error_help(
            at,
            format!("unknown threshold metric `{metric}`"),
            format!("metrics: {}", names.join(", ")),
        );
        return None;
    };
    let trimmed = text.trim();
    let (op, rest) = [("<=", Op::Le), (">=", Op::Ge), ("<", Op::Lt), (">", Op::Gt)]
        .iter()
        .find_map(|(p, op)| trimmed.strip_prefix(p).map(|r| (*op, r.trim())))
        .unwrap_or((
            if m == SummaryMetric::Throughput {
                Op::Ge
            } else {
                Op::Le
            },
            trimmed,
        ));
    let limit = match m {
        SummaryMetric::ErrorRate => parse_fraction(rest),
        SummaryMetric::Throughput => parse_rate(rest),
        _ => parse_duration(rest).map(|d| d.as_secs_f64() * 1e6),
    };
    match limit {
        Ok(limit) => Some(Threshold {
            step: step.to_string(),
            workflow,
            metric: m,
            op,
            limit,
            expression: format!("{step}.{metric} {op} {rest}"),
            default: false,
        }),
        Err(e) => {
            b.error(at, format!("threshold `{step}.{metric}`: {e}"));
            None
        }
    }
}

/// `"1%"`, `"0.5 %"` or `"0.01"` as a fraction.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (t, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && v * scale <= 1.0 => Ok(v * scale),
        _ => Err(format!(
            "invalid fraction \"{text}\": expected a percentage such as \"1%\" or a number between 0 and 1"
        )),
    }
}

pub(super) fn build_compare(b: &mut Builder, raw: Option<&Spanned<RawCompare>>) -> CompareSettings {
    let mut out = CompareSettings::default();
    let Some(raw) = raw else { return out };
    let c = raw.get_ref();
    if let Some(a) = &c.alpha {
        if *a.get_ref() > 0.0 && *a.get_ref() < 0.5 {
            out.alpha = Some(*a.get_ref());
        } else {
            b.error(
                a.span(),
                format!("`alpha` must be between 0 and 0.5, found {}", a.get_ref()),
            );
        }
    }
    if let Some(h) = &c.history {
        let max = super::limits::MAX_HISTORY as i64;
        if (1..=max).contains(h.get_ref()) {
            out.history = Some(*h.get_ref() as usize);
        } else {
            // The same range as --history.
            b.error(h.span(), format!("`history` must be between 1 and {max}"));
        }
    }
    for (metric, value) in &c.min_effect {
        if Metric::from_name(metric.get_ref()).is_none() {
            let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
            b.error_help(
                metric.span(),
                format!("unknown metric `{}`", metric.get_ref()),
                format!("metrics: {}", names.join(", ")),
            );
            continue;
        }
        if let Some(f) = fraction_value(b, value) {
            out.min_effect.insert(metric.get_ref().clone(), f);
        }
    }
    if let Some(m) = &c.eq_margin {
        out.eq_margin = fraction_value(b, m);
    }
    out
}

fn fraction_value(b: &mut Builder, v: &Spanned<Value>) -> Option<f64> {
    let parsed = match v.get_ref() {
        Value::String(s) => parse_fraction(s),
        Value::Float(f) => parse_fraction(&f.to_string()),
        other => Err(format!(
            "expected a percentage such as \"5%\", found {}",
            describe(other)
        )),
    };
    parsed.map_err(|e| b.error(v.span(), e)).ok()
}
