//! Suites end to end against the in-process sandbox: a folder, a list of files or a suite file
//! run as one suite run with one verdict and one report; parts of a split suite joining in
//! every store (SQLite, and PostgreSQL when reachable: always in CI); the verdict of a suite
//! run named as `suite:ID`; failed, missing and retried parts; `--repeat`; bad input.
//!
//! These check plumbing and exit codes, never a verdict live timing noise could flip: a
//! comparison's exit code is checked against suite.json's `overall.passed`, not against an
//! expected "unchanged".

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::stores::stores;
use common::*;
use rehearse::model::SuiteComparison;
use serde_json::Value;

/// The shipped scenarios, in suite order (their file names sorted).
const SHIPPED: [&str; 3] = ["browse-invoices", "pay-invoice", "signup-add-card"];

/// Short loads: every scenario of a suite takes about a second.
const SHORT: [&str; 5] = ["-q", "--duration", "1s", "--warmup", "0s"];

/// Nothing listens there: every attempt is refused.
const DEAD: &str = "http://127.0.0.1:9";

/// What a command did.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The binary, run in `cwd` (so nothing lands in the repository), without the CI variables
/// that would give it a suite id, a job summary or a host allow-list.
fn rh(cwd: &Path) -> assert_cmd::Command {
    let mut cmd = rehearse();
    cmd.current_dir(cwd);
    for var in [
        "GITHUB_STEP_SUMMARY",
        "GITHUB_RUN_ID",
        "GITHUB_RUN_ATTEMPT",
        "CI_PIPELINE_ID",
        "REHEARSE_ALLOWED_HOSTS",
        "REHEARSE_TARGET",
    ] {
        cmd.env_remove(var);
    }
    // Generous: a loaded machine is slow, but nothing here should take minutes.
    cmd.timeout(Duration::from_secs(300));
    cmd
}

fn exec(mut cmd: assert_cmd::Command) -> Ran {
    let out = cmd.output().expect("run rehearse");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    }
}

/// `rehearse ARGS` in `cwd`.
fn cli(cwd: &Path, args: &[&str]) -> Ran {
    let mut cmd = rh(cwd);
    cmd.args(args);
    exec(cmd)
}

/// `rehearse compare branch:main SPEC`, without waiting and with `--wait 10m`: each must
/// refuse a verdict (exit 3) for an incomplete suite run, and say `why` in its stderr.
fn refuses_verdict(cwd: &Path, store: &str, spec: &str, why: &str, label: &str) -> Vec<Ran> {
    [None, Some("10m")]
        .into_iter()
        .map(|wait| {
            let mut args = vec!["compare", "branch:main", spec, "--store", store];
            if let Some(w) = wait {
                args.extend(["--wait", w]);
            }
            let ran = cli(cwd, &args);
            assert_eq!(ran.code, 3, "{label} {wait:?}: {ran}");
            assert!(ran.stderr.contains(why), "{label} {wait:?}: {ran}");
            ran
        })
        .collect()
}

/// `rehearse run` of a suite (or part of one) on branch main with short loads.
fn run_suite(
    cwd: &Path,
    store: &str,
    target: &str,
    out: &Path,
    extra: &[&str],
    what: &[PathBuf],
) -> Ran {
    let mut cmd = rh(cwd);
    cmd.arg("run")
        .args(SHORT)
        .args([
            "--target", target, "--branch", "main", "--store", store, "--out",
        ])
        .arg(out)
        .args(extra)
        .args(what);
    exec(cmd)
}

/// A fresh SQLite store inside `dir`.
fn sqlite(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("store/rehearse.db").display())
}

/// A short unique tag, so ids never meet in a shared store.
fn tag() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_string()
}

/// Copies the shipped scenarios (and their data) into `dest`.
fn copy_scenarios(dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest.join("data")).unwrap();
    for s in SHIPPED {
        let name = format!("{s}.toml");
        std::fs::copy(scenarios().join(&name), dest.join(&name)).unwrap();
    }
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        dest.join("data/customers.csv"),
    )
    .unwrap();
    dest.to_path_buf()
}

fn shipped(name: &str) -> PathBuf {
    scenarios().join(format!("{name}.toml"))
}

/// Reads a suite.json, checking it against the published schema first.
fn read_suite(path: &Path) -> SuiteComparison {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let instance: Value = serde_json::from_str(&text).unwrap();
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/suite.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("suite.schema.json", schema).unwrap();
    let index = compiler.compile("suite.schema.json", &mut schemas).unwrap();
    if let Err(e) = schemas.validate(&instance, index) {
        panic!("{} does not match the schema: {e:#}", path.display());
    }
    serde_json::from_str(&text).unwrap()
}

/// A suite's exit code says what its suite.json says.
fn assert_consistent(ran: &Ran, v: &SuiteComparison) {
    let expected = if v.overall.passed { 0 } else { 1 };
    assert_eq!(
        ran.code, expected,
        "exit code disagrees with suite.json (passed = {}): {ran}",
        v.overall.passed
    );
}

fn member_names(v: &SuiteComparison) -> Vec<&str> {
    v.members.iter().map(|m| m.scenario.as_str()).collect()
}

/// Each scenario's run ids, as a suite.json lists them.
fn member_runs(v: &SuiteComparison) -> BTreeMap<String, Vec<String>> {
    v.members
        .iter()
        .map(|m| (m.scenario.clone(), m.run_ids.clone()))
        .collect()
}

/// The scenario folders (holding a results.json) of a suite's output folder: name → run id.
fn run_folders(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.join("results.json").is_file() {
            let run = results(&path);
            assert_eq!(
                path.file_name().unwrap().to_string_lossy(),
                run.scenario,
                "a scenario's results are in its own folder"
            );
            out.insert(run.scenario.clone(), run.run_id.clone());
        }
    }
    out
}

/// `runs list --json` of a store (with extra flags).
fn listed(cwd: &Path, store: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec!["runs", "list", "--json", "--store", store];
    args.extend_from_slice(extra);
    let ran = cli(cwd, &args);
    assert_eq!(ran.code, 0, "{ran}");
    serde_json::from_str::<Value>(&ran.stdout)
        .unwrap_or_else(|e| panic!("runs list --json: {e}: {ran}"))
        .as_array()
        .unwrap()
        .clone()
}

/// `runs list --suite ID --json`: scenario → its run ids in the suite run.
fn suite_members(cwd: &Path, store: &str, id: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in listed(cwd, store, &["--suite", id, "--limit", "1000"]) {
        assert_eq!(
            r["group"], id,
            "a listed member belongs to the suite run: {r}"
        );
        out.entry(r["scenario"].as_str().unwrap().to_string())
            .or_default()
            .insert(r["id"].as_str().unwrap().to_string());
    }
    out
}

/// One suite run as `runs list --suites --json` shows it.
fn suite_listing(cwd: &Path, store: &str, id: &str) -> Value {
    listed(cwd, store, &["--suites", "--limit", "1000"])
        .into_iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("runs list --suites does not list {id}"))
}

/// The line of `runs list --suites` for one suite run.
fn suites_line(cwd: &Path, store: &str, id: &str) -> String {
    let ran = cli(cwd, &["runs", "list", "--suites", "--store", store]);
    assert_eq!(ran.code, 0, "{ran}");
    ran.stdout
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_else(|| panic!("runs list --suites does not show {id}: {ran}"))
        .to_string()
}

/// What a verdict says, scenario by scenario and step by step: the strings a person reads.
fn verdict_strings(v: &SuiteComparison) -> Vec<String> {
    let mut out = vec![format!(
        "overall passed={} regressed={:?} breaches={:?} inconclusive={} holm={} summary={}",
        v.overall.passed,
        v.overall.regressed,
        v.overall.breaches,
        v.overall.inconclusive,
        v.overall.holm_family,
        v.overall.summary
    )];
    for c in &v.scenarios {
        let c = serde_json::to_value(c).unwrap();
        for step in c["steps"].as_array().unwrap() {
            out.push(format!(
                "{} {} {}",
                c["scenario"].as_str().unwrap(),
                step["name"].as_str().unwrap(),
                step["verdict"].as_str().unwrap()
            ));
            for m in step["metrics"].as_array().into_iter().flatten() {
                out.push(format!(
                    "{} {} {} {}",
                    c["scenario"].as_str().unwrap(),
                    step["name"].as_str().unwrap(),
                    m["metric"].as_str().unwrap(),
                    m["verdict"].as_str().unwrap()
                ));
            }
        }
    }
    out
}

/// The report folder of a suite: every file there, well formed, one entry per scenario.
fn check_report(dir: &Path, scenarios: &[&str]) {
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(
        html.contains("<html") || html.contains("<!DOCTYPE"),
        "index.html is HTML"
    );
    for s in scenarios {
        assert!(html.contains(s), "index.html names {s}");
    }
    // Self-contained: nothing loaded from elsewhere (links to click are fine).
    let lower = html.to_ascii_lowercase();
    for attr in ["src=\"", "src='", "url(", "@import"] {
        for (at, _) in lower.match_indices(attr) {
            let value = lower[at + attr.len()..].trim_start_matches(['"', '\'', ' ']);
            assert!(
                !(value.starts_with("http:")
                    || value.starts_with("https:")
                    || value.starts_with("//")),
                "index.html loads an external resource: {}",
                &html[at..(at + 120).min(html.len())]
            );
        }
    }
    for (at, _) in lower.match_indices("<link") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap_or(0)];
        assert!(
            !tag.contains("http"),
            "index.html links an external resource: {tag}"
        );
    }

    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.chars().count() < 65_536, "summary.md fits a PR comment");
    for s in scenarios {
        let rows = md
            .lines()
            .filter(|l| l.starts_with('|') && l.split('|').any(|cell| cell.trim() == *s))
            .count();
        assert_eq!(rows, 1, "summary.md has one row for {s}:\n{md}");
    }

    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).expect("junit.xml parses");
    assert_eq!(doc.root_element().tag_name().name(), "testsuites");
    let suites: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("name").unwrap_or(""))
        .collect();
    assert_eq!(suites, scenarios, "junit.xml: one <testsuite> per scenario");

    let png = std::fs::read(dir.join("summary.png")).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "summary.png is a PNG"
    );
    let v = read_suite(&dir.join("suite.json"));
    assert_eq!(member_names(&v), scenarios);
}

#[test]
fn the_shipped_scenarios_run_as_one_suite_with_one_verdict_and_one_report() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);

    // Twice on main: the first without --out goes to reports/<suite>-<time>/<scenario>/.
    let mut cmd = rh(cwd);
    cmd.arg("run")
        .args(SHORT)
        .args([
            "--target",
            &target.url,
            "--branch",
            "main",
            "--store",
            &store,
        ])
        .arg(scenarios());
    let first = exec(cmd);
    assert_eq!(first.code, 0, "{first}");
    let reports: Vec<PathBuf> = std::fs::read_dir(cwd.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let folder = reports[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(folder.starts_with("scenarios-"), "{folder}");
    let first_runs = run_folders(&reports[0]);
    assert_eq!(
        first_runs.keys().map(String::as_str).collect::<Vec<_>>(),
        SHIPPED
    );
    let first_v = read_suite(&reports[0].join("suite.json"));
    assert_eq!(first_v.suite, "scenarios");
    assert_eq!(member_names(&first_v), SHIPPED);
    assert!(first_v.baseline.is_none());
    for m in &first_v.members {
        assert_eq!(m.verdict, "not compared", "{m:?}");
        assert_eq!(m.run_ids, vec![first_runs[&m.scenario].clone()]);
        assert_eq!(m.part, 1);
    }

    let second = run_suite(
        cwd,
        &store,
        &target.url,
        &cwd.join("r2"),
        &[],
        &[scenarios()],
    );
    assert_eq!(second.code, 0, "{second}");
    let second_runs = run_folders(&cwd.join("r2"));

    // The third compared with main: each scenario with its own history, one verdict.
    let report = cwd.join("report");
    let third = run_suite(
        cwd,
        &store,
        &target.url,
        &cwd.join("r3"),
        &[
            "--baseline",
            "branch:main",
            "--report",
            report.to_str().unwrap(),
        ],
        &[scenarios()],
    );
    let v = read_suite(&cwd.join("r3/suite.json"));
    assert_consistent(&third, &v);
    assert_eq!(v.baseline.as_deref(), Some("branch:main"));
    assert_eq!(member_names(&v), SHIPPED);
    let third_runs = run_folders(&cwd.join("r3"));
    for m in &v.members {
        assert_ne!(
            m.verdict, "not compared",
            "{} was compared: {third}",
            m.scenario
        );
        assert_eq!(m.run_ids, vec![third_runs[&m.scenario].clone()]);
        assert_eq!(
            m.passed,
            m.breaches.is_empty() && m.verdict != "regressed",
            "{m:?}"
        );
    }
    let compared: Vec<&str> = v.scenarios.iter().map(|c| c.scenario.as_str()).collect();
    assert_eq!(compared, SHIPPED);
    for c in &v.scenarios {
        // Each scenario against its own runs on main, never another scenario's.
        let baseline: BTreeSet<&String> = c.baseline.run_ids.iter().collect();
        let expected: BTreeSet<&String> = [&first_runs[&c.scenario], &second_runs[&c.scenario]]
            .into_iter()
            .collect();
        assert_eq!(baseline, expected, "{}'s baseline", c.scenario);
        assert_eq!(c.candidate.run_ids, vec![third_runs[&c.scenario].clone()]);
        assert!(
            cwd.join("r3")
                .join(&c.scenario)
                .join("comparison.json")
                .is_file(),
            "{}/comparison.json",
            c.scenario
        );
    }
    assert!(
        v.overall.holm_family > 0,
        "one Holm family over every scenario's steps"
    );

    check_report(&report, &SHIPPED);
    assert_eq!(
        read_suite(&report.join("suite.json")),
        v,
        "the report's suite.json is the run's verdict"
    );

    // The store: three suite runs, each whole, each with its three runs.
    let suites = listed(cwd, &store, &["--suites"]);
    assert_eq!(suites.len(), 3, "{suites:?}");
    for g in &suites {
        assert_eq!(g["runs"], 3, "{g}");
        assert_eq!(g["parts"], 1, "{g}");
        assert_eq!(g["part_states"][0]["state"], "done", "{g}");
    }
    let ids: BTreeSet<&str> = suites.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert!(ids.contains(v.id.as_str()) && ids.contains(first_v.id.as_str()));
    let line = suites_line(cwd, &store, &v.id);
    assert!(
        line.contains("1/1 done") && line.contains("scenarios"),
        "{line}"
    );

    let members = suite_members(cwd, &store, &v.id);
    let expected: BTreeMap<String, BTreeSet<String>> = third_runs
        .iter()
        .map(|(k, id)| (k.clone(), BTreeSet::from([id.clone()])))
        .collect();
    assert_eq!(
        members, expected,
        "runs list --suite lists the suite run's three runs"
    );
    let ran = cli(cwd, &["runs", "list", "--suite", &v.id, "--store", &store]);
    assert_eq!(ran.code, 0, "{ran}");
    assert_eq!(
        ran.stdout.lines().count(),
        1 + 3,
        "a header and three runs: {ran}"
    );

    // A plain listing marks every member with its suite run.
    let ran = cli(cwd, &["runs", "list", "--store", &store]);
    assert_eq!(ran.code, 0, "{ran}");
    let rows: Vec<&str> = ran.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 9, "{ran}");
    for row in rows {
        assert!(row.contains("(suite ") || row.contains(", suite "), "{row}");
    }
    let marked = ran
        .stdout
        .lines()
        .filter(|l| l.contains(&format!("suite {}", &v.id[..12])))
        .count();
    assert_eq!(marked, 3, "{ran}");
}

#[test]
fn a_breached_threshold_fails_the_suite_and_names_its_scenario() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let s = copy_scenarios(&cwd.join("s"));
    // No response takes under a microsecond: a breach whatever the timing.
    let pay = s.join("pay-invoice.toml");
    let text = std::fs::read_to_string(&pay).unwrap();
    assert!(!text.contains("[thresholds]"));
    std::fs::write(&pay, text + "\n[thresholds]\nworkflow.p50 = \"< 1us\"\n").unwrap();

    // A list of files is a suite too.
    let out = cwd.join("o");
    let mut cmd = rh(cwd);
    cmd.arg("run")
        .args(SHORT)
        .args(["--target", &target.url, "--no-store", "--out"])
        .arg(&out)
        .arg(s.join("browse-invoices.toml"))
        .arg(&pay);
    let ran = exec(cmd);
    assert_eq!(ran.code, 1, "{ran}");
    let v = read_suite(&out.join("suite.json"));
    assert_consistent(&ran, &v);
    assert_eq!(v.suite, "suite");
    assert_eq!(member_names(&v), ["browse-invoices", "pay-invoice"]);
    assert!(!v.overall.passed);
    assert_eq!(v.overall.breaches, ["pay-invoice: workflow.p50 < 1us"]);
    assert!(
        v.overall.regressed.is_empty(),
        "nothing compared: {:?}",
        v.overall
    );
    let pay_m = &v.members[1];
    assert!(!pay_m.passed);
    assert_eq!(pay_m.breaches, ["workflow.p50 < 1us"]);
    let browse = &v.members[0];
    assert!(browse.passed && browse.breaches.is_empty(), "{browse:?}");
    assert!(ran.all().contains("pay-invoice"), "{ran}");
    let run = results(&out.join("pay-invoice"));
    assert!(
        run.thresholds
            .iter()
            .any(|t| !t.passed && t.threshold.expression == "workflow.p50 < 1us"),
        "{:?}",
        run.thresholds
    );
}

#[test]
fn a_suite_file_sets_target_labels_thresholds_overrides_and_skips() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let s = copy_scenarios(&cwd.join("s"));
    // pay-invoice sets its own workflow p50, which the suite's default does not replace.
    let pay = s.join("pay-invoice.toml");
    let text = std::fs::read_to_string(&pay).unwrap();
    std::fs::write(&pay, text + "\n[thresholds]\nworkflow.p50 = \"<= 1m\"\n").unwrap();
    write(
        &s,
        "rehearse.toml",
        &format!(
            r#"[suite]
name = "nightly"
target = "{}"
labels = {{ env = "sandbox" }}

[thresholds]
workflow.p50 = "< 1us"

[scenarios.signup-add-card]
skip = true

[scenarios.browse-invoices]
duration = "1s"
users = 2

[scenarios.pay-invoice]
duration = "1s"
rate = "5/s"
"#,
            target.url
        ),
    );

    let ran = cli(
        cwd,
        &["validate", s.join("rehearse.toml").to_str().unwrap()],
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(
        ran.stdout
            .contains("ok: suite `nightly`: 2 scenarios, skipping signup-add-card"),
        "{ran}"
    );

    // The folder holding a suite file is that suite: no --target, no --duration.
    let out = cwd.join("o");
    let mut cmd = rh(cwd);
    cmd.args(["run", "-q", "--warmup", "0s", "--no-store", "--out"])
        .arg(&out)
        .arg(&s);
    let ran = exec(cmd);
    assert_eq!(ran.code, 1, "{ran}");
    let v = read_suite(&out.join("suite.json"));
    assert_consistent(&ran, &v);
    assert_eq!(v.suite, "nightly");
    assert_eq!(member_names(&v), ["browse-invoices", "pay-invoice"]);
    assert_eq!(v.skipped, ["signup-add-card"]);
    assert!(!out.join("signup-add-card").exists());
    assert_eq!(v.members[0].breaches, ["workflow.p50 < 1us"]);
    assert!(v.members[1].breaches.is_empty(), "{:?}", v.members[1]);
    assert_eq!(v.overall.breaches, ["browse-invoices: workflow.p50 < 1us"]);

    let browse = results(&out.join("browse-invoices"));
    let pay = results(&out.join("pay-invoice"));
    for run in [&browse, &pay] {
        assert_eq!(
            run.target.as_deref(),
            Some(target.url.as_str()),
            "{}",
            run.scenario
        );
        assert_eq!(run.labels.get("env").map(String::as_str), Some("sandbox"));
    }
    let load = |r: &rehearse::model::RunResult| serde_json::to_value(&r.load).unwrap();
    assert_eq!(load(&pay)["rate"], 5.0, "{}", load(&pay));
    assert_eq!(load(&pay)["duration_seconds"], 1.0, "{}", load(&pay));
    assert_eq!(
        load(&browse)["users"].as_f64(),
        Some(2.0),
        "{}",
        load(&browse)
    );
}

#[test]
fn split_parts_join_in_every_store_and_give_the_one_job_verdict() {
    let target = fast_sandbox();
    for store in stores() {
        let label = store.label;
        eprintln!("store: {label}");
        let store = store.url.clone();
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let t = tag();
        let (one, two, split) = (format!("one-{t}"), format!("two-{t}"), format!("split-{t}"));
        let all = [scenarios()];

        // One job, twice: the first is the baseline of the second.
        let a = run_suite(
            cwd,
            &store,
            &target.url,
            &cwd.join("a"),
            &["--suite-id", &one],
            &all,
        );
        assert_eq!(a.code, 0, "{label}: {a}");
        let a_runs = run_folders(&cwd.join("a"));
        let b = run_suite(
            cwd,
            &store,
            &target.url,
            &cwd.join("b"),
            &["--suite-id", &two, "--baseline", "branch:main"],
            &all,
        );
        let b_v = read_suite(&cwd.join("b/suite.json"));
        assert_consistent(&b, &b_v);
        assert_eq!(b_v.id, two);
        assert_eq!(member_names(&b_v), SHIPPED, "{label}");

        // The same runs named as suite:ID get the same verdict.
        let c = cli(
            cwd,
            &[
                "compare",
                "branch:main",
                &format!("suite:{two}"),
                "--store",
                &store,
                "--out",
                cwd.join("cb").to_str().unwrap(),
            ],
        );
        let c_v = read_suite(&cwd.join("cb/suite.json"));
        assert_consistent(&c, &c_v);
        assert_eq!(c.code, b.code, "{label}: {c}");
        assert_eq!(c_v.members, b_v.members, "{label}: same runs, same members");
        assert_eq!(
            verdict_strings(&c_v),
            verdict_strings(&b_v),
            "{label}: same runs, same verdict"
        );

        // Parts 1 and 2 of 3.
        for part in ["1/3", "2/3"] {
            let out = cwd.join(format!("p{}", &part[..1]));
            let ran = run_suite(
                cwd,
                &store,
                &target.url,
                &out,
                &["--shard", part, "--suite-id", &split],
                &all,
            );
            assert_eq!(ran.code, 0, "{label} part {part}: {ran}");
            assert!(
                ran.all().contains(&format!("part {} of 3", &part[..1])),
                "{ran}"
            );
            assert_eq!(
                run_folders(&out).len(),
                1,
                "{label}: three parts, one scenario each"
            );
        }
        let g = suite_listing(cwd, &store, &split);
        assert_eq!(g["parts"], Value::from(3), "{g}");
        assert_eq!(g["runs"], Value::from(2), "{g}");
        let line = suites_line(cwd, &store, &split);
        assert!(line.contains("2/3 done, never ran: 3"), "{label}: {line}");
        let ran_so_far = suite_members(cwd, &store, &split);
        let missing: Vec<&str> = SHIPPED
            .iter()
            .copied()
            .filter(|s| !ran_so_far.contains_key(*s))
            .collect();
        assert_eq!(missing.len(), 1, "{label}: {ran_so_far:?}");
        let missing = missing[0];

        // No verdict without every part, waiting or not: a part that never ran is named.
        let suite_spec = format!("suite:{split}");
        let why = format!("part 3 of 3 never ran ({missing})");
        refuses_verdict(cwd, &store, &suite_spec, &why, label);
        let ran = cli(
            cwd,
            &[
                "report",
                &suite_spec,
                "--store",
                &store,
                "--out",
                cwd.join("early").to_str().unwrap(),
            ],
        );
        assert_eq!(ran.code, 3, "{label}: {ran}");
        assert!(ran.stderr.contains("part 3 of 3"), "{ran}");

        // Part 3: now the suite run is whole.
        let ran = run_suite(
            cwd,
            &store,
            &target.url,
            &cwd.join("p3"),
            &["--shard", "3/3", "--suite-id", &split],
            &all,
        );
        assert_eq!(ran.code, 0, "{label} part 3: {ran}");
        assert!(suites_line(cwd, &store, &split).contains("3/3 done"));

        let d = cwd.join("d");
        let ran = cli(
            cwd,
            &[
                "compare",
                "branch:main",
                &suite_spec,
                "--store",
                &store,
                "--out",
                d.to_str().unwrap(),
            ],
        );
        let v = read_suite(&d.join("suite.json"));
        assert_consistent(&ran, &v);
        assert_eq!(v.id, split);
        assert_eq!(member_names(&v), SHIPPED, "{label}");
        let mut parts: Vec<u32> = Vec::new();
        for m in &v.members {
            let folder = run_folders(&cwd.join(format!("p{}", m.part)));
            assert_eq!(
                folder.get(&m.scenario),
                m.run_ids.first(),
                "{label}: {} was run by part {}",
                m.scenario,
                m.part
            );
            assert_eq!(m.run_ids.len(), 1);
            assert_ne!(m.verdict, "not compared", "{label}: {m:?}");
            parts.push(m.part);
        }
        parts.sort();
        assert_eq!(parts, [1, 2, 3], "{label}");
        for c in &v.scenarios {
            assert!(
                !c.baseline
                    .run_ids
                    .iter()
                    .any(|id| v.members.iter().any(|m| m.run_ids.contains(id))),
                "{label}: a suite run is never its own baseline"
            );
        }

        // suite:latest is this suite run; a suite run as the baseline gives each scenario
        // that suite run's runs of it.
        let ran = cli(
            cwd,
            &[
                "compare",
                "branch:main",
                "suite:latest",
                "--store",
                &store,
                "--json",
            ],
        );
        let latest: SuiteComparison =
            serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{label}: {e}: {ran}"));
        assert_eq!(latest.id, split, "{label}");
        assert_consistent(&ran, &latest);
        let e = cwd.join("e");
        let ran = cli(
            cwd,
            &[
                "compare",
                &format!("suite:{one}"),
                &suite_spec,
                "--store",
                &store,
                "--out",
                e.to_str().unwrap(),
            ],
        );
        let ev = read_suite(&e.join("suite.json"));
        assert_consistent(&ran, &ev);
        assert_eq!(ev.scenarios.len(), 3, "{label}: {ran}");
        for c in &ev.scenarios {
            assert_eq!(
                c.baseline.run_ids,
                vec![a_runs[&c.scenario].clone()],
                "{label}"
            );
        }

        // The suite's report from the store.
        let rep = cwd.join("rep");
        let ran = cli(
            cwd,
            &[
                "report",
                &suite_spec,
                "--baseline",
                "branch:main",
                "--store",
                &store,
                "--out",
                rep.to_str().unwrap(),
            ],
        );
        assert!(ran.code == 0 || ran.code == 1, "{label}: {ran}");
        check_report(&rep, &SHIPPED);
        let rv = read_suite(&rep.join("suite.json"));
        assert_consistent(&ran, &rv);
        assert_eq!(
            rv.members, v.members,
            "{label}: the report judges as compare does"
        );
        assert_eq!(verdict_strings(&rv), verdict_strings(&v), "{label}");
    }
}

#[test]
fn a_failed_part_makes_the_verdict_exit_3_naming_it() {
    let target = fast_sandbox();
    for store in stores() {
        let label = store.label;
        eprintln!("store: {label}");
        let store = store.url.clone();
        let dir = tempfile::tempdir().unwrap();
        let cwd = dir.path();
        let id = format!("failing-{}", tag());
        let two = [shipped("browse-invoices"), shipped("pay-invoice")];

        let ran = run_suite(
            cwd,
            &store,
            &target.url,
            &cwd.join("p1"),
            &["--shard", "1/2", "--suite-id", &id],
            &two,
        );
        assert_eq!(ran.code, 0, "{label}: {ran}");
        // Part 2's target never answers: the part fails, and says so.
        let ran = run_suite(
            cwd,
            &store,
            DEAD,
            &cwd.join("p2"),
            &["--shard", "2/2", "--suite-id", &id],
            &two,
        );
        assert_eq!(ran.code, 3, "{label}: {ran}");
        assert!(ran.stderr.contains("never answered"), "{label}: {ran}");
        let failed: Vec<String> = run_folders(&cwd.join("p2")).into_keys().collect();
        assert_eq!(failed.len(), 1, "{label}");
        let failed = &failed[0];

        let g = suite_listing(cwd, &store, &id);
        let states: Vec<(i64, String)> = g["part_states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["part"].as_i64().unwrap(),
                    p["state"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [(1, "done".to_string()), (2, "failed".to_string())],
            "{label}"
        );
        let line = suites_line(cwd, &store, &id);
        assert!(line.contains("1/2 done, part 2 failed"), "{label}: {line}");
        // The failed run stays in the suite run, marked.
        let members = suite_members(cwd, &store, &id);
        assert_eq!(members.len(), 2, "{label}: {members:?}");

        let spec = format!("suite:{id}");
        let why = format!("part 2 of 2 failed ({failed})");
        for ran in refuses_verdict(cwd, &store, &spec, &why, label) {
            assert!(!ran.stderr.contains("part 1 of 2"), "{label}: {ran}");
        }

        // A suite run that is not there is bad input.
        let ran = cli(
            cwd,
            &[
                "compare",
                "branch:main",
                "suite:no-such-suite-run",
                "--store",
                &store,
            ],
        );
        assert_eq!(ran.code, 2, "{label}: {ran}");
        assert!(
            ran.stderr.contains("no suite run `no-such-suite-run`"),
            "{label}: {ran}"
        );
    }
}

/// A CI matrix may have more jobs than the suite has scenarios: a part with nothing to run
/// still registers and finishes (a job skipped instead would leave the suite "never ran"), says
/// so, and the suite run is whole once every part is done.
#[test]
fn a_part_with_no_scenario_still_finishes_so_the_suite_run_is_whole() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);
    let id = format!("wide-{}", tag());
    let two = [shipped("browse-invoices"), shipped("pay-invoice")];
    let mut empty = Vec::new();
    for part in ["1/3", "2/3", "3/3"] {
        let out = cwd.join(part.replace('/', "-of-"));
        let ran = run_suite(
            cwd,
            &store,
            &target.url,
            &out,
            &["--shard", part, "--suite-id", &id],
            &two,
        );
        assert_eq!(ran.code, 0, "part {part}: {ran}");
        if ran.all().contains("runs none of them") {
            assert!(
                run_folders(&out).is_empty(),
                "part {part} ran something: {ran}"
            );
            empty.push(part);
        }
    }
    assert_eq!(
        empty.len(),
        1,
        "two scenarios over three parts: one part is empty"
    );
    let line = suites_line(cwd, &store, &id);
    assert!(line.contains("3/3 done"), "{line}");
    let ran = cli(
        cwd,
        &[
            "compare",
            "branch:main",
            &format!("suite:{id}"),
            "--store",
            &store,
        ],
    );
    assert_ne!(ran.code, 3, "{ran}");
    assert!(!ran.all().contains("never ran"), "{ran}");
}

#[test]
fn bad_input_exits_2_before_any_load_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    // Never created: nothing below gets as far as storing.
    let store_path = cwd.join("never/rehearse.db");
    let store = format!("sqlite://{}", store_path.display());
    let pay = shipped("pay-invoice");

    let s = copy_scenarios(&cwd.join("s"));
    let missing_file = write(
        &s,
        "missing.toml",
        "[suite]\nname = \"nightly\"\nscenarios = [\"pay-invoice.toml\", \"missing-scenario.toml\"]\n",
    );
    let typo = write(
        &s,
        "typo.toml",
        "[suite]\nname = \"nightly\"\n\n[scenarios.typo]\nskip = true\n",
    );
    let bad_duration = write(
        &s,
        "bad-duration.toml",
        "[suite]\nname = \"nightly\"\n\n[scenarios.pay-invoice]\nduration = 5\n",
    );
    let empty = cwd.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let dup = copy_scenarios(&cwd.join("dup"));
    std::fs::copy(dup.join("pay-invoice.toml"), dup.join("pay-again.toml")).unwrap();

    let folder = scenarios();
    let folder = folder.as_path();
    let pay = pay.as_path();
    let (missing_file, typo, bad_duration) = (
        missing_file.as_path(),
        typo.as_path(),
        bad_duration.as_path(),
    );
    let (empty, dup) = (empty.as_path(), dup.as_path());
    let cases: Vec<(Vec<&str>, &Path, Vec<&str>)> = vec![
        (
            vec!["--shard", "4/3", "--suite-id", "x"],
            folder,
            vec!["expected a part such as 2/3", "\"4/3\""],
        ),
        (
            vec!["--shard", "0/2", "--suite-id", "x"],
            folder,
            vec!["expected a part such as 2/3", "\"0/2\""],
        ),
        (
            vec!["--shard", "1/0", "--suite-id", "x"],
            folder,
            vec!["expected a part such as 2/3"],
        ),
        (
            vec!["--shard", "1/2", "--suite-id", "x", "--no-store"],
            folder,
            vec!["drop --no-store"],
        ),
        (
            vec![
                "--shard",
                "1/2",
                "--suite-id",
                "x",
                "--baseline",
                "branch:main",
            ],
            folder,
            vec![
                "once every part is done",
                "rehearse compare BASELINE suite:ID",
            ],
        ),
        (vec!["--shard", "2/2"], folder, vec!["give --suite-id"]),
        (vec!["--suite-id", "a b"], folder, vec!["is not an id"]),
        (
            vec!["--baseline", "01a2296a-f19e"],
            folder,
            vec!["compared scenario by scenario"],
        ),
        (
            vec!["--shard", "1/2", "--suite-id", "x"],
            pay,
            vec!["is one scenario"],
        ),
        (vec!["--suite-id", "x"], pay, vec!["is one scenario"]),
        (
            vec![],
            missing_file,
            vec![
                "missing.toml:3:34",
                "no scenario file `missing-scenario.toml` beside the suite file",
            ],
        ),
        (
            vec![],
            typo,
            vec![
                "typo.toml:4:12",
                "no scenario of the suite is called `typo`",
                "browse-invoices, pay-invoice, signup-add-card",
            ],
        ),
        (
            vec![],
            bad_duration,
            vec!["bad-duration.toml:5:12", "expected a duration"],
        ),
        (vec![], empty, vec!["holds no scenario files"]),
        (
            vec![],
            dup,
            vec!["two scenarios of the suite are called `pay-invoice`: names must be unique"],
        ),
    ];
    for (flags, what, phrases) in cases {
        let mut cmd = rh(cwd);
        cmd.arg("run")
            .args(SHORT)
            .args(["--target", DEAD, "--branch", "main", "--store", &store])
            .args(&flags)
            .arg(what);
        let ran = exec(cmd);
        assert_eq!(ran.code, 2, "{flags:?} {}: {ran}", what.display());
        for p in phrases {
            assert!(
                ran.stderr.contains(p),
                "{flags:?} {}: expected `{p}`: {ran}",
                what.display()
            );
        }
    }

    // compare's own bad input.
    for (args, phrase) in [
        (
            vec!["compare", "branch:main", "suite:x", "latest"],
            "compared on its own",
        ),
        (
            vec!["compare", "branch:main", "latest", "--wait", "1s"],
            "--wait waits for the parts",
        ),
    ] {
        let mut all = args.clone();
        all.extend(["--store", &store]);
        let ran = cli(cwd, &all);
        assert_eq!(ran.code, 2, "{args:?}: {ran}");
        assert!(ran.stderr.contains(phrase), "{args:?}: {ran}");
    }
    assert!(!store_path.exists(), "bad input created the store");
    assert!(!cwd.join("reports").exists(), "bad input wrote results");
}

#[test]
fn validate_reads_a_suite_as_run_would() {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let ran = cli(cwd, &["validate", scenarios().to_str().unwrap()]);
    assert_eq!(ran.code, 0, "{ran}");
    for s in SHIPPED {
        let ok = ran
            .stdout
            .lines()
            .filter(|l| l.starts_with("ok: ") && l.contains(&format!("({s}: ")))
            .count();
        assert_eq!(ok, 1, "{s}: {ran}");
    }
    assert!(
        ran.stdout.contains("ok: suite `scenarios`: 3 scenarios"),
        "{ran}"
    );

    let ran = cli(
        cwd,
        &[
            "validate",
            shipped("pay-invoice").to_str().unwrap(),
            shipped("browse-invoices").to_str().unwrap(),
        ],
    );
    assert_eq!(ran.code, 0, "{ran}");
    assert!(
        ran.stdout.contains("ok: suite `suite`: 2 scenarios"),
        "{ran}"
    );

    // A typo in a suite file: its place, whether the file or its folder is named.
    let s = copy_scenarios(&cwd.join("s"));
    write(
        &s,
        "rehearse.toml",
        "[suite]\nname = \"nightly\"\nscenarios = [\"pay-invoice.toml\"]\n\n[scenarios.pay-invoice]\nrate = \"5/s\"\nduraton = \"1s\"\n",
    );
    for what in [s.join("rehearse.toml"), s.clone()] {
        let ran = cli(cwd, &["validate", what.to_str().unwrap()]);
        assert_eq!(ran.code, 2, "{}: {ran}", what.display());
        assert!(ran.stderr.contains("rehearse.toml:7:1"), "{ran}");
        assert!(ran.stderr.contains("unknown field `duraton`"), "{ran}");
        assert!(
            ran.stderr.contains("the suite has errors in 1 file"),
            "{ran}"
        );
        assert!(!ran.stdout.contains("ok: suite"), "{ran}");
    }

    // A suite whose scenario has an error names that scenario's file.
    write(&s, "rehearse.toml", "[suite]\nname = \"nightly\"\n");
    let broken = std::fs::read_to_string(s.join("pay-invoice.toml"))
        .unwrap()
        .replace("rate = \"10/s\"", "rate = \"ten a second\"");
    std::fs::write(s.join("pay-invoice.toml"), broken).unwrap();
    let ran = cli(cwd, &["validate", s.to_str().unwrap()]);
    assert_eq!(ran.code, 2, "{ran}");
    assert!(ran.stderr.contains("pay-invoice.toml:"), "{ran}");
}

#[test]
fn a_retried_part_replaces_the_earlier_attempt_in_the_suite_run() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);
    let id = format!("retried-{}", tag());
    let two = [shipped("browse-invoices"), shipped("pay-invoice")];
    let part = |n: u32, attempt: &str, url: &str| {
        run_suite(
            cwd,
            &store,
            url,
            &cwd.join(attempt),
            &["--shard", &format!("{n}/2"), "--suite-id", &id],
            &two,
        )
    };

    // Part 1: a failed attempt, then two good ones.
    let ran = part(1, "try1", DEAD);
    assert_eq!(ran.code, 3, "{ran}");
    let ran = part(1, "try2", &target.url);
    assert_eq!(ran.code, 0, "{ran}");
    let ran = part(1, "try3", &target.url);
    assert_eq!(ran.code, 0, "{ran}");
    let tries: Vec<BTreeMap<String, String>> = ["try1", "try2", "try3"]
        .iter()
        .map(|t| run_folders(&cwd.join(t)))
        .collect();
    assert_eq!(tries[0].len(), 1);
    assert_eq!(
        tries[0].keys().collect::<Vec<_>>(),
        tries[2].keys().collect::<Vec<_>>()
    );
    let scenario = tries[2].keys().next().unwrap().clone();

    let members = suite_members(cwd, &store, &id);
    assert_eq!(
        members,
        BTreeMap::from([(
            scenario.clone(),
            BTreeSet::from([tries[2][&scenario].clone()])
        )]),
        "only the last attempt's runs are in the suite run"
    );
    // The earlier attempts' runs stay stored, outside the suite run.
    let everything = listed(cwd, &store, &["--all"]);
    assert_eq!(everything.len(), 3, "{everything:?}");
    for t in &tries[..2] {
        let r = everything
            .iter()
            .find(|r| r["id"] == t[&scenario].as_str())
            .expect("an earlier attempt is still stored");
        assert!(r["group"].is_null(), "{r}");
        // A retry of the same commit never becomes its own baseline.
        assert_eq!(r["kind"], "superseded", "{r}");
    }
    let g = suite_listing(cwd, &store, &id);
    assert_eq!(g["runs"], 1, "{g}");
    assert_eq!(g["part_states"][0]["state"], "done", "{g}");
    let line = suites_line(cwd, &store, &id);
    assert!(line.contains("1/2 done, never ran: 2"), "{line}");

    let ran = part(2, "part2", &target.url);
    assert_eq!(ran.code, 0, "{ran}");
    let d = cwd.join("d");
    let ran = cli(
        cwd,
        &[
            "compare",
            "branch:main",
            &format!("suite:{id}"),
            "--store",
            &store,
            "--out",
            d.to_str().unwrap(),
        ],
    );
    let v = read_suite(&d.join("suite.json"));
    assert_consistent(&ran, &v);
    let runs = member_runs(&v);
    assert_eq!(runs[&scenario], vec![tries[2][&scenario].clone()]);
    assert_eq!(runs.len(), 2);
}

#[test]
fn repeats_run_every_scenario_again_in_a_rotated_order() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);
    let out = cwd.join("o");
    let id = format!("repeated-{}", tag());
    let ran = run_suite(
        cwd,
        &store,
        &target.url,
        &out,
        &["--repeat", "2", "--suite-id", &id],
        &[shipped("browse-invoices"), shipped("pay-invoice")],
    );
    assert_eq!(ran.code, 0, "{ran}");
    let v = read_suite(&out.join("suite.json"));
    assert_consistent(&ran, &v);
    assert_eq!(member_names(&v), ["browse-invoices", "pay-invoice"]);
    let mut started = BTreeMap::new();
    for m in &v.members {
        let ids: Vec<String> = (1..=2)
            .map(|r| {
                let run = results(&out.join(&m.scenario).join(format!("run-{r}")));
                assert_eq!(run.scenario, m.scenario);
                started.insert((r, m.scenario.clone()), run.started_at.clone().unwrap());
                run.run_id
            })
            .collect();
        assert_ne!(ids[0], ids[1]);
        assert_eq!(m.run_ids, ids, "{}: both repeats, in order", m.scenario);
    }
    // Repeat 1 runs browse then pay; repeat 2 starts one scenario later.
    let at = |r: u32, s: &str| started[&(r, s.to_string())].clone();
    assert!(
        at(1, "browse-invoices") < at(1, "pay-invoice"),
        "{started:?}"
    );
    assert!(at(1, "pay-invoice") < at(2, "pay-invoice"), "{started:?}");
    assert!(
        at(2, "pay-invoice") < at(2, "browse-invoices"),
        "{started:?}"
    );

    let members = suite_members(cwd, &store, &id);
    for m in &v.members {
        let ids: BTreeSet<String> = m.run_ids.iter().cloned().collect();
        assert_eq!(members[&m.scenario], ids, "the store holds both repeats");
    }
    // Named later, the suite run has both repeats of each scenario.
    let ran = cli(
        cwd,
        &[
            "compare",
            "branch:main",
            &format!("suite:{id}"),
            "--store",
            &store,
            "--json",
        ],
    );
    let named: SuiteComparison =
        serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{e}: {ran}"));
    assert_consistent(&ran, &named);
    for (a, b) in named.members.iter().zip(&v.members) {
        let (x, y): (BTreeSet<_>, BTreeSet<_>) =
            (a.run_ids.iter().collect(), b.run_ids.iter().collect());
        assert_eq!(x, y, "{}", a.scenario);
    }
}

#[test]
fn compare_waits_for_a_part_still_running() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);
    let id = format!("waited-{}", tag());
    let s = copy_scenarios(&cwd.join("s"));
    // Weights fix the split (browse-invoices, the heavier, is part 1); pay-invoice runs a
    // while, so the verdict job finds it running.
    write(
        &s,
        "rehearse.toml",
        r#"[suite]
name = "waited"
scenarios = ["browse-invoices.toml", "pay-invoice.toml"]

[scenarios.browse-invoices]
weight = 2
duration = "1s"

[scenarios.pay-invoice]
weight = 1
duration = "8s"
rate = "5/s"
"#,
    );
    let part = |n: u32| -> Vec<String> {
        [
            "run",
            "-q",
            "--warmup",
            "0s",
            "--target",
            &target.url,
            "--branch",
            "main",
            "--store",
            &store,
            "--suite-id",
            &id,
            "--shard",
            &format!("{n}/2"),
            "--out",
            cwd.join(format!("p{n}")).to_str().unwrap(),
            s.to_str().unwrap(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    let mut cmd = rh(cwd);
    cmd.args(part(1));
    let ran = exec(cmd);
    assert_eq!(ran.code, 0, "{ran}");
    assert_eq!(
        run_folders(&cwd.join("p1")).into_keys().collect::<Vec<_>>(),
        ["browse-invoices"]
    );

    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rehearse"))
        .current_dir(cwd)
        .env("REHEARSE_STORE", scratch_store())
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("REHEARSE_ALLOWED_HOSTS")
        .args(part(2))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Until part 2 registers (or ends).
    let mut registered = false;
    for _ in 0..600 {
        let g = suite_listing(cwd, &store, &id);
        if g["part_states"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["part"] == 2)
        {
            registered = true;
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(registered, "part 2 never registered");
    let spec = format!("suite:{id}");
    let early = cli(cwd, &["compare", "branch:main", &spec, "--store", &store]);
    if child.try_wait().unwrap().is_none() {
        // Part 2 was running the whole time compare looked.
        assert_eq!(early.code, 3, "{early}");
        assert!(
            early
                .stderr
                .contains("part 2 of 2 has not finished (pay-invoice)"),
            "{early}"
        );
        assert!(early.stderr.contains("--wait"), "{early}");
    } else {
        eprintln!("part 2 ended before compare looked; its waiting is checked below only");
    }
    let out = cwd.join("d");
    let waited = cli(
        cwd,
        &[
            "compare",
            "branch:main",
            &spec,
            "--store",
            &store,
            "--wait",
            "4m",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "part 2: {status}");
    let v = read_suite(&out.join("suite.json"));
    assert_consistent(&waited, &v);
    assert_eq!(member_names(&v), ["browse-invoices", "pay-invoice"]);
    assert_eq!(v.members.iter().map(|m| m.part).collect::<Vec<_>>(), [1, 2]);
}

/// PRODUCT BUG (fails today): `suite:branch:NAME` and `suite:latest` as a suite's baseline
/// resolve to the newest suite run, which is the candidate itself when the candidate is the
/// newest suite run of that branch (always so for `rehearse run DIR --baseline
/// suite:branch:main` on main: its suite run is registered before its scenarios run). Its
/// runs are then excluded as candidates, every scenario is "not compared", the note claims
/// "the suite run ID has no runs of `…`", and the suite passes (exit 0) whatever happened.
/// The baseline should be the newest *other* suite run (here the first one).
#[test]
fn a_suite_baseline_named_by_branch_or_latest_is_never_the_candidate_itself() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let store = sqlite(cwd);
    let t = tag();
    let (first, second) = (format!("first-{t}"), format!("second-{t}"));
    let two = [shipped("browse-invoices"), shipped("pay-invoice")];

    let ran = run_suite(
        cwd,
        &store,
        &target.url,
        &cwd.join("a"),
        &["--suite-id", &first],
        &two,
    );
    assert_eq!(ran.code, 0, "{ran}");
    let first_runs = run_folders(&cwd.join("a"));

    let mut problems = Vec::new();
    let mut check = |what: &str, ran: &Ran, v: &SuiteComparison| {
        assert_consistent(ran, v);
        for m in &v.members {
            if m.verdict == "not compared" {
                problems.push(format!("{what}: {} not compared", m.scenario));
            }
        }
        for c in &v.scenarios {
            if c.baseline.run_ids != vec![first_runs[&c.scenario].clone()] {
                problems.push(format!(
                    "{what}: {} compared with {:?}, not the first suite run's",
                    c.scenario, c.baseline.run_ids
                ));
            }
        }
        for line in ran.stderr.lines().filter(|l| l.contains("has no runs of")) {
            problems.push(format!("{what}: says `{line}`"));
        }
    };

    // On main, compared with main's previous suite run.
    let ran = run_suite(
        cwd,
        &store,
        &target.url,
        &cwd.join("b"),
        &["--suite-id", &second, "--baseline", "suite:branch:main"],
        &two,
    );
    check(
        "run --baseline suite:branch:main",
        &ran,
        &read_suite(&cwd.join("b/suite.json")),
    );

    for baseline in ["suite:branch:main", "suite:latest"] {
        let out = cwd.join(baseline.replace(':', "-"));
        let ran = cli(
            cwd,
            &[
                "compare",
                baseline,
                &format!("suite:{second}"),
                "--store",
                &store,
                "--out",
                out.to_str().unwrap(),
            ],
        );
        check(
            &format!("compare {baseline} suite:{second}"),
            &ran,
            &read_suite(&out.join("suite.json")),
        );
    }
    assert!(
        problems.is_empty(),
        "the suite was compared with itself:\n{}",
        problems.join("\n")
    );
}
