//! One verdict for a suite run: every scenario's comparison (already tested in one Holm
//! family by [`super::suite`]) and thresholds, and what is missing, folded into a
//! [`SuiteComparison`]. A missing scenario is never a pass.

use crate::model::{
    Comparison, RunResult, SUITE_SCHEMA, SuiteComparison, SuiteMemberResult, SuiteOverall,
};

/// One scenario of a suite run, with its comparison when there was a baseline.
pub struct MemberOutcome<'a> {
    /// The scenario.
    pub scenario: String,
    /// The suite part (CI job) that ran it.
    pub part: u32,
    /// Its runs in this suite run.
    pub runs: &'a [RunResult],
    /// Its comparison, when compared.
    pub comparison: Option<Comparison>,
}

/// What is known of a suite run beyond its members.
pub struct SuiteFacts {
    /// The suite's name.
    pub name: String,
    /// The suite run's id.
    pub id: String,
    /// What it was compared with, if anything.
    pub baseline: Option<String>,
    /// Scenarios expected but not run, with why.
    pub missing: Vec<String>,
    /// Scenarios the suite file skips.
    pub skipped: Vec<String>,
}

/// The suite's verdict.
pub fn conclude(facts: SuiteFacts, members: Vec<MemberOutcome>) -> SuiteComparison {
    let mut results = Vec::new();
    let mut regressed = Vec::new();
    let mut breaches = Vec::new();
    let mut inconclusive = 0;
    let mut holm_family = 0;
    for m in &members {
        let own_breaches: Vec<String> = match &m.comparison {
            Some(c) => c.overall.breaches.clone(),
            None => m
                .runs
                .iter()
                .flat_map(|r| &r.thresholds)
                .filter(|t| !t.passed)
                .map(|t| t.threshold.label())
                .collect(),
        };
        breaches.extend(own_breaches.iter().map(|b| format!("{}: {b}", m.scenario)));
        let (verdict, worst) = match &m.comparison {
            Some(c) => {
                regressed.extend(
                    c.overall
                        .regressed
                        .iter()
                        .map(|s| format!("{}/{s}", m.scenario)),
                );
                inconclusive += c.overall.inconclusive;
                holm_family = holm_family.max(c.settings.holm_family);
                (c.overall.verdict.name().to_string(), worst(c))
            }
            None => ("not compared".to_string(), None),
        };
        let passed = own_breaches.is_empty()
            && m.comparison
                .as_ref()
                .is_none_or(|c| c.overall.regressed.is_empty());
        results.push(SuiteMemberResult {
            scenario: m.scenario.clone(),
            run_ids: m.runs.iter().map(|r| r.run_id.clone()).collect(),
            part: m.part,
            breaches: own_breaches,
            verdict,
            worst,
            passed,
        });
    }
    let passed = regressed.is_empty() && breaches.is_empty() && facts.missing.is_empty();
    let mut parts = Vec::new();
    if !facts.missing.is_empty() {
        parts.push(format!("MISSING: {}", facts.missing.join("; ")));
    }
    if !regressed.is_empty() {
        parts.push(format!("REGRESSED: {}", regressed.join(", ")));
    }
    if !breaches.is_empty() {
        parts.push(format!("THRESHOLDS BREACHED: {}", breaches.join(", ")));
    }
    if parts.is_empty() {
        let compared = members.iter().filter(|m| m.comparison.is_some()).count();
        parts.push(if compared == 0 {
            format!("{} scenarios ran; every threshold held", members.len())
        } else if inconclusive > 0 {
            format!(
                "no regression detected in {compared} scenarios ({inconclusive} metrics inconclusive)"
            )
        } else {
            format!("no regression in {compared} scenarios")
        });
    }
    let comparisons = members.into_iter().filter_map(|m| m.comparison).collect();
    SuiteComparison {
        schema: SUITE_SCHEMA,
        suite: facts.name,
        id: facts.id,
        baseline: facts.baseline,
        scenarios: comparisons,
        members: results,
        missing: facts.missing,
        skipped: facts.skipped,
        overall: SuiteOverall {
            passed,
            regressed,
            breaches,
            inconclusive,
            holm_family,
            summary: parts.join("; "),
        },
    }
}

/// The comparison's worst change for people (see [`Comparison::worst_latency`]), with its
/// interval.
fn worst(c: &Comparison) -> Option<String> {
    let (s, m) = c.worst_latency()?;
    Some(format!(
        "{} {} {:+.1}% [{:+.1}%, {:+.1}%]",
        s.id,
        m.metric.name(),
        m.change * 100.0,
        m.interval[0] * 100.0,
        m.interval[1] * 100.0
    ))
}
