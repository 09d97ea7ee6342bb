//! Validation tests: good files build the expected plan, bad ones point at the right place.

use super::*;
use std::time::Duration;

fn env(name: &str) -> Option<String> {
    match name {
        "STAGING" => Some("http://staging.internal:8080/v2".into()),
        "TOKEN" => Some("s3cret".into()),
        _ => None,
    }
}

fn check(text: &str) -> Result<Plan, ScenarioErrors> {
    parse(
        &SourceFile::new("t.toml", text),
        &Overrides::default(),
        &env,
    )
}

fn first_error(text: &str) -> Diagnostic {
    match check(text) {
        Ok(_) => panic!("expected an error for:\n{text}"),
        Err(e) => e.0.into_iter().next().unwrap(),
    }
}

const GOOD: &str = r#"
name = "pay-invoice"
description = "log in and pay"

[target]
base_url = "${STAGING}"
timeout = "2s"
headers = { accept = "application/json" }

[load]
rate = "20/s"
duration = "30s"
warmup = "5s"

[vars]
password = "hunter2"
api = "${TOKEN}"

[[steps]]
name = "login"
think = "100ms..200ms"
[steps.http]
method = "post"
path = "/api/login"
json = { email = "a@example.com", password = "{{ password }}", n = 3 }
[steps.capture]
token = { json = "$.token" }

[[steps]]
name = "list"
[steps.http]
path = "/api/invoices"
query = { status = "open", limit = 5, who = "{{ token }}" }
headers = { authorization = "Bearer {{ token }}", x-api = "{{ env.TOKEN }}" }
[steps.check]
status = [200, "3xx"]
json = { "$.total" = 12, "/invoices/0/status" = "open" }
body_contains = "invoices"
"#;

#[test]
fn a_complete_scenario_builds() {
    let plan = check(GOOD).unwrap();
    assert_eq!(plan.name, "pay-invoice");
    assert_eq!(plan.target.host, "staging.internal");
    assert_eq!(plan.target.port, 8080);
    assert_eq!(plan.target.base_path, "/v2");
    assert_eq!(plan.target.timeout, Duration::from_secs(2));
    assert_eq!(plan.load.warmup, Duration::from_secs(5));
    assert_eq!(
        plan.load.profile,
        Profile::constant(20.0, Duration::from_secs(30))
    );
    assert!(matches!(
        plan.load.model,
        LoadModel::Open {
            max_in_flight: 1000
        }
    ));
    assert_eq!(plan.steps.len(), 2);
    assert_eq!(plan.captures, vec!["token".to_string()]);
    let StepAction::Http(login) = &plan.steps[0].action else {
        panic!("http step")
    };
    assert_eq!(login.method, http::Method::POST);
    let BodyPlan::Json(body) = &login.body else {
        panic!("json body")
    };
    assert_eq!(
        body.as_literal(),
        Some(r#"{"email":"a@example.com","n":3,"password":"hunter2"}"#)
    );
    let StepAction::Http(list) = &plan.steps[1].action else {
        panic!("http step")
    };
    assert_eq!(list.query.len(), 3);
    assert_eq!(plan.steps[1].checks.status, vec![200..=200, 300..=399]);
    assert_eq!(plan.steps[1].checks.json.len(), 2);
    assert!(plan.hash.starts_with("sha256:") && plan.hash.len() == 71);
}

#[test]
fn overrides_replace_the_target_and_the_load() {
    let o = Overrides {
        target: Some("https://example.test".into()),
        duration: Some(Duration::from_secs(3)),
        users: Some(4),
        ..Default::default()
    };
    let plan = parse(&SourceFile::new("t.toml", GOOD), &o, &env).unwrap();
    assert_eq!(plan.target.port, 443);
    assert!(plan.target.tls.is_some());
    assert!(matches!(plan.load.model, LoadModel::Closed { .. }));
    assert_eq!(
        plan.load.profile,
        Profile::constant(4.0, Duration::from_secs(3))
    );
}

#[test]
fn stages_ramp_and_scale() {
    let text = GOOD.replace(
        "rate = \"20/s\"\nduration = \"30s\"",
        "stages = [ { duration = \"10s\", rate = \"10/s\" }, { duration = \"20s\", rate = \"10/s\" } ]",
    );
    let plan = check(&text).unwrap();
    let p = &plan.load.profile;
    assert_eq!(p.duration(), Duration::from_secs(30));
    assert_eq!(p.level_at(Duration::from_secs(5)), 5.0);
    assert_eq!(p.level_at(Duration::from_secs(20)), 10.0);
    assert_eq!(p.warmup_level(), 10.0);
}

/// (what is wrong, text, expected line, expected column, words the message must contain)
const BAD: &[(&str, &str, usize, usize, &str)] = &[
    ("invalid TOML", "name = \"x\"\n[load\nusers = 1\n", 2, 6, ""),
    (
        "unknown field",
        "name = \"x\"\n[load]\nrat = \"5/s\"\n",
        3,
        1,
        "unknown field `rat`",
    ),
    (
        "wrong type",
        "name = \"x\"\n[load]\nusers = \"ten\"\n",
        3,
        9,
        "integer",
    ),
    (
        "bad duration",
        "name = \"x\"\n[load]\nusers = 1\nduration = \"30 sec\"\n",
        4,
        12,
        "invalid duration",
    ),
    (
        "bad rate",
        "name = \"x\"\n[load]\nrate = \"50\"\nduration = \"1s\"\n",
        3,
        8,
        "invalid rate",
    ),
    (
        "undefined variable",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"a\"\nhttp = { path = \"/a/{{ tokn }}\" }\n",
        9,
        21,
        "undefined variable `tokn`",
    ),
    (
        "capture used before it is made",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"a\"\nhttp = { path = \"/{{ t }}\" }\n[[steps]]\nname = \"b\"\nhttp = { path = \"/\" }\ncapture = { t = { json = \"$.t\" } }\n",
        9,
        19,
        "captured by step `b`",
    ),
    (
        "missing env",
        "name = \"x\"\n[target]\nbase_url = \"${NOPE}\"\n",
        3,
        13,
        "`NOPE` is not set",
    ),
    (
        "bad status",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\ncheck = { status = \"9xx\" }\n",
        10,
        20,
        "invalid status",
    ),
    (
        "bad regex",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\ncapture = { t = { regex = \"(\" } }\n",
        10,
        27,
        "invalid regex",
    ),
    (
        "mixed models",
        "name = \"x\"\n[load]\nrate = \"1/s\"\nusers = 2\nduration = \"1s\"\n",
        2,
        1,
        "mixes",
    ),
    (
        "open setting in closed load",
        "name = \"x\"\n[load]\nmodel = \"closed\"\nrate = \"1/s\"\nduration = \"1s\"\n",
        4,
        8,
        "belongs to the open model",
    ),
    (
        "bad method",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[[steps]]\nname = \"a\"\nhttp = { method = \"FETCH\", path = \"/\" }\n",
        6,
        19,
        "unknown HTTP method",
    ),
    (
        "duplicate step",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n",
        8,
        8,
        "duplicate step name",
    ),
    (
        "sql step as text",
        "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[[steps]]\nname = \"a\"\nsql = \"select 1\"\n",
        6,
        7,
        "invalid type",
    ),
    (
        "bad base url",
        "name = \"x\"\n[target]\nbase_url = \"ftp://h\"\n",
        3,
        12,
        "http:// or https://",
    ),
];

#[test]
fn bad_input_points_at_line_and_column() {
    for (what, text, line, column, words) in BAD {
        let all = check(text).expect_err(what).0;
        let d = all
            .iter()
            .find(|d| d.message.contains(words))
            .unwrap_or_else(|| panic!("{what}: no message contains {words:?}: {all:?}"));
        assert_eq!((d.line, d.column), (*line, *column), "{what}: {d}");
        assert_eq!(d.file, std::path::PathBuf::from("t.toml"));
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let text = "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nusers = 1\nduration = \"1 s\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/{{ a }}/{{ b }}\" }\n";
    let errors = check(text).unwrap_err().0;
    assert_eq!(errors.len(), 3, "{errors:?}");
}

#[test]
fn a_typo_gets_a_suggestion() {
    let text = "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[vars]\ncustomer = \"c\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/{{ custmer }}\" }\n";
    let d = first_error(text);
    assert_eq!(d.help.as_deref(), Some("did you mean `customer`?"));
}

#[test]
fn thresholds_and_compare_settings_build() {
    let text = format!(
        "{GOOD}\n[thresholds]\nerror_rate = \"1%\"\nthroughput = \">= 45/s\"\nworkflow.p95 = \"1.5s\"\n\"login\".p99 = \"< 400ms\"\n[compare]\nalpha = 0.01\nhistory = 20\nmin_effect = {{ p99 = \"10%\" }}\neq_margin = \"5%\"\n"
    );
    let plan = check(&text).unwrap();
    let t: Vec<(String, &str, String, f64)> = plan
        .thresholds
        .iter()
        .map(|t| (t.step.clone(), t.metric.name(), t.op.to_string(), t.limit))
        .collect();
    assert_eq!(
        t,
        vec![
            ("workflow".into(), "error_rate", "<=".into(), 0.01),
            ("login".into(), "p99", "<".into(), 400_000.0),
            ("workflow".into(), "throughput", ">=".into(), 45.0),
            ("workflow".into(), "p95", "<=".into(), 1_500_000.0),
        ]
    );
    assert_eq!(plan.thresholds[1].expression, "login.p99 < 400ms");
    assert!(plan.thresholds[0].workflow && !plan.thresholds[1].workflow);
    assert_eq!(plan.compare.alpha, Some(0.01));
    assert_eq!(plan.compare.history, Some(20));
    assert_eq!(plan.compare.min_effect["p99"], 0.1);
    assert_eq!(plan.compare.eq_margin, Some(0.05));
}

#[test]
fn bad_thresholds_point_at_the_fault() {
    let bad = [
        (
            "\"logn\".p99 = \"1s\"",
            "unknown step `logn`",
            "did you mean `login`?",
        ),
        (
            "\"login\".p98 = \"1s\"",
            "unknown threshold metric `p98`",
            "",
        ),
        ("\"login\".p99 = \"fast\"", "invalid duration", ""),
        ("error_rate = \"150%\"", "invalid fraction", ""),
        ("throughput = \"45\"", "invalid rate", ""),
    ];
    for (line, words, help) in bad {
        let text =
            GOOD.replace("name = \"list\"", "name = \"q\"") + "\n[thresholds]\n" + line + "\n";
        let all = check(&text).expect_err(line).0;
        let d = all
            .iter()
            .find(|d| d.message.contains(words))
            .unwrap_or_else(|| panic!("{line}: {all:?}"));
        let last_line = text.lines().count();
        assert_eq!(d.line, last_line, "{line}: {d}");
        if !help.is_empty() {
            assert_eq!(d.help.as_deref(), Some(help), "{line}");
        }
    }
}

#[test]
fn a_shorter_duration_keeps_a_single_stage_ramp_a_ramp() {
    let text = GOOD.replace(
        "rate = \"20/s\"\nduration = \"30s\"",
        "start_rate = \"1/s\"\nstages = [ { duration = \"30s\", rate = \"20/s\" } ]",
    );
    let o = Overrides {
        duration: Some(Duration::from_secs(3)),
        ..Default::default()
    };
    let plan = parse(&SourceFile::new("t.toml", text), &o, &env).unwrap();
    let p = &plan.load.profile;
    assert_eq!(p.duration(), Duration::from_secs(3));
    assert_eq!(p.start, 1.0);
    assert_eq!(
        p.level_at(Duration::from_millis(1500)),
        10.5,
        "halfway up the ramp"
    );
}

const POLL: &str = "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[[steps]]\nname = \"settle\"\nhttp = { path = \"/p\" }\n";

#[test]
fn a_polling_step_builds_with_its_pace_and_condition() {
    let text = format!(
        "{POLL}[steps.until]\njson = {{ \"$.status\" = \"settled\" }}\ninterval = \"20ms\"\ntimeout = \"10s\"\n"
    );
    let plan = check(&text).unwrap();
    let until = plan.steps[0].until.as_ref().unwrap();
    assert_eq!(until.interval, Duration::from_millis(20));
    assert_eq!(until.timeout, Duration::from_secs(10));
    assert_eq!(until.checks.json[0].pointer, "/status");
    assert!(
        until.checks.status.is_empty(),
        "no status condition unless given"
    );
    assert!(plan.steps[0].needs_body());
    let defaults = check(&format!("{POLL}[steps.until]\nstatus = 200\n")).unwrap();
    let until = defaults.steps[0].until.as_ref().unwrap();
    assert_eq!(until.interval, Duration::from_millis(250));
    assert_eq!(until.timeout, Duration::from_secs(30));
    assert_eq!(until.checks.status, vec![200..=200]);
    assert!(check(POLL).unwrap().steps[0].until.is_none());
}

#[test]
fn bad_polling_steps_point_at_the_fault() {
    let cases = [
        ("[steps.until]\ninterval = \"1s\"\n", 7, 1, "no condition"),
        (
            "[steps.until]\nstatus = 200\ninterval = \"0s\"\n",
            9,
            12,
            "until.interval",
        ),
        (
            "[steps.until]\nstatus = 200\ninterval = \"500us\"\n",
            9,
            12,
            "at least 1ms",
        ),
        (
            "[steps.until]\nstatus = 200\ninterval = \"5s\"\ntimeout = \"1s\"\n",
            9,
            12,
            "would poll once",
        ),
        ("[steps.until]\njson = { \"status\" = 1 }\n", 8, 10, "JSON"),
        ("[steps.until]\nstatus = \"6xx\"\n", 8, 10, "status"),
        (
            "[steps.until]\nstatus = 200\nevery = \"1s\"\n",
            9,
            1,
            "every",
        ),
    ];
    for (until, line, column, words) in cases {
        let text = format!("{POLL}{until}");
        let all = check(&text).expect_err(until).0;
        let d = all
            .iter()
            .find(|d| d.message.contains(words))
            .unwrap_or_else(|| panic!("{until}: no message contains {words:?}: {all:?}"));
        assert_eq!((d.line, d.column), (line, column), "{until}: {d}");
    }
}

const SQL: &str = "name = \"x\"\n[databases.ledger]\nurl = \"postgres://app:pa55@db.staging:5432/ledger\"\n[load]\nrate = \"1/s\"\nduration = \"1s\"\n[[steps]]\nname = \"a\"\n";

#[test]
fn a_sql_step_builds_with_bound_parameters_and_row_captures() {
    let text = format!(
        "{SQL}[steps.sql]\nquery = \"SELECT id, status FROM invoices WHERE customer = $1 AND id > $2\"\nparams = [\"{{{{ iteration }}}}\", {{ int = \"{{{{ iteration }}}}\" }}]\n[steps.capture]\ninvoice = {{ column = \"id\" }}\nthird = {{ row = 2, column = \"id\" }}\nn = {{ row_count = true }}\n[steps.check]\nrows = \">= 1\"\ncolumns = {{ status = \"open\" }}\n"
    );
    let plan = check(&text).unwrap();
    let db = &plan.databases[0];
    assert_eq!(db.driver, Driver::Postgres);
    assert_eq!(db.display, "postgres://app:***@db.staging:5432/ledger");
    assert_eq!(db.host.as_deref(), Some("db.staging"));
    assert_eq!(plan.secrets.redact("pw pa55"), "pw ***");
    // No HTTP step and no [target]: the run's target is the database, shown without its password.
    assert_eq!(plan.target.base_url, db.display);
    assert_eq!(plan.target.host, "db.staging");
    let StepAction::Sql(sql) = &plan.steps[0].action else {
        panic!("not a sql step")
    };
    assert!(sql.read_only && sql.prepare && !sql.transaction);
    assert_eq!(sql.statements[0].params.len(), 2);
    assert_eq!(sql.statements[0].params[1].kind, ParamKind::Int);
    assert_eq!(sql.rows_needed, Some(2));
    assert_eq!(plan.steps[0].checks.rows, Some(1..=u64::MAX));
    assert!(plan.steps[0].checks.status.is_empty());
    assert!(matches!(
        plan.steps[0].captures[0].source,
        CaptureSource::Column { row: 0, .. }
    ));
}

#[test]
fn bad_sql_steps_point_at_the_fault() {
    let cases = [
        ("[steps.sql]\n", 9, 1, "no statement"),
        (
            "[steps.sql]\nquery = \"SELECT * FROM t WHERE id = '{{ id }}'\"\n",
            10,
            9,
            "values are bound as parameters",
        ),
        (
            "[steps.sql]\ndatabase = \"orders\"\nquery = \"SELECT 1\"\n",
            10,
            12,
            "no database `orders`",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\nparams = [[1]]\n",
            11,
            11,
            "a parameter is",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\nparams = [{ date = \"x\" }]\n",
            11,
            11,
            "unknown parameter type",
        ),
        (
            "[steps.sql]\n[[steps.sql.statements]]\nquery = \"UPDATE t SET a = 1\"\n[[steps.sql.statements]]\nquery = \"SELECT 1\"\n",
            9,
            1,
            "say whether they run in one transaction",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.check]\nstatus = 200\n",
            12,
            10,
            "`check.status` is for HTTP steps",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.check]\nrows = \"10..1\"\n",
            12,
            8,
            "`rows` is a count",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.capture]\nid = { json = \"$.id\" }\n",
            12,
            15,
            "reads an HTTP response",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.capture]\nid = { row = 1 }\n",
            12,
            6,
            "needs a `column`",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.until]\nstatus = 200\n",
            11,
            1,
            "`until` is for HTTP steps",
        ),
        (
            "[steps.sql]\nquery = \"SELECT * FROM t WHERE a = $1 AND b = $2\"\nparams = [1]\n",
            10,
            9,
            "2 placeholders ($1, $2, …) and 1 parameter",
        ),
        (
            "[steps.sql]\nquery = \"BEGIN\"\n",
            10,
            9,
            "`BEGIN` controls the transaction",
        ),
        (
            "[steps.sql]\nquery = \"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE\"\n",
            10,
            9,
            "read-only setting",
        ),
        (
            "[steps.sql]\nquery = \"SELECT 1\"\n[steps.check]\ncolumns = { x = nan }\n",
            12,
            17,
            "not nan or inf",
        ),
        (
            "http = { path = \"/\" }\n[steps.capture]\nid = { column = \"id\" }\n",
            11,
            17,
            "reads a `sql` step's rows",
        ),
    ];
    for (step, line, column, words) in cases {
        let text = format!("{SQL}{step}");
        let all = check(&text).expect_err(step).0;
        let d = all
            .iter()
            .find(|d| d.message.contains(words))
            .unwrap_or_else(|| panic!("{step}: no message contains {words:?}: {all:?}"));
        assert_eq!((d.line, d.column), (line, column), "{step}: {d}");
    }
}

#[test]
fn bad_database_urls_are_refused_without_quoting_them() {
    let text = "name = \"x\"\n[databases.ledger]\nurl = \"oracle://u:topsecret@h/x\"\n[load]\nrate = \"1/s\"\nduration = \"1s\"\n[[steps]]\nname = \"a\"\nsql = { query = \"SELECT 1\" }\n";
    let all = check(text).unwrap_err().0;
    let d = all
        .iter()
        .find(|d| d.message.contains("unknown database scheme"))
        .unwrap_or_else(|| panic!("{all:?}"));
    assert_eq!((d.line, d.column), (3, 7));
    // The message never repeats the URL (the source excerpt shows what the file holds).
    assert!(all.iter().all(|d| !d.message.contains("topsecret")));
    let text = text
        .replace("oracle://u:topsecret@h/x", "postgres://h/x")
        .replace("[load]", "pool = 0\n[load]");
    let d = first_error(&text);
    assert!(
        d.message.contains("`pool` must be between 1 and 1000"),
        "{d}"
    );
}

#[test]
fn poisson_arrivals_belong_to_the_open_model() {
    let open = "name = \"x\"\n[target]\nbase_url = \"http://h\"\n[load]\nrate = \"5/s\"\nduration = \"1s\"\narrivals = \"poisson\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n";
    assert_eq!(check(open).unwrap().load.arrivals, Arrivals::Poisson);
    // Without a rate, `arrivals` alone makes the load open: it still needs a rate.
    let closed = open.replace("rate = \"5/s\"", "users = 2");
    let d = first_error(&closed);
    assert!(d.message.contains("mixes open-model settings"), "{d}");
    let bad = open.replace("\"poisson\"", "\"bursty\"");
    let d = first_error(&bad);
    assert_eq!((d.line, d.column), (7, 12), "{d}");
    assert!(d.message.contains("unknown arrival process"), "{d}");
}
