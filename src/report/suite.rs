//! A suite's report folder: index.html opens on the suite's summary (one row per scenario,
//! linking to its section) and holds every scenario's section, collapsed unless it failed;
//! summary.md is one compact table that fits a pull-request comment; summary.png shows the
//! suite; junit.xml has one `<testsuite>` per scenario; suite.json is the verdict.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::escape::{markdown as md, markdown_link, xml as esc};
use super::palette::{self, css};
use super::text::{Canvas, Style, fit};
use super::views::{Conclusion, short};
use super::{Folder, ReportError, ReportInput};
use crate::model::{SuiteComparison, SuiteMemberResult, Verdict};

/// GitHub's limit on a pull-request comment, in characters; summary.md stays under it.
pub const COMMENT_LIMIT: usize = 65_536;

/// Everything a suite report shows.
#[derive(Debug, Clone)]
pub struct SuiteReportInput {
    /// The suite's verdict.
    pub verdict: SuiteComparison,
    /// Each scenario's report input, in suite order (members that ran).
    pub scenarios: Vec<ReportInput>,
    /// Where index.html will be reachable, for summary.md.
    pub link: Option<String>,
}

/// How the suite concludes.
pub fn conclusion(v: &SuiteComparison) -> Conclusion {
    if !v.overall.passed {
        Conclusion::Failed
    } else if v.overall.inconclusive > 0 {
        Conclusion::Inconclusive
    } else {
        Conclusion::Passed
    }
}

/// Writes the suite's report folder; returns the files written.
pub fn write_suite(input: &SuiteReportInput, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut folder = Folder::create(dir)?;
    folder.put("index.html", html(input)?.as_bytes())?;
    folder.put("summary.png", &png(&input.verdict)?)?;
    folder.put("summary.md", markdown(input, true).as_bytes())?;
    folder.put("junit.xml", junit(input).as_bytes())?;
    folder.json("suite.json", &input.verdict)?;
    Ok(folder.written)
}

fn anchor(scenario: &str) -> String {
    let safe: String = scenario
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("s-{safe}")
}

fn member_verdict(m: &SuiteMemberResult) -> Verdict {
    match m.verdict.as_str() {
        "regressed" => Verdict::Regressed,
        "improved" => Verdict::Improved,
        "unchanged" => Verdict::Unchanged,
        _ if !m.passed => Verdict::Regressed,
        _ => Verdict::Inconclusive,
    }
}

/// index.html.
pub fn html(input: &SuiteReportInput) -> Result<String, ReportError> {
    let v = &input.verdict;
    let banner = palette::conclusion(conclusion(v));
    let mut out = String::with_capacity(256 * 1024);
    let _ = writeln!(out, "<h1>rehearse suite report: {}</h1>", esc(&v.suite));
    let _ = writeln!(
        out,
        "<div class=\"banner\" style=\"background:{};color:{}\">{}</div>",
        css(banner),
        css(palette::text_on(banner)),
        esc(&v.overall.summary)
    );
    let _ = writeln!(
        out,
        "<table class=\"meta\"><tr><th>suite run</th><td><code>{}</code></td></tr><tr><th>compared with</th><td>{}</td></tr><tr><th>scenarios</th><td>{} ({} in one Holm family of {} steps)</td></tr></table>",
        esc(&v.id),
        esc(v.baseline.as_deref().unwrap_or("nothing: thresholds only")),
        v.members.len(),
        v.scenarios.len(),
        v.overall.holm_family
    );
    let _ = writeln!(
        out,
        "<h2>Scenarios</h2><table class=\"data\"><tr><th></th><th class=\"l\">scenario</th><th class=\"l\">verdict</th><th class=\"l\">worst change</th><th class=\"l\">thresholds</th><th>runs</th></tr>"
    );
    for m in &v.members {
        let colour = palette::verdict(member_verdict(m));
        let _ = writeln!(
            out,
            "<tr><td><span class=\"badge\" style=\"background:{};color:{}\">{}</span></td><td class=\"l\"><a href=\"#{}\">{}</a></td><td class=\"l\">{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td></tr>",
            css(colour),
            css(palette::text_on(colour)),
            if m.passed { "ok" } else { "FAIL" },
            anchor(&m.scenario),
            esc(&m.scenario),
            esc(&m.verdict),
            esc(m.worst.as_deref().unwrap_or("–")),
            if m.breaches.is_empty() {
                "met".to_string()
            } else {
                esc(&format!("BREACHED: {}", m.breaches.join(", ")))
            },
            m.run_ids.len()
        );
    }
    out.push_str("</table>\n");
    for missing in &v.missing {
        let _ = writeln!(out, "<div class=\"note\">missing: {}</div>", esc(missing));
    }
    for skipped in &v.skipped {
        let _ = writeln!(
            out,
            "<div class=\"note\">skipped by the suite file: {}</div>",
            esc(skipped)
        );
    }
    // Each scenario's section, collapsed when it passed (a suite of 25 reads top down).
    for (m, scenario) in v.members.iter().zip(&input.scenarios) {
        let _ = writeln!(
            out,
            "<details id=\"{}\"{}><summary><h2 style=\"display:inline\">{} — {}</h2></summary>",
            anchor(&m.scenario),
            if m.passed { "" } else { " open" },
            esc(&m.scenario),
            esc(&m.verdict)
        );
        let notable = !m.passed || matches!(m.verdict.as_str(), "regressed" | "improved");
        let detail = if notable {
            super::html::Detail::Full
        } else {
            super::html::Detail::Workflow
        };
        out.push_str(&super::html::section(scenario, detail)?);
        out.push_str("</details>\n");
    }
    let ended = input
        .scenarios
        .iter()
        .filter_map(|s| s.candidates.last()?.ended_at.clone())
        .max();
    Ok(super::html::document(
        &format!("rehearse suite: {} ({})", v.suite, v.overall.summary),
        &out,
        ended.as_deref(),
    ))
}

/// summary.md: one compact table; details only for what failed, cut before GitHub's limit.
pub fn markdown(input: &SuiteReportInput, beside_html: bool) -> String {
    let v = &input.verdict;
    let mark = match conclusion(v) {
        Conclusion::Passed => "✅",
        Conclusion::Inconclusive => "⚠️",
        Conclusion::Failed => "❌",
    };
    let mut out = String::new();
    let _ = writeln!(out, "### {mark} suite {}: {}\n", md(&v.suite), headline(v));
    let link = match (input.link.as_deref().and_then(markdown_link), beside_html) {
        (Some(url), _) => format!(" [Full report]({url})"),
        (None, true) => " [Full report](index.html)".to_string(),
        (None, false) => String::new(),
    };
    let against = v
        .baseline
        .as_deref()
        .map(|b| format!(" vs `{}`", b.replace('`', "'")))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{} scenarios{against} · suite run `{}`.{link}\n",
        v.members.len(),
        short(&v.id)
    );
    for missing in &v.missing {
        let _ = writeln!(out, "❌ missing: {}\n", md(missing));
    }
    let rows: Vec<(bool, String)> = v
        .members
        .iter()
        .map(|m| {
            let row = format!(
                "| {} | {} | {} | {} | {} |\n",
                if m.passed { "✅" } else { "❌" },
                md(&m.scenario),
                md(&m.verdict),
                md(m.worst.as_deref().unwrap_or("–")),
                if m.breaches.is_empty() {
                    "met".to_string()
                } else {
                    md(&m.breaches.join(", "))
                }
            );
            (m.passed, row)
        })
        .collect();
    out.push_str("| | scenario | verdict | worst change | thresholds |\n|---|---|---|---|---|\n");
    // Room for the table: the comment's limit, less what is written and a closing line.
    let budget = COMMENT_LIMIT.saturating_sub(out.chars().count() + 512);
    let total: usize = rows.iter().map(|(_, r)| r.chars().count()).sum();
    if total <= budget {
        for (_, row) in &rows {
            out.push_str(row);
        }
    } else {
        // Too many rows for one comment: failing scenarios first, then passing ones, in suite
        // order, as many as fit; the rest are counted.
        let mut used = 0;
        let (mut failing_left, mut passing_left) = (0, 0);
        let order = rows
            .iter()
            .filter(|r| !r.0)
            .chain(rows.iter().filter(|r| r.0));
        for (passed, row) in order {
            let n = row.chars().count();
            if used + n <= budget && failing_left + passing_left == 0 {
                out.push_str(row);
                used += n;
            } else if *passed {
                passing_left += 1;
            } else {
                failing_left += 1;
            }
        }
        let _ = writeln!(
            out,
            "\n… {} more scenarios not shown ({failing_left} failing, {passing_left} passing), cut to fit a comment: see the full report",
            failing_left + passing_left
        );
    }
    // What failed, in detail, as long as the comment stays under GitHub's limit.
    let mut details = String::new();
    for c in v.scenarios.iter().filter(|c| !c.overall.passed) {
        let _ = writeln!(
            details,
            "- **{}**: {}",
            md(&c.scenario),
            md(&c.overall.summary)
        );
    }
    if !details.is_empty() {
        let block = format!("\n<details><summary>What failed</summary>\n\n{details}\n</details>\n");
        if out.chars().count() + block.chars().count() < COMMENT_LIMIT - 256 {
            out.push_str(&block);
        } else {
            out.push_str(
                "\n(what failed, step by step, is in the full report: too long for a comment)\n",
            );
        }
    }
    out
}

/// The heading's verdict: the suite's summary while it is short, else what it counts (a
/// suite with hundreds of regressions would otherwise fill the comment with its heading).
fn headline(v: &SuiteComparison) -> String {
    const SHORT: usize = 300;
    if v.overall.summary.chars().count() <= SHORT {
        return md(&v.overall.summary);
    }
    let failing = v.members.iter().filter(|m| !m.passed).count();
    let mut parts = vec![format!("{failing} of {} scenarios failed", v.members.len())];
    if !v.missing.is_empty() {
        parts.push(format!("{} missing", v.missing.len()));
    }
    if !v.overall.regressed.is_empty() {
        parts.push(format!("{} steps regressed", v.overall.regressed.len()));
    }
    if !v.overall.breaches.is_empty() {
        parts.push(format!("{} thresholds breached", v.overall.breaches.len()));
    }
    parts.join(", ")
}

/// junit.xml: one `<testsuite>` per scenario.
pub fn junit(input: &SuiteReportInput) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut skipped) = (0, 0, 0);
    for scenario in &input.scenarios {
        let (xml, t, f, s) = super::junit::testsuite(scenario);
        suites.push_str(&xml);
        tests += t;
        failures += f;
        skipped += s;
    }
    for missing in &input.verdict.missing {
        tests += 1;
        failures += 1;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"missing\" tests=\"1\" failures=\"1\" errors=\"0\" skipped=\"0\">\n    <testcase classname=\"suite\" name=\"missing\" time=\"0\">\n      <failure message=\"{}\" type=\"missing\">{}</failure>\n    </testcase>\n  </testsuite>",
            esc(missing),
            esc(missing)
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rehearse suite {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{suites}</testsuites>\n",
        esc(&input.verdict.suite)
    )
}

const WIDTH: u32 = 1400;
const ROW: u32 = 26;
const TOP: u32 = 96;
const MARGIN: f32 = 18.0;
/// Left and right ends of the change column, pixels: every scenario's worst latency change on
/// one axis, so the regressed ones stand out without reading a number.
pub const CHART: (u32, u32) = (940, 1380);
/// Gridlines: light enough that bars and whiskers read over them.
const GRID: plotters::style::RGBColor = plotters::style::RGBColor(0xDD, 0xDD, 0xDD);

/// The text baseline of table row `i` of summary.png (0 is the column headings).
fn row_baseline(i: usize) -> f32 {
    TOP as f32 + 14.0 + ROW as f32 * i as f32
}

/// The vertical centre, pixels, of scenario row `i` (0-based) of summary.png.
pub fn row_centre(i: usize) -> u32 {
    (row_baseline(i + 1) - 5.0) as u32
}

/// A scenario's worst latency change and its interval, percent, with the verdict.
struct Bar {
    change: f64,
    low: f64,
    high: f64,
    verdict: Verdict,
    /// e.g. `p99 of pay`.
    what: String,
}

fn bars(v: &SuiteComparison) -> Vec<Option<Bar>> {
    v.members
        .iter()
        .map(|m| {
            let c = v.scenarios.iter().find(|c| c.scenario == m.scenario)?;
            let (step, metric) = c.worst_latency()?;
            Some(Bar {
                change: metric.change * 100.0,
                low: metric.interval[0] * 100.0,
                high: metric.interval[1] * 100.0,
                verdict: metric.verdict,
                what: format!("{} of {}", metric.metric.name(), step.id),
            })
        })
        .collect()
}

/// The change axis, percent (low, high), and its tick step: it follows the changes and clamps
/// whiskers rather than squash every bar (as the single-run change chart does), and never
/// goes below -100%, which no latency can. Steps are 1, 2 or 5 times a power of ten, at most
/// three of them either side of zero.
fn axis(bars: &[Option<Bar>]) -> (f64, f64, f64) {
    let shown = bars.iter().flatten();
    let by_change = shown
        .clone()
        .map(|b| b.change.abs() * 3.0)
        .fold(20.0, f64::max);
    let reach = shown
        .flat_map(|b| [b.change.abs() * 1.2, b.low.abs(), b.high.abs()])
        .filter(|x| x.is_finite())
        .fold(10.0, f64::max)
        .min(by_change);
    let step = (0..12)
        .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
        .find(|step| reach / step <= 3.0)
        .unwrap_or(1e12);
    let high = (reach / step).ceil() * step;
    let low = -((reach.min(100.0) / step).ceil() * step).min(100.0);
    (low, high, step)
}

/// The change axis of a suite's summary.png, percent: its left and right ends.
pub fn change_axis(v: &SuiteComparison) -> (f64, f64) {
    let (low, high, _) = axis(&bars(v));
    (low, high)
}

/// summary.png: the suite's verdict, one row per scenario (verdict, worst change, breaches),
/// and beside each its worst change as a bar with its interval on one shared axis.
pub fn png(v: &SuiteComparison) -> Result<Vec<u8>, ReportError> {
    let rows = (v.members.len() + v.missing.len()) as u32;
    let height = TOP + ROW * (rows + 1) + 40;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    let banner = palette::conclusion(conclusion(v));
    fill(&mut pixels, 0, 0, WIDTH, 84, banner);
    let bars = bars(v);
    // Nothing was compared (thresholds only): no change column to draw.
    let charted = bars.iter().any(Option::is_some);
    let (low, high, step) = axis(&bars);
    let (left, right) = CHART;
    let x_of = |value: f64| {
        let t = (value.clamp(low, high) - low) / (high - low);
        left + (t * f64::from(right - left)).round() as u32
    };
    let first = row_centre(0) - ROW / 2;
    let last = row_centre(v.members.len().max(1) - 1) + ROW / 2;
    let mut ticks = ((low / step).ceil() as i64..=(high / step).floor() as i64)
        .map(|k| k as f64 * step)
        .collect::<Vec<_>>();
    if ticks.first().is_some_and(|&t| t > low) {
        // -100% when the step does not reach it: the axis's end is labelled.
        ticks.insert(0, low);
    }
    if charted {
        for &t in &ticks {
            let colour = if t == 0.0 { palette::INK } else { GRID };
            fill(&mut pixels, x_of(t), first, 1, last - first, colour);
        }
        for (i, bar) in bars.iter().enumerate() {
            let Some(b) = bar else { continue };
            let y = row_centre(i);
            let (zero, end) = (x_of(0.0), x_of(b.change));
            let colour = palette::verdict(b.verdict);
            fill(
                &mut pixels,
                zero.min(end),
                y - 7,
                zero.abs_diff(end).max(2),
                14,
                colour,
            );
            let (lo, hi) = (x_of(b.low), x_of(b.high));
            fill(
                &mut pixels,
                lo.min(hi),
                y - 1,
                lo.abs_diff(hi).max(1),
                2,
                palette::INK,
            );
            for (edge, x) in [(b.low, lo), (b.high, hi)] {
                // An open end (clamped) gets no cap: the interval goes on.
                if (low..=high).contains(&edge) {
                    fill(&mut pixels, x.saturating_sub(1), y - 5, 2, 10, palette::INK);
                }
            }
        }
    }
    let mut canvas = Canvas {
        pixels: &mut pixels,
        width: WIDTH,
        height,
    };
    let on_banner = palette::text_on(banner);
    let title = Style {
        size: 22.0,
        bold: true,
        colour: on_banner,
    };
    let small = Style {
        size: 14.0,
        bold: false,
        colour: on_banner,
    };
    let ink = Style {
        size: 14.0,
        bold: false,
        colour: palette::INK,
    };
    let head = Style { bold: true, ..ink };
    let width = WIDTH as f32 - 2.0 * MARGIN;
    canvas.text(
        &fit(
            &format!("suite {}: {}", v.suite, v.overall.summary),
            width,
            title,
        ),
        MARGIN,
        38.0,
        title,
    );
    canvas.text(
        &fit(
            &format!(
                "{} scenarios · compared with {} · suite run {}",
                v.members.len(),
                v.baseline.as_deref().unwrap_or("nothing (thresholds only)"),
                short(&v.id)
            ),
            width,
            small,
        ),
        MARGIN,
        66.0,
        small,
    );
    let y0 = row_baseline(0);
    canvas.text("scenario", MARGIN + 26.0, y0, head);
    canvas.text("verdict", 400.0, y0, head);
    canvas.text("worst change [interval]", 520.0, y0, head);
    if charted {
        let tick = Style { size: 12.0, ..ink };
        // Left to right, a label that would touch the one before it is left out.
        let mut free_from = f32::MIN;
        for &t in &ticks {
            let label = if t == 0.0 {
                "0".to_string()
            } else {
                format!("{t:+.0}%")
            };
            let w = super::text::width(&label, tick);
            let x = (x_of(t) as f32 - w / 2.0).clamp(left as f32 - 20.0, WIDTH as f32 - MARGIN - w);
            if x >= free_from {
                canvas.text(&label, x, y0, tick);
                free_from = x + w + 8.0;
            }
        }
    }
    let text_end = left as f32 - 16.0;
    let mut marks = Vec::new();
    for (i, m) in v.members.iter().enumerate() {
        let y = row_baseline(i + 1);
        marks.push((y, palette::verdict(member_verdict(m))));
        canvas.text(&fit(&m.scenario, 344.0, ink), MARGIN + 26.0, y, ink);
        canvas.text(&m.verdict, 400.0, y, ink);
        // The numbers first, then the breaches: a long step name is what gets cut.
        let mut parts: Vec<String> = Vec::new();
        match &bars[i] {
            Some(b) => parts.push(format!(
                "{:+.1}% [{:+.1}%, {:+.1}%]",
                b.change, b.low, b.high
            )),
            None => parts.extend(m.worst.clone()),
        }
        if !m.breaches.is_empty() {
            parts.push(format!("breached: {}", m.breaches.join(", ")));
        }
        if let Some(b) = &bars[i] {
            parts.push(b.what.clone());
        }
        let tail = parts.join("  ");
        canvas.text(&fit(&tail, text_end - 520.0, ink), 520.0, y, ink);
    }
    for (j, missing) in v.missing.iter().enumerate() {
        let y = row_baseline(v.members.len() + j + 1);
        marks.push((y, palette::verdict(Verdict::Regressed)));
        canvas.text(
            &fit(&format!("missing: {missing}"), width - 26.0, ink),
            MARGIN + 26.0,
            y,
            ink,
        );
    }
    canvas.text(
        &fit(
            &format!(
                "rehearse {} · latencies corrected for coordinated omission · one Holm family of {} steps · bars: each scenario's worst latency change, whiskers its confidence interval",
                env!("CARGO_PKG_VERSION"),
                v.overall.holm_family
            ),
            width,
            Style { size: 12.0, ..ink },
        ),
        MARGIN,
        height as f32 - 14.0,
        Style { size: 12.0, ..ink },
    );

    for (y, colour) in marks {
        fill(
            &mut pixels,
            MARGIN as u32,
            (y - 12.0) as u32,
            14,
            14,
            colour,
        );
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, WIDTH, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels).and_then(|_| w.finish()))
        .map_err(|e| ReportError::Plot {
            what: "suite summary.png".into(),
            message: e.to_string(),
        })?;
    Ok(bytes)
}

fn fill(pixels: &mut [u8], x: u32, y: u32, w: u32, h: u32, c: plotters::style::RGBColor) {
    for yy in y..y + h {
        for xx in x..(x + w).min(WIDTH) {
            let i = ((yy * WIDTH + xx) * 3) as usize;
            if i + 2 < pixels.len() {
                pixels[i..i + 3].copy_from_slice(&[c.0, c.1, c.2]);
            }
        }
    }
}
