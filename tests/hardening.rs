//! What a careless user or a hostile file or server feeds rehearse: each class of input
//! that once crashed it, exhausted memory, escaped its folder or leaked a secret, end to end.

mod common;

use common::servers::{Endless, RawServer};
use common::*;

/// A minimal results file whose one step has a real histogram, with `extra` fields spliced
/// into the run and `step` fields into the step.
fn results_file(extra: &str, step: &str) -> String {
    let mut h = rehearse::model::new_histogram();
    h.record(1000).unwrap();
    format!(
        r#"{{"schema": 1, "scenario": "pay", {extra} "steps": [{{"name": "a", "histogram": "{}" {step}}}]}}"#,
        rehearse::model::encode(&h)
    )
}

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).to_string()
}

fn stored_runs(store: &str) -> usize {
    let out = rehearse()
        .args(["runs", "list", "--all", "--json", "--store", store])
        .assert()
        .success();
    serde_json::from_slice::<serde_json::Value>(&out.get_output().stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn a_results_file_cannot_name_a_file_outside_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    // A good run first, so the store exists and "unchanged" can be checked.
    let good = write(dir.path(), "good/results.json", &results_file("", ""));
    rehearse()
        .args(["runs", "import", "--store", &store])
        .arg(&good)
        .assert()
        .success();
    for name in ["../../x", "/etc/hostname", "..", "sub/intervals.hlog"] {
        let text = results_file(
            &format!(r#""intervals": {{"file": "{name}", "seconds": 1}},"#),
            "",
        );
        let file = write(dir.path(), "evil/results.json", &text);
        let a = rehearse()
            .args(["runs", "import", "--store", &store])
            .arg(&file)
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("intervals.file"),
            "{name}: {}",
            stderr(&a)
        );
    }
    assert_eq!(stored_runs(&store), 1, "the store is unchanged");
}

#[test]
fn impossible_values_in_a_results_file_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let cases = [
        (
            results_file(
                "",
                r#", "outcomes": {"ok": 18446744073709551615, "timeout": 3}"#,
            ),
            "steps[0].outcomes",
        ),
        (
            results_file(r#""measured_seconds": -2,"#, ""),
            "measured_seconds",
        ),
        (
            results_file("", r#", "throughput": -1"#),
            "steps[0].throughput",
        ),
        (
            results_file("", r#", "error_rate": -0.5"#),
            "steps[0].error_rate",
        ),
    ];
    for (text, field) in cases {
        let file = write(dir.path(), "r/results.json", &text);
        let a = rehearse()
            .args(["runs", "import", "--store", &store])
            .arg(&file)
            .assert()
            .code(2);
        assert!(stderr(&a).contains(field), "{field}: {}", stderr(&a));
    }
    let twice = results_file("", "").replace(
        r#""steps": [{"#,
        r#""steps": [{"name": "a", "histogram": "x"}, {"#,
    );
    let file = write(dir.path(), "d/results.json", &twice);
    let a = rehearse()
        .args(["runs", "import", "--store", &store])
        .arg(&file)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("two steps are called `a`"),
        "{}",
        stderr(&a)
    );
    // A 56-character histogram that declares a 4 GB payload is refused before allocating.
    let bomb = "HISTFAAAABD/////AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let text = format!(
        r#"{{"schema": 1, "scenario": "pay", "steps": [{{"name": "a", "histogram": "{bomb}"}}]}}"#
    );
    let file = write(dir.path(), "b/results.json", &text);
    for command in [
        &["runs", "import"][..],
        &["compare", "--no-such-flag-x"][..],
    ] {
        if command[0] == "compare" {
            let a = rehearse()
                .args(["compare", "--store", &store])
                .arg(&file)
                .arg(&file)
                .assert()
                .code(2);
            assert!(stderr(&a).contains("step `a`"), "{}", stderr(&a));
        } else {
            let a = rehearse()
                .args(command)
                .args(["--store", &store])
                .arg(&file)
                .assert()
                .code(2);
            assert!(stderr(&a).contains("step `a`"), "{}", stderr(&a));
        }
    }
    assert!(
        !dir.path().join("s.db").exists() || stored_runs(&store) == 0,
        "nothing was stored"
    );
}

#[test]
fn data_files_must_be_small_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = |file: &str| {
        format!(
            "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[load]\nusers = 1\niterations = 1\n[data]\nfile = \"{file}\"\n[[steps]]\nname = \"a\"\nhttp = {{ path = \"/{{{{ email }}}}\" }}\n"
        )
    };
    let fifo = dir.path().join("pipe.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let mut files = vec!["/dev/zero".to_string()];
    if made.is_ok_and(|s| s.success()) {
        files.push(fifo.display().to_string());
    }
    files.push(dir.path().display().to_string());
    for file in files {
        let path = write(dir.path(), "s.toml", &scenario(&file));
        let a = rehearse().arg("validate").arg(&path).assert().code(2);
        let err = stderr(&a);
        assert!(err.contains("s.toml:8:8"), "{file}: {err}");
        assert!(err.contains("not a regular file"), "{file}: {err}");
        assert!(
            !err.contains("undefined variable"),
            "a failed data file does not cascade: {err}"
        );
    }
}

#[test]
fn every_number_validate_accepts_run_can_run() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "users = 1000000000000",
            "8:9",
            "`users` must be between 1 and 100,000",
        ),
        (
            "users = 9223372036854775807",
            "8:9",
            "`users` must be between 1 and 100,000",
        ),
        (
            "rate = \"1e308/1us\"\nduration = \"1s\"",
            "8:8",
            "`rate` must be more than 0/s and at most 1,000,000/s",
        ),
        (
            "rate = \"5/s\"\nduration = \"0s\"",
            "9:12",
            "`duration` must be more than 0",
        ),
        (
            "rate = \"5/s\"\nduration = \"1s\"\nwarmup = \"365d\"",
            "10:10",
            "invalid duration",
        ),
        (
            "rate = \"5/s\"\nduration = \"1s\"\nwarmup = \"8760h\"",
            "10:10",
            "`warmup` must be between 0 and 1h",
        ),
        (
            "rate = \"5/s\"\nduration = \"1s\"\nmax_in_flight = 1000000000",
            "10:17",
            "`max_in_flight`",
        ),
    ];
    for (load, at, message) in cases {
        let text = format!(
            "name = \"x\"\n[target]\nbase_url = \"http://127.0.0.1:1\"\n[[steps]]\nname = \"a\"\nhttp = {{ path = \"/\" }}\n[load]\n{load}\n"
        );
        let path = write(dir.path(), "n.toml", &text);
        let a = rehearse().arg("validate").arg(&path).assert().code(2);
        let err = stderr(&a);
        assert!(err.contains(&format!("n.toml:{at}")), "{load}: {err}");
        assert!(err.contains(message), "{load}: {err}");
    }
    let scenario = scenarios().join("pay-invoice.toml");
    for flags in [
        &["--users", "4294967295"][..],
        &["--rate", "1e308/1us"],
        &["--duration", "0s"],
        &["--alpha", "0.9"],
        &["--history", "0"],
        &["--repeat", "21"],
        &["--iterations", "0"],
        &["--link", "javascript:alert(1)"],
    ] {
        rehearse()
            .arg("run")
            .args(flags)
            .arg(&scenario)
            .assert()
            .code(2);
    }
    rehearse()
        .args(["ab", "--same", "--rounds", "51"])
        .arg(&scenario)
        .assert()
        .code(2);
}

#[test]
fn values_from_the_environment_never_reach_anything_written() {
    let echo = RawServer::echo();
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite://{}", dir.path().join("s.db").display());
    let port = echo.url.rsplit(':').next().unwrap().to_string();
    // Every place a scenario can hold a value from the environment: URL credentials, a
    // header, a path, a check's expected text; the server echoes the request back in a 500.
    let scenario = write(
        dir.path(),
        "leak.toml",
        &format!(
            r#"
name = "leak"
[target]
base_url = "http://ci:${{DB_PASS}}@127.0.0.1:{port}"
headers = {{ authorization = "Bearer ${{API_TOKEN}}" }}
[load]
users = 1
iterations = 2
[[steps]]
name = "echo"
http = {{ path = "/customers/{{{{ env.ACCOUNT_KEY }}}}" }}
check = {{ status = [200, 500], body_contains = "{{{{ env.EXPECTED_SECRET }}}}" }}
"#
        ),
    );
    let secrets = [
        ("DB_PASS", "pa55-w0rd-db"),
        ("API_TOKEN", "tok_live_0123456789"),
        ("ACCOUNT_KEY", "acct-key-987654"),
        ("EXPECTED_SECRET", "never-in-the-body"),
    ];
    let out = dir.path().join("out");
    let report = dir.path().join("report");
    let mut cmd = rehearse();
    for (k, v) in secrets {
        cmd.env(k, v);
    }
    let a = cmd
        .args(["run", "-q", "--store", &store, "--out"])
        .arg(&out)
        .arg("--report")
        .arg(&report)
        .arg(&scenario)
        .assert()
        .code(1);
    let mut written = stdout(&a) + &stderr(&a);
    for f in ["results.json", "intervals.hlog"] {
        written += &std::fs::read_to_string(out.join(f)).unwrap_or_default();
    }
    for f in ["index.html", "summary.md", "junit.xml", "results.json"] {
        written += &std::fs::read_to_string(report.join(f)).unwrap();
    }
    let export = rehearse()
        .args(["runs", "list", "--json", "--all", "--store", &store])
        .assert()
        .success();
    written += &stdout(&export);
    let run = results(&out);
    let exported = rehearse()
        .args(["runs", "export", &run.run_id, "--store", &store])
        .assert()
        .success();
    written += &stdout(&exported);
    assert!(written.contains("***"), "secrets are shown masked");
    for (name, value) in secrets {
        assert!(!written.contains(value), "{name} leaked");
        let encoded: String = value.replace('-', "%2D");
        assert!(!written.contains(&encoded), "{name} leaked encoded");
    }
    assert_eq!(
        run.target.as_deref(),
        Some(echo.url.as_str()),
        "credentials stripped"
    );
    let sample = &step(&run, "echo").error_samples["check_failed"];
    assert!(sample.contains("***"), "{sample}");
}

#[test]
fn text_from_a_server_or_a_scenario_cannot_drive_the_terminal() {
    let server = RawServer::fixed(500, "{\"error\": \"\u{1b}[2J\u{1b}[32mPASSED\u{1b}[0m\"}");
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "ansi.toml",
        &format!(
            "name = \"ansi\"\n[target]\nbase_url = \"{}\"\n[load]\nusers = 1\niterations = 1\n[[steps]]\nname = \"log\\u001b[31min\"\nhttp = {{ path = \"/\" }}\n",
            server.url
        ),
    );
    let a = rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("out"))
        .arg("--report")
        .arg(dir.path().join("report"))
        .arg(&scenario)
        .assert()
        .code(1);
    let printed = stdout(&a) + &stderr(&a);
    assert!(!printed.contains('\u{1b}'), "{printed:?}");
    assert!(printed.contains("\\x1b[2J"), "{printed}");
    let md = std::fs::read_to_string(dir.path().join("report/summary.md")).unwrap();
    assert!(!md.contains('\u{1b}'), "{md:?}");
}

#[test]
fn a_broken_workflow_fails_ci_even_without_thresholds() {
    let failing = RawServer::fixed(500, "{\"error\": \"down\"}");
    let dir = tempfile::tempdir().unwrap();
    let scenario = |extra: &str| {
        write(
            dir.path(),
            "s.toml",
            &format!(
                "name = \"s\"\n[target]\nbase_url = \"{}\"\n[load]\nusers = 1\niterations = 5\n[[steps]]\nname = \"h\"\nhttp = {{ path = \"/health\" }}\n{extra}",
                failing.url
            ),
        )
    };
    let a = rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("a"))
        .arg(scenario(""))
        .assert()
        .code(1);
    assert!(
        stdout(&a).contains("workflow.error_rate < 5% (default)"),
        "{}",
        stdout(&a)
    );
    let thresholds = &results(&dir.path().join("a")).thresholds;
    assert!(thresholds[0].threshold.default && !thresholds[0].passed);
    // Turned off, the run is measured and passes: its errors are data.
    rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("b"))
        .arg(scenario("[thresholds]\nerror_rate = \"off\"\n"))
        .assert()
        .success();
    // Overridden, the scenario's own limit replaces the default.
    let c = rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("c"))
        .arg(scenario("[thresholds]\nerror_rate = \"< 50%\"\n"))
        .assert()
        .code(1);
    assert!(!stdout(&c).contains("(default)"), "{}", stdout(&c));
}

#[test]
fn a_wrong_store_is_found_before_anything_is_sent() {
    let listener = RawServer::fixed(200, "{}");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    for store in [
        format!("sqlite://{}/under-a-file/r.db", file.display()),
        "mysql://nope".to_string(),
    ] {
        let a = rehearse()
            .args([
                "run",
                "-q",
                "--iterations",
                "1",
                "--users",
                "1",
                "--store",
                &store,
            ])
            .arg("--target")
            .arg(&listener.url)
            .arg("--out")
            .arg(dir.path().join("out"))
            .arg(scenarios().join("pay-invoice.toml"))
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("before any load is sent"),
            "{}",
            stderr(&a)
        );
    }
    assert_eq!(
        listener
            .connections
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "nothing was sent"
    );
}

#[test]
fn commands_that_only_read_never_create_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nonexist/dir/x.db");
    let store = format!("sqlite://{}", missing.display());
    for args in [
        &["runs", "list"][..],
        &["runs", "show", "0193"],
        &["history", "pay-invoice", "--step", "pay"],
        &["compare", "branch:main", "latest"],
        &["runs", "delete", "0193"],
        &["runs", "prune", "--keep", "3"],
    ] {
        let a = rehearse()
            .args(args)
            .args(["--store", &store])
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("there is no store at") || stderr(&a).contains("no store"),
            "{args:?}: {}",
            stderr(&a)
        );
    }
    assert!(!dir.path().join("nonexist").exists(), "nothing was created");
}

#[test]
fn a_read_only_store_can_still_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ro/r.db");
    let store = format!("sqlite://{}", db.display());
    let good = write(dir.path(), "good/results.json", &results_file("", ""));
    rehearse()
        .args(["runs", "import", "--store", &store])
        .arg(&good)
        .assert()
        .success();
    // As root, permission bits do not stop writes, so the read is done as `nobody` when
    // the tests run as root (and the file is made read-only otherwise).
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let bin = assert_cmd::cargo::cargo_bin!("rehearse");
    let output = if as_root {
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let Some(runuser) = runuser else {
            eprintln!("skipping: runs as root and runuser is not installed");
            return;
        };
        // `nobody` must reach the binary and the store: open the folders on the way.
        for p in [dir.path(), &dir.path().join("ro")] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::process::Command::new(runuser)
            .args(["-u", "nobody", "--"])
            .arg(bin)
            .args(["runs", "list", "--store", &store])
            .output()
            .unwrap()
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
        std::fs::set_permissions(db.parent().unwrap(), std::fs::Permissions::from_mode(0o555))
            .unwrap();
        std::process::Command::new(bin)
            .args(["runs", "list", "--store", &store])
            .output()
            .unwrap()
    };
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    if as_root && text.contains("Permission denied") && text.contains("rehearse") {
        eprintln!("skipping: nobody cannot run the test binary here ({text})");
        return;
    }
    assert!(output.status.success(), "{text}");
    assert!(text.contains("pay"), "{text}");
}

#[test]
fn load_goes_only_to_allowed_hosts() {
    let listener = RawServer::fixed(200, "{}");
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenarios().join("pay-invoice.toml");
    let a = rehearse()
        .env(
            "REHEARSE_ALLOWED_HOSTS",
            "*.staging.example.com, staging-db",
        )
        .args(["run", "-q", "--no-store", "--iterations", "1", "--target"])
        .arg(&listener.url)
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg(&scenario)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("`127.0.0.1` is not in the allowed hosts"),
        "{}",
        stderr(&a)
    );
    let a = rehearse()
        .args([
            "ab",
            "-q",
            "--no-store",
            "--same",
            "--allow-host",
            "api.staging.example.com",
        ])
        .arg("--baseline-url")
        .arg(&listener.url)
        .arg(&scenario)
        .assert()
        .code(2);
    assert!(
        stderr(&a).contains("not in the allowed hosts"),
        "{}",
        stderr(&a)
    );
    assert_eq!(
        listener
            .connections
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "nothing was sent"
    );
}

/// Peak resident memory of a child process, read from /proc while it runs (Linux).
fn peak_rss_kib(child: &mut std::process::Child) -> Option<u64> {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = None;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(line) = text.lines().find(|l| l.starts_with("VmHWM:"))
        {
            peak = line.split_whitespace().nth(1).and_then(|v| v.parse().ok());
        }
        if child.try_wait().unwrap().is_some() {
            return peak;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn an_endless_body_with_a_capture_keeps_memory_bounded() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipping: no /proc to read peak memory from");
        return;
    }
    let server = Endless::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "endless.toml",
        &format!(
            "name = \"endless\"\n[target]\nbase_url = \"{}\"\ntimeout = \"2s\"\n[load]\nrate = \"2000/s\"\nduration = \"1s\"\nmax_in_flight = 1000\n[[steps]]\nname = \"big\"\nhttp = {{ path = \"/\" }}\ncapture = {{ id = {{ json = \"$.id\" }} }}\n[thresholds]\nerror_rate = \"off\"\n",
            server.url
        ),
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("rehearse"))
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("out"))
        .arg(&scenario)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_rss_kib(&mut child).expect("VmHWM is readable");
    eprintln!("peak memory with endless bodies: {} MiB", peak / 1024);
    let run = results(&dir.path().join("out"));
    let big = step(&run, "big");
    assert!(big.count > 0, "{:?}", big.outcomes);
    assert_eq!(big.outcomes.ok, 0, "an endless body never completes");
    assert!(
        peak < 150 * 1024,
        "peak memory {} MiB with {} requests streaming endless bodies",
        peak / 1024,
        big.count
    );
}

#[test]
fn a_body_larger_than_max_body_fails_its_capture_and_says_why() {
    // 300 KB of JSON whose `id` is there: over a 128 KiB `max_body`, the capture is not
    // judged on part of the body, and the message names the limit.
    let server = RawServer::start(|_| {
        let body = format!("{{\"id\": \"x\", \"pad\": \"{}\"}}", "a".repeat(300_000));
        format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = |max_body: &str| {
        write(
            dir.path(),
            "big.toml",
            &format!(
                "name = \"big\"\n[target]\nbase_url = \"{}\"\nmax_body = \"{max_body}\"\n[load]\nusers = 1\niterations = 2\n[[steps]]\nname = \"big\"\nhttp = {{ path = \"/\" }}\ncapture = {{ id = {{ json = \"$.id\" }} }}\n",
                server.url
            ),
        )
    };
    rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("small"))
        .arg(scenario("128KiB"))
        .assert()
        .code(1);
    let run = results(&dir.path().join("small"));
    let s = step(&run, "big");
    assert_eq!(s.outcomes.capture_failed, 2, "{:?}", s.outcomes);
    assert!(
        s.error_samples["capture_failed"].contains("larger than max_body (128 KiB)"),
        "{:?}",
        s.error_samples
    );
    rehearse()
        .args(["run", "-q", "--no-store", "--out"])
        .arg(dir.path().join("large"))
        .arg(scenario("1MiB"))
        .assert()
        .success();
    assert_eq!(
        step(&results(&dir.path().join("large")), "big").outcomes.ok,
        2
    );
}
