//! Workflow mixes end to end: the shipped mix runs its three scenarios at once against the
//! sandbox as one run (qualified steps, each scenario's workflow, the mix's), stored, compared
//! with its branch and reported like any run; each scenario's arrivals follow its weight; and,
//! on seeded runs (live timing cannot flip them), a 30% slower `pay` regresses
//! `pay-invoice/pay` only, in a mix whose other scenarios did not change.

mod common;

use common::simulated::{SHIPPED_STEPS, independent_runs, write_runs};
use common::*;
use rehearse::model::RunResult;
use rehearse::record::mix::{MemberRun, MixInfo, combine};

const SEED: u64 = 20_261_202;

/// Runs the shipped mix against `target` at `rate` for `seconds`, into `out`.
fn run_mix(
    target: &str,
    store: &str,
    out: &std::path::Path,
    rate: &str,
    seconds: &str,
    extra: &[&str],
) -> assert_cmd::assert::Assert {
    rehearse()
        .args([
            "run",
            "--quiet",
            "--store",
            store,
            "--branch",
            "main",
            "--target",
            target,
            "--rate",
            rate,
            "--duration",
            seconds,
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(out)
        .args(extra)
        .arg(scenarios().join("checkout-mix.toml"))
        .assert()
}

const MEMBERS: [(&str, &[&str]); 3] = [
    (
        "browse-invoices",
        &["login", "list-invoices", "search", "view-invoice"],
    ),
    ("pay-invoice", &SHIPPED_STEPS),
    (
        "signup-add-card",
        &["signup", "login", "add-card", "account"],
    ),
];

#[test]
fn the_shipped_mix_runs_its_scenarios_at_once_as_one_stored_compared_reported_run() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let single = dir.path().join("single-report");
    run_mix(
        &target.url,
        &store,
        &dir.path().join("a"),
        "20/s",
        "2s",
        &["--report", single.to_str().unwrap()],
    )
    .success();
    // A run's report shows every qualified step, the polling step with its polls.
    let html = std::fs::read_to_string(single.join("index.html")).unwrap();
    assert!(html.contains("pay-invoice/settle") && html.contains("polls:"));
    let report = dir.path().join("report");
    let out = run_mix(
        &target.url,
        &store,
        &dir.path().join("b"),
        "20/s",
        "2s",
        &[
            "--baseline",
            "branch:main",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let code = out.get_output().status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    for file in ["index.html", "summary.png", "summary.md", "junit.xml"] {
        assert!(report.join(file).is_file(), "{file}");
    }
    let html = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(html.contains("pay-invoice/settle"));
    let run = results(&dir.path().join("b"));
    schema_check(&serde_json::to_value(&run).unwrap()).unwrap();
    assert_eq!(run.scenario, "checkout-mix");
    assert!(run.complete);
    let names: Vec<&str> = run.steps.iter().map(|s| s.name.as_str()).collect();
    let mut want = Vec::new();
    for (member, steps) in MEMBERS {
        want.extend(steps.iter().map(|s| format!("{member}/{s}")));
        want.push(format!("{member}/workflow"));
    }
    assert_eq!(names, want);
    for s in &run.steps {
        assert_eq!(s.errors, 0, "{}: {:?}", s.name, s.error_samples);
    }
    let workflow = run.workflow.as_ref().unwrap();
    let members: u64 = MEMBERS
        .iter()
        .map(|(m, _)| step(&run, &format!("{m}/workflow")).count)
        .sum();
    assert_eq!(
        workflow.count, members,
        "the mix's workflow is every iteration"
    );
    assert_eq!(run.iterations.as_ref().unwrap().started, members);
    assert!(step(&run, "pay-invoice/settle").polls.is_some());
    let load = run.load.as_ref().unwrap();
    assert_eq!((load.model.as_str(), load.rate), ("open", Some(20.0)));
    // The mix's thresholds and each scenario's own, qualified (not their default error rate:
    // the mix's governs).
    let expressions: Vec<&str> = run
        .thresholds
        .iter()
        .map(|t| t.threshold.expression.as_str())
        .collect();
    assert!(
        expressions.contains(&"workflow.error_rate <= 1%")
            && expressions.contains(&"pay-invoice/workflow.p99 <= 3s")
            && !expressions
                .iter()
                .any(|e| e.starts_with("signup-add-card/workflow.error_rate")),
        "{expressions:?}"
    );
    // One interval log, tagged like the steps; no member leftovers.
    let log = std::fs::read_to_string(dir.path().join("b/intervals.hlog")).unwrap();
    assert!(log.contains("Tag=pay-invoice_pay,") && log.contains("Tag=workflow,"));
    let leftovers: Vec<String> = std::fs::read_dir(dir.path().join("b"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".mix-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Compared with the first run, step by step; whether anything regressed is live timing's
    // say, the seeded test below owns that claim.
    let c = comparison(&dir.path().join("b"));
    let compared: Vec<&str> = c["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(compared.contains(&"pay-invoice/pay") && compared.contains(&"workflow"));
    assert_eq!(c["baseline"]["run_ids"].as_array().unwrap().len(), 1);
    // Stored like any run, under the mix's name.
    let listed = rehearse()
        .args([
            "runs",
            "list",
            "--store",
            &store,
            "--scenario",
            "checkout-mix",
        ])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&listed.get_output().stdout).to_string();
    assert_eq!(text.matches("checkout-mix").count(), 2, "{text}");
}

#[test]
fn each_scenarios_arrivals_follow_its_weight() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    run_mix(
        &target.url,
        &store,
        &dir.path().join("a"),
        "100/s",
        "4s",
        &[],
    )
    .success();
    let run = results(&dir.path().join("a"));
    // 100/s for 4 s: 280, 80 and 40 arrivals. A starved scheduler can lose the last arrival or
    // two of a scenario (it stops at the end without starting what fell due while it waited),
    // so the count is held to 1% of its share, or 2 arrivals for the smallest.
    for (member, weight) in [
        ("browse-invoices", 70.0),
        ("pay-invoice", 20.0),
        ("signup-add-card", 10.0),
    ] {
        let expected: f64 = 400.0 * weight / 100.0;
        let got = step(&run, &format!("{member}/workflow")).count as f64;
        assert!(
            (got - expected).abs() <= (expected * 0.01).max(2.0),
            "{member}: {got} arrivals, expected {expected}"
        );
    }
}

/// A mix run made of seeded member runs, as `rehearse run` would combine them.
fn mix_run(members: [(&str, &RunResult); 3], minute: usize) -> RunResult {
    let parts: Vec<MemberRun> = members
        .iter()
        .map(|(name, run)| {
            let mut run = (*run).clone();
            run.scenario = name.to_string();
            MemberRun {
                run,
                log: Vec::new(),
            }
        })
        .collect();
    let info = MixInfo {
        run_id: uuid::Uuid::now_v7().to_string(),
        name: "checkout-mix".into(),
        hash: "sha256:seeded-mix".into(),
        file: None,
        load: None,
        thresholds: Vec::new(),
        compare: Default::default(),
        start_ms: Some(1_735_689_600_000 + minute as i64 * 60_000),
    };
    combine(&info, &parts).unwrap().0
}

#[test]
fn seeded_mix_runs_with_a_30_percent_slower_pay_regress_pay_invoice_pay_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let (pay_main, pay_feature) = independent_runs(SEED, 6, 3, &[("pay", 0.30)]);
    let (browse_main, browse_feature) = independent_runs(SEED + 1, 6, 3, &[]);
    let (signup_main, signup_feature) = independent_runs(SEED + 2, 6, 3, &[]);
    let history: Vec<RunResult> = (0..6)
        .map(|i| {
            mix_run(
                [
                    ("browse-invoices", &browse_main[i]),
                    ("pay-invoice", &pay_main[i]),
                    ("signup-add-card", &signup_main[i]),
                ],
                i,
            )
        })
        .collect();
    let candidates: Vec<RunResult> = (0..3)
        .map(|i| {
            mix_run(
                [
                    ("browse-invoices", &browse_feature[i]),
                    ("pay-invoice", &pay_feature[i]),
                    ("signup-add-card", &signup_feature[i]),
                ],
                6 + i,
            )
        })
        .collect();
    assert_eq!(
        history[0].git.as_ref().unwrap().branch.as_deref(),
        Some("main")
    );
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
    assert_eq!(verdict(&c, "pay-invoice/pay"), "regressed", "{text}");
    let steps = c["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3 * 5 + 1, "{text}");
    for s in steps {
        let name = s["name"].as_str().unwrap();
        if name != "pay-invoice/pay" {
            assert_ne!(s["verdict"], "regressed", "{name}: {text}");
        }
    }
    assert!(
        text.contains("verdict: REGRESSED: pay-invoice/pay"),
        "{text}"
    );
}

#[test]
fn a_mix_of_open_and_closed_scenarios_says_mixed_and_keeps_both_levels() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "pay-invoice.toml",
        "browse-invoices.toml",
        "data/customers.csv",
    ] {
        let dest = dir.path().join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(scenarios().join(f), dest).unwrap();
    }
    let mix = write(
        dir.path(),
        "mixed.toml",
        "[mix]\nrate = \"10/s\"\nduration = \"2s\"\n[mix.scenarios]\n\"pay-invoice.toml\" = 1\n\"browse-invoices.toml\" = { users = 2 }\n",
    );
    rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--warmup",
            "0s",
            "--target",
            &target.url,
            "--out",
        ])
        .arg(dir.path().join("out"))
        .arg(&mix)
        .assert()
        .success();
    let run = results(&dir.path().join("out"));
    schema_check(&serde_json::to_value(&run).unwrap()).unwrap();
    let load = run.load.as_ref().unwrap();
    assert_eq!(
        (load.model.as_str(), load.rate, load.users),
        ("mixed", Some(10.0), Some(2.0))
    );
    assert_eq!(run.scenario, "mixed");
}
