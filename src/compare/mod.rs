//! Comparisons: regression verdicts (DAQ, Holm across steps) and absolute thresholds, from
//! results alone. Pure: the same runs and settings always give the same comparison.

pub mod changes;
mod evidence;
pub mod harness;
pub mod suite;

use crate::model::{
    AbInfo, COMPARISON_SCHEMA, CompareSettings, Comparison, LogRatios, MetricComparison, Noise,
    Overall, RunResult, Settings, Side, StepComparison, SummaryMetric, Threshold, Unit, Verdict,
};
use crate::stats::{self, DaqParams, Metric, MetricEvidence, MetricTest};
use evidence::StepEvidence;

/// The baseline side: the runs compared with, and the runs the noise is learned from.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// How it was named (`branch:main`, an id, a file).
    pub spec: String,
    /// Baseline runs (N >= 1).
    pub runs: Vec<RunResult>,
    /// Earlier runs of the baseline branch to learn run-to-run noise from; empty when the
    /// baseline runs themselves serve (N >= 3) or nothing is known (the priors are used).
    pub history: Vec<RunResult>,
}

/// Settings given on the command line, over the scenario's `[compare]` table.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--alpha`.
    pub alpha: Option<f64>,
}

/// Test parameters: the documented defaults, then the scenario's `[compare]`, then flags.
pub fn params(settings: &CompareSettings, overrides: &Overrides) -> DaqParams {
    let mut p = DaqParams::default();
    if let Some(a) = settings.alpha {
        p.alpha = a;
    }
    for (name, value) in &settings.min_effect {
        if let Some(m) = Metric::from_name(name) {
            p.min_effect.set(m, *value);
        }
    }
    if let Some(margin) = settings.eq_margin {
        // The margin is relative; the error rate's stays absolute (see DaqParams).
        for m in Metric::ALL.into_iter().filter(|m| *m != Metric::ErrorRate) {
            p.eq_margin.set(m, margin);
        }
    }
    if let Some(a) = overrides.alpha {
        p.alpha = a;
    }
    p
}

/// Compares candidate runs with a baseline and checks the thresholds on the candidates.
pub fn compare(
    baseline: &Baseline,
    candidates: &[RunResult],
    params: &DaqParams,
    thresholds: &[Threshold],
    candidate_spec: &str,
) -> Comparison {
    let member = SuiteMember {
        baseline,
        candidates,
        thresholds,
        candidate_spec: candidate_spec.to_string(),
    };
    compare_suite(&[member], params)
        .pop()
        .expect("one comparison per member")
}

/// One scenario of a suite: its candidates, the baseline they are compared with, and the
/// thresholds checked on them.
pub struct SuiteMember<'a> {
    /// The scenario's baseline.
    pub baseline: &'a Baseline,
    /// The scenario's candidate runs.
    pub candidates: &'a [RunResult],
    /// Its absolute thresholds.
    pub thresholds: &'a [Threshold],
    /// How the candidates were named.
    pub candidate_spec: String,
}

/// Compares every scenario of a suite with its own baseline in one Holm family: every step
/// of every scenario (and each workflow of two steps or more), so the suite's chance of one
/// false alarm stays at one scenario's. One comparison per member, in order.
pub fn compare_suite(members: &[SuiteMember], params: &DaqParams) -> Vec<Comparison> {
    let gathered: Vec<(Vec<StepEvidence>, Vec<StepEvidence>)> = members
        .iter()
        .map(|m| {
            evidence::gather(m.baseline, m.candidates)
                .into_iter()
                .partition(|s| !s.id.is_workflow())
        })
        .collect();
    // One family for the whole suite; a one-step scenario's workflow is that step measured
    // twice, so it is tested alone at the step's level, as in a one-scenario comparison.
    let mut family: Vec<(usize, &StepEvidence)> = Vec::new();
    for (i, (steps, workflow)) in gathered.iter().enumerate() {
        family.extend(steps.iter().map(|s| (i, s)));
        if steps.len() >= 2 {
            family.extend(workflow.iter().map(|s| (i, s)));
        }
    }
    let refs: Vec<&StepEvidence> = family.iter().map(|(_, s)| *s).collect();
    let mut per_member: Vec<Vec<(StepComparison, Vec<String>)>> =
        (0..members.len()).map(|_| Vec::new()).collect();
    for ((i, _), tested) in family.iter().zip(test_family(&refs, params)) {
        per_member[*i].push(tested);
    }
    for (i, (steps, workflow)) in gathered.iter().enumerate() {
        if steps.len() < 2 {
            let alone: Vec<&StepEvidence> = workflow.iter().collect();
            per_member[i].extend(test_family(&alone, params));
        }
    }
    members
        .iter()
        .zip(per_member)
        .map(|(m, tested)| {
            let (steps, notes): (Vec<StepComparison>, Vec<Vec<String>>) = tested.into_iter().unzip();
            let mut c = assemble(steps, notes.concat(), family.len(), params, m.thresholds, m.candidates);
            c.notes.splice(0..0, evidence::notes(m.baseline, &c.steps));
            c.notes.extend(comparability(&m.baseline.runs, m.candidates));
            if m.baseline.runs.iter().chain(m.candidates).any(|r| !r.complete) {
                c.notes.push(
                    "some runs are incomplete (interrupted): their numbers cover part of the planned load"
                        .into(),
                );
            }
            if harness::review(&mut c, &m.baseline.runs, m.candidates) {
                c.overall = overall(&c.steps, &c.thresholds);
            }
            c.baseline = side(&m.baseline.spec, &m.baseline.runs);
            c.candidate = side(&m.candidate_spec, m.candidates);
            c
        })
        .collect()
}

/// Differences that make runs less comparable than their verdicts assume, as notes.
fn comparability(baseline: &[RunResult], candidates: &[RunResult]) -> Vec<String> {
    let Some(c) = candidates.first() else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    // Values worth reading are shown; fingerprints and hashes only say that they differ.
    let differs = |what: &str, show: bool, get: &dyn Fn(&RunResult) -> Option<String>| {
        let mine = get(c)?;
        let other: Vec<String> = baseline
            .iter()
            .filter_map(|b| get(b).filter(|v| *v != mine))
            .collect();
        let first = other.first()?;
        let values = if show {
            format!(" (candidate {mine}, baseline {first})")
        } else {
            String::new()
        };
        Some(format!(
            "{} of {} baseline runs differ from the candidate in {what}{values}",
            other.len(),
            baseline.len()
        ))
    };
    let load = |r: &RunResult| {
        r.load.as_ref().map(|l| {
            let mut text = l.model.clone();
            if let Some(rate) = l.rate {
                text += &format!(" {rate}/s");
            }
            if let Some(users) = l.users {
                text += &format!(" {users} users");
            }
            text + &format!(" {}s", l.duration_seconds)
        })
    };
    let fingerprint = |r: &RunResult| r.host.as_ref().map(|h| h.fingerprint.clone());
    notes.extend(differs(
        "the kind of load-generating machine (host fingerprint): its speed is part of every latency",
        false,
        &fingerprint,
    ));
    notes.extend(differs("the target", true, &|r: &RunResult| {
        r.target.clone()
    }));
    notes.extend(differs(
        "the scenario file (its hash)",
        false,
        &|r: &RunResult| r.scenario_hash.clone(),
    ));
    notes.extend(differs("the load settings", true, &load));
    notes
}

/// An interleaved A/B session: `rounds` of (baseline, candidate) runs, tested pairwise
/// (DAQ's paired mode) with noise from the rounds and from earlier A/A sessions (`aa`).
pub fn paired(
    rounds: &[(RunResult, RunResult)],
    aa: &LogRatios,
    aa_sessions: usize,
    params: &DaqParams,
    thresholds: &[Threshold],
    labels: (&str, &str),
    same_target: bool,
) -> Comparison {
    // Rounds in which either side's generator was starved are left out, as long as two
    // rounds remain; otherwise they stay and their regressions are reviewed like a starved
    // candidate's.
    let starved: Vec<usize> = (0..rounds.len())
        .filter(|&i| harness::is_limited(&rounds[i].0) || harness::is_limited(&rounds[i].1))
        .collect();
    let left_out = !starved.is_empty() && rounds.len() - starved.len() >= 2;
    let usable: Vec<(RunResult, RunResult)> = rounds
        .iter()
        .enumerate()
        .filter(|(i, _)| !left_out || !starved.contains(i))
        .map(|(_, r)| r.clone())
        .collect();
    let steps = evidence::gather_rounds(&usable, aa);
    let log_ratios = evidence::log_ratios(&steps);
    let candidates: Vec<RunResult> = rounds.iter().map(|r| r.1.clone()).collect();
    let baselines: Vec<RunResult> = rounds.iter().map(|r| r.0.clone()).collect();
    let mut notes = Vec::new();
    if left_out {
        let named: Vec<String> = starved.iter().map(|i| (i + 1).to_string()).collect();
        notes.push(format!(
            "round{} {} left out: the load generator was starved there (harness-limited), so its latencies were partly its own; {} rounds remain",
            if named.len() == 1 { "" } else { "s" },
            named.join(", "),
            usable.len()
        ));
    }
    if aa_sessions == 0 && !same_target {
        notes.push(format!(
            "noise comes from these {} rounds and the paired priors; an A/A session (`rehearse ab --same`) on this setup measures its noise for later sessions",
            rounds.len()
        ));
    }
    let usable_candidates: Vec<RunResult> = usable.iter().map(|r| r.1.clone()).collect();
    let usable_baselines: Vec<RunResult> = usable.iter().map(|r| r.0.clone()).collect();
    let mut c = conclude(steps, params, thresholds, &usable_candidates, notes);
    if harness::review(&mut c, &usable_baselines, &usable_candidates) {
        c.overall = overall(&c.steps, &c.thresholds);
    }
    c.harness_limited = harness::limited(&baselines, &candidates);
    c.baseline = side(labels.0, &baselines);
    c.candidate = side(labels.1, &candidates);
    let measured = same_target || aa_sessions > 0;
    let mde = Metric::ALL
        .iter()
        .map(|m| {
            (
                summary_metric(*m),
                mde(&c, *m, usable.len(), params, measured),
            )
        })
        .collect();
    c.ab = Some(AbInfo {
        rounds: rounds.len(),
        left_out: if left_out {
            starved.iter().map(|i| i + 1).collect()
        } else {
            Vec::new()
        },
        same_target,
        aa_sessions,
        log_ratios,
        minimum_detectable_effect: mde,
    });
    c
}

/// The smallest increase `rounds` rounds would detect 80% of the time: with the noise measured
/// (this A/A session, or earlier ones pooled in; the noisiest step's), or with the paired priors.
fn mde(c: &Comparison, metric: Metric, rounds: usize, params: &DaqParams, measured: bool) -> f64 {
    let prior = stats::minimum_detectable_effect(metric, rounds as u32, params, 0.8);
    let tested: Vec<&MetricComparison> = c
        .steps
        .iter()
        .filter_map(|s| {
            s.metrics
                .iter()
                .find(|m| m.metric == summary_metric(metric))
        })
        .collect();
    if !measured || tested.is_empty() || metric == Metric::ErrorRate {
        return prior;
    }
    let sigma = tested.iter().map(|m| m.sigma).fold(0.0, f64::max);
    let df = tested
        .iter()
        .map(|m| m.df)
        .fold(f64::INFINITY, f64::min)
        .max(1.0);
    let z = stats::student_t::student_t_isf(params.alpha, df)
        + stats::student_t::student_t_isf(0.2, df);
    (z * sigma / (rounds as f64).sqrt())
        .exp_m1()
        .max(params.min_effect(metric))
}

/// Tests every step (Holm across them), checks thresholds on the candidates, and concludes.
fn conclude(
    steps: Vec<StepEvidence>,
    params: &DaqParams,
    thresholds: &[Threshold],
    candidates: &[RunResult],
    notes: Vec<String>,
) -> Comparison {
    // Holm's family: every step, plus the workflow once there are two steps or more. A
    // one-step workflow is that step measured twice, so it is tested at the step's level
    // and a one-step scenario behaves exactly as the reference simulation.
    let (workflow, steps): (Vec<StepEvidence>, Vec<StepEvidence>) =
        steps.into_iter().partition(|s| s.id.is_workflow());
    let mut family: Vec<&StepEvidence> = steps.iter().collect();
    let separate_workflow = family.len() < 2;
    if !separate_workflow {
        family.extend(workflow.iter());
    }
    let mut tested = test_family(&family, params);
    if separate_workflow {
        let alone: Vec<&StepEvidence> = workflow.iter().collect();
        tested.extend(test_family(&alone, params));
    }
    let (tested, step_notes): (Vec<StepComparison>, Vec<Vec<String>>) = tested.into_iter().unzip();
    let mut all_notes = notes;
    all_notes.extend(step_notes.concat());
    assemble(
        tested,
        all_notes,
        family.len(),
        params,
        thresholds,
        candidates,
    )
}

/// A comparison from its tested steps: thresholds checked on the candidates pooled, the
/// settings used, and the overall conclusion.
fn assemble(
    tested: Vec<StepComparison>,
    notes: Vec<String>,
    family: usize,
    params: &DaqParams,
    thresholds: &[Threshold],
    candidates: &[RunResult],
) -> Comparison {
    let refs: Vec<&RunResult> = candidates.iter().collect();
    let threshold_results = crate::model::thresholds::evaluate(thresholds, &refs);
    let overall = overall(&tested, &threshold_results);
    Comparison {
        schema: COMPARISON_SCHEMA,
        scenario: candidates
            .first()
            .map(|c| c.scenario.clone())
            .unwrap_or_default(),
        baseline: side("", &[]),
        candidate: side("", &[]),
        steps: tested,
        thresholds: threshold_results,
        notes,
        settings: Settings {
            alpha: params.alpha,
            holm_family: family,
            min_effect: Metric::ALL
                .iter()
                .map(|m| (summary_metric(*m), params.min_effect(*m)))
                .collect(),
            eq_margin: Metric::ALL
                .iter()
                .map(|m| (summary_metric(*m), params.eq_margin(*m)))
                .collect(),
        },
        ab: None,
        harness_limited: Vec::new(),
        overall,
    }
}

/// Smallest rise of the error rate, in absolute terms, in every candidate run over the worst
/// baseline run, that the gross-failure check considers.
pub const GROSS_ERROR_RISE: f64 = 0.20;

/// Tests a Holm family of steps; each step comes with the notes its verdict needs.
fn test_family(family: &[&StepEvidence], params: &DaqParams) -> Vec<(StepComparison, Vec<String>)> {
    let evidence: Vec<Vec<MetricEvidence>> = family.iter().map(|s| s.evidence()).collect();
    let results = stats::test_steps(&evidence, params);
    // Bonferroni's level: a step it rejects, Holm's procedure would reject too.
    let gross_level = params.alpha / family.len().max(1) as f64;
    family
        .iter()
        .zip(results)
        .map(|(step, tests)| {
            let mut notes = Vec::new();
            let alpha = tests.first().map(|t| t.alpha).unwrap_or(params.alpha);
            if step.never_reached() {
                // Nothing to measure, which is the worst news: an earlier step now fails.
                let attempts = evidence::pooled(&step.errors[0]).1;
                notes.push(format!(
                    "`{}` was never reached by the candidate runs ({attempts} attempts in the baseline): an earlier step fails",
                    step.id
                ));
                let never = StepComparison {
                    id: step.id.clone(),
                    verdict: Verdict::Regressed,
                    alpha,
                    metrics: Vec::new(),
                };
                return (never, notes);
            }
            let mut metrics: Vec<MetricComparison> =
                tests.iter().map(|t| metric_comparison(t, params)).collect();
            for m in metrics
                .iter_mut()
                .filter(|m| m.metric == SummaryMetric::ErrorRate)
            {
                // Show measured error rates and the change between them, not the smoothed
                // (e + 0.5) / (n + 1) the test uses; the model's own estimate keeps its name.
                (m.baseline, m.candidate) = step.error_rates();
                m.change = m.candidate - m.baseline;
                if m.verdict == Verdict::Regressed && !enough_errors(&step.errors) {
                    // Errors come in bursts (a stalled dependency, a starved client times
                    // several requests out at once): a handful more is not a regression.
                    m.verdict = Verdict::Inconclusive;
                    notes.push(format!(
                        "`{}` had a few more errors ({:.2}% → {:.2}%), too few to call a regression: it needs at least {MIN_EXCESS_ERRORS} more errors than the baseline's rate predicts and {:.0}% more than its rate",
                        step.id,
                        m.baseline * 100.0,
                        m.candidate * 100.0,
                        MIN_RELATIVE_ERROR_RISE * 100.0
                    ));
                }
                if m.verdict != Verdict::Regressed && gross_error_rise(&step.errors, gross_level) {
                    m.verdict = Verdict::Regressed;
                    m.runs_needed = None;
                    let (from, to) = (m.baseline * 100.0, m.candidate * 100.0);
                    notes.push(format!(
                        "`{}` errors rose from {from:.2}% to {to:.2}% of attempts in every candidate run: flagged by the gross-failure check whatever the run-to-run noise",
                        step.id
                    ));
                }
            }
            let worst = metrics
                .iter()
                .map(|m| m.verdict)
                .max()
                .unwrap_or(Verdict::Inconclusive);
            // The worst verdict, except that improvements with no doubt elsewhere say so.
            let improved = metrics.iter().any(|m| m.verdict == Verdict::Improved);
            let verdict = if worst == Verdict::Unchanged && improved {
                Verdict::Improved
            } else {
                worst
            };
            let tested = StepComparison {
                id: step.id.clone(),
                verdict,
                alpha,
                metrics,
            };
            (tested, notes)
        })
        .collect()
}

/// Fewest errors beyond what the baseline's rate predicts for an error-rate regression.
pub const MIN_EXCESS_ERRORS: f64 = 5.0;

/// Smallest rise of the error rate relative to the baseline's for a regression (+50%).
pub const MIN_RELATIVE_ERROR_RISE: f64 = 0.5;

/// Whether the candidates' errors exceed the baseline's rate by enough to be more than a
/// burst: [`MIN_EXCESS_ERRORS`] errors and [`MIN_RELATIVE_ERROR_RISE`] of the rate.
fn enough_errors(errors: &[Vec<(u64, u64)>; 2]) -> bool {
    let ((eb, nb), (ec, nc)) = (evidence::pooled(&errors[0]), evidence::pooled(&errors[1]));
    if nb == 0 || nc == 0 {
        return true;
    }
    let base_rate = eb as f64 / nb as f64;
    let expected = base_rate * nc as f64;
    let excess = ec as f64 - expected;
    excess >= MIN_EXCESS_ERRORS
        && ec as f64 / nc as f64 >= (1.0 + MIN_RELATIVE_ERROR_RISE) * base_rate
}

/// A gross failure the logit test can miss: its 0.5 correction bounds how far a rate with no
/// errors (or no successes) can move, so with the priors' noise even 0% -> 100% errors may stay
/// inconclusive. It is a regression when every candidate run's rate exceeds the worst baseline
/// run's by [`GROSS_ERROR_RISE`] (one burst of errors in one run is not enough) and a pooled
/// two-proportion test confirms the rise at `level`.
fn gross_error_rise(errors: &[Vec<(u64, u64)>; 2], level: f64) -> bool {
    let attempted = |runs: &[(u64, u64)]| -> Vec<f64> {
        runs.iter()
            .filter(|r| r.1 > 0)
            .map(|r| evidence::rate(*r))
            .collect()
    };
    let (baselines, candidates) = (attempted(&errors[0]), attempted(&errors[1]));
    let worst_baseline = baselines.iter().copied().fold(f64::NAN, f64::max);
    if baselines.is_empty()
        || candidates.is_empty()
        || candidates
            .iter()
            .any(|c| c - worst_baseline < GROSS_ERROR_RISE)
    {
        return false;
    }
    let ((eb, nb), (ec, nc)) = (evidence::pooled(&errors[0]), evidence::pooled(&errors[1]));
    let (pb, pc) = (eb as f64 / nb as f64, ec as f64 / nc as f64);
    let pooled = (eb + ec) as f64 / (nb + nc) as f64;
    let se = (pooled * (1.0 - pooled) * (1.0 / nb as f64 + 1.0 / nc as f64)).sqrt();
    se > 0.0 && (pc - pb) / se > stats::student_t::student_t_isf(level, 1e9)
}

/// The results contract's name for a tested metric.
pub fn summary_metric(m: Metric) -> SummaryMetric {
    match m {
        Metric::P50 => SummaryMetric::P50,
        Metric::P90 => SummaryMetric::P90,
        Metric::P99 => SummaryMetric::P99,
        Metric::Mean => SummaryMetric::Mean,
        Metric::ErrorRate => SummaryMetric::ErrorRate,
        Metric::Throughput => SummaryMetric::Throughput,
    }
}

fn metric_comparison(t: &MetricTest, params: &DaqParams) -> MetricComparison {
    let metric = summary_metric(t.metric);
    // Error rates are judged in points (fraction of attempts), latency and throughput as ratios.
    let (change, interval, estimate) = match &t.points {
        Some(p) => (
            p.change / 100.0,
            [p.interval.low / 100.0, p.interval.high / 100.0],
            Some(p.change / 100.0),
        ),
        None => (t.change, [t.interval.low, t.interval.high], None),
    };
    MetricComparison {
        detectable: Some(detectable(t, params)),
        metric,
        unit: Unit::of(metric),
        baseline: t.baseline,
        candidate: t.candidate,
        change,
        interval,
        estimate,
        verdict: verdict(t.verdict),
        p_worse: t.p_worse,
        runs_needed: t.runs_needed,
        sigma: t.sigma,
        noise: match t.noise {
            stats::NoiseSource::Prior => Noise::Prior,
            stats::NoiseSource::History { runs } => Noise::History { runs },
            stats::NoiseSource::Rounds { rounds, aa_rounds } => Noise::Rounds { rounds, aa_rounds },
        },
        df: t.df,
    }
}

/// The smallest change in the worse direction this test would call regressed 80% of the
/// time, with the noise and evidence it actually had: (t* + t(0.8)) standard errors on the
/// test scale, in the terms of `change` (relative; points for error rates), and never below
/// the minimum effect. What "no regression detected" can and cannot rule out.
fn detectable(t: &MetricTest, params: &DaqParams) -> f64 {
    let shift = (t.t_star + stats::student_t::student_t_quantile(0.8, t.df)) * t.std_error;
    let floor = params.min_effect(t.metric);
    match t.metric {
        Metric::ErrorRate => {
            let base = (t.baseline / (1.0 - t.baseline)).ln();
            stats::metric::inverse_logit(base + shift) - t.baseline
        }
        Metric::Throughput => -(-shift).exp_m1(),
        _ => shift.exp_m1(),
    }
    .max(floor)
}

fn verdict(v: stats::Verdict) -> Verdict {
    match v {
        stats::Verdict::Unchanged => Verdict::Unchanged,
        stats::Verdict::Improved => Verdict::Improved,
        stats::Verdict::Inconclusive => Verdict::Inconclusive,
        stats::Verdict::Regressed => Verdict::Regressed,
    }
}

fn side(spec: &str, runs: &[RunResult]) -> Side {
    let git = |f: fn(&crate::model::Git) -> Option<String>| -> Vec<String> {
        let mut v: Vec<String> = runs
            .iter()
            .filter_map(|r| r.git.as_ref().and_then(f))
            .collect();
        v.dedup();
        v
    };
    Side {
        spec: spec.to_string(),
        run_ids: runs.iter().map(|r| r.run_id.clone()).collect(),
        commits: git(|g| g.commit.clone()),
        branches: git(|g| g.branch.clone()),
        from: runs.iter().filter_map(|r| r.started_at.clone()).min(),
        to: runs.iter().filter_map(|r| r.ended_at.clone()).max(),
    }
}

fn overall(steps: &[StepComparison], thresholds: &[crate::model::ThresholdResult]) -> Overall {
    let regressed: Vec<String> = steps
        .iter()
        .filter(|s| s.verdict == Verdict::Regressed)
        .map(|s| s.id.to_string())
        .collect();
    let improved: Vec<String> = steps
        .iter()
        .filter(|s| s.verdict == Verdict::Improved)
        .map(|s| s.id.to_string())
        .collect();
    let inconclusive = steps
        .iter()
        .flat_map(|s| &s.metrics)
        .filter(|m| m.verdict == Verdict::Inconclusive)
        .count();
    let breaches: Vec<String> = thresholds
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.threshold.label())
        .collect();
    let verdict = steps
        .iter()
        .map(|s| s.verdict)
        .max()
        .unwrap_or(Verdict::Inconclusive);
    let passed = regressed.is_empty() && breaches.is_empty();
    let mut parts = Vec::new();
    if !regressed.is_empty() {
        let worst: Vec<String> = steps
            .iter()
            .filter(|s| s.verdict == Verdict::Regressed)
            .map(|s| {
                // Latencies first (the largest change), then the error rate in points, then
                // throughput, which errors usually explain.
                let regressed = |unit: Unit| {
                    s.metrics
                        .iter()
                        .filter(|m| m.verdict == Verdict::Regressed && m.unit == unit)
                        .max_by(|a, b| a.change.total_cmp(&b.change))
                };
                if let Some(m) = regressed(Unit::Us) {
                    format!("{} {} {:+.1}%", s.id, m.metric.name(), m.change * 100.0)
                } else if let Some(m) = regressed(Unit::Fraction) {
                    format!("{} error rate {:+.1}pt", s.id, m.change * 100.0)
                } else if let Some(m) = regressed(Unit::PerSecond) {
                    format!("{} {} {:+.1}%", s.id, m.metric.name(), m.change * 100.0)
                } else {
                    format!("{} never reached", s.id)
                }
            })
            .collect();
        parts.push(format!("REGRESSED: {}", worst.join(", ")));
    }
    if !breaches.is_empty() {
        parts.push(format!("THRESHOLDS BREACHED: {}", breaches.join(", ")));
    }
    if parts.is_empty() {
        parts.push(match verdict {
            Verdict::Unchanged => "no regression: every step unchanged".to_string(),
            Verdict::Improved => format!("no regression; improved: {}", improved.join(", ")),
            _ => {
                // "No regression detected" is not "no regression": say what could have been.
                let could = [SummaryMetric::P50, SummaryMetric::P99]
                    .iter()
                    .filter_map(|metric| {
                        let worst = steps
                            .iter()
                            .flat_map(|s| &s.metrics)
                            .filter(|m| m.metric == *metric && m.verdict == Verdict::Inconclusive)
                            .filter_map(|m| m.detectable)
                            .fold(f64::NAN, f64::max);
                        worst
                            .is_finite()
                            .then(|| format!("{} +{:.0}%", metric.name(), worst * 100.0))
                    })
                    .collect::<Vec<_>>();
                let could = if could.is_empty() {
                    String::new()
                } else {
                    format!("; it could only have seen changes of {}", could.join(", "))
                };
                format!("no regression detected ({inconclusive} metrics inconclusive{could})")
            }
        });
        if !thresholds.is_empty() {
            parts.push(format!("all {} thresholds met", thresholds.len()));
        }
    }
    Overall {
        verdict,
        regressed,
        improved,
        inconclusive,
        breaches,
        passed,
        summary: parts.join("; "),
    }
}

#[cfg(test)]
mod tests;
