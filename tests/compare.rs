//! `rehearse compare` and `run --baseline` end to end against the sandbox: nothing changed
//! passes, a slowed-down endpoint fails on that step only, thresholds gate every run.

mod common;

use common::*;
use rehearse::sandbox::SandboxConfig;

fn run(
    target: &str,
    store: &str,
    branch: &str,
    out: &std::path::Path,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    rehearse()
        .args([
            "run",
            "-q",
            "--rate",
            "200/s",
            "--duration",
            "2s",
            "--warmup",
            "1s",
            "--branch",
            branch,
            "--target",
            target,
            "--store",
            store,
            "--out",
        ])
        .arg(out)
        .args(extra)
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
}

#[test]
fn two_runs_with_nothing_changed_do_not_regress() {
    let target = sandbox(SandboxConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    run(&target.url, &store, "main", &dir.path().join("a"), &[]).success();
    run(&target.url, &store, "main", &dir.path().join("b"), &[]).success();
    let a = dir.path().join("a/results.json");
    let b = dir.path().join("b/results.json");
    let out = rehearse()
        .args(["compare", "--store", &store, "--out"])
        .arg(dir.path().join("cmp"))
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("verdict: no regression"), "{text}");
    assert!(!text.contains("REGRESSED"), "{text}");
    let c: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("cmp/comparison.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(c["schema"], 1);
    assert_eq!(c["overall"]["passed"], true);
    assert_eq!(
        c["steps"].as_array().unwrap().len(),
        5,
        "four steps and the workflow"
    );
    // One baseline run on a branch with one other run: too little history to learn the noise.
    assert!(
        c["notes"][0].as_str().unwrap().contains("priors"),
        "{}",
        c["notes"]
    );

    // --json prints the same document.
    let json = rehearse()
        .args(["compare", "--json", "--store", &store])
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let printed: serde_json::Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    assert_eq!(printed, c);

    // Two files and a CI job summary: the summary is written and no store is created.
    let summary = dir.path().join("step-summary.md");
    let untouched = dir.path().join("never/created.db");
    rehearse()
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["compare", "--store"])
        .arg(format!("sqlite://{}", untouched.display()))
        .arg(&a)
        .arg(&b)
        .assert()
        .success();
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("login"), "{text}");
    assert!(
        !untouched.exists(),
        "comparing two files must not create a store"
    );
}

#[test]
fn a_slowed_down_endpoint_regresses_that_step_only() {
    let normal = sandbox(SandboxConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    for i in 0..6 {
        run(
            &normal.url,
            &store,
            "main",
            &dir.path().join(format!("base{i}")),
            &[],
        )
        .success();
    }
    let slow = sandbox(SandboxConfig {
        slowdowns: vec![("pay".into(), 1.3)],
        ..SandboxConfig::default()
    });
    let out = run(
        &slow.url,
        &store,
        "feature",
        &dir.path().join("cand"),
        &["--baseline", "branch:main", "--repeat", "3"],
    )
    .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let c: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("cand/comparison.json")).unwrap(),
    )
    .unwrap();
    let verdict = |name: &str| {
        c["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()["verdict"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict("pay"), "regressed", "{text}");
    for name in ["login", "open-invoices", "receipt"] {
        assert_ne!(verdict(name), "regressed", "{name}: {text}");
    }
    assert_eq!(c["baseline"]["run_ids"].as_array().unwrap().len(), 6);
    assert_eq!(c["candidate"]["run_ids"].as_array().unwrap().len(), 3);
    let notes: Vec<&str> = c["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        !notes.iter().any(|n| n.contains("priors")),
        "six runs teach the noise: {notes:?}"
    );
    // The slow sandbox listens on another port: the runs are flagged as not quite alike.
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("6 of 6 baseline runs differ from the candidate in the target (candidate http://127.0.0.1:"),
        "{notes:?}"
    );
    assert!(text.contains("verdict: REGRESSED: pay"), "{text}");
    let pay = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "pay")
        .unwrap();
    let p50 = pay["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "p50")
        .unwrap();
    assert!(p50["change"].as_f64().unwrap() > 0.15, "{p50}");
    assert!(
        p50["interval"][0].as_f64().unwrap() > 0.0,
        "the interval excludes no change: {p50}"
    );
}

#[test]
fn a_breached_threshold_fails_the_run_and_is_named() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let scenario = std::fs::read_to_string(scenarios().join("pay-invoice.toml")).unwrap()
        + "\n[thresholds]\nerror_rate = \"1%\"\n\"pay\".p99 = \"1ms\"\n\"login\".p99 = \"< 10s\"\n";
    let file = write(dir.path(), "pay.toml", &scenario);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        dir.path().join("data/customers.csv"),
    )
    .unwrap();
    let out = rehearse()
        .args([
            "run",
            "-q",
            "--iterations",
            "20",
            "--rate",
            "20/s",
            "--warmup",
            "0s",
            "--target",
            &target.url,
            "--out",
        ])
        .arg(dir.path().join("out"))
        .arg(&file)
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        text.contains("pay.p99 <= 1ms") && text.contains("BREACHED"),
        "{text}"
    );
    assert!(
        text.contains("login.p99 < 10s") && text.contains("ok"),
        "{text}"
    );
    let results = results(&dir.path().join("out"));
    let breached: Vec<&str> = results
        .thresholds
        .iter()
        .filter(|t| !t.passed)
        .map(|t| t.threshold.expression.as_str())
        .collect();
    assert_eq!(breached, ["pay.p99 <= 1ms"]);
    assert_eq!(results.thresholds.len(), 3);
    // A comparison of stored runs applies the thresholds the run recorded.
    let other = dir.path().join("out/results.json");
    let out = rehearse()
        .args(["compare"])
        .arg(&other)
        .arg(&other)
        .assert()
        .code(1);
    assert!(
        String::from_utf8_lossy(&out.get_output().stdout)
            .contains("THRESHOLDS BREACHED: pay.p99 <= 1ms")
    );
}

#[test]
fn the_first_run_of_a_branch_has_no_baseline_and_passes() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let out = run(
        &target.url,
        &store,
        "main",
        &dir.path().join("a"),
        &["--baseline", "branch:main"],
    )
    .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("no baseline yet"), "{stderr}");
    // A typo is an error, not a silent pass.
    rehearse()
        .args([
            "compare",
            "branch:main",
            "nope-not-a-run",
            "--store",
            &store,
        ])
        .assert()
        .code(2);
}
