//! Latency by percentile: HdrHistogram's classic plot, x on a log "number of nines" scale
//! from 0 to 99.99%, baseline and candidate overlaid.

use hdrhistogram::Histogram;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, PlotError, cut, err, house_mesh, legend, ms, nice_max};
use crate::report::palette;

/// x = -log10(1 - q): 0 is the median's neighbourhood start (0%), 1 is 90%, 4 is 99.99%.
fn points(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    (0..=80)
        .map(|i| {
            let x = i as f64 * 0.05;
            let q = 1.0 - 10f64.powf(-x);
            (x, ms(h.value_at_quantile(q) as f64))
        })
        .collect()
}

fn nines(x: &f64) -> String {
    match x.round() as i32 {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        3 => "99.9%".into(),
        _ => "99.99%".into(),
    }
}

/// A named, coloured percentile curve.
type Curve<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

/// Draws one step's percentile curves: the baseline's, and the candidate's under its name
/// ("candidate", or "this run" with no baseline).
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    baseline: Option<&Histogram<u64>>,
    (name, candidate): (&str, Option<&Histogram<u64>>),
) -> Result<(), PlotError> {
    let series: Vec<Curve> = [
        ("baseline", palette::BASELINE, baseline),
        (name, palette::CANDIDATE, candidate),
    ]
    .into_iter()
    .filter_map(|(name, colour, h)| {
        h.filter(|h| !h.is_empty())
            .map(|h| (name, colour, points(h)))
    })
    .collect();
    let top = nice_max(
        series
            .iter()
            .flat_map(|s| s.2.iter().map(|p| p.1))
            .fold(0.0, f64::max),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(cut(title, 48), (FONT, 16))
        .margin(8)
        .margin_right(24)
        .x_label_area_size(34)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..4f64, 0f64..top)
        .map_err(err)?;
    house_mesh(&mut chart.configure_mesh())
        .x_labels(5)
        .x_label_formatter(&nines)
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .draw()
        .map_err(err)?;
    if series.is_empty() {
        return Ok(());
    }
    for (name, colour, pts) in &series {
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
            });
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}
