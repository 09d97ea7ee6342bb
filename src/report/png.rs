//! summary.png: one image that tells the story on its own (verdict, per-step change with
//! intervals, key percentiles) for tickets and chat. All text is drawn with the embedded
//! DejaVu Sans, so it renders on a machine with no fonts installed.

use plotters::prelude::*;

use super::plots::{self, change, cut, err};
use super::text::{Canvas, Style, width};
use super::views::{headline, short, step, steps, when};
use super::{ReportError, ReportInput, palette};
use crate::model::{SummaryMetric, Verdict};
use crate::report::console::fmt_us;

const WIDTH: u32 = 1200;
const HEADER: u32 = 84;
const FOOTER: u32 = 30;
const ROW: u32 = 24;
const LEFT: u32 = 760;

/// The PNG bytes.
pub fn png(input: &ReportInput) -> Result<Vec<u8>, ReportError> {
    plots::register_fonts();
    let rows = steps(&input.candidates[0]).len() as u32;
    let body = match &input.comparison {
        Some(c) => change::height(c),
        None => 60 + ROW * rows,
    }
    .max(56 + ROW * (rows + 1));
    let height = HEADER + body + FOOTER;
    let mut pixels = vec![255u8; (WIDTH * height * 3) as usize];
    let fail = |message: String| ReportError::Plot {
        what: "summary.png".into(),
        message,
    };
    let labels = shapes(input, &mut pixels, height, body).map_err(fail)?;
    let mut canvas = Canvas {
        pixels: &mut pixels,
        width: WIDTH,
        height,
    };
    words(input, &mut canvas, body, &labels);
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, WIDTH, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let encoded = encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&pixels).and_then(|_| w.finish()));
    encoded.map_err(|e| fail(e.to_string()))?;
    Ok(bytes)
}

fn banner(input: &ReportInput) -> RGBColor {
    let h = headline(input);
    match (h.passed, h.verdict) {
        (false, _) => palette::verdict(Verdict::Regressed),
        (true, Some(Verdict::Unchanged))
        | (true, Some(Verdict::Inconclusive))
        | (true, Some(Verdict::Improved))
        | (true, None) => palette::verdict(Verdict::Improved),
        (true, Some(v)) => palette::verdict(v),
    }
}

/// Everything but text: the banner, the chart, the bars.
fn shapes(
    input: &ReportInput,
    pixels: &mut [u8],
    height: u32,
    body: u32,
) -> Result<Vec<change::RowLabel>, String> {
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (header, rest) = root.split_vertically(HEADER);
    header.fill(&banner(input)).map_err(err)?;
    let (main, _) = rest.split_vertically(body);
    let (left, _) = main.split_horizontally(LEFT);
    let labels = match &input.comparison {
        Some(c) => change::draw(&left, c, None)?,
        None => {
            // Without a baseline: p50 and p99 of each step as bars on one scale.
            let run = &input.candidates[0];
            let top = steps(run)
                .iter()
                .filter_map(|(n, w)| step(run, n, *w))
                .map(|s| s.latency.p99)
                .max()
                .unwrap_or(1)
                .max(1) as f64;
            for (i, (name, workflow)) in steps(run).iter().enumerate() {
                let Some(s) = step(run, name, *workflow) else {
                    continue;
                };
                let y = (HEADER + 44 + ROW * i as u32) as i32;
                let x0 = 190;
                let span = (LEFT as f64 - 240.0) / top;
                let p99 = (s.latency.p99 as f64 * span) as i32;
                let p50 = (s.latency.p50 as f64 * span) as i32;
                root.draw(&Rectangle::new(
                    [(x0, y - 8), (x0 + p99.max(1), y + 8)],
                    palette::CANDIDATE.mix(0.35).filled(),
                ))
                .map_err(err)?;
                root.draw(&Rectangle::new(
                    [(x0, y - 8), (x0 + p50.max(1), y + 8)],
                    palette::CANDIDATE.filled(),
                ))
                .map_err(err)?;
            }
            Vec::new()
        }
    };
    root.present().map_err(err)?;
    Ok(labels)
}

/// All the text.
fn words(input: &ReportInput, canvas: &mut Canvas, body: u32, labels: &[change::RowLabel]) {
    let run = &input.candidates[0];
    let h = headline(input);
    let white = RGBColor(255, 255, 255);
    let title = Style {
        size: 24.0,
        bold: true,
        colour: white,
    };
    let mark = if h.passed { "PASS" } else { "FAIL" };
    canvas.text(
        &cut(&format!("{mark}  {}: {}", run.scenario, h.text), 86),
        18.0,
        38.0,
        title,
    );
    let subtitle = match &input.comparison {
        Some(c) => format!(
            "candidate {} vs baseline {} ({} run{})  ·  {}",
            match c.candidate.run_ids.as_slice() {
                [one] => short(one).to_string(),
                many => format!("{} runs", many.len()),
            },
            c.baseline.spec,
            c.baseline.run_ids.len(),
            if c.baseline.run_ids.len() == 1 {
                ""
            } else {
                "s"
            },
            when(run.started_at.as_deref())
        ),
        None => format!(
            "run {}  ·  {}  ·  {}",
            short(&run.run_id),
            run.target.as_deref().unwrap_or(""),
            when(run.started_at.as_deref())
        ),
    };
    canvas.text(
        &cut(&subtitle, 140),
        18.0,
        68.0,
        Style {
            size: 15.0,
            bold: false,
            colour: white,
        },
    );

    let ink = Style {
        size: 13.0,
        bold: false,
        colour: palette::INK,
    };
    let head = Style {
        size: 14.0,
        bold: true,
        colour: palette::INK,
    };
    let alarm = Style {
        size: 13.0,
        bold: true,
        colour: palette::verdict(Verdict::Regressed),
    };
    let top = HEADER as f32;
    match &input.comparison {
        Some(_) => {
            canvas.text(
                "Change per step: p50 and p99, with confidence intervals",
                170.0,
                top + 18.0,
                head,
            );
            for l in labels {
                let style = if l.verdict == Verdict::Regressed {
                    alarm
                } else {
                    ink
                };
                canvas.text_right(&l.text, l.x as f32, l.y as f32 + 4.5, style);
            }
        }
        None => {
            canvas.text(
                "p50 (solid) and p99 (light) per step",
                190.0,
                top + 18.0,
                head,
            );
            for (i, (name, workflow)) in steps(run).iter().enumerate() {
                let y = top + 44.0 + (ROW * i as u32) as f32 + 4.5;
                canvas.text_right(&cut(name, 24), 180.0, y, ink);
                if let Some(s) = step(run, name, *workflow) {
                    let label = format!("{} / {}", fmt_us(s.latency.p50), fmt_us(s.latency.p99));
                    canvas.text(
                        &label,
                        LEFT as f32 - 44.0 - width(&label, ink) + 40.0,
                        y,
                        ink,
                    );
                }
            }
        }
    }
    // Key percentiles, baseline → candidate.
    let x0 = LEFT as f32 + 16.0;
    canvas.text("step", x0, top + 18.0, head);
    canvas.text("p50", x0 + 180.0, top + 18.0, head);
    canvas.text("p99", x0 + 310.0, top + 18.0, head);
    for (i, (name, workflow)) in steps(run).iter().enumerate() {
        let y = top + 18.0 + ROW as f32 * (i as f32 + 1.0);
        canvas.text(&cut(name, 22), x0, y, ink);
        let compared = |metric: SummaryMetric| {
            input
                .comparison
                .as_ref()
                .and_then(|c| {
                    c.steps
                        .iter()
                        .find(|s| s.id.name() == name && s.id.is_workflow() == *workflow)
                })
                .and_then(|s| s.metrics.iter().find(|m| m.metric == metric))
                .map(|m| (m.baseline, m.candidate, m.verdict))
        };
        let own = step(run, name, *workflow).map(|s| (s.latency.p50, s.latency.p99));
        for (dx, metric, value) in [
            (180.0, SummaryMetric::P50, own.map(|o| o.0)),
            (310.0, SummaryMetric::P99, own.map(|o| o.1)),
        ] {
            let (text, style) = match compared(metric) {
                Some((b, c, v)) => (
                    format!(
                        "{} → {}",
                        fmt_us(b.round() as u64),
                        fmt_us(c.round() as u64)
                    ),
                    if v == Verdict::Regressed { alarm } else { ink },
                ),
                None => (value.map(fmt_us).unwrap_or_else(|| "–".into()), ink),
            };
            canvas.text(&text, x0 + dx, y, style);
        }
    }
    let footer = format!(
        "rehearse {}  ·  latencies corrected for coordinated omission  ·  colours: regressed vermillion, unchanged grey, inconclusive blue",
        env!("CARGO_PKG_VERSION")
    );
    canvas.text(
        &footer,
        18.0,
        (HEADER + body) as f32 + 20.0,
        Style {
            size: 12.0,
            bold: false,
            colour: palette::INK,
        },
    );
}
