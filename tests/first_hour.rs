//! A newcomer's first hour, as the README and docs lead it: a failed run never becomes a
//! baseline, `latest` works on either side, every change shown is the change between the
//! numbers beside it, and `--help` says what each command takes.

mod common;

use common::stores::synthetic_run;
use common::*;

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

/// Writes a run as a results file and imports it.
fn import(
    dir: &std::path::Path,
    store: &str,
    run: &rehearse::model::RunResult,
) -> std::path::PathBuf {
    let path = dir.join(format!("{}/results.json", run.run_id));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    run.write(&path).unwrap();
    rehearse()
        .args(["runs", "import", "--store", store])
        .arg(&path)
        .assert()
        .success();
    path
}

#[test]
fn a_run_whose_target_never_answered_is_never_a_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    // Nothing listens on port 1: every attempt is a connect error.
    let a = rehearse()
        .args([
            "run",
            "-q",
            "--rate",
            "20/s",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--branch",
            "main",
            "--target",
            "http://127.0.0.1:1",
            "--store",
            &store,
            "--out",
        ])
        .arg(dir.path().join("dead"))
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
        .code(3);
    assert!(
        stderr(&a).contains("the target never answered"),
        "{}",
        stderr(&a)
    );
    let dead = results(&dir.path().join("dead"));
    assert_eq!(dead.failure().as_deref(), Some("the target never answered"));

    let list = rehearse()
        .args(["runs", "list", "--store", &store])
        .assert()
        .success();
    assert!(
        stdout(&list).contains("failed: no baseline"),
        "{}",
        stdout(&list)
    );
    assert!(
        !stdout(&list).contains("0µs"),
        "a run without responses has no latency: {}",
        stdout(&list)
    );

    // A good run from elsewhere, compared with `latest`: the failed run is never taken.
    let good = synthetic_run(
        "pay-invoice",
        Some("main"),
        "2026-11-29T10:00:00Z",
        20_000,
        true,
    );
    let good_file = dir.path().join("good.json");
    good.write(&good_file).unwrap();
    let a = rehearse()
        .args(["compare", "--store", &store, "latest"])
        .arg(&good_file)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("no runs of `pay-invoice` match `latest`"),
        "{}",
        stderr(&a)
    );
    // Named by id, it says why it cannot be a baseline, and exits 3 (a named run failed).
    let a = rehearse()
        .args(["compare", "--store", &store, &dead.run_id])
        .arg(&good_file)
        .assert()
        .code(3);
    assert!(
        stderr(&a).contains("failed (the target never answered)"),
        "{}",
        stderr(&a)
    );
    assert!(stderr(&a).contains("no baseline"), "{}", stderr(&a));
}

#[test]
fn latest_and_branch_name_their_scenario_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    // An empty store says so.
    let a = rehearse()
        .args(["compare", "--store", &store, "branch:main", "latest"])
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("there is no store at"),
        "{}",
        stderr(&a)
    );
    for (i, day) in ["01", "02", "03", "04"].iter().enumerate() {
        let mut run = synthetic_run(
            "pay-invoice",
            Some(if i < 3 { "main" } else { "feature" }),
            &format!("2026-11-{day}T10:00:00Z"),
            20_000,
            true,
        );
        run.run_id = format!("0000000{i}-0000-7000-8000-000000000000");
        import(dir.path(), &store, &run);
    }
    let a = rehearse()
        .args(["compare", "--store", &store, "branch:main", "latest"])
        .assert()
        .success();
    let text = stdout(&a);
    assert!(text.starts_with("pay-invoice: candidate latest"), "{text}");
    assert!(
        text.contains("3 runs"),
        "the branch's three runs are the baseline: {text}"
    );
}

#[test]
fn the_error_rate_change_is_the_change_between_the_rates_shown() {
    let dir = tempfile::tempdir().unwrap();
    let with_errors = |id: &str, errors: u64, day: &str| {
        let mut run = synthetic_run(
            "p",
            Some("main"),
            &format!("2026-11-{day}T10:00:00Z"),
            20_000,
            true,
        );
        run.run_id = id.into();
        for s in run.steps.iter_mut() {
            *s = s.clone().with_errors(errors);
        }
        run
    };
    // 200 attempts a step: 0.5% errors in the baseline, none in the candidate.
    let base = dir.path().join("b.json");
    with_errors("00000000-0000-7000-8000-00000000000b", 1, "01")
        .write(&base)
        .unwrap();
    let cand = dir.path().join("c.json");
    with_errors("00000000-0000-7000-8000-00000000000c", 0, "02")
        .write(&cand)
        .unwrap();
    let out = dir.path().join("cmp");
    let a = rehearse()
        .args(["compare", "--store"])
        .arg(format!("sqlite://{}", dir.path().join("none.db").display()))
        .arg("--out")
        .arg(&out)
        .arg(&base)
        .arg(&cand)
        .assert()
        .success();
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("comparison.json")).unwrap())
            .unwrap();
    for step in c["steps"].as_array().unwrap() {
        for m in step["metrics"].as_array().unwrap() {
            if m["metric"] == "error_rate" {
                let (b, cand, change) = (
                    m["baseline"].as_f64().unwrap(),
                    m["candidate"].as_f64().unwrap(),
                    m["change"].as_f64().unwrap(),
                );
                assert!((change - (cand - b)).abs() < 1e-12, "{m}");
            }
        }
    }
    // The console row: 0.50% → 0.00% is shown as -0.50pt, the model's estimate by its name.
    let text = stdout(&a);
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("error_rate") && l.contains("0.50%"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("-0.50pt"), "{row}");
    assert!(row.contains("model "), "{row}");
}

#[test]
fn help_says_what_each_command_takes() {
    let help = |args: &[&str]| {
        let a = rehearse().args(args).arg("--help").assert().success();
        stdout(&a)
    };
    let ab = help(&["ab"]);
    assert!(
        ab.contains("--baseline-url <URL>") && ab.contains("--candidate-url <URL>"),
        "{ab}"
    );
    assert!(!ab.contains("--history"), "ab has no history: {ab}");
    let run = help(&["run"]);
    assert!(
        run.contains("--baseline <SPEC>") && run.contains("--allow-host"),
        "{run}"
    );
    let sandbox = help(&["sandbox"]);
    for endpoint in rehearse::sandbox::ENDPOINTS {
        assert!(sandbox.contains(endpoint), "{endpoint}: {sandbox}");
    }
    assert!(help(&["demo"]).contains("--report <DIR>"));
    // Every command's options are laid out the same way: one line per flag and its text.
    for cmd in ["run", "ab", "compare", "report", "demo"] {
        let text = help(&[cmd]);
        let first = text
            .lines()
            .find(|l| l.trim_start().starts_with("--"))
            .unwrap_or_else(|| panic!("{cmd}: {text}"));
        assert!(
            first.trim_end().len() > first.split_whitespace().next().unwrap().len() + 4,
            "{cmd}: help text on the flag's own line: {first:?}"
        );
    }
    // The old `ab --baseline URL` spelling still works.
    let a = rehearse()
        .args(["ab", "--baseline", "http://127.0.0.1:1", "--rounds", "1"])
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("--rounds"), "{}", stderr(&a));
}
