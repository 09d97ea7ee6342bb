//! Ctrl-C and SIGTERM for the whole command. During a run, the first asks it to stop
//! gracefully and the second to stop now; outside a run (storing, comparing, reporting) a
//! signal ends the process with exit code 3. Once tokio listens for a signal, the default
//! action is gone for the life of the process, so one listener serves the whole command.

use std::sync::Mutex;

use tokio::sync::watch;

use crate::runner::StopRequest;

/// The running run's stop channel, and how many signals it has had.
static CURRENT: Mutex<Option<(watch::Sender<StopRequest>, u32)>> = Mutex::new(None);

/// Starts the process-wide listener (call once, inside the runtime). The handlers are
/// registered before this returns, so a Ctrl-C in the first instant is not lost to the
/// default action (which would end the process without its exit code).
pub fn install() {
    let mut listener = Listener::new();
    tokio::spawn(async move {
        loop {
            let name = listener.next().await;
            let mut current = CURRENT.lock().unwrap_or_else(|e| e.into_inner());
            match current.as_mut() {
                Some((tx, count)) => {
                    *count += 1;
                    if *count == 1 {
                        eprintln!(
                            "\n{name}: stopping; in-flight iterations get a short grace period (send it again to stop now)"
                        );
                        tx.send_replace(StopRequest::Graceful(name));
                    } else {
                        eprintln!("\n{name}: stopping now");
                        tx.send_replace(StopRequest::Immediate(name));
                    }
                }
                None => {
                    eprintln!(
                        "\n{name}: stopped (results already written are kept; an unfinished store write is rolled back)"
                    );
                    std::process::exit(3);
                }
            }
        }
    });
}

/// The current run's end of the stop channel; dropping it ends the run's claim on signals.
pub struct Signals;

impl Signals {
    /// Routes signals to a run until the returned guard is dropped.
    pub fn listen() -> (Self, watch::Receiver<StopRequest>) {
        let (tx, rx) = watch::channel(StopRequest::None);
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = Some((tx, 0));
        (Signals, rx)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        *CURRENT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Ctrl-C and SIGTERM, registered when made.
struct Listener {
    #[cfg(unix)]
    streams: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Listener {
    #[cfg(unix)]
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        let streams = signal(SignalKind::interrupt())
            .ok()
            .zip(signal(SignalKind::terminate()).ok());
        Self { streams }
    }

    #[cfg(not(unix))]
    fn new() -> Self {
        Self {}
    }

    /// The next signal's name.
    async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some((int, term)) = self.streams.as_mut() {
            return tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// Waits for Ctrl-C or SIGTERM (the sandbox command, which stops gracefully on its own).
pub async fn wait_for_stop() {
    Listener::new().next().await;
}
