//! Sending a fan-out campaign: a notice to each recipient, one request
//! each, by any number of workers, each recipient reached at most once
//! where WeChat can tell a repeat (template messages, by `client_msg_id`)
//! and reported `unknown` where it cannot.
//!
//! A worker claims a chunk of recipients under a lease
//! ([`RecipientStore::claim_chunk`]) and works it a window at a time:
//! the window's recipients are written `sending` (with their channel and
//! the time of their first attempt) in one transaction, their requests
//! leave together, and what WeChat answered is written in one more. A
//! recipient found `sending` when a chunk is claimed was cut off (its
//! worker died, or its lease ran out): a template message is sent again
//! with its key while its first attempt is recent
//! ([`crate::notices::RESEND_WITHIN`]); anything else is `unknown`, never
//! sent again by itself.
//!
//! WeChat's answers decide the rest ([`fate`]): a follower WeChat will
//! not let this channel reach (unfollowed, blocked, no consent, window
//! closed) moves to the campaign's next channel or fails; 45011 waits for
//! the next minute; 45009 stops for the day; a refusal of the message
//! itself (a template not the account's, a keyword breaking its rule, no
//! permission) stops the campaign before more calls are spent.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use wxmass_api::api::custom::CustomMessage;
use wxmass_api::api::subscribe::SubscribeMessage;
use wxmass_api::api::templates::{MiniProgram, TemplateMessage};
use wxmass_api::{Client, Reaction};

use crate::beijing;
use crate::error::{Error, Result};
use crate::notices::{
    ApiLimits, Channel, Granted, Learnt, MiniProgramPage, RESEND_WITHIN, ReachEvent,
    RecipientState, Record, Records, SubscriptionNotice, TemplateNotice, api_path,
    notice_client_msg_id,
};
use crate::openids;
use crate::spec::{Campaign, Content};
use crate::store::StoredChunk;
use crate::store::prelude::*;

/// How a worker sends a fan-out campaign.
#[derive(Debug, Clone)]
pub struct FanoutOptions {
    /// Its name in the chunks' leases (see [`crate::engine::WorkOptions`]).
    pub worker: String,
    /// How long a claimed chunk is the worker's alone (extended at every
    /// window it writes).
    pub lease: Duration,
    /// Recipients written `sending` together, then sent.
    pub window: usize,
    /// Requests in flight at once.
    pub in_flight: usize,
    /// The time: WeChat's 10 minutes and its day are judged on it (a
    /// server whose clock tests move gives its own).
    pub clock: Clock,
}

/// Unix seconds now, as a fan-out worker judges WeChat's time.
#[derive(Clone)]
pub struct Clock(pub std::sync::Arc<dyn Fn() -> i64 + Send + Sync>);

impl Clock {
    /// The machine's clock ([`beijing::now`]).
    pub fn machine() -> Clock {
        Clock(std::sync::Arc::new(beijing::now))
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Clock({})", self.now())
    }
}

impl FanoutOptions {
    /// 256 a window, 64 requests at once, a 30-second lease.
    pub fn new(worker: impl Into<String>) -> FanoutOptions {
        FanoutOptions {
            worker: worker.into(),
            lease: Duration::from_secs(30),
            window: 256,
            in_flight: 64,
            clock: Clock::machine(),
        }
    }
}

/// What a fan-out worker tells as it goes.
pub trait FanoutObserver: Send + Sync {
    /// A window was recorded: how many of it were sent, failed and became
    /// unknown.
    fn recorded(&self, _sent: u64, _failed: u64, _unknown: u64) {}
    /// WeChat's minute is used (45011): waiting for the next one.
    fn waiting_for_minute(&self) {}
    /// A chunk was taken over from a worker whose lease ran out: of its
    /// recipients cut off mid-send, `resent` are sent again with their
    /// key and `unknown` cannot be.
    fn took_over(&self, _chunk: u32, _resent: u64, _unknown: u64) {}
}

/// An observer told nothing.
pub struct Unobserved;

impl FanoutObserver for Unobserved {}

/// How a run of [`work`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanned {
    /// No recipient is left to do.
    Done,
    /// `stop` resolved first; the rest is sent by the next run.
    Stopped,
    /// WeChat's daily quota for the channel is spent (45009): the rest
    /// waits for the day that starts at `resume_at` (Unix seconds:
    /// midnight, Beijing time).
    QuotaSpent {
        /// When the quota returns.
        resume_at: i64,
    },
}

/// A fan-out campaign's message per channel, and its channel order.
#[derive(Debug, Clone)]
pub struct Notice {
    via: Vec<Channel>,
    template: Option<TemplateNotice>,
    subscription: Option<SubscriptionNotice>,
    custom_text: Option<String>,
}

impl Notice {
    /// The notice `content` sends, if it is one.
    pub fn of(content: &Content) -> Option<Notice> {
        match content {
            Content::Notice {
                via,
                template,
                subscription,
                custom_text,
            } => Some(Notice {
                via: via.clone(),
                template: template.clone(),
                subscription: subscription.clone(),
                custom_text: custom_text.clone(),
            }),
            _ => None,
        }
    }

    /// The channel after `channel` in the campaign's order.
    fn after(&self, channel: Channel) -> Option<Channel> {
        let at = self.via.iter().position(|c| *c == channel)?;
        self.via.get(at + 1).copied()
    }

    /// Sends it to `openid` on `channel`: WeChat's msgid, when it gives one.
    async fn send(
        &self,
        client: &Client,
        campaign: &str,
        channel: Channel,
        openid: &str,
    ) -> wxmass_api::Result<i64> {
        let missing = || {
            wxmass_api::Error::Invalid(format!(
                "the campaign has no message for the {} channel",
                channel.as_str()
            ))
        };
        let page = |m: &MiniProgramPage| MiniProgram {
            appid: m.appid.clone(),
            pagepath: m.pagepath.clone(),
        };
        match channel {
            Channel::Template => {
                let t = self.template.as_ref().ok_or_else(missing)?;
                let message = TemplateMessage {
                    touser: openid.to_owned(),
                    template_id: t.template_id.clone(),
                    url: t.url.clone(),
                    miniprogram: t.miniprogram.as_ref().map(page),
                    client_msg_id: Some(notice_client_msg_id(campaign, openid)),
                    data: t.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                };
                let sent = client.templates().send(&message).await?;
                Ok(sent.msg_id.unwrap_or(0))
            }
            Channel::Subscription => {
                let n = self.subscription.as_ref().ok_or_else(missing)?;
                let message = SubscribeMessage {
                    touser: openid.to_owned(),
                    template_id: n.template_id.clone(),
                    page: n.page.clone(),
                    miniprogram: n.miniprogram.as_ref().map(page),
                    data: n.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                };
                client.subscribe().send(&message).await?;
                Ok(0)
            }
            Channel::CustomerService => {
                let text = self.custom_text.as_ref().ok_or_else(missing)?;
                let message = CustomMessage::Text {
                    content: text.clone(),
                };
                client.custom().send(openid, &message, None).await?;
                Ok(0)
            }
        }
    }
}

/// What became of one request, for the recipient's record.
#[derive(Debug)]
pub enum Fate {
    /// WeChat took it (its msgid; 0 when it gave none).
    Sent(i64),
    /// WeChat will not let this channel reach this follower (the errcode):
    /// unfollowed (43004), blocked (43019), not this account's (40003), no
    /// consent left (43101), window closed or used up (45015, 45047).
    Refused(i32),
    /// Nothing was done (the request never reached WeChat, or WeChat
    /// answered "busy" or "token expired"): try again.
    NotSent,
    /// The request may have been acted on; the answer was lost.
    Unclear,
    /// The minute's calls are used (45011).
    Minute,
    /// The day's calls are used (45009).
    Day,
    /// WeChat refused the message itself, or the account: every other
    /// recipient would be refused the same way.
    Stop(wxmass_api::Error),
}

/// Errcodes that concern one follower, not the message.
const FOLLOWER_ERRCODES: [i64; 6] = [40003, 43004, 43019, 43101, 45015, 45047];

/// What `result` means for the recipient. (-1, "system busy", is taken as
/// nothing done, as WeChat's documentation says to retry it; the
/// reference does not say whether a send was made.)
pub fn fate(result: wxmass_api::Result<i64>) -> Fate {
    use wxmass_api::Error as E;
    match result {
        Ok(msg_id) => Fate::Sent(msg_id),
        Err(e) => match &e {
            E::Api { code, .. } => match code.code() {
                c if FOLLOWER_ERRCODES.contains(&c) => Fate::Refused(c as i32),
                45011 => Fate::Minute,
                45009 => Fate::Day,
                _ if matches!(code.reaction(), Reaction::Retry | Reaction::RefreshToken) => {
                    Fate::NotSent
                }
                _ => Fate::Stop(e),
            },
            E::Transport { .. } => Fate::NotSent,
            E::AnswerLost { .. } | E::Http { .. } | E::Decode { .. } => Fate::Unclear,
            _ => Fate::Stop(e),
        },
    }
}

/// Whether a template recipient cut off mid-send may be sent again with
/// its key at `now`.
fn resendable(record: &Record, now: i64) -> bool {
    record.channel == Some(Channel::Template) && now - i64::from(record.first_at) <= RESEND_WITHIN
}

/// A chunk's recipients on their way: those left to send, those readied
/// (written `sending`, not yet sent), and what happened since the last
/// write.
#[derive(Default)]
struct Pipeline {
    /// Left to send, in order (planned, cut off and resendable, or back
    /// for another try or the next channel).
    queue: std::collections::VecDeque<usize>,
    /// Written `sending`, waiting for a request slot: (recipient, its
    /// state before, channel).
    ready: std::collections::VecDeque<(usize, RecipientState, Channel)>,
    /// When the calls of `ready` were taken from the shared limits.
    taken_at: i64,
    /// Results since the last write.
    done: usize,
    sent: u64,
    failed: u64,
    unknown: u64,
    /// WeChat was busy: no new window before this.
    retry_at: Option<tokio::time::Instant>,
    /// Why the chunk ends once nothing is out.
    ending: Option<Result<ChunkEnd>>,
    /// The channel WeChat said 45009 for.
    day: Option<Channel>,
    /// What the answers taught of reaching the followers, to keep.
    learnt: Vec<Learnt>,
}

impl Pipeline {
    /// The results so far are written.
    fn written(&mut self) {
        (self.done, self.sent, self.failed, self.unknown) = (0, 0, 0, 0);
    }
}

/// A request WeChat did not act on leaves its recipient as it was:
/// planned, or cut off from an earlier attempt (its first attempt's time
/// kept, for the 10 minutes).
fn undo(r: &mut Record, prior: RecipientState) {
    if prior == RecipientState::Planned {
        r.state = RecipientState::Planned;
        r.first_at = 0;
    }
}

/// How a chunk's work ended.
enum ChunkEnd {
    /// Nothing left in it (or it was taken over): claim the next.
    Next,
    Stopped,
    /// The minute's (or the rate's period's) calls are used: the chunk was
    /// given back; wait this long.
    Wait(Duration),
    /// 45009.
    Day,
}

/// Sends `campaign`'s notice to its recipients until none is left to do,
/// beside any number of other workers; or until `stop` resolves (the
/// window in flight is recorded first), or the day's quota is spent.
pub async fn work(
    store: &dyn Store,
    client: &Client,
    campaign: &Campaign,
    options: &FanoutOptions,
    observer: &dyn FanoutObserver,
    stop: impl Future<Output = ()>,
) -> Result<Fanned> {
    let notice = Notice::of(&campaign.content).ok_or_else(|| {
        Error::Invalid(format!(
            "campaign {:?} is not a notice: it is sent as a mass message",
            campaign.id
        ))
    })?;
    learn_limits(
        store,
        client,
        &campaign.appid,
        &notice.via,
        options.clock.now(),
    )
    .await?;
    let run = Run {
        store,
        client,
        campaign,
        notice: &notice,
        options,
        observer,
    };
    let mut stop = std::pin::pin!(stop);
    loop {
        if stopped(stop.as_mut()).await {
            return Ok(Fanned::Stopped);
        }
        let now = options.clock.now();
        let Some(chunk) = store
            .claim_chunk(&campaign.id, &options.worker, options.lease, now)
            .await?
        else {
            if store.recipients_pending(&campaign.id).await? == 0 {
                store.finish_unmanaged(&campaign.id).await?;
                return Ok(Fanned::Done);
            }
            // Others hold the rest: wait for them to finish, or for their
            // leases to run out.
            if pause(Duration::from_millis(200), stop.as_mut()).await {
                return Ok(Fanned::Stopped);
            }
            continue;
        };
        match run.chunk(chunk, stop.as_mut()).await? {
            ChunkEnd::Next => {}
            ChunkEnd::Stopped => return Ok(Fanned::Stopped),
            ChunkEnd::Wait(wait) => {
                observer.waiting_for_minute();
                if pause(wait, stop.as_mut()).await {
                    return Ok(Fanned::Stopped);
                }
            }
            ChunkEnd::Day => {
                let (_, day_end) = beijing::day_bounds(options.clock.now());
                return Ok(Fanned::QuotaSpent { resume_at: day_end });
            }
        }
    }
}

/// WeChat's limits on each channel's API (`openapi/quota/get`: the daily
/// quota, what is used of it, the rate), asked once a Beijing day per
/// account and noted in the store, where every worker of the account then
/// takes its calls from one count. An account that may not ask is noted
/// without limits: WeChat's own 45009 and 45011 then say.
async fn learn_limits(
    store: &dyn Store,
    client: &Client,
    appid: &str,
    via: &[Channel],
    now: i64,
) -> Result<()> {
    let day = beijing::day_number(now);
    for &channel in via {
        let api = api_path(channel);
        if store.api_limits(appid, api, day).await?.is_some() {
            continue;
        }
        let (limits, used) = match client.quota().get(api).await {
            Ok(q) => (
                ApiLimits {
                    daily: Some(q.quota.daily_limit).filter(|d| *d > 0),
                    rate: q
                        .rate_limit
                        .filter(|r| r.call_count > 0 && r.refresh_second > 0)
                        .map(|r| (r.call_count, r.refresh_second)),
                },
                q.quota.used,
            ),
            Err(error) => {
                tracing::info!(api, %error, "WeChat's quota could not be read; its 45009 and 45011 will say");
                (ApiLimits::default(), 0)
            }
        };
        store
            .note_api_limits(appid, api, day, &limits, used)
            .await?;
    }
    Ok(())
}

/// What working a campaign's chunks needs.
struct Run<'a> {
    store: &'a dyn Store,
    client: &'a Client,
    campaign: &'a Campaign,
    notice: &'a Notice,
    options: &'a FanoutOptions,
    observer: &'a dyn FanoutObserver,
}

impl Run<'_> {
    /// Works a claimed chunk a window at a time until nothing is left in it.
    async fn chunk<F: Future<Output = ()>>(
        &self,
        chunk: StoredChunk,
        mut stop: std::pin::Pin<&mut F>,
    ) -> Result<ChunkEnd> {
        let id = &self.campaign.id;
        let unreadable = || Error::Store {
            advice: format!(
                "chunk {} of campaign {id:?} holds recipients this build cannot read",
                chunk.index + 1
            ),
            source: None,
        };
        let openids = openids::decode_batch(Some(&chunk.openids), id, chunk.index)?;
        let mut records = Records::decode(&chunk.records).ok_or_else(unreadable)?;
        if records.0.len() != openids.len() {
            return Err(unreadable());
        }
        // Recipients cut off mid-send: by a crash, or a lease that ran out.
        let now = self.now();
        let (mut resent, mut lost) = (0, 0);
        for r in records
            .0
            .iter_mut()
            .filter(|r| r.state == RecipientState::Sending)
        {
            if resendable(r, now) {
                resent += 1;
            } else {
                r.state = RecipientState::Unknown;
                lost += 1;
            }
        }
        if resent + lost > 0 {
            self.observer.took_over(chunk.index, resent, lost);
            if lost > 0 && !self.write(chunk.index, &records, now).await? {
                return Ok(ChunkEnd::Next);
            }
        }
        let mut work = Pipeline {
            queue: records
                .0
                .iter()
                .enumerate()
                .filter(|(_, r)| r.state.pending())
                .map(|(i, _)| i)
                .collect(),
            ..Pipeline::default()
        };
        let mut running = futures_util::stream::FuturesUnordered::new();
        let mut backoff = Duration::from_millis(100);
        loop {
            // Keep `in_flight` requests out, from what is committed `sending`.
            while running.len() < self.options.in_flight.max(1)
                && let Some(job) = work.ready.pop_front()
            {
                running.push(self.send_one(job, &openids[job.0]));
            }
            if work.ready.is_empty()
                && work.ending.is_none()
                && !work.queue.is_empty()
                && work
                    .retry_at
                    .is_none_or(|at| tokio::time::Instant::now() >= at)
            {
                if stopped(stop.as_mut()).await {
                    work.ending = Some(Ok(ChunkEnd::Stopped));
                } else {
                    work.retry_at = None;
                    // The next window, written `sending` (with the results
                    // so far) before any of its requests leaves.
                    let now = self.now();
                    self.next_window(&mut records, &openids, &mut work, now)
                        .await?;
                    if !self.save(chunk.index, &records, &mut work, now).await? {
                        // Another worker took the chunk: what was readied
                        // is its to send, but these calls were not made.
                        let unsent: Vec<_> = work.ready.drain(..).collect();
                        self.give_back(&unsent, work.taken_at).await?;
                        return Ok(ChunkEnd::Next);
                    }
                    self.observer.recorded(work.sent, work.failed, work.unknown);
                    work.written();
                    continue;
                }
            }
            if running.is_empty() {
                // Nothing out: what was readied but not sent goes back, and
                // so do its calls.
                let unsent: Vec<_> = work.ready.drain(..).collect();
                for &(i, prior, _) in &unsent {
                    undo(&mut records.0[i], prior);
                }
                self.give_back(&unsent, work.taken_at).await?;
                let now = self.now();
                let ending = match work.ending.take() {
                    Some(ending) => Some(ending),
                    None if work.queue.is_empty() => Some(Ok(ChunkEnd::Next)),
                    None => None,
                };
                if let Some(ending) = ending {
                    if let Some(channel) = work.day {
                        self.day_spent(channel, now).await?;
                    }
                    if self.save(chunk.index, &records, &mut work, now).await? {
                        self.observer.recorded(work.sent, work.failed, work.unknown);
                        self.release(chunk.index).await?;
                    }
                    return ending;
                }
                // WeChat was busy or unreachable: wait before trying again.
                if let Some(at) = work.retry_at {
                    if pause(
                        at.saturating_duration_since(tokio::time::Instant::now()),
                        stop.as_mut(),
                    )
                    .await
                    {
                        work.ending = Some(Ok(ChunkEnd::Stopped));
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                continue;
            }
            let Some((i, prior, fate)) = running.next().await else {
                continue;
            };
            if self.apply(&mut records.0[i], (i, &openids[i]), prior, fate, &mut work) {
                work.retry_at = Some(tokio::time::Instant::now() + backoff);
            } else if work.retry_at.is_none() {
                backoff = Duration::from_millis(100);
            }
            work.done += 1;
            if work.done >= self.options.window {
                let now = self.now();
                if !self.save(chunk.index, &records, &mut work, now).await? {
                    let unsent: Vec<_> = work.ready.drain(..).collect();
                    self.give_back(&unsent, work.taken_at).await?;
                    return Ok(ChunkEnd::Next);
                }
                self.observer.recorded(work.sent, work.failed, work.unknown);
                work.written();
            }
        }
    }

    /// Takes the next window of recipients from the queue, as many as
    /// WeChat's limits allow (counted for every worker of the account), and
    /// readies them `sending` (written by the caller before they leave).
    /// Sets the ending when none may go (the period's or the day's calls
    /// are spent).
    async fn next_window(
        &self,
        records: &mut Records,
        openids: &[String],
        work: &mut Pipeline,
        now: i64,
    ) -> Result<()> {
        let channel_of = |r: &Record| r.channel.unwrap_or(self.notice.via[0]);
        let mut candidates = Vec::with_capacity(self.options.window);
        while candidates.len() < self.options.window
            && let Some(i) = work.queue.pop_front()
        {
            let r = &mut records.0[i];
            match r.state {
                RecipientState::Planned => candidates.push(i),
                RecipientState::Sending if resendable(r, now) => candidates.push(i),
                // Cut off, and its key's 10 minutes are over.
                RecipientState::Sending => {
                    r.state = RecipientState::Unknown;
                    work.unknown += 1;
                }
                _ => {}
            }
        }
        self.route(records, &mut candidates, openids, work, now)
            .await?;
        let mut allowed = std::collections::HashMap::<Channel, u32>::new();
        let mut waits = Vec::new();
        for channel in self.notice.via.iter().copied() {
            let want = candidates
                .iter()
                .filter(|&&i| channel_of(&records.0[i]) == channel)
                .count() as u32;
            if want == 0 {
                continue;
            }
            match self
                .store
                .take_api_calls(&self.campaign.appid, api_path(channel), want, now)
                .await?
            {
                Granted::Calls(n) => {
                    allowed.insert(channel, n);
                }
                Granted::DaySpent => waits.push(None),
                Granted::PeriodSpent(seconds) => waits.push(Some(seconds)),
            }
        }
        let mut held_back = Vec::new();
        for i in candidates {
            let r = &mut records.0[i];
            let channel = channel_of(r);
            let Some(left) = allowed.get_mut(&channel).filter(|n| **n > 0) else {
                held_back.push(i);
                continue;
            };
            *left -= 1;
            work.taken_at = now;
            work.ready.push_back((i, r.state, channel));
            if r.state == RecipientState::Planned {
                *r = Record {
                    state: RecipientState::Sending,
                    channel: Some(channel),
                    first_at: u32::try_from(now).unwrap_or(u32::MAX),
                    ..Record::default()
                };
            }
        }
        // Those the limits held back go first next time.
        for i in held_back.into_iter().rev() {
            work.queue.push_front(i);
        }
        if work.ready.is_empty() && !waits.is_empty() {
            // A period ends before a day does.
            work.ending = Some(Ok(match waits.iter().flatten().min() {
                Some(&seconds) => ChunkEnd::Wait(Duration::from_secs(seconds.max(1) as u64)),
                None => ChunkEnd::Day,
            }));
        }
        Ok(())
    }

    /// Each planned candidate's channel, from what is known of reaching
    /// its follower: customer service only to a window known open when a
    /// later channel remains (the last channel is tried unless known
    /// closed); a template message not to one known to have unfollowed.
    /// A follower no channel can reach fails here, with the errcode WeChat
    /// would give, and no call is spent.
    async fn route(
        &self,
        records: &mut Records,
        candidates: &mut Vec<usize>,
        openids: &[String],
        work: &mut Pipeline,
        now: i64,
    ) -> Result<()> {
        let asked: Vec<String> = candidates
            .iter()
            .filter(|&&i| records.0[i].state == RecipientState::Planned)
            .map(|&i| openids[i].clone())
            .collect();
        if asked.is_empty() {
            return Ok(());
        }
        let known = self.store.reach(&self.campaign.appid, &asked).await?;
        // Consents matter only while a later channel can take a follower
        // who withheld it (else WeChat's 43101 says the same, and teaches).
        let consents = match &self.notice.subscription {
            Some(n) if self.notice.after(Channel::Subscription).is_some() => {
                self.store
                    .consents(&self.campaign.appid, &n.template_id, &asked)
                    .await?
            }
            _ => Default::default(),
        };
        if known.is_empty()
            && consents.is_empty()
            && !self.notice.via.contains(&Channel::CustomerService)
        {
            return Ok(());
        }
        candidates.retain(|&i| {
            let r = &mut records.0[i];
            if r.state != RecipientState::Planned {
                return true;
            }
            let reach = known.get(&openids[i]).copied().unwrap_or_default();
            let mut channel = r.channel.unwrap_or(self.notice.via[0]);
            loop {
                let next = self.notice.after(channel);
                let blocked = match channel {
                    Channel::CustomerService => match reach.window_open(now) {
                        Some(open) => (!open).then_some(45015),
                        None => next.map(|_| 45015),
                    },
                    Channel::Template => reach.unfollowed().then_some(43004),
                    Channel::Subscription => {
                        (consents.get(&openids[i]) == Some(&false)).then_some(43101)
                    }
                };
                let Some(errcode) = blocked else {
                    r.channel = Some(channel);
                    return true;
                };
                match next {
                    Some(next) => channel = next,
                    None => {
                        *r = Record {
                            state: RecipientState::Failed,
                            channel: Some(channel),
                            errcode,
                            ..Record::default()
                        };
                        work.failed += 1;
                        return false;
                    }
                }
            }
        });
        Ok(())
    }

    /// Records what became of recipient `i`'s request; whether WeChat was
    /// busy or unreachable (the caller waits before sending more).
    fn apply(
        &self,
        r: &mut Record,
        (i, openid): (usize, &str),
        prior: RecipientState,
        fate: Fate,
        work: &mut Pipeline,
    ) -> bool {
        let channel = r.channel.unwrap_or(self.notice.via[0]);
        // What the refusal teaches of reaching this follower, kept for the
        // next campaigns.
        let event = match fate {
            Fate::Refused(45015 | 45047) => Some(ReachEvent::WindowClosed),
            Fate::Refused(43004) => Some(ReachEvent::Unfollowed),
            Fate::Refused(43101) => {
                self.notice
                    .subscription
                    .as_ref()
                    .map(|n| ReachEvent::Consent {
                        template_id: n.template_id.clone(),
                        granted: false,
                    })
            }
            _ => None,
        };
        if let Some(event) = event {
            work.learnt.push(Learnt {
                openid: openid.to_owned(),
                at: self.now(),
                event,
            });
        }
        match fate {
            Fate::Sent(msg_id) => {
                r.state = RecipientState::Sent;
                r.msg_id = msg_id;
                work.sent += 1;
                metrics::counter!("wxmass_notices_sent_total", "channel" => channel.as_str())
                    .increment(1);
            }
            Fate::Refused(errcode) => match self.notice.after(channel) {
                Some(next) => {
                    *r = Record {
                        channel: Some(next),
                        ..Record::default()
                    };
                    work.queue.push_back(i);
                }
                None => {
                    r.state = RecipientState::Failed;
                    r.errcode = errcode;
                    work.failed += 1;
                    metrics::counter!("wxmass_notices_failed_total", "errcode" => errcode.to_string())
                        .increment(1);
                }
            },
            // Sent again with its key: a lost answer says nothing of
            // WeChat's load, so no pause.
            Fate::Unclear if channel.has_key() => work.queue.push_back(i),
            Fate::Unclear => {
                r.state = RecipientState::Unknown;
                work.unknown += 1;
            }
            Fate::NotSent => {
                undo(r, prior);
                work.queue.push_front(i);
                return true;
            }
            Fate::Minute => {
                undo(r, prior);
                work.queue.push_front(i);
                let now = self.now();
                work.ending
                    .get_or_insert(Ok(ChunkEnd::Wait(Duration::from_secs(
                        u64::try_from(60 - now.rem_euclid(60)).unwrap_or(1),
                    ))));
            }
            Fate::Day => {
                undo(r, prior);
                work.queue.push_front(i);
                work.day.get_or_insert(channel);
                if !matches!(work.ending, Some(Err(_))) {
                    work.ending = Some(Ok(ChunkEnd::Day));
                }
            }
            Fate::Stop(error) => {
                undo(r, prior);
                if !matches!(work.ending, Some(Err(_))) {
                    work.ending = Some(Err(Error::Refused {
                        channel: channel.as_str(),
                        source: error,
                    }));
                }
            }
        }
        false
    }

    /// WeChat answered 45009: the day is spent for every worker of the
    /// account, whatever the store counted (WeChat counts other tools'
    /// calls too).
    async fn day_spent(&self, channel: Channel, now: i64) -> Result<()> {
        let spent = ApiLimits {
            daily: Some(0),
            rate: None,
        };
        self.store
            .note_api_limits(
                &self.campaign.appid,
                api_path(channel),
                beijing::day_number(now),
                &spent,
                0,
            )
            .await
    }

    /// Sends recipient `i` its notice on `channel`.
    async fn send_one(
        &self,
        (i, prior, channel): (usize, RecipientState, Channel),
        openid: &str,
    ) -> (usize, RecipientState, Fate) {
        let sent = self
            .notice
            .send(self.client, &self.campaign.id, channel, openid)
            .await;
        (i, prior, fate(sent))
    }

    fn now(&self) -> i64 {
        self.options.clock.now()
    }

    /// Gives back the calls taken for `unsent` recipients, per channel.
    async fn give_back(
        &self,
        unsent: &[(usize, RecipientState, Channel)],
        taken_at: i64,
    ) -> Result<()> {
        for channel in self.notice.via.iter().copied() {
            let n = unsent.iter().filter(|(_, _, c)| *c == channel).count() as u32;
            if n > 0 {
                self.store
                    .give_back_api_calls(&self.campaign.appid, api_path(channel), n, taken_at)
                    .await?;
            }
        }
        Ok(())
    }

    /// Keeps what the answers taught of reaching the followers, then
    /// writes the chunk's records, if this worker still holds it.
    async fn save(
        &self,
        index: u32,
        records: &Records,
        work: &mut Pipeline,
        now: i64,
    ) -> Result<bool> {
        if !work.learnt.is_empty() {
            self.store
                .record_reach(&self.campaign.appid, &work.learnt)
                .await?;
            work.learnt.clear();
        }
        self.write(index, records, now).await
    }

    /// Writes the chunk's records, if this worker still holds it.
    async fn write(&self, index: u32, records: &Records, now: i64) -> Result<bool> {
        self.store
            .write_records(
                &self.campaign.id,
                index,
                &self.options.worker,
                &records.encode(),
                &records.counts(),
                self.options.lease,
                now,
            )
            .await
    }

    async fn release(&self, index: u32) -> Result<()> {
        self.store
            .release_chunk(&self.campaign.id, index, &self.options.worker)
            .await
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

/// Sets every `unknown` recipient of `campaign` back to planned, on the
/// channel it was tried on, so that the next run sends it again: an
/// operator's decision (`--resend-unknown`), since some of them may have
/// received the notice. Chunks a worker holds are left alone. Returns how
/// many recipients will be sent again. `now` judges the leases (the
/// caller's clock, as for [`work`]).
pub async fn resend_unknown(store: &dyn Store, campaign: &str, now: i64) -> Result<u64> {
    let mut again = 0u64;
    store
        .rewrite_chunks(campaign, now, &mut |blob: &mut Vec<u8>| {
            let mut records = Records::decode(blob)?;
            let mut changed = false;
            for r in records
                .0
                .iter_mut()
                .filter(|r| r.state == RecipientState::Unknown)
            {
                *r = Record {
                    channel: r.channel,
                    ..Record::default()
                };
                changed = true;
                again += 1;
            }
            if !changed {
                return None;
            }
            *blob = records.encode();
            Some(records.counts())
        })
        .await?;
    Ok(again)
}

/// Chunks read at once when a whole campaign's recipients are read.
const PAGE: u32 = 64;

/// Calls `f` with each recipient of `campaign`, in order, with its record:
/// a page of chunks at a time, so that memory stays flat at a million.
pub async fn each_recipient(
    store: &dyn Store,
    campaign: &str,
    mut f: impl FnMut(&str, &Record),
) -> Result<()> {
    let mut after = None;
    while let Some(last) = recipients_page(store, campaign, after, &mut f).await? {
        after = Some(last);
    }
    Ok(())
}

/// Calls `f` with the recipients of one page of `campaign`'s chunks, those
/// after chunk `after`; answers the page's last chunk, to go on from, or
/// `None` when there were no more. For a reader that yields between
/// pages (a download streamed as it is read).
pub async fn recipients_page(
    store: &dyn Store,
    campaign: &str,
    after: Option<u32>,
    mut f: impl FnMut(&str, &Record),
) -> Result<Option<u32>> {
    let page = store.chunk_page(campaign, after, PAGE).await?;
    let Some(last) = page.last() else {
        return Ok(None);
    };
    for chunk in &page {
        let openids = openids::decode_batch(Some(&chunk.openids), campaign, chunk.index)?;
        let records = Records::decode(&chunk.records).ok_or_else(|| Error::Store {
            advice: format!(
                "chunk {} of campaign {campaign:?} holds recipients this build cannot read",
                chunk.index + 1
            ),
            source: None,
        })?;
        for (openid, record) in openids.iter().zip(&records.0) {
            f(openid, record);
        }
    }
    Ok(Some(last.index))
}

/// What `campaign`'s recipients add up to.
pub async fn tally(store: &dyn Store, campaign: &str) -> Result<crate::notices::Tally> {
    let mut tally = crate::notices::Tally::default();
    let mut after = None;
    loop {
        let page = store.chunk_page(campaign, after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(tally);
        };
        after = Some(last.index);
        for chunk in &page {
            if let Some(records) = Records::decode(&chunk.records) {
                tally.add(&records);
            }
        }
    }
}

/// How long before a recipient's first attempt its report may be dated
/// (WeChat's clock and this one may disagree).
const REPORT_SKEW: i64 = 120;

/// What [`join_reports`] folded in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Joined {
    /// Reports that said delivered.
    pub delivered: u64,
    /// Reports that said it failed (blocked, frequency, system).
    pub failed: u64,
    /// Of those, recipients that were `unknown`: the report shows their
    /// request reached WeChat.
    pub were_unknown: u64,
}

/// Folds the TEMPLATESENDJOBFINISH reports the receivers kept into
/// `campaign`'s template recipients: by msgid, or (WeChat may give MsgID
/// 0, and a recipient cut off mid-send never learnt its msgid) by
/// follower and time. A report turns `sent` into delivered or failed (with
/// WeChat's reason), and an `unknown` recipient into what it says, since it
/// shows the request arrived. Joined reports are forgotten; chunks a
/// worker holds are left for the next call. Returns what was folded in.
pub async fn join_reports(store: &dyn Store, campaign: &Campaign) -> Result<Joined> {
    use std::collections::HashMap;
    let mut joined = Joined::default();
    let mut after = None;
    loop {
        let page = store.chunk_page(&campaign.id, after, PAGE).await?;
        let Some(last) = page.last() else {
            return Ok(joined);
        };
        after = Some(last.index);
        for chunk in page {
            let Some(mut records) = Records::decode(&chunk.records) else {
                continue;
            };
            let openids = openids::decode_batch(Some(&chunk.openids), &campaign.id, chunk.index)?;
            let waiting: Vec<usize> = records
                .0
                .iter()
                .enumerate()
                .filter(|(_, r)| {
                    r.channel == Some(Channel::Template)
                        && r.reported == crate::notices::Reported::None
                        && matches!(r.state, RecipientState::Sent | RecipientState::Unknown)
                })
                .map(|(i, _)| i)
                .collect();
            if waiting.is_empty() {
                continue;
            }
            let asked: Vec<String> = waiting.iter().map(|&i| openids[i].clone()).collect();
            let reports = store.notice_reports(&campaign.appid, &asked).await?;
            if reports.is_empty() {
                continue;
            }
            let mut by_openid: HashMap<&str, Vec<&crate::notices::NoticeReport>> = HashMap::new();
            for report in &reports {
                by_openid.entry(&report.openid).or_default().push(report);
            }
            let mut used = Vec::new();
            let mut found = Joined::default();
            for i in waiting {
                let r = &mut records.0[i];
                let Some(candidates) = by_openid.get_mut(openids[i].as_str()) else {
                    continue;
                };
                let pick = candidates.iter().position(|report| {
                    if r.msg_id != 0 && report.msg_id != 0 {
                        report.msg_id == r.msg_id
                    } else {
                        report.created_at >= i64::from(r.first_at) - REPORT_SKEW
                    }
                });
                let Some(at) = pick else { continue };
                let report = candidates.remove(at);
                if r.state == RecipientState::Unknown {
                    found.were_unknown += 1;
                }
                r.reported = report.reported;
                if r.msg_id == 0 {
                    r.msg_id = report.msg_id;
                }
                if report.reported == crate::notices::Reported::Delivered {
                    r.state = RecipientState::Sent;
                    found.delivered += 1;
                } else {
                    r.state = RecipientState::Failed;
                    found.failed += 1;
                }
                used.push(report.clone());
            }
            if used.is_empty() {
                continue;
            }
            let written = store
                .replace_records(
                    &campaign.id,
                    chunk.index,
                    &chunk.records,
                    &records.encode(),
                    &records.counts(),
                    beijing::now(),
                )
                .await?;
            if written {
                store.forget_notice_reports(&campaign.appid, &used).await?;
                joined.delivered += found.delivered;
                joined.failed += found.failed;
                joined.were_unknown += found.were_unknown;
            }
        }
    }
}
