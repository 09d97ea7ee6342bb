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
    scenario_run(g, id, branch, &STEPS, Some(("pay", pay)))
}

/// A seeded run of `steps` (login fails twice), with one step changed by a regression.
fn scenario_run(
    g: &mut Generator,
    id: &str,
    branch: &str,
    steps: &[&str],
    regressed: Option<(&str, Regression)>,
) -> RunResult {
    let step = |name: &str, h: &hdrhistogram::Histogram<u64>, errors: u64| StepResult {
        request: Some("GET /".into()),
        timeline_ok: vec![100; 5],
        timeline_errors: vec![0; 5],
        ..StepResult::from_histogram(name, h, 100.0).with_errors(errors)
    };
    let mut workflow = model::new_histogram();
    let steps: Vec<StepResult> = steps
        .iter()
        .map(|name| {
            let h = g
                .run(
                    5000,
                    1.0,
                    match regressed {
                        Some((step, regression)) if step == *name => regression,
                        _ => Regression::None,
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

/// A comparison of `candidates` with `baseline` (no history, no thresholds).
fn compared(baseline: Vec<RunResult>, candidates: Vec<RunResult>) -> ReportInput {
    let comparison = compare::compare(
        &Baseline {
            spec: "branch:main".into(),
            runs: baseline.clone(),
            history: vec![],
        },
        &candidates,
        &DaqParams::default(),
        &[],
        "this run",
    );
    ReportInput {
        candidates,
        baseline,
        comparison: Some(comparison),
        ..Default::default()
    }
}

const FOUR: [&str; 4] = ["login", "search", "pay", "receipt"];

/// A single run of four steps, with a breached threshold.
fn single_case() -> ReportInput {
    let mut g = Generator::new(11);
    let mut r = scenario_run(&mut g, "solo", "main", &FOUR, None);
    r.thresholds = rehearse::model::thresholds::evaluate(&thresholds(), &[&r]);
    ReportInput {
        candidates: vec![r],
        ..Default::default()
    }
}

/// Four steps, `pay` 30% slower everywhere: the headline names its mean.
fn comparison_case() -> ReportInput {
    // This seed's headline names the mean, which the chart must show too.
    let mut g = Generator::new(2038);
    let pay = Some(("pay", Regression::Uniform(0.3)));
    let baseline = (0..8)
        .map(|i| scenario_run(&mut g, &format!("base{i:02}"), "main", &FOUR, None))
        .collect();
    let candidates = (0..2)
        .map(|i| scenario_run(&mut g, &format!("cand{i}"), "feature", &FOUR, pay))
        .collect();
    compared(baseline, candidates)
}

/// A suite-sized comparison: 24 steps, long names sharing long prefixes, one regressed.
fn suite_case() -> ReportInput {
    let mut g = Generator::new(12);
    let names: Vec<String> = (0..24)
        .map(|i| match i % 3 {
            0 => format!("catalogue/search-products-by-category-{i:02}"),
            1 => format!("checkout: apply a discount code and recompute the basket {i:02}"),
            _ => format!("s{i:02}"),
        })
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let slow = Some((names[7], Regression::Uniform(0.4)));
    let baseline = (0..5)
        .map(|i| scenario_run(&mut g, &format!("base{i:02}"), "main", &names, None))
        .collect();
    let candidates = (0..2)
        .map(|i| scenario_run(&mut g, &format!("cand{i}"), "feature", &names, slow))
        .collect();
    compared(baseline, candidates)
}

/// An A/B session of six rounds between two deployments, `blue` and `green`.
fn ab_case() -> ReportInput {
    let mut g = Generator::new(13);
    let pay = Some(("pay", Regression::Uniform(0.25)));
    let rounds: Vec<(RunResult, RunResult)> = (1..=6)
        .map(|round| {
            let mut a = scenario_run(&mut g, &format!("r{round}-blue"), "blue", &FOUR, None);
            let mut b = scenario_run(&mut g, &format!("r{round}-green"), "green", &FOUR, pay);
            a.target = Some("http://blue.staging.example".into());
            b.target = Some("http://green.staging.example".into());
            (a, b)
        })
        .collect();
    let comparison = compare::paired(
        &rounds,
        &Default::default(),
        0,
        &DaqParams::default(),
        &[],
        ("blue", "green"),
        false,
    );
    let (baseline, candidates) = rounds.into_iter().unzip();
    ReportInput {
        candidates,
        baseline,
        comparison: Some(comparison),
        ..Default::default()
    }
}

/// One run against one run with the priors: nothing regressed, nearly nothing settled.
fn inconclusive_case() -> ReportInput {
    let mut g = Generator::new(14);
    compared(
        vec![scenario_run(&mut g, "base", "main", &FOUR, None)],
        vec![scenario_run(&mut g, "cand", "feature", &FOUR, None)],
    )
}

/// The report cases people look at when the layout changes.
fn cases() -> Vec<(&'static str, ReportInput)> {
    vec![
        ("single", single_case()),
        ("comparison", comparison_case()),
        ("suite", suite_case()),
        ("ab", ab_case()),
        ("inconclusive", inconclusive_case()),
    ]
}

/// Writes every case's report folder under `$REHEARSE_REPORT_CASES` (default
/// /tmp/report-cases/<case>/) to be looked at: `cargo test --test report -- --ignored`.
#[test]
#[ignore = "writes report folders for people to look at"]
fn write_the_report_cases() {
    let root = std::env::var_os("REHEARSE_REPORT_CASES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/tmp/report-cases".into());
    for (name, input) in cases() {
        let dir = root.join(name);
        report::write(&input, &dir).unwrap();
        let headline = report::markdown(&input, true);
        eprintln!(
            "{}: {}",
            dir.display(),
            headline.lines().next().unwrap_or("")
        );
    }
}

/// The PNG's pixels: (width, height, RGB bytes).
fn pixels(png: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

/// Guards against the p99 column and long row labels running to the image's edge.
#[test]
fn summary_png_keeps_a_margin_in_every_case() {
    // Below the banner, nothing is drawn within 12 pixels of the left, right or bottom edge.
    const CLEAR: usize = 12;
    const BANNER: usize = 84;
    for (name, input) in cases() {
        let dir = tempfile::tempdir().unwrap();
        report::write(&input, dir.path()).unwrap();
        let (w, h, rgb) = pixels(&std::fs::read(dir.path().join("summary.png")).unwrap());
        let white = |x: usize, y: usize| rgb[(y * w + x) * 3..][..3] == [255, 255, 255];
        for y in BANNER..h {
            for x in (0..CLEAR).chain(w - CLEAR..w) {
                assert!(white(x, y), "{name}: ink at ({x}, {y}), by the side edges");
            }
        }
        for y in h - CLEAR..h {
            for x in 0..w {
                assert!(white(x, y), "{name}: ink at ({x}, {y}), by the bottom edge");
            }
        }
    }
}

#[test]
fn a_single_run_is_called_this_run_and_no_baseline_is_named() {
    let dir = tempfile::tempdir().unwrap();
    report::write(&single_case(), dir.path()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("colours:<span style=\"background:#e69f00\"></span>this run</div>"),
        "the legend names the run"
    );
    for absent in ["baseline", "candidate"] {
        assert!(!html.contains(absent), "a single run's page says {absent}");
    }
}

#[test]
fn an_ab_page_names_both_sides_and_their_targets() {
    let dir = tempfile::tempdir().unwrap();
    report::write(&ab_case(), dir.path()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    let header = &html[html.find("<table class=\"meta\">").unwrap()..];
    let header = &header[..header.find("</table>").unwrap()];
    let row = |side: &str| {
        header
            .lines()
            .find(|l| l.contains(&format!("<tr><th>{side}</th>")))
            .unwrap_or_else(|| panic!("no {side} row in {header}"))
            .to_string()
    };
    assert!(row("candidate").contains("<b>green</b>"));
    assert!(row("candidate").contains("target http://green.staging.example"));
    assert!(row("baseline").contains("<b>blue</b>"));
    assert!(row("baseline").contains("target http://blue.staging.example"));
    assert!(
        !header.contains("<tr><th>target</th>"),
        "no single target row when the sides differ"
    );
}

#[test]
fn an_all_inconclusive_comparison_is_not_a_pass_in_any_format() {
    let input = inconclusive_case();
    let c = input.comparison.as_ref().unwrap();
    assert!(c.overall.passed && c.overall.regressed.is_empty() && c.overall.inconclusive > 0);
    let dir = tempfile::tempdir().unwrap();
    report::write(&input, dir.path()).unwrap();
    let md = std::fs::read_to_string(dir.path().join("summary.md")).unwrap();
    assert!(
        md.starts_with("### ⚠️ pay-invoice: no regression detected, but inconclusive: "),
        "{md}"
    );
    let html = std::fs::read_to_string(dir.path().join("index.html")).unwrap();
    assert!(
        html.contains("<div class=\"banner\" style=\"background:#f0e442;color:#333333\">&#9888; no regression detected, but inconclusive: "),
        "a yellow banner with its own words"
    );
}
