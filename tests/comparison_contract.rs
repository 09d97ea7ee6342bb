//! comparison.json is a contract like results.json: what `compare` and `ab` write matches
//! `schema/comparison.schema.json` and loads back unchanged.

mod common;

use common::stores::synthetic_run;
use common::*;
use rehearse::model::Comparison;

fn schema_check(instance: &serde_json::Value) -> Result<(), String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/comparison.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("comparison.schema.json", schema)
        .unwrap();
    let index = compiler
        .compile("comparison.schema.json", &mut schemas)
        .unwrap();
    schemas
        .validate(instance, index)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn compare_writes_the_schema_and_it_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    for day in 1..=5 {
        let run = synthetic_run(
            "pay",
            Some("main"),
            &format!("2026-11-0{day}T10:00:00Z"),
            20_000 + day * 100,
            true,
        );
        let file = dir.path().join(format!("b{day}/results.json"));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        run.write(&file).unwrap();
        rehearse()
            .args(["runs", "import", "--store", &store])
            .arg(&file)
            .assert()
            .success();
    }
    let mut candidate = synthetic_run("pay", Some("feature"), "2026-11-09T10:00:00Z", 26_000, true);
    candidate.thresholds = rehearse::model::thresholds::evaluate(
        &[rehearse::scenario::default_error_rate()],
        &[&candidate],
    );
    let file = dir.path().join("c/results.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    candidate.write(&file).unwrap();
    let out = dir.path().join("cmp");
    let _ = rehearse()
        .args(["compare", "--store", &store, "--out"])
        .arg(&out)
        .arg("branch:main")
        .arg(&file)
        .assert();
    let text = std::fs::read_to_string(out.join("comparison.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    schema_check(&json).unwrap();
    let c: Comparison = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json,
        "loads back unchanged"
    );
    assert_eq!(c.baseline.run_ids.len(), 5);
    assert_eq!(c.thresholds.len(), 1);
    assert!(c.thresholds[0].threshold.default);
    assert!(c.steps.last().unwrap().id.is_workflow());
}

#[test]
fn an_a_b_comparison_matches_the_schema() {
    let rounds: Vec<_> = (0..3)
        .map(|i| {
            let run = |name: &str, p50: u64| {
                let at = format!("2026-11-0{}T10:00:00Z", i + 1);
                let mut r = synthetic_run("pay", Some(name), &at, p50, true);
                r.run_id = format!("{name}-{i}");
                r
            };
            (run("a", 20_000), run("b", 20_000 + i as u64 * 500))
        })
        .collect();
    let c = rehearse::compare::paired(
        &rounds,
        &Default::default(),
        0,
        &rehearse::stats::DaqParams::default(),
        &[],
        ("main", "branch"),
        false,
    );
    let json = serde_json::to_value(&c).unwrap();
    schema_check(&json).unwrap();
    assert_eq!(json["ab"]["rounds"], 3);
    assert!(
        json["ab"]["log_ratios"]["workflow"]["p50"].is_array(),
        "{json}"
    );
}

#[test]
fn the_schema_rejects_what_it_should() {
    let side = serde_json::json!({"spec": "x", "run_ids": [], "commits": [], "branches": []});
    let ok = serde_json::json!({
        "schema": 2, "scenario": "x", "baseline": side, "candidate": side, "steps": [],
        "settings": {"alpha": 0.005, "holm_family": 1, "min_effect": {}, "eq_margin": {}},
        "overall": {"verdict": "unchanged", "regressed": [], "improved": [], "inconclusive": 0,
                    "breaches": [], "passed": true, "summary": "ok"}
    });
    schema_check(&ok).unwrap();
    let mut wrong_version = ok.clone();
    wrong_version["schema"] = 1.into();
    let mut bad_verdict = ok.clone();
    bad_verdict["overall"]["verdict"] = "fine".into();
    let mut surprise = ok.clone();
    surprise["surprise"] = true.into();
    let mut string_noise = ok.clone();
    string_noise["steps"] = serde_json::json!([{"name": "a", "verdict": "unchanged", "alpha": 0.005,
        "metrics": [{"metric": "p50", "unit": "us", "baseline": 1, "candidate": 1, "change": 0,
                     "interval": [0, 0], "verdict": "unchanged", "p_worse": 0.5,
                     "noise": "history (3 runs)", "df": 4, "sigma": 0.05}]}]);
    for bad in [wrong_version, bad_verdict, surprise, string_noise] {
        assert!(schema_check(&bad).is_err(), "{bad}");
    }
}
