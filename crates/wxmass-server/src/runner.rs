//! Sending: every second, the campaigns whose time has come are started
//! (one server wins each start: the store moves `scheduled` to `running`
//! once), and every running campaign is worked by this server beside any
//! others on the same store, the engine's leases splitting the batches. A
//! server that dies leaves its campaigns `running`; the others go on with
//! them. A campaign past its time when the server starts (after downtime)
//! runs once, and its note says how late. A campaign across accounts is
//! never sent itself: started, it is spread into one part per account
//! (once, by one server), the parts are sent as any campaign, and it ends
//! when they all have ([`wxmass_campaign::across`]). Once every batch is submitted,
//! the jobs are followed until WeChat calls them final (its pushes, else
//! `mass/get`): for a minute by the server that sent them, then by a
//! follow-up every minute on every server, for three days. The same sweep
//! pulls, once a day after 08:00 Beijing time, how the articles of each
//! campaign of the last week were read (datacube), for the dashboard; and,
//! for a third-party platform, refreshes its tokens ahead of their ends and
//! reconciles its accounts with WeChat's list once a day
//! ([`crate::platform::keep`]).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wxmass_api::Client;
use wxmass_campaign::Campaign;
use wxmass_campaign::audience::Spool;
use wxmass_campaign::engine::{self, Observer, WorkOptions};
use wxmass_campaign::lifecycle::{CampaignState, Change, Step};
use wxmass_campaign::pipeline::{self, Sent, Told};
use wxmass_campaign::plan::{self, CampaignSpec, Proposal};
use wxmass_campaign::prepare::Silent;
use wxmass_campaign::{Claim, Error, Files, OpenIdList, beijing};

use crate::AppState;

/// How often due campaigns are looked for.
pub const TICK: Duration = Duration::from_secs(1);

/// How often a running campaign's state is read (a pause or a cancel stops
/// the sending within this, once the batches in flight are recorded).
const STATE_EVERY: Duration = Duration::from_millis(500);

/// Started more than this after its time, a campaign's note says so.
const LATE_AFTER: i64 = 60;

/// Openids a batch, for campaigns to lists that name none (WeChat's most).
const BATCH_SIZE: u32 = 10_000;

/// The first follow-up of unfinished jobs, after the server starts.
const FOLLOW_UP_FIRST: Duration = Duration::from_secs(2);

/// How often jobs WeChat has not called final are asked about again.
const FOLLOW_UP_EVERY: Duration = Duration::from_secs(60);

/// How long after its campaign finished a job is still asked about: a
/// job WeChat has not settled in three days never will be.
const FOLLOW_UP_FOR: i64 = 3 * 86_400;

/// Runs until `stop` resolves; then stops claiming and lets the batches in
/// flight be recorded.
pub async fn run(
    state: AppState,
    mut options: WorkOptions,
    stop: impl std::future::Future<Output = ()>,
) {
    // A notice judges WeChat's 10 minutes and its days on the server's
    // clock, which tests and demos move with the emulator's.
    options.clock = {
        let state = state.clone();
        wxmass_campaign::fanout::Clock(Arc::new(move || state.now()))
    };
    let working: Arc<Mutex<HashSet<String>>> = Arc::default();
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let mut stop = std::pin::pin!(stop);
    let following = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut next_follow_up = tokio::time::Instant::now() + FOLLOW_UP_FIRST;
    let mut offset = state.clock().offset();
    loop {
        // A clock moved forward (tests, demos) has days to catch up on.
        if state.clock().offset() != offset {
            offset = state.clock().offset();
            next_follow_up = next_follow_up.min(tokio::time::Instant::now() + FOLLOW_UP_FIRST);
        }
        if let Err(error) = start_due(&state, &options, &working, &stopped, &mut tasks).await {
            tracing::warn!(error = %error.to_string().escape_debug(), "could not look for due campaigns; trying again");
        }
        if tokio::time::Instant::now() >= next_follow_up
            && !following.swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            next_follow_up = tokio::time::Instant::now() + FOLLOW_UP_EVERY;
            let (state, following, options) = (state.clone(), following.clone(), options.clone());
            tasks.spawn(async move {
                if let Err(error) = follow_up(&state, &options).await {
                    tracing::warn!(error = %error.to_string().escape_debug(), "could not follow up unfinished jobs; trying again later");
                }
                if let Err(error) = pull_reads(&state).await {
                    tracing::warn!(error = %error.to_string().escape_debug(), "could not pull the campaigns' reads; trying again later");
                }
                if let Err(error) = crate::platform::keep(&state).await {
                    tracing::warn!(error = %error.escape_debug(), "could not keep the platform's tokens; trying again later");
                }
                following.store(false, std::sync::atomic::Ordering::Release);
            });
        }
        tokio::select! {
            () = tokio::time::sleep(TICK) => {}
            () = &mut stop => break,
        }
        while tasks.try_join_next().is_some() {}
    }
    let _ = stopping.send(true);
    while tasks.join_next().await.is_some() {}
}

async fn start_due(
    state: &AppState,
    options: &WorkOptions,
    working: &Arc<Mutex<HashSet<String>>>,
    stopped: &tokio::sync::watch::Receiver<bool>,
    tasks: &mut tokio::task::JoinSet<()>,
) -> Result<(), Error> {
    let now = state.now();
    for campaign in state.journal().due_campaigns(now).await? {
        if campaign.state == CampaignState::Scheduled {
            let due = campaign.send_at.unwrap_or(now);
            let note = (now - due > LATE_AFTER).then(|| {
                format!(
                    "ran late: due {}, started {}",
                    beijing::shown(due),
                    beijing::shown(now)
                )
            });
            let change = Change {
                note,
                ..Change::default()
            };
            match state
                .journal()
                .move_campaign(
                    &campaign.id,
                    CampaignState::Scheduled,
                    Step::Start,
                    &change,
                    now,
                )
                .await
            {
                Ok(_) => tracing::info!(campaign = %campaign.id.escape_debug(), "campaign started"),
                // Another server started it (or a person paused it).
                Err(Error::WrongState { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        if campaign.is_across_accounts() {
            // Never sent itself: its parts are, each a campaign due here.
            if let Err(e) = oversee(state, &campaign.id).await {
                tracing::warn!(campaign = %campaign.id.escape_debug(), error = %e.to_string().escape_debug(), "could not start or end a campaign across accounts; trying again");
            }
            continue;
        }
        let mine = {
            let mut working = working.lock().unwrap_or_else(|e| e.into_inner());
            working.insert(campaign.id.clone())
        };
        if mine {
            let (state, options, working) = (state.clone(), options.clone(), working.clone());
            let mut stopped = stopped.clone();
            tasks.spawn(async move {
                let id = campaign.id.clone();
                let shutdown = async move {
                    let _ = stopped.wait_for(|&s| s).await;
                };
                work_campaign(&state, &options, campaign, shutdown).await;
                working
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
            });
        }
    }
    Ok(())
}

/// Asks WeChat about the jobs of recently finished campaigns that have
/// neither a report nor a final status: their push was lost, they outlast
/// the follow-up after sending, or the server that sent them stopped.
async fn follow_up(state: &AppState, options: &WorkOptions) -> Result<(), Error> {
    let since = state.now() - FOLLOW_UP_FOR;
    for c in state.journal().campaigns().await? {
        if c.is_across_accounts() {
            // Its parts are followed as campaigns of their own; a pause or
            // a cancel a server did not live to carry to them is carried
            // (a cancel, while it is recent).
            let pending = match c.state {
                CampaignState::Paused => true,
                _ => c.updated_at >= since,
            };
            if pending && wxmass_campaign::across::follows(c.state).is_some() {
                crate::api::across::carry(state, &c.id, c.state, state.now()).await?;
            }
            continue;
        }
        // A campaign sent with the CLI is followed by its sender.
        if c.state != CampaignState::Finished || c.updated_at < since || c.created_by.is_none() {
            continue;
        }
        if c.content.is_notice() {
            // A notice's reports are folded into its recipients.
            let joined = wxmass_campaign::fanout::join_reports(state.journal(), &c).await?;
            if joined != wxmass_campaign::fanout::Joined::default() {
                tracing::debug!(campaign = %c.id.escape_debug(), ?joined, "template reports joined");
            }
            continue;
        }
        let (_, client) = crate::api::accounts::client(state, &c.appid).await?;
        // Batches WeChat took without naming the job (their sender stopped
        // before their minute passed) are sent again to learn it.
        if let Some(planned) = state.journal().planned_campaign(&c.id).await? {
            engine::name_unnamed(state.journal(), &client, &planned, options).await?;
        }
        let open = wxmass_campaign::track::ask_open(&client, state.journal(), &c.id).await?;
        if open > 0 {
            tracing::debug!(campaign = %c.id.escape_debug(), open, "jobs not final yet");
        }
    }
    Ok(())
}

/// Pulls how the articles of the campaigns finished in the last week were
/// read (`getarticletotal` for the days they went out), once a day each,
/// from 08:00 Beijing time, when WeChat has the day before. A day WeChat
/// has not ready yet (61503) is tried again at the next sweep. Several
/// servers may pull the same campaign at once: the series is replaced,
/// never added to.
async fn pull_reads(state: &AppState) -> Result<(), Error> {
    use wxmass_api::api::datacube::Date;
    use wxmass_campaign::reads::{self, PULL_FOR_DAYS};
    let now = state.now();
    let today = Date::of_unix(now);
    if now < today.unix_at(8) {
        return Ok(());
    }
    let since = now - (PULL_FOR_DAYS + 1) * 86_400;
    for c in state.journal().campaigns().await? {
        if c.state != CampaignState::Finished
            || c.updated_at < since
            || c.created_by.is_none()
            || c.is_across_accounts()
            || !reads::is_read_counted(&c.content)
        {
            continue;
        }
        let pulled = state.journal().read_series(&c.id).await?.pulled_on;
        if pulled.as_deref() == Some(today.to_string().as_str()) {
            continue;
        }
        let (_, client) = crate::api::accounts::client(state, &c.appid).await?;
        match reads::article_totals(&client, state.journal(), &c.id, today).await {
            Ok(rows) => {
                state
                    .journal()
                    .record_read_series(&c.id, &today.to_string(), &reads::series(&rows), now)
                    .await?;
                tracing::info!(campaign = %c.id.escape_debug(), rows = rows.len(), "reads pulled");
            }
            // Sent today, or no job named: nothing to pull yet.
            Err(Error::Invalid(_)) => {}
            Err(Error::Api(wxmass_api::Error::NotReady { .. })) => {
                tracing::debug!(campaign = %c.id.escape_debug(), "reads not ready yet");
            }
            Err(e) => {
                tracing::warn!(campaign = %c.id.escape_debug(), error = %e.to_string().escape_debug(), "could not pull the reads")
            }
        }
    }
    Ok(())
}

/// A running campaign across accounts: started (its parts made from the
/// accounts as they are now, once across every server), then ended once
/// every part has.
async fn oversee(state: &AppState, id: &str) -> Result<(), Error> {
    use wxmass_campaign::across;
    let journal = state.journal();
    let Some(whole) = journal.campaign(id).await? else {
        return Ok(());
    };
    let (CampaignState::Running, Some(set)) = (whole.state, &whole.accounts) else {
        return Ok(());
    };
    let now = state.now();
    let parts = journal.parts_of(id).await?;
    if parts.is_empty() {
        let members = set.members(&journal.accounts().await?, &journal.account_tags().await?);
        if members.is_empty() {
            let change = Change {
                note: Some(format!(
                    "no account to send for: none has the tag now ({}); tag accounts with PUT /api/v1/accounts/{{appid}}/tags, then clone it",
                    set.to_json()
                )),
                ..Change::default()
            };
            journal
                .move_campaign(id, CampaignState::Running, Step::Fail, &change, now)
                .await?;
            return Ok(());
        }
        if journal
            .spread_campaign(id, &across::parts(&whole, &members, now), now)
            .await?
        {
            tracing::info!(campaign = %id.escape_debug(), accounts = members.len(), "campaign across accounts started");
        }
        // Sent as campaigns of their own from the next sweep.
        return Ok(());
    }
    if let Some((step, note)) = across::ending(&parts) {
        let change = Change {
            note: Some(note),
            ..Change::default()
        };
        match journal
            .move_campaign(id, CampaignState::Running, step, &change, now)
            .await
        {
            Ok(to) => {
                tracing::info!(campaign = %id.escape_debug(), state = to.as_str(), "campaign across accounts ended")
            }
            Err(Error::WrongState { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Works one campaign until its batches are all submitted (then it is
/// finished), a person pauses or cancels it, the server stops, or an error
/// fails it.
async fn work_campaign(
    state: &AppState,
    options: &WorkOptions,
    campaign: Campaign,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let id = campaign.id.clone();
    let outcome = send(state, options, &campaign, shutdown).await;
    let now = state.now();
    let (step, note, client) = match outcome {
        Ok((Sent::Done, client)) => (Step::Finish, None, Some(client)),
        Ok((Sent::Stopped | Sent::StoppedTracking, _)) => return,
        // Still running: the next sweep after midnight sends the rest.
        Ok((Sent::QuotaSpent { resume_at }, _)) => {
            tracing::info!(campaign = %id.escape_debug(), resume_at, "WeChat's daily quota is spent; the rest waits for midnight, Beijing time");
            return;
        }
        Err(e) => {
            let note = failure_note(&e);
            tracing::warn!(campaign = %id.escape_debug(), error = %note.escape_debug(), "campaign failed");
            (Step::Fail, Some(note), None)
        }
    };
    let change = Change {
        note,
        ..Change::default()
    };
    match state
        .journal()
        .move_campaign(&id, CampaignState::Running, step, &change, now)
        .await
    {
        Ok(to) => {
            tracing::info!(campaign = %id.escape_debug(), state = to.as_str(), "campaign ended")
        }
        // Another server ended it first, or a person cancelled it.
        Err(Error::WrongState { .. }) => {}
        Err(e) => {
            tracing::warn!(campaign = %id.escape_debug(), error = %e.to_string().escape_debug(), "could not record the campaign's end")
        }
    }
    // Its jobs' statuses: a report pushed to /callback/{appid} settles one
    // at once; `mass/get` asks after the others, so a lost push still ends
    // in a status.
    if let Some(client) = client
        && let Err(e) = wxmass_campaign::track::track(&client, state.journal(), &id).await
    {
        tracing::warn!(campaign = %id.escape_debug(), error = %e.to_string().escape_debug(), "could not follow the campaign's jobs");
    }
}

/// A failed campaign's note: what failed, WeChat's answer (its errcode and
/// words), and what to do, as the CLI would say it.
fn failure_note(error: &Error) -> String {
    let mut note = error.to_string();
    let mut advice = match error {
        Error::Api(api) => api.advice(),
        _ => None,
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        note.push_str(": ");
        note.push_str(&cause.to_string());
        if let Some(api) = cause.downcast_ref::<wxmass_api::Error>() {
            advice = advice.or_else(|| api.advice());
        }
        source = cause.source();
    }
    if let Some(advice) = advice {
        note.push_str("; what to do: ");
        note.push_str(&advice);
    }
    note
}

/// Records a notice's recipients: its saved list, or the followers of all
/// or a tag as WeChat lists them now (in a private file for the time it
/// takes). Two servers may plan at once: the second finds the first's.
async fn plan_notice(state: &AppState, client: &Client, c: &Campaign) -> Result<(), Error> {
    let journal = state.journal();
    let spool = match &c.list {
        Some(name) => {
            let data = journal
                .list_data(name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("the saved list {name:?} is gone")))?;
            Spool::of(&data)?
        }
        None => {
            wxmass_campaign::audience::spool_followers(client, c.audience.tag_id(), None).await?
        }
    };
    let list = OpenIdList::read(spool.path())?;
    if list.distinct() == 0 {
        return Err(Error::Invalid(
            "no followers to send to: nothing planned".into(),
        ));
    }
    let planned = Campaign {
        audience_size: list.distinct(),
        ..c.clone()
    };
    if let Err(e) = plan::commit_notice(journal, &planned, &list).await
        && journal.planned_campaign(&c.id).await?.is_none()
    {
        return Err(e);
    }
    Ok(())
}

async fn send(
    state: &AppState,
    options: &WorkOptions,
    c: &Campaign,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(Sent, Client), Error> {
    let journal = state.journal();
    let (account, client) = crate::api::accounts::client(state, &c.appid).await?;
    if c.content.is_notice() && journal.planned_campaign(&c.id).await?.is_none() {
        plan_notice(state, &client, c).await?;
    }
    if journal.planned_campaign(&c.id).await?.is_none() {
        // A list is planned from its saved bytes, in a file of this
        // server's own for the time it takes.
        let mut spooled = None;
        if let Some(name) = &c.list {
            let data = journal
                .list_data(name)
                .await?
                .ok_or_else(|| Error::Invalid(format!("the saved list {name:?} is gone")))?;
            let spool = Spool::of(&data)?;
            let list = OpenIdList::read(spool.path())?;
            spooled = Some((spool, list));
        }
        let spec = CampaignSpec {
            id: c.id.clone(),
            appid: c.appid.clone(),
            account: account.account_type,
            content: c.content.clone(),
            files: Files::default(),
            audience: c.audience.clone(),
            batch_size: c.batch_size.unwrap_or(BATCH_SIZE),
        };
        let list = spooled.as_mut().map(|(_, list)| list);
        if let Proposal::New(new) =
            plan::propose_at(journal, &client, spec, list, state.now()).await?
        {
            let list = spooled.as_ref().map(|(_, list)| list);
            // Two servers may plan at once: the second finds the first's.
            if let Err(e) = plan::commit(journal, &new, list).await
                && journal.planned_campaign(&c.id).await?.is_none()
            {
                return Err(e);
            }
        }
    }
    // The campaign's state is watched by a task of its own: a future that
    // reads the store must not sit half-polled inside the engine's stop
    // check (on PostgreSQL it would hold the connection while the engine
    // waits for it).
    let (paused_tx, mut paused) = tokio::sync::watch::channel(false);
    let watcher = {
        let (state, id) = (state.clone(), c.id.clone());
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(STATE_EVERY).await;
                match state.journal().campaign(&id).await {
                    Ok(Some(now)) if now.state == CampaignState::Running => {}
                    Ok(_) => {
                        let _ = paused_tx.send(true);
                        return;
                    }
                    Err(_) => {}
                }
            }
        }))
    };
    let stop = async {
        tokio::select! {
            _ = paused.wait_for(|&p| p) => {}
            () = shutdown => {}
        }
    };
    // Tracked by this server once the campaign is finished (below).
    let sent = pipeline::send_campaign(
        journal,
        &client,
        &c.id,
        options,
        false,
        Told {
            batches: Arc::new(Logged(c.id.clone())),
            uploads: &Silent,
        },
        stop,
    )
    .await?;
    drop(watcher);
    Ok((sent, client))
}

/// A task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The engine's news, as log lines.
struct Logged(String);

impl wxmass_campaign::fanout::FanoutObserver for Logged {
    fn recorded(&self, sent: u64, failed: u64, unknown: u64) {
        tracing::debug!(campaign = %self.0.escape_debug(), sent, failed, unknown, "notices recorded");
    }

    fn took_over(&self, chunk: u32, resent: u64, unknown: u64) {
        tracing::info!(campaign = %self.0.escape_debug(), chunk = chunk + 1, resent, unknown,
                       "recipients cut off mid-send: templates sent again with their key, the rest unknown");
    }
}

impl Observer for Logged {
    fn submitted(&self, claim: &Claim, msg_id: Option<i64>) {
        tracing::debug!(campaign = %self.0.escape_debug(), batch = claim.index + 1, ?msg_id, "batch submitted");
    }

    fn failed(&self, claim: &Claim, error: &wxmass_api::Error) {
        tracing::warn!(campaign = %self.0.escape_debug(), batch = claim.index + 1, %error, "batch not sent; given back");
    }
}
