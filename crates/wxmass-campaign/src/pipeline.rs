//! The send pipeline every face calls, so that it is assembled once:
//! [`send_campaign`] (the message prepared once, the batches worked under
//! leases, the jobs tracked) for the CLI's `send` and each server, and
//! [`worker`] (the lease loop over an account's campaigns) for
//! `wxmass worker`. Each takes a stop signal and an observer; the faces
//! only choose options, listen for signals and word what they are told.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wxmass_api::{Client, Message};

use crate::engine::{self, Observer, WorkOptions, Worked};
use crate::error::{Error, Result};
use crate::fanout::{self, Fanned, FanoutObserver, FanoutOptions};
use crate::prepare::{self, UploadObserver};
use crate::store::prelude::*;

/// How a [`send_campaign`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Every batch submitted (the campaign is finished) and, when asked,
    /// every job followed until WeChat called it final.
    Done,
    /// `stop` resolved while batches were left to send: they are sent by
    /// the next run (or another worker), never twice.
    Stopped,
    /// `stop` resolved after every batch was submitted, while the jobs
    /// were followed: `status --refresh` or a server's follow-up asks again.
    StoppedTracking,
    /// A fan-out campaign met WeChat's daily quota (45009): the rest waits
    /// for the day that starts at `resume_at` (Unix seconds).
    QuotaSpent {
        /// Midnight, Beijing time.
        resume_at: i64,
    },
}

/// Who [`send_campaign`] tells what happens: each batch, each upload.
pub struct Told<'a> {
    /// Each batch submitted, refused, named; the pace.
    pub batches: Arc<dyn Observer>,
    /// Each upload the message needs.
    pub uploads: &'a dyn UploadObserver,
}

/// The campaign's message, prepared once: the one kept on the campaign, or
/// made now (uploads journalled by content) and kept, so that every worker
/// sends the same media ids.
pub async fn prepared(
    store: &dyn Store,
    client: &Client,
    campaign: &str,
    uploads: &dyn UploadObserver,
) -> Result<Message> {
    if let Some(message) = engine::prepared_message(store, campaign).await? {
        return Ok(message);
    }
    let planned = store
        .planned_campaign(campaign)
        .await?
        .ok_or_else(|| Error::Invalid(format!("campaign {campaign:?} was not planned")))?;
    let message = prepare::message(client, store, &planned.content, uploads).await?;
    engine::keep_prepared(store, campaign, &message).await
}

/// Sends planned campaign `campaign`: its message prepared once, its
/// batches worked (beside any other worker on the store) until every one
/// is submitted and named, the campaign then finished, and, with `track`,
/// its jobs followed until final. Stops when `stop` resolves (the batches
/// in flight are recorded first).
pub async fn send_campaign(
    store: &dyn Store,
    client: &Client,
    campaign: &str,
    options: &WorkOptions,
    track: bool,
    told: Told<'_>,
    stop: impl Future<Output = ()>,
) -> Result<Sent> {
    let Told {
        batches: observer,
        uploads,
    } = told;
    let planned = store
        .planned_campaign(campaign)
        .await?
        .ok_or_else(|| Error::Invalid(format!("campaign {campaign:?} was not planned")))?;
    if planned.content.is_notice() {
        // Sent follower by follower: nothing to prepare, no job to track.
        let fanned = fanout::work(
            store,
            client,
            &planned,
            &FanoutOptions {
                worker: options.worker.clone(),
                lease: options.lease,
                clock: options.clock.clone(),
                ..FanoutOptions::new("")
            },
            &*observer,
            stop,
        )
        .await?;
        return Ok(match fanned {
            Fanned::Done => {
                observer.all_submitted();
                Sent::Done
            }
            Fanned::Stopped => Sent::Stopped,
            Fanned::QuotaSpent { resume_at } => Sent::QuotaSpent { resume_at },
        });
    }
    let message = prepared(store, client, campaign, uploads).await?;
    let mut stop = std::pin::pin!(stop);
    let worked = engine::work(
        store,
        client,
        &planned,
        &message,
        options,
        observer.clone(),
        stop.as_mut(),
    )
    .await?;
    if worked == Worked::Stopped {
        return Ok(Sent::Stopped);
    }
    observer.all_submitted();
    if !track {
        return Ok(Sent::Done);
    }
    // `work` returned Done, so `stop` has not resolved: it may be polled on.
    tokio::select! {
        tracked = crate::track::track(client, store, campaign) => tracked.map(|()| Sent::Done),
        () = stop => Ok(Sent::StoppedTracking),
    }
}

/// What a [`worker`] does, besides sending.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    /// The account whose campaigns it sends.
    pub appid: String,
    /// Only this campaign (waited for until it is planned), else every
    /// campaign of the account.
    pub campaign: Option<String>,
    /// Stop once nothing is left to send, instead of waiting for more.
    pub once: bool,
}

/// What a worker tells besides each batch (see [`Observer`]) and each
/// fan-out window (see [`FanoutObserver`]).
pub trait WorkerObserver: Observer {
    /// A fan-out campaign met WeChat's daily quota: this worker leaves it
    /// until it restarts (the quota returns at `resume_at`).
    fn quota_spent(&self, _campaign: &str, _resume_at: i64) {}
    /// WeChat refused a fan-out campaign's message on `channel` itself:
    /// this worker leaves the campaign until it restarts.
    fn notice_refused(&self, _campaign: &str, _channel: &str, _error: &wxmass_api::Error) {}
    /// WeChat refused a batch of `campaign` for good: this worker leaves
    /// the campaign until it restarts.
    fn left_campaign(&self, _campaign: &str, _batch: u32, _error: &wxmass_api::Error) {}
    /// A round failed (the store or the network): tried again in a second.
    fn round_failed(&self, _error: &Error) {}
}

/// How long an idle worker waits before looking again: less when nothing
/// is left (new campaigns come), more when campaigns wait to be prepared.
const IDLE: Duration = Duration::from_millis(250);
const WAITING: Duration = Duration::from_secs(1);

/// The lease loop: sends every campaign of `plan.appid` that has batches
/// left (or unnamed) and a prepared message (its sender did the uploads),
/// beside any number of other workers, until `stop` resolves (or, with
/// `once`, nothing is left). A campaign WeChat refused a batch of for good
/// is left until the worker restarts; a failed round is tried again.
pub async fn worker(
    store: &dyn Store,
    client: &Client,
    plan: &WorkerPlan,
    options: &WorkOptions,
    observer: Arc<dyn WorkerObserver>,
    stop: impl Future<Output = ()>,
) {
    let mut stop = std::pin::pin!(stop);
    // `stop` is shared by every round: it resolves once, and is then seen
    // as a flag.
    let mut stopped = false;
    let mut refused = HashSet::<String>::new();
    loop {
        let round = one_round(
            store,
            client,
            plan,
            options,
            &observer,
            &mut refused,
            StopOnce {
                stop: stop.as_mut(),
                stopped: &mut stopped,
            },
        )
        .await;
        let left = match round {
            Ok(None) => return,
            Ok(Some(left)) => left,
            Err(error) => {
                observer.round_failed(&error);
                1
            }
        };
        if stopped || (left == 0 && plan.once) {
            return;
        }
        let idle = if left == 0 { IDLE } else { WAITING };
        tokio::select! {
            () = tokio::time::sleep(idle) => {}
            () = stop.as_mut() => return,
        }
    }
}

/// A stop future polled by several rounds: once it resolved, it is not
/// polled again (a finished future must not be).
struct StopOnce<'a, F: Future<Output = ()>> {
    stop: std::pin::Pin<&'a mut F>,
    stopped: &'a mut bool,
}

impl<F: Future<Output = ()>> Future for StopOnce<'_, F> {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let this = self.get_mut();
        if *this.stopped {
            return std::task::Poll::Ready(());
        }
        match this.stop.as_mut().poll(cx) {
            std::task::Poll::Ready(()) => {
                *this.stopped = true;
                std::task::Poll::Ready(())
            }
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    }
}

/// One pass over the account's campaigns: `None` when stopped, else how
/// many still have batches waiting for their sender to prepare them.
async fn one_round<F: Future<Output = ()>>(
    store: &dyn Store,
    client: &Client,
    plan: &WorkerPlan,
    options: &WorkOptions,
    observer: &Arc<dyn WorkerObserver>,
    refused: &mut HashSet<String>,
    mut stop: StopOnce<'_, F>,
) -> Result<Option<usize>> {
    let campaigns = match &plan.campaign {
        // Not planned yet: wait for it.
        Some(id) => match store.planned_campaign(id).await? {
            Some(campaign) => vec![campaign],
            None => return Ok(Some(1)),
        },
        None => store.planned_campaigns().await?,
    };
    let mut left = 0;
    for campaign in campaigns.iter().filter(|c| c.appid == plan.appid) {
        if refused.contains(&campaign.id) {
            continue;
        }
        if campaign.content.is_notice() {
            if store.recipients_pending(&campaign.id).await? == 0 {
                continue;
            }
            let fan = FanoutOptions {
                worker: options.worker.clone(),
                lease: options.lease,
                clock: options.clock.clone(),
                ..FanoutOptions::new("")
            };
            let told: &dyn FanoutObserver = &**observer;
            match fanout::work(store, client, campaign, &fan, told, &mut stop).await {
                Ok(Fanned::Stopped) => return Ok(None),
                Ok(Fanned::Done) => {}
                Ok(Fanned::QuotaSpent { resume_at }) => {
                    observer.quota_spent(&campaign.id, resume_at);
                    refused.insert(campaign.id.clone());
                }
                Err(Error::Refused { channel, source }) => {
                    observer.notice_refused(&campaign.id, channel, &source);
                    refused.insert(campaign.id.clone());
                }
                Err(e) => return Err(e),
            }
            continue;
        }
        // Sent, and every job named (or too old to learn it): nothing to do.
        if store.unsent(&campaign.id).await? == 0 && store.unnamed(&campaign.id).await?.count == 0 {
            continue;
        }
        // Not prepared yet: its sender is still uploading.
        let Some(message) = engine::prepared_message(store, &campaign.id).await? else {
            left += 1;
            continue;
        };
        let told: Arc<dyn Observer> = observer.clone();
        let worked =
            engine::work(store, client, campaign, &message, options, told, &mut stop).await;
        match worked {
            Ok(Worked::Stopped) => return Ok(None),
            Ok(Worked::Done) => {}
            // WeChat refused a batch for good: sending it again cannot help.
            Err(Error::Send { batch, source }) => {
                observer.left_campaign(&campaign.id, batch, &source);
                refused.insert(campaign.id.clone());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(left))
}
