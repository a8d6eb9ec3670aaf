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
    /// and carry on (a worker), unless WeChat refused it for good
    /// ([`wxmass_api::Error::is_permanent`]): that always ends the run, as
    /// sending it again cannot succeed.
    pub stop_on_error: bool,
    /// The time a fan-out campaign judges WeChat's 10 minutes and its days
    /// by (a mass send's leases keep the machine's, or the database's).
    pub clock: crate::fanout::Clock,
    /// Once every batch is sent, wait for the minute after which a batch
    /// WeChat took without naming its job may be sent again to learn it
    /// (see [`crate::spec::NAME_AFTER`]); else name only those ready now
    /// and leave the rest to whoever runs later.
    pub wait_to_name: bool,
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
            wait_to_name: true,
            clock: crate::fanout::Clock::machine(),
        }
    }
}

/// Openids a worker holds in flight at most (the window is narrowed for
/// batches so large that a full window would exceed it).
pub const OPENIDS_IN_FLIGHT: u64 = 40_000;

/// WeChat takes this many mass sends a minute per account (§17).
pub const WECHAT_SENDS_PER_MINUTE: u32 = 60;

/// What a worker tells as it goes (of a fan-out campaign: see
/// [`FanoutObserver`]).
pub trait Observer: crate::fanout::FanoutObserver {
    /// A batch was recorded submitted (`msg_id` when WeChat named the job).
    fn submitted(&self, _claim: &Claim, _msg_id: Option<i64>) {}
    /// A batch sent before was sent again to learn its job: `msg_id` if
    /// WeChat named it this time.
    fn named(&self, _claim: &Claim, _msg_id: Option<i64>) {}
    /// The minute's sends are used: waiting for the next minute.
    fn waiting_for_pace(&self) {}
    /// A batch was refused and given back.
    fn failed(&self, _claim: &Claim, _error: &wxmass_api::Error) {}
    /// `unnamed` batches were taken by WeChat without naming their job;
    /// the first may be sent again to learn it in `ready_in`.
    fn waiting_to_name(&self, _unnamed: u64, _ready_in: Duration) {}
    /// Every batch is submitted (and named, or left to a later run).
    fn all_submitted(&self) {}
}

/// How often one run sends a batch again to learn its job before leaving
/// it to a later run (each try waits out its clientmsgid's minute).
pub const NAMING_TRIES: u32 = 3;

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
/// submitted; then sends again, once its clientmsgid's minute has passed,
/// each batch WeChat took without naming the job (45066: a retry within a
/// minute), to learn it from 45065 (see [`WorkOptions::wait_to_name`]);
/// or until `stop` resolves (checked between rounds; batches in flight
/// finish first). `stop` is polled now and then and left pending in
/// between: it must not hold the store while pending (watch a channel;
/// read the store in a task of its own), or the next store call waits for
/// it forever.
pub async fn work(
    journal: &dyn Store,
    client: &Client,
    campaign: &Campaign,
    message: &Message,
    options: &WorkOptions,
    observer: Arc<dyn Observer>,
    stop: impl Future<Output = ()>,
) -> Result<Worked> {
    let worked = rounds(journal, client, campaign, message, options, observer, stop).await?;
    if matches!(worked, Worked::Done) {
        journal.finish_unmanaged(&campaign.id).await?;
    }
    Ok(worked)
}

/// [`work`]'s rounds.
async fn rounds(
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
    // Naming: every batch is sent; those WeChat took without naming the
    // job are sent again, each at most NAMING_TRIES times in this run.
    let mut naming = false;
    let mut tries = std::collections::HashMap::<u32, u32>::new();
    let mut gave_up = std::collections::HashSet::<u32>::new();
    loop {
        if stopped(stop.as_mut()).await {
            return Ok(Worked::Stopped);
        }
        if !naming && journal.unsent(&campaign.id).await? == 0 {
            naming = true;
        }
        if naming {
            let left = journal.unnamed(&campaign.id).await?;
            if left.count <= gave_up.len() as u64 {
                return Ok(Worked::Done);
            }
            if !left.ready_in.is_zero() {
                if !options.wait_to_name {
                    return Ok(Worked::Done);
                }
                observer.waiting_to_name(left.count, left.ready_in);
                if pause(left.ready_in.min(Duration::from_secs(5)), stop.as_mut()).await {
                    return Ok(Worked::Stopped);
                }
                continue;
            }
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
                slots as usize + gave_up.len(),
                options.lease,
                naming,
            )
            .await?;
        if naming {
            let (again, fresh): (Vec<Claim>, Vec<Claim>) =
                claims.into_iter().partition(|c| gave_up.contains(&c.index));
            journal.release(&options.worker, &again).await?;
            claims = fresh.into_iter().take(slots as usize).collect();
            for claim in &claims {
                *tries.entry(claim.index).or_default() += 1;
            }
        }
        if claims.is_empty() {
            if naming && !options.wait_to_name {
                return Ok(Worked::Done);
            }
            // Others hold the rest: wait for them to finish, or for their
            // leases to run out.
            if pause(Duration::from_millis(200), stop.as_mut()).await {
                return Ok(Worked::Stopped);
            }
            continue;
        }
        let (named, mut failed) = round.send(&claims, naming).await?;
        if naming {
            // A naming resend that fails is tried again after its minute:
            // the batch is sent already, so no error ends the run.
            for (claim, error) in &failed {
                observer.failed(claim, error);
            }
            for claim in &claims {
                if !named.contains(&claim.index)
                    && tries.get(&claim.index).copied().unwrap_or(0) >= NAMING_TRIES
                {
                    gave_up.insert(claim.index);
                }
            }
            continue;
        }
        if failed.is_empty() {
            backoff = Duration::from_millis(100);
            continue;
        }
        failed.sort_by_key(|(c, _)| c.index);
        let ending = match failed.iter().position(|(_, e)| e.is_permanent()) {
            Some(permanent) => Some(permanent),
            None => options.stop_on_error.then_some(0),
        };
        if let Some(i) = ending {
            let (claim, error) = failed.swap_remove(i);
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

/// Sends again, each once, the batches of a fully sent `campaign` that
/// WeChat took without naming the job and whose clientmsgid's minute has
/// passed, to learn the job (45065 names it); sends nothing else, and
/// waits for nothing: `status --refresh` and a server's follow-up call it.
/// Returns how many batches are still without their job.
pub async fn name_unnamed(
    journal: &dyn Store,
    client: &Client,
    campaign: &Campaign,
    options: &WorkOptions,
) -> Result<u64> {
    let unnamed = journal.unnamed(&campaign.id).await?.count;
    if unnamed == 0 || journal.unsent(&campaign.id).await? > 0 {
        // Nothing to learn, or the campaign is still its sender's.
        return Ok(unnamed);
    }
    let Some(message) = prepared_message(journal, &campaign.id).await? else {
        return Ok(unnamed);
    };
    let options = WorkOptions {
        wait_to_name: false,
        ..options.clone()
    };
    work(
        journal,
        client,
        campaign,
        &message,
        &options,
        Arc::new(Unobserved),
        std::future::pending(),
    )
    .await?;
    Ok(journal.unnamed(&campaign.id).await?.count)
}

/// An observer told nothing.
struct Unobserved;

impl Observer for Unobserved {}
impl crate::fanout::FanoutObserver for Unobserved {}

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
    /// transaction, and gives back the others. Returns the batches whose
    /// job WeChat named, and those given back with WeChat's answer.
    async fn send(
        &self,
        claims: &[Claim],
        naming: bool,
    ) -> Result<(
        std::collections::HashSet<u32>,
        Vec<(Claim, wxmass_api::Error)>,
    )> {
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
        metrics::counter!("wxmass_batches_sent_total").increment(done.len() as u64);
        for (_, error) in &failed {
            let errcode = error
                .errcode()
                .map_or_else(|| "none".to_owned(), |c| c.code().to_string());
            metrics::counter!("wxmass_batches_refused_total", "errcode" => errcode).increment(1);
        }
        for (claim, msg_id, _) in &done {
            if naming {
                self.observer.named(claim, *msg_id);
            } else {
                self.observer.submitted(claim, *msg_id);
            }
        }
        let given_back: Vec<Claim> = failed.iter().map(|(c, _)| c.clone()).collect();
        self.journal
            .release(&self.options.worker, &given_back)
            .await?;
        let named = done
            .iter()
            .filter(|(_, msg_id, _)| msg_id.is_some())
            .map(|(c, ..)| c.index)
            .collect();
        Ok((named, failed))
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
