//! Ctrl-C and SIGTERM, listened for in one place: `send`, `worker` and
//! `server` stop the same way (the batches in flight are recorded first).

use tokio::sync::watch;

/// Resolves once Ctrl-C or SIGTERM has come.
pub async fn requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

/// A stop request noticed from the moment [`Stop::listen`] is called, that
/// any number of waits can see.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Starts listening.
    pub fn listen() -> Stop {
        let (tx, rx) = watch::channel(false);
        tokio::spawn(async move {
            requested().await;
            let _ = tx.send(true);
        });
        Stop(rx)
    }

    /// Resolves once a stop was requested.
    pub async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|&stop| stop).await;
        if !*rx.borrow() {
            // The listener is gone (no signal support): never resolve.
            std::future::pending::<()>().await;
        }
    }
}
