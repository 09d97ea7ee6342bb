//! HAR import end to end, from real traffic: rehearse replays the shipped pay-invoice workflow
//! through a recording proxy in front of the sandbox; what crossed the proxy becomes a HAR
//! file, `rehearse import har` makes a scenario of it (the token, invoice, payment and receipt
//! ids correlated, the password moved to the environment), and that scenario validates and
//! runs against a fresh sandbox with no error.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value, json};

/// One HTTP/1.1 message: start line, headers, body.
#[derive(Debug, Clone)]
struct Message {
    start: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one message with a Content-Length body (what rehearse and the sandbox send); none at
/// the end of the connection.
fn read_message(r: &mut BufReader<TcpStream>) -> Option<Message> {
    let mut start = String::new();
    if r.read_line(&mut start).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Message {
        start: start.trim_end().to_string(),
        headers,
        body,
    })
}

fn write_message(w: &mut TcpStream, m: &Message) {
    let mut out = format!("{}\r\n", m.start);
    for (k, v) in &m.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    w.write_all(out.as_bytes()).unwrap();
    w.write_all(&m.body).unwrap();
}

/// The exchanges a proxy saw, in order.
type Recording = Arc<Mutex<Vec<(Message, Message)>>>;

/// A proxy on a loopback port that forwards every exchange to `upstream` and keeps it.
fn recording_proxy(upstream: std::net::SocketAddr) -> (String, Recording) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let log: Recording = Arc::default();
    let kept = log.clone();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let log = kept.clone();
            std::thread::spawn(move || {
                let server = TcpStream::connect(upstream).unwrap();
                let mut from_client = BufReader::new(client.try_clone().unwrap());
                let mut from_server = BufReader::new(server.try_clone().unwrap());
                let (mut to_client, mut to_server) = (client, server);
                while let Some(request) = read_message(&mut from_client) {
                    write_message(&mut to_server, &request);
                    let Some(response) = read_message(&mut from_server) else {
                        return;
                    };
                    write_message(&mut to_client, &response);
                    log.lock().unwrap().push((request, response));
                }
            });
        }
    });
    (url, log)
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The exchanges as a HAR 1.2 log, as a browser's developer tools would save them.
fn har(origin: &str, exchanges: &[(Message, Message)]) -> Value {
    let pairs = |m: &Message| -> Vec<Value> {
        m.headers
            .iter()
            .map(|(k, v)| json!({ "name": k, "value": v }))
            .collect()
    };
    let entries: Vec<Value> = exchanges
        .iter()
        .map(|(req, resp)| {
            let mut parts = req.start.split(' ');
            let method = parts.next().unwrap();
            let target = parts.next().unwrap();
            let status: u16 = resp.start.split(' ').nth(1).unwrap().parse().unwrap();
            let mut request = json!({
                "method": method,
                "url": format!("{origin}{target}"),
                "httpVersion": "HTTP/1.1",
                "headers": pairs(req),
                "queryString": [],
            });
            if !req.body.is_empty() {
                request["postData"] = json!({
                    "mimeType": header(req, "content-type").unwrap_or(""),
                    "text": String::from_utf8_lossy(&req.body),
                });
            }
            json!({
                "startedDateTime": "2026-12-02T10:00:00.000Z",
                "request": request,
                "response": {
                    "status": status,
                    "headers": pairs(resp),
                    "content": {
                        "size": resp.body.len(),
                        "mimeType": header(resp, "content-type").unwrap_or(""),
                        "text": String::from_utf8_lossy(&resp.body),
                    },
                },
            })
        })
        .collect();
    json!({ "log": { "version": "1.2", "creator": { "name": "test proxy", "version": "1" }, "entries": entries } })
}

#[test]
fn a_recorded_pay_invoice_session_imports_validates_and_replays_without_error() {
    let recorded = fast_sandbox();
    let upstream: std::net::SocketAddr =
        recorded.url.trim_start_matches("http://").parse().unwrap();
    let (proxy, log) = recording_proxy(upstream);
    let dir = tempfile::tempdir().unwrap();
    rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--users",
            "1",
            "--iterations",
            "1",
            "--warmup",
            "0s",
            "--target",
            &proxy,
            "--out",
        ])
        .arg(dir.path().join("recording-run"))
        .arg(scenarios().join("pay-invoice.toml"))
        .assert()
        .success();
    let exchanges = log.lock().unwrap().clone();
    assert!(exchanges.len() >= 5, "{} exchanges", exchanges.len());
    let har_file = write(
        dir.path(),
        "session.har",
        &serde_json::to_string_pretty(&har(&proxy, &exchanges)).unwrap(),
    );
    let scenario = dir.path().join("scenarios/checkout.toml");
    let out = rehearse()
        .args(["import", "har"])
        .arg(&har_file)
        .arg("--out")
        .arg(&scenario)
        .assert()
        .success();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.get_output().stdout),
        String::from_utf8_lossy(&out.get_output().stderr)
    );
    assert!(
        said.contains(&format!("{} recorded requests", exchanges.len())),
        "{said}"
    );
    assert!(said.contains("HAR_PASSWORD"), "{said}");
    let text = std::fs::read_to_string(&scenario).unwrap();
    for wanted in [
        "token = { json = \"$.token\" }",
        "authorization = \"Bearer {{ token }}\"",
        "/api/invoices/{{ invoice_id }}/pay",
        "/api/payments/{{ payment_id }}",
        "/api/receipts/{{ receipt_id }}",
        "password = \"{{ env.HAR_PASSWORD }}\"",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");
    rehearse()
        .arg("validate")
        .arg(&scenario)
        .env("HAR_PASSWORD", "hunter2")
        .assert()
        .success();
    // The replay: against a fresh sandbox, through no proxy.
    let fresh = fast_sandbox();
    rehearse()
        .args([
            "run",
            "--quiet",
            "--no-store",
            "--target",
            &fresh.url,
            "--out",
        ])
        .arg(dir.path().join("replay"))
        .arg(&scenario)
        .env("HAR_PASSWORD", "hunter2")
        .assert()
        .success();
    let run = results(&dir.path().join("replay"));
    assert_eq!(run.steps.len(), exchanges.len());
    for s in &run.steps {
        assert_eq!(
            (s.count, s.errors),
            (1, 0),
            "{}: {:?}",
            s.name,
            s.error_samples
        );
    }
    // The file says where it came from and never holds the secret.
    assert!(text.starts_with("# Imported by `rehearse import har` from session.har"));
    // An import never replaces a file unasked.
    let again = rehearse()
        .args(["import", "har"])
        .arg(&har_file)
        .arg("--out")
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}
