//! The sandbox: a built-in, staging look-alike payments API to replay scenarios against.
//!
//! It serves seeded customers and invoices from memory, with per-endpoint latency drawn
//! from a lognormal body and a Pareto tail, optional periodic freezes, per-endpoint
//! slowdowns and injected failures, all seeded so that runs are comparable.

mod api;
mod config;
mod http;
mod latency;
mod ledger;
mod records;
mod seed;
mod state;
#[cfg(test)]
mod tests;
mod web;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{SandboxConfig, Stall, parse_slowdown, parse_stall};
pub use latency::ENDPOINTS;
pub use ledger::{LedgerError, write_ledger};

/// Why the sandbox could not start or keep serving; knob errors name the offending value.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address that was asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: io::Error,
    },
    /// A slowdown is not `NAME=FACTOR` with a known endpoint and a factor > 0.
    #[error(
        "invalid slowdown '{value}': {reason} (expected NAME=FACTOR with FACTOR > 0; endpoints: {endpoints})",
        endpoints = ENDPOINTS.join(", ")
    )]
    Slowdown {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A stall is not `LENGTH/EVERY` with `0 < LENGTH < EVERY`.
    #[error(
        "invalid stall '{value}': {reason} (expected LENGTH/EVERY such as 1s/5s; units ms, s, m)"
    )]
    Stall {
        /// The value as given.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A numeric knob is out of range.
    #[error("invalid {knob} {value}: {reason}")]
    Knob {
        /// The knob's name, e.g. `error_rate`.
        knob: &'static str,
        /// The value as given.
        value: String,
        /// The range it must lie in.
        reason: &'static str,
    },
    /// The server stopped with an I/O error.
    #[error("the sandbox on {addr} failed")]
    Serve {
        /// The address it was serving on.
        addr: SocketAddr,
        /// What went wrong.
        source: io::Error,
    },
}

/// A running sandbox; `stop` it to shut down gracefully (dropping it also shuts it down).
#[derive(Debug)]
pub struct Sandbox {
    addr: SocketAddr,
    /// Dropped or fired, it tells the server to finish in-flight requests and end.
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

/// Starts a sandbox on `bind` (port 0 picks a free port) as a task on the current runtime.
pub async fn start(config: SandboxConfig, bind: SocketAddr) -> Result<Sandbox, SandboxError> {
    let (listener, router) = prepare(&config, bind).await?;
    let addr = listener
        .local_addr()
        .map_err(|source| SandboxError::Bind { addr: bind, source })?;
    let (shutdown, shutdown_requested) = oneshot::channel::<()>();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        // A dropped sender ends the wait too, so a forgotten `Sandbox` does not leak a server.
        let _ = shutdown_requested.await;
    });
    let server = tokio::spawn(async move {
        // axum documents that this future never resolves to an error.
        let _ = server.await;
    });
    Ok(Sandbox {
        addr,
        shutdown,
        server,
    })
}

impl Sandbox {
    /// The address the server listens on, with the real port when 0 was asked for.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to send requests to, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        // A wildcard bind is reachable through loopback; the wildcard itself is not a destination.
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// Stops accepting, lets in-flight requests finish, and returns when the server has ended.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        // A panic inside the server task has nothing left to clean up; there is nothing to report.
        let _ = self.server.await;
    }
}

/// Serves on `bind` until Ctrl-C or SIGTERM; prints nothing, the caller announces the URL.
pub async fn serve_until_signal(
    config: SandboxConfig,
    bind: SocketAddr,
) -> Result<(), SandboxError> {
    let (listener, router) = prepare(&config, bind).await?;
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|source| SandboxError::Serve { addr: bind, source })
}

/// Validates the knobs, binds, and builds the seeded app; stalls are timed from here.
async fn prepare(
    config: &SandboxConfig,
    bind: SocketAddr,
) -> Result<(TcpListener, axum::Router), SandboxError> {
    config.validate()?;
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|source| SandboxError::Bind { addr: bind, source })?;
    Ok((listener, api::router(http::App::new(config))))
}

/// The delays after which the first `n` payments a sandbox with `config` accepts settle, by
/// payment number: the seeded truth a time-to-settlement measurement is held to.
pub fn settlement_delays(config: &SandboxConfig, n: usize) -> Vec<std::time::Duration> {
    let pacing = latency::Pacing::new(config);
    // Payment numbers start at 1.
    (1..=n as u64).map(|k| pacing.settlement(k)).collect()
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what `docker stop` and CI runners send).
async fn shutdown_signal() {
    let ctrl_c = async {
        // Without a handler installed, waiting would end at once and stop the server unasked.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
