//! suite.json is a contract like comparison.json: what `rehearse run FOLDER --out DIR` and
//! `rehearse compare BASELINE suite:ID --out DIR` write matches `schema/suite.schema.json`
//! and loads back unchanged, with a baseline (every scenario compared, a threshold breached)
//! and without one (`not compared`).

mod common;

use std::path::Path;

use common::*;
use rehearse::model::{Comparison, SuiteComparison};

fn schema(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn check(file: &str, instance: &serde_json::Value) -> Result<(), String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource(file, schema(file)).unwrap();
    let index = compiler.compile(file, &mut schemas).unwrap();
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

fn schema_check(instance: &serde_json::Value) -> Result<(), String> {
    check("suite.schema.json", instance)
}

/// Reads DIR/suite.json: it matches the schema and loads back unchanged.
fn suite_json(dir: &Path) -> SuiteComparison {
    let text = std::fs::read_to_string(dir.join("suite.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    schema_check(&json).unwrap_or_else(|e| panic!("{}: {e}\n{text}", dir.display()));
    let v: SuiteComparison = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json,
        "loads back unchanged"
    );
    assert_eq!(v.schema, rehearse::model::SUITE_SCHEMA);
    // Each compared scenario's comparison.json beside it is the suite's entry, and a
    // comparison.json by its own schema.
    for c in &v.scenarios {
        let text = std::fs::read_to_string(dir.join(&c.scenario).join("comparison.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        check("comparison.schema.json", &json).unwrap();
        let own: Comparison = serde_json::from_value(json).unwrap();
        assert_eq!(&own, c);
    }
    v
}

/// A suite folder of two shipped scenarios (the customers they log in as beside them).
fn suite_folder(root: &Path) -> std::path::PathBuf {
    let dir = root.join("suite");
    for f in [
        "pay-invoice.toml",
        "browse-invoices.toml",
        "data/customers.csv",
    ] {
        let dest = dir.join(f);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(scenarios().join(f), dest).unwrap();
    }
    dir
}

const LOAD: [&str; 7] = [
    "--duration",
    "1s",
    "--warmup",
    "0s",
    "--rate",
    "20/s",
    "--quiet",
];

#[test]
fn suite_runs_and_compares_write_the_schema_and_it_loads_back() {
    let target = fast_sandbox();
    let work = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", work.path().join("s.db").display());
    let suite = suite_folder(work.path());
    let run = |args: &[&str], out: &Path| {
        let mut cmd = rehearse();
        cmd.arg("run")
            .arg(&suite)
            .args(["--target", &target.url, "--store", &store])
            .args(LOAD)
            .args(args)
            .arg("--out")
            .arg(out);
        cmd.assert()
    };

    // Without a baseline: every scenario ran, none compared; thresholds still checked.
    let main = work.path().join("main");
    run(&["--branch", "main"], &main).code(0);
    let v = suite_json(&main);
    assert_eq!(v.suite, "suite");
    assert_eq!(v.baseline, None);
    assert!(v.scenarios.is_empty());
    let names: Vec<&str> = v.members.iter().map(|m| m.scenario.as_str()).collect();
    assert_eq!(names, ["browse-invoices", "pay-invoice"], "suite order");
    for m in &v.members {
        assert_eq!(m.verdict, "not compared", "{m:?}");
        assert_eq!((m.part, m.run_ids.len()), (1, 1), "{m:?}");
        assert!(
            m.passed && m.breaches.is_empty() && m.worst.is_none(),
            "{m:?}"
        );
    }
    assert!(v.overall.passed, "{:?}", v.overall);
    assert_eq!(v.overall.holm_family, 0);

    // A threshold the pay step cannot meet, added on the feature branch.
    let pay = suite.join("pay-invoice.toml");
    let text = std::fs::read_to_string(&pay).unwrap() + "\n[thresholds]\n\"pay\".p99 = \"1ms\"\n";
    std::fs::write(&pay, text).unwrap();

    // With a baseline: each scenario compared with its own history of main, one Holm family
    // over every step of every scenario, the breach named; exit 1 whatever the latencies did.
    let feature = work.path().join("feature");
    run(
        &[
            "--branch",
            "feature",
            "--baseline",
            "branch:main",
            "--repeat",
            "2",
        ],
        &feature,
    )
    .code(1);
    let v = suite_json(&feature);
    assert_eq!(v.baseline.as_deref(), Some("branch:main"));
    let compared: Vec<&str> = v.scenarios.iter().map(|c| c.scenario.as_str()).collect();
    assert_eq!(compared, ["browse-invoices", "pay-invoice"]);
    for c in &v.scenarios {
        assert_eq!(
            c.baseline.run_ids.len(),
            1,
            "main's one run of {}",
            c.scenario
        );
        assert_eq!(
            c.candidate.run_ids.len(),
            2,
            "both repeats of {}",
            c.scenario
        );
    }
    let family: usize = v.scenarios.iter().map(|c| c.steps.len()).sum();
    assert_eq!(v.overall.holm_family, family, "one family across the suite");
    for m in &v.members {
        assert_ne!(m.verdict, "not compared", "{m:?}");
        assert!(m.worst.is_some(), "{m:?}");
        assert_eq!(m.run_ids.len(), 2);
    }
    let pay = v
        .members
        .iter()
        .find(|m| m.scenario == "pay-invoice")
        .unwrap();
    assert!(!pay.passed, "{pay:?}");
    assert!(
        pay.breaches.iter().any(|b| b.contains("pay.p99")),
        "{pay:?}"
    );
    assert!(
        v.overall
            .breaches
            .iter()
            .any(|b| b.starts_with("pay-invoice: ") && b.contains("pay.p99")),
        "{:?}",
        v.overall
    );
    assert!(!v.overall.passed);

    // Split across two jobs, judged by `compare … suite:ID`: the same contract, each scenario
    // with the part that ran it. Each part's own suite.json (its runs, not compared) too.
    for part in ["1/2", "2/2"] {
        let dir = work.path().join(format!("part-{}", &part[..1]));
        // A part checks its thresholds: the pay step's breach fails whichever part runs it.
        let out = run(
            &[
                "--branch",
                "feature",
                "--shard",
                part,
                "--suite-id",
                "contract-1",
            ],
            &dir,
        );
        let code = out.get_output().status.code();
        assert!(
            matches!(code, Some(0 | 1)),
            "{part}: {:?}",
            out.get_output()
        );
        let v = suite_json(&dir);
        assert_eq!(v.id, "contract-1");
        assert_eq!(v.members.len(), 1, "one scenario per part: {v:?}");
        assert_eq!(v.members[0].part, part[..1].parse::<u32>().unwrap());
        assert_eq!(v.members[0].verdict, "not compared");
    }
    let verdict = work.path().join("verdict");
    rehearse()
        .args([
            "compare",
            "--store",
            &store,
            "branch:main",
            "suite:contract-1",
            "--out",
        ])
        .arg(&verdict)
        .assert()
        .code(1);
    let v = suite_json(&verdict);
    assert_eq!(v.id, "contract-1");
    assert_eq!(v.baseline.as_deref(), Some("branch:main"));
    assert_eq!(v.scenarios.len(), 2);
    let mut parts: Vec<u32> = v.members.iter().map(|m| m.part).collect();
    parts.sort();
    assert_eq!(parts, [1, 2]);
    assert!(
        v.overall
            .breaches
            .iter()
            .any(|b| b.starts_with("pay-invoice: ")),
        "{:?}",
        v.overall
    );
}

/// A minimal valid suite.json: one scenario, not compared.
fn minimal() -> serde_json::Value {
    serde_json::json!({
        "schema": 1, "suite": "checkout", "id": "gh-1-1", "scenarios": [],
        "members": [{"scenario": "pay", "run_ids": ["r1"], "part": 1, "breaches": [],
                     "verdict": "not compared", "passed": true}],
        "overall": {"passed": true, "regressed": [], "breaches": [], "inconclusive": 0,
                    "holm_family": 0, "summary": "1 scenarios ran; every threshold held"}
    })
}

#[test]
fn the_schema_rejects_what_it_should() {
    let ok = minimal();
    schema_check(&ok).unwrap();
    let v: SuiteComparison = serde_json::from_value(ok.clone()).unwrap();
    assert_eq!(serde_json::to_value(&v).unwrap(), ok);

    // A compared one: the embedded comparison is checked by comparison.json's schema.
    let side = serde_json::json!({"spec": "x", "run_ids": [], "commits": [], "branches": []});
    let comparison = serde_json::json!({
        "schema": 2, "scenario": "pay", "baseline": side, "candidate": side, "steps": [],
        "settings": {"alpha": 0.005, "holm_family": 1, "min_effect": {}, "eq_margin": {}},
        "overall": {"verdict": "unchanged", "regressed": [], "improved": [], "inconclusive": 0,
                    "breaches": [], "passed": true, "summary": "ok"}
    });
    let mut compared = ok.clone();
    compared["baseline"] = "branch:main".into();
    compared["scenarios"] = serde_json::json!([comparison]);
    compared["members"][0]["verdict"] = "unchanged".into();
    schema_check(&compared).unwrap();

    let mut no_overall = ok.clone();
    no_overall.as_object_mut().unwrap().remove("overall");
    assert!(serde_json::from_value::<SuiteComparison>(no_overall.clone()).is_err());
    let mut wrong_version = ok.clone();
    wrong_version["schema"] = 2.into();
    let mut bad_verdict = ok.clone();
    bad_verdict["members"][0]["verdict"] = "fine".into();
    let mut part_zero = ok.clone();
    part_zero["members"][0]["part"] = 0.into();
    let mut surprise = ok.clone();
    surprise["surprise"] = true.into();
    let mut member_surprise = ok.clone();
    member_surprise["members"][0]["surprise"] = true.into();
    let mut compared_without_baseline = compared.clone();
    compared_without_baseline
        .as_object_mut()
        .unwrap()
        .remove("baseline");
    let mut bad_comparison = compared.clone();
    bad_comparison["scenarios"][0]["overall"]["verdict"] = "fine".into();
    let mut no_summary = ok.clone();
    no_summary["overall"]
        .as_object_mut()
        .unwrap()
        .remove("summary");
    for (what, bad) in [
        ("no overall", no_overall),
        ("schema 2", wrong_version),
        ("member verdict", bad_verdict),
        ("part 0", part_zero),
        ("unknown field", surprise),
        ("unknown member field", member_surprise),
        ("comparisons without a baseline", compared_without_baseline),
        ("a bad comparison", bad_comparison),
        ("no summary", no_summary),
    ] {
        assert!(schema_check(&bad).is_err(), "{what}: {bad}");
    }
}

/// The comparison schema bundled in the suite schema (so it refers to nothing outside
/// itself) is schema/comparison.schema.json, unchanged.
#[test]
fn the_bundled_comparison_schema_is_the_current_one() {
    assert_eq!(
        schema("suite.schema.json")["$defs"]["comparison"],
        schema("comparison.schema.json"),
        "copy schema/comparison.schema.json into $defs.comparison of schema/suite.schema.json"
    );
}
