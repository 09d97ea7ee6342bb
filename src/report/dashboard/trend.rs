//! A step's trend as inline SVG: one line per branch over time, each run a link to its
//! report, change points marked where they begin.

use std::fmt::Write as _;

use super::{StepTrend, commit, run_href, when};
use crate::model::{ChangePoint, SummaryMetric};
use crate::report::console::format_value;
use crate::report::escape::xml as esc;
use crate::report::views::short;

/// Colours of the branches on a trend, base branch first (Okabe-Ito, as the reports).
const BRANCH_COLOURS: [&str; 6] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00",
];

/// A trend as inline SVG: one line per branch over time, each run a link to its report with
/// its commit and value as a tooltip, change points as vertical lines (a creep as a band).
pub fn trend_svg(t: &StepTrend, metric: SummaryMetric, marks: &[&ChangePoint]) -> String {
    const W: f64 = 1000.0;
    const H: f64 = 230.0;
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = 20.0;
    const TOP: f64 = 14.0;
    const BOTTOM: f64 = 30.0;
    let all = || t.series.iter().flat_map(|s| s.runs.iter());
    let mut out = format!(
        "<svg class=\"trend\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{} trend of {}\">",
        metric.name(),
        esc(&t.step)
    );
    let (Some(t0), Some(t1)) = (
        all().map(|r| r.started_ms).min(),
        all().map(|r| r.started_ms).max(),
    ) else {
        out.push_str(
            "<text x=\"20\" y=\"30\" font-size=\"13\" fill=\"#777\">no runs</text></svg>\n",
        );
        return out;
    };
    let top = nice_max(all().map(|r| r.value).fold(0.0, f64::max));
    let span = (t1 - t0).max(1) as f64;
    let x = |ms: i64| {
        if t1 == t0 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (ms - t0) as f64 / span * (W - LEFT - RIGHT)
        }
    };
    let y = |v: f64| TOP + (1.0 - v / top) * (H - TOP - BOTTOM);
    for k in 0..=4 {
        let v = top * k as f64 / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            esc(&format_value(metric, v)),
            y = y(v)
        );
    }
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{}</text>",
        H - 8.0,
        when(t0),
        W - RIGHT,
        H - 8.0,
        when(t1)
    );
    for c in marks {
        let at = |id: &str| all().find(|r| r.run_id == id).map(|r| x(r.started_ms));
        let colour = if c.worse { "#C62828" } else { "#2E7D32" };
        if let Some((from, to)) = &c.creep
            && let (Some(a), Some(b)) = (at(from), at(to))
        {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" opacity=\"0.10\"/>",
                a.min(b),
                (b - a).abs().max(2.0),
                H - TOP - BOTTOM
            );
        }
        if let Some(cx) = at(&c.run_id) {
            let _ = write!(
                out,
                "<line x1=\"{cx:.1}\" x2=\"{cx:.1}\" y1=\"{TOP}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"5,3\"><title>{}</title></line><text x=\"{:.1}\" y=\"{}\" font-size=\"11\" fill=\"{colour}\">{}</text>",
                H - BOTTOM,
                esc(&format!(
                    "{} {} from run {} (bisect {})",
                    c.metric,
                    c.effect_text(),
                    short(&c.run_id),
                    c.range()
                )),
                cx + 4.0,
                TOP + 11.0,
                esc(&c.effect_text())
            );
        }
    }
    for (i, s) in t.series.iter().enumerate() {
        let colour = colour(i);
        if s.runs.len() > 1 {
            let points: Vec<String> = s
                .runs
                .iter()
                .map(|r| format!("{:.1},{:.1}", x(r.started_ms), y(r.value)))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"/>",
                points.join(" ")
            );
        }
        for r in &s.runs {
            let _ = write!(
                out,
                "<a href=\"{}\"><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\"><title>{} {}: {} (run {}, {})</title></circle></a>",
                run_href(&r.run_id),
                x(r.started_ms),
                y(r.value),
                esc(&s.branch),
                esc(&commit(&r.commit)),
                esc(&format_value(metric, r.value)),
                esc(short(&r.run_id)),
                when(r.started_ms)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The colour of the `i`-th branch shown, the same in the legend and on every trend.
pub(super) fn colour(i: usize) -> &'static str {
    BRANCH_COLOURS[i % BRANCH_COLOURS.len()]
}

fn nice_max(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    crate::report::plots::nice_max(x * 1.05)
}

#[cfg(test)]
mod tests {
    use super::super::{BranchSeries, TrendRun};
    use super::*;

    fn run(id: &str, ms: i64, v: f64) -> TrendRun {
        TrendRun {
            run_id: id.into(),
            started_ms: ms,
            commit: Some("abc".into()),
            value: v,
        }
    }

    #[test]
    fn a_trend_links_every_run_and_marks_its_change() {
        let t = StepTrend {
            step: "pay".into(),
            series: vec![BranchSeries {
                branch: "main".into(),
                runs: (0..10)
                    .map(|i| {
                        run(
                            &format!("r{i}"),
                            i * 1000,
                            if i < 5 { 100.0 } else { 120.0 },
                        )
                    })
                    .collect(),
            }],
        };
        let change = ChangePoint {
            scenario: "s".into(),
            step: "pay".into(),
            metric: "p50".into(),
            worse: true,
            run_id: "r5".into(),
            commit: None,
            started_at: None,
            previous_run_id: Some("r4".into()),
            previous_commit: None,
            before: 100.0,
            after: 120.0,
            effect: 0.2,
            interval: (0.15, 0.25),
            p: 0.001,
            runs_before: 5,
            runs_after: 5,
            index: 5,
            creep: None,
            creep_runs: None,
        };
        let svg = trend_svg(&t, SummaryMetric::P50, &[&change]);
        assert_eq!(svg.matches("<a href=\"/run/r").count(), 10);
        assert!(svg.contains("stroke=\"#C62828\""), "the change is marked");
        assert!(svg.contains("+20.0%"));
        let empty = trend_svg(
            &StepTrend {
                step: "x".into(),
                series: vec![],
            },
            SummaryMetric::P50,
            &[],
        );
        assert!(empty.contains("no runs"));
    }
}
