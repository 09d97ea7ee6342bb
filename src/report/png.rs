//! summary.png: one image that tells the story on its own (verdict, per-step change with
//! intervals, key percentiles) for tickets and chat. All text is drawn with the embedded
//! DejaVu Sans, so it renders on a machine with no fonts installed. Layout is measured, not
//! guessed: text is fitted to its column and nothing comes closer than `MARGIN` to an edge.

use plotters::prelude::*;

use super::plots::{self, change, err, shorten};
use super::text::{Canvas, Style, fit, width};
use super::views::{headline, short, step, steps, targets, when};
use super::{ReportError, ReportInput, palette};
use crate::model::{Side, SummaryMetric, Verdict};
use crate::report::console::fmt_us;

const WIDTH: u32 = 1200;
/// Nothing is drawn closer than this to the image's edges.
const MARGIN: u32 = 18;
const HEADER: u32 = 84;
const FOOTER: u32 = 42;
const ROW: u32 = 24;
/// Where the chart ends and the table of percentiles begins.
const LEFT: u32 = 760;
/// Space between columns.
const GAP: f32 = 16.0;

const INK: Style = Style {
    size: 13.0,
    bold: false,
    colour: palette::INK,
};
const HEAD: Style = Style {
    size: 14.0,
    bold: true,
    colour: palette::INK,
};

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
    let bars = RunBars::new(input);
    let labels = shapes(input, &mut pixels, height, body, &bars).map_err(fail)?;
    let mut canvas = Canvas {
        pixels: &mut pixels,
        width: WIDTH,
        height,
    };
    words(input, &mut canvas, body, &labels, &bars);
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

/// The single-run chart's columns, measured from its text: names right-aligned, bars, then
/// the values, so no value ever sits on a bar.
struct RunBars {
    /// Right end of the step names.
    names: f32,
    /// Where the bars start and where the longest (the largest p99) ends.
    bars: (f32, f32),
    /// Left end of the values.
    values: f32,
}

impl RunBars {
    fn new(input: &ReportInput) -> RunBars {
        let run = &input.candidates[0];
        let widest = |texts: Vec<String>| texts.iter().map(|t| width(t, INK)).fold(0.0, f32::max);
        let names = MARGIN as f32 + widest(steps(run).iter().map(|s| name(&s.0)).collect());
        let values = widest(
            steps(run)
                .iter()
                .filter_map(|(n, w)| step(run, n, *w))
                .map(|s| run_values(s.latency.p50, s.latency.p99))
                .collect(),
        );
        let end = LEFT as f32 - GAP - values - 10.0;
        RunBars {
            names,
            bars: (names + 10.0, end),
            values: end + 10.0,
        }
    }
}

/// Vertical centre of row `i` of the table (and of the single-run bars beside it).
fn row(i: usize) -> f32 {
    (HEADER + 38 + ROW * i as u32) as f32
}

/// A step name as the PNG shows it.
fn name(step: &str) -> String {
    shorten(step, 24)
}

fn run_values(p50: u64, p99: u64) -> String {
    format!("{} / {}", fmt_us(p50), fmt_us(p99))
}

/// Everything but text: the banner, the chart, the bars.
fn shapes(
    input: &ReportInput,
    pixels: &mut [u8],
    height: u32,
    body: u32,
    bars: &RunBars,
) -> Result<Vec<change::RowLabel>, String> {
    let root = BitMapBackend::with_buffer(pixels, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (header, rest) = root.split_vertically(HEADER);
    header
        .fill(&palette::conclusion(headline(input).conclusion))
        .map_err(err)?;
    let (main, _) = rest.split_vertically(body);
    let (left, _) = main.split_horizontally(LEFT);
    let labels = match &input.comparison {
        Some(c) => change::draw(&left.margin(0, 0, MARGIN, 0), c, None)?,
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
            let (x0, x1) = bars.bars;
            let span = (x1 - x0) as f64 / top;
            for (i, (name, workflow)) in steps(run).iter().enumerate() {
                let Some(s) = step(run, name, *workflow) else {
                    continue;
                };
                let y = row(i) as i32;
                let x0 = x0 as i32;
                for (value, colour) in [
                    (s.latency.p99, palette::CANDIDATE.mix(0.35)),
                    (s.latency.p50, palette::CANDIDATE.mix(1.0)),
                ] {
                    let end = x0 + ((value as f64 * span) as i32).max(1);
                    root.draw(&Rectangle::new(
                        [(x0, y - 8), (end, y + 8)],
                        colour.filled(),
                    ))
                    .map_err(err)?;
                }
            }
            Vec::new()
        }
    };
    root.present().map_err(err)?;
    Ok(labels)
}

/// All the text.
fn words(
    input: &ReportInput,
    canvas: &mut Canvas,
    body: u32,
    labels: &[change::RowLabel],
    bars: &RunBars,
) {
    let run = &input.candidates[0];
    let h = headline(input);
    let on_banner = palette::text_on(palette::conclusion(h.conclusion));
    let full = (WIDTH - 2 * MARGIN) as f32;
    let left = MARGIN as f32;
    let title = Style {
        size: 24.0,
        bold: true,
        colour: on_banner,
    };
    let story = format!("{}: {}", run.scenario, h.text);
    let story = match h.conclusion.mark() {
        Some(mark) => format!("{mark}  {story}"),
        None => story,
    };
    canvas.text(&fit(&story, full, title), left, 38.0, title);
    let subtitle = Style {
        size: 15.0,
        bold: false,
        colour: on_banner,
    };
    canvas.text(&fit(&sides(input), full, subtitle), left, 68.0, subtitle);

    let alarm = Style {
        size: 13.0,
        bold: true,
        colour: palette::verdict(Verdict::Regressed),
    };
    let top = HEADER as f32;
    let chart = LEFT as f32 - GAP - left;
    match &input.comparison {
        Some(_) => {
            canvas.text(&fit(change::TITLE, chart, HEAD), left, top + 20.0, HEAD);
            for l in labels {
                let style = if l.verdict == Verdict::Regressed {
                    alarm
                } else {
                    INK
                };
                canvas.text_right(&l.text, l.x as f32, l.y as f32 + 4.5, style);
            }
        }
        None => {
            canvas.text(
                "p50 (solid) and p99 (light) per step",
                bars.bars.0,
                top + 20.0,
                HEAD,
            );
            for (i, (step_name, workflow)) in steps(run).iter().enumerate() {
                let y = row(i) + 4.5;
                canvas.text_right(&name(step_name), bars.names, y, INK);
                if let Some(s) = step(run, step_name, *workflow) {
                    let values = run_values(s.latency.p50, s.latency.p99);
                    canvas.text(&values, bars.values, y, INK);
                }
            }
        }
    }
    table(input, canvas, alarm);
    let mut footer = format!(
        "rehearse {}  ·  latencies corrected for coordinated omission",
        env!("CARGO_PKG_VERSION")
    );
    if input.comparison.is_some() {
        // Only a comparison has verdicts to colour.
        footer.push_str(
            "  ·  bars: regressed vermillion, improved green, unchanged grey, inconclusive yellow",
        );
    }
    let small = Style {
        size: 12.0,
        bold: false,
        colour: palette::INK,
    };
    canvas.text(
        &fit(&footer, full, small),
        left,
        (HEADER + body) as f32 + 22.0,
        small,
    );
}

/// The subtitle: which runs, against what, where and when.
fn sides(input: &ReportInput) -> String {
    let run = &input.candidates[0];
    let Some(c) = &input.comparison else {
        return format!(
            "run {}  ·  {}  ·  {}",
            short(&run.run_id),
            run.target.as_deref().unwrap_or(""),
            when(run.started_at.as_deref())
        );
    };
    let (baseline, candidate) = (targets(&input.baseline), targets(&input.candidates));
    // Targets are named per side when they differ (an A/B session of two deployments).
    // A baseline is named by how it was chosen, a session's candidate by its label.
    let own = |side: &Side, targets: &[&str], named: bool| {
        let n = side.run_ids.len();
        let runs = format!("{n} run{}", if n == 1 { "" } else { "s" });
        let mut text = match (side.run_ids.as_slice(), side.spec.as_str()) {
            (_, spec) if named && !spec.is_empty() => format!("{spec} ({runs})"),
            ([one], _) => short(one).to_string(),
            _ => runs,
        };
        if baseline != candidate && !baseline.is_empty() {
            text.push_str(&format!(" on {}", targets.join(", ")));
        }
        text
    };
    format!(
        "candidate {} vs baseline {}  ·  {}",
        own(&c.candidate, &candidate, c.ab.is_some()),
        own(&c.baseline, &baseline, true),
        when(run.started_at.as_deref())
    )
}

/// Key percentiles per step, baseline → candidate, numbers right-aligned to the margin.
fn table(input: &ReportInput, canvas: &mut Canvas, alarm: Style) {
    let run = &input.candidates[0];
    let top = HEADER as f32;
    let cells: Vec<(String, [(String, Style); 2])> = steps(run)
        .iter()
        .map(|(step_name, workflow)| {
            let compared = |metric: SummaryMetric| {
                input
                    .comparison
                    .as_ref()
                    .and_then(|c| {
                        c.steps
                            .iter()
                            .find(|s| s.id.name() == step_name && s.id.is_workflow() == *workflow)
                    })
                    .and_then(|s| s.metrics.iter().find(|m| m.metric == metric))
                    .map(|m| (m.baseline, m.candidate, m.verdict))
            };
            let own = step(run, step_name, *workflow).map(|s| (s.latency.p50, s.latency.p99));
            let cell = |metric: SummaryMetric, value: Option<u64>| match compared(metric) {
                Some((b, c, v)) => (
                    format!(
                        "{} → {}",
                        fmt_us(b.round() as u64),
                        fmt_us(c.round() as u64)
                    ),
                    if v == Verdict::Regressed { alarm } else { INK },
                ),
                None => (value.map(fmt_us).unwrap_or_else(|| "–".into()), INK),
            };
            (
                name(step_name),
                [
                    cell(SummaryMetric::P50, own.map(|o| o.0)),
                    cell(SummaryMetric::P99, own.map(|o| o.1)),
                ],
            )
        })
        .collect();
    // Columns from the right: p99, then p50, each as wide as its widest cell; the names get
    // what is left.
    let column = |k: usize, label: &str| {
        cells
            .iter()
            .map(|c| width(&c.1[k].0, c.1[k].1))
            .fold(width(label, HEAD), f32::max)
    };
    let p99_right = (WIDTH - MARGIN) as f32;
    let p50_right = p99_right - column(1, "p99") - GAP;
    let names_left = LEFT as f32 + GAP;
    let names_width = p50_right - column(0, "p50") - GAP - names_left;
    canvas.text("step", names_left, top + 20.0, HEAD);
    canvas.text_right("p50", p50_right, top + 20.0, HEAD);
    canvas.text_right("p99", p99_right, top + 20.0, HEAD);
    for (i, (step_name, [p50, p99])) in cells.iter().enumerate() {
        let y = row(i) + 4.5;
        canvas.text(&fit(step_name, names_width, INK), names_left, y, INK);
        canvas.text_right(&p50.0, p50_right, y, p50.1);
        canvas.text_right(&p99.0, p99_right, y, p99.1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::views::tests::compared;

    /// The banner's colour, read back from the PNG's top-left corner.
    fn banner(input: &ReportInput) -> [u8; 3] {
        let bytes = png(input).unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        [buf[0], buf[1], buf[2]]
    }

    #[test]
    fn the_banner_has_one_colour_per_conclusion() {
        use Verdict::*;
        let rgb = |c: RGBColor| [c.0, c.1, c.2];
        assert_eq!(
            banner(&compared(&[Inconclusive; 4], false)),
            rgb(palette::verdict(Inconclusive)),
            "inconclusive is yellow, not green"
        );
        assert_eq!(
            banner(&compared(&[Unchanged, Improved], false)),
            rgb(palette::verdict(Improved))
        );
        assert_eq!(
            banner(&compared(&[Regressed, Inconclusive], false)),
            rgb(palette::verdict(Regressed))
        );
    }
}
