//! `wxmass serve`: the wxmass-callback receiver, recording each
//! MASSSENDJOBFINISH against its campaign's batch in the journal before
//! answering WeChat.

use std::path::PathBuf;

use anyhow::{Context, Result};
use std::sync::{Arc, Mutex};

use wxmass_callback::{CallbackConfig, Push, PushRecorder, RecordFuture};

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

/// Records reports in the journal before WeChat gets its `success`, so a
/// receiver killed at any moment loses nothing WeChat will not send again.
struct JournalRecorder {
    journal: Arc<Mutex<Journal>>,
}

impl PushRecorder for JournalRecorder {
    fn record(&self, push: Push) -> RecordFuture {
        let journal = self.journal.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let Push::MassSendJobFinish(job) = push else {
                    return Ok(());
                };
                let journal = journal
                    .lock()
                    .map_err(|_| "journal lock poisoned".to_owned())?;
                let new = journal.record_push(&job).map_err(|e| format!("{e:#}"))?;
                eprintln!(
                    "job {} finished: {} ({} of {} sent){}",
                    job.msg_id,
                    job.status,
                    job.sent_count,
                    job.total_count,
                    if new { "" } else { " (already recorded)" }
                );
                Ok(())
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    config: CallbackConfig,
    listener: tokio::net::TcpListener,
    journal_path: PathBuf,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let journal = Arc::new(Mutex::new(Journal::open(&journal_path)?));
    let router = wxmass_callback::router_with_recorder(config, JournalRecorder { journal });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("the receiver stopped")
}
