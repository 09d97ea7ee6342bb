//! The comparison table: per step and metric, baseline, candidate, change with its interval
//! and the verdict; then thresholds, caveats and the one-line conclusion.

use std::fmt::Write;

use super::shorten;
use crate::model::ThresholdResult;
use crate::model::{Comparison, MetricComparison, Side, Verdict};
use crate::report::console::format_value;

/// The whole comparison for the terminal.
pub fn comparison(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: candidate {} vs baseline {}",
        c.scenario,
        describe(&c.candidate),
        describe(&c.baseline)
    );
    let width = c
        .steps
        .iter()
        .map(|s| s.id.name().chars().count() + 2)
        .max()
        .unwrap_or(10)
        .clamp(14, 40);
    let _ = writeln!(
        out,
        "{:<width$} {:>10} {:>10} {:>9}  {:<19} verdict",
        "step / metric", "baseline", "candidate", "change", "interval"
    );
    for s in &c.steps {
        let level = (1.0 - 2.0 * s.alpha) * 100.0;
        let flag = if s.verdict == Verdict::Regressed {
            "  << REGRESSED"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "{:<width$} {:>45}  ({}; {level:.1}% intervals){flag}",
            shorten(s.id.name(), width),
            "",
            s.verdict.name()
        );
        for m in &s.metrics {
            metric_row(&mut out, m, width);
        }
        if s.metrics.is_empty() {
            let _ = writeln!(out, "  (nothing to compare with)");
        }
    }
    if !c.thresholds.is_empty() {
        out.push_str(&thresholds(&c.thresholds));
    }
    for note in &c.notes {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "verdict: {}", c.overall.summary);
    out
}

fn metric_row(out: &mut String, m: &MetricComparison, width: usize) {
    let [base, cand, change, interval] = crate::report::views::metric_cells(m);
    let detects = match (m.detectable, m.unit) {
        (Some(d), crate::model::Unit::Fraction) => format!("; detects +{:.2}pt", d * 100.0),
        (Some(d), _) => format!("; detects +{:.0}%", d * 100.0),
        (None, _) => String::new(),
    };
    let verdict = match (m.verdict, m.runs_needed) {
        (Verdict::Inconclusive, Some(n)) => format!(
            "inconclusive (~{n} more run{}{detects})",
            if n == 1 { "" } else { "s" }
        ),
        (Verdict::Inconclusive, None) => {
            format!("inconclusive ({})", detects.trim_start_matches("; "))
        }
        (Verdict::Regressed, _) => "REGRESSED".to_string(),
        (v, _) => v.name().to_string(),
    };
    let _ = writeln!(
        out,
        "  {:<w$} {base:>10} {cand:>10} {change:>9}  {interval:<19} {verdict}",
        m.metric.name(),
        w = width - 2
    );
}

fn describe(s: &Side) -> String {
    let ids = match s.run_ids.len() {
        0 => "no runs".to_string(),
        1 => short(&s.run_ids[0]),
        n => format!("{n} runs"),
    };
    let mut parts = vec![s.spec.clone()];
    if !s.spec.contains(&ids) && s.spec != ids {
        parts.push(format!("({ids})"));
    }
    if let Some(b) = s.branches.first().filter(|b| !s.spec.contains(b.as_str())) {
        parts.push(format!("on {b}"));
    }
    if let Some(c) = s.commits.last() {
        parts.push(format!("@ {}", short(c)));
    }
    parts.join(" ")
}

fn short(id: &str) -> String {
    id.chars().take(13).collect()
}

/// Threshold results, one per line.
pub fn thresholds(results: &[ThresholdResult]) -> String {
    let mut out = String::from("thresholds\n");
    let width = results
        .iter()
        .map(|t| t.threshold.label().chars().count())
        .max()
        .unwrap_or(10)
        + 2;
    for t in results {
        let value = t
            .value
            .map(|v| format_value(t.threshold.metric, v))
            .unwrap_or_else(|| "no data".into());
        let status = if t.passed { "ok" } else { "BREACHED" };
        let _ = writeln!(
            out,
            "  {:<width$} {value:>10}  {status}",
            t.threshold.label()
        );
    }
    out
}
