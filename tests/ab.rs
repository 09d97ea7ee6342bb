//! `rehearse ab` end to end with two in-process sandboxes: a 15% slower `pay` is caught and
//! nothing else is; the same target on both sides finds nothing and teaches later sessions.

mod common;

use common::*;
use rehearse::sandbox::SandboxConfig;

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

fn comparison(dir: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("comparison.json")).unwrap()).unwrap()
}

fn verdict<'a>(c: &'a serde_json::Value, step: &str) -> &'a str {
    c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == step)
        .unwrap()["verdict"]
        .as_str()
        .unwrap()
}

#[test]
fn interleaved_rounds_catch_a_15_percent_slower_endpoint_and_nothing_else() {
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
    )
    .code(1);
    let stdout = String::from_utf8_lossy(&run.get_output().stdout).to_string();
    let c = comparison(&out);
    assert_eq!(verdict(&c, "pay"), "regressed", "{stdout}");
    for step in ["login", "open-invoices", "receipt"] {
        assert_ne!(verdict(&c, step), "regressed", "{step}: {stdout}");
    }
    assert_eq!(c["ab"]["rounds"], 6);
    assert_eq!(c["baseline"]["spec"], "main");
    assert_eq!(c["candidate"]["spec"], "my-branch");
    let pay_ratios = c["ab"]["log_ratios"]["pay"]["p50"].as_array().unwrap();
    assert_eq!(pay_ratios.len(), 6);
    assert!(stdout.contains("6 rounds can detect"), "{stdout}");

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
    // The report shows the rounds.
    let html = std::fs::read_to_string(dir.path().join("report/index.html")).unwrap();
    assert!(html.contains("<h2>Rounds</h2>") && html.contains("ABBA"));
}

#[test]
fn the_same_target_on_both_sides_finds_nothing_and_its_noise_serves_later_sessions() {
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
        )
        .success();
        let c = comparison(&out);
        assert_eq!(
            c["overall"]["passed"],
            true,
            "seed {seed}: {}",
            String::from_utf8_lossy(&run.get_output().stdout)
        );
        assert!(c["overall"]["regressed"].as_array().unwrap().is_empty());
        assert_eq!(c["ab"]["same_target"], true);
        assert!(
            String::from_utf8_lossy(&run.get_output().stdout)
                .contains("noise measured by this A/A session")
        );
    }
    // A/B rounds are not runs of a branch: they never become a `latest` or branch baseline.
    let plain = rehearse()
        .args(["compare", "--store", &store, "--scenario", "pay-invoice"])
        .args(["branch:main", "latest"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&plain.get_output().stderr).to_string();
    assert!(
        stderr.contains("A/B-session and demo runs are not counted"),
        "{stderr}"
    );
    // A later session on the same scenario pools the two A/A sessions' noise.
    let target = sandbox(SandboxConfig::default());
    let out = dir.path().join("later");
    ab(
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
    )
    .success();
    let c = comparison(&out);
    assert_eq!(c["ab"]["aa_sessions"], 2);
    assert!(c["notes"].as_array().unwrap().is_empty(), "{}", c["notes"]);
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
        String::from_utf8_lossy(&out.get_output().stderr).contains("--candidate URL, or --same")
    );
}
