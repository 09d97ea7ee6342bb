//! Mix files: shares of the level, members' own levels, qualified thresholds, and errors that
//! point at the mix file's line and column.

use std::path::Path;

use super::*;

const MEMBER: &str = r#"
name = "NAME"
[target]
base_url = "http://127.0.0.1:9"
[load]
users = 3
duration = "1m"
[[steps]]
name = "home"
http = { path = "/" }
[thresholds]
"home".p99 = "1s"
"#;

/// Writes member scenarios `a.toml`, `b.toml` and `c.toml` and the mix file; returns its path.
fn files(dir: &Path, mix: &str) -> PathBuf {
    for n in ["a", "b", "c"] {
        std::fs::write(dir.join(format!("{n}.toml")), MEMBER.replace("NAME", n)).unwrap();
    }
    let path = dir.join("mix.toml");
    std::fs::write(&path, mix).unwrap();
    path
}

fn mix(text: &str) -> Result<Mix, ScenarioErrors> {
    let dir = tempfile::tempdir().unwrap();
    let path = files(dir.path(), text);
    let bytes = std::fs::read(&path).unwrap();
    let source = SourceFile::new(&path, String::from_utf8(bytes.clone()).unwrap());
    parse(&source, &bytes, &Overrides::default(), &|_| None)
}

fn rate(m: &MixMember) -> f64 {
    assert!(matches!(
        m.plan.load.model,
        crate::scenario::LoadModel::Open { .. }
    ));
    m.plan.load.profile.peak()
}

#[test]
fn weights_share_the_mix_rate_exactly_and_a_member_may_keep_its_own() {
    let m = mix(
        "[mix]\nname = \"shop\"\nrate = \"20/s\"\nduration = \"30s\"\nwarmup = \"5s\"\n[mix.scenarios]\n\"a.toml\" = 70\n\"b.toml\" = { weight = 20 }\n\"c.toml\" = { rate = \"3/s\" }\n",
    )
    .unwrap();
    assert_eq!(m.name, "shop");
    let by: Vec<(&str, f64)> = m
        .members
        .iter()
        .map(|x| (x.plan.name.as_str(), rate(x)))
        .collect();
    // The weighted members share 20/s as 70:20; `c` keeps its own 3/s.
    assert_eq!(
        by,
        [
            ("a", 20.0 * 70.0 / 90.0),
            ("b", 20.0 * 20.0 / 90.0),
            ("c", 3.0)
        ]
    );
    for x in &m.members {
        assert_eq!(x.plan.load.profile.duration(), Duration::from_secs(30));
        assert_eq!(x.plan.load.warmup, Duration::from_secs(5));
    }
    assert_eq!(
        m.describe(),
        "a 15.556/s (77.778%), b 4.444/s (22.222%), c 3/s"
    );
}

#[test]
fn users_are_shared_whole_with_at_least_one_each() {
    let m = mix(
        "[mix]\nusers = 10\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 8\n\"b.toml\" = 1\n\"c.toml\" = 1\n",
    )
    .unwrap();
    let users: Vec<f64> = m
        .members
        .iter()
        .map(|x| {
            assert!(matches!(
                x.plan.load.model,
                crate::scenario::LoadModel::Closed { .. }
            ));
            x.plan.load.profile.peak()
        })
        .collect();
    assert_eq!(users, [8.0, 1.0, 1.0]);
    assert_eq!(m.name, "mix", "the file's stem without a name");
}

#[test]
fn thresholds_name_qualified_steps_and_members_keep_theirs_qualified() {
    let m = mix(
        "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n\"b.toml\" = 1\n[thresholds]\n\"a/home\".p99 = \"200ms\"\n\"b/workflow\".error_rate = \"1%\"\np95 = \"2s\"\n",
    )
    .unwrap();
    let shown: Vec<(String, bool, String)> = m
        .thresholds
        .iter()
        .map(|t| (t.step.clone(), t.workflow, t.expression.clone()))
        .collect();
    for want in [
        ("a/home", false, "a/home.p99 <= 200ms"),
        ("b/workflow", false, "b/workflow.error_rate <= 1%"),
        ("workflow", true, "workflow.p95 <= 2s"),
        // Each member's own, qualified.
        ("a/home", false, "a/home.p99 <= 1s"),
    ] {
        assert!(
            shown
                .iter()
                .any(|(s, w, e)| s == want.0 && *w == want.1 && e == want.2),
            "{want:?} in {shown:?}"
        );
    }
    // The mix's own default error rate, for the whole mix; not each scenario's.
    assert!(m.thresholds.iter().any(|t| t.workflow && t.default));
    assert_eq!(m.thresholds.iter().filter(|t| t.default).count(), 1);
    let other =
        mix("[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n")
            .unwrap();
    assert_ne!(other.hash, m.hash);
}

#[test]
fn bad_mix_files_point_at_the_fault() {
    let cases = [
        (
            "[mix]\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 2\n",
            4,
            12,
            "no total `rate` or `users`",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"nope.toml\" = 2\n",
            5,
            1,
            "no scenario file `nope.toml`",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 0\n",
            5,
            12,
            "more than 0",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = \"lots\"\n",
            5,
            12,
            "cannot read the share",
        ),
        (
            "[mix]\nrate = \"10/s\"\nusers = 3\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n",
            3,
            9,
            "not both",
        ),
        (
            "[mix]\nrate = \"10/s\"\n[mix.scenarios]\n\"a.toml\" = 1\n",
            1,
            1,
            "needs a `duration`",
        ),
        (
            "[mix]\nrate = \"fast\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n",
            2,
            8,
            "rate",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = { rate = \"1/s\", users = 2 }\n",
            5,
            12,
            "cannot read the share",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n[thresholds]\n\"a/hom\".p99 = \"1s\"\n",
            7,
            1,
            "unknown step `a/hom`",
        ),
        (
            "[mix]\nrate = \"10/s\"\nduration = \"30s\"\nspeed = 2\n[mix.scenarios]\n\"a.toml\" = 1\n",
            4,
            1,
            "speed",
        ),
    ];
    for (text, line, column, words) in cases {
        let all = mix(text).expect_err(text).0;
        let d = all
            .iter()
            .find(|d| d.message.contains(words))
            .unwrap_or_else(|| panic!("{text}: no message contains {words:?}: {all:?}"));
        assert_eq!((d.line, d.column), (line, column), "{text}: {d}");
        assert!(d.file.ends_with("mix.toml"), "{}", d.file.display());
    }
}

#[test]
fn two_members_of_one_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = files(
        dir.path(),
        "[mix]\nrate = \"10/s\"\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = 1\n\"copy.toml\" = 1\n",
    );
    std::fs::write(dir.path().join("copy.toml"), MEMBER.replace("NAME", "a")).unwrap();
    let e = load(&path, &Overrides::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("two scenarios of the mix are called `a`"),
        "{e}"
    );
    assert!(is_mix_file(&path));
    assert!(!is_mix_file(&dir.path().join("a.toml")));
}

#[test]
fn the_command_lines_level_needs_a_weighted_scenario_to_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = files(
        dir.path(),
        "[mix]\nduration = \"30s\"\n[mix.scenarios]\n\"a.toml\" = { rate = \"1/s\" }\n",
    );
    let cli = Overrides {
        rate: Some(50.0),
        ..Overrides::default()
    };
    let e = load(&path, &cli).unwrap_err();
    assert!(
        e.to_string().contains("only weighted scenarios share"),
        "{e}"
    );
    // Without weights the scenarios' own levels stand.
    let m = load(&path, &Overrides::default()).unwrap();
    assert_eq!(rate(&m.members[0]), 1.0);
}
