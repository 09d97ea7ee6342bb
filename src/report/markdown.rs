//! summary.md: GitHub-flavoured Markdown for pull-request comments and job summaries.

use std::fmt::Write;

use super::ReportInput;
use super::escape::markdown as esc;
use super::views::{Conclusion, headline, short, steps, thresholds, verdict_label};
use crate::model::{MetricComparison, SummaryMetric, Unit, Verdict};
use crate::report::console::fmt_us;
use crate::report::console::format_value;

/// The Markdown summary. `beside_html`: it sits in a report folder, so `index.html` is a
/// valid relative link; elsewhere (a job summary) only an absolute `--link` is shown.
pub fn markdown(input: &ReportInput, beside_html: bool) -> String {
    let mut out = String::new();
    let h = headline(input);
    let run = &input.candidates[0];
    let mark = match h.conclusion {
        Conclusion::Passed => "✅",
        Conclusion::Inconclusive => "⚠️",
        Conclusion::Failed => "❌",
    };
    let _ = writeln!(out, "### {mark} {}: {}\n", esc(&run.scenario), esc(&h.text));
    let link = match (
        input.link.as_deref().and_then(super::escape::markdown_link),
        beside_html,
    ) {
        (Some(url), _) => format!(" [Full report]({url})"),
        (None, true) => " [Full report](index.html)".to_string(),
        (None, false) => String::new(),
    };
    match &input.comparison {
        Some(c) => {
            let cand = match c.candidate.run_ids.as_slice() {
                [one] => format!("`{}`", short(one)),
                many => format!("{} runs", many.len()),
            };
            let commit = c
                .candidate
                .commits
                .last()
                .map(|c| format!(" @ `{}`", short(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "Candidate {cand}{commit} vs baseline `{}` ({} run{}).{link}\n",
                esc(&c.baseline.spec),
                c.baseline.run_ids.len(),
                if c.baseline.run_ids.len() == 1 {
                    ""
                } else {
                    "s"
                }
            );
            let _ = writeln!(
                out,
                "| step | p50 | p99 | error rate | throughput | verdict |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|---|");
            for s in &c.steps {
                let cell = |metric: SummaryMetric| {
                    s.metrics
                        .iter()
                        .find(|m| m.metric == metric)
                        .map(change_cell)
                        .unwrap_or_else(|| "–".into())
                };
                let name = if s.verdict == Verdict::Regressed {
                    format!("**{}**", esc(s.id.name()))
                } else {
                    esc(s.id.name())
                };
                let icon = match s.verdict {
                    Verdict::Regressed => "🔴 ",
                    Verdict::Improved => "🟢 ",
                    _ => "",
                };
                let _ = writeln!(
                    out,
                    "| {name} | {} | {} | {} | {} | {icon}{} |",
                    cell(SummaryMetric::P50),
                    cell(SummaryMetric::P99),
                    cell(SummaryMetric::ErrorRate),
                    cell(SummaryMetric::Throughput),
                    verdict_label(s.verdict)
                );
            }
        }
        None => {
            let git = run.git.as_ref();
            let commit = git
                .and_then(|g| g.commit.as_deref())
                .map(|c| format!(" @ `{}`", short(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "Run `{}`{commit}, no baseline.{link}\n",
                short(&run.run_id)
            );
            let _ = writeln!(out, "| step | count | errors | p50 | p90 | p99 | rate |");
            let _ = writeln!(out, "|---|---|---|---|---|---|---|");
            for (name, workflow) in steps(run) {
                let Some(s) = super::views::step(run, &name, workflow) else {
                    continue;
                };
                let l = &s.latency;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {:.1}/s |",
                    esc(&name),
                    s.count,
                    s.errors,
                    fmt_us(l.p50),
                    fmt_us(l.p90),
                    fmt_us(l.p99),
                    s.throughput
                );
            }
        }
    }
    let t = thresholds(input);
    if !t.is_empty() {
        let _ = writeln!(out, "\n**Thresholds**\n");
        for r in t {
            let value = r
                .value
                .map(|v| format_value(r.threshold.metric, v))
                .unwrap_or_else(|| "no data".into());
            let _ = writeln!(
                out,
                "- {} `{}`: {value}",
                if r.passed { "✅" } else { "❌" },
                r.threshold.label().replace('`', "'")
            );
        }
    }
    let starved: Vec<&crate::model::RunResult> = input
        .candidates
        .iter()
        .chain(&input.baseline)
        .filter(|r| r.health.as_ref().is_some_and(|h| h.harness_limited))
        .collect();
    if !starved.is_empty() {
        let _ = writeln!(
            out,
            "\n⚠️ **Harness-limited**: the load generator was starved in {} run(s), so their latencies include its own delay; regressions seen only there are held back.",
            starved.len()
        );
    }
    let notes: Vec<&String> = input
        .comparison
        .iter()
        .flat_map(|c| &c.notes)
        .chain(&input.notes)
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\n<details><summary>Notes</summary>\n");
        for n in notes {
            let _ = writeln!(out, "- {}", esc(n));
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}

fn change_cell(m: &MetricComparison) -> String {
    match m.unit {
        Unit::Us => {
            let change = format!("{:+.1}%", m.change * 100.0);
            let change = if m.verdict == Verdict::Regressed {
                format!("**{change}**")
            } else {
                change
            };
            format!(
                "{} → {} ({change})",
                fmt_us(m.baseline.round() as u64),
                fmt_us(m.candidate.round() as u64)
            )
        }
        Unit::Fraction => format!("{:.2}% → {:.2}%", m.baseline * 100.0, m.candidate * 100.0),
        _ => format!(
            "{:.1}/s → {:.1}/s ({:+.1}%)",
            m.baseline,
            m.candidate,
            m.change * 100.0
        ),
    }
}
