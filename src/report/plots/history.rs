//! History trend: a step's p50 and p99 over the last runs of the baseline branch, with the
//! candidate's values highlighted at the end and the history's change points marked (the
//! same search `rehearse watch` makes, on these values).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{PlotError, cut, err, legend, ms, nice_max, runs_chart};
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
    let mut chart = runs_chart(area, &cut(title, 48), n, top, "latency (ms)")?;
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
    let marks = change_marks(history);
    if !marks.is_empty() {
        let style = palette::ERRORS.stroke_width(1);
        for (i, at) in marks.iter().enumerate() {
            let line = chart
                .draw_series(DashedLineSeries::new(
                    [(*at as f64 - 0.5, 0.0), (*at as f64 - 0.5, top)],
                    5,
                    4,
                    style,
                ))
                .map_err(err)?;
            if i == 0 {
                line.label("change point")
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
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

/// Where the history's p50 or p99 moved to a new level: the index of each change's first
/// run. The values alone are searched (no histograms here), at 1% per series, with the
/// default minimum effects.
pub fn change_marks(history: &[TrendPoint]) -> Vec<usize> {
    use crate::stats::changes::{Worse, changes};
    use crate::stats::{DaqParams, Estimate, Metric};
    let params = DaqParams::default();
    let mut marks: Vec<usize> = Vec::new();
    for (metric, value) in [
        (
            Metric::P50,
            Box::new(|p: &TrendPoint| p.p50) as Box<dyn Fn(&TrendPoint) -> f64>,
        ),
        (Metric::P99, Box::new(|p: &TrendPoint| p.p99)),
    ] {
        let series: Vec<Estimate> = history
            .iter()
            .map(|p| Estimate {
                value: value(p).max(1.0).ln(),
                se: 0.0,
            })
            .collect();
        for c in changes(&series, 3, 0.01, Worse::Up) {
            if ((c.after - c.before).exp() - 1.0).abs() >= params.min_effect(metric)
                && !marks.contains(&c.at)
            {
                marks.push(c.at);
            }
        }
    }
    marks.sort_unstable();
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(i: usize, p50: f64) -> TrendPoint {
        TrendPoint {
            run_id: format!("r{i}"),
            started_ms: i as i64,
            p50,
            p99: p50 * 4.0,
        }
    }

    #[test]
    fn a_level_shift_in_the_history_is_marked_and_a_flat_one_is_not() {
        let wobble = |i: usize| 1.0 + 0.01 * ((i * 7 % 5) as f64 - 2.0);
        let flat: Vec<TrendPoint> = (0..30).map(|i| point(i, 20_000.0 * wobble(i))).collect();
        assert!(change_marks(&flat).is_empty());
        let shifted: Vec<TrendPoint> = (0..30)
            .map(|i| point(i, 20_000.0 * wobble(i) * if i >= 18 { 1.2 } else { 1.0 }))
            .collect();
        assert_eq!(change_marks(&shifted), [18]);
        let svg =
            crate::report::plots::svg((600, 300), |a| draw(a, "pay", ("main", &shifted), None))
                .unwrap();
        assert!(svg.contains("change point"), "the mark is in the legend");
    }
}
