//! History trend: a step's p50 and p99 over the last runs of the baseline branch, with the
//! candidate's values highlighted at the end.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, cut, err, house_mesh, legend, ms, nice_max};
use crate::report::TrendPoint;
use crate::report::palette;

/// Draws one step's trend: `history` under its name (`baseline`, or the branch of a single
/// run), and `candidate`, the reported runs' name ("candidate", "this run") and their
/// (p50, p99) in µs.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    (reference, history): (&str, &[TrendPoint]),
    candidate: Option<(&str, (f64, f64))>,
) -> Result<(), PlotError> {
    let n = history.len() as f64 + if candidate.is_some() { 1.0 } else { 0.0 };
    let top = nice_max(
        history
            .iter()
            .map(|p| p.p99)
            .chain(candidate.map(|c| c.1.1))
            .map(ms)
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(cut(title, 48), (FONT, 16))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(-0.5f64..(n - 0.5).max(0.5), 0f64..top)
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh())
        .x_desc("runs, oldest to newest")
        .y_desc("latency (ms)")
        .x_label_formatter(&|x| format!("{}", x.round() as i64 + 1))
        .draw()
        .map_err(err)?;
    let reference = cut(reference, 20);
    for (metric, value, dash) in [
        (
            "p50",
            Box::new(|p: &TrendPoint| p.p50) as Box<dyn Fn(&TrendPoint) -> f64>,
            false,
        ),
        ("p99", Box::new(|p: &TrendPoint| p.p99), true),
    ] {
        let style = if dash {
            palette::BASELINE.mix(0.55).stroke_width(2)
        } else {
            palette::BASELINE.stroke_width(2)
        };
        chart
            .draw_series(
                LineSeries::new(
                    history
                        .iter()
                        .enumerate()
                        .map(|(i, p)| (i as f64, ms(value(p)))),
                    style,
                )
                .point_size(2),
            )
            .map_err(err)?
            .label(format!("{reference} {metric}"))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    if let Some((name, (p50, p99))) = candidate {
        let x = n - 1.0;
        chart
            .draw_series([
                Circle::new((x, ms(p50)), 6, palette::CANDIDATE.filled()),
                Circle::new((x, ms(p99)), 6, palette::CANDIDATE.mix(0.6).filled()),
            ])
            .map_err(err)?
            .label(format!("{name} p50 / p99"))
            .legend(|(x, y)| Circle::new((x + 9, y), 5, palette::CANDIDATE.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
