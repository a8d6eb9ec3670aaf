//! Sending: any number of workers (the CLI's `send`, `wxmass worker`, later
//! each server) send one campaign's batches together, each batch by one
//! worker at a time.
//!
//! A worker takes a few of the minute's sends ([`BatchStore::take_send_slots`],
//! counted for every worker of the account), claims as many batches
//! ([`BatchStore::claim`]: they are `submitting`, under its lease, committed
//! before any request), sends them at once with their clientmsgids, and
//! records them ([`BatchStore::record_submitted`]) in one transaction. A
//! worker that dies leaves its batches `submitting`; when its lease runs
//! out another claims them and sends them again with the same
//! clientmsgid, which WeChat refuses as a duplicate (45065, or 45066
//! within a minute): a takeover never delivers twice.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use wxmass_api::{Client, ClientMsgId, Errcode, Message, Sent};

use crate::error::{Error, Result};
use crate::openids;
use crate::spec::{Audience, Campaign, Claim};
use crate::store::prelude::*;

/// How a worker sends.
#[derive(Debug, Clone)]
pub struct WorkOptions {
    /// Its name in the journal's leases (unique per process on a shared
    /// database; the CLI on a SQLite file uses one name, so a rerun takes
    /// back what a killed run held at once).
    pub worker: String,
    /// Batches claimed and sent at once (at most; fewer when they are
    /// large, see [`OPENIDS_IN_FLIGHT`]).
    pub window: usize,
    /// How long a claim is the worker's alone.
    pub lease: Duration,
    /// The account's mass sends a minute, counted in the journal for every
    /// worker (WeChat's is 60). `None`: not counted; WeChat's 45011 is
    /// waited out instead (one sender on one host).
    pub sends_per_minute: Option<u32>,
    /// Stop at the first batch WeChat refuses (the CLI); else give it back
    /// and carry on (a worker).
    pub stop_on_error: bool,
}

impl WorkOptions {
    /// WeChat's pace counted, 8 at once, a 30-second lease.
    pub fn new(worker: impl Into<String>) -> WorkOptions {
        WorkOptions {
            worker: worker.into(),
            window: 8,
            lease: Duration::from_secs(30),
            sends_per_minute: Some(WECHAT_SENDS_PER_MINUTE),
            stop_on_error: true,
        }
    }
}

/// Openids a worker holds in flight at most (the window is narrowed for
/// batches so large that a full window would exceed it).
pub const OPENIDS_IN_FLIGHT: u64 = 40_000;

/// WeChat takes this many mass sends a minute per account (§17).
pub const WECHAT_SENDS_PER_MINUTE: u32 = 60;

/// What a worker tells as it goes.
pub trait Observer: Send + Sync {
    /// A batch was recorded submitted (`msg_id` when WeChat named the job).
    fn submitted(&self, _claim: &Claim, _msg_id: Option<i64>) {}
    /// The minute's sends are used: waiting for the next minute.
    fn waiting_for_pace(&self) {}
    /// A batch was refused and given back.
    fn failed(&self, _claim: &Claim, _error: &wxmass_api::Error) {}
}

/// How a run of [`work`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Worked {
    /// Every batch of the campaign is recorded submitted.
    Done,
    /// `stop` resolved first.
    Stopped,
}

/// The message a campaign sends, as prepared (its media ids), from the
/// journal.
pub async fn prepared_message(journal: &dyn Store, campaign: &str) -> Result<Option<Message>> {
    match journal.prepared(campaign).await? {
        None => Ok(None),
        Some(json) => serde_json::from_str(&json).map(Some).map_err(|_| Error::Store {
            advice: format!(
                "campaign {campaign:?} holds a prepared message this build cannot read: was it written by a newer wxmass?"
            ),
            source: None,
        }),
    }
}

/// Keeps `message` as the campaign's prepared message and returns the one
/// kept (another worker's, if it prepared first).
pub async fn keep_prepared(
    journal: &dyn Store,
    campaign: &str,
    message: &Message,
) -> Result<Message> {
    let json = serde_json::to_string(message).unwrap_or_default();
    let kept = journal.set_prepared(campaign, &json).await?;
    Ok(serde_json::from_str(&kept).unwrap_or_else(|_| message.clone()))
}

/// Sends `campaign`'s batches with `client` until every one is recorded
/// submitted, then sends once more those WeChat took without naming the
/// job (45066: a retry within a minute), to learn it; or until `stop`
/// resolves (checked between rounds; batches in flight finish first).
/// `stop` is polled now and then and left pending in between: it must not
/// hold the journal while pending (watch a channel; read the store in a
/// task of its own), or the next journal call waits for it forever.
pub async fn work(
    journal: &dyn Store,
    client: &Client,
    campaign: &Campaign,
    message: &Message,
    options: &WorkOptions,
    observer: Arc<dyn Observer>,
    stop: impl Future<Output = ()>,
) -> Result<Worked> {
    let mut stop = std::pin::pin!(stop);
    let round = Round {
        journal,
        client,
        campaign,
        message,
        options,
        observer: &observer,
    };
    // Each batch in flight holds its openids and its request body: a
    // window of large batches is narrowed so that memory stays flat.
    let largest = journal
        .batches(&campaign.id)
        .await?
        .iter()
        .map(|b| b.size)
        .max()
        .unwrap_or(0);
    let window = options
        .window
        .min(usize::try_from(OPENIDS_IN_FLIGHT / largest.max(1)).unwrap_or(usize::MAX))
        .max(1) as u32;
    let mut backoff = Duration::from_millis(100);
    // With `unnamed`, each batch is tried once: `tried` holds them.
    let mut unnamed = false;
    let mut tried = std::collections::HashSet::new();
    loop {
        if stopped(stop.as_mut()).await {
            return Ok(Worked::Stopped);
        }
        if !unnamed && journal.unsent(&campaign.id).await? == 0 {
            unnamed = true;
        }
        let slots = match options.sends_per_minute {
            Some(limit) => {
                journal
                    .take_send_slots(&campaign.appid, window, limit)
                    .await?
            }
            None => window,
        };
        if slots == 0 {
            observer.waiting_for_pace();
            if pause(Duration::from_secs(1), stop.as_mut()).await {
                return Ok(Worked::Stopped);
            }
            continue;
        }
        let mut claims = journal
            .claim(
                &campaign.id,
                &options.worker,
                slots as usize + tried.len(),
                options.lease,
                unnamed,
            )
            .await?;
        if unnamed {
            let (again, fresh): (Vec<Claim>, Vec<Claim>) =
                claims.into_iter().partition(|c| tried.contains(&c.index));
            journal.release(&options.worker, &again).await?;
            claims = fresh.into_iter().take(slots as usize).collect();
            if claims.is_empty() {
                return Ok(Worked::Done);
            }
            tried.extend(claims.iter().map(|c| c.index));
        } else if claims.is_empty() {
            // Others hold the rest: wait for them to finish, or for their
            // leases to run out.
            if pause(Duration::from_millis(200), stop.as_mut()).await {
                return Ok(Worked::Stopped);
            }
            continue;
        }
        let mut failed = round.send(&claims).await?;
        if failed.is_empty() {
            backoff = Duration::from_millis(100);
            continue;
        }
        failed.sort_by_key(|(c, _)| c.index);
        if options.stop_on_error {
            let (claim, error) = failed.swap_remove(0);
            return Err(Error::Send {
                batch: claim.index + 1,
                source: error,
            });
        }
        for (claim, error) in &failed {
            observer.failed(claim, error);
        }
        if pause(backoff, stop.as_mut()).await {
            return Ok(Worked::Stopped);
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// What one round of sending needs.
struct Round<'a> {
    journal: &'a dyn Store,
    client: &'a Client,
    campaign: &'a Campaign,
    message: &'a Message,
    options: &'a WorkOptions,
    observer: &'a Arc<dyn Observer>,
}

impl Round<'_> {
    /// Sends claimed batches at once, records those WeChat took in one
    /// transaction, and gives back the others (returned with WeChat's
    /// answer).
    async fn send(&self, claims: &[Claim]) -> Result<Vec<(Claim, wxmass_api::Error)>> {
        let mut sends: JoinSet<Result<(usize, wxmass_api::Result<Sent>)>> = JoinSet::new();
        for (n, claim) in claims.iter().enumerate() {
            // Only the stored bytes are read here; each send decodes its
            // own on its task, beside the others' requests.
            let packed = match &self.campaign.audience {
                Audience::Openids => Some(
                    self.journal
                        .packed_openids(&self.campaign.id, claim.index)
                        .await?,
                ),
                _ => None,
            };
            let audience = self.campaign.audience.clone();
            let (client, message) = (self.client.clone(), self.message.clone());
            let (id, observer) = (claim.clientmsgid.clone(), self.observer.clone());
            let (campaign, index) = (self.campaign.id.clone(), claim.index);
            sends.spawn(async move {
                let audience = match audience {
                    Audience::All => wxmass_api::Audience::All,
                    Audience::Tag { tag_id } => wxmass_api::Audience::Tag(tag_id),
                    Audience::Openids => wxmass_api::Audience::OpenIds(openids::decode_batch(
                        packed.flatten().as_deref(),
                        &campaign,
                        index,
                    )?),
                };
                Ok((
                    n,
                    send_batch(&client, &message, &audience, &id, &*observer).await,
                ))
            });
        }
        let mut done = Vec::new();
        let mut failed = Vec::new();
        while let Some(joined) = sends.join_next().await {
            let Ok(sent) = joined else { continue };
            let (n, sent) = sent?;
            match sent {
                Ok(sent) => {
                    let (msg_id, data_id) = match sent {
                        Sent::Submitted {
                            msg_id,
                            msg_data_id,
                            ..
                        } => (Some(msg_id), msg_data_id),
                        Sent::AlreadySubmitted { msg_id, .. } => (msg_id, None),
                    };
                    done.push((claims[n].clone(), msg_id, data_id));
                }
                Err(e) => failed.push((claims[n].clone(), e)),
            }
        }
        done.sort_by_key(|(c, ..)| c.index);
        self.journal
            .record_submitted(&self.options.worker, &done)
            .await?;
        for (claim, msg_id, _) in &done {
            self.observer.submitted(claim, *msg_id);
        }
        let given_back: Vec<Claim> = failed.iter().map(|(c, _)| c.clone()).collect();
        self.journal
            .release(&self.options.worker, &given_back)
            .await?;
        Ok(failed)
    }
}

/// Whether `stop` has resolved, without waiting.
async fn stopped(stop: std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        biased;
        () = stop => true,
        () = std::future::ready(()) => false,
    }
}

/// Sleeps for `d`; true if `stop` resolved first.
async fn pause(d: Duration, stop: std::pin::Pin<&mut impl Future<Output = ()>>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(d) => false,
        () = stop => true,
    }
}

/// How often a batch refused for the per-minute limit is tried again.
const MINUTE_QUOTA_RETRY: Duration = Duration::from_secs(3);
/// How long to keep trying before giving the batch back.
const MINUTE_QUOTA_PATIENCE: Duration = Duration::from_secs(180);

/// Sends one batch, waiting out WeChat's limit of 60 mass sends a minute
/// (45011, when other tools use the account too). WeChat refuses such a
/// request before creating a job, so sending it again with the same
/// clientmsgid cannot deliver twice.
async fn send_batch(
    client: &Client,
    message: &Message,
    audience: &wxmass_api::Audience,
    clientmsgid: &str,
    observer: &dyn Observer,
) -> wxmass_api::Result<Sent> {
    let give_up = tokio::time::Instant::now() + MINUTE_QUOTA_PATIENCE;
    loop {
        let id = ClientMsgId::Given(clientmsgid.to_owned());
        match client.mass().send_with(message, audience, id).await {
            Err(e)
                if e.errcode() == Some(Errcode::ApiMinuteQuota)
                    && tokio::time::Instant::now() < give_up =>
            {
                observer.waiting_for_pace();
                tracing::debug!(
                    clientmsgid,
                    "45011: the minute's sends are used; trying again"
                );
                tokio::time::sleep(MINUTE_QUOTA_RETRY).await;
            }
            sent => return sent,
        }
    }
}
