//! Latency over time: p50 and p99 per interval, with throughput and errors, warm-up shaded,
//! so warm-up effects and stalls are visible.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, cut, err, house_mesh, legend, ms, nice_max};
use crate::model::IntervalPoint;
use crate::report::palette;

/// One step's series for one run.
pub struct Series<'a> {
    /// The interval histograms' summaries.
    pub points: &'a [IntervalPoint],
    /// Per interval: successful attempts.
    pub ok: &'a [u64],
    /// Per interval: failed attempts.
    pub errors: &'a [u64],
    /// Seconds of warm-up at the start.
    pub warmup: f64,
    /// Per interval: the load generator's schedule lag p99, µs (empty when not recorded).
    pub lag_p99: &'a [u64],
}

/// Draws one step's time series.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    s: &Series,
) -> Result<(), PlotError> {
    let end = s
        .points
        .iter()
        .map(|p| p.start + p.length)
        .fold(1.0, f64::max);
    let top = nice_max(
        s.points
            .iter()
            .map(|p| ms(p.p99 as f64))
            .chain(s.lag_p99.iter().map(|l| ms(*l as f64)))
            .fold(0.0, f64::max),
    );
    let rate = |i: usize| -> f64 {
        let len = s.points.get(i).map(|p| p.length).unwrap_or(1.0).max(1e-3);
        (s.ok.get(i).copied().unwrap_or(0) + s.errors.get(i).copied().unwrap_or(0)) as f64 / len
    };
    let rate_top = nice_max((0..s.points.len()).map(rate).fold(0.0, f64::max));
    let mut chart = ChartBuilder::on(area)
        .caption(cut(title, 48), (FONT, 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .right_y_label_area_size(56)
        .build_cartesian_2d(0f64..end, 0f64..top)
        .map_err(err)?
        .set_secondary_coord(0f64..end, 0f64..rate_top);
    house_mesh(&mut chart.configure_mesh())
        .x_desc("time (s)")
        .y_desc("latency (ms)")
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_desc("attempts/s")
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 12))
        .draw()
        .map_err(err)?;
    if s.warmup > 0.0 {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, 0.0), (s.warmup.min(end), top)],
                RGBColor(0xF2, 0xF2, 0xF2).filled(),
            )))
            .map_err(err)?;
    }
    let mid = |p: &IntervalPoint| p.start + p.length / 2.0;
    chart
        .draw_secondary_series(AreaSeries::new(
            s.points.iter().enumerate().map(|(i, p)| (mid(p), rate(i))),
            0.0,
            palette::THROUGHPUT.mix(0.25),
        ))
        .map_err(err)?
        .label("attempts/s")
        .legend(|(x, y)| {
            Rectangle::new(
                [(x, y - 4), (x + 18, y + 4)],
                palette::THROUGHPUT.mix(0.4).filled(),
            )
        });
    let with_data: Vec<&IntervalPoint> = s.points.iter().filter(|p| p.count > 0).collect();
    for (name, colour, value) in [
        (
            "p50",
            palette::CANDIDATE,
            Box::new(|p: &IntervalPoint| p.p50) as Box<dyn Fn(&IntervalPoint) -> u64>,
        ),
        (
            "p99",
            palette::CANDIDATE_LIGHT,
            Box::new(|p: &IntervalPoint| p.p99),
        ),
    ] {
        chart
            .draw_series(LineSeries::new(
                with_data.iter().map(|p| (mid(p), ms(value(p) as f64))),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    // The generator's own delay on the same axis: where it approaches the latencies, they
    // are partly the harness's.
    if s.lag_p99.iter().any(|l| *l > 0) {
        let lag: Vec<(f64, f64)> = s
            .points
            .iter()
            .zip(s.lag_p99)
            .map(|(p, l)| (mid(p), ms(*l as f64)))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                lag,
                4,
                3,
                palette::INK.stroke_width(1),
            ))
            .map_err(err)?
            .label("schedule lag p99")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], palette::INK.stroke_width(1))
            });
    }
    let failing: Vec<(f64, f64)> = s
        .points
        .iter()
        .enumerate()
        .filter(|(i, _)| s.errors.get(*i).copied().unwrap_or(0) > 0)
        .map(|(i, p)| (mid(p), s.errors[i] as f64 / p.length.max(1e-3)))
        .collect();
    if !failing.is_empty() {
        chart
            .draw_secondary_series(
                failing
                    .iter()
                    .map(|&(x, y)| TriangleMarker::new((x, y), 5, palette::ERRORS.filled())),
            )
            .map_err(err)?
            .label("errors/s")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 5, palette::ERRORS.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}
