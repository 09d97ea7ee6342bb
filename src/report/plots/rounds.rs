//! Per-round ratios of an interleaved A/B session: each round's candidate/baseline change of
//! every step's p50, so a consistent shift stands apart from round-to-round noise.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, cut, err, house_mesh, legend};
use crate::model::{AbInfo, Comparison, SummaryMetric, Verdict};
use crate::report::palette;

/// Draws the per-round p50 changes of each step (and the workflow).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: &Comparison,
    ab: &AbInfo,
) -> Result<(), PlotError> {
    let series: Vec<(String, Verdict, Vec<f64>)> = c
        .steps
        .iter()
        .filter_map(|s| {
            let ratios = ab.log_ratios.get(s.id.name())?.get(&SummaryMetric::P50)?;
            let verdict = s
                .metrics
                .iter()
                .find(|m| m.metric == SummaryMetric::P50)
                .map(|m| m.verdict)
                .unwrap_or(Verdict::Inconclusive);
            Some((
                s.id.to_string(),
                verdict,
                ratios.iter().map(|r| r.exp_m1() * 100.0).collect(),
            ))
        })
        .collect();
    let reach = series
        .iter()
        .flat_map(|s| s.2.iter().map(|v| v.abs()))
        .fold(5.0f64, f64::max)
        .ceil()
        * 1.15;
    let n = ab.rounds as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "p50 change in each round (candidate vs baseline)",
            (FONT, 16),
        )
        .margin(8)
        .margin_right(24)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(0.5f64..(n + 0.5), -reach..reach)
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh())
        .x_labels(ab.rounds)
        .x_label_formatter(&|x| format!("{}", x.round() as i64))
        .y_label_formatter(&|y| format!("{y:+.0}%"))
        .x_desc("round (ABBA order)")
        .y_desc("p50 change")
        .draw()
        .map_err(err)?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(0.5, 0.0), (n + 0.5, 0.0)],
            palette::INK.stroke_width(1),
        )))
        .map_err(err)?;
    for (name, verdict, values) in &series {
        let colour = palette::verdict(*verdict);
        let width = if *verdict == Verdict::Regressed { 3 } else { 1 };
        chart
            .draw_series(
                LineSeries::new(
                    values.iter().enumerate().map(|(i, v)| (i as f64 + 1.0, *v)),
                    colour.stroke_width(width),
                )
                .point_size(3),
            )
            .map_err(err)?
            .label(cut(name, 20))
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(width))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight)
}
