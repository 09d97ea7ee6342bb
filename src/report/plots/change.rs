//! Change per step: horizontal bars of each step's relative change (p50, p99, and every other
//! metric that regressed, so whatever the headline names is on the chart) with their
//! confidence intervals, coloured by verdict. Row labels are returned with their positions so
//! each format draws them with its own text (SVG text, or the PNG's font renderer).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, err, house_mesh, shorten};
use crate::model::{Comparison, SummaryMetric, Unit, Verdict};
use crate::report::palette;

/// A row label: the text, the point its right end should touch (backend pixels), the verdict.
pub struct RowLabel {
    /// e.g. `pay p50`.
    pub text: String,
    /// Right end, backend pixels.
    pub x: i32,
    /// Vertical centre, backend pixels.
    pub y: i32,
    /// The metric's verdict.
    pub verdict: Verdict,
}

/// The chart's title.
pub const TITLE: &str =
    "Change per step: p50, p99 and any regressed metric, with confidence intervals";

struct Row {
    label: String,
    change: f64,
    low: f64,
    high: f64,
    verdict: Verdict,
}

fn rows(c: &Comparison) -> Vec<Row> {
    let mut out = Vec::new();
    for s in &c.steps {
        let shown = s.metrics.iter().filter(|m| {
            matches!(m.metric, SummaryMetric::P50 | SummaryMetric::P99)
                || m.verdict == Verdict::Regressed
        });
        for m in shown {
            // Error rates change in points of the attempts, not relative to themselves.
            let metric = match m.unit {
                Unit::Fraction => "error rate (pt)".to_string(),
                _ => m.metric.name().to_string(),
            };
            out.push(Row {
                label: format!("{} {metric}", shorten(s.id.name(), 24)),
                change: m.change * 100.0,
                low: m.interval[0] * 100.0,
                high: m.interval[1] * 100.0,
                verdict: m.verdict,
            });
        }
    }
    out
}

/// Height the plot needs for a comparison.
pub fn height(c: &Comparison) -> u32 {
    (80 + 22 * rows(c).len() as u32).max(160)
}

/// Pixel size of the row labels (the PNG draws them at this size too).
pub const LABEL_SIZE: f64 = 13.0;

/// Draws the bars; returns the row labels to draw.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Comparison,
    caption: Option<&str>,
) -> Result<Vec<RowLabel>, PlotError> {
    let rows = rows(c);
    // Intervals can be very wide with little evidence: the axis follows the changes and
    // clamps the whiskers rather than squash every bar.
    let by_change = rows
        .iter()
        .map(|r| r.change.abs() * 3.0)
        .fold(20.0f64, f64::max);
    let reach = rows
        .iter()
        .flat_map(|r| [r.change.abs() * 1.2, r.low.abs(), r.high.abs()])
        .fold(10.0f64, f64::max)
        .min(by_change)
        .ceil();
    let n = rows.len().max(1) as f64;
    // The labels' column is as wide as the widest label (in bold, as a regressed row's is
    // drawn), and never more than 40% of the area.
    let font = TextStyle::from((FONT, LABEL_SIZE).into_font().style(FontStyle::Bold));
    let widest = rows
        .iter()
        .map(|r| area.estimate_text_size(&r.label, &font).map(|(w, _)| w))
        .try_fold(0, |acc, w| w.map(|w| acc.max(w)))
        .map_err(err)?;
    let label_area = (widest + 16).clamp(60, area.dim_in_pixel().0 * 2 / 5);
    let mut builder = ChartBuilder::on(area);
    builder.margin(8);
    if let Some(text) = caption {
        builder.caption(text, (FONT, 16));
    } else {
        // The caller writes its own title above the plot: leave it room.
        builder.margin_top(34);
    }
    let mut chart = builder
        .x_label_area_size(34)
        .y_label_area_size(label_area)
        .build_cartesian_2d(-reach..reach, -0.5f64..(n - 0.5))
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh())
        .disable_y_mesh()
        .y_labels(0)
        .x_label_formatter(&|x| format!("{x:+.0}%"))
        .x_desc("change (bar) and confidence interval (whiskers)")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.0, -0.5), (0.0, n - 0.5)],
            palette::INK.stroke_width(1),
        )))
        .map_err(err)?;
    let clamp = |x: f64| x.clamp(-reach, reach);
    let mut labels = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        let colour = palette::verdict(r.verdict);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, y - 0.32), (clamp(r.change), y + 0.32)],
                colour.mix(0.85).filled(),
            )))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(clamp(r.low), y), (clamp(r.high), y)],
                palette::INK.stroke_width(2),
            )))
            .map_err(err)?;
        for end in [r.low, r.high] {
            // An open end (clamped) gets no cap: the interval goes on.
            if end.abs() <= reach {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(end, y - 0.2), (end, y + 0.2)],
                        palette::INK.stroke_width(2),
                    )))
                    .map_err(err)?;
            }
        }
        let (px, py) = chart.backend_coord(&(-reach, y));
        labels.push(RowLabel {
            text: r.label.clone(),
            x: px - 8,
            y: py,
            verdict: r.verdict,
        });
    }
    Ok(labels)
}

/// Draws the row labels as plotters text (SVG).
pub fn draw_labels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    labels: &[RowLabel],
) -> Result<(), PlotError> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    for l in labels {
        let colour = if l.verdict == Verdict::Regressed {
            palette::verdict(Verdict::Regressed)
        } else {
            palette::INK
        };
        let style = TextStyle::from((FONT, LABEL_SIZE).into_font())
            .color(&colour)
            .pos(Pos::new(HPos::Right, VPos::Center));
        area.draw_text(&l.text, &style, (l.x, l.y)).map_err(err)?;
    }
    Ok(())
}
