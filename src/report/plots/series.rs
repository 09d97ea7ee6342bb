//! A watched series: one step's metric over a branch's runs, with a change point marked (a
//! dashed line before its first run) and the levels before and after it drawn across their
//! runs, so a ticket shows where to bisect and how big the move was.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{PlotError, cut, err, legend, nice_max, runs_chart};
use crate::model::ChangePoint;
use crate::report::palette;

/// How a metric's values are shown: scale from the stored unit, and the axis label.
pub fn unit(metric: &str) -> (f64, &'static str) {
    match metric {
        "error_rate" => (100.0, "error rate (%)"),
        "throughput" => (1.0, "throughput (/s)"),
        _ => (0.001, "latency (ms)"),
    }
}

/// Draws `values` (one per run, oldest first) with `change` marked.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    values: &[Option<f64>],
    change: &ChangePoint,
) -> Result<(), PlotError> {
    let (scale, label) = unit(&change.metric);
    let n = values.len().max(1) as f64;
    let top = nice_max(
        values
            .iter()
            .flatten()
            .map(|v| v * scale)
            .fold(0.0, f64::max),
    );
    let mut chart = runs_chart(area, &cut(title, 64), n, top, label)?;
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i as f64, v * scale)))
        .collect();
    chart
        .draw_series(
            LineSeries::new(points.iter().copied(), palette::BASELINE.stroke_width(2))
                .point_size(2),
        )
        .map_err(err)?
        .label(format!("{} {}", cut(&change.step, 24), change.metric))
        .legend(|(x, y)| {
            PathElement::new(vec![(x, y), (x + 18, y)], palette::BASELINE.stroke_width(2))
        });
    let at = change.index as f64 - 0.5;
    let colour = if change.worse {
        palette::ERRORS
    } else {
        palette::BASELINE
    };
    chart
        .draw_series(DashedLineSeries::new(
            [(at, 0.0), (at, top)],
            6,
            4,
            colour.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!("change {}", change.effect_text()))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
    let from = at - change.runs_before as f64;
    let to = at + change.runs_after as f64;
    for (a, b, level) in [(from, at, change.before), (at, to, change.after)] {
        chart
            .draw_series(LineSeries::new(
                [(a, level * scale), (b, level * scale)],
                palette::CANDIDATE.stroke_width(3),
            ))
            .map_err(err)?;
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
