//! End-to-end tests of the staging look-alike: injected errors, slowdowns, stalls, and lifecycle.

use std::time::Duration;

use serde_json::json;
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::super::{ENDPOINTS, SandboxConfig, parse_stall, start};
use super::{call, local, login, quick};
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
    ];
    assert_eq!(routes.len(), ENDPOINTS.len());
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

/// Mean wall time of `n` sequential `GET /api/customers/cus_1` calls.
async fn mean_customer_latency(config: SandboxConfig, n: u32) -> f64 {
    let sandbox = start(config, local()).await.expect("start");
    let token = login(sandbox.addr(), 1).await;
    let started = Instant::now();
    for _ in 0..n {
        let answer = call(
            sandbox.addr(),
            "GET",
            "/api/customers/cus_1",
            Some(&token),
            None,
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    sandbox.stop().await;
    started.elapsed().as_secs_f64() / f64::from(n)
}

#[tokio::test]
async fn a_slowdown_scales_that_endpoints_latency() {
    // Same seed and request order: both runs draw the same factors, so the ratio is stable.
    let base = SandboxConfig {
        latency_scale: 2.0,
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
        (2.2..3.6).contains(&ratio),
        "ratio {ratio:.2} ({plain:.4}s vs {slow:.4}s)"
    );
}

#[tokio::test]
async fn a_stall_holds_requests_until_the_freeze_ends() {
    let stall = parse_stall("300ms/600ms").expect("stall");
    let config = SandboxConfig {
        latency_scale: 4.0,
        stall: Some(stall),
        ..SandboxConfig::default()
    };
    let t0 = Instant::now();
    let sandbox = start(config, local()).await.expect("start");
    let addr = sandbox.addr();
    let freeze_end = t0 + Duration::from_millis(600);

    // Starts before the freeze (login takes ~100 ms here) and would finish inside it.
    let finishing_inside = tokio::spawn(async move {
        tokio::time::sleep_until(t0 + Duration::from_millis(280)).await;
        login(addr, 1).await;
        Instant::now()
    });
    // Arrives inside the freeze.
    let arriving_inside = tokio::spawn(async move {
        tokio::time::sleep_until(t0 + Duration::from_millis(350)).await;
        let sent = Instant::now();
        assert_eq!(call(addr, "GET", "/health", None, None).await.status, 200);
        (sent, Instant::now())
    });
    let login_done = finishing_inside.await.expect("login task");
    let (sent, health_done) = arriving_inside.await.expect("health task");
    assert!(
        login_done >= freeze_end,
        "login left {:?} early",
        freeze_end - login_done
    );
    assert!(
        health_done >= freeze_end,
        "health left {:?} early",
        freeze_end - health_done
    );
    assert!(health_done - sent >= Duration::from_millis(200));

    // Between freezes the same request is answered at once.
    let sent = Instant::now();
    call(addr, "GET", "/health", None, None).await;
    assert!(
        sent.elapsed() < Duration::from_millis(150),
        "took {:?}",
        sent.elapsed()
    );
    sandbox.stop().await;
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
    tokio::time::timeout(Duration::from_secs(2), refused)
        .await
        .expect("still accepting after drop");
}
