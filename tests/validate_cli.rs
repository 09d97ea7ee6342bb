//! Bad scenario files: a `file:line:col` error, exit code 2, and nothing sent to the target.

mod common;

use common::*;
use std::io::ErrorKind;
use std::net::TcpListener;

#[test]
fn the_shipped_scenarios_are_valid() {
    let files: Vec<_> = [
        "pay-invoice.toml",
        "browse-invoices.toml",
        "signup-add-card.toml",
    ]
    .iter()
    .map(|f| scenarios().join(f))
    .collect();
    let out = rehearse().arg("validate").args(&files).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(stdout.matches("ok: /").count(), 3, "{stdout}");
    // Several files are also checked as the suite they make.
    assert!(
        stdout.contains("ok: suite `suite`: 3 scenarios"),
        "{stdout}"
    );
    // The SQL example validates with no database at hand (nothing connects to validate).
    let sql = scenarios().join("sql/ledger-queries.toml");
    let out = rehearse().arg("validate").arg(&sql).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        stdout.contains("(ledger-queries: 4 steps, open 50/s for 30s)"),
        "{stdout}"
    );
}

/// (what, file text, expected `line:col`, words in the message)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "invalid TOML",
        "name = \"x\"\n[load\n",
        "2:6",
        "unclosed table",
    ),
    (
        "unknown field",
        "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\nbase_ulr = \"x\"\n",
        "4:1",
        "unknown field `base_ulr`",
    ),
    (
        "wrong type",
        "name = \"x\"\n[load]\nusers = \"ten\"\n",
        "3:9",
        "expected an integer",
    ),
    (
        "bad duration",
        "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[load]\nusers = 1\nduration = \"10 minutes\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n",
        "6:12",
        "invalid duration",
    ),
    (
        "bad rate",
        "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[load]\nrate = \"fast\"\nduration = \"1s\"\n[[steps]]\nname = \"a\"\nhttp = { path = \"/\" }\n",
        "5:8",
        "invalid rate",
    ),
    (
        "undefined variable",
        "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"a\"\n[steps.http]\npath = \"/invoices/{{ invoce }}\"\n",
        "10:19",
        "undefined variable `invoce`",
    ),
    (
        "missing environment variable",
        "name = \"x\"\n[target]\nbase_url = \"${REHEARSE_TEST_SURELY_UNSET}\"\n",
        "3:13",
        "REHEARSE_TEST_SURELY_UNSET",
    ),
];

#[test]
fn each_class_of_bad_input_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (what, text, at, words) in CASES {
        let file = write(dir.path(), "bad.toml", text);
        let out = rehearse().arg("validate").arg(&file).assert().code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        let location = format!("{}:{at}: error:", file.display());
        assert!(
            stderr.contains(&location),
            "{what}: expected `{location}` in:\n{stderr}"
        );
        assert!(
            stderr.contains(words),
            "{what}: expected `{words}` in:\n{stderr}"
        );
    }
}

#[test]
fn a_bad_scenario_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    // Valid except for one undefined variable in the last step.
    let text = format!(
        "name = \"x\"\n[target]\nbase_url = \"{url}\"\n[load]\nrate = \"50/s\"\nduration = \"1s\"\n[[steps]]\nname = \"a\"\nhttp = {{ path = \"/health\" }}\n[[steps]]\nname = \"b\"\nhttp = {{ path = \"/{{{{ nope }}}}\" }}\n"
    );
    let file = write(dir.path(), "s.toml", &text);
    rehearse()
        .args(["run", "-q", "--out"])
        .arg(dir.path().join("out"))
        .arg(&file)
        .assert()
        .code(2);
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the target was contacted: {other:?}"),
    }
    assert!(!dir.path().join("out").join("results.json").exists());
}

#[test]
fn usage_errors_exit_with_2() {
    rehearse().args(["run"]).assert().code(2);
    rehearse()
        .args(["run", "x.toml", "--rate", "fast"])
        .assert()
        .code(2);
    rehearse()
        .args(["sandbox", "--slowdown", "nosuch=2"])
        .assert()
        .code(2);
    let out = rehearse()
        .args(["run", "does-not-exist.toml"])
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("does-not-exist.toml"));
}
