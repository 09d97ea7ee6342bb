//! The run's life: Ctrl-C leaves complete-false results behind (and stops any other command
//! with exit 3), and `demo` runs everything.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn sigint_stops_gracefully_and_keeps_what_was_measured() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("rehearse"))
        .env("REHEARSE_STORE", scratch_store())
        .args([
            "run",
            "-q",
            "--duration",
            "60s",
            "--warmup",
            "0s",
            "--rate",
            "20/s",
            "--target",
            &target.url,
            "--out",
        ])
        .arg(&out)
        .arg(scenarios().join("pay-invoice.toml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    sigint(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let run = results(&out);
    assert!(!run.complete);
    assert_eq!(run.stop_reason.as_deref(), Some("interrupted (SIGINT)"));
    let login = step(&run, "login");
    assert!(login.outcomes.ok >= 20, "{:?}", login.outcomes);
    let measured = run.measured_seconds.unwrap();
    assert!((2.0..5.0).contains(&measured), "{measured}");
}

#[test]
fn sigint_outside_a_run_stops_the_command_with_exit_3() {
    // A "store" that takes connections and never answers: `runs list` waits on it.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("rehearse"))
        .args(["runs", "list", "--store"])
        .arg(format!("postgres://postgres@127.0.0.1:{port}/test"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.try_wait().unwrap().is_none(),
        "still waiting on the store"
    );
    sigint(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("SIGINT: stopped"), "{stderr}");
    drop(silent);
}

#[test]
fn demo_runs_every_shipped_scenario_against_its_own_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let assert = rehearse()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["demo", "-q", "--duration", "1s", "--warmup", "0s", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for name in ["pay-invoice", "browse-invoices", "signup-add-card"] {
        let run = results(&out.join(name));
        assert!(run.complete, "{name}");
        let w = run.workflow.unwrap();
        assert!(w.outcomes.ok >= 1, "{name}: {:?}", w.outcomes);
        assert_eq!(
            w.errors,
            0,
            "{name}: {:?}",
            run.steps
                .iter()
                .map(|s| &s.error_samples)
                .collect::<Vec<_>>()
        );
        assert!(
            stdout.contains(&format!("{name} · http://127.0.0.1:")),
            "{stdout}"
        );
    }
}

#[test]
fn demo_works_outside_the_repository_from_built_in_scenarios() {
    let dir = tempfile::tempdir().unwrap();
    rehearse()
        .current_dir(dir.path())
        .args(["demo", "-q", "--duration", "1s", "--warmup", "0s"])
        .assert()
        .success();
    let reports: Vec<_> = std::fs::read_dir(dir.path().join("reports"))
        .unwrap()
        .collect();
    assert_eq!(reports.len(), 1);
    let demo = reports[0].as_ref().unwrap().path();
    assert!(demo.join("scenarios/pay-invoice.toml").exists());
    assert!(demo.join("pay-invoice/results.json").exists());
}

/// Sends SIGINT, as Ctrl-C does.
fn sigint(child: &std::process::Child) {
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
}
