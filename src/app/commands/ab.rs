//! `rehearse ab`: interleaved A/B rounds of two targets in one session, compared pairwise so
//! drift between runs cancels out; `--same` runs an A/A session that measures the setup's noise.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::app::args::AbArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult};
use crate::app::pipeline::{self, Placement, show_comparison};
use crate::app::publish::{self, ReportRequest};
use crate::app::select::Resolver;
use crate::app::settings::AbSettings;
use crate::model::RunResult;
use crate::report::console as text;
use crate::stats::{self, Metric};
use crate::store::{AbSession, Store};

/// Earlier A/A sessions whose noise a session pools in.
const AA_SESSIONS: i64 = 10;

/// Runs the command.
pub async fn ab(args: AbArgs) -> AppResult {
    let s = AbSettings::from_args(&args)?;
    let store = pipeline::open_for_runs(s.store.as_deref()).await?;
    console::note(&detectable(
        s.rounds,
        &s.gate.params,
        "before measuring, with the priors",
    ));
    let session = uuid::Uuid::now_v7().to_string();
    let started = SystemTime::now();

    let mut pairs: Vec<(RunResult, RunResult)> = Vec::new();
    for round in 1..=s.rounds {
        // ABBA: alternate which side goes first, so neither gains from order or from a trend.
        let order = if round % 2 == 1 {
            ["baseline", "candidate"]
        } else {
            ["candidate", "baseline"]
        };
        let (mut a, mut b) = (None, None);
        for side in order {
            let label = if side == "baseline" {
                &s.labels.0
            } else {
                &s.labels.1
            };
            console::note(&format!("round {round}/{}: {side} ({label})", s.rounds));
            let place = Placement {
                out_dir: s.out_dir.join(format!("round-{round}")).join(side),
                provenance: s.provenance(&session, side, round),
                seed: s.seed,
                progress: s.progress,
                shard: Default::default(),
                start_at: None,
            };
            let plan = if side == "baseline" {
                &s.baseline
            } else {
                &s.candidate
            };
            let stored = store.as_ref().zip(s.store.as_deref());
            let (result, _) = pipeline::execute(plan, &place, stored).await?;
            if let Some(failure) = pipeline::run_failure(&result) {
                console::out(&text::summary(&result));
                console::note(&format!(
                    "the A/B session stopped: the {side} run of round {round} failed"
                ));
                return Err(failure);
            }
            if side == "baseline" {
                a = Some(result);
            } else {
                b = Some(result);
            }
        }
        pairs.push((a.expect("ran"), b.expect("ran")));
    }

    // Noise from earlier A/A sessions of this scenario on this kind of machine, when stored.
    let machine = pairs[0].0.host.as_ref().map(|h| h.fingerprint.clone());
    let (aa_sessions, aa) = match &store {
        Some(store) => match store
            .aa_log_ratios(&s.baseline.name, machine.as_deref(), AA_SESSIONS)
            .await
        {
            Ok(found) => found,
            Err(e) => {
                console::warn(&format!(
                    "earlier A/A sessions could not be read ({e}); using the rounds and the priors"
                ));
                (0, BTreeMap::new())
            }
        },
        None => (0, BTreeMap::new()),
    };
    let comparison = crate::compare::paired(
        &pairs,
        &aa,
        aa_sessions,
        &s.gate.params,
        &s.baseline.thresholds,
        (&s.labels.0, &s.labels.1),
        s.same,
    );
    show_comparison(&comparison, Some(&s.out_dir), s.json)
        .map_err(|e| AppError::run_failed(e.context("writing comparison.json")))?;
    let outcome = s.gate.outcome(&comparison);
    let ab = comparison.ab.clone().expect("a paired comparison");
    if let Some(store) = &store {
        let record = AbSession {
            id: session.clone(),
            scenario: s.baseline.name.clone(),
            started_ms: started
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
            same_target: s.same,
            rounds: s.rounds as i64,
            baseline_label: s.labels.0.clone(),
            candidate_label: s.labels.1.clone(),
            host_fingerprint: machine,
            log_ratios: ab.log_ratios.clone(),
            comparison: comparison.clone(),
        };
        store_session(store, &record).await;
    }
    if !s.json {
        let source = if s.same {
            "measured by this A/A session"
        } else if aa_sessions > 0 {
            "from the rounds and earlier A/A sessions"
        } else {
            "with the priors"
        };
        let left_out = ab
            .left_out_words()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        console::out(&format!(
            "session {session}: {} rounds (ABBA){left_out}; {} rounds can detect, 80% of the time, {} (noise {source})\n",
            s.rounds,
            ab.used_rounds().len(),
            ab.detectable()
        ));
    }
    let dirs = (1..=s.rounds)
        .map(|r| Some(s.out_dir.join(format!("round-{r}")).join("candidate")))
        .collect();
    let (baselines, candidates): (Vec<RunResult>, Vec<RunResult>) = pairs.into_iter().unzip();
    let mut resolver = match store {
        Some(store) => Resolver::with_store(&args.store.url(), store),
        None => Resolver::new(&args.store.url()),
    };
    let published = publish::publish(
        &mut resolver,
        ReportRequest {
            candidates,
            dirs,
            comparison: Some(comparison),
            baseline: baselines,
            publish: s.publish.clone(),
        },
    )
    .await;
    resolver.close().await;
    published.map(|()| outcome)
}

/// Stores a finished session; a failure is a warning: the rounds' runs and comparison.json
/// are already written.
async fn store_session(store: &Store, session: &AbSession) {
    if let Err(e) = store.insert_ab_session(session).await {
        console::warn(&format!(
            "the A/B session could not be stored ({e}); its comparison.json is written"
        ));
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
