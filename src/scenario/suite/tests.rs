//! Suites from folders, lists and suite files: order, defaults, overrides, errors, shards.

use super::*;

fn scenario(name: &str, extra: &str) -> String {
    format!(
        "name = \"{name}\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[load]\nrate = \"5/s\"\nduration = \"10s\"\n[[steps]]\nname = \"a\"\nhttp = {{ path = \"/\" }}\n{extra}"
    )
}

fn folder(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn suite(paths: &[PathBuf]) -> Suite {
    match load(paths, &Overrides::default()).unwrap() {
        Target::Suite(s) => s,
        Target::Scenario(p) => panic!("expected a suite, got {}", p.display()),
        Target::Mix(m) => panic!("expected a suite, got the mix {}", m.name),
    }
}

#[test]
fn a_folder_is_a_suite_in_file_name_order_and_one_file_is_one_scenario() {
    let dir = folder(&[
        ("b.toml", scenario("bee", "")),
        ("a.toml", scenario("ay", "")),
    ]);
    let s = suite(&[dir.path().to_path_buf()]);
    let names: Vec<&str> = s.members.iter().map(|m| m.plan.name.as_str()).collect();
    assert_eq!(names, ["ay", "bee"]);
    assert!(matches!(
        load(&[dir.path().join("a.toml")], &Overrides::default()).unwrap(),
        Target::Scenario(_)
    ));
    // Two files are a suite of two, in the order given.
    let s = suite(&[dir.path().join("b.toml"), dir.path().join("a.toml")]);
    assert_eq!(s.members[0].plan.name, "bee");
}

#[test]
fn a_suite_file_sets_defaults_under_each_scenario_s_own_and_overrides_by_name() {
    let dir = folder(&[
        ("a.toml", scenario("ay", "[thresholds]\np99 = \"2s\"\n")),
        ("b.toml", scenario("bee", "[compare]\nalpha = 0.01\n")),
        ("c.toml", scenario("sea", "")),
        (
            SUITE_FILE,
            "[suite]\nname = \"checkout\"\ntarget = \"http://127.0.0.1:9\"\nlabels = { env = \"ci\" }\n[thresholds]\np99 = \"900ms\"\nerror_rate = \"2%\"\n[compare]\nalpha = 0.002\nhistory = 7\n[scenarios.bee]\nduration = \"3s\"\nweight = 5.0\n[scenarios.sea]\nskip = true\n"
                .into(),
        ),
    ]);
    let s = suite(&[dir.path().to_path_buf()]);
    assert_eq!(s.name, "checkout");
    assert_eq!(s.skipped, ["sea"]);
    assert_eq!(s.labels["env"], "ci");
    let ay = &s.members[0].plan;
    assert_eq!(ay.target.base_url, "http://127.0.0.1:9");
    let p99: Vec<f64> = ay
        .thresholds
        .iter()
        .filter(|t| t.metric == crate::model::SummaryMetric::P99)
        .map(|t| t.limit)
        .collect();
    assert_eq!(p99, [2_000_000.0], "the scenario's own p99 wins");
    let errors: Vec<(f64, bool)> = ay
        .thresholds
        .iter()
        .filter(|t| t.metric == crate::model::SummaryMetric::ErrorRate)
        .map(|t| (t.limit, t.default))
        .collect();
    assert_eq!(
        errors,
        [(0.02, false)],
        "the suite's error rate replaces the default"
    );
    let bee = &s.members[1];
    assert_eq!(
        bee.plan.compare.alpha,
        Some(0.01),
        "the scenario's own alpha wins"
    );
    assert_eq!(bee.plan.compare.history, Some(7));
    assert_eq!(
        bee.plan.load.profile.duration(),
        std::time::Duration::from_secs(3)
    );
    assert_eq!(bee.weight, 5.0);
}

#[test]
fn problems_in_any_file_are_reported_together_and_overrides_must_name_a_scenario() {
    let dir = folder(&[
        ("a.toml", scenario("ay", "").replace("5/s", "fast")),
        ("b.toml", scenario("bee", "").replace("10s", "0s")),
    ]);
    let e = load(&[dir.path().to_path_buf()], &Overrides::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("a.toml:5:8") && text.contains("b.toml:6:12"),
        "{text}"
    );
    let dir = folder(&[
        ("a.toml", scenario("ay", "")),
        (SUITE_FILE, "[suite]\n[scenarios.ayy]\nskip = true\n".into()),
    ]);
    let e = load(&[dir.path().to_path_buf()], &Overrides::default()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("rehearse.toml:2:12: error: no scenario of the suite is called `ayy`"),
        "{text}"
    );
    // A suite's thresholds are every scenario's: a step's name means nothing there.
    let dir = folder(&[
        ("a.toml", scenario("ay", "")),
        (
            SUITE_FILE,
            "[suite]\n[thresholds]\n\"pay\".p99 = \"2s\"\n".into(),
        ),
    ]);
    let e = load(&[dir.path().to_path_buf()], &Overrides::default()).unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("rehearse.toml:3:1: error: thresholds name an unknown step `pay`")
            && text.contains("a step's threshold goes in its scenario file")
            && !text.contains("steps: ,"),
        "{text}"
    );
    let dir = folder(&[
        ("a.toml", scenario("same", "")),
        ("b.toml", scenario("same", "")),
    ]);
    let e = load(&[dir.path().to_path_buf()], &Overrides::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("two scenarios of the suite are called `same`"),
        "{e}"
    );
}

#[test]
fn shards_balance_weight_and_every_job_computes_the_same_split() {
    let dir = folder(&[
        ("a.toml", scenario("a", "").replace("10s", "60s")),
        ("b.toml", scenario("b", "").replace("10s", "50s")),
        ("c.toml", scenario("c", "").replace("10s", "30s")),
        ("d.toml", scenario("d", "").replace("10s", "20s")),
        ("e.toml", scenario("e", "")),
    ]);
    let s = suite(&[dir.path().to_path_buf()]);
    let split = shard(&s.members, 2);
    assert_eq!(split, [1, 2, 2, 1, 1], "60+20+10 against 50+30");
    assert_eq!(shard(&s.members, 2), split);
    assert_eq!(shard(&s.members, 1), [1; 5]);
    assert!(shard(&s.members, 9).iter().all(|s| (1..=9).contains(s)));
}
