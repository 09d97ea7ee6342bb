//! `rehearse watch` and `rehearse history --changes` end to end: real runs of a shipped
//! scenario against the sandbox, stored on a branch with a commit each; the sandbox is
//! restarted with the same seed for every run, so the target's own latencies are the same
//! draws every run. The machine's load is not: on a busy machine it moves the fast steps'
//! latencies by a few percent, which watch rightly reports too. So these tests check the
//! plumbing and the slowdown (made large against that noise: the sandbox at twice its
//! latency), never that nothing else moved.

mod common;

use common::stores::stores;
use common::{rehearse, sandbox, scenarios};
use rehearse::sandbox::SandboxConfig;

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// One run of pay-invoice on `main` at commit `c{n:02}` against a fresh sandbox.
fn run(store: &str, n: usize, slowdown: Option<f64>) {
    let target = sandbox(SandboxConfig {
        latency_scale: 2.0,
        slowdowns: slowdown
            .map(|f| vec![("pay".into(), f)])
            .unwrap_or_default(),
        ..SandboxConfig::default()
    });
    let out = tempfile::tempdir().unwrap();
    let o = rehearse()
        .args(["run", "-q", "--store", store, "--branch", "main"])
        .args(["--commit", &format!("c{n:02}")])
        .args(["--rate", "30/s", "--duration", "1s", "--warmup", "0s"])
        .args(["--target", &target.url, "--out"])
        .arg(out.path())
        .arg(scenarios().join("pay-invoice.toml"))
        .output()
        .unwrap();
    assert!(o.status.success(), "run {n}: {}", text(&o));
}

#[test]
fn watch_names_a_slower_pay_and_the_commit_it_started_at_once() {
    let store = stores().pop().unwrap();
    for n in 1..=30 {
        run(&store.url, n, None);
    }
    let report = tempfile::tempdir().unwrap();
    let watch = |extra: &[&str]| {
        rehearse()
            .args(["watch", "--store", &store.url, "--branch", "main"])
            .args(extra)
            .output()
            .unwrap()
    };
    // Whatever the machine's load did to these 30 runs is announced now, not later.
    let o = watch(&[]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", text(&o));

    for n in 31..=40 {
        run(&store.url, n, Some(1.08));
    }
    let o = watch(&["--report", report.path().to_str().unwrap()]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    // pay's mean and p99 move with every request; its p50 may place the step a run off.
    assert!(
        said.lines().any(|l| l.contains("NEW REGRESSION")
            && l.contains(" pay ")
            && l.contains("bisect c30..c31")),
        "{said}"
    );
    for f in ["index.html", "summary.md", "summary.png", "watch.json"] {
        assert!(report.path().join(f).exists(), "{f}");
    }
    let md = std::fs::read_to_string(report.path().join("summary.md")).unwrap();
    assert!(md.contains("`c30..c31`"), "{md}");
    let html = std::fs::read_to_string(report.path().join("index.html")).unwrap();
    assert!(html.contains("<svg"), "the trend is drawn");

    // Announced once: the next watch knows it, the scenario named by its file this time.
    let file = scenarios().join("pay-invoice.toml");
    let o = watch(&[file.to_str().unwrap()]);
    let said = text(&o);
    assert!(
        said.lines().any(|l| l.contains("known regression")
            && l.contains(" pay ")
            && l.contains("c30..c31")),
        "{said}"
    );
    assert!(
        !said
            .lines()
            .any(|l| l.contains("NEW") && l.contains("c30..c31")),
        "{said}"
    );
    assert!(
        said.contains("pay-invoice on main: 40 runs searched"),
        "{said}"
    );

    let o = rehearse()
        .args(["history", "pay-invoice", "--changes", "--branch", "main"])
        .args(["--store", &store.url])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("c30..c31"), "{}", text(&o));
}
