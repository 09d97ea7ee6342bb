//! The run store against SQLite and the real PostgreSQL: round trips, imports, histories,
//! atomic writes, schema versions and concurrent writers.

mod common;

use common::stores::{stores, synthetic_run};
use common::*;
use rehearse::model::SummaryMetric;
use rehearse::store::{Access, HistoryMetric, RunFilter, Store, StoreError, Stored, Which};
use sqlx::Executor;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_run_round_trips_through_every_store() {
    let target = fast_sandbox();
    for store in stores() {
        let out = tempfile::tempdir().unwrap();
        rehearse()
            .args([
                "run",
                "-q",
                "--duration",
                "1s",
                "--warmup",
                "0s",
                "--target",
                &target.url,
                "--branch",
                "main",
                "--store",
                &store.url,
                "--out",
            ])
            .arg(out.path())
            .arg(scenarios().join("pay-invoice.toml"))
            .assert()
            .success();
        let original: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("results.json")).unwrap(),
        )
        .unwrap();
        let id = original["run_id"].as_str().unwrap().to_string();

        let export = rehearse()
            .args(["runs", "export", &id, "--store", &store.url])
            .assert()
            .success();
        let exported: serde_json::Value =
            serde_json::from_slice(&export.get_output().stdout).unwrap();
        assert_eq!(
            exported, original,
            "{}: export equals the original results.json",
            store.label
        );

        let dir = tempfile::tempdir().unwrap();
        rehearse()
            .args(["runs", "export", &id[..13], "--store", &store.url, "--out"])
            .arg(dir.path())
            .assert()
            .success();
        assert_eq!(
            std::fs::read(dir.path().join("intervals.hlog")).unwrap(),
            std::fs::read(out.path().join("intervals.hlog")).unwrap(),
            "{}",
            store.label
        );

        let show = rehearse()
            .args(["runs", "show", &id, "--store", &store.url])
            .assert()
            .success();
        let text = String::from_utf8_lossy(&show.get_output().stdout).to_string();
        assert!(
            text.contains(&format!("run {id}")) && text.contains("receipt"),
            "{text}"
        );
    }
}

#[test]
fn a_minimal_foreign_results_file_imports_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = rehearse::model::new_histogram();
    for v in [1000u64, 2000, 3000, 40_000] {
        h.record(v).unwrap();
    }
    let file = write(
        dir.path(),
        "foreign.json",
        &format!(
            r#"{{"schema": 1, "scenario": "legacy", "steps": [{{"name": "pay", "histogram": "{}"}}]}}"#,
            rehearse::model::encode(&h)
        ),
    );
    for store in stores() {
        let first = rehearse()
            .args(["runs", "import", "--store", &store.url])
            .arg(&file)
            .assert()
            .success();
        assert!(
            String::from_utf8_lossy(&first.get_output().stdout).starts_with("stored "),
            "{}",
            store.label
        );
        let list = rehearse()
            .args(["runs", "list", "--json", "--store", &store.url])
            .assert()
            .success();
        let runs: serde_json::Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
        assert_eq!(runs.as_array().unwrap().len(), 1, "{}", store.label);
        let id = runs[0]["id"].as_str().unwrap().to_string();
        let export = rehearse()
            .args(["runs", "export", &id, "--store", &store.url])
            .assert()
            .success();
        let back: serde_json::Value = serde_json::from_slice(&export.get_output().stdout).unwrap();
        assert_eq!(
            back["steps"][0]["latency"]["count"], 4,
            "{}: summaries filled from the histogram",
            store.label
        );
        assert_eq!(back["steps"][0]["latency"]["max"], 40_031);
        // The same file again (it now has an id) is recognised.
        let exported = write(
            dir.path(),
            &format!("{}.json", store.label),
            &serde_json::to_string(&back).unwrap(),
        );
        let again = rehearse()
            .args(["runs", "import", "--store", &store.url])
            .arg(&exported)
            .assert()
            .success();
        assert!(
            String::from_utf8_lossy(&again.get_output().stdout).starts_with("already stored"),
            "{}",
            store.label
        );
    }
}

#[test]
fn history_reads_complete_runs_of_a_branch_newest_first() {
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            let runs = [
                ("main", "2026-11-01T10:00:00Z", 10_000, true),
                ("main", "2026-11-02T10:00:00Z", 11_000, true),
                ("feature", "2026-11-03T10:00:00Z", 50_000, true),
                ("main", "2026-11-04T10:00:00Z", 99_000, false),
                ("main", "2026-11-05T10:00:00Z", 12_000, true),
            ];
            for (branch, at, p50, complete) in runs {
                assert_eq!(
                    store
                        .insert(
                            &synthetic_run("pay-invoice", Some(branch), at, p50, complete),
                            None
                        )
                        .await
                        .unwrap(),
                    Stored::Inserted
                );
            }
            let points = store
                .history(
                    "pay-invoice",
                    "pay",
                    HistoryMetric::Summary(SummaryMetric::P50),
                    Some("main"),
                    100,
                )
                .await
                .unwrap();
            let p50s: Vec<f64> = points.iter().map(|p| p.value).collect();
            assert_eq!(
                p50s.len(),
                3,
                "{}: the incomplete run and the other branch are left out",
                t.label
            );
            assert!(
                p50s[0] > p50s[1] && p50s[1] > p50s[2],
                "{}: newest first: {p50s:?}",
                t.label
            );
            // pay spans 12,000..35,880 µs evenly: its median is the 100th of 200 values.
            assert!((p50s[0] - 23_880.0).abs() < 30.0, "{}: {p50s:?}", t.label);
            let workflow = store
                .history(
                    "pay-invoice",
                    "workflow",
                    HistoryMetric::Summary(SummaryMetric::P99),
                    None,
                    2,
                )
                .await
                .unwrap();
            assert_eq!(workflow.len(), 2);
            assert_eq!(workflow[1].branch.as_deref(), Some("feature"));
            let errors = store
                .history(
                    "pay-invoice",
                    "login",
                    HistoryMetric::Summary(SummaryMetric::ErrorRate),
                    None,
                    10,
                )
                .await
                .unwrap();
            assert!(errors.iter().all(|p| p.value == 0.0));

            let complete = store
                .list(&RunFilter {
                    scenario: Some("pay-invoice".into()),
                    branch: Some("main".into()),
                    limit: 10,
                    offset: 0,
                    which: Which::Complete,
                    group: None,
                })
                .await
                .unwrap();
            assert_eq!(complete.len(), 3, "{}", t.label);
            let all = store
                .list(&RunFilter {
                    scenario: None,
                    branch: None,
                    limit: 10,
                    offset: 0,
                    which: Which::All,
                    group: None,
                })
                .await
                .unwrap();
            assert_eq!(all.len(), 5);
            assert!(!all[1].complete && all[1].started_ms > all[2].started_ms);
            store.close().await;
        }
    });
}

#[test]
fn runs_are_found_by_prefix_deleted_and_pruned() {
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            for day in 1..=6 {
                let branch = if day % 2 == 0 { "main" } else { "feature" };
                store
                    .insert(
                        &synthetic_run(
                            "s",
                            Some(branch),
                            &format!("2026-11-0{day}T00:00:00Z"),
                            1000,
                            true,
                        ),
                        None,
                    )
                    .await
                    .unwrap();
            }
            let ids = store.ids().await.unwrap();
            assert_eq!(store.resolve(&ids[0]).await.unwrap(), ids[0]);
            assert!(
                matches!(store.resolve("01").await, Err(StoreError::Ambiguous { .. })),
                "{}",
                t.label
            );
            assert!(matches!(
                store.resolve("zz%").await,
                Err(StoreError::NotFound(_))
            ));
            assert!(store.delete(&ids[0]).await.unwrap());
            assert!(!store.delete(&ids[0]).await.unwrap());
            assert!(matches!(
                store.load(&ids[0]).await,
                Err(StoreError::NotFound(_))
            ));
            // 2 main + 3 feature left; keep 1 of each.
            assert_eq!(store.prune(1, None, None).await.unwrap(), 3, "{}", t.label);
            assert_eq!(
                store.ids().await.unwrap(),
                vec![ids[1].clone(), ids[2].clone()]
            );
            let steps: i64 = match &store {
                Store::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM steps")
                    .fetch_one(p)
                    .await
                    .unwrap(),
                Store::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM steps")
                    .fetch_one(p)
                    .await
                    .unwrap(),
            };
            assert_eq!(
                steps, 6,
                "{}: deleted runs take their steps with them",
                t.label
            );
            store.close().await;
        }
    });
}

#[test]
fn a_write_that_fails_halfway_leaves_no_half_run() {
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            // Sabotage: the second step of any run fails to insert.
            match &store {
                Store::Sqlite(p) => {
                    p.execute("CREATE TRIGGER sabotage BEFORE INSERT ON steps WHEN NEW.position = 1 BEGIN SELECT RAISE(ABORT, 'sabotaged'); END").await.unwrap();
                }
                Store::Postgres(p) => {
                    p.execute("CREATE FUNCTION sabotage() RETURNS trigger AS $$ BEGIN IF NEW.position = 1 THEN RAISE EXCEPTION 'sabotaged'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql").await.unwrap();
                    p.execute("CREATE TRIGGER sabotage BEFORE INSERT ON steps FOR EACH ROW EXECUTE FUNCTION sabotage()").await.unwrap();
                }
            }
            let err = store.insert(&synthetic_run("s", None, "2026-11-01T00:00:00Z", 1000, true), None).await.unwrap_err();
            assert!(err.to_string().contains("sabotaged"), "{}: {err}", t.label);
            assert!(store.ids().await.unwrap().is_empty(), "{}: no half run", t.label);
            store.close().await;
        }
    });
}

#[test]
fn a_store_with_a_newer_schema_is_refused_and_left_alone() {
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            store.insert(&synthetic_run("s", None, "2026-11-01T00:00:00Z", 1000, true), None).await.unwrap();
            let future = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'from the future', TRUE, x'00', 1)";
            match &store {
                Store::Sqlite(p) => drop(p.execute(future).await.unwrap()),
                Store::Postgres(p) => drop(p.execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (999, 'from the future', TRUE, '\\x00', 1)").await.unwrap()),
            }
            store.close().await;
            match Store::open(&t.url, Access::Create).await {
                Err(StoreError::NewerSchema { found: 999, .. }) => {}
                other => panic!("{}: expected a newer-schema refusal, got {other:?}", t.label),
            }
            let raw: i64 = match t.label {
                "sqlite" => {
                    let p = sqlx::SqlitePool::connect(&t.url).await.unwrap();
                    sqlx::query_scalar("SELECT COUNT(*) FROM runs").fetch_one(&p).await.unwrap()
                }
                _ => {
                    let p = sqlx::PgPool::connect(&t.url).await.unwrap();
                    sqlx::query_scalar("SELECT COUNT(*) FROM runs").fetch_one(&p).await.unwrap()
                }
            };
            assert_eq!(raw, 1, "{}: the stored run is untouched", t.label);
        }
    });
}

#[test]
fn eight_concurrent_runs_into_one_new_store_are_all_kept() {
    let target = fast_sandbox();
    // Eight processes pay the same customers' invoices at once, so most payments conflict
    // (409): that is the sandbox being right, and not what this test is about.
    let work = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("pay-invoice.toml")).unwrap()
        + "\n[thresholds]\nerror_rate = \"off\"\n";
    let scenario = write(work.path(), "pay.toml", &text);
    std::fs::create_dir_all(work.path().join("data")).unwrap();
    std::fs::copy(
        scenarios().join("data/customers.csv"),
        work.path().join("data/customers.csv"),
    )
    .unwrap();
    for store in stores() {
        let out = tempfile::tempdir().unwrap();
        let children: Vec<_> = (0..8)
            .map(|i| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin!("rehearse"))
                    .args([
                        "run",
                        "-q",
                        "--iterations",
                        "3",
                        "--rate",
                        "20/s",
                        "--warmup",
                        "0s",
                        "--target",
                        &target.url,
                        "--store",
                        &store.url,
                        "--out",
                    ])
                    .arg(out.path().join(i.to_string()))
                    .arg(&scenario)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}: {}",
                store.label,
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let list = rehearse()
            .args([
                "runs", "list", "--json", "--limit", "100", "--store", &store.url,
            ])
            .assert()
            .success();
        let runs: serde_json::Value = serde_json::from_slice(&list.get_output().stdout).unwrap();
        assert_eq!(runs.as_array().unwrap().len(), 8, "{}", store.label);
    }
}

#[test]
fn an_unreachable_store_is_found_before_any_load_and_never_shows_the_password() {
    // A port nothing listens on: the store is checked before the first request, so the
    // target never sees one and the error names the real cause, not a pool timeout.
    let target = sandbox(rehearse::sandbox::SandboxConfig {
        latency_scale: 0.0,
        ..Default::default()
    });
    let out = tempfile::tempdir().unwrap();
    let assert = rehearse()
        .args([
            "run",
            "-q",
            "--iterations",
            "2",
            "--rate",
            "20/s",
            "--target",
            &target.url,
            "--store",
            "postgres://rehearse:hunter2@127.0.0.1:1/perf",
            "--out",
        ])
        .arg(out.path())
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("before any load is sent"), "{stderr}");
    assert!(stderr.to_lowercase().contains("refused"), "{stderr}");
    assert!(stderr.contains("rehearse:***@127.0.0.1:1"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(
        !out.path().join("results.json").exists(),
        "nothing was run, so nothing was written"
    );
}

#[test]
fn ab_sessions_are_kept_and_only_a_a_sessions_teach_noise() {
    use rehearse::store::AbSession;
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            let session = |id: &str, same: bool, at: i64, ratio: f64| AbSession {
                id: id.into(),
                scenario: "pay".into(),
                started_ms: at,
                same_target: same,
                rounds: 2,
                baseline_label: "main".into(),
                candidate_label: "x".into(),
                host_fingerprint: None,
                log_ratios: [(
                    "pay".to_string(),
                    [(SummaryMetric::P50, vec![ratio, -ratio])].into(),
                )]
                .into(),
                comparison: serde_json::from_value(serde_json::json!({
                    "schema": 2, "scenario": "pay",
                    "baseline": {"spec": "main", "run_ids": [], "commits": [], "branches": []},
                    "candidate": {"spec": "x", "run_ids": [], "commits": [], "branches": []},
                    "steps": [],
                    "settings": {"alpha": 0.005, "holm_family": 1, "min_effect": {}, "eq_margin": {}},
                    "overall": {"verdict": "unchanged", "regressed": [], "improved": [], "inconclusive": 0,
                                "breaches": [], "passed": true, "summary": "x"}
                }))
                .unwrap(),
            };
            store
                .insert_ab_session(&session("a1", true, 1, 0.01))
                .await
                .unwrap();
            store
                .insert_ab_session(&session("b1", false, 2, 0.5))
                .await
                .unwrap();
            store
                .insert_ab_session(&session("a2", true, 3, 0.02))
                .await
                .unwrap();
            let (n, pooled) = store.aa_log_ratios("pay", None, 10).await.unwrap();
            assert_eq!(n, 2, "{}", t.label);
            assert_eq!(
                pooled["pay"][&SummaryMetric::P50],
                vec![0.02, -0.02, 0.01, -0.01],
                "{}: newest first, A/B sessions left out",
                t.label
            );
            let (n, _) = store.aa_log_ratios("pay", None, 1).await.unwrap();
            assert_eq!(n, 1);
            assert_eq!(store.aa_log_ratios("other", None, 10).await.unwrap().0, 0);
            // Noise measured on another kind of machine is left out.
            let arm = AbSession {
                host_fingerprint: Some("arm-kind".into()),
                ..session("a3", true, 4, 0.03)
            };
            store.insert_ab_session(&arm).await.unwrap();
            assert_eq!(
                store
                    .aa_log_ratios("pay", Some("arm-kind"), 10)
                    .await
                    .unwrap()
                    .0,
                1
            );
            assert_eq!(
                store
                    .aa_log_ratios("pay", Some("x86-kind"), 10)
                    .await
                    .unwrap()
                    .0,
                0
            );
            assert_eq!(store.aa_log_ratios("pay", None, 10).await.unwrap().0, 3);
            store.close().await;
        }
    });
}

#[test]
fn a_store_made_by_an_older_rehearse_is_upgraded_in_place() {
    use sqlx::migrate::{Migration, MigrationType, Migrator};
    rt().block_on(async {
        for t in stores() {
            // A store as the first release left it: migration 1 only, with a run in it.
            let v1 = |sql: &'static str| Migrator::with_migrations(vec![Migration::new(1, "runs".into(), MigrationType::Simple, sqlx::SqlStr::from_static(sql), false)]);
            const OLD_RUN: &str = "INSERT INTO runs (id, scenario, started_ms, complete, labels, document, stored_ms) VALUES ('old-run', 's', 1, TRUE, '{}', '{\"schema\":1,\"run_id\":\"old-run\",\"scenario\":\"s\",\"steps\":[]}', 1)";
            match t.label {
                "sqlite" => {
                    let path = rehearse::store::sqlite_path(&t.url).unwrap();
                    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(&path).create_if_missing(true);
                    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
                    v1(include_str!("../migrations/sqlite/0001_runs.sql")).run(&pool).await.unwrap();
                    pool.execute(OLD_RUN).await.unwrap();
                    pool.close().await;
                }
                _ => {
                    let pool = sqlx::PgPool::connect(&t.url).await.unwrap();
                    v1(include_str!("../migrations/postgres/0001_runs.sql")).run(&pool).await.unwrap();
                    pool.execute(OLD_RUN).await.unwrap();
                    pool.close().await;
                }
            }
            // Opening it with this build applies migration 2 and keeps the run.
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            assert_eq!(store.ids().await.unwrap(), vec!["old-run".to_string()], "{}", t.label);
            assert_eq!(store.load("old-run").await.unwrap().scenario, "s");
            assert_eq!(store.aa_log_ratios("s", None, 10).await.unwrap().0, 0, "{}: the new table exists", t.label);
            store.insert(&synthetic_run("s", Some("main"), "2026-11-01T00:00:00Z", 1000, true), None).await.unwrap();
            assert_eq!(store.ids().await.unwrap().len(), 2);
            store.close().await;
        }
    });
}

#[test]
fn a_branch_baseline_looks_past_any_number_of_a_b_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("s.db").display());
    let (older, newer) = rt().block_on(async {
        let store = Store::open(&url, Access::Create).await.unwrap();
        let mut plain = Vec::new();
        for at in ["2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z"] {
            let run = synthetic_run("pay-invoice", Some("main"), at, 10_000, true);
            store.insert(&run, None).await.unwrap();
            plain.push(run.run_id);
        }
        // More A/B rounds than one page of the store's listing, all newer.
        for i in 0..450 {
            let at = format!("2026-11-03T10:{:02}:{:02}Z", i / 60, i % 60);
            let mut run = synthetic_run("pay-invoice", Some("main"), &at, 10_000, true);
            run.labels.insert("ab.session".into(), "s1".into());
            store.insert(&run, None).await.unwrap();
        }
        store.close().await;
        (plain[0].clone(), plain[1].clone())
    });
    let out = rehearse()
        .args([
            "compare",
            "--json",
            "--store",
            &url,
            "--scenario",
            "pay-invoice",
        ])
        .args(["branch:main", "latest"])
        .assert()
        .success();
    let c: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(c["candidate"]["run_ids"][0], newer.as_str());
    assert_eq!(c["baseline"]["run_ids"], serde_json::json!([older]));
}

#[test]
fn a_run_without_responses_has_no_latency_point_but_counts() {
    rt().block_on(async {
        for t in stores() {
            let store = Store::open(&t.url, Access::Create).await.unwrap();
            let scenario = format!("no-answer-{}", uuid::Uuid::now_v7());
            let good = synthetic_run(
                &scenario,
                Some("main"),
                "2026-11-01T10:00:00Z",
                10_000,
                true,
            );
            let mut down = synthetic_run(
                &scenario,
                Some("main"),
                "2026-11-02T10:00:00Z",
                10_000,
                true,
            );
            // The target was down: `pay` got no response at all.
            down.steps[1] = rehearse::model::StepResult::from_histogram(
                "pay",
                &rehearse::model::new_histogram(),
                0.0,
            );
            store.insert(&good, None).await.unwrap();
            store.insert(&down, None).await.unwrap();
            let p50 = store
                .history(
                    &scenario,
                    "pay",
                    HistoryMetric::Summary(SummaryMetric::P50),
                    None,
                    10,
                )
                .await
                .unwrap();
            assert_eq!(
                p50.len(),
                1,
                "{}: no 0 µs point for the run that got no answer",
                t.label
            );
            assert_eq!(p50[0].run_id, good.run_id);
            let count = store
                .history(&scenario, "pay", HistoryMetric::Count, None, 10)
                .await
                .unwrap();
            assert_eq!(count.len(), 2, "{}", t.label);
            // `pay` was not even attempted: no error rate either (not a reassuring 0%).
            let errors = store
                .history(
                    &scenario,
                    "pay",
                    HistoryMetric::Summary(SummaryMetric::ErrorRate),
                    None,
                    10,
                )
                .await
                .unwrap();
            assert_eq!(errors.len(), 1, "{}", t.label);
            store.close().await;
        }
    });
}
