//! What `rehearse watch` found, for the console, a pull request or chat (summary.md), a
//! ticket (index.html: self-contained, every change's trend with the change marked) and an
//! image (summary.png: the most important change's trend).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::escape::{markdown, markdown_link, xml};
use super::plots::{self, series};
use super::{Folder, ReportError};
use crate::model::{ChangePoint, WatchReport, WatchedChange};
use crate::report::console::fmt_us;

const PNG_SIZE: (u32, u32) = (1200, 560);
const SVG_SIZE: (u32, u32) = (900, 340);

/// A change's levels in words: "80.1 ms → 86.6 ms".
pub fn levels(c: &ChangePoint) -> String {
    let show = |v: f64| match c.metric.as_str() {
        "error_rate" => format!("{:.2}%", v * 100.0),
        "throughput" => format!("{v:.1}/s"),
        _ => fmt_us(v.round() as u64),
    };
    format!("{} → {}", show(c.before), show(c.after))
}

/// The change's shape in words.
fn shape(c: &ChangePoint) -> String {
    match c.creep_runs {
        Some(n) => format!("creep over {n} runs"),
        None => "step".into(),
    }
}

fn interval(c: &ChangePoint) -> String {
    let f = |v: f64| {
        if c.metric == "error_rate" {
            format!("{:+.2}pt", v * 100.0)
        } else {
            format!("{:+.1}%", v * 100.0)
        }
    };
    format!("[{}, {}]", f(c.interval.0), f(c.interval.1))
}

fn state(w: &WatchedChange, watching: bool) -> &'static str {
    if !watching {
        return if w.change.worse {
            "regressed"
        } else {
            "improved"
        };
    }
    match (w.new, w.change.worse) {
        (true, true) => "NEW REGRESSION",
        (true, false) => "new improvement",
        (false, true) => "known regression",
        (false, false) => "known improvement",
    }
}

/// The console text; `verdict` adds the watch's closing line.
pub fn console(r: &WatchReport, verdict: bool) -> String {
    let mut out = String::new();
    for s in &r.scenarios {
        let _ = writeln!(
            out,
            "{} on {}: {} runs searched",
            s.scenario,
            r.branch,
            s.runs.len()
        );
        if s.changes.is_empty() {
            let _ = writeln!(out, "  no change points");
        }
        for w in &s.changes {
            let c = &w.change;
            let _ = writeln!(
                out,
                "  {:<17} {} {}: {} {} ({}), {}; from run {} (bisect {}), {} runs since",
                state(w, verdict),
                c.step,
                c.metric,
                c.effect_text(),
                interval(c),
                levels(c),
                shape(c),
                c.run_id,
                c.range(),
                c.runs_after
            );
        }
    }
    if verdict {
        let new_worse = r.new_changes().filter(|c| c.change.worse).count();
        let _ = writeln!(
            out,
            "watch: {new_worse} new regression{}",
            if new_worse == 1 { "" } else { "s" }
        );
    }
    out
}

/// Writes index.html, summary.md, summary.png and watch.json into `dir`; returns the files.
pub fn write(r: &WatchReport, dir: &Path, link: Option<&str>) -> Result<Vec<PathBuf>, ReportError> {
    let mut folder = Folder::create(dir)?;
    folder.put("index.html", html(r)?.as_bytes())?;
    folder.put("summary.md", summary_md(r, link).as_bytes())?;
    folder.put("summary.png", &png(r)?)?;
    folder.json("watch.json", r)?;
    Ok(folder.written)
}

/// summary.md: the changes this watch announced first, then the known ones.
pub fn summary_md(r: &WatchReport, link: Option<&str>) -> String {
    let mut out = String::new();
    let new_worse = r.new_changes().filter(|c| c.change.worse).count();
    let _ = writeln!(
        out,
        "### rehearse watch of `{}`: {}\n",
        markdown(&r.branch),
        if new_worse > 0 {
            format!(
                "{new_worse} new regression{}",
                if new_worse == 1 { "" } else { "s" }
            )
        } else {
            "no new regression".into()
        }
    );
    let rows: Vec<(&str, &WatchedChange)> = r
        .scenarios
        .iter()
        .flat_map(|s| s.changes.iter().map(move |c| (s.scenario.as_str(), c)))
        .collect();
    if rows.is_empty() {
        let _ = writeln!(out, "No change points in the runs searched.");
    } else {
        let _ = writeln!(
            out,
            "| | scenario | step | metric | change | levels | shape | first run | bisect |\n|---|---|---|---|---|---|---|---|---|"
        );
        let mut ordered = rows.clone();
        ordered.sort_by_key(|(_, c)| (!c.new, !c.change.worse));
        for (scenario, w) in ordered {
            let c = &w.change;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} {} | {} | {} | `{}` | `{}` |",
                state(w, true),
                markdown(scenario),
                markdown(&c.step),
                c.metric,
                c.effect_text(),
                interval(c),
                levels(c),
                shape(c),
                markdown(&c.run_id),
                c.range()
            );
        }
    }
    if let Some(url) = link.and_then(markdown_link) {
        let _ = writeln!(out, "\n[Trends with the changes marked]({url})");
    }
    out
}

/// The change shown in summary.png: the surest new regression (smallest p), else the surest
/// new change, else the surest known one.
fn headline(r: &WatchReport) -> Option<&WatchedChange> {
    let all = || r.scenarios.iter().flat_map(|s| s.changes.iter());
    let surest = |keep: &dyn Fn(&WatchedChange) -> bool| {
        all()
            .filter(|c| keep(c))
            .min_by(|a, b| a.change.p.total_cmp(&b.change.p))
    };
    surest(&|c| c.new && c.change.worse)
        .or_else(|| surest(&|c| c.new))
        .or_else(|| surest(&|_| true))
}

fn title(w: &WatchedChange) -> String {
    let c = &w.change;
    format!(
        "{}: {} {} {} at run {} (bisect {})",
        c.scenario,
        c.step,
        c.metric,
        c.effect_text(),
        c.index + 1,
        c.range()
    )
}

/// index.html: self-contained (inline SVG and CSS, nothing fetched, no script).
fn html(r: &WatchReport) -> Result<String, ReportError> {
    let mut out = String::new();
    let new_worse = r.new_changes().filter(|c| c.change.worse).count();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
<title>rehearse watch: {}</title><style>body{{font-family:sans-serif;margin:2em;color:#333}}\
table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:4px 8px;text-align:left}}\
.new{{font-weight:bold;color:#D55E00}}</style></head><body>\n<h1>rehearse watch of <code>{}</code>: {}</h1>\n",
        xml(&r.branch),
        xml(&r.branch),
        if new_worse > 0 {
            format!("{new_worse} new regression(s)")
        } else {
            "no new regression".into()
        }
    );
    for s in &r.scenarios {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<p>{} runs of {} searched{}.</p>",
            xml(&s.scenario),
            s.runs.len(),
            xml(&r.branch),
            match (s.runs.first(), s.runs.last()) {
                (Some(a), Some(b)) => format!(
                    ", {} to {}",
                    xml(a.started_at.as_deref().unwrap_or("?")),
                    xml(b.started_at.as_deref().unwrap_or("?"))
                ),
                _ => String::new(),
            }
        );
        if s.changes.is_empty() {
            out.push_str("<p>No change points.</p>\n");
            continue;
        }
        out.push_str("<table><tr><th></th><th>step</th><th>metric</th><th>change</th><th>levels</th><th>shape</th><th>first run</th><th>bisect</th></tr>\n");
        for w in &s.changes {
            let c = &w.change;
            let _ = writeln!(
                out,
                "<tr><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                if w.new { "new" } else { "" },
                state(w, true),
                xml(&c.step),
                xml(&c.metric),
                xml(&c.effect_text()),
                xml(&interval(c)),
                xml(&levels(c)),
                xml(&shape(c)),
                xml(&c.run_id),
                xml(&c.range())
            );
        }
        out.push_str("</table>\n");
        for w in s.changes.iter().filter(|w| !w.series.is_empty()) {
            let svg = plots::svg(SVG_SIZE, |area| {
                series::draw(area, &title(w), &w.series, &w.change)
            })
            .map_err(|e| ReportError::Plot {
                what: format!("the trend of {} {}", w.change.step, w.change.metric),
                message: e.to_string(),
            })?;
            let _ = writeln!(out, "<figure>{svg}</figure>");
        }
    }
    out.push_str("</body></html>\n");
    Ok(out)
}

/// summary.png: the headline change's trend, or a note that there is none.
fn png(r: &WatchReport) -> Result<Vec<u8>, ReportError> {
    plots::register_fonts();
    let (w, h) = PNG_SIZE;
    let mut pixels = vec![255u8; (w * h * 3) as usize];
    let fail = |message: String| ReportError::Plot {
        what: "summary.png".into(),
        message,
    };
    {
        let root = BitMapBackend::with_buffer(&mut pixels, PNG_SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(format!("{e:?}")))?;
        match headline(r).filter(|c| !c.series.is_empty()) {
            Some(c) => series::draw(&root, &title(c), &c.series, &c.change)
                .map_err(|e| fail(e.to_string()))?,
            None => {
                root.draw(&Text::new(
                    format!("rehearse watch of {}: no change points", r.branch),
                    (40, 40),
                    (plots::FONT, 24).into_font(),
                ))
                .map_err(|e| fail(format!("{e:?}")))?;
            }
        }
        root.present().map_err(|e| fail(format!("{e:?}")))?;
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut wr| wr.write_image_data(&pixels).and_then(|_| wr.finish()))
        .map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RunRef, WatchedScenario};

    fn change(step: &str, worse: bool, p: f64, new: bool) -> WatchedChange {
        WatchedChange {
            change: ChangePoint {
                scenario: "pay-invoice".into(),
                step: step.into(),
                metric: "p50".into(),
                worse,
                run_id: "run-31".into(),
                commit: Some("c31".into()),
                started_at: None,
                previous_run_id: Some("run-30".into()),
                previous_commit: Some("c30".into()),
                before: 80_000.0,
                after: 86_400.0,
                effect: 0.08,
                interval: (0.05, 0.11),
                p,
                runs_before: 30,
                runs_after: 10,
                index: 30,
                creep: None,
                creep_runs: None,
            },
            new,
            series: (0..40)
                .map(|i| Some(if i >= 30 { 86_400.0 } else { 80_000.0 }))
                .collect(),
        }
    }

    fn report(changes: Vec<WatchedChange>) -> WatchReport {
        WatchReport {
            branch: "main".into(),
            scenarios: vec![WatchedScenario {
                scenario: "pay-invoice".into(),
                runs: (0..40)
                    .map(|i| RunRef {
                        run_id: format!("run-{i}"),
                        commit: Some(format!("c{i}")),
                        started_at: None,
                    })
                    .collect(),
                changes,
            }],
        }
    }

    #[test]
    fn the_summary_leads_with_new_regressions_and_names_the_range_to_bisect() {
        let r = report(vec![
            change("login", false, 1e-3, false),
            change("pay <b>", true, 1e-6, true),
        ]);
        let md = summary_md(&r, Some("https://ci.example.com/r/1"));
        assert!(md.contains("1 new regression"), "{md}");
        let first_row = md.lines().find(|l| l.starts_with("| NEW")).unwrap();
        assert!(
            first_row.contains("`c30..c31`") && first_row.contains("+8.0%"),
            "{md}"
        );
        assert!(!md.contains("<b>"), "step names are escaped: {md}");
        assert!(md.contains("(https://ci.example.com/r/1)"));
        assert_eq!(headline(&r).unwrap().change.step, "pay <b>");
        let text = console(&r, true);
        assert!(text.contains("NEW REGRESSION") && text.ends_with("watch: 1 new regression\n"));
    }

    #[test]
    fn the_report_folder_has_a_marked_trend_and_a_picture() {
        let dir = tempfile::tempdir().unwrap();
        let r = report(vec![change("pay", true, 1e-6, true)]);
        write(&r, dir.path(), None).unwrap();
        let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
        assert!(
            html.contains("<svg") && html.contains("change +8.0%"),
            "the change is marked"
        );
        assert!(!html.contains("<script"));
        let png = std::fs::read(dir.path().join("summary.png")).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        assert!(buf.iter().any(|b| *b < 128), "something is drawn");
    }
}
