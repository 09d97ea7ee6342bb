//! What every report format says the same way: the headline, the steps, merged histograms.

use hdrhistogram::Histogram;

use super::ReportInput;
use crate::model::Verdict;
use crate::model::{
    MetricComparison, RunResult, StepResult, ThresholdResult, Unit, decode, new_histogram,
};

/// How a report concludes: the banner's state, with its own colour and words in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conclusion {
    /// Nothing regressed, every threshold held, the run completed, nothing left unsettled.
    Passed,
    /// Nothing regressed and every threshold held, but some metrics could not be settled
    /// (what `--fail-on-inconclusive` fails on). Not a failure: the exit code stays 0.
    Inconclusive,
    /// A regression, a breached threshold or an incomplete run.
    Failed,
}

impl Conclusion {
    /// The word the PNG's title starts with; an inconclusive headline says so in its text.
    pub fn mark(self) -> Option<&'static str> {
        match self {
            Conclusion::Passed => Some("PASS"),
            Conclusion::Inconclusive => None,
            Conclusion::Failed => Some("FAIL"),
        }
    }
}

/// The one-line story.
pub struct Headline {
    /// How the report concludes.
    pub conclusion: Conclusion,
    /// The line.
    pub text: String,
}

impl Conclusion {
    /// How a comparison concludes.
    pub fn of(c: &crate::model::Comparison) -> Conclusion {
        if !c.overall.passed {
            Conclusion::Failed
        } else if c.overall.inconclusive > 0 {
            Conclusion::Inconclusive
        } else {
            Conclusion::Passed
        }
    }
}

/// The report's headline.
pub fn headline(input: &ReportInput) -> Headline {
    if let Some(c) = &input.comparison {
        let o = &c.overall;
        if !o.passed {
            return Headline {
                conclusion: Conclusion::Failed,
                text: o.summary.clone(),
            };
        }
        if o.inconclusive == 0 {
            return Headline {
                conclusion: Conclusion::Passed,
                text: o.summary.clone(),
            };
        }
        // Nothing regressed, but "no regression detected" alone reads as a pass: say what
        // is left unsettled.
        let total: usize = c.steps.iter().map(|s| s.metrics.len()).sum();
        let mut text = format!(
            "no regression detected, but inconclusive: {} of {total} metrics could not be settled",
            o.inconclusive
        );
        if !o.improved.is_empty() {
            text.push_str(&format!("; improved: {}", o.improved.join(", ")));
        }
        if !c.thresholds.is_empty() {
            text.push_str(&format!("; all {} thresholds met", c.thresholds.len()));
        }
        return Headline {
            conclusion: Conclusion::Inconclusive,
            text,
        };
    }
    let run = &input.candidates[0];
    let breaches: Vec<String> = thresholds(input)
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.threshold.label())
        .collect();
    let iterations = run.iterations.as_ref();
    let mut text = match iterations {
        Some(i) => format!(
            "{} iterations: {} completed, {} failed, {} dropped",
            i.started, i.completed, i.failed, i.dropped
        ),
        None => format!("{} steps", run.steps.len()),
    };
    if !run.complete {
        text = format!(
            "INCOMPLETE ({}); {text}",
            run.stop_reason.as_deref().unwrap_or("interrupted")
        );
    }
    if !breaches.is_empty() {
        text = format!("THRESHOLDS BREACHED: {}; {text}", breaches.join(", "));
    } else if !thresholds(input).is_empty() {
        text.push_str(&format!("; all {} thresholds met", thresholds(input).len()));
    }
    Headline {
        conclusion: if breaches.is_empty() && run.complete {
            Conclusion::Passed
        } else {
            Conclusion::Failed
        },
        text,
    }
}

/// What the runs reported on are called: "candidate" beside a baseline, "this run" alone.
pub fn reported_side(input: &ReportInput) -> &'static str {
    let alone = input.baseline.is_empty() && input.comparison.is_none();
    match (alone, input.candidates.len()) {
        (false, _) => "candidate",
        (true, 1) => "this run",
        (true, _) => "these runs",
    }
}

/// The thresholds to show: the comparison's (pooled candidates) or the run's own.
pub fn thresholds(input: &ReportInput) -> &[ThresholdResult] {
    match &input.comparison {
        Some(c) => &c.thresholds,
        None => &input.candidates[0].thresholds,
    }
}

/// The steps in order, then the workflow: (name, is_workflow).
pub fn steps(run: &RunResult) -> Vec<(String, bool)> {
    run.steps
        .iter()
        .map(|s| (s.name.clone(), false))
        .chain(run.workflow.iter().map(|w| (w.name.clone(), true)))
        .collect()
}

/// The distinct targets of some runs, in order ("unknown" for a run that names none).
pub fn targets(runs: &[RunResult]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for r in runs {
        let t = r.target.as_deref().unwrap_or("unknown");
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// A run's step (or workflow).
pub fn step<'a>(run: &'a RunResult, name: &str, workflow: bool) -> Option<&'a StepResult> {
    if workflow {
        run.workflow.as_ref()
    } else {
        run.steps.iter().find(|s| s.name == name)
    }
}

/// A step's corrected-latency histograms merged over runs (None when none recorded any).
pub fn merged(runs: &[RunResult], name: &str, workflow: bool) -> Option<Histogram<u64>> {
    let mut out = new_histogram();
    for r in runs {
        if let Some(h) = step(r, name, workflow).and_then(|s| decode(&s.histogram).ok()) {
            out.add(&h).ok()?;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Label for a verdict, upper-case when it fails.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Regressed => "REGRESSED",
        Verdict::Improved => "improved",
        Verdict::Unchanged => "unchanged",
        Verdict::Inconclusive => "inconclusive",
    }
}

/// "2026-11-29 01:02:03 UTC" from an RFC 3339 time.
pub fn when(t: Option<&str>) -> String {
    match t {
        Some(t) => format!(
            "{} UTC",
            t.replace('T', " ")
                .trim_end_matches('Z')
                .split('.')
                .next()
                .unwrap_or(t)
        ),
        None => "unknown".into(),
    }
}

/// A short id: its first 13 characters (never cut inside one: ids can come from files).
pub fn short(id: &str) -> &str {
    id.char_indices().nth(13).map_or(id, |(i, _)| &id[..i])
}

/// A compared metric as text: baseline, candidate, change, interval (the same in every format).
pub fn metric_cells(m: &MetricComparison) -> [String; 4] {
    use crate::report::console::fmt_us;
    let pct = |x: f64| format!("{:+.1}%", x * 100.0);
    match m.unit {
        Unit::Us => [
            fmt_us(m.baseline.round() as u64),
            fmt_us(m.candidate.round() as u64),
            pct(m.change),
            format!("[{}, {}]", pct(m.interval[0]), pct(m.interval[1])),
        ],
        Unit::Fraction => {
            // The change is between the two rates shown; the test judges a smoothed model of
            // them, whose own estimate and interval are named as such.
            let points = |x: f64| format!("{:+.2}", x * 100.0);
            let model = match m.estimate {
                Some(e) => format!("model {}pt ", points(e)),
                None => String::new(),
            };
            [
                format!("{:.2}%", m.baseline * 100.0),
                format!("{:.2}%", m.candidate * 100.0),
                format!("{}pt", points(m.change)),
                format!(
                    "{model}[{}, {}]pt",
                    points(m.interval[0]),
                    points(m.interval[1])
                ),
            ]
        }
        _ => [
            format!("{:.1}/s", m.baseline),
            format!("{:.1}/s", m.candidate),
            pct(m.change),
            format!("[{}, {}]", pct(m.interval[0]), pct(m.interval[1])),
        ],
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::{
        Comparison, Noise, Op, Overall, Settings, Side, StepComparison, StepId, SummaryMetric,
        Threshold,
    };

    /// A one-step comparison whose metrics (p50, p90, …) have these verdicts, with one
    /// threshold, breached or held; the overall conclusion as `compare` draws it.
    pub(crate) fn compared(verdicts: &[Verdict], breached: bool) -> ReportInput {
        let metrics: Vec<MetricComparison> = verdicts
            .iter()
            .zip([
                SummaryMetric::P50,
                SummaryMetric::P90,
                SummaryMetric::P99,
                SummaryMetric::Mean,
            ])
            .map(|(v, metric)| MetricComparison {
                metric,
                unit: Unit::Us,
                baseline: 20_000.0,
                candidate: 21_000.0,
                change: 0.05,
                interval: [-0.1, 0.2],
                estimate: None,
                verdict: *v,
                p_worse: 0.2,
                runs_needed: None,
                detectable: None,
                noise: Noise::Prior,
                df: 4.0,
                sigma: 0.1,
            })
            .collect();
        let worst = verdicts.iter().copied().max().unwrap_or(Verdict::Unchanged);
        let regressed = worst == Verdict::Regressed;
        let threshold = Threshold {
            step: "pay".into(),
            workflow: false,
            metric: SummaryMetric::P99,
            op: Op::Le,
            limit: 60_000.0,
            expression: "pay.p99 <= 60ms".into(),
            default: false,
        };
        let comparison = Comparison {
            schema: crate::model::COMPARISON_SCHEMA,
            scenario: "pay-invoice".into(),
            baseline: Side::default(),
            candidate: Side::default(),
            steps: vec![StepComparison {
                id: StepId::Step("pay".into()),
                verdict: worst,
                alpha: 0.005,
                metrics,
            }],
            thresholds: vec![ThresholdResult {
                threshold,
                value: Some(50_000.0),
                passed: !breached,
            }],
            notes: Vec::new(),
            settings: Settings {
                alpha: 0.005,
                holm_family: 1,
                min_effect: BTreeMap::new(),
                eq_margin: BTreeMap::new(),
            },
            ab: None,
            harness_limited: Vec::new(),
            overall: Overall {
                verdict: worst,
                regressed: if regressed {
                    vec!["pay".into()]
                } else {
                    vec![]
                },
                improved: Vec::new(),
                inconclusive: verdicts
                    .iter()
                    .filter(|v| **v == Verdict::Inconclusive)
                    .count(),
                breaches: if breached {
                    vec!["pay.p99 <= 60ms".into()]
                } else {
                    vec![]
                },
                passed: !regressed && !breached,
                summary: "as compare wrote it".into(),
            },
        };
        let run: RunResult = serde_json::from_value(
            serde_json::json!({"schema": 1, "scenario": "pay-invoice", "steps": []}),
        )
        .unwrap();
        ReportInput {
            candidates: vec![run.clone()],
            baseline: vec![run],
            comparison: Some(comparison),
            ..Default::default()
        }
    }

    /// Guards against an all-inconclusive comparison drawn as a green PASS.
    #[test]
    fn a_comparison_with_metrics_left_unsettled_concludes_inconclusive_not_passed() {
        use Verdict::*;
        let all = headline(&compared(&[Inconclusive; 4], false));
        assert_eq!(all.conclusion, Conclusion::Inconclusive);
        assert_eq!(
            all.text,
            "no regression detected, but inconclusive: 4 of 4 metrics could not be settled; all 1 thresholds met"
        );
        // One metric left unsettled is enough: exactly what --fail-on-inconclusive fails on.
        let one = headline(&compared(
            &[Unchanged, Improved, Inconclusive, Unchanged],
            false,
        ));
        assert_eq!(one.conclusion, Conclusion::Inconclusive);
        assert!(one.text.contains("1 of 4 metrics"), "{}", one.text);
    }

    #[test]
    fn a_comparison_settled_without_regression_passes() {
        use Verdict::*;
        let h = headline(&compared(
            &[Unchanged, Improved, Unchanged, Unchanged],
            false,
        ));
        assert_eq!(h.conclusion, Conclusion::Passed);
        assert_eq!(h.text, "as compare wrote it");
    }

    #[test]
    fn a_regression_or_a_breach_fails_whatever_is_unsettled() {
        use Verdict::*;
        let regressed = headline(&compared(&[Regressed, Inconclusive, Unchanged], false));
        assert_eq!(regressed.conclusion, Conclusion::Failed);
        let breached = headline(&compared(&[Inconclusive, Unchanged], true));
        assert_eq!(breached.conclusion, Conclusion::Failed);
        assert_eq!(breached.text, "as compare wrote it");
    }

    #[test]
    fn a_single_run_is_this_run_and_has_no_baseline() {
        let mut input = compared(&[Verdict::Unchanged], false);
        assert_eq!(reported_side(&input), "candidate");
        input.comparison = None;
        input.baseline.clear();
        assert_eq!(reported_side(&input), "this run");
        let conclusion = headline(&input).conclusion;
        assert_eq!(conclusion, Conclusion::Passed, "no thresholds, complete");
    }
}
