//! `rehearse ab`: interleaved A/B rounds of two targets in one session, compared pairwise so
//! drift between runs cancels out; `--same` runs an A/A session that measures the setup's noise.

use std::collections::BTreeMap;
use std::time::SystemTime;

use anyhow::bail;

use super::baseline::Resolver;
use super::pipeline::{RunSettings, default_out_dir, execute};
use super::progress::Mode;
use super::run::{overrides, verdict};
use super::{AbArgs, Outcome, compare};
use crate::model::{Git, RunResult};
use crate::report::console;
use crate::scenario;
use crate::stats::{self, Metric};
use crate::store::{AbSession, Store};

/// Earlier A/A sessions whose noise a session pools in.
const AA_SESSIONS: i64 = 10;

/// Runs the command.
pub async fn ab(args: AbArgs) -> anyhow::Result<Outcome> {
    let (baseline_url, candidate_url) = match (&args.baseline, &args.candidate, args.same) {
        (b, _, true) => (b.clone(), b.clone()),
        (b, Some(c), false) => (b.clone(), Some(c.clone())),
        (_, None, false) => bail!(
            "give the candidate's target with --candidate URL, or --same for an A/A session that measures this setup's noise"
        ),
    };
    let load =
        |target: Option<String>| scenario::load(&args.scenario, &overrides(&args.load, target));
    let (plan_a, plan_b) = match (load(baseline_url), load(candidate_url)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}");
            return Ok(Outcome::Invalid);
        }
    };
    let (label_a, label_b) = (args.baseline_label.clone(), args.candidate_label.clone());
    let rounds = args.rounds as usize;
    let params = crate::compare::params(
        &plan_a.compare,
        &crate::compare::Overrides {
            alpha: args.gate.alpha,
        },
    );
    eprintln!(
        "{}",
        detectable(rounds, &params, "before measuring, with the priors")
    );
    let session = uuid::Uuid::now_v7().to_string();
    let started = SystemTime::now();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| default_out_dir(&format!("{}-ab", plan_a.name)));
    let store_url = (!args.no_store).then(|| args.store.store.clone());

    let mut pairs: Vec<(RunResult, RunResult)> = Vec::new();
    for round in 1..=rounds {
        // ABBA: alternate which side goes first, so neither gains from order or from a trend.
        let order: [(bool, &str); 2] = if round % 2 == 1 {
            [(true, &label_a), (false, &label_b)]
        } else {
            [(false, &label_b), (true, &label_a)]
        };
        let mut a = None;
        let mut b = None;
        for (is_baseline, label) in order {
            let side = if is_baseline { "baseline" } else { "candidate" };
            eprintln!("round {round}/{rounds}: {side} ({label})");
            let settings = RunSettings {
                out_dir: out.join(format!("round-{round}")).join(side),
                labels: [
                    ("ab.session", session.clone()),
                    ("ab.side", side.to_string()),
                    ("ab.round", round.to_string()),
                    ("ab.label", label.to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .chain(args.labels.iter().cloned())
                .collect(),
                // A side's label stands for its branch: its runs are not the working directory's.
                git: Some(Git {
                    branch: Some(label.to_string()),
                    commit: None,
                    dirty: None,
                }),
                seed: args.seed,
                progress: Mode::detect(args.quiet),
                store: store_url.clone(),
            };
            let plan = if is_baseline {
                plan_a.clone()
            } else {
                plan_b.clone()
            };
            let (result, _) = execute(plan, &settings).await?;
            let outcome = verdict(&result);
            if outcome != Outcome::Success {
                super::print_out(&console::summary(&result));
                eprintln!("the A/B session stopped: the {side} run of round {round} failed");
                return Ok(outcome);
            }
            if is_baseline {
                a = Some(result)
            } else {
                b = Some(result)
            }
        }
        pairs.push((a.expect("ran"), b.expect("ran")));
    }

    // Noise from earlier A/A sessions of this scenario, when the store has any.
    let mut resolver = Resolver::new(&args.store.store);
    let unread = |e| {
        eprintln!(
            "warning: earlier A/A sessions could not be read ({e}); using the rounds and the priors"
        );
        (0, BTreeMap::new())
    };
    // Noise measured on another kind of machine is not this setup's.
    let machine = pairs[0].0.host.as_ref().map(|h| h.fingerprint.clone());
    let (aa_sessions, aa) = match resolver.existing_store().await {
        Some(store) if !args.no_store => store
            .aa_log_ratios(&plan_a.name, machine.as_deref(), AA_SESSIONS)
            .await
            .unwrap_or_else(unread),
        _ => (0, BTreeMap::new()),
    };
    let thresholds: Vec<_> = plan_a.thresholds.clone();
    let comparison = crate::compare::paired(
        &pairs,
        &aa,
        aa_sessions,
        &params,
        &thresholds,
        (&label_a, &label_b),
        args.same,
    );
    let outcome = compare::report(&comparison, &args.gate, Some(&out), args.json)?;
    if let Some(url) = &store_url {
        let ab = comparison.ab.as_ref().expect("a paired comparison");
        let session = AbSession {
            id: session.clone(),
            scenario: plan_a.name.clone(),
            started_ms: started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            same_target: args.same,
            rounds: rounds as i64,
            baseline_label: label_a.clone(),
            candidate_label: label_b.clone(),
            host_fingerprint: machine,
            log_ratios: ab.log_ratios.clone(),
            comparison: serde_json::to_string(&comparison)?,
        };
        store_session(url, session).await;
    }
    if !args.json {
        let ab = comparison.ab.as_ref().expect("a paired comparison");
        let source = if args.same {
            "measured by this A/A session"
        } else if aa_sessions > 0 {
            "from the rounds and earlier A/A sessions"
        } else {
            "with the priors"
        };
        super::print_out(&format!(
            "session {session}: {rounds} rounds (ABBA); {rounds} rounds can detect, 80% of the time, {} (noise {source})\n",
            ab.detectable()
        ));
    }
    let candidates: Vec<RunResult> = pairs.iter().map(|p| p.1.clone()).collect();
    let dirs: Vec<_> = (1..=rounds)
        .map(|r| Some(out.join(format!("round-{r}")).join("candidate")))
        .collect();
    let baselines: Vec<RunResult> = pairs.iter().map(|p| p.0.clone()).collect();
    super::report::publish(
        &mut resolver,
        candidates,
        &dirs,
        Some(comparison),
        baselines,
        args.publish.report.as_deref(),
        args.publish.link.clone(),
    )
    .await?;
    resolver.close().await;
    Ok(outcome)
}

/// Stores a finished session; a failure is a warning: the rounds' runs and comparison.json
/// are already written.
async fn store_session(url: &str, session: AbSession) {
    let stored = async {
        let store = Store::open(url).await?;
        store.insert_ab_session(&session).await?;
        store.close().await;
        Ok::<_, crate::store::StoreError>(())
    };
    if let Err(e) = stored.await {
        eprintln!(
            "warning: the A/B session could not be stored ({e}); its comparison.json is written"
        );
    }
}

/// What `rounds` rounds can detect with the paired priors, for people.
fn detectable(rounds: usize, params: &stats::DaqParams, when: &str) -> String {
    let parts: Vec<String> = [Metric::P50, Metric::P90, Metric::P99, Metric::Mean]
        .iter()
        .map(|m| {
            format!(
                "{} +{:.1}%",
                m.name(),
                stats::minimum_detectable_effect(*m, rounds as u32, params, 0.8) * 100.0
            )
        })
        .collect();
    format!(
        "{rounds} rounds can detect, 80% of the time, changes of at least {} ({when}); more rounds see smaller changes",
        parts.join(", ")
    )
}
