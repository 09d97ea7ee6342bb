//! A suite's verdict for the terminal: one line per scenario, the full table of each that
//! regressed, and the one conclusion.

use std::fmt::Write;

use super::shorten;
use crate::model::SuiteComparison;

/// The suite's verdict as text.
pub fn suite(v: &SuiteComparison) -> String {
    let mut out = String::new();
    let against = v
        .baseline
        .as_deref()
        .map(|b| format!(" vs {b}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "suite {} ({}){against}: {} scenarios",
        v.suite,
        v.id,
        v.members.len()
    );
    let width = v
        .members
        .iter()
        .map(|m| m.scenario.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    for m in &v.members {
        let mark = if m.passed { "ok" } else { "FAIL" };
        let mut line = format!(
            "  {mark:<4} {:<width$}  {:<13}",
            shorten(&m.scenario, width),
            m.verdict
        );
        if let Some(w) = &m.worst {
            line.push_str(&format!("  {w}"));
        }
        if !m.breaches.is_empty() {
            line.push_str(&format!("  breached: {}", m.breaches.join(", ")));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for s in &v.skipped {
        let _ = writeln!(out, "  skip {s}  (skipped by the suite file)");
    }
    for c in v.scenarios.iter().filter(|c| !c.overall.passed) {
        out.push('\n');
        out.push_str(&super::comparison(c));
    }
    let _ = writeln!(out, "suite verdict: {}", v.overall.summary);
    out
}
