//! What every report format says the same way: the headline, the steps, merged histograms.

use hdrhistogram::Histogram;

use super::ReportInput;
use crate::model::Verdict;
use crate::model::{
    MetricComparison, RunResult, StepResult, ThresholdResult, Unit, decode, new_histogram,
};

/// The one-line story.
pub struct Headline {
    /// Comparison verdict, if there was a comparison.
    pub verdict: Option<Verdict>,
    /// Nothing regressed, every threshold held, the run completed.
    pub passed: bool,
    /// The line.
    pub text: String,
}

/// The report's headline.
pub fn headline(input: &ReportInput) -> Headline {
    if let Some(c) = &input.comparison {
        return Headline {
            verdict: Some(c.overall.verdict),
            passed: c.overall.passed,
            text: c.overall.summary.clone(),
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
        verdict: None,
        passed: breaches.is_empty() && run.complete,
        text,
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

/// A short id.
pub fn short(id: &str) -> &str {
    &id[..id.len().min(13)]
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
