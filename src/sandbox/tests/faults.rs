//! End-to-end tests of the staging look-alike: injected errors, slowdowns, stalls, and lifecycle.

use std::time::Duration;

use serde_json::json;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::super::{ENDPOINTS, SandboxConfig, parse_stall, start};
use super::{call, in_memory, local, login, quick};
#[tokio::test]
async fn error_rate_one_fails_every_named_endpoint_but_not_health() {
    let config = SandboxConfig {
        latency_scale: 0.0,
        error_rate: 1.0,
        ..SandboxConfig::default()
    };
    let sandbox = start(config, local()).await.expect("start");
    let addr = sandbox.addr();
    let routes = [
        ("POST", "/api/login"),
        ("POST", "/api/customers"),
        ("GET", "/api/customers/cus_1"),
        ("POST", "/api/customers/cus_1/cards"),
        ("GET", "/api/invoices"),
        ("GET", "/api/invoices/search?q=x"),
        ("POST", "/api/invoices"),
        ("GET", "/api/invoices/inv_1"),
        ("POST", "/api/invoices/inv_1/pay"),
        ("GET", "/api/receipts/rcp_1"),
        ("GET", "/api/payments/pay_1"),
    ];
    // Every endpoint but `settle`, which is a delay, not a route.
    assert_eq!(routes.len(), ENDPOINTS.len() - 1);
    for (method, path) in routes {
        let answer = call(addr, method, path, None, Some(json!({}))).await;
        assert_eq!(
            (answer.status, answer.body),
            (500, json!({ "error": "injected failure" })),
            "{method} {path}"
        );
    }
    let health = call(addr, "GET", "/health", None, None).await;
    assert_eq!(
        (health.status, health.body),
        (200, json!({ "status": "ok" }))
    );
    sandbox.stop().await;
}

/// Mean time of `n` sequential `GET /api/customers/cus_1` calls, on tokio's paused clock: the
/// time the sandbox made each call take, without any of the machine's own slowness.
async fn mean_customer_latency(config: SandboxConfig, n: u32) -> f64 {
    let server = in_memory(config);
    let token = login(server.clone(), 1).await;
    let started = Instant::now();
    for _ in 0..n {
        let answer = call(
            server.clone(),
            "GET",
            "/api/customers/cus_1",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    started.elapsed().as_secs_f64() / f64::from(n)
}

// Guards against issue 9: measured in wall time, the ratio fell out of range on a busy machine
// (its overhead is added to both sides). On the paused clock only the sandbox's delays count.
// Checked to fail (ratio 1.000) when `Pacing::new` ignores slowdowns.
#[tokio::test(start_paused = true)]
async fn a_slowdown_scales_that_endpoints_latency() {
    // Same seed and request order: both runs draw the same factors, so the ratio is the
    // slowdown's, but for the timer's millisecond ticks (customer's median here is 50 ms).
    let base = SandboxConfig {
        latency_scale: 10.0,
        ..SandboxConfig::default()
    };
    let slowed = SandboxConfig {
        slowdowns: vec![("customer".into(), 3.0)],
        ..base.clone()
    };
    let plain = mean_customer_latency(base, 20).await;
    let slow = mean_customer_latency(slowed, 20).await;
    let ratio = slow / plain;
    assert!(
        (ratio - 3.0).abs() < 0.05,
        "ratio {ratio:.3} ({plain:.4}s vs {slow:.4}s)"
    );
    assert!(
        plain > 0.02,
        "the calls took the drawn latency: {plain:.4}s"
    );
}

/// On the paused clock: pays invoice `n` of customer 1, then looks the payment up every
/// millisecond; returns how long after the 202 arrived it read `settled`.
async fn time_to_settlement(server: super::Server, token: &str) -> Duration {
    let open = call(
        server.clone(),
        "GET",
        "/api/invoices?status=open&limit=1",
        Some(token),
        None,
    )
    .await;
    let invoice = open.body["invoices"][0]["id"]
        .as_str()
        .expect("an open invoice");
    let paid = call(
        server.clone(),
        "POST",
        format!("/api/invoices/{invoice}/pay"),
        Some(token),
        None,
    )
    .await;
    assert_eq!(
        (paid.status, &paid.body["status"]),
        (202, &json!("pending"))
    );
    let accepted = Instant::now();
    let payment = paid.body["payment_id"]
        .as_str()
        .expect("payment_id")
        .to_string();
    loop {
        let answer = call(
            server.clone(),
            "GET",
            format!("/api/payments/{payment}"),
            Some(token),
            None,
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        if answer.body["status"] == "settled" {
            return Instant::now() - accepted;
        }
        assert_eq!(answer.body["status"], "pending");
        tokio::time::sleep(ms(1)).await;
    }
}

// The settlement clock starts when the 202 leaves (not when the pay handler ran, 80 ms before),
// so a client polling from the answer on waits the drawn delay, to the timer's millisecond.
#[tokio::test(start_paused = true)]
async fn a_payment_settles_its_drawn_delay_after_the_answer_and_settle_slows_it() {
    let config = |settle: f64| SandboxConfig {
        slowdowns: vec![("settle".into(), settle), ("payment".into(), 0.001)],
        ..SandboxConfig::default()
    };
    for factor in [1.0, 3.0] {
        let expected = super::super::settlement_delays(&config(factor), 3);
        let server = in_memory(config(factor));
        let token = login(server.clone(), 1).await;
        for want in expected {
            let got = time_to_settlement(server.clone(), &token).await;
            assert!(
                got >= want && got <= want + ms(3),
                "settle={factor}: settled after {got:?}, drawn {want:?}"
            );
        }
    }
    let plain = super::super::settlement_delays(&config(1.0), 20);
    let slow = super::super::settlement_delays(&config(3.0), 20);
    for (p, s) in plain.iter().zip(&slow) {
        assert!((s.as_secs_f64() / p.as_secs_f64() - 3.0).abs() < 1e-6);
    }
}

// Guards against issue 9: in wall time, a request sent late by a busy machine missed the freeze
// or met the next one. On the paused clock, which the stall clock reads, every instant is exact.
// Checked to fail when `wait_out_freeze` returns at once (login then leaves at 465 ms).
#[tokio::test(start_paused = true)]
async fn a_stall_holds_requests_until_the_freeze_ends() {
    let stall = parse_stall("300ms/600ms").expect("stall");
    let config = SandboxConfig {
        latency_scale: 4.0,
        stall: Some(stall),
        ..SandboxConfig::default()
    };
    let t0 = Instant::now();
    let server = in_memory(config);
    let (freeze_start, freeze_end) = (t0 + ms(300), t0 + ms(600));

    // Starts before the freeze (login takes ~100 ms here) and would finish inside it.
    let finishing_inside = tokio::spawn({
        let server = server.clone();
        async move {
            tokio::time::sleep_until(t0 + ms(280)).await;
            login(server, 1).await;
            Instant::now()
        }
    });
    // Arrives inside the freeze.
    let arriving_inside = tokio::spawn({
        let server = server.clone();
        async move {
            tokio::time::sleep_until(t0 + ms(350)).await;
            let sent = Instant::now();
            assert_eq!(call(server, "GET", "/health", None, None).await.status, 200);
            (sent, Instant::now())
        }
    });
    let login_done = finishing_inside.await.expect("login task");
    let (sent, health_done) = arriving_inside.await.expect("health task");
    // Timers fire on millisecond ticks: "at the freeze's end" is within one of them.
    let at_freeze_end = |t: Instant| t >= freeze_end && t < freeze_end + ms(2);
    assert!(
        at_freeze_end(login_done),
        "login left at {:?}",
        login_done - t0
    );
    assert!(sent >= freeze_start && sent < freeze_end);
    assert!(
        at_freeze_end(health_done),
        "health left at {:?}",
        health_done - t0
    );

    // Between freezes the same request is answered at once: no time passes at all.
    let sent = Instant::now();
    assert!(sent >= freeze_end && sent < freeze_end + ms(300));
    call(server, "GET", "/health", None, None).await;
    assert_eq!(sent.elapsed(), Duration::ZERO);
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn a_taken_address_is_named_and_a_dropped_sandbox_stops() {
    let first = quick().await;
    let error = match start(SandboxConfig::default(), first.addr()).await {
        Ok(_) => panic!("bound the same address twice"),
        Err(error) => error,
    };
    assert!(
        error.to_string().contains(&first.addr().to_string()),
        "{error}"
    );

    let addr = first.addr();
    drop(first);
    // The server winds down in the background; new connections are soon refused.
    let refused = async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    // A generous bound: on a busy machine winding down may take a while; forever is the bug.
    tokio::time::timeout(Duration::from_secs(30), refused)
        .await
        .expect("still accepting 30 s after drop");
}
