//! Report formats on deterministic input (seeded runs, fixed ids and times): snapshots of
//! summary.md and junit.xml, junit.xml parses, hostile names are escaped everywhere, and the
//! report folder holds every file.

use rehearse::compare::{self, Baseline};
use rehearse::model::{self, Op, RunResult, StepResult, SummaryMetric, Threshold, ThresholdResult};
use rehearse::report::{self, ReportInput};
use rehearse::stats::DaqParams;
use rehearse::stats::simulate::{Generator, Regression};

const STEPS: [&str; 3] = ["login", "pay", "<script>alert(1)</script>"];

fn run(g: &mut Generator, id: &str, branch: &str, pay: Regression) -> RunResult {
    let step = |name: &str, h: &hdrhistogram::Histogram<u64>, errors: u64| StepResult {
        request: Some("GET /".into()),
        timeline_ok: vec![100; 5],
        timeline_errors: vec![0; 5],
        ..StepResult::from_histogram(name, h, 100.0).with_errors(errors)
    };
    let mut workflow = model::new_histogram();
    let steps: Vec<StepResult> = STEPS
        .iter()
        .map(|name| {
            let h = g
                .run(
                    5000,
                    1.0,
                    if *name == "pay" {
                        pay
                    } else {
                        Regression::None
                    },
                )
                .histogram();
            workflow.add(&h).unwrap();
            step(name, &h, if *name == "login" { 2 } else { 0 })
        })
        .collect();
    let mut r: RunResult = serde_json::from_value(
        serde_json::json!({"schema": 1, "scenario": "pay-invoice", "steps": []}),
    )
    .unwrap();
    r.run_id = id.into();
    r.target = Some("http://staging.example".into());
    r.started_at = Some("2026-11-29T10:00:00.000Z".into());
    r.ended_at = Some("2026-11-29T10:00:50.000Z".into());
    r.git = Some(model::Git {
        commit: Some(format!("{id}cafe0000")),
        branch: Some(branch.into()),
        dirty: Some(false),
    });
    r.workflow = Some(step("workflow", &workflow, 0));
    r.steps = steps;
    r
}

fn thresholds() -> Vec<Threshold> {
    vec![
        Threshold {
            step: "pay".into(),
            workflow: false,
            metric: SummaryMetric::P99,
            op: Op::Le,
            limit: 60_000.0,
            expression: "pay.p99 <= 60ms".into(),
            default: false,
        },
        Threshold {
            step: "workflow".into(),
            workflow: true,
            metric: SummaryMetric::ErrorRate,
            op: Op::Le,
            limit: 0.01,
            expression: "workflow.error_rate <= 1%".into(),
            default: false,
        },
    ]
}

fn comparison_input() -> ReportInput {
    let mut g = Generator::new(2026);
    let baseline: Vec<RunResult> = (0..10)
        .map(|i| run(&mut g, &format!("base{i:02}"), "main", Regression::None))
        .collect();
    let candidates: Vec<RunResult> = (0..3)
        .map(|i| {
            run(
                &mut g,
                &format!("cand{i}"),
                "feature",
                Regression::Uniform(0.5),
            )
        })
        .collect();
    let b = Baseline {
        spec: "branch:main".into(),
        runs: baseline.clone(),
        history: vec![],
    };
    let comparison = compare::compare(
        &b,
        &candidates,
        &DaqParams::default(),
        &thresholds(),
        "this run x3",
    );
    ReportInput {
        candidates,
        baseline,
        comparison: Some(comparison),
        link: Some("https://ci.example/artifacts/report/index.html".into()),
        ..Default::default()
    }
}

fn single_input() -> ReportInput {
    let mut g = Generator::new(7);
    let mut r = run(&mut g, "solo", "main", Regression::None);
    r.thresholds = rehearse::model::thresholds::evaluate(&thresholds(), &[&r]);
    ReportInput {
        candidates: vec![r],
        ..Default::default()
    }
}

#[test]
fn summary_md_for_a_comparison() {
    insta::assert_snapshot!(
        "summary_comparison",
        report::markdown(&comparison_input(), true)
    );
}

#[test]
fn summary_md_for_a_single_run() {
    insta::assert_snapshot!("summary_single", report::markdown(&single_input(), true));
}

#[test]
fn junit_xml_for_a_comparison() {
    insta::assert_snapshot!("junit_comparison", report::junit(&comparison_input()));
}

#[test]
fn junit_xml_for_a_single_run() {
    insta::assert_snapshot!("junit_single", report::junit(&single_input()));
}

#[test]
fn junit_xml_parses_and_carries_the_failures() {
    let xml = report::junit(&comparison_input());
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    let cases: Vec<roxmltree::Node> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    // Three steps and the workflow, then two thresholds.
    assert_eq!(cases.len(), 6);
    assert_eq!(suite.attribute("tests"), Some("6"));
    let failed: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert!(failed.contains(&"regression: pay"), "{failed:?}");
    assert!(failed.contains(&"threshold: pay.p99 <= 60ms"), "{failed:?}");
    assert_eq!(
        suite
            .attribute("failures")
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        failed.len()
    );
    let pay = cases
        .iter()
        .find(|c| c.attribute("name") == Some("regression: pay"))
        .unwrap();
    let failure = pay.children().find(|n| n.has_tag_name("failure")).unwrap();
    assert!(
        failure.attribute("message").unwrap().contains("p50 +"),
        "the failure carries the numbers"
    );
    assert!(
        cases
            .iter()
            .any(|c| c.attribute("name") == Some("regression: <script>alert(1)</script>")),
        "names survive as text"
    );
}

#[test]
fn hostile_names_are_text_in_every_format() {
    let input = comparison_input();
    let dir = tempfile::tempdir().unwrap();
    let files = report::write(&input, dir.path()).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "index.html",
            "summary.png",
            "summary.md",
            "junit.xml",
            "results-1.json",
            "results-2.json",
            "results-3.json",
            "comparison.json"
        ]
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(!html.contains("<script>alert"), "escaped in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    let lower = html.to_lowercase();
    for fetching in [
        "<script", "src=", "href=", "<link", "url(", "@import", "<img", "<iframe",
    ] {
        assert!(
            !lower.contains(fetching),
            "nothing to run or fetch: found {fetching}"
        );
    }
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        !md.contains("<script>") && md.contains("&lt;script&gt;"),
        "escaped in Markdown"
    );
    let png = std::fs::read(dir.path().join("summary.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    assert_eq!(decoder.read_info().unwrap().info().width, 1200);
}

#[test]
fn a_single_run_report_needs_no_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let input = single_input();
    let mut failing = input.clone();
    failing.candidates[0].thresholds = vec![ThresholdResult {
        threshold: thresholds()[0].clone(),
        value: Some(90_000.0),
        passed: false,
    }];
    report::write(&failing, dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    // `<` is written as an entity, which GitHub renders as `<`.
    assert!(
        md.starts_with("### ❌ pay-invoice: THRESHOLDS BREACHED: pay.p99 &lt;= 60ms"),
        "{md}"
    );
    assert!(!dir.path().join("comparison.json").exists());
    assert!(dir.path().join("results.json").exists());
}
