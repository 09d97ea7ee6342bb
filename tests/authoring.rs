//! Authoring help: `rehearse new` writes a starter scenario (and suite file) that validates
//! and runs against the sandbox as written, never overwrites unasked and never writes a
//! credential; `rehearse completions` prints a script each shell accepts.

mod common;

use common::*;

#[test]
fn new_writes_a_starter_that_validates_and_runs_as_written() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("scenarios");
    let out = rehearse()
        .args([
            "new",
            "--name",
            "checkout",
            "--suite",
            "--url",
            &target.url,
            "--dir",
        ])
        .arg(&folder)
        .assert()
        .success();
    let said = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert!(
        said.contains("checkout.toml") && said.contains("rehearse.toml"),
        "{said}"
    );
    let text = std::fs::read_to_string(folder.join("checkout.toml")).unwrap();
    assert!(
        text.contains(&format!("${{REHEARSE_TARGET:-{}}}", target.url)),
        "{text}"
    );
    rehearse()
        .arg("validate")
        .arg(folder.join("checkout.toml"))
        .assert()
        .success();
    // The folder is a suite with its suite file.
    let suite = rehearse().arg("validate").arg(&folder).assert().success();
    assert!(String::from_utf8_lossy(&suite.get_output().stdout).contains("ok: suite"));
    let run = rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--duration",
            "1s",
            "--warmup",
            "0s",
            "--out",
        ])
        .arg(dir.path().join("out"))
        .arg(folder.join("checkout.toml"))
        .env("REHEARSE_TARGET", &target.url)
        .assert()
        .success();
    let _ = run;
    let results = results(&dir.path().join("out"));
    assert_eq!(results.scenario, "checkout");
    assert_eq!(step(&results, "health").errors, 0);
    assert!(step(&results, "health").count > 0);
}

#[test]
fn new_refuses_to_overwrite_or_to_write_a_credential() {
    let dir = tempfile::tempdir().unwrap();
    let new = |extra: &[&str]| {
        rehearse()
            .args(["new", "--dir"])
            .arg(dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(new(&["--name", "a"]).status.success());
    let again = new(&["--name", "a"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(new(&["--name", "a", "--force"]).status.success());
    let secret = new(&["--name", "b", "--url", "https://ci:hunter2@staging.example"]);
    assert_eq!(secret.status.code(), Some(2));
    let said = String::from_utf8_lossy(&secret.stderr);
    assert!(
        said.contains("credentials") && !said.contains("hunter2"),
        "{said}"
    );
    assert!(!dir.path().join("b.toml").exists());
    for (flags, words) in [
        (&["--name", "../up"][..], "--name"),
        (&["--name", "c", "--url", "ftp://host"][..], "http://"),
        (&["--name", "c", "--url", "http://host/}x"][..], "braces"),
    ] {
        let o = new(flags);
        assert_eq!(o.status.code(), Some(2), "{flags:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(words),
            "{flags:?}"
        );
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = rehearse().args(["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        for word in ["rehearse", "validate", "compare", "baseline", "completions"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
        if shell == "bash" {
            let dir = tempfile::tempdir().unwrap();
            let file = write(dir.path(), "rehearse.bash", &script);
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let bad = rehearse().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}
