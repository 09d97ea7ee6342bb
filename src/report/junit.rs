//! junit.xml: one test case per step and gate (regression verdict, each threshold), failures
//! carrying the numbers, for CI test reporters (GitLab, Jenkins, GitHub actions).

use std::fmt::Write;

use super::ReportInput;
use super::escape::xml;
use super::views::{steps, thresholds};
use crate::model::{StepComparison, Unit, Verdict};
use crate::report::console::fmt_us;
use crate::report::console::format_value;

enum Case {
    Pass,
    Fail(String, String),
    Skip(String),
}

/// The JUnit XML document.
pub fn junit(input: &ReportInput) -> String {
    let (suite, tests, failures, skipped) = testsuite(input);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"rehearse\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">"
    );
    out.push_str(&suite);
    out.push_str("</testsuites>\n");
    out
}

/// One scenario's `<testsuite>` element, with its test, failure and skip counts.
pub(crate) fn testsuite(input: &ReportInput) -> (String, usize, usize, usize) {
    let run = &input.candidates[0];
    let suite = &run.scenario;
    let mut cases: Vec<(String, String, Case)> = Vec::new();
    match &input.comparison {
        Some(c) => {
            for s in &c.steps {
                cases.push((
                    format!("{suite}.{}", s.id),
                    format!("regression: {}", s.id),
                    regression_case(s),
                ));
            }
        }
        None => {
            for (name, _) in steps(run) {
                let case = if run.complete {
                    Case::Pass
                } else {
                    Case::Skip(format!(
                        "run incomplete: {}",
                        run.stop_reason.as_deref().unwrap_or("interrupted")
                    ))
                };
                cases.push((format!("{suite}.{name}"), format!("run: {name}"), case));
            }
        }
    }
    for t in thresholds(input) {
        let value = t
            .value
            .map(|v| format_value(t.threshold.metric, v))
            .unwrap_or_else(|| "no data".into());
        let case = if t.passed {
            Case::Pass
        } else {
            Case::Fail(
                format!("{} breached: {value}", t.threshold.label()),
                format!("measured {value}; limit {}", t.threshold.label()),
            )
        };
        cases.push((
            format!("{suite}.{}", t.threshold.step),
            format!("threshold: {}", t.threshold.label()),
            case,
        ));
    }
    let failures = cases
        .iter()
        .filter(|c| matches!(c.2, Case::Fail(..)))
        .count();
    let skipped = cases
        .iter()
        .filter(|c| matches!(c.2, Case::Skip(_)))
        .count();
    let stamp = run
        .started_at
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('Z')
        .split('.')
        .next()
        .unwrap_or("")
        .to_string();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" timestamp=\"{}\">",
        xml(suite),
        cases.len(),
        xml(&stamp)
    );
    for (class, name, case) in &cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
            xml(class),
            xml(name)
        );
        match case {
            Case::Pass => out.push_str("/>\n"),
            Case::Fail(message, body) => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    xml(message),
                    if name.starts_with("threshold") {
                        "threshold"
                    } else {
                        "regression"
                    },
                    xml(body)
                );
            }
            Case::Skip(message) => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    xml(message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
    (out, cases.len(), failures, skipped)
}

fn regression_case(s: &StepComparison) -> Case {
    let describe = |verdict: Verdict| -> String {
        s.metrics
            .iter()
            .filter(|m| m.verdict == verdict)
            .map(|m| {
                let values = if m.unit == Unit::Us {
                    format!(
                        "{} -> {}",
                        fmt_us(m.baseline.round() as u64),
                        fmt_us(m.candidate.round() as u64)
                    )
                } else {
                    format!("{:.4} -> {:.4}", m.baseline, m.candidate)
                };
                format!(
                    "{} {:+.1}% [{:+.1}%, {:+.1}%] ({values})",
                    m.metric,
                    m.change * 100.0,
                    m.interval[0] * 100.0,
                    m.interval[1] * 100.0
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    match s.verdict {
        Verdict::Regressed => Case::Fail(
            format!("{} regressed: {}", s.id, describe(Verdict::Regressed)),
            describe(Verdict::Regressed),
        ),
        Verdict::Inconclusive => {
            Case::Skip(format!("inconclusive: {}", describe(Verdict::Inconclusive)))
        }
        _ => Case::Pass,
    }
}
