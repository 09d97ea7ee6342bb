//! `rehearse compare` and `run --baseline` end to end: live runs against the sandbox check the
//! plumbing (which runs are compared, what is written and printed, exit 0 or 1, thresholds gate
//! every run); seeded results files check the verdicts: nothing changed passes, a slowed-down
//! endpoint fails on that step only.
//!
//! Guards against issue 9: on a busy machine live latencies flipped the verdict of two runs of
//! an unchanged target (login p90 +150.8%, REGRESSED), so no live comparison here asserts a
//! verdict; the seeded runs (`rehearse::stats::simulate`) make each verdict a function of a seed.

mod common;

use common::simulated::{SHIPPED_STEPS, STEPS, independent_runs, write_runs};
use common::*;
use rehearse::sandbox::SandboxConfig;

/// Seed of the simulated runs; the verdicts below are a function of it (and of nothing else).
const SEED: u64 = 20_240_601;

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

/// Checks what a live comparison wrote, whatever timing made of its verdicts: exit 0 or 1 only
/// (never a usage or run failure), agreeing with `overall.passed`; every step and the workflow
/// has a verdict; the regressed list and the printed verdict line say the same thing.
fn plumbing(out: &assert_cmd::assert::Assert, c: &serde_json::Value) {
    let output = out.get_output();
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
    let regressed: Vec<&str> = steps
        .iter()
        .filter(|s| s["verdict"] == "regressed")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(c["overall"]["regressed"], serde_json::json!(regressed));
    let summary = c["overall"]["summary"].as_str().unwrap();
    assert!(stdout.contains(&format!("verdict: {summary}")), "{stdout}");
}

#[test]
fn two_runs_compare_from_their_files_into_one_document_printed_written_and_summarised() {
    // The verdict-independent checks: exit code and overall.passed, the printed verdict line,
    // --json and comparison.json, the run ids, the job summary, no store made for two files.
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
        .assert();
    let c = comparison(&dir.path().join("cmp"));
    // Whether nothing regressed is live timing's say here; the seeded test below owns that claim.
    plumbing(&out, &c);
    let code = out.get_output().status.code();
    assert_eq!(c["schema"], 2);
    assert_eq!(
        c["baseline"]["run_ids"],
        serde_json::json!([results(&dir.path().join("a")).run_id])
    );
    assert_eq!(
        c["candidate"]["run_ids"],
        serde_json::json!([results(&dir.path().join("b")).run_id])
    );
    // One baseline run on a branch with one other run: too little history to learn the noise.
    assert!(
        c["notes"][0].as_str().unwrap().contains("priors"),
        "{}",
        c["notes"]
    );

    // --json prints the same document, with the same exit code.
    let json = rehearse()
        .args(["compare", "--json", "--store", &store])
        .arg(&a)
        .arg(&b)
        .assert()
        .code(code.unwrap());
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
        .code(code.unwrap());
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("login"), "{text}");
    assert!(
        !untouched.exists(),
        "comparing two files must not create a store"
    );
}

#[test]
fn two_seeded_runs_with_nothing_changed_do_not_regress() {
    // Checked to fail when compare/mod.rs calls every step regressed.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = independent_runs(SEED, 1, 1, &[]);
    let a = write_runs(dir.path(), "a", &a);
    let b = write_runs(dir.path(), "b", &b);
    // A store of its own that does not exist: no other test's runs become history here.
    let out = rehearse()
        .args(["compare", "--store"])
        .arg(format!("sqlite://{}", dir.path().join("none.db").display()))
        .arg("--out")
        .arg(dir.path().join("cmp"))
        .arg(&a[0])
        .arg(&b[0])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(text.contains("verdict: no regression"), "{text}");
    assert!(!text.contains("REGRESSED"), "{text}");
    let c = comparison(&dir.path().join("cmp"));
    assert_eq!(c["overall"]["passed"], true);
    for step in STEPS.iter().chain(&["workflow"]) {
        assert_ne!(verdict(&c, step), "regressed", "{step}: {text}");
    }
    assert!(
        c["notes"][0].as_str().unwrap().contains("priors"),
        "{}",
        c["notes"]
    );
}

#[test]
fn a_run_repeated_against_a_branch_is_compared_with_that_branch_s_last_runs() {
    // Checked to fail when the default history shrinks to 5 runs (cli/compare.rs).
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
    );
    let c = comparison(&dir.path().join("cand"));
    // Whether `pay` regressed is live timing's say here; the seeded test below owns that claim.
    plumbing(&out, &c);
    let stored: Vec<String> = (0..6)
        .map(|i| results(&dir.path().join(format!("base{i}"))).run_id)
        .collect();
    let mut baseline: Vec<String> = c["baseline"]["run_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_string())
        .collect();
    baseline.sort();
    assert_eq!(baseline, stored, "the six runs of main");
    let candidates: Vec<String> = (1..=3)
        .map(|i| results(&dir.path().join(format!("cand/run-{i}"))).run_id)
        .collect();
    assert_eq!(c["candidate"]["run_ids"], serde_json::json!(candidates));
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
    // (A busy machine may add notes on starved runs; those are the harness tests' concern.)
    let alike: Vec<&&str> = notes
        .iter()
        .filter(|n| n.contains("differ from the candidate"))
        .collect();
    assert_eq!(alike.len(), 1, "{notes:?}");
    assert!(
        alike[0].starts_with("6 of 6 baseline runs differ from the candidate in the target (candidate http://127.0.0.1:"),
        "{notes:?}"
    );
}

#[test]
fn seeded_runs_with_a_30_percent_slower_pay_regress_that_step_only() {
    // Checked to fail when compare/mod.rs calls every step unchanged, or every step regressed.
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let (history, candidates) = independent_runs(SEED, 6, 3, &[("pay", 0.30)]);
    let history = write_runs(dir.path(), "main-", &history);
    let candidates = write_runs(dir.path(), "feature-", &candidates);
    rehearse()
        .args(["runs", "import", "--store", &store])
        .args(&history)
        .assert()
        .success();
    let out = rehearse()
        .args(["compare", "branch:main", "--store", &store, "--out"])
        .arg(dir.path().join("cmp"))
        .args(&candidates)
        .assert()
        .code(1);
    let text = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let c = comparison(&dir.path().join("cmp"));
    assert_eq!(verdict(&c, "pay"), "regressed", "{text}");
    for name in ["login", "open-invoices", "receipt", "workflow"] {
        assert_ne!(verdict(&c, name), "regressed", "{name}: {text}");
    }
    assert!(text.contains("verdict: REGRESSED: pay"), "{text}");
    assert_eq!(c["baseline"]["run_ids"].as_array().unwrap().len(), 6);
    assert_eq!(c["candidate"]["run_ids"].as_array().unwrap().len(), 3);
    assert!(
        c["notes"].as_array().unwrap().is_empty(),
        "six alike runs teach the noise: {}",
        c["notes"]
    );
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
