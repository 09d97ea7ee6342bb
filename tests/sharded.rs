//! Sharded runs end to end (issue 13): shard processes of the real binary against the
//! sandbox, meeting in a real store (SQLite, and PostgreSQL: required when CI=true). These
//! check plumbing and what is exact by construction (arrival counts, rows, histograms adding
//! up), never a verdict that timing noise could flip.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::servers::RawServer;
use common::stores::{TestStore, stores};
use common::{rehearse, results, sandbox, write};
use rehearse::model::RunResult;
use rehearse::sandbox::{SandboxConfig, Stall};

/// A one-step scenario against `url`: `GET /health`, with `load` lines.
fn health(dir: &Path, url: &str, load: &str) -> PathBuf {
    write(
        dir,
        "health.toml",
        &format!(
            "name = \"health\"\n[target]\nbase_url = \"{url}\"\n[load]\n{load}\n[[steps]]\nname = \"health\"\nhttp = {{ path = \"/health\" }}\n"
        ),
    )
}

/// The sandbox with no artificial latency.
fn instant_sandbox() -> common::Target {
    sandbox(SandboxConfig {
        latency_scale: 0.0,
        ..SandboxConfig::default()
    })
}

/// A shard process of `rehearse run`, started in the background.
fn shard(scenario: &Path, store: &str, group: &str, index: u32, count: u32, out: &Path) -> Child {
    shard_with(scenario, store, group, (index, count), out, &[])
}

/// [`shard`] with extra flags.
fn shard_with(
    scenario: &Path,
    store: &str,
    group: &str,
    (index, count): (u32, u32),
    out: &Path,
    extra: &[&str],
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rehearse"))
        .args(["run", "-q", "--store", store, "--group", group])
        .args(["--shards", &count.to_string()])
        .args(["--shard-index", &index.to_string()])
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg(scenario)
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("REHEARSE_GROUP")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs every shard of a group at once and waits for all of them.
fn shards(scenario: &Path, store: &str, group: &str, count: u32, dir: &Path) -> Vec<Output> {
    let children: Vec<Child> = (0..count)
        .map(|i| {
            shard(
                scenario,
                store,
                group,
                i,
                count,
                &dir.join(format!("shard-{i}")),
            )
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `rehearse merge GROUP --out DIR` with extra arguments; returns its output and the merged run.
fn merge(store: &str, group: &str, out: &Path, extra: &[&str]) -> (Output, RunResult) {
    let o = rehearse()
        .args(["merge", group, "--store", store, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let run = results(out);
    (o, run)
}

/// PostgreSQL when reachable (the shared team store shards meet in), else SQLite.
fn team_store() -> TestStore {
    let mut all = stores();
    all.pop().unwrap()
}

fn within(a: f64, b: f64, share: f64) -> bool {
    (a - b).abs() <= share * b.max(1.0)
}

#[test]
fn three_shards_make_the_run_one_process_makes() {
    let target = instant_sandbox();
    let load = "rate = \"300/s\"\nduration = \"3s\"\nwarmup = \"0s\"\nmax_in_flight = 1000";
    for store in stores() {
        let dir = tempfile::tempdir().unwrap();
        let scenario = health(dir.path(), &target.url, load);
        let group = format!("three-{}", store.label);
        let outputs = shards(&scenario, &store.url, &group, 3, dir.path());
        // Every shard's words on a failure: the one that failed first is rarely the one asserted.
        let all: Vec<String> = outputs
            .iter()
            .enumerate()
            .map(|(i, o)| format!("shard {i} ({:?}): {}", o.status.code(), text(o)))
            .collect();
        assert!(
            outputs.iter().all(|o| o.status.success()),
            "{}:\n{}",
            store.label,
            all.join("\n")
        );
        let (o, merged) = merge(&store.url, &group, &dir.path().join("merged"), &[]);
        assert!(o.status.success(), "{}: {}", store.label, text(&o));

        let single_dir = dir.path().join("single");
        rehearse()
            .args(["run", "-q", "--store", &store.url, "--out"])
            .arg(&single_dir)
            .arg(&scenario)
            .assert()
            .success();
        let single = results(&single_dir);

        assert!(merged.complete, "{}: {:?}", store.label, merged.stop_reason);
        assert_eq!(merged.run_id, group);
        assert_eq!(merged.shards.len(), 3);
        let names = |r: &RunResult| r.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&merged), names(&single));
        // The shards' arrivals together are the scenario's: the same count as one process.
        let (m, s) = (
            merged.iterations.as_ref().unwrap().started as f64,
            single.iterations.as_ref().unwrap().started as f64,
        );
        assert!(within(m, s, 0.01), "{}: {m} vs {s}", store.label);
        assert_eq!(single.iterations.as_ref().unwrap().started, 900);
        // Per second, the merged series is the single process's.
        let per_second = |r: &RunResult| r.intervals.as_ref().unwrap().started.clone();
        let (ms, ss) = (per_second(&merged), per_second(&single));
        for (k, (a, b)) in ms.iter().zip(&ss).enumerate().take(3) {
            assert!(
                within(*a as f64, *b as f64, 0.02),
                "{}: second {k}: {ms:?} vs {ss:?}",
                store.label
            );
        }
        // Shards and the merged run are results.json like any run's.
        for path in [
            dir.path().join("shard-0/results.json"),
            dir.path().join("merged/results.json"),
        ] {
            let doc: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            common::schema_check(&doc).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
        // Every shard's requests are in the merged histogram, exactly.
        let each: u64 = (0..3)
            .map(|i| results(&dir.path().join(format!("shard-{i}"))).steps[0].count)
            .sum();
        assert_eq!(merged.steps[0].count, each);
        let hist = rehearse::model::decode(&merged.steps[0].histogram).unwrap();
        assert_eq!(hist.len(), each);
        // Shards are never baselines; the merged run is listed as any run.
        let list = rehearse()
            .args(["runs", "list", "--store", &store.url])
            .output()
            .unwrap();
        let listing = text(&list);
        assert_eq!(
            listing.matches("one shard: no baseline").count(),
            3,
            "{listing}"
        );
        assert!(listing.lines().any(|l| l.starts_with(&group)), "{listing}");
    }
}

#[test]
fn coordinated_omission_stays_corrected_across_shards() {
    let target = sandbox(SandboxConfig {
        latency_scale: 0.0,
        stall: Some(Stall {
            every: Duration::from_secs(5),
            length: Duration::from_secs(1),
        }),
        ..SandboxConfig::default()
    });
    let store = team_store();
    let dir = tempfile::tempdir().unwrap();
    // Two whole stall cycles, so every start phase sees the same stalls.
    let load = "rate = \"100/s\"\nduration = \"10s\"\nwarmup = \"0s\"\nmax_in_flight = 1000";
    let scenario = health(dir.path(), &target.url, load);
    for o in shards(&scenario, &store.url, "stalls", 3, dir.path()) {
        assert!(o.status.success(), "{}", text(&o));
    }
    let (o, merged) = merge(&store.url, "stalls", &dir.path().join("merged"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    let single_dir = dir.path().join("single");
    rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(&single_dir)
        .arg(&scenario)
        .assert()
        .success();
    let single = results(&single_dir);
    let (m, s) = (
        merged.steps[0].latency.p99 as f64,
        single.steps[0].latency.p99 as f64,
    );
    // The stall, not the shards, sets the p99: about 0.95 s either way. Measured from when
    // each request was due, a request a shard sent late after the stall still counts its wait.
    assert!(
        s > 800_000.0,
        "the stall shows in one process's p99: {s} µs"
    );
    assert!(
        within(m, s, 0.05),
        "merged p99 {m} µs vs one process {s} µs"
    );
}

#[test]
fn a_killed_shard_makes_the_merged_run_incomplete_and_it_is_never_judged() {
    let target = instant_sandbox();
    let store = team_store();
    let dir = tempfile::tempdir().unwrap();
    let scenario = health(
        dir.path(),
        &target.url,
        "rate = \"60/s\"\nduration = \"8s\"\nwarmup = \"0s\"",
    );
    let mut children: Vec<Child> = (0..3)
        .map(|i| {
            shard(
                &scenario,
                &store.url,
                "killed",
                i,
                3,
                &dir.path().join(format!("shard-{i}")),
            )
        })
        .collect();
    // Registered, past the barrier's lead and sending: then shard 1 dies without a word.
    std::thread::sleep(Duration::from_secs(5));
    children[1].kill().unwrap();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    assert!(outputs[0].status.success(), "{}", text(&outputs[0]));
    assert!(outputs[2].status.success(), "{}", text(&outputs[2]));
    // Shard 1 never finished, so no shard merged by itself; the verdict job does.
    let (o, merged) = merge(&store.url, "killed", &dir.path().join("merged"), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!merged.complete);
    let why = merged.stop_reason.clone().unwrap();
    assert!(why.contains("shard index 1 of 3 stored no run"), "{why}");
    assert!(text(&o).contains("is incomplete"), "{}", text(&o));
    // Neither as a candidate nor as a baseline.
    let shard0 = dir.path().join("shard-0/results.json");
    let c = rehearse()
        .args(["compare", "--store", &store.url])
        .arg(&shard0)
        .arg("killed")
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(3), "{}", text(&c));
    assert!(
        text(&c).contains("incomplete set of shards"),
        "{}",
        text(&c)
    );
    let c = rehearse()
        .args(["compare", "--store", &store.url, "killed"])
        .arg(dir.path().join("merged/results.json"))
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(3), "{}", text(&c));
    // A shard alone is no candidate either: it carries a third of the load.
    let c = rehearse()
        .args(["compare", "--store", &store.url, "killed"])
        .arg(&shard0)
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(2), "{}", text(&c));
    assert!(
        text(&c).contains("one shard of the sharded run"),
        "{}",
        text(&c)
    );
    // Nor a baseline, for a run of the whole load.
    let plain = dir.path().join("plain");
    rehearse()
        .args(["run", "-q", "--no-store", "--duration", "1s", "--out"])
        .arg(&plain)
        .arg(&scenario)
        .assert()
        .success();
    let c = rehearse()
        .args(["compare", "--store", &store.url])
        .arg(&shard0)
        .arg(plain.join("results.json"))
        .output()
        .unwrap();
    assert_eq!(c.status.code(), Some(2), "{}", text(&c));
    assert!(
        text(&c).contains("is one shard of the sharded run `killed`, with a share of its load: compare with the merged run"),
        "{}",
        text(&c)
    );
    // The dead shard, restarted, may not send its share late.
    let late = shard(
        &scenario,
        &store.url,
        "killed",
        1,
        3,
        &dir.path().join("late"),
    )
    .wait_with_output()
    .unwrap();
    assert_eq!(late.status.code(), Some(3), "{}", text(&late));
    assert!(text(&late).contains("cannot join late"), "{}", text(&late));
}

#[test]
fn a_shard_that_never_comes_stops_the_others_before_any_load() {
    let server = RawServer::fixed(200, "ok");
    let store = team_store();
    let dir = tempfile::tempdir().unwrap();
    let scenario = health(
        dir.path(),
        &server.url,
        "rate = \"50/s\"\nduration = \"2s\"\nwarmup = \"0s\"",
    );
    let children: Vec<Child> = (0..2)
        .map(|i| {
            let out = dir.path().join(format!("shard-{i}"));
            let mut c = Command::new(env!("CARGO_BIN_EXE_rehearse"));
            c.args(["run", "-q", "--store", &store.url, "--group", "never"])
                .args(["--shards", "3", "--barrier-timeout", "2s"])
                .env("JOB_COMPLETION_INDEX", i.to_string())
                .arg("--out")
                .arg(&out)
                .arg(&scenario)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        let t = text(&o);
        assert!(
            t.contains("shard index 2 of 3 did not register within 2s")
                || t.contains("shard index 0 ")
                || t.contains("shard index 1 "),
            "{t}"
        );
        assert!(t.contains("no load was sent"), "{t}");
    }
    assert_eq!(
        server
            .connections
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert!(!dir.path().join("shard-0/results.json").exists());
}

#[test]
fn unique_rows_are_split_between_shards_and_each_is_used_once() {
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let server = RawServer::start({
        let seen = seen.clone();
        move |head| {
            let path = head.split_whitespace().nth(1).unwrap_or_default();
            seen.lock().unwrap().push(path.to_string());
            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec()
        }
    });
    let store = team_store();
    let dir = tempfile::tempdir().unwrap();
    let rows: String = (0..30).map(|i| format!("{i}\n")).collect();
    write(dir.path(), "ids.csv", &format!("id\n{rows}"));
    let scenario = write(
        dir.path(),
        "ids.toml",
        &format!(
            "name = \"ids\"\n[target]\nbase_url = \"{}\"\n[load]\nrate = \"40/s\"\nduration = \"5s\"\nwarmup = \"0s\"\n[data]\nfile = \"ids.csv\"\nmode = \"unique\"\n[[steps]]\nname = \"get\"\nhttp = {{ path = \"/item/{{{{ id }}}}\" }}\n",
            server.url
        ),
    );
    for o in shards(&scenario, &store.url, "rows", 3, dir.path()) {
        assert!(o.status.success(), "{}", text(&o));
    }
    let mut got = seen.lock().unwrap().clone();
    got.sort_by_key(|p| p.trim_start_matches("/item/").parse::<u32>().unwrap());
    let want: Vec<String> = (0..30).map(|i| format!("/item/{i}")).collect();
    assert_eq!(got, want);
    for i in 0..3 {
        let r = results(&dir.path().join(format!("shard-{i}")));
        assert_eq!(r.iterations.as_ref().unwrap().started, 10, "shard {i}");
        assert_eq!(r.stop_reason.as_deref(), Some("data exhausted"));
    }
}

#[test]
fn sharding_flags_are_checked_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = health(
        dir.path(),
        "http://127.0.0.1:9",
        "rate = \"5/s\"\nduration = \"1s\"",
    );
    let cases: [(&[&str], &str); 7] = [
        (
            &["--shards", "3", "--shard-index", "3", "--group", "g"],
            "the shards of --shards 3 are 0 to 2",
        ),
        (
            &[
                "--shards",
                "2",
                "--shard-index",
                "0",
                "--group",
                "g",
                "--no-store",
            ],
            "drop --no-store",
        ),
        (
            &[
                "--shards",
                "2",
                "--shard-index",
                "0",
                "--group",
                "g",
                "--baseline",
                "branch:main",
            ],
            "rehearse merge GROUP --baseline",
        ),
        (&["--shards", "2", "--group", "g"], "give --shard-index"),
        (&["--shard-index", "1"], "add --shards N"),
        (
            &[
                "--shards",
                "3",
                "--shard-index",
                "0",
                "--group",
                "g",
                "--users",
                "2",
            ],
            "more than the scenario's 2 users",
        ),
        (
            &[
                "--shards",
                "3",
                "--shard-index",
                "0",
                "--group",
                "g",
                "--iterations",
                "2",
            ],
            "more than the run's 2 iterations",
        ),
    ];
    for (flags, says) in cases {
        let o = rehearse()
            .arg("run")
            .args(flags)
            .arg(&scenario)
            .env_remove("JOB_COMPLETION_INDEX")
            .env_remove("GITHUB_RUN_ID")
            .env_remove("CI_PIPELINE_ID")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{flags:?}: {}", text(&o));
        assert!(text(&o).contains(says), "{flags:?}: {}", text(&o));
    }
    // A group id comes from CI's own run id when there is one.
    let o = rehearse()
        .args([
            "run",
            "--shards",
            "2",
            "--shard-index",
            "0",
            "--barrier-timeout",
            "1s",
        ])
        .arg(&scenario)
        .env("GITHUB_RUN_ID", "77")
        .env("GITHUB_RUN_ATTEMPT", "2")
        .env_remove("REHEARSE_GROUP")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("gh-77-2-health"), "{}", text(&o));
}

#[test]
fn a_closed_model_and_its_iteration_cap_are_split_between_shards() {
    let target = instant_sandbox();
    let store = team_store();
    let dir = tempfile::tempdir().unwrap();
    let scenario = health(
        dir.path(),
        &target.url,
        "users = 3\nduration = \"30s\"\nwarmup = \"0s\"",
    );
    let children: Vec<Child> = (0..3)
        .map(|i| {
            shard_with(
                &scenario,
                &store.url,
                "closed",
                (i, 3),
                &dir.path().join(format!("shard-{i}")),
                &["--iterations", "10"],
            )
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", text(&o));
    }
    // Shard i takes iterations k with k mod 3 = i: 4, 3 and 3 of the 10.
    let started: Vec<u64> = (0..3)
        .map(|i| {
            let r = results(&dir.path().join(format!("shard-{i}")));
            assert_eq!(r.stop_reason.as_deref(), Some("iterations"));
            r.iterations.unwrap().started
        })
        .collect();
    assert_eq!(started, [4, 3, 3]);
    let (o, merged) = merge(&store.url, "closed", &dir.path().join("merged"), &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(merged.iterations.as_ref().unwrap().started, 10);
    assert!(merged.complete, "{:?}", merged.stop_reason);
}
