//! Ctrl-C and SIGTERM: the first asks the run to stop gracefully, the second to stop now.

use tokio::sync::watch;

use crate::runner::StopRequest;

/// Listens for stop signals until dropped; the receiver goes to the runner.
pub struct Signals {
    task: tokio::task::JoinHandle<()>,
}

impl Signals {
    /// Starts listening.
    pub fn listen() -> (Self, watch::Receiver<StopRequest>) {
        let (tx, rx) = watch::channel(StopRequest::None);
        let task = tokio::spawn(async move {
            let mut count = 0;
            loop {
                let name = next_signal().await;
                count += 1;
                if count == 1 {
                    eprintln!(
                        "\n{name}: stopping; in-flight iterations get a short grace period (send it again to stop now)"
                    );
                    tx.send_replace(StopRequest::Graceful(name));
                } else {
                    eprintln!("\n{name}: stopping now");
                    tx.send_replace(StopRequest::Immediate(name));
                    return;
                }
            }
        });
        (Self { task }, rx)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(unix)]
async fn next_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return "SIGINT";
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        _ = term.recv() => "SIGTERM",
    }
}

#[cfg(not(unix))]
async fn next_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}

/// Waits for Ctrl-C or SIGTERM.
pub async fn wait_for_stop() {
    next_signal().await;
}
