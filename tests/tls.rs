//! HTTPS targets: an extra CA file is trusted, `insecure = true` accepts a self-signed
//! certificate, and by default an unknown certificate is a counted connect error.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn fixture(name: &str) -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// A minimal HTTPS server answering every request with `{"status":"ok"}`, keep-alive.
fn https_server(rt: &tokio::runtime::Runtime) -> u16 {
    let certs: Vec<CertificateDer> = CertificateDer::pem_file_iter(fixture("cert.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(fixture("key.pem")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = tls.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        let body = b"{\"status\":\"ok\"}";
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n", body.len());
                        if tls.write_all(head.as_bytes()).await.is_err() || tls.write_all(body).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    port
}

fn scenario(port: u16, tls: &str) -> String {
    format!(
        "name = \"tls\"\n[target]\nbase_url = \"https://localhost:{port}\"\n{tls}\n[load]\nusers = 1\niterations = 5\n[[steps]]\nname = \"health\"\nhttp = {{ path = \"/health\" }}\ncheck = {{ json = {{ \"$.status\" = \"ok\" }} }}\n"
    )
}

#[test]
fn https_with_a_ca_file_with_insecure_and_by_default() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let port = https_server(&rt);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("ca.pem"), dir.path().join("ca.pem")).unwrap();

    let cases = [
        ("ca", "ca_file = \"ca.pem\""),
        ("insecure", "insecure = true"),
        ("default", ""),
    ];
    for (name, tls) in cases {
        let file = write(dir.path(), &format!("{name}.toml"), &scenario(port, tls));
        let out = dir.path().join(name);
        let expected = if name == "default" { 3 } else { 0 };
        rehearse()
            .args(["run", "-q", "--out"])
            .arg(&out)
            .arg(&file)
            .assert()
            .code(expected);
        let run = results(&out);
        let s = step(&run, "health");
        if name == "default" {
            assert_eq!(s.outcomes.connect_error, 5, "{:?}", s.outcomes);
            assert!(
                s.error_samples["connect_error"].contains("TLS handshake"),
                "{:?}",
                s.error_samples
            );
        } else {
            assert_eq!(
                s.outcomes.ok, 5,
                "{name}: {:?} {:?}",
                s.outcomes, s.error_samples
            );
        }
    }

    let missing = write(
        dir.path(),
        "missing.toml",
        &scenario(port, "ca_file = \"nope.pem\""),
    );
    let out = rehearse().arg("validate").arg(&missing).assert().code(2);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("nope.pem"));
}
