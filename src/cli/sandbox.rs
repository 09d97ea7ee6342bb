//! `rehearse sandbox`: serve the built-in payments API until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context as _;

use super::{Outcome, SandboxArgs};
use crate::sandbox::{self, SandboxConfig};

/// Runs the command.
pub async fn sandbox(args: SandboxArgs) -> anyhow::Result<Outcome> {
    let config = SandboxConfig {
        latency_scale: args.latency_scale,
        error_rate: args.error_rate,
        stall: args.stall,
        slowdowns: args.slowdowns,
        seed: args.seed,
    };
    let server = sandbox::start(config, SocketAddr::new(args.host, args.port))
        .await
        .context("cannot start the sandbox")?;
    // The first line is the URL alone, so scripts can read it.
    super::print_out(&format!("{}\n", server.url()));
    eprintln!(
        "rehearse sandbox listening on {} (Ctrl-C to stop)",
        server.url()
    );
    super::signals::wait_for_stop().await;
    server.stop().await;
    Ok(Outcome::Success)
}
