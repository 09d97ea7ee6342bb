//! index.html: one self-contained file (inline CSS and SVG, no scripts, nothing fetched), so
//! it opens offline, as a CI artifact, under a strict Content-Security-Policy, or attached to
//! a ticket. Every text from a scenario, a response or a label is escaped.

use std::fmt::Write;

use super::escape::xml as esc;
use super::palette::{self, css};
use super::plots::{self, change, history, percentiles, rounds, timeline};
use super::views::{
    Conclusion, headline, merged, reported_side, short, step, steps, targets, thresholds,
    verdict_label, when,
};
use super::{ReportError, ReportInput};
use crate::model::{Comparison, Side, Verdict};
use crate::report::console::fmt_us;
use crate::report::console::format_value;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.banner{padding:14px 18px;border-radius:6px;color:#fff;font-size:17px;font-weight:600;margin:10px 0}
.meta{border-collapse:collapse;font-size:13px}.meta th{text-align:left;padding:2px 14px 2px 0;color:#555;font-weight:600;vertical-align:top}.meta td{padding:2px 0}
table.data{border-collapse:collapse;font-size:13px;background:#fff;margin:6px 0;width:100%}
table.data th{background:#f0f0f0;text-align:right;padding:5px 8px;border-bottom:1px solid #ccc;white-space:nowrap}
table.data td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.data th:first-child,table.data td:first-child,table.data td.l,table.data th.l{text-align:left}
details>summary{cursor:pointer;margin:18px 0 4px}details>summary h2{border:0}
tr.step td{background:#f7f7f7;font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{background:#fff;border:1px solid #e3e3e3;border-radius:4px;max-width:100%;height:auto}
.note{background:#fff8e1;border-left:4px solid #E69F00;padding:6px 10px;margin:6px 0;font-size:13px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin:0 4px -1px 12px}
footer{color:#777;font-size:12px;margin-top:32px}
code{font-size:12px}
"#;

/// The HTML report.
pub fn html(input: &ReportInput) -> Result<String, ReportError> {
    let run = &input.candidates[0];
    let h = headline(input);
    let mut body = format!("<h1>rehearse report: {}</h1>\n", esc(&run.scenario));
    body.push_str(&section(input, Detail::Full)?);
    Ok(document(
        &format!("rehearse: {} ({})", run.scenario, h.text),
        &body,
        run.ended_at.as_deref(),
    ))
}

/// A whole page around `body`: the head with its strict Content-Security-Policy and the
/// style, and the footer.
pub(crate) fn document(title: &str, body: &str, ended: Option<&str>) -> String {
    let mut out = String::with_capacity(body.len() + 4096);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style></head><body><main>\n",
        esc(title)
    );
    out.push_str(body);
    let _ = writeln!(
        out,
        "<footer>Made by rehearse {} on {}. Latencies are coordinated-omission corrected (measured from when each request was due). This page is self-contained: it loads nothing.</footer>\n</main></body></html>",
        esc(env!("CARGO_PKG_VERSION")),
        esc(&when(ended))
    );
    out
}

/// One scenario's report, everything under its heading: the verdict, what was compared,
/// thresholds, the load generator, the tables and every plot.
/// How many plots a scenario's section draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detail {
    /// Every step's plots.
    Full,
    /// The whole workflow's plots only: a suite's scenario with nothing to look into, so
    /// 25 scenarios make a page that opens quickly.
    Workflow,
}

pub(crate) fn section(input: &ReportInput, detail: Detail) -> Result<String, ReportError> {
    let run = &input.candidates[0];
    let h = headline(input);
    let banner = palette::conclusion(h.conclusion);
    let mut out = String::with_capacity(256 * 1024);
    let _ = writeln!(
        out,
        "<div class=\"banner\" style=\"background:{};color:{}\">{} {}</div>",
        css(banner),
        css(palette::text_on(banner)),
        match h.conclusion {
            Conclusion::Passed => "&#10004;",
            Conclusion::Inconclusive => "&#9888;",
            Conclusion::Failed => "&#10008;",
        },
        esc(&h.text)
    );
    meta(&mut out, input);
    let t = thresholds(input);
    if !t.is_empty() {
        let _ = writeln!(
            out,
            "<h2>Thresholds</h2><table class=\"data\"><tr><th>threshold</th><th>measured</th><th>result</th></tr>"
        );
        for r in t {
            let value = r
                .value
                .map(|v| format_value(r.threshold.metric, v))
                .unwrap_or_else(|| "no data".into());
            let (label, colour) = if r.passed {
                ("met", Verdict::Improved)
            } else {
                ("BREACHED", Verdict::Regressed)
            };
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&r.threshold.label()),
                esc(&value),
                badge(label, colour)
            );
        }
        out.push_str("</table>\n");
    }
    health(&mut out, input);
    match &input.comparison {
        Some(c) => {
            comparison_table(&mut out, c);
            let svg = plots::svg((1200, change::height(c)), |a| {
                let labels = change::draw(a, c, Some(change::TITLE))?;
                change::draw_labels(a, &labels)
            })
            .map_err(plot("change per step"))?;
            let _ = writeln!(
                out,
                "<h2>Change per step</h2><div class=\"plots\">{svg}</div>"
            );
            if let Some(ab) = &c.ab {
                let svg = plots::svg((1200, rounds::height(c)), |a| rounds::draw(a, c, ab))
                    .map_err(plot("rounds"))?;
                let kind = if ab.same_target {
                    "A/A session (both sides the same target): this measures the setup's noise"
                } else {
                    "interleaved A/B session"
                };
                let left_out = ab
                    .left_out_words()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "<h2>Rounds</h2><p>{} rounds in ABBA order{left_out}, {kind}; {} earlier A/A sessions pooled in. These rounds can detect, 80% of the time, changes of at least {}.</p><div class=\"plots\">{svg}</div>",
                    ab.rounds,
                    ab.aa_sessions,
                    esc(&ab.detectable())
                );
            }
            for n in &c.notes {
                let _ = writeln!(out, "<div class=\"note\">{}</div>", esc(n));
            }
        }
        None => run_table(&mut out, input),
    }
    for n in &input.notes {
        let _ = writeln!(out, "<div class=\"note\">{}</div>", esc(n));
    }
    let mut legend = String::new();
    if !input.baseline.is_empty() {
        let _ = write!(
            legend,
            "<span style=\"background:{}\"></span>baseline",
            css(palette::BASELINE)
        );
    }
    let _ = writeln!(
        out,
        "<h2>Steps in detail</h2><div class=\"legend\">colours:{legend}<span style=\"background:{}\"></span>{}</div>",
        css(palette::CANDIDATE),
        reported_side(input)
    );
    for (name, workflow) in steps(run) {
        if workflow || detail == Detail::Full {
            step_section(&mut out, input, &name, workflow)?;
        }
    }
    if detail == Detail::Workflow {
        let _ = writeln!(
            out,
            "<div class=\"note\">Nothing here regressed, improved or breached a threshold, so only the whole workflow is plotted; <code>rehearse report {} --out DIR</code> plots every step.</div>",
            esc(&run.run_id)
        );
    }
    Ok(out)
}

/// The load generator's health for every run shown: how late it sent (schedule lag), how
/// much CPU it used, how contended the machine was, and whether that limited the run.
fn health(out: &mut String, input: &ReportInput) {
    use crate::report::console::fmt_us;
    let runs: Vec<(&str, &crate::model::RunResult)> = input
        .baseline
        .iter()
        .map(|r| ("baseline", r))
        .chain(input.candidates.iter().map(|r| {
            let side = if input.comparison.is_some() {
                "candidate"
            } else {
                "this run"
            };
            (side, r)
        }))
        .filter(|(_, r)| r.health.is_some())
        .collect();
    if runs.is_empty() {
        return;
    }
    let limited = runs
        .iter()
        .filter(|(_, r)| r.health.as_ref().is_some_and(|h| h.harness_limited))
        .count();
    let _ = writeln!(
        out,
        "<h2>Load generator</h2><p>How late rehearse sent each request versus when it was due (schedule lag), the CPU it used and how contended the machine's CPUs were. {}</p><table class=\"data\"><tr><th>run</th><th>lag p50</th><th>lag p99</th><th>lag max</th><th>CPU used</th><th>CPU pressure</th><th>health</th></tr>",
        if limited == 0 {
            "No run was limited by its load generator.".to_string()
        } else {
            format!(
                "{limited} run(s) were harness-limited: their latencies include the generator's own delay, and verdicts on them are held back."
            )
        }
    );
    for (side, r) in runs {
        let h = r.health.as_ref().expect("filtered");
        let (label, colour) = if h.harness_limited {
            ("HARNESS-LIMITED", Verdict::Inconclusive)
        } else {
            ("healthy", Verdict::Unchanged)
        };
        let _ = writeln!(
            out,
            "<tr><td>{} <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td></tr>",
            esc(side),
            esc(short(&r.run_id)),
            fmt_us(h.lag.p50),
            fmt_us(h.lag.p99),
            fmt_us(h.lag.max),
            h.cpu_cores
                .map(|c| format!("{c:.2} cores"))
                .unwrap_or_else(|| "–".into()),
            h.pressure_some
                .map(|p| format!("{:.0}%", p * 100.0))
                .unwrap_or_else(|| "–".into()),
            badge(label, colour),
            h.reasons
                .iter()
                .map(|r| format!("<br><small>{}</small>", esc(r)))
                .collect::<String>()
        );
    }
    out.push_str("</table>\n");
}

fn plot(what: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Plot {
        what: what.to_string(),
        message,
    }
}

fn badge(label: &str, v: Verdict) -> String {
    let colour = palette::verdict(v);
    format!(
        "<span class=\"badge\" style=\"background:{};color:{}\">{}</span>",
        css(colour),
        css(palette::text_on(colour)),
        esc(label)
    )
}

fn meta(out: &mut String, input: &ReportInput) {
    let run = &input.candidates[0];
    out.push_str("<table class=\"meta\">");
    let row = |out: &mut String, k: &str, v: String| {
        let _ = writeln!(out, "<tr><th>{}</th><td>{v}</td></tr>", esc(k));
    };
    let (baseline, candidate) = (targets(&input.baseline), targets(&input.candidates));
    // One target row when both sides hit the same target (or the baseline's is not known);
    // otherwise (an A/B session of two deployments) each side names its own.
    let shared = baseline.is_empty() || baseline == candidate;
    if shared {
        row(out, "target", esc(&candidate.join(", ")));
    }
    match &input.comparison {
        Some(c) => {
            let target = |t: &[&str]| (!shared).then(|| t.join(", "));
            row(out, "candidate", side(&c.candidate, target(&candidate)));
            row(out, "baseline", side(&c.baseline, target(&baseline)));
        }
        None => {
            let git = run.git.clone().unwrap_or_default();
            let mut what = format!("<code>{}</code>", esc(&run.run_id));
            if let Some(b) = &git.branch {
                what.push_str(&format!(" on {}", esc(b)));
            }
            if let Some(c) = &git.commit {
                what.push_str(&format!(" @ <code>{}</code>", esc(short(c))));
            }
            row(out, "run", what);
            row(
                out,
                "time",
                format!(
                    "{} to {}",
                    esc(&when(run.started_at.as_deref())),
                    esc(&when(run.ended_at.as_deref()))
                ),
            );
        }
    }
    if let Some(l) = &run.load {
        let level = match (l.rate, l.users) {
            (Some(r), _) => format!("open model, {r}/s"),
            (_, Some(u)) => format!("closed model, {u} users"),
            _ => l.model.clone(),
        };
        row(
            out,
            "load",
            esc(&format!(
                "{level} for {}s after {}s warm-up",
                l.duration_seconds, l.warmup_seconds
            )),
        );
    }
    if !run.shards.is_empty() {
        // A merged run's generator is every shard: name each, so a ticket says where the load
        // came from and which shard to look at.
        let each: Vec<String> = run
            .shards
            .iter()
            .map(|s| {
                let mut one = format!(
                    "shard {}: {}",
                    s.part.saturating_sub(1),
                    s.host.as_deref().unwrap_or("unknown host")
                );
                if let Some(c) = &s.commit {
                    one.push_str(&format!(" @ {}", short(c)));
                }
                if !s.complete {
                    one.push_str(" (incomplete)");
                }
                one
            })
            .collect();
        row(
            out,
            "load generators",
            esc(&format!(
                "{} shards merged: {}",
                run.shards.len(),
                each.join("; ")
            )),
        );
    }
    if let Some(h) = &run.host {
        row(
            out,
            "load generator",
            esc(&format!(
                "{} ({} {}, {} CPUs, fingerprint {})",
                h.hostname, h.os, h.arch, h.cpus, h.fingerprint
            )),
        );
    }
    out.push_str("</table>\n");
}

/// One side of a comparison: its label, runs, branches, commits, target (when the two sides'
/// differ) and time span.
fn side(s: &Side, target: Option<String>) -> String {
    let ids: Vec<String> = s
        .run_ids
        .iter()
        .map(|i| format!("<code>{}</code>", esc(short(i))))
        .collect();
    let ids = if ids.len() > 4 {
        format!("{} runs ({} … {})", ids.len(), ids[0], ids[ids.len() - 1])
    } else {
        ids.join(", ")
    };
    let mut parts = vec![format!("<b>{}</b>: {ids}", esc(&s.spec))];
    if !s.branches.is_empty() {
        parts.push(format!("branch {}", esc(&s.branches.join(", "))));
    }
    if !s.commits.is_empty() {
        parts.push(format!(
            "commit {}",
            s.commits
                .iter()
                .map(|c| format!("<code>{}</code>", esc(short(c))))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(t) = target {
        parts.push(format!("target {}", esc(&t)));
    }
    parts.push(format!(
        "{} to {}",
        esc(&when(s.from.as_deref())),
        esc(&when(s.to.as_deref()))
    ));
    parts.join("; ")
}

fn comparison_table(out: &mut String, c: &Comparison) {
    let _ = writeln!(
        out,
        "<h2>Per step</h2><table class=\"data\"><tr><th>step / metric</th><th>baseline</th><th>candidate</th><th>change</th><th>confidence interval</th><th>verdict</th></tr>"
    );
    for s in &c.steps {
        let level = (1.0 - 2.0 * s.alpha) * 100.0;
        let _ = writeln!(
            out,
            "<tr class=\"step\"><td>{}</td><td colspan=\"4\" class=\"l\">{level:.1}% intervals (Holm)</td><td>{}</td></tr>",
            esc(s.id.name()),
            badge(verdict_label(s.verdict), s.verdict)
        );
        for m in &s.metrics {
            let [b, cand, change, interval] = super::views::metric_cells(m);
            let verdict = match (m.verdict, m.runs_needed) {
                (Verdict::Inconclusive, Some(n)) => format!(
                    "{} <small>~{n} more run{}</small>",
                    badge("inconclusive", m.verdict),
                    if n == 1 { "" } else { "s" }
                ),
                (v, _) => badge(verdict_label(v), v),
            };
            let _ = writeln!(
                out,
                "<tr><td>&nbsp;&nbsp;{}</td><td>{b}</td><td>{cand}</td><td>{change}</td><td>{interval}</td><td>{verdict}</td></tr>",
                esc(m.metric.name())
            );
        }
    }
    out.push_str("</table>\n");
}

fn run_table(out: &mut String, input: &ReportInput) {
    let run = &input.candidates[0];
    let _ = writeln!(
        out,
        "<h2>Per step</h2><table class=\"data\"><tr><th>step</th><th>count</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th><th>rate</th></tr>"
    );
    for (name, workflow) in steps(run) {
        let Some(s) = step(run, &name, workflow) else {
            continue;
        };
        let l = &s.latency;
        let has = l.count > 0;
        let v = |x: u64| if has { fmt_us(x) } else { "–".into() };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}/s</td></tr>",
            esc(&name),
            s.count,
            s.errors,
            v(l.p50),
            v(l.p90),
            v(l.p99),
            v(l.p999),
            v(l.max),
            s.throughput
        );
        if let Some(p) = &s.polls {
            let _ = writeln!(
                out,
                "<tr><td colspan=\"9\" class=\"l\"><small>polls: {} requests, {:.2} per attempt, at most {}</small></td></tr>",
                p.requests, p.mean, p.max
            );
        }
        for (kind, message) in &s.error_samples {
            let _ = writeln!(
                out,
                "<tr><td colspan=\"9\" class=\"l\"><small>{}: {}</small></td></tr>",
                esc(kind),
                esc(message)
            );
        }
    }
    out.push_str("</table>\n");
}

fn step_section(
    out: &mut String,
    input: &ReportInput,
    name: &str,
    workflow: bool,
) -> Result<(), ReportError> {
    let title = if workflow {
        "the whole workflow".to_string()
    } else {
        format!("step {name}")
    };
    let _ = writeln!(out, "<h3>{}</h3><div class=\"plots\">", esc(&title));
    let cand = merged(&input.candidates, name, workflow);
    let base = merged(&input.baseline, name, workflow);
    let svg = plots::svg((600, 330), |a| {
        percentiles::draw(
            a,
            &format!("{name}: latency by percentile"),
            base.as_ref(),
            (reported_side(input), cand.as_ref()),
        )
    })
    .map_err(plot("percentiles"))?;
    out.push_str(&svg);
    let run = &input.candidates[0];
    if let (Some(s), Some(series)) = (step(run, name, workflow), input.intervals.first()) {
        let points = s.interval_tag.as_ref().and_then(|t| series.get(t));
        if let Some(points) = points.filter(|p| !p.is_empty()) {
            let warmup = run
                .intervals
                .as_ref()
                .map(|i| i.warmup_intervals as f64 * i.seconds)
                .unwrap_or(0.0);
            let ts = timeline::Series {
                points,
                ok: &s.timeline_ok,
                errors: &s.timeline_errors,
                warmup,
                lag_p99: run
                    .health
                    .as_ref()
                    .map(|h| h.intervals.lag_p99.as_slice())
                    .unwrap_or(&[]),
            };
            let svg = plots::svg((600, 330), |a| {
                timeline::draw(a, &format!("{name}: latency over time"), &ts)
            })
            .map_err(plot("timeline"))?;
            out.push_str(&svg);
        }
    }
    if let Some(h) = input
        .history
        .iter()
        .find(|h| h.step == name)
        .filter(|h| !h.points.is_empty())
    {
        let candidate = step(run, name, workflow)
            .filter(|s| s.latency.count > 0)
            .map(|s| (s.latency.p50 as f64, s.latency.p99 as f64));
        let branch = input.history_branch.as_deref().unwrap_or("baseline");
        // Beside a baseline its branch's history is the baseline's; alone, the run's own branch.
        let reference = if input.baseline.is_empty() {
            branch
        } else {
            "baseline"
        };
        let svg = plots::svg((600, 330), |a| {
            history::draw(
                a,
                &format!("{name}: last {} runs of {branch}", h.points.len()),
                (reference, &h.points),
                candidate.map(|c| (reported_side(input), c)),
            )
        })
        .map_err(plot("history"))?;
        out.push_str(&svg);
    }
    out.push_str("</div>\n");
    Ok(())
}
