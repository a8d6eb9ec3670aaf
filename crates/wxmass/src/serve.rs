//! `wxmass serve`: the wxmass-callback receiver, recording each
//! MASSSENDJOBFINISH against its campaign's batch in the journal.

use std::path::PathBuf;

use anyhow::{Context, Result};
use wxmass_callback::{CallbackConfig, Push};

use crate::cli::ServeArgs;
use crate::journal::Journal;

/// The receiver's configuration from flags and the account's AppID.
pub fn config(args: &ServeArgs, appid: &str) -> Result<CallbackConfig> {
    let mut builder = CallbackConfig::builder(args.token.clone(), appid);
    if let Some(key) = &args.aes_key {
        builder = builder.aes_key(key.clone());
    }
    if let Some(key) = &args.previous_aes_key {
        builder = builder.previous_aes_key(key.clone());
    }
    Ok(builder.build()?)
}

/// Serves until Ctrl-C (or until `shutdown` resolves).
pub async fn serve(
    config: CallbackConfig,
    listener: tokio::net::TcpListener,
    journal_path: PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let (router, mut pushes) = wxmass_callback::router(config);
    // The journal lives on its own thread: SQLite calls block.
    let (tx, rx) = std::sync::mpsc::channel::<Push>();
    let recorder = std::thread::spawn(move || -> Result<()> {
        let journal = Journal::open(&journal_path)?;
        for push in rx {
            if let Push::MassSendJobFinish(job) = push {
                let new = journal.record_push(&job)?;
                eprintln!(
                    "job {} finished: {} ({} of {} sent){}",
                    job.msg_id,
                    job.status,
                    job.sent_count,
                    job.total_count,
                    if new { "" } else { " (already recorded)" }
                );
            }
        }
        Ok(())
    });
    let forward = tokio::spawn(async move {
        while let Some(push) = pushes.recv().await {
            if tx.send(push).is_err() {
                break;
            }
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the receiver stopped")?;
    // The router is gone, so the queue closes once drained: record it all.
    let _ = forward.await;
    recorder
        .join()
        .map_err(|_| anyhow::anyhow!("the journal thread panicked"))??;
    Ok(())
}
