//! SQL steps end to end: the real binary against SQLite (always), PostgreSQL and MariaDB
//! (required when CI=true, skipped with a printed reason elsewhere when unreachable).

mod common;

use std::path::Path;
use std::time::Duration;

use common::*;
use sqlx::Connection as _;

/// A database the tests can reach, with its placeholder style.
#[derive(Debug, Clone)]
struct Db {
    label: &'static str,
    url: String,
    dollar: bool,
}

impl Db {
    /// Placeholder number `n` (1-based).
    fn p(&self, n: usize) -> String {
        if self.dollar {
            format!("${n}")
        } else {
            "?".into()
        }
    }
}

const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const MARIADB_URL: &str = "mysql://root@127.0.0.1:3306/test";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A connection of the test's own, to set up and inspect what the runs did.
enum Conn {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

async fn connect(url: &str) -> Result<Conn, sqlx::Error> {
    Ok(if url.starts_with("postgres") {
        Conn::Pg(sqlx::PgConnection::connect(url).await?)
    } else if url.starts_with("mysql") {
        Conn::My(sqlx::MySqlConnection::connect(url).await?)
    } else {
        Conn::Lite(sqlx::SqliteConnection::connect(url).await?)
    })
}

/// Runs statements on a database from the test itself.
fn exec(url: &str, statements: &[String]) {
    runtime().block_on(async {
        let mut conn = connect(url).await.unwrap();
        for s in statements {
            let q = sqlx::raw_sql(sqlx::AssertSqlSafe(s.clone()));
            let done = match &mut conn {
                Conn::Pg(c) => q.execute(c).await.map(|_| ()),
                Conn::My(c) => q.execute(c).await.map(|_| ()),
                Conn::Lite(c) => q.execute(c).await.map(|_| ()),
            };
            done.unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    });
}

/// The first column of every row a query returns, as text (the query casts if needed).
fn texts(url: &str, query: &str) -> Vec<String> {
    use sqlx::Row as _;
    runtime().block_on(async {
        let sql = || sqlx::AssertSqlSafe(query.to_string());
        match &mut connect(url).await.unwrap() {
            Conn::Pg(c) => sqlx::query(sql())
                .fetch_all(c)
                .await
                .unwrap_or_else(|e| panic!("{query}: {e}"))
                .iter()
                .map(|r| r.get(0))
                .collect(),
            Conn::My(c) => sqlx::query(sql())
                .fetch_all(c)
                .await
                .unwrap_or_else(|e| panic!("{query}: {e}"))
                .iter()
                .map(|r| r.get(0))
                .collect(),
            Conn::Lite(c) => sqlx::query(sql())
                .fetch_all(c)
                .await
                .unwrap_or_else(|e| panic!("{query}: {e}"))
                .iter()
                .map(|r| r.get(0))
                .collect(),
        }
    })
}

/// Whether a server database answers; when it does not, CI fails and elsewhere the test
/// skips with the reason.
fn reachable(label: &str, url: &str) -> bool {
    let result = runtime()
        .block_on(async { tokio::time::timeout(Duration::from_secs(5), connect(url)).await });
    let why = match result {
        Ok(Ok(_)) => return true,
        Ok(Err(e)) => e.to_string(),
        Err(_) => "no answer within 5s".into(),
    };
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{label} at {url} is required when CI=true: {why}");
    }
    eprintln!("skipping {label}: {url} is not reachable ({why})");
    false
}

/// SQLite (a fresh file in `dir`), then PostgreSQL and MariaDB where reachable.
fn databases(dir: &Path) -> Vec<Db> {
    let file = dir.join("t.db");
    std::fs::File::create(&file).unwrap();
    let mut dbs = vec![Db {
        label: "SQLite",
        url: format!("sqlite:{}", file.display()),
        dollar: false,
    }];
    if reachable("PostgreSQL", PG_URL) {
        dbs.push(Db {
            label: "PostgreSQL",
            url: PG_URL.into(),
            dollar: true,
        });
    }
    if reachable("MariaDB", MARIADB_URL) {
        dbs.push(Db {
            label: "MariaDB",
            url: MARIADB_URL.into(),
            dollar: false,
        });
    }
    dbs
}

/// A table name no other test (or concurrent run of this one) uses.
fn table(tag: &str) -> String {
    format!("rh_{tag}_{}", std::process::id())
}

const INJECTION: &str = "x'); DROP TABLE victims; -- \" ; \\ {{ not a template }}";

#[test]
fn sql_steps_read_write_in_a_transaction_and_bind_values_on_every_database() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()) {
        let t = table("rw");
        exec(
            &db.url,
            &[
                format!("DROP TABLE IF EXISTS {t}"),
                format!(
                    "CREATE TABLE {t} (id BIGINT PRIMARY KEY, customer VARCHAR(20) NOT NULL, status VARCHAR(10) NOT NULL, amount_cents BIGINT NOT NULL, note TEXT)"
                ),
            ],
        );
        let rows: Vec<String> = (1..=60)
            .map(|i| format!("({i}, 'c{}', 'open', {})", i % 3, i * 100))
            .collect();
        exec(
            &db.url,
            &[format!(
                "INSERT INTO {t} (id, customer, status, amount_cents) VALUES {}",
                rows.join(", ")
            )],
        );
        // `{{ iteration }}` is 0-based: iteration i pays row 31 + i; reads look at row 1.
        let scenario = format!(
            r#"
name = "sql-rw"
[databases.main]
url = "{url}"
pool = 4
[load]
rate = "40/s"
duration = "2s"
iterations = 30
[vars]
injection = '''{INJECTION}'''
[[steps]]
name = "read"
[steps.sql]
query = "SELECT id, status, amount_cents, note FROM {t} WHERE customer = {p1} ORDER BY id"
params = ["c1"]
[steps.capture]
first = {{ column = "id" }}
second = {{ row = 1, column = "id" }}
open = {{ row_count = true }}
[steps.check]
rows = ">= 2"
columns = {{ status = "open", amount_cents = 100 }}

[[steps]]
name = "captured"
[steps.sql]
query = "SELECT id FROM {t} WHERE id = {p1} AND {p2} = 20"
params = [{{ int = "{{{{ second }}}}" }}, {{ int = "{{{{ open }}}}" }}]
[steps.check]
rows = 1
columns = {{ id = 4 }}

[[steps]]
name = "pay"
[steps.sql]
transaction = true
read_only = false
[[steps.sql.statements]]
query = "UPDATE {t} SET note = {p1}, status = 'paid' WHERE id = {p2} + 31"
params = ["{{{{ injection }}}}", {{ int = "{{{{ iteration }}}}" }}]
[[steps.sql.statements]]
query = "SELECT note, status, id FROM {t} WHERE id = {p1} + 31"
params = [{{ int = "{{{{ iteration }}}}" }}]
[steps.check]
rows = 1
columns = {{ note = "{{{{ injection }}}}", status = "paid" }}

[[steps]]
name = "refused"
[steps.sql]
query = "UPDATE {t} SET note = 'written by a read-only step'"
"#,
            url = db.url,
            p1 = db.p(1),
            p2 = db.p(2),
        );
        let file = write(dir.path(), &format!("{}.toml", db.label), &scenario);
        let out_dir = dir.path().join(db.label);
        let out = rehearse()
            .arg("run")
            .arg(&file)
            .arg("--out")
            .arg(&out_dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {stdout}\n{stderr}",
            db.label
        );
        let run = results(&out_dir);
        schema_check(&serde_json::to_value(&run).unwrap()).unwrap();
        let (read, pay, refused) = (step(&run, "read"), step(&run, "pay"), step(&run, "refused"));
        assert_eq!(read.outcomes.ok, 30, "{}: {stdout}", db.label);
        // Row 1 of customer c1's rows is id 4, and c1 has 20 rows: both captures were read.
        let captured = step(&run, "captured");
        assert_eq!(
            captured.outcomes.ok, 30,
            "{}: {:?}",
            db.label, captured.error_samples
        );
        assert_eq!(pay.outcomes.ok, 30, "{}: {:?}", db.label, pay.error_samples);
        // Writes are refused by the server in a read-only step, with its own error code.
        assert_eq!(refused.outcomes.query_error, 30, "{}: {stdout}", db.label);
        let why = &refused.error_samples["query_error"];
        let code = if db.label == "SQLite" {
            "SQLite error 8"
        } else {
            "SQLSTATE 25006"
        };
        assert!(why.contains(code), "{}: {why}", db.label);
        let request = read.request.as_deref().unwrap_or("");
        assert!(request.starts_with("SQL main: SELECT id"), "{request}");
        // Every step has a latency histogram like an HTTP step's.
        assert_eq!(read.latency.count, 30, "{}", db.label);
        assert!(read.latency.p50 > 0, "{}", db.label);
        // The value was bound, not executed: stored exactly, the table intact.
        let notes = texts(
            &db.url,
            &format!("SELECT note FROM {t} WHERE status = 'paid' ORDER BY id"),
        );
        assert_eq!(notes.len(), 30, "{}", db.label);
        assert!(
            notes.iter().all(|n| n == INJECTION),
            "{}: {notes:?}",
            db.label
        );
        let count = texts(
            &db.url,
            &format!("SELECT CAST(COUNT(*) AS CHAR(20)) FROM {t}"),
        );
        assert_eq!(
            count.iter().map(|c| c.trim()).collect::<Vec<_>>(),
            ["60"],
            "{}",
            db.label
        );
        exec(&db.url, &[format!("DROP TABLE {t}")]);
    }
}

#[test]
fn a_database_that_is_down_is_measured_and_its_password_is_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let password = "Pw-3xq9-never-shown";
    let scenario = r#"
name = "db-down"
[databases.main]
url = "${DOWN_DB_URL}"
[load]
rate = "20/s"
duration = "1s"
iterations = 5
[[steps]]
name = "lookup"
timeout = "500ms"
[steps.sql]
query = "SELECT 1"
"#;
    let file = write(dir.path(), "down.toml", scenario);
    let out = rehearse()
        .env(
            "DOWN_DB_URL",
            format!("postgres://app:{password}@127.0.0.1:1/ledger?pass%77ord={password}"),
        )
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // 3: the target never answered.
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    let run = results(&dir.path().join("out"));
    let lookup = step(&run, "lookup");
    assert_eq!(lookup.outcomes.connect_error, 5, "{stdout}");
    assert!(
        lookup.error_samples["connect_error"].contains("no connection to database `main`"),
        "{:?}",
        lookup.error_samples
    );
    assert_eq!(
        run.target.as_deref(),
        Some("postgres://app:***@127.0.0.1:1/ledger?password=***")
    );
    let written = std::fs::read_to_string(dir.path().join("out/results.json")).unwrap();
    for (what, text) in [
        ("results", &written),
        ("stdout", &stdout),
        ("stderr", &stderr),
    ] {
        assert!(
            !text.contains(password),
            "{what} holds the password: {text}"
        );
    }
}

#[test]
fn allowed_hosts_cover_databases_and_nothing_is_sent_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = r#"
name = "db-elsewhere"
[databases.ledger]
url = "postgres://app:hunter2-db@db.prod.example.com:5432/ledger"
[load]
rate = "1/s"
duration = "1s"
[[steps]]
name = "lookup"
[steps.sql]
query = "SELECT 1"
"#;
    let file = write(dir.path(), "elsewhere.toml", scenario);
    // A parameter that would connect elsewhere than the host the allowlist sees is refused.
    let sneaky = write(
        dir.path(),
        "sneaky.toml",
        &scenario.replace(
            "db.prod.example.com:5432/ledger",
            "127.0.0.1:5432/ledger?host=db.prod.example.com",
        ),
    );
    let out = rehearse().arg("validate").arg(&sneaky).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("would connect elsewhere"), "{stderr}");
    let out = rehearse()
        .args(["run", "--allow-host", "127.0.0.1"])
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "the host of database `ledger` `db.prod.example.com` is not in the allowed hosts"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2-db"), "{stderr}");
    assert!(!dir.path().join("out/results.json").exists());
}

#[test]
fn a_workflow_mixes_http_and_sql_steps_against_the_sandbox_and_its_ledger() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let ledger = dir.path().join("ledger.db");
    runtime()
        .block_on(rehearse::sandbox::write_ledger(&ledger, 42))
        .unwrap();
    let csv = std::fs::read_to_string(scenarios().join("data/customers.csv")).unwrap();
    write(dir.path(), "customers.csv", &csv);
    let scenario = format!(
        r#"
name = "pay-from-ledger"
[target]
base_url = "{url}"
[databases.ledger]
url = "sqlite:{ledger}"
[load]
rate = "20/s"
duration = "2s"
iterations = 20
[data]
file = "customers.csv"
[[steps]]
name = "login"
[steps.http]
method = "POST"
path = "/api/login"
json = {{ email = "{{{{ email }}}}", password = "{{{{ password }}}}" }}
[steps.capture]
token = {{ json = "$.token" }}

[[steps]]
name = "oldest-open-invoice"
[steps.sql]
query = "SELECT i.id, i.status FROM invoices i JOIN customers c ON c.id = i.customer_id WHERE c.email = ? AND i.status = 'open' ORDER BY i.id LIMIT 1"
params = ["{{{{ email }}}}"]
[steps.capture]
invoice = {{ column = "id" }}
[steps.check]
rows = 1

[[steps]]
name = "pay"
[steps.http]
method = "POST"
path = "/api/invoices/{{{{ invoice }}}}/pay"
headers = {{ authorization = "Bearer {{{{ token }}}}" }}
[steps.check]
status = 202
json = {{ "$.invoice_id" = "{{{{ invoice }}}}" }}
"#,
        url = target.url,
        ledger = ledger.display(),
    );
    let file = write(dir.path(), "mixed.toml", &scenario);
    let out = rehearse()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = results(&dir.path().join("out"));
    for name in ["login", "oldest-open-invoice", "pay"] {
        assert_eq!(step(&run, name).outcomes.ok, 20, "{name}: {stdout}");
    }
    assert_eq!(run.workflow.as_ref().unwrap().outcomes.ok, 20);
}

#[test]
fn a_lock_held_on_one_table_slows_exactly_the_step_that_needs_it() {
    if !reachable("PostgreSQL", PG_URL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (table("lock_a"), table("lock_b"));
    let setup: Vec<String> = [&a, &b]
        .iter()
        .flat_map(|t| {
            [
                format!("DROP TABLE IF EXISTS {t}"),
                format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, v BIGINT NOT NULL)"),
                format!("INSERT INTO {t} SELECT g, g FROM generate_series(1, 100) g"),
            ]
        })
        .collect();
    exec(PG_URL, &setup);
    let scenario = format!(
        r#"
name = "sql-lock"
[databases.main]
url = "{PG_URL}"
pool = 16
[load]
rate = "40/s"
duration = "3s"
warmup = "500ms"
[[steps]]
name = "invoices"
[steps.sql]
query = "SELECT v FROM {a} WHERE id = $1"
params = [{{ int = "7" }}]
[[steps]]
name = "balance"
[steps.sql]
query = "SELECT v FROM {b} WHERE id = $1"
params = [{{ int = "7" }}]
"#
    );
    let file = write(dir.path(), "lock.toml", &scenario);
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let run = |branch: &str, out: &str, extra: &[&str]| {
        rehearse()
            .arg("run")
            .arg(&file)
            .args(["--store", &store, "--branch", branch, "--repeat", "3"])
            .arg("--out")
            .arg(dir.path().join(out))
            .args(extra)
            .output()
            .unwrap()
    };
    let base = run("main", "base", &[]);
    assert!(
        base.status.success(),
        "{}",
        String::from_utf8_lossy(&base.stdout)
    );
    // While the candidate runs, the test takes an exclusive lock on the second table for
    // 150 ms of every 300 ms: reads of it wait, reads of the first do not.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let holder = {
        let (stop, b) = (stop.clone(), b.clone());
        std::thread::spawn(move || {
            runtime().block_on(async {
                let mut conn = sqlx::PgConnection::connect(PG_URL).await.unwrap();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let mut tx = conn.begin().await.unwrap();
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "LOCK TABLE {b} IN ACCESS EXCLUSIVE MODE"
                    )))
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    tx.commit().await.unwrap();
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
            })
        })
    };
    let report = dir.path().join("report");
    let cand = run(
        "feature",
        "cand",
        &[
            "--baseline",
            "branch:main",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    holder.join().unwrap();
    exec(
        PG_URL,
        &[format!("DROP TABLE {a}"), format!("DROP TABLE {b}")],
    );
    let stdout = String::from_utf8_lossy(&cand.stdout);
    assert!(
        matches!(cand.status.code(), Some(0 | 1)),
        "{stdout}\n{}",
        String::from_utf8_lossy(&cand.stderr)
    );
    // The last of the three candidate runs.
    let result = results(&dir.path().join("cand/run-3"));
    let locked = step(&result, "balance").latency.p99;
    let free = step(&result, "invoices").latency.p99;
    // Waits of up to 150 ms hit about half the reads of the locked table.
    assert!(locked > 50_000, "balance p99 {locked} µs: {stdout}");
    assert!(
        free < locked / 2,
        "invoices p99 {free} µs vs balance {locked} µs"
    );
    let c = comparison(&dir.path().join("cand"));
    assert_eq!(verdict(&c, "balance"), "regressed", "{stdout}");
}

#[test]
fn a_locked_sqlite_file_times_out_as_a_timeout_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locked.db");
    std::fs::File::create(&file).unwrap();
    let url = format!("sqlite:{}", file.display());
    exec(
        &url,
        &["CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)".into()],
    );
    let scenario = format!(
        r#"
name = "sqlite-lock"
[databases.main]
url = "{url}"
statement_timeout = "100ms"
[load]
rate = "20/s"
duration = "1s"
iterations = 4
[[steps]]
name = "write"
[steps.sql]
query = "INSERT INTO t (v) VALUES (1)"
read_only = false
"#
    );
    let path = write(dir.path(), "lock.toml", &scenario);
    // The test holds the file's write lock for the whole run.
    let out = runtime().block_on(async {
        let mut conn = connect(&url).await.unwrap();
        let Conn::Lite(c) = &mut conn else {
            unreachable!()
        };
        sqlx::raw_sql("BEGIN EXCLUSIVE")
            .execute(&mut *c)
            .await
            .unwrap();
        let out = tokio::task::spawn_blocking(move || {
            rehearse()
                .arg("run")
                .arg(&path)
                .arg("--out")
                .arg(path.with_extension("out"))
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        sqlx::raw_sql("ROLLBACK").execute(&mut *c).await.unwrap();
        out
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = results(&dir.path().join("lock.out"));
    let write = step(&run, "write");
    assert_eq!(write.outcomes.timeout, 4, "{stdout}");
    assert!(
        write.error_samples["timeout"].contains("database is locked (SQLite error 5"),
        "{:?}",
        write.error_samples
    );
}

#[test]
fn a_statement_timeout_and_a_full_pool_are_counted_as_such() {
    if !reachable("PostgreSQL", PG_URL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = format!(
        r#"
name = "pg-limits"
[databases.slow]
url = "{PG_URL}"
statement_timeout = "50ms"
[databases.one]
url = "{PG_URL}"
pool = 1
[load]
rate = "20/s"
duration = "2s"
iterations = 10
[[steps]]
name = "server-limit"
[steps.sql]
database = "slow"
query = "SELECT pg_sleep(0.5)"
[steps.check]
rows = 1
"#
    );
    let path = write(dir.path(), "limits.toml", &scenario);
    let out = rehearse()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("limits"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = results(&dir.path().join("limits"));
    let limited = step(&run, "server-limit");
    // The server cancels each statement after 50 ms: a timeout, with PostgreSQL's code.
    assert_eq!(limited.outcomes.timeout, 10, "{stdout}");
    assert!(
        limited.error_samples["timeout"].contains("SQLSTATE 57014"),
        "{:?}",
        limited.error_samples
    );
    // One connection, statements of 300 ms and a 500 ms timeout, ten arrivals at once: one
    // or two get the connection, the others wait for it the whole timeout.
    let pool = scenario
        .replace("rate = \"20/s\"", "rate = \"1000/s\"")
        .replace("database = \"slow\"", "database = \"one\"")
        .replace("pg_sleep(0.5)", "pg_sleep(0.3)")
        .replace(
            "name = \"server-limit\"",
            "name = \"one-connection\"\ntimeout = \"500ms\"",
        );
    let path = write(dir.path(), "pool.toml", &pool);
    let out = rehearse()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("pool"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let run = results(&dir.path().join("pool"));
    let one = step(&run, "one-connection");
    assert!(one.outcomes.pool_exhausted >= 5, "{stdout}");
    assert!(
        one.error_samples["pool_exhausted"]
            .contains("all 1 connections to database `one` stayed in use for 500ms"),
        "{:?}",
        one.error_samples
    );
}

#[test]
fn ab_refuses_a_scenario_whose_steps_all_query_one_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "only-sql.toml",
        "name = \"only-sql\"\n[databases.main]\nurl = \"sqlite:none.db\"\n[load]\nrate = \"1/s\"\nduration = \"1s\"\n[[steps]]\nname = \"a\"\nsql = { query = \"SELECT 1\" }\n",
    );
    let out = rehearse()
        .arg("ab")
        .arg(&file)
        .args([
            "--baseline-url",
            "http://127.0.0.1:1",
            "--candidate-url",
            "http://127.0.0.1:2",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has only SQL steps"), "{stderr}");
}

#[test]
fn a_failed_statement_rolls_its_transaction_back_and_a_cut_off_step_does_not_poison_the_pool() {
    if !reachable("PostgreSQL", PG_URL) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let t = table("tx");
    exec(
        PG_URL,
        &[
            format!("DROP TABLE IF EXISTS {t}"),
            format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)"),
            format!("INSERT INTO {t} VALUES (1, 0)"),
        ],
    );
    // The second statement fails (a duplicate key): the first one's update must not stay.
    let scenario = format!(
        r#"
name = "pg-tx"
[databases.main]
url = "{PG_URL}"
pool = 2
[load]
rate = "20/s"
duration = "1s"
iterations = 5
[[steps]]
name = "fails"
[steps.sql]
transaction = true
read_only = false
[[steps.sql.statements]]
query = "UPDATE {t} SET n = n + 1 WHERE id = 1"
[[steps.sql.statements]]
query = "INSERT INTO {t} VALUES (1, 0)"
"#
    );
    let path = write(dir.path(), "tx.toml", &scenario);
    rehearse()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("tx"))
        .output()
        .unwrap();
    let run = results(&dir.path().join("tx"));
    let fails = step(&run, "fails");
    assert_eq!(fails.outcomes.query_error, 5, "{:?}", fails.outcomes);
    assert!(fails.error_samples["query_error"].contains("SQLSTATE 23505"));
    assert_eq!(texts(PG_URL, &format!("SELECT n::text FROM {t}")), ["0"]);
    // A step timeout shorter than the statement: a timeout, then the connection is closed
    // and the next iteration's short statement runs on a good one.
    let scenario = format!(
        r#"
name = "pg-cut"
[databases.main]
url = "{PG_URL}?sslmode=disable"
pool = 1
[load]
rate = "1/s"
duration = "4s"
iterations = 4
[[steps]]
name = "maybe-slow"
timeout = "800ms"
[steps.sql]
query = "SELECT pg_sleep(CASE WHEN $1 % 2 = 0 THEN 2.0 ELSE 0 END)"
params = [{{ int = "{{{{ iteration }}}}" }}]
"#
    );
    let path = write(dir.path(), "cut.toml", &scenario);
    rehearse()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(dir.path().join("cut"))
        .output()
        .unwrap();
    let run = results(&dir.path().join("cut"));
    let s = step(&run, "maybe-slow");
    // Iterations 0 and 2 sleep 2 s: cut off (by the server's limit, set to the step's timeout,
    // or by the step); 1 and 3 do not, on the one connection the pool may open.
    assert_eq!(s.outcomes.ok, 2, "{:?} {:?}", s.outcomes, s.error_samples);
    assert_eq!(
        s.outcomes.timeout, 2,
        "{:?} {:?}",
        s.outcomes, s.error_samples
    );
    exec(PG_URL, &[format!("DROP TABLE {t}")]);
}
