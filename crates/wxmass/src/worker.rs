//! `wxmass worker`: one of any number of processes, on any hosts, sending
//! the account's campaigns from a shared journal (PostgreSQL) with the
//! engine's leases. It sends only campaigns whose message is prepared (the
//! `send` that planned them did the uploads), so every worker sends the
//! same media ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use tokio::sync::watch;
use wxmass_campaign::Claim;
use wxmass_campaign::engine::{self, Observer, WorkOptions, Worked};
use wxmass_campaign::store::prelude::*;

use crate::cli::WorkerArgs;
use crate::config::Settings;

/// Counts and logs what this worker sent, and remembers the campaigns
/// WeChat refused a batch of for good (left until the worker restarts).
struct WorkerLog {
    name: String,
    sent: AtomicU64,
    takeovers: AtomicU64,
    refused: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl WorkerLog {
    fn refused(&self, campaign: &str) -> bool {
        self.refused
            .lock()
            .is_ok_and(|refused| refused.contains(campaign))
    }

    fn refuse(&self, campaign: &str) {
        if let Ok(mut refused) = self.refused.lock() {
            refused.insert(campaign.to_owned());
        }
    }
}

impl Observer for WorkerLog {
    fn submitted(&self, claim: &Claim, msg_id: Option<i64>) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        if claim.takeover {
            self.takeovers.fetch_add(1, Ordering::Relaxed);
        }
        tracing::info!(worker = %self.name, campaign = %claim.campaign.escape_debug(), batch = claim.index + 1,
                       ?msg_id, takeover = claim.takeover, "batch submitted");
    }

    fn waiting_for_pace(&self) {
        tracing::debug!(worker = %self.name, "the minute's mass sends are used; waiting");
    }

    fn failed(&self, claim: &Claim, error: &wxmass_api::Error) {
        tracing::warn!(worker = %self.name, campaign = %claim.campaign.escape_debug(), batch = claim.index + 1,
                       %error, "batch not sent; given back to be tried again");
    }

    fn waiting_to_name(&self, unnamed: u64, ready_in: Duration) {
        tracing::info!(worker = %self.name, unnamed, ready_in_s = ready_in.as_secs(),
                       "batches taken without naming their job: waiting out their minute to learn it");
    }

    fn named(&self, claim: &Claim, msg_id: Option<i64>) {
        tracing::info!(worker = %self.name, campaign = %claim.campaign.escape_debug(), batch = claim.index + 1,
                       ?msg_id, "batch sent again to learn its job");
    }
}

/// Resolves once Ctrl-C or SIGTERM has come.
async fn stopped(mut rx: watch::Receiver<bool>) {
    if rx.wait_for(|&s| s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Resolves once Ctrl-C or SIGTERM has come.
pub async fn stop_requested() {
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

/// Ctrl-C and SIGTERM, as a signal every round can wait on.
fn listen_for_stop() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        stop_requested().await;
        let _ = tx.send(true);
    });
    rx
}

/// How a round over the account's campaigns ended.
enum Round {
    /// Ctrl-C or SIGTERM.
    Stopped,
    /// This many campaigns still have batches to send.
    Left(usize),
}

/// Sends every campaign of the account that has batches left and a
/// prepared message.
async fn one_round(
    settings: &Settings,
    journal: &dyn Store,
    client: &wxmass_api::Client,
    args: &WorkerArgs,
    options: &WorkOptions,
    log: &Arc<WorkerLog>,
    stop: &watch::Receiver<bool>,
) -> Result<Round> {
    let campaigns = match &args.campaign {
        // Not planned yet: wait for it.
        Some(id) => match journal.campaign(id).await? {
            Some(campaign) => vec![campaign],
            None => return Ok(Round::Left(1)),
        },
        None => journal.campaigns().await?,
    };
    let mut left = 0;
    for campaign in campaigns.iter().filter(|c| c.appid == settings.appid) {
        if log.refused(&campaign.id) {
            continue;
        }
        // Sent, and every job named (or too old to learn it): nothing to do.
        if journal.unsent(&campaign.id).await? == 0
            && journal.unnamed(&campaign.id).await?.count == 0
        {
            continue;
        }
        // Not prepared yet: its sender is still uploading.
        let Some(message) = engine::prepared_message(journal, &campaign.id).await? else {
            left += 1;
            continue;
        };
        let worked = engine::work(
            journal,
            client,
            campaign,
            &message,
            options,
            log.clone(),
            stopped(stop.clone()),
        )
        .await;
        match worked {
            Ok(Worked::Stopped) => return Ok(Round::Stopped),
            Ok(Worked::Done) => {}
            // WeChat refused a batch for good: sending it again cannot
            // help, so this worker leaves the campaign until it restarts.
            Err(wxmass_campaign::Error::Send { batch, source }) => {
                let advice = source
                    .advice()
                    .map(|a| format!("; what to do: {a}"))
                    .unwrap_or_default();
                tracing::warn!(worker = %log.name, campaign = %campaign.id.escape_debug(), batch, error = %source,
                               "WeChat refused a batch for good; leaving the campaign");
                eprintln!(
                    "worker {}: campaign {} stopped: batch {batch} was refused ({source}){advice}",
                    log.name,
                    campaign.id.escape_debug()
                );
                log.refuse(&campaign.id);
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Round::Left(left))
}

/// `wxmass worker`.
pub async fn run(
    client: &wxmass_api::Client,
    settings: &Settings,
    journal: &dyn Store,
    args: &WorkerArgs,
) -> Result<()> {
    let name = crate::campaign::worker_name();
    let options = args.sending.options(name.clone());
    let log = Arc::new(WorkerLog {
        name: name.clone(),
        sent: AtomicU64::new(0),
        takeovers: AtomicU64::new(0),
        refused: std::sync::Mutex::default(),
    });
    let stop = listen_for_stop();
    eprintln!("worker {name} sending for {}", settings.appid);
    loop {
        let round = one_round(settings, journal, client, args, &options, &log, &stop).await;
        let left = match round {
            Ok(Round::Stopped) => break,
            Ok(Round::Left(left)) => left,
            // The database or the network failed: what this worker held
            // stays leased until the lease runs out, and it tries again.
            Err(error) => {
                tracing::warn!(worker = %name, error = %format!("{error:#}"), "sending stopped; trying again in a second");
                eprintln!("worker {name}: {error}; trying again in a second");
                1
            }
        };
        if left == 0 && args.once {
            break;
        }
        let idle = if left == 0 { 250 } else { 1000 };
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(idle)) => {}
            () = stopped(stop.clone()) => break,
        }
    }
    eprintln!(
        "worker {name}: {} batch(es) submitted ({} taken over from a worker that stopped)",
        log.sent.load(Ordering::Relaxed),
        log.takeovers.load(Ordering::Relaxed)
    );
    Ok(())
}
