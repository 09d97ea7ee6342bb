//! Suites: every scenario of a suite (or this CI job's part of it) run in order and stored as
//! one suite run; compared in one Holm family so the whole suite's false-alarm rate is one
//! scenario's; one verdict, one report. A split suite's verdict is given by
//! `rehearse compare BASELINE suite:ID` once every part is done.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::anyhow;

use crate::app::args::GateArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::app::pipeline::{self, Placement, selection_error};
use crate::app::publish;
use crate::app::select::{Resolver, SelectError, Spec, SuiteSpec, check_baseline, find_suite};
use crate::app::settings::{Gate, Publish, SuiteSettings};
use crate::compare::suite::{MemberOutcome, SuiteFacts};
use crate::compare::{self, Baseline, SuiteMember};
use crate::model::CompareSettings;
use crate::model::{GroupKind, GroupRef, RunResult, SuiteComparison};
use crate::report::console as text;
use crate::store::{Group, GroupPart, PartState};

/// What a suite expects: every scenario and the part that runs it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    /// Scenarios in suite order, each with its part (1-based).
    pub scenarios: Vec<(String, u32)>,
    /// Scenarios the suite file skips.
    #[serde(default)]
    pub skipped: Vec<String>,
    /// The suite file's `[compare]` settings, so the verdict job judges as one job would.
    #[serde(default)]
    pub compare: CompareSettings,
}

/// Runs a suite, or this job's part of it.
pub async fn run(s: SuiteSettings) -> AppResult {
    if let Some(spec) = &s.baseline {
        suite_baseline(spec)?;
    }
    let store = pipeline::open_for_runs(s.store.as_deref()).await?;
    let expected = Expected {
        scenarios: s
            .suite
            .members
            .iter()
            .zip(&s.assignment)
            .map(|(m, p)| (m.plan.name.clone(), *p))
            .collect(),
        skipped: s.suite.skipped.clone(),
        compare: s.suite.compare.clone(),
    };
    if let Some(store) = &store {
        let git = s.provenance.git.clone().unwrap_or_default();
        store
            .join_group(&Group {
                id: s.id.clone(),
                kind: GroupKind::Suite.name().into(),
                name: s.suite.name.clone(),
                branch: git.branch,
                commit: git.commit,
                parts: i64::from(s.parts),
                created_ms: now_ms(),
                start_at_ms: None,
                document: serde_json::to_string(&expected).expect("expectations serialize"),
            })
            .await
            .invalid()?;
        let host = s
            .provenance
            .host
            .as_ref()
            .map(|h| h.hostname.clone())
            .unwrap_or_default();
        store
            .start_part(&s.id, i64::from(s.part), &host)
            .await
            .invalid()?;
    }
    let mine = s.mine();
    console::note(&format!(
        "suite `{}` ({}): {} scenarios{}",
        s.suite.name,
        s.id,
        s.suite.members.len(),
        if s.parts > 1 && mine.is_empty() {
            // More parts than scenarios: this one still registers and finishes, so the
            // verdict job knows it is done.
            format!(", part {} of {} runs none of them", s.part, s.parts)
        } else if s.parts > 1 {
            format!(", part {} of {} runs {}", s.part, s.parts, mine.len())
        } else {
            String::new()
        }
    ));

    let mut runs: BTreeMap<String, (Vec<RunResult>, Vec<Option<PathBuf>>)> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    let mut stop = None;
    'repeats: for r in 1..=s.repeat {
        // Each repeat starts one scenario later, so drift spreads over all of them.
        let mut order = mine.clone();
        let turn = (r as usize - 1) % order.len().max(1);
        order.rotate_left(turn);
        for member in order {
            let name = &member.plan.name;
            let out_dir = if s.repeat > 1 {
                s.out_dir.join(name).join(format!("run-{r}"))
            } else {
                s.out_dir.join(name)
            };
            let mut provenance = s.provenance.clone();
            provenance.group = Some(GroupRef {
                id: s.id.clone(),
                kind: GroupKind::Suite,
                part: s.part,
                parts: s.parts,
            });
            let place = Placement {
                out_dir: out_dir.clone(),
                provenance,
                seed: s.seed,
                progress: s.progress,
                shard: Default::default(),
                start_at: None,
            };
            let stored = store.as_ref().zip(s.store.as_deref());
            let (result, path) = pipeline::execute(&member.plan, &place, stored).await?;
            console::out(&text::summary(&result));
            console::out(&format!("results: {}\n\n", path.display()));
            if let Some(failure) = pipeline::run_failure(&result) {
                failures.push(format!("{name}: {failure}"));
                if matches!(failure, AppError::Interrupted(_)) {
                    stop = Some(failure);
                    let entry = runs.entry(name.clone()).or_default();
                    entry.0.push(result);
                    entry.1.push(Some(out_dir));
                    break 'repeats;
                }
            }
            let entry = runs.entry(name.clone()).or_default();
            entry.0.push(result);
            entry.1.push(Some(out_dir));
        }
    }
    if let Some(store) = &store {
        let (state, detail) = if failures.is_empty() && stop.is_none() {
            (PartState::Done, None)
        } else {
            (PartState::Failed, Some(failures.join("; ")))
        };
        store
            .finish_part(&s.id, i64::from(s.part), state, detail.as_deref())
            .await
            .run_failed()?;
    }
    if let Some(stop) = stop {
        return Err(stop);
    }

    let mut resolver = match store {
        Some(store) => Resolver::with_store(&s.lookup_store, store),
        None => Resolver::new(&s.lookup_store),
    };
    // A split suite's part reports its own runs; the verdict waits for every part.
    let baseline = if s.parts > 1 {
        None
    } else {
        s.baseline.clone()
    };
    let members: Vec<(String, u32, Vec<RunResult>)> = expected
        .scenarios
        .iter()
        .filter(|(_, part)| *part == s.part)
        .filter_map(|(name, part)| {
            runs.get(name)
                .map(|(r, _)| (name.clone(), *part, r.clone()))
        })
        .collect();
    let facts = SuiteFacts {
        name: s.suite.name.clone(),
        id: s.id.clone(),
        baseline: baseline.as_ref().map(|b| b.to_string()),
        missing: Vec::new(),
        skipped: s.suite.skipped.clone(),
    };
    let verdict = judge(&mut resolver, facts, members, baseline.as_ref(), &s.gate).await;
    let (verdict, baselines) = match verdict {
        Ok(v) => v,
        Err(e) => {
            resolver.close().await;
            return Err(AppError::run_failed(
                anyhow!(e).context("comparing the suite"),
            ));
        }
    };
    show(&verdict, Some(&s.out_dir), false).map_err(AppError::run_failed)?;
    if s.parts > 1 {
        console::note(&format!(
            "this was part {} of {}: the suite's verdict comes from `rehearse compare BASELINE suite:{}` once every part is done",
            s.part, s.parts, s.id
        ));
    }
    let outcome = outcome(&verdict, &s.gate);
    let dirs: BTreeMap<String, Vec<Option<PathBuf>>> = runs
        .iter()
        .map(|(k, (_, d))| (k.clone(), d.clone()))
        .collect();
    let published = publish::publish_suite(
        &mut resolver,
        &verdict,
        publish::SuiteRuns {
            runs: runs.into_iter().map(|(k, (r, _))| (k, r)).collect(),
            dirs,
            baselines,
        },
        s.publish.clone(),
        true,
    )
    .await;
    resolver.close().await;
    published?;
    if !failures.is_empty() {
        return Err(AppError::run_failed(anyhow!(
            "{} of the suite's runs failed: {}",
            failures.len(),
            failures.join("; ")
        )));
    }
    Ok(outcome)
}

/// Refuses a baseline that names one run: a suite is compared scenario by scenario.
pub fn suite_baseline(spec: &Spec) -> Result<(), AppError> {
    if spec.is_concrete() {
        return Err(AppError::invalid(anyhow!(
            "a suite is compared scenario by scenario, each with its own baseline: use branch:NAME, latest or suite:ID, not `{spec}`"
        )));
    }
    Ok(())
}

/// Compares every scenario's runs with its own baseline in one Holm family (when a baseline
/// is named) and concludes. A scenario whose baseline has no runs yet is not compared (the
/// first runs of a branch become its baseline), and says so. Returns the verdict and each
/// compared scenario's baseline runs.
pub async fn judge(
    resolver: &mut Resolver,
    mut facts: SuiteFacts,
    members: Vec<(String, u32, Vec<RunResult>)>,
    baseline: Option<&Spec>,
    gate: &Gate,
) -> Result<(SuiteComparison, BTreeMap<String, Vec<RunResult>>), AppError> {
    if let Some(spec) = baseline {
        suite_baseline(spec)?;
    }
    resolver.judging_suite(&facts.id);
    let mut baselines: Vec<Option<Baseline>> = Vec::new();
    for (scenario, _, candidates) in &members {
        let Some(spec) = baseline else {
            baselines.push(None);
            continue;
        };
        let exclude: Vec<String> = candidates.iter().map(|c| c.run_id.clone()).collect();
        match resolver
            .runs(spec, Some(scenario), gate.history, &exclude)
            .await
        {
            Ok(runs) => {
                check_baseline(&runs, spec).map_err(selection_error)?;
                let history = if runs.len() == 1 {
                    resolver
                        .history_for(&runs[0], gate.history, &exclude)
                        .await
                        .unwrap_or_default()
                } else {
                    Vec::new()
                };
                baselines.push(Some(Baseline {
                    spec: spec.to_string(),
                    runs,
                    history,
                }));
            }
            Err(SelectError::NoRuns(why)) => {
                console::note(&format!(
                    "{scenario}: no baseline yet ({why}); its runs are stored and will serve as one"
                ));
                baselines.push(None);
            }
            Err(e) => return Err(selection_error(e)),
        }
    }
    // Each scenario keeps its own thresholds: they travel with its runs.
    let thresholds: Vec<Vec<crate::model::Threshold>> = members
        .iter()
        .map(|(_, _, runs)| {
            runs.first()
                .map(|r| r.thresholds.iter().map(|t| t.threshold.clone()).collect())
                .unwrap_or_default()
        })
        .collect();
    let inputs: Vec<SuiteMember> = members
        .iter()
        .zip(&baselines)
        .zip(&thresholds)
        .filter_map(|(((_, _, candidates), b), t)| {
            Some(SuiteMember {
                baseline: b.as_ref()?,
                candidates,
                thresholds: t,
                candidate_spec: format!("suite {}", facts.id),
            })
        })
        .collect();
    let mut comparisons = compare::compare_suite(&inputs, &gate.params).into_iter();
    let outcomes: Vec<MemberOutcome> = members
        .iter()
        .zip(&baselines)
        .map(|((scenario, part, runs), b)| MemberOutcome {
            scenario: scenario.clone(),
            part: *part,
            runs,
            comparison: b.as_ref().and_then(|_| comparisons.next()),
        })
        .collect();
    facts.missing.sort();
    let baselines = members
        .iter()
        .zip(baselines)
        .filter_map(|((scenario, _, _), b)| Some((scenario.clone(), b?.runs)))
        .collect();
    Ok((compare::suite::conclude(facts, outcomes), baselines))
}

/// Prints a suite's verdict (each scenario's line, the tables of those that regressed), or
/// its JSON, and writes suite.json and each compared scenario's comparison.json under `out`.
pub fn show(v: &SuiteComparison, out: Option<&std::path::Path>, json: bool) -> anyhow::Result<()> {
    if json {
        console::json(v);
    } else {
        console::out(&text::suite(v));
    }
    if let Some(dir) = out {
        use anyhow::Context as _;
        let write = |path: std::path::PathBuf, text: String| {
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
        };
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create '{}'", dir.display()))?;
        write(
            dir.join("suite.json"),
            serde_json::to_string_pretty(v)? + "\n",
        )?;
        for c in &v.scenarios {
            let scenario_dir = dir.join(&c.scenario);
            std::fs::create_dir_all(&scenario_dir)
                .with_context(|| format!("cannot create '{}'", scenario_dir.display()))?;
            write(
                scenario_dir.join("comparison.json"),
                serde_json::to_string_pretty(c)? + "\n",
            )?;
        }
        if !json {
            console::out(&format!(
                "suite verdict: {}\n",
                dir.join("suite.json").display()
            ));
        }
    }
    Ok(())
}

/// What a suite's verdict means for the exit code.
pub fn outcome(v: &SuiteComparison, gate: &Gate) -> Outcome {
    if !v.overall.passed || (gate.fail_on_inconclusive && v.overall.inconclusive > 0) {
        Outcome::Failed
    } else {
        Outcome::Passed
    }
}

/// What `compare` and `report` ask of a suite run named on the command line.
pub struct NamedRequest<'a> {
    /// The suite run.
    pub suite: &'a SuiteSpec,
    /// What its scenarios are compared with, if anything.
    pub baseline: Option<&'a Spec>,
    /// Verdict flags (over the suite's recorded `[compare]`).
    pub gate: &'a GateArgs,
    /// How long to wait for parts still running.
    pub wait: Option<Duration>,
    /// Print the verdict (as JSON when the flag says so) and write suite.json to the folder.
    pub show: Option<(Option<&'a std::path::Path>, bool)>,
    /// The report folder and link.
    pub publish: Publish,
    /// Also append the summary to `$GITHUB_STEP_SUMMARY`.
    pub job_summary: bool,
}

/// Judges a suite run named on the command line, shows and publishes its verdict; one that
/// is not whole is published as such, then fails with exit 3.
pub async fn verdict(mut resolver: Resolver, r: NamedRequest<'_>) -> AppResult {
    let judged = match named(&mut resolver, r.suite, r.baseline, r.gate, r.wait).await {
        Ok(n) => n,
        Err(e) => {
            resolver.close().await;
            return Err(e);
        }
    };
    let shown = match r.show {
        Some((out, json)) => show(&judged.verdict, out, json).map_err(AppError::invalid),
        None => Ok(()),
    };
    let published = match shown {
        Ok(()) => {
            publish::publish_suite(
                &mut resolver,
                &judged.verdict,
                publish::SuiteRuns {
                    runs: judged.runs,
                    dirs: Default::default(),
                    baselines: judged.baselines,
                },
                r.publish,
                r.job_summary,
            )
            .await
        }
        Err(e) => Err(e),
    };
    resolver.close().await;
    published?;
    match judged.incomplete {
        Some(why) => Err(AppError::run_failed(anyhow!(why))),
        None => Ok(outcome(&judged.verdict, &judged.gate)),
    }
}

/// A suite run named on the command line, judged.
pub struct Named {
    /// The verdict.
    pub verdict: SuiteComparison,
    /// Each scenario's runs in the suite run.
    pub runs: BTreeMap<String, Vec<RunResult>>,
    /// Each compared scenario's baseline runs.
    pub baselines: BTreeMap<String, Vec<RunResult>>,
    /// The standard it was judged by.
    pub gate: Gate,
    /// Why the suite run is not whole, when it is not: the verdict then fails with exit 3
    /// after its report is written.
    pub incomplete: Option<String>,
}

/// The verdict of a suite run named as `suite:ID` (or `suite:latest`, `suite:branch:NAME`):
/// every part must be done and every expected scenario present (what is missing is named,
/// exit 3), waiting up to `wait` for parts still running; then the scenarios are compared as
/// in a one-job suite, with the suite's own `[compare]` settings under the flags.
pub async fn named(
    resolver: &mut Resolver,
    spec: &SuiteSpec,
    baseline: Option<&Spec>,
    gate: &GateArgs,
    wait: Option<Duration>,
) -> Result<Named, AppError> {
    let deadline = wait.map(|w| Instant::now() + w);
    let (group, expected, missing, still_running) = loop {
        let store = resolver.store().await.invalid()?;
        let group = find_suite(store, spec, None)
            .await
            .map_err(selection_error)?;
        let expected: Expected = serde_json::from_str(&group.document).map_err(|e| {
            AppError::invalid(anyhow!(
                "suite run {}: its stored expectations: {e}",
                group.id
            ))
        })?;
        let parts = store.parts(&group.id).await.invalid()?;
        let missing = missing_parts(&group, &expected, &parts);
        let still_running = !missing.is_empty() && missing.iter().all(|m| m.running);
        match deadline {
            Some(d) if still_running && Instant::now() < d => {
                let left = d.saturating_duration_since(Instant::now());
                tokio::time::sleep(left.min(Duration::from_secs(5))).await;
            }
            _ => break (group, expected, missing, still_running),
        }
    };
    let store = resolver.store().await.invalid()?;
    let mut by_scenario: BTreeMap<String, Vec<RunResult>> = BTreeMap::new();
    for id in store.group_runs(&group.id).await.invalid()? {
        let run = store.load(&id).await.invalid()?;
        by_scenario
            .entry(run.scenario.clone())
            .or_default()
            .push(run);
    }
    // What a part that did not finish ran is left out: the verdict is of whole parts, and
    // every scenario it owed is named as missing (never a pass with one absent).
    let unfinished: Vec<u32> = missing.iter().map(|m| m.part).collect();
    let mut said: Vec<String> = missing.iter().map(|m| m.text.clone()).collect();
    let mut members: Vec<(String, u32, Vec<RunResult>)> = Vec::new();
    for (name, part) in &expected.scenarios {
        if unfinished.contains(part) {
            continue;
        }
        match by_scenario.get(name) {
            Some(runs) => members.push((name.clone(), *part, runs.clone())),
            None => said.push(format!("{name} (part {part}) has no stored runs")),
        }
    }
    let incomplete = (!said.is_empty()).then(|| {
        format!(
            "suite run {} is not whole: {}; its verdict needs every part{}",
            group.id,
            said.join("; "),
            if still_running && wait.is_none() {
                " (--wait DURATION waits for parts still running)"
            } else {
                ""
            }
        )
    });
    if members.is_empty() {
        return Err(AppError::run_failed(anyhow!(
            "{}",
            incomplete.unwrap_or_else(|| format!("suite run {} holds no runs", group.id))
        )));
    }
    let facts = SuiteFacts {
        name: group.name.clone(),
        id: group.id.clone(),
        baseline: baseline.map(|b| b.to_string()),
        missing: said,
        skipped: expected.skipped.clone(),
    };
    let gate = Gate::new(gate, &expected.compare);
    let (verdict, baselines) = judge(resolver, facts, members, baseline, &gate).await?;
    Ok(Named {
        verdict,
        runs: by_scenario,
        baselines,
        gate,
        incomplete,
    })
}

/// A part of a suite run that has not (yet) given its runs.
struct Missing {
    part: u32,
    text: String,
    /// It registered and is still running (waiting may help).
    running: bool,
}

fn missing_parts(group: &Group, expected: &Expected, parts: &[GroupPart]) -> Vec<Missing> {
    let mut missing = Vec::new();
    for part in 1..=group.parts {
        let scenarios: Vec<&str> = expected
            .scenarios
            .iter()
            .filter(|(_, p)| i64::from(*p) == part)
            .map(|(n, _)| n.as_str())
            .collect();
        let of = format!("part {part} of {}", group.parts);
        let list = scenarios.join(", ");
        match parts.iter().find(|p| p.part == part) {
            None => missing.push(Missing {
                part: part as u32,
                text: format!("{of} never ran ({list})"),
                running: false,
            }),
            Some(p) if p.state == "running" => missing.push(Missing {
                part: part as u32,
                text: format!("{of} has not finished ({list})"),
                running: true,
            }),
            Some(p) if p.state == "failed" => missing.push(Missing {
                part: part as u32,
                text: format!(
                    "{of} failed ({list}): {}",
                    p.detail.as_deref().unwrap_or("no detail")
                ),
                running: false,
            }),
            Some(_) => {}
        }
    }
    missing
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
