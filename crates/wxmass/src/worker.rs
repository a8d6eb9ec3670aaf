//! `wxmass worker`: one of any number of processes, on any hosts, sending
//! the account's campaigns from a shared journal (PostgreSQL) with the
//! engine's leases: the engine's lease loop ([`pipeline::worker`]), with
//! this worker's log lines. It sends only campaigns whose message is
//! prepared (the `send` that planned them did the uploads), so every worker
//! sends the same media ids.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Result;
use wxmass_campaign::Claim;
use wxmass_campaign::engine::Observer;
use wxmass_campaign::fanout::FanoutObserver;
use wxmass_campaign::pipeline::{self, WorkerObserver, WorkerPlan};
use wxmass_campaign::store::prelude::*;

use crate::cli::WorkerArgs;
use crate::config::Settings;

/// Counts and logs what this worker sent.
struct WorkerLog {
    name: String,
    sent: AtomicU64,
    notices: AtomicU64,
    takeovers: AtomicU64,
}

impl WorkerObserver for WorkerLog {
    fn left_campaign(&self, campaign: &str, batch: u32, error: &wxmass_api::Error) {
        let advice = error
            .advice()
            .map(|a| format!("; what to do: {a}"))
            .unwrap_or_default();
        tracing::warn!(worker = %self.name, campaign = %campaign.escape_debug(), batch, %error,
                       "WeChat refused a batch for good; leaving the campaign");
        eprintln!(
            "worker {}: campaign {} stopped: batch {batch} was refused ({error}){advice}",
            self.name,
            campaign.escape_debug()
        );
    }

    fn notice_refused(&self, campaign: &str, channel: &str, error: &wxmass_api::Error) {
        let advice = error
            .advice()
            .map(|a| format!("; what to do: {a}"))
            .unwrap_or_default();
        tracing::warn!(worker = %self.name, campaign = %campaign.escape_debug(), channel, %error,
                       "WeChat refused the campaign's message; leaving the campaign");
        eprintln!(
            "worker {}: campaign {} stopped: its {channel} message was refused ({error}){advice}",
            self.name,
            campaign.escape_debug()
        );
    }

    fn quota_spent(&self, campaign: &str, resume_at: i64) {
        eprintln!(
            "worker {}: campaign {}: WeChat's daily quota is spent; run a worker again after {}",
            self.name,
            campaign.escape_debug(),
            wxmass_campaign::beijing::shown(resume_at)
        );
    }

    // The database or the network failed: what this worker held stays
    // leased until the lease runs out, and it tries again.
    fn round_failed(&self, error: &wxmass_campaign::Error) {
        tracing::warn!(worker = %self.name, error = %format!("{error:#}"), "sending stopped; trying again in a second");
        eprintln!("worker {}: {error}; trying again in a second", self.name);
    }
}

impl FanoutObserver for WorkerLog {
    fn recorded(&self, sent: u64, failed: u64, unknown: u64) {
        self.notices
            .fetch_add(sent + failed + unknown, Ordering::Relaxed);
        tracing::debug!(worker = %self.name, sent, failed, unknown, "notices recorded");
    }

    fn waiting_for_minute(&self) {
        tracing::info!(worker = %self.name, "WeChat's minute is used (45011): waiting for the next");
    }

    fn took_over(&self, chunk: u32, resent: u64, unknown: u64) {
        self.takeovers.fetch_add(1, Ordering::Relaxed);
        tracing::info!(worker = %self.name, chunk = chunk + 1, resent, unknown,
                       "recipients cut off mid-send: templates sent again with their key, the rest unknown");
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
        notices: AtomicU64::new(0),
        takeovers: AtomicU64::new(0),
    });
    let plan = WorkerPlan {
        appid: settings.appid.clone(),
        campaign: args.campaign.clone(),
        once: args.once,
    };
    eprintln!("worker {name} sending for {}", settings.appid);
    pipeline::worker(
        journal,
        client,
        &plan,
        &options,
        log.clone(),
        crate::stop::requested(),
    )
    .await;
    eprintln!(
        "worker {name}: {} batch(es) submitted, {} notice(s) recorded ({} taken over from a worker that stopped)",
        log.sent.load(Ordering::Relaxed),
        log.notices.load(Ordering::Relaxed),
        log.takeovers.load(Ordering::Relaxed)
    );
    Ok(())
}
