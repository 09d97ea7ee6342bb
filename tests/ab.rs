//! `rehearse ab` end to end with two in-process sandboxes: rounds run in ABBA order, every run
//! and the session are stored with their labels, the comparison and report are written, and an
//! A/A session's noise serves later sessions. What the verdicts say is tested on seeded rounds
//! (drawn by `rehearse::stats::simulate`): a 15% slower `pay` is caught and nothing else is, and
//! the same target on both sides finds nothing.
//!
//! Guards against issue 9: on a busy machine live latencies flipped the verdicts of sessions
//! against real sandboxes (an A/A session REGRESSED, a 15% slowdown was missed), so the live
//! sessions here check plumbing only, never a verdict.

mod common;

use common::simulated::{SHIPPED_STEPS, interleaved};
use common::*;
use rehearse::compare;
use rehearse::model::{Comparison, Verdict};
use rehearse::sandbox::SandboxConfig;

/// Seed of the simulated rounds; the verdicts below are a function of it (and of nothing else).
/// Seeds 0..100 all give the same verdicts: detection of +15% in 6 paired rounds is near certain
/// (tests/paired_acceptance.rs bounds the rates over 1,000 trials).
const SEED: u64 = 20_240_601;

fn ab(store: &str, out: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    rehearse()
        .args([
            "ab",
            "-q",
            "--rate",
            "150/s",
            "--duration",
            "2s",
            "--warmup",
            "500ms",
            "--store",
            store,
            "--out",
        ])
        .arg(out)
        .args(extra)
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
}

/// The verdict names comparison.json may hold.
const VERDICTS: [&str; 4] = ["unchanged", "improved", "inconclusive", "regressed"];

/// Checks what a finished session wrote, whatever live timing made of its verdicts: exit 0 or 1
/// only (never a usage or run failure), agreeing with `overall.passed`; every step and the
/// workflow has a verdict; the regressed list and the printed verdict line say the same thing.
fn plumbing(run: &assert_cmd::assert::Assert, c: &serde_json::Value) {
    let output = run.get_output();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "exit {code:?}: {stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(code == Some(0), c["overall"]["passed"] == true, "{stdout}");
    let steps = c["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [&SHIPPED_STEPS[..], &["workflow"]].concat(),
        "{stdout}"
    );
    for s in steps {
        assert!(VERDICTS.contains(&s["verdict"].as_str().unwrap()), "{s}");
    }
    let regressed: Vec<&str> = steps
        .iter()
        .filter(|s| s["verdict"] == "regressed")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(c["overall"]["regressed"], serde_json::json!(regressed));
    let summary = c["overall"]["summary"].as_str().unwrap();
    assert!(stdout.contains(&format!("verdict: {summary}")), "{stdout}");
}

/// How many rounds the session left out because a side's load generator was starved.
fn left_out(c: &serde_json::Value) -> usize {
    c["ab"]["left_out"].as_array().map_or(0, Vec::len)
}

#[test]
fn interleaved_rounds_run_in_abba_order_and_every_run_is_stored_with_its_side_and_round() {
    // Checked to fail when rounds run AAAA-style (round parity flipped in cli/ab.rs).
    let main = sandbox(SandboxConfig::default());
    let branch = sandbox(SandboxConfig {
        slowdowns: vec![("pay".into(), 1.15)],
        ..SandboxConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = dir.path().join("ab");
    let report = dir.path().join("report");
    let run = ab(
        &store,
        &out,
        &[
            "--baseline",
            &main.url,
            "--candidate",
            &branch.url,
            "--rounds",
            "6",
            "--baseline-label",
            "main",
            "--candidate-label",
            "my-branch",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let c = comparison(&out);
    // Whether `pay` regressed is live timing's say here; the seeded test below owns that claim.
    plumbing(&run, &c);
    assert_eq!(c["ab"]["rounds"], 6);
    assert_eq!(c["ab"]["same_target"], false);
    // On a busy machine a starved round is left out of the verdict; the rest keep one ratio each.
    let used = 6 - left_out(&c);
    assert_eq!(c["baseline"]["spec"], "main");
    assert_eq!(c["candidate"]["spec"], "my-branch");
    for step in SHIPPED_STEPS.iter().chain(&["workflow"]) {
        let p50 = c["ab"]["log_ratios"][step]["p50"].as_array().unwrap();
        assert_eq!(p50.len(), used, "one log ratio per round used: {step}");
    }
    assert!(
        stdout.contains(&format!("{used} rounds can detect")),
        "{stdout}"
    );

    // ABBA: round 1 runs the baseline first, round 2 the candidate first, and so on.
    let started = |round: usize, side: &str| {
        results(&out.join(format!("round-{round}")).join(side))
            .started_at
            .unwrap()
    };
    for round in 1..=6 {
        let baseline_first = started(round, "baseline") < started(round, "candidate");
        assert_eq!(baseline_first, round % 2 == 1, "round {round}");
    }
    // Every run is stored and labelled with its session, side and round.
    let list = rehearse()
        .args(["runs", "list", "--json", "--limit", "50", "--store", &store])
        .assert()
        .success();
    let runs: serde_json::Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 12);
    let one = results(&out.join("round-3/candidate"));
    assert_eq!(one.labels["ab.side"], "candidate");
    assert_eq!(one.labels["ab.round"], "3");
    assert_eq!(one.labels["ab.label"], "my-branch");
    assert_eq!(one.git.unwrap().branch.as_deref(), Some("my-branch"));
    assert_eq!(one.target.as_deref(), Some(branch.url.as_str()));
    assert_eq!(
        results(&out.join("round-3/baseline")).target.as_deref(),
        Some(main.url.as_str())
    );
    // The report shows the rounds.
    let html = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap();
    assert!(html.contains("<h2>Rounds</h2>") && html.contains("ABBA"));
}

#[test]
fn a_a_sessions_are_stored_and_their_noise_serves_later_sessions() {
    // Checked to fail when cli/ab.rs pools no earlier A/A session (aa_sessions forced to 0).
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    for seed in [11u64, 12] {
        let target = sandbox(SandboxConfig {
            seed,
            ..SandboxConfig::default()
        });
        let out = dir.path().join(format!("aa{seed}"));
        let run = ab(
            &store,
            &out,
            &[
                "--baseline",
                &target.url,
                "--same",
                "--rounds",
                "3",
                "--seed",
                &seed.to_string(),
            ],
        );
        let c = comparison(&out);
        // An A/A session that finds nothing is the seeded test's claim; live timing may not agree.
        plumbing(&run, &c);
        assert_eq!(c["ab"]["same_target"], true);
        assert_eq!(c["ab"]["rounds"], 3);
        assert!(
            String::from_utf8_lossy(&run.get_output().stdout)
                .contains("noise measured by this A/A session")
        );
        assert!(left_out(&c) <= 1, "two of three rounds always stay: {c}");
    }
    // A/B rounds are not runs of a branch: they never become a `latest` or branch baseline.
    let plain = rehearse()
        .args(["compare", "--store", &store, "--scenario", "pay-invoice"])
        .args(["branch:main", "latest"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&plain.get_output().stderr).to_string();
    assert!(
        stderr.contains("A/B rounds and demo runs are named by id"),
        "{stderr}"
    );
    // A later session on the same scenario pools the two A/A sessions' noise.
    let target = sandbox(SandboxConfig::default());
    let out = dir.path().join("later");
    let run = ab(
        &store,
        &out,
        &[
            "--baseline",
            &target.url,
            "--candidate",
            &target.url,
            "--rounds",
            "2",
        ],
    );
    let c = comparison(&out);
    plumbing(&run, &c);
    assert_eq!(c["ab"]["aa_sessions"], 2);
    assert_eq!(c["ab"]["same_target"], false);
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    assert!(
        stdout.contains("noise from the rounds and earlier A/A sessions"),
        "{stdout}"
    );
    // Without them the session would say its noise comes from its rounds and the priors.
    // (Other notes, such as a run starved on a busy machine, may be there.)
    let notes = c["notes"].as_array().unwrap();
    assert!(
        !notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("paired priors")),
        "{}",
        c["notes"]
    );
}

/// The paired comparison of seeded rounds, as `rehearse ab` makes it from measured ones.
fn seeded_session(rounds: usize, slowdowns: &[(&str, f64)], same_target: bool) -> Comparison {
    let pairs = interleaved(SEED, rounds, slowdowns);
    let params = compare::params(&Default::default(), &Default::default());
    compare::paired(
        &pairs,
        &Default::default(),
        0,
        &params,
        &[],
        ("main", "my-branch"),
        same_target,
    )
}

fn verdicts(c: &Comparison) -> Vec<(&str, Verdict)> {
    c.steps.iter().map(|s| (s.id.name(), s.verdict)).collect()
}

#[test]
fn six_seeded_rounds_catch_a_15_percent_slower_pay_and_nothing_else() {
    // Checked to fail when compare/mod.rs calls every step unchanged, or every step regressed.
    let c = seeded_session(6, &[("pay", 0.15)], false);
    for (name, verdict) in verdicts(&c) {
        assert_eq!(
            verdict == Verdict::Regressed,
            name == "pay",
            "{name}: {:?}",
            verdicts(&c)
        );
    }
    assert_eq!(c.overall.regressed, ["pay"]);
    assert!(!c.overall.passed);
    let ab = c.ab.as_ref().unwrap();
    assert_eq!((ab.rounds, ab.same_target, ab.aa_sessions), (6, false, 0));
    // Each round's pay p50 log ratio centres on ln 1.15 = 0.14.
    let pay = &ab.log_ratios["pay"][&rehearse::model::SummaryMetric::P50];
    let mean = pay.iter().sum::<f64>() / pay.len() as f64;
    assert!((mean - 1.15f64.ln()).abs() < 0.05, "{pay:?}");
    // The verdicts are the seed's alone: drawing again gives the same numbers (run ids aside).
    let again = seeded_session(6, &[("pay", 0.15)], false);
    assert_eq!((again.steps, again.overall), (c.steps, c.overall));
}

#[test]
fn a_seeded_a_a_session_finds_nothing() {
    // Checked to fail when compare/mod.rs calls every step regressed.
    let c = seeded_session(3, &[], true);
    assert!(c.overall.passed, "{:?}", verdicts(&c));
    assert!(c.overall.regressed.is_empty(), "{:?}", verdicts(&c));
    assert!(c.ab.as_ref().unwrap().same_target);
}

#[test]
fn a_candidate_is_needed_unless_the_session_is_a_a() {
    let dir = tempfile::tempdir().unwrap();
    let out = rehearse()
        .args(["ab", "--baseline", "http://127.0.0.1:1"])
        .arg(scenarios().join("pay-invoice.toml"))
        .arg("--out")
        .arg(dir.path())
        .assert()
        .code(2);
    assert!(
        String::from_utf8_lossy(&out.get_output().stderr)
            .contains("--candidate-url URL, or --same")
    );
}
