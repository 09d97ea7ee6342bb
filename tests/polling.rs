//! Polling steps end to end against the sandbox's asynchronous settlement: the time to
//! settlement a `[steps.until]` step measures tracks the delays the seeded sandbox drew, its
//! polls are counted, a wait that runs out is its own outcome, and a failed check ends the
//! polling at once. The exact claim (a payment settles its drawn delay after the 202 leaves)
//! is the sandbox's paused-clock test; here live timing only bounds what the runner measured.

mod common;

use std::time::Duration;

use common::*;
use rehearse::sandbox::{SandboxConfig, settlement_delays};

/// Iterations of each run; the closed model makes exactly this many payments.
const N: usize = 40;

/// Everything but the settlement is quick, so the settlement is what the polls wait for.
fn config(settle: f64) -> SandboxConfig {
    let quick = [
        "login",
        "list_invoices",
        "pay",
        "payment",
        "receipt",
        "get_invoice",
    ];
    let mut slowdowns: Vec<(String, f64)> = quick.iter().map(|e| (e.to_string(), 0.01)).collect();
    slowdowns.push(("settle".into(), settle));
    SandboxConfig {
        slowdowns,
        ..SandboxConfig::default()
    }
}

/// A scenario that logs in, pays an open invoice and then runs `settle` (a step's tables).
fn scenario(settle: &str) -> String {
    format!(
        r#"name = "settlement"
[target]
base_url = "http://127.0.0.1:1"
[load]
users = 4
duration = "60s"
iterations = {N}
[data]
file = "people.csv"

[[steps]]
name = "login"
[steps.http]
method = "POST"
path = "/api/login"
json = {{ email = "{{{{ email }}}}", password = "hunter2" }}
[steps.capture]
token = {{ json = "$.token" }}

[[steps]]
name = "open-invoices"
[steps.http]
path = "/api/invoices"
query = {{ status = "open", limit = 1 }}
headers = {{ authorization = "Bearer {{{{ token }}}}" }}
[steps.capture]
invoice = {{ json = "$.invoices[0].id" }}

[[steps]]
name = "pay"
[steps.http]
method = "POST"
path = "/api/invoices/{{{{ invoice }}}}/pay"
headers = {{ authorization = "Bearer {{{{ token }}}}" }}
[steps.capture]
payment = {{ json = "$.payment_id" }}
[steps.check]
status = 202

[[steps]]
name = "settle"
{settle}
"#
    )
}

fn run(dir: &std::path::Path, config: SandboxConfig, settle: &str) -> rehearse::model::RunResult {
    // A customer per iteration: two users paying the same invoice at once would conflict.
    let csv: String = std::iter::once("email\n".to_string())
        .chain((1..=N).map(|n| format!("customer{n}@example.com\n")))
        .collect();
    write(dir, "people.csv", &csv);
    let file = write(dir, "settlement.toml", &scenario(settle));
    let target = sandbox(config);
    let out = dir.join("out");
    let o = rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--warmup",
            "0s",
            "--target",
            &target.url,
            "--out",
        ])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let run = results(&out);
    let json = serde_json::to_value(&run).unwrap();
    schema_check(&json).unwrap();
    run
}

/// The `q` quantile (nearest rank) of `values`, µs.
fn quantile(values: &[Duration], q: f64) -> u64 {
    let mut v: Vec<u64> = values.iter().map(|d| d.as_micros() as u64).collect();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

#[test]
fn time_to_settlement_tracks_the_drawn_delays_and_counts_the_polls() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(2.0);
    let drawn = settlement_delays(&config, N);
    let run = run(
        dir.path(),
        config,
        "[steps.http]\npath = \"/api/payments/{{ payment }}\"\nheaders = { authorization = \"Bearer {{ token }}\" }\n[steps.until]\njson = { \"$.status\" = \"settled\" }\ninterval = \"5ms\"\ntimeout = \"20s\"\n",
    );
    let settle = step(&run, "settle");
    assert_eq!(settle.outcomes.ok, N as u64, "{:?}", settle.error_samples);
    assert_eq!(settle.errors, 0);
    // Each payment's polling ends at its first poll after the settlement: never before it
    // (less the moment between the 202 leaving and the first poll going out), at most one
    // interval after it, plus the lookup. Quantiles keep pointwise bounds, so the measured
    // histogram's sit within the same band around the drawn delays'. The slack is for a busy
    // machine's late timers; the drawn median is about 300 ms.
    for (q, measured) in [
        (0.5, settle.latency.p50),
        (0.9, settle.latency.p90),
        (0.99, settle.latency.p99),
    ] {
        let want = quantile(&drawn, q);
        eprintln!("p{}: measured {measured} µs, drawn {want} µs", q * 100.0);
        assert!(
            measured + 25_000 >= want && measured <= want + 5_000 + 60_000,
            "p{}: measured {measured} µs, drawn {want} µs",
            q * 100.0
        );
    }
    let polls = settle
        .polls
        .clone()
        .expect("a polling step reports its polls");
    eprintln!("{polls:?}");
    assert_eq!(polls.attempts, N as u64);
    // One poll at the start and one per 5 ms interval until the settlement; a busy machine's
    // late timers make fewer, never more.
    let most: u64 = drawn.iter().map(|d| d.as_millis() as u64 / 5 + 2).sum();
    assert!(
        polls.requests >= N as u64 * 2 && polls.requests <= most,
        "{polls:?}, at most {most}"
    );
    assert!(polls.max >= 2 && polls.mean >= 2.0, "{polls:?}");
    assert!(
        step(&run, "pay").polls.is_none(),
        "only polling steps count polls"
    );
    // The workflow waits for the settlement.
    let workflow = run.workflow.clone().unwrap();
    assert!(workflow.latency.p50 >= settle.latency.p50);
}

#[test]
fn a_wait_that_runs_out_is_a_poll_timeout_with_its_polls() {
    let dir = tempfile::tempdir().unwrap();
    // Settlement takes seconds here; the step waits 300 ms.
    let run = run(
        dir.path(),
        config(40.0),
        "[steps.http]\npath = \"/api/payments/{{ payment }}\"\nheaders = { authorization = \"Bearer {{ token }}\" }\n[steps.until]\njson = { \"$.status\" = \"settled\" }\ninterval = \"50ms\"\ntimeout = \"300ms\"\n",
    );
    let settle = step(&run, "settle");
    assert_eq!(
        settle.outcomes.poll_timeout, N as u64,
        "{:?}",
        settle.outcomes
    );
    assert_eq!(settle.errors, N as u64);
    assert_eq!(
        settle.latency.count, 0,
        "a wait that ran out has no latency"
    );
    let why = &settle.error_samples["poll_timeout"];
    assert!(
        why.contains("`until` not met within 300ms")
            && why.contains("polls")
            && why.contains(r#"expected "settled", found "pending""#),
        "{why}"
    );
    let polls = settle.polls.clone().unwrap();
    // Polls at 0, 50, …, 250 ms (at most 7 with the one the deadline cuts off).
    assert!(polls.max <= 7 && polls.mean >= 1.0, "{polls:?}");
    let workflow = run.workflow.clone().unwrap();
    assert_eq!(workflow.outcomes.poll_timeout, N as u64);
}

#[test]
fn a_failed_check_ends_the_polling_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let run = run(
        dir.path(),
        config(1.0),
        "[steps.http]\npath = \"/api/payments/pay_0{{ payment }}\"\nheaders = { authorization = \"Bearer {{ token }}\" }\n[steps.until]\njson = { \"$.status\" = \"settled\" }\ninterval = \"10ms\"\ntimeout = \"5s\"\n",
    );
    let settle = step(&run, "settle");
    assert_eq!(settle.outcomes.http_4xx, N as u64, "{:?}", settle.outcomes);
    assert!(settle.error_samples["http_4xx"].contains("payment not found"));
    let polls = settle.polls.clone().unwrap();
    assert_eq!((polls.requests, polls.max), (N as u64, 1), "{polls:?}");
}
