//! End-to-end tests: a real sandbox on 127.0.0.1 spoken to by a minimal HTTP/1.1 client, or
//! the same router served over in-memory pipes where a test runs on tokio's paused clock.

mod api;
mod faults;

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Sandbox, SandboxConfig, http, start};

/// Where a test request goes.
#[derive(Clone, Debug)]
pub(super) enum Server {
    /// A sandbox listening on a port.
    Tcp(SocketAddr),
    /// A sandbox served in memory by [`in_memory`]: each pipe sent is one connection.
    Memory(mpsc::UnboundedSender<DuplexStream>),
}

impl From<SocketAddr> for Server {
    fn from(addr: SocketAddr) -> Self {
        Server::Tcp(addr)
    }
}

/// Accepts the pipes [`Server::Memory`] sends; never ends (the test's runtime ends it).
struct Pipes(mpsc::UnboundedReceiver<DuplexStream>);

impl axum::serve::Listener for Pipes {
    type Io = DuplexStream;
    type Addr = ();

    async fn accept(&mut self) -> (DuplexStream, ()) {
        match self.0.recv().await {
            Some(pipe) => (pipe, ()),
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The sandbox's router served over in-memory pipes on the current runtime. No socket is
/// involved, so on tokio's paused clock time moves only when every task waits on a timer:
/// latencies and freezes come out exact, however busy the machine is. The stall clock starts now.
pub(super) fn in_memory(config: SandboxConfig) -> Server {
    config.validate().expect("valid config");
    let router = super::api::router(http::App::new(&config));
    let (connect, accept) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let _ = axum::serve(Pipes(accept), router).await;
    });
    Server::Memory(connect)
}

/// A response as the tests need it: the status and the parsed JSON body.
pub(super) struct Answer {
    pub status: u16,
    pub body: Value,
}

/// One request on a fresh connection; panics after 5 s so a hung server fails the test.
pub(super) async fn call(
    server: impl Into<Server>,
    method: &str,
    path: impl AsRef<str>,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let path = path.as_ref();
    let exchange = async {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        match server.into() {
            Server::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await.expect("connect");
                send(stream, &request).await
            }
            Server::Memory(connect) => {
                let (client, server) = tokio::io::duplex(1 << 16);
                connect
                    .send(server)
                    .expect("the in-memory sandbox is serving");
                send(client, &request).await
            }
        }
    };
    let raw = tokio::time::timeout(Duration::from_secs(5), exchange)
        .await
        .expect("timed out");
    let (head, body) = raw.split_once("\r\n\r\n").expect("no header end");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("{method} {path}: body {body:?}: {e}"));
    Answer { status, body }
}

/// Writes `request` and reads the answer until the server closes the connection.
async fn send(mut stream: impl AsyncRead + AsyncWrite + Unpin, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.expect("read");
    raw
}

pub(super) fn local() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// No artificial latency: the functional tests run at full speed.
pub(super) async fn quick() -> Sandbox {
    let config = SandboxConfig {
        latency_scale: 0.0,
        ..SandboxConfig::default()
    };
    start(config, local()).await.expect("start")
}

pub(super) async fn login(server: impl Into<Server>, n: u32) -> String {
    let body = json!({ "email": format!("customer{n}@example.com"), "password": "hunter2" });
    let answer = call(server, "POST", "/api/login", None, Some(body)).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["customer_id"], format!("cus_{n}"));
    answer.body["token"].as_str().expect("token").to_string()
}

pub(super) async fn open_invoices(addr: SocketAddr, token: &str) -> (Vec<Value>, u64) {
    let answer = call(
        addr,
        "GET",
        "/api/invoices?status=open&limit=100",
        Some(token),
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let invoices = answer.body["invoices"]
        .as_array()
        .expect("invoices")
        .clone();
    (invoices, answer.body["total"].as_u64().expect("total"))
}
