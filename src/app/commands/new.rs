//! `rehearse new`: a commented starter scenario (and suite file) for a target, that validates
//! and runs as written, so the first scenario is an edit, not a blank page.

use anyhow::{Context as _, anyhow};

use crate::app::args::NewArgs;
use crate::app::console;
use crate::app::error::{AppError, AppResult, Classify as _, Outcome};
use crate::scenario::{self, Overrides};

/// Writes the starter files and checks that they validate.
pub fn new(args: NewArgs) -> AppResult {
    let name = args.name.trim();
    let valid = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if !valid {
        return Err(AppError::invalid(anyhow!(
            "--name '{name}': use letters, digits, `-`, `_` and `.` (it names the file too)"
        )));
    }
    let uri: http::Uri = args
        .url
        .parse()
        .map_err(|e| AppError::invalid(anyhow!("--url '{}': {e}", args.url)))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
        return Err(AppError::invalid(anyhow!(
            "--url '{}': expected an http:// or https:// URL with a host",
            args.url
        )));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        // A scenario file is committed: credentials belong in the environment.
        return Err(AppError::invalid(anyhow!(
            "--url has credentials: rehearse never writes a secret into a file; give the URL without them and set `base_url = \"${{STAGING_URL}}\"` with the credentials in that variable"
        )));
    }
    let base = args.url.trim().trim_end_matches('/').to_string();
    if base.contains(['"', '\\', '$', '{', '}']) {
        return Err(AppError::invalid(anyhow!(
            "--url '{base}': quotes, backslashes, `$` and braces cannot go into the file's `${{REHEARSE_TARGET:-…}}` default"
        )));
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create '{}'", args.dir.display()))
        .invalid()?;
    let file = args.dir.join(format!("{name}.toml"));
    if file.exists() && !args.force {
        return Err(AppError::invalid(anyhow!(
            "'{}' exists; choose another --name or pass --force to replace it",
            file.display()
        )));
    }
    let text = starter(name, &base);
    // What is written must validate as written; checked before anything is on disk.
    scenario::parse(
        &scenario::SourceFile::new(&file, text.clone()),
        &Overrides::default(),
        &|_| None,
    )
    .map_err(|e| AppError::invalid(anyhow!("the starter scenario does not validate: {e}")))?;
    std::fs::write(&file, &text)
        .with_context(|| format!("cannot write '{}'", file.display()))
        .invalid()?;
    console::out(&format!("wrote {}\n", file.display()));
    if args.suite {
        let suite = args.dir.join(crate::scenario::suite::SUITE_FILE);
        if suite.exists() {
            console::note(&format!("kept {}: it exists", suite.display()));
        } else {
            std::fs::write(&suite, SUITE)
                .with_context(|| format!("cannot write '{}'", suite.display()))
                .invalid()?;
            console::out(&format!("wrote {}\n", suite.display()));
        }
    }
    console::out(&format!(
        "next:\n  rehearse validate {file}\n  rehearse run {file} --out reports/{name}\n",
        file = file.display()
    ));
    Ok(Outcome::Passed)
}

/// The starter scenario: one working step and the common shapes of the others, commented.
fn starter(name: &str, base: &str) -> String {
    STARTER.replace("{{NAME}}", name).replace("{{BASE}}", base)
}

const STARTER: &str = r#"# A customer workflow for rehearse: every key is explained in docs/scenarios.md.
# Check it with `rehearse validate`, run it with `rehearse run`.
name = "{{NAME}}"
description = "What a customer does, step by step."

[target]
# ${REHEARSE_TARGET} (or --target) points the same file at another environment.
base_url = "${REHEARSE_TARGET:-{{BASE}}}"
timeout = "5s"
headers = { accept = "application/json" }

[load]
rate = "5/s"             # open model: 5 customers arrive every second, however slow the target is
duration = "30s"         # measured
warmup = "5s"            # not measured
# users = 10             # closed model instead: 10 customers loop through the workflow

# [vars]                 # static values; ${ENV} values are secret and shown as *** everywhere
# api_key = "${API_KEY}"

# [data]                 # one CSV row per iteration; its columns become variables
# file = "data/customers.csv"

[[steps]]
name = "health"          # replace with the first request a customer makes
[steps.http]
path = "/health"
[steps.check]
status = "2xx"

# [[steps]]
# name = "login"
# [steps.http]
# method = "POST"
# path = "/api/login"
# json = { email = "{{ email }}", password = "{{ password }}" }
# [steps.capture]
# token = { json = "$.token" }          # later steps send "Bearer {{ token }}"

# [[steps]]
# name = "settle"                        # poll until an asynchronous outcome is there
# [steps.http]
# path = "/api/payments/{{ payment }}"
# [steps.until]
# json = { "$.status" = "settled" }
# interval = "100ms"
# timeout = "10s"

[thresholds]             # absolute limits, checked on every run (exit 1 when breached)
error_rate = "1%"
workflow.p95 = "2s"
"#;

const SUITE: &str = r#"# The scenarios CI runs on every merge, with one verdict: docs/scenarios.md, "Suites".
[suite]
target = "${REHEARSE_TARGET:-http://127.0.0.1:8080}"

[thresholds]             # workflow limits for every scenario that sets none of its own
error_rate = "1%"
"#;
