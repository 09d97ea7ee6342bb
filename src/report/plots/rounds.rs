//! Per-round ratios of an interleaved A/B session: each round's candidate/baseline change of
//! every step's p50, so a consistent shift stands apart from round-to-round noise. The legend
//! has a column of its own beside the plot, so it never hides a round.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, err, house_mesh, shorten};
use crate::model::{AbInfo, Comparison, SummaryMetric, Verdict};
use crate::report::palette;

/// Width of the legend's column.
const LEGEND: u32 = 230;
/// Height of one legend entry.
const ENTRY: u32 = 18;

/// Height the plot needs: room for every step's legend entry.
pub fn height(c: &Comparison) -> u32 {
    (70 + ENTRY * c.steps.len() as u32).max(380)
}

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
    let (width, _) = area.dim_in_pixel();
    let (plot, key) = area.split_horizontally(width.saturating_sub(LEGEND));
    let mut chart = ChartBuilder::on(&plot)
        .caption(
            "p50 change in each round (candidate vs baseline)",
            (FONT, 16),
        )
        .margin(8)
        .margin_right(16)
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
    let stroke = |verdict: Verdict| {
        let width = match verdict {
            Verdict::Regressed => 3,
            // The yellow is light on white: a thicker line reads.
            Verdict::Inconclusive => 2,
            _ => 1,
        };
        palette::verdict(verdict).stroke_width(width)
    };
    // Rounds left out of the verdict have no ratio; the others keep their round numbers.
    let used = ab.used_rounds();
    for (_, verdict, values) in &series {
        chart
            .draw_series(
                LineSeries::new(
                    used.iter().zip(values).map(|(r, v)| (*r as f64, *v)),
                    stroke(*verdict),
                )
                .point_size(3),
            )
            .map_err(err)?;
    }
    // The legend: one entry per step, top-aligned with the plot.
    let font = TextStyle::from((FONT, 12).into_font()).color(&palette::INK);
    for (i, (name, verdict, _)) in series.iter().enumerate() {
        let y = 40 + (ENTRY * i as u32) as i32;
        key.draw(&PathElement::new(vec![(4, y), (24, y)], stroke(*verdict)))
            .map_err(err)?;
        key.draw_text(
            &format!("{} ({})", shorten(name, 22), verdict.name()),
            &font,
            (30, y - 7),
        )
        .map_err(err)?;
    }
    Ok(())
}
