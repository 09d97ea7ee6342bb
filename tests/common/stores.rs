//! Stores to test against: a fresh SQLite file always, and a fresh schema in the real
//! PostgreSQL (required when CI=true, skipped with a printed reason elsewhere).

use rehearse::model::{self, RunResult, StepResult};
use sqlx::Executor;

/// A store for one test, removed when dropped.
pub struct TestStore {
    /// `sqlite` or `postgres`.
    pub label: &'static str,
    /// The URL to give rehearse.
    pub url: String,
    cleanup: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.cleanup.take() {
            // Runs on a thread of its own: dropping may happen inside an async test.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                        let _ = pool
                            .execute(sqlx::AssertSqlSafe(format!(
                                "DROP SCHEMA IF EXISTS {schema} CASCADE"
                            )))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// The PostgreSQL server tests use, if reachable.
fn postgres_base() -> Option<String> {
    let url = std::env::var("REHEARSE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let reachable = std::thread::spawn({
        let url = url.clone();
        move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    sqlx::PgPool::connect(&url),
                )
                .await
            })
        }
    })
    .join()
    .unwrap();
    match reachable {
        Ok(Ok(_)) => Some(url),
        Ok(Err(e)) => not_reachable(&url, &e.to_string()),
        Err(_) => not_reachable(&url, "connection timed out"),
    }
}

fn not_reachable(url: &str, why: &str) -> Option<String> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("PostgreSQL store tests must run in CI, but {url} is unreachable: {why}");
    }
    eprintln!(
        "skipping the PostgreSQL store tests: {url} is unreachable ({why}); set REHEARSE_TEST_POSTGRES_URL"
    );
    None
}

/// Fresh stores to run a test against: SQLite, and PostgreSQL when reachable.
pub fn stores() -> Vec<TestStore> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = TestStore {
        label: "sqlite",
        url: format!(
            "sqlite://{}",
            dir.path().join("store/rehearse.db").display()
        ),
        cleanup: None,
        _dir: Some(dir),
    };
    let mut out = vec![sqlite];
    if let Some(base) = postgres_base() {
        let schema = format!("rh_test_{}", uuid::Uuid::now_v7().simple());
        let created = std::thread::spawn({
            let (base, schema) = (base.clone(), schema.clone());
            move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let pool = sqlx::PgPool::connect(&base).await?;
                    pool.execute(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
                        .await
                        .map(|_| ())
                })
            }
        })
        .join()
        .unwrap();
        created.expect("create a test schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        out.push(TestStore {
            label: "postgres",
            url: format!("{base}{sep}options[search_path]={schema}"),
            cleanup: Some((base, schema)),
            _dir: None,
        });
    }
    out
}

/// A synthetic run: two steps and a workflow whose latencies are centred on `p50_us`.
pub fn synthetic_run(
    scenario: &str,
    branch: Option<&str>,
    started_at: &str,
    p50_us: u64,
    complete: bool,
) -> RunResult {
    let step = |name: &str, scale: u64| {
        let mut h = model::new_histogram();
        for i in 0..200u64 {
            h.record(p50_us * scale / 2 + i * p50_us * scale / 200)
                .unwrap();
        }
        StepResult {
            service_histogram: Some(model::encode(&h)),
            interval_tag: Some(name.into()),
            timeline_ok: vec![100, 100],
            timeline_errors: vec![0, 0],
            ..StepResult::from_histogram(name, &h, 20.0)
        }
    };
    let mut workflow = step("workflow", 3);
    workflow.interval_tag = Some("workflow".into());
    RunResult {
        schema: model::SCHEMA_VERSION,
        run_id: uuid::Uuid::now_v7().to_string(),
        scenario: scenario.into(),
        scenario_hash: None,
        scenario_file: None,
        target: Some("http://127.0.0.1:1".into()),
        load: None,
        harness: None,
        host: None,
        git: branch.map(|b| model::Git {
            commit: Some(format!("c-{started_at}")),
            branch: Some(b.into()),
            dirty: None,
        }),
        labels: Default::default(),
        started_at: Some(started_at.into()),
        ended_at: None,
        measured_seconds: Some(10.0),
        complete,
        stop_reason: None,
        iterations: None,
        workflow: Some(workflow),
        steps: vec![step("login", 1), step("pay", 2)],
        intervals: None,
        thresholds: Vec::new(),
        compare: Default::default(),
        health: None,
        group: None,
        shards: Vec::new(),
    }
}
