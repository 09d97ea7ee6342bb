//! `rehearse sandbox`: serve the built-in payments API until Ctrl-C.

use std::net::SocketAddr;

use anyhow::Context as _;

use crate::app::args::SandboxArgs;
use crate::app::console;
use crate::app::error::{AppResult, Classify as _, Outcome};
use crate::sandbox::{self, SandboxConfig};

/// Runs the command.
pub async fn sandbox(args: SandboxArgs) -> AppResult {
    if let Some(path) = &args.ledger {
        let invoices = sandbox::write_ledger(path, args.seed)
            .await
            .context("cannot write the ledger")
            .invalid()?;
        console::note(&format!(
            "ledger: {} ({invoices} invoices, seed {})",
            path.display(),
            args.seed
        ));
    }
    let config = SandboxConfig {
        latency_scale: args.latency_scale,
        error_rate: args.error_rate,
        stall: args.stall,
        slowdowns: args.slowdowns,
        seed: args.seed,
    };
    let server = sandbox::start(config, SocketAddr::new(args.host, args.port))
        .await
        .context("cannot start the sandbox")
        .invalid()?;
    // The first line is the URL alone, so scripts can read it.
    console::out(&format!("{}\n", server.url()));
    console::note(&format!(
        "rehearse sandbox listening on {} (Ctrl-C to stop)",
        server.url()
    ));
    crate::app::signals::wait_for_stop().await;
    server.stop().await;
    Ok(Outcome::Passed)
}
