//! HTTP/2 targets: h2c with prior knowledge, ALPN over TLS (`"2"` and `"auto"`), streams
//! multiplexed over the configured connections, and HTTP/2 failures counted with their reason.

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use common::*;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixture(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// What the test server saw.
#[derive(Default)]
struct Seen {
    authorities: std::sync::Mutex<Vec<String>>,
    connections: AtomicUsize,
    h2_requests: AtomicUsize,
    other_requests: AtomicUsize,
}

/// How the test server speaks.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// HTTP/2 only, plain text (prior knowledge).
    H2c,
    /// TLS offering these ALPN protocols; HTTP/2 when chosen, HTTP/1.1 otherwise.
    Tls(&'static [&'static [u8]]),
}

/// An HTTP/2 server on a free port: `/ok` answers `{"status":"ok"}`, `/reset` resets the
/// stream (the service fails), and every connection is closed with GOAWAY after
/// `per_connection` requests.
fn server(rt: &tokio::runtime::Runtime, mode: Mode, per_connection: usize) -> (u16, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    let acceptor = match mode {
        Mode::H2c => None,
        Mode::Tls(alpn) => {
            let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(fixture("cert.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let key = PrivateKeyDer::from_pem_file(fixture("key.pem")).unwrap();
            let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
            config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        }
    };
    let s = seen.clone();
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            s.connections.fetch_add(1, Ordering::Relaxed);
            let (s, acceptor) = (s.clone(), acceptor.clone());
            tokio::spawn(async move {
                let served = Arc::new(AtomicUsize::new(0));
                let (shut_tx, mut shut_rx) = tokio::sync::mpsc::channel::<()>(1);
                let service = {
                    let (s, served) = (s.clone(), served.clone());
                    hyper::service::service_fn(move |req: Request<Incoming>| {
                        let (s, served, shut_tx) = (s.clone(), served.clone(), shut_tx.clone());
                        async move {
                            if let Some(a) = req.uri().authority() {
                                s.authorities.lock().unwrap().push(a.to_string());
                            }
                            if req.version() == http::Version::HTTP_2 {
                                s.h2_requests.fetch_add(1, Ordering::Relaxed);
                            } else {
                                s.other_requests.fetch_add(1, Ordering::Relaxed);
                            }
                            if served.fetch_add(1, Ordering::Relaxed) + 1 == per_connection {
                                let _ = shut_tx.try_send(());
                            }
                            if req.uri().path() == "/reset" {
                                return Err::<Response<Full<Bytes>>, _>(std::io::Error::other(
                                    "the test resets this stream",
                                ));
                            }
                            Ok(Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(b"{\"status\":\"ok\"}")))
                                .unwrap())
                        }
                    })
                };
                let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
                macro_rules! serve {
                    ($io:expr, $only_h2:expr) => {{
                        let mut builder = builder;
                        if $only_h2 {
                            builder = builder.http2_only();
                        }
                        let conn = builder.serve_connection(TokioIo::new($io), service);
                        tokio::pin!(conn);
                        loop {
                            tokio::select! {
                                _ = conn.as_mut() => break,
                                Some(()) = shut_rx.recv() => conn.as_mut().graceful_shutdown(),
                            }
                        }
                    }};
                }
                match acceptor {
                    None => serve!(tcp, true),
                    Some(acceptor) => {
                        let Ok(tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                        serve!(tls, h2)
                    }
                }
            });
        }
    });
    (port, seen)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn scenario(base: &str, target: &str, path: &str) -> String {
    format!(
        "name = \"h2\"\n[target]\nbase_url = \"{base}\"\n{target}\n[load]\nrate = \"200/s\"\nduration = \"1s\"\niterations = 60\n[[steps]]\nname = \"get\"\nhttp = {{ path = \"{path}\" }}\ncheck = {{ json = {{ \"$.status\" = \"ok\" }} }}\n"
    )
}

fn run(dir: &std::path::Path, name: &str, text: &str) -> rehearse::model::RunResult {
    let file = write(dir, &format!("{name}.toml"), text);
    let out = dir.join(name);
    let ran = rehearse()
        .args(["run", "-q", "--out"])
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.join("results.json").is_file(),
        "{name}: {}",
        String::from_utf8_lossy(&ran.stderr)
    );
    results(&out)
}

#[test]
fn h2c_streams_share_the_configured_connections() {
    let rt = runtime();
    let (port, seen) = server(&rt, Mode::H2c, usize::MAX);
    let dir = tempfile::tempdir().unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let r = run(
        dir.path(),
        "h2c",
        &scenario(&base, "http = \"2\"\nconnections = 2", "/ok"),
    );
    let s = step(&r, "get");
    assert_eq!(s.outcomes.ok, 60, "{:?}", s.error_samples);
    assert_eq!(seen.h2_requests.load(Ordering::Relaxed), 60);
    assert_eq!(seen.other_requests.load(Ordering::Relaxed), 0);
    // 60 customers, 2 connections: every request a stream on one of them, both used.
    assert_eq!(seen.connections.load(Ordering::Relaxed), 2);
    let authorities = seen.authorities.lock().unwrap().clone();
    assert!(
        authorities
            .iter()
            .all(|a| *a == format!("127.0.0.1:{port}")),
        "{authorities:?}"
    );
    // A scenario's own `host` header (a virtual host) is the request's authority.
    let r = run(
        dir.path(),
        "vhost",
        &scenario(
            &base,
            "http = \"2\"\nconnections = 2\nheaders = { host = \"api.example.com\" }",
            "/ok",
        ),
    );
    assert_eq!(step(&r, "get").outcomes.ok, 60);
    let authorities = seen.authorities.lock().unwrap().clone();
    assert_eq!(
        authorities
            .iter()
            .filter(|a| *a == "api.example.com")
            .count(),
        60
    );
}

#[test]
fn tls_targets_negotiate_http2_by_alpn() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("ca.pem"), dir.path().join("ca.pem")).unwrap();
    let (both, seen) = server(&rt, Mode::Tls(&[b"h2", b"http/1.1"]), usize::MAX);
    // `auto` takes the server's HTTP/2; `"1.1"` stays on HTTP/1.1 with the same server.
    let base = format!("https://localhost:{both}");
    let r = run(
        dir.path(),
        "auto",
        &scenario(&base, "ca_file = \"ca.pem\"\nhttp = \"auto\"", "/ok"),
    );
    assert_eq!(step(&r, "get").outcomes.ok, 60);
    assert_eq!(seen.h2_requests.load(Ordering::Relaxed), 60);
    let r = run(
        dir.path(),
        "h1",
        &scenario(&base, "ca_file = \"ca.pem\"", "/ok"),
    );
    assert_eq!(step(&r, "get").outcomes.ok, 60);
    assert_eq!(seen.other_requests.load(Ordering::Relaxed), 60);
    // `"2"` against a server that offers only HTTP/1.1 is a connect error that says so.
    let (old, _) = server(&rt, Mode::Tls(&[b"http/1.1"]), usize::MAX);
    let r = run(
        dir.path(),
        "refused",
        &scenario(
            &format!("https://localhost:{old}"),
            "ca_file = \"ca.pem\"\nhttp = \"2\"",
            "/ok",
        ),
    );
    let s = step(&r, "get");
    assert_eq!(s.outcomes.connect_error, 60, "{:?}", s.outcomes);
    assert!(
        s.error_samples["connect_error"].contains("did not agree to HTTP/2"),
        "{:?}",
        s.error_samples
    );
    // `auto` against it speaks HTTP/1.1.
    let r = run(
        dir.path(),
        "auto-h1",
        &scenario(
            &format!("https://localhost:{old}"),
            "ca_file = \"ca.pem\"\nhttp = \"auto\"",
            "/ok",
        ),
    );
    assert_eq!(step(&r, "get").outcomes.ok, 60);
}

#[test]
fn goaway_is_survived_and_a_reset_stream_is_counted_with_its_reason() {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    // Every connection ends with GOAWAY after 7 requests: later requests go on new ones.
    let (port, seen) = server(&rt, Mode::H2c, 7);
    let base = format!("http://127.0.0.1:{port}");
    let r = run(
        dir.path(),
        "goaway",
        &scenario(&base, "http = \"2\"\nconnections = 1", "/ok"),
    );
    let s = step(&r, "get");
    assert_eq!(s.outcomes.ok, 60, "{:?}", s.error_samples);
    // (How many depends on how many streams were open when each GOAWAY came: at least one
    // more connection than the first.)
    assert!(seen.connections.load(Ordering::Relaxed) >= 2);
    let (port, _) = server(&rt, Mode::H2c, usize::MAX);
    let base = format!("http://127.0.0.1:{port}");
    let r = run(
        dir.path(),
        "reset",
        &scenario(&base, "http = \"2\"", "/reset"),
    );
    let s = step(&r, "get");
    assert_eq!(s.outcomes.reset, 60, "{:?}", s.outcomes);
    let why = &s.error_samples["reset"];
    assert!(why.contains("stream error"), "{why}");
}

#[test]
fn http_versions_are_validated_where_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    for (target, words) in [
        ("http = \"3\"", "`http` is \"1.1\", \"2\" or \"auto\""),
        ("connections = 4", "this target speaks HTTP/1.1"),
        (
            "http = \"2\"\nconnections = 0",
            "`connections` must be between 1 and 1000",
        ),
        (
            "http = \"auto\"\nconnections = 4",
            "`auto` on an http:// target speaks HTTP/1.1",
        ),
    ] {
        let file = write(
            dir.path(),
            "bad.toml",
            &scenario("http://127.0.0.1:1", target, "/ok"),
        );
        let out = rehearse().arg("validate").arg(&file).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(words), "{target}: {stderr}");
    }
}

#[test]
fn the_shipped_workflow_runs_over_h2c_against_the_sandbox() {
    let target = fast_sandbox();
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(scenarios().join("pay-invoice.toml"))
        .unwrap()
        .replace("[target]\n", "[target]\nhttp = \"2\"\nconnections = 2\n")
        .replace(
            "data/customers.csv",
            &scenarios().join("data/customers.csv").display().to_string(),
        );
    let file = write(dir.path(), "pay-h2.toml", &text);
    let out = dir.path().join("out");
    let ran = rehearse()
        .args([
            "run",
            "-q",
            "--duration",
            "2s",
            "--warmup",
            "0s",
            "--target",
        ])
        .arg(&target.url)
        .arg("--out")
        .arg(&out)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    let run = results(&out);
    let workflow = run.workflow.as_ref().unwrap();
    assert!(workflow.outcomes.ok >= 15, "{:?}", workflow.outcomes);
    assert_eq!(
        workflow.errors,
        0,
        "{:?}",
        run.steps
            .iter()
            .map(|s| &s.error_samples)
            .collect::<Vec<_>>()
    );
}
