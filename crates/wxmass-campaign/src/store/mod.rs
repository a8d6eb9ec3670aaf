//! The store: every fact wxmass keeps, declared once here as one trait per
//! aggregate and implemented once per backend, in files named after the
//! aggregate: [`sqlite`]`/<aggregate>.rs` (one host) and
//! [`postgres`]`/<aggregate>.rs` (many workers on many hosts). The schema
//! is the frozen history in [`migrations`]; only this module knows SQL.
//!
//! [`open`] is the one place that chooses a backend. Everything else holds
//! an `Arc<dyn Store>` (or `&dyn Store`) and calls the aggregates' methods;
//! `use wxmass_campaign::store::prelude::*` brings them into scope.
//!
//! Adding a stored fact: a migration file per backend, a line in the
//! aggregate's trait below, and its implementation in the two backend
//! files of that aggregate.
//!
//! SQLite calls are short and local: they run on the calling task, behind a
//! mutex (one connection per process). PostgreSQL calls are async.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::lifecycle::{CampaignState, Change, Step, Which};
use crate::lists::SavedList;
use crate::notices::{ApiLimits, Granted, Learnt, NoticeReport, Reach, StateCounts};
use crate::people::{Account, AuditEntry, Credential, Role, Scoped, Testers, TokenRecord, User};
use crate::publishes::{PublishRecord, PublishReport};
use crate::sign_ins::SignInFailures;
use crate::spec::{
    Batch, Campaign, Claim, FileRef, Files, JobReport, PlannedBatch, ReadPoint, ReadSeries,
    Recorded, SeenRequest, StrayReport, Unnamed,
};

pub mod migrations;
pub mod postgres;
pub(crate) mod rows;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// The traits of every aggregate, to call the store's methods.
pub mod prelude {
    pub use super::{
        BatchStore, CampaignStore, LifecycleStore, ListStore, MediaStore, PeopleStore,
        PublishStore, PushStore, ReadStore, RecipientStore, SignInStore, Store,
    };
}

/// Where campaigns are kept: every aggregate, on one backend.
pub trait Store:
    CampaignStore
    + BatchStore
    + PushStore
    + MediaStore
    + PeopleStore
    + LifecycleStore
    + ListStore
    + PublishStore
    + ReadStore
    + SignInStore
    + RecipientStore
    + std::fmt::Debug
    + Send
    + Sync
{
    /// Whether several hosts may share it.
    fn is_shared(&self) -> bool;
}

/// Connections a PostgreSQL store opens at most unless told otherwise: the
/// API, the push writer, the runner and its campaigns each get one of their
/// own under load. (Mind PostgreSQL's `max_connections` with many servers.)
pub const DEFAULT_CONNECTIONS: usize = 16;

/// Opens the store at `url`: `sqlite:PATH` for a SQLite file, else a
/// PostgreSQL URL (`postgres://user@host/db`; anything else is refused with
/// what to give), with up to `connections` connections. Creates or
/// upgrades its tables; a store a newer wxmass wrote is refused before
/// anything is changed.
pub async fn open(url: &str, connections: usize) -> Result<Arc<dyn Store>> {
    match url.strip_prefix("sqlite:") {
        Some(path) => open_sqlite(Path::new(path)),
        None => Ok(Arc::new(PgStore::connect(url, connections).await?)),
    }
}

/// Opens (or creates) the SQLite store at `path`.
pub fn open_sqlite(path: &Path) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(SqliteStore::open(path)?))
}

/// What a campaign's planning records (its batches, files and prepared
/// message); the campaigns themselves are read with [`LifecycleStore`].
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Records a campaign, the files it sends (by content) and its batches,
    /// in one transaction: all of it, or (on any error, including one from
    /// `batches`) nothing.
    async fn plan(
        &self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut (dyn Iterator<Item = Result<PlannedBatch>> + Send),
    ) -> Result<()>;
    /// The campaign's prepared message (JSON), once its uploads are done.
    async fn prepared(&self, campaign: &str) -> Result<Option<String>>;
    /// Keeps the prepared message; the first one kept stays (every worker
    /// then sends the same media ids), and is returned.
    async fn set_prepared(&self, campaign: &str, message: &str) -> Result<String>;
    /// Campaigns of `appid` to audiences of `kind` (`all`, `tag` or
    /// `openids`; with `tag_id`, that tag only) that had a batch submitted
    /// at or after `since` (Unix seconds).
    async fn campaigns_sent_since(
        &self,
        appid: &str,
        kind: &str,
        tag_id: Option<u32>,
        since: i64,
    ) -> Result<u64>;
    /// Calls `f` with every openid of `appid`'s openid-list campaigns, other
    /// than `except`, that had a batch submitted at or after `since`: once
    /// per campaign and follower (a campaign's list has no repeats).
    async fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<()>;
}

/// A chunk of a fan-out campaign's recipients, as kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredChunk {
    /// Its place in the campaign, from 0.
    pub index: u32,
    /// Its openids, packed (see [`crate::openids::decode_batch`]).
    pub openids: Vec<u8>,
    /// Its recipients' records (see [`crate::notices::Records`]).
    pub records: Vec<u8>,
    /// Claimed from another worker whose lease ran out.
    pub takeover: bool,
}

/// Fan-out campaigns' recipients, in chunks worked under leases.
#[async_trait]
pub trait RecipientStore: Send + Sync {
    /// Records a fan-out campaign and its recipients, a chunk of openids at
    /// a time (each chunk's records all planned), in one transaction: all
    /// of it, or (on any error, including one from `chunks`) nothing.
    async fn plan_recipients(
        &self,
        campaign: &Campaign,
        chunks: &mut (dyn Iterator<Item = Result<Vec<String>>> + Send),
    ) -> Result<()>;
    /// Claims for `worker` until `now + ttl` the first chunk of `campaign`
    /// with recipients left to do that nobody else holds (nobody, `worker`
    /// itself, or a worker whose lease ran out), in one transaction.
    async fn claim_chunk(
        &self,
        campaign: &str,
        worker: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<Option<StoredChunk>>;
    /// Writes chunk `index`'s records (`counts` of them in each state) and
    /// extends the lease to `now + ttl`, if `worker` still holds it;
    /// whether it did (if not, another worker took the chunk over and its
    /// records stand).
    #[allow(clippy::too_many_arguments)]
    async fn write_records(
        &self,
        campaign: &str,
        index: u32,
        worker: &str,
        records: &[u8],
        counts: &StateCounts,
        ttl: Duration,
        now: i64,
    ) -> Result<bool>;
    /// Gives chunk `index` back, if `worker` holds it.
    async fn release_chunk(&self, campaign: &str, index: u32, worker: &str) -> Result<()>;
    /// Up to `limit` chunks of `campaign` after chunk `after` (from the
    /// first with `None`), in order: a million recipients are read a page
    /// at a time.
    async fn chunk_page(
        &self,
        campaign: &str,
        after: Option<u32>,
        limit: u32,
    ) -> Result<Vec<StoredChunk>>;
    /// Recipients of `campaign` in each state, summed over its chunks.
    async fn recipient_counts(&self, campaign: &str) -> Result<StateCounts>;
    /// Recipients of `campaign` a worker still has to do.
    async fn recipients_pending(&self, campaign: &str) -> Result<u64> {
        Ok(self.recipient_counts(campaign).await?.pending())
    }
    /// Replaces chunk `index`'s records `old` (as read) with `records`, if
    /// no live lease holds it and nobody changed them since; whether it did.
    #[allow(clippy::too_many_arguments)]
    async fn replace_records(
        &self,
        campaign: &str,
        index: u32,
        old: &[u8],
        records: &[u8],
        counts: &StateCounts,
        now: i64,
    ) -> Result<bool>;
    /// Keeps template reports the receiver got for `appid` (a report kept
    /// before is ignored: WeChat's retry).
    async fn record_notice_reports(
        &self,
        appid: &str,
        reports: &[NoticeReport],
        at: i64,
    ) -> Result<()>;
    /// The kept reports of `appid` for these followers.
    async fn notice_reports(&self, appid: &str, openids: &[String]) -> Result<Vec<NoticeReport>>;
    /// Forgets reports once joined to their recipients.
    async fn forget_notice_reports(&self, appid: &str, reports: &[NoticeReport]) -> Result<()>;
    /// Forgets reports received before `before` that no recipient claimed.
    async fn prune_notice_reports(&self, before: i64) -> Result<u64>;
    /// Keeps what was learnt of reaching `appid`'s followers (each field
    /// only moves forward in time).
    async fn record_reach(&self, appid: &str, learnt: &[Learnt]) -> Result<()>;
    /// What is known of reaching these followers of `appid` (those never
    /// seen are left out).
    async fn reach(
        &self,
        appid: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, Reach>>;
    /// Whether these followers of `appid` last gave (`true`) or withheld
    /// (`false`) consent to subscription notice `template_id` (those never
    /// seen are left out).
    async fn consents(
        &self,
        appid: &str,
        template_id: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, bool>>;
    /// The limits noted for `appid`'s `api` on Beijing day `day` (days since
    /// 1970-01-01 in Beijing); `None`: not asked today.
    async fn api_limits(&self, appid: &str, api: &str, day: i64) -> Result<Option<ApiLimits>>;
    /// Notes `day`'s limits for `appid`'s `api`, and raises the day's count
    /// of calls to `used` (WeChat's own count, other tools' calls included).
    async fn note_api_limits(
        &self,
        appid: &str,
        api: &str,
        day: i64,
        limits: &ApiLimits,
        used: u64,
    ) -> Result<()>;
    /// Takes up to `want` of `appid`'s calls to `api` at `now` (Unix
    /// seconds), within the day's limit and the rate noted for the day, in
    /// one transaction for every worker of the account.
    async fn take_api_calls(&self, appid: &str, api: &str, want: u32, now: i64) -> Result<Granted>;
    /// Gives back `n` calls taken at `taken_at` and not made (their
    /// recipients were readied, then the run ended before they left).
    async fn give_back_api_calls(
        &self,
        appid: &str,
        api: &str,
        n: u32,
        taken_at: i64,
    ) -> Result<()>;
    /// Rewrites each chunk of `campaign` that no live lease holds with
    /// `f`, which changes its records in place and returns their counts
    /// (`None`: unchanged), in one transaction; returns how many chunks `f` changed.
    /// (`--resend-unknown`: an operator's decision, taken while no worker
    /// sends.)
    async fn rewrite_chunks(
        &self,
        campaign: &str,
        now: i64,
        f: &mut (dyn for<'a> FnMut(&'a mut Vec<u8>) -> Option<StateCounts> + Send),
    ) -> Result<u64>;
}

/// Batches: their claims under leases, what was sent, WeChat's pace.
#[async_trait]
pub trait BatchStore: Send + Sync {
    /// A campaign's batches, in order, with their reports.
    async fn batches(&self, campaign: &str) -> Result<Vec<Batch>>;
    /// The batches of every part of campaign across accounts `whole`, each
    /// with its part's id, by part and index.
    async fn batches_of_parts(&self, whole: &str) -> Result<Vec<(String, Batch)>>;
    /// A batch's openids as stored (see [`crate::openids::decode_batch`]):
    /// a sender decodes them on its own task, not under the store.
    async fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>>;
    /// A batch's openids, in order (none for every follower or a tag).
    async fn openids(&self, campaign: &str, index: u32) -> Result<Vec<String>> {
        let blob = self.packed_openids(campaign, index).await?;
        crate::openids::decode_batch(blob.as_deref(), campaign, index)
    }
    /// Claims up to `max` batches of `campaign` for `worker` for `ttl`,
    /// marking planned ones `submitting`, in one transaction before any of
    /// them is sent. Claimable: not submitted (with `unnamed`: submitted
    /// without WeChat naming the job, to send again and learn it, while
    /// WeChat's clientmsgid dedup still answers for it: see
    /// [`crate::spec::NAME_BY_RESENDING_WITHIN`]), of a prepared campaign,
    /// and leased by nobody, by `worker` itself, or by a worker whose lease
    /// ran out.
    async fn claim(
        &self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
    ) -> Result<Vec<Claim>>;
    /// Records claimed batches as submitted (with WeChat's job and
    /// msg_data_id, when it named them) and releases them, in one
    /// transaction. A batch whose lease `worker` no longer holds is left to
    /// the worker that took it over. Returns how many were recorded.
    async fn record_submitted(
        &self,
        worker: &str,
        done: &[(Claim, Option<i64>, Option<i64>)],
    ) -> Result<usize>;
    /// Gives claimed batches back unsent (their state stays, so a
    /// `submitting` one is resent with its clientmsgid by whoever claims it
    /// next).
    async fn release(&self, worker: &str, claims: &[Claim]) -> Result<()>;
    /// Records batches' job statuses (`mass/get`'s words), all in one
    /// transaction.
    async fn set_statuses(&self, campaign: &str, statuses: &[(u32, &str)]) -> Result<()>;
    /// Takes up to `want` of `appid`'s `limit` mass sends in this minute;
    /// returns how many it got (0: wait for the next minute).
    async fn take_send_slots(&self, appid: &str, want: u32, limit: u32) -> Result<u32>;
    /// Batches of `campaign` not yet recorded submitted.
    async fn unsent(&self, campaign: &str) -> Result<u64>;
    /// Batches of `campaign` WeChat took without naming the job, that may
    /// still be sent again to learn it, and when the first of them may.
    async fn unnamed(&self, campaign: &str) -> Result<Unnamed>;
    /// Records the status of the job `msg_id` of `appid`, wherever it is.
    async fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()>;
}

/// What the push receiver accepted: job reports and the replay guard.
#[async_trait]
pub trait PushStore: Send + Sync {
    /// Records what the receivers accepted, each for its account, all in
    /// one transaction (pushes of many accounts share one commit): each
    /// request for the replay guard, each report once per (appid, msg_id).
    /// A report for a job recorded before is a duplicate when it says the
    /// same, and a conflict, kept apart, when it does not.
    async fn record_received(
        &self,
        received: &[(&str, Option<JobReport>, SeenRequest)],
    ) -> Result<Vec<Recorded>>;
    /// The callback requests whose timestamp window is still open at `now`.
    async fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>>;
    /// The same, of `appid`'s receiver (and those recorded before requests
    /// named their account); `None`: every account's.
    async fn seen_requests_of(&self, appid: Option<&str>, now: i64) -> Result<Vec<SeenRequest>>;
    /// Forgets requests whose window closed before `now`.
    async fn prune_seen_requests(&self, now: i64) -> Result<usize>;
    /// Reports that no batch knows (yet), and reports that contradict the
    /// first one recorded for their job.
    async fn stray_reports(&self) -> Result<Vec<StrayReport>>;
    /// Reports received so far.
    async fn push_count(&self) -> Result<i64>;
}

/// Uploads made to WeChat, and the files campaigns send, by content.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// A media id of `kind` that `appid` uploaded for these bytes after
    /// `uploaded_after` (Unix seconds; temporary media expire). A media id
    /// is the uploading account's alone: WeChat answers another 40007.
    async fn media(
        &self,
        appid: &str,
        hash: &str,
        kind: &str,
        uploaded_after: i64,
    ) -> Result<Option<String>>;
    /// Records `appid`'s upload as soon as it exists.
    async fn record_media(
        &self,
        appid: &str,
        hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<()>;
    /// Forgets `kind`'s `media_id` (WeChat no longer has it: a draft that
    /// left the box), so that the next preparation uploads afresh.
    async fn forget_media(&self, appid: &str, kind: &str, media_id: &str) -> Result<()>;
    /// The bytes kept under `sha256`, if any.
    async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>>;
    /// Keeps `data` under its `sha256`, once.
    async fn keep_blob(&self, sha256: &str, data: &[u8]) -> Result<()>;
    /// Forgets the bytes `sha256`; whether they were kept.
    async fn delete_blob(&self, sha256: &str) -> Result<bool>;
    /// Bytes every kept file takes, together.
    async fn blobs_bytes(&self) -> Result<u64>;
    /// Keeps `data` (an upload to the server) and returns its hex SHA-256.
    async fn store_blob(&self, data: &[u8]) -> Result<String> {
        let sha256 = crate::sha256_hex(data);
        self.keep_blob(&sha256, data).await?;
        Ok(sha256)
    }
    /// The bytes of a file a campaign sends: kept when the campaign was
    /// planned; for campaigns planned by the first releases (which kept
    /// only the path), read from the path if they are still the bytes
    /// planned.
    async fn file(&self, file: &FileRef) -> Result<Vec<u8>> {
        match self.blob(&file.sha256).await? {
            Some(data) => Ok(data),
            None => file.read_as_planned(),
        }
    }
}

/// The server's users, API tokens, accounts and audit log.
#[async_trait]
pub trait PeopleStore: Send + Sync {
    /// Adds a user: its id, or `None` if the name is taken (in any case).
    async fn insert_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<Option<i64>>;
    /// Adds a user; [`Error::Exists`] if the name is taken.
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<User> {
        let id = self
            .insert_user(name, role, password_hash, now)
            .await?
            .ok_or_else(|| {
                Error::Exists(format!(
                    "a user named {name:?} exists already (names are the same whatever their case)"
                ))
            })?;
        Ok(User {
            id,
            name: name.to_owned(),
            role,
            created_at: now,
            disabled: false,
        })
    }
    /// The user named `name`, whatever its case (`Alice` is `alice`; of
    /// names a release before this one let differ only in case, the exact
    /// one, else the first made), with its password hash.
    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Every user, by id.
    async fn users(&self) -> Result<Vec<User>>;
    /// Keeps a token (its hash) for `user` with `role`.
    async fn create_token(
        &self,
        user: i64,
        role: Role,
        token_hash: &str,
        label: &str,
        now: i64,
    ) -> Result<i64>;
    /// The user a token (by hash) belongs to, and the token.
    async fn token_owner(&self, token_hash: &str) -> Result<Option<(User, Credential)>>;
    /// Forgets a token (by hash); whether it was there.
    async fn revoke_token(&self, token_hash: &str) -> Result<bool>;
    /// Every token and session, oldest first.
    async fn tokens(&self) -> Result<Vec<TokenRecord>>;
    /// Forgets token `id`; whether it was there.
    async fn revoke_token_id(&self, id: i64) -> Result<bool>;
    /// Ends every token and session of user `user`; how many there were.
    async fn end_credentials(&self, user: i64) -> Result<u64>;
    /// Disables user `user` at `at` (or enables it with `None`).
    async fn set_disabled(&self, user: i64, at: Option<i64>) -> Result<()>;
    /// Sets user `user`'s password hash.
    async fn set_password(&self, user: i64, password_hash: &str) -> Result<()>;
    /// Removes user `user` and its credentials (its name stays in the
    /// audit log).
    async fn remove_user(&self, user: i64) -> Result<()>;
    /// Adds an account; whether it was new.
    async fn insert_account(&self, account: &Account) -> Result<bool>;
    /// Adds an account; [`Error::Exists`] if its AppID is there already.
    async fn create_account(&self, account: &Account) -> Result<()> {
        if !self.insert_account(account).await? {
            return Err(Error::Exists(format!(
                "the account {} exists already",
                account.appid
            )));
        }
        Ok(())
    }
    /// Every account, by AppID.
    async fn accounts(&self) -> Result<Vec<Account>>;
    /// The account `appid`, if there is one.
    async fn account(&self, appid: &str) -> Result<Option<Account>>;
    /// Adds or replaces an account a platform acts for (a new or renewed
    /// authorisation: its name, kind, sealed refresh token and grant; a
    /// withdrawn one is enabled again). An account with its own AppSecret
    /// is left as it is: [`Error::Exists`].
    async fn authorise_account(&self, account: &Account) -> Result<()>;
    /// Replaces an account's sealed secrets (a platform's new refresh token).
    async fn set_sealed(&self, appid: &str, sealed: &str) -> Result<()>;
    /// Marks a platform's account withdrawn at `at`; whether it was not yet.
    async fn withdraw_account(&self, appid: &str, at: i64) -> Result<bool>;
    /// Claims an authorization code for exchange; `false` if another
    /// server (or an earlier push) claimed it.
    async fn claim_authorization_code(&self, code: &str, appid: &str, now: i64) -> Result<bool>;
    /// Gives a claimed code back, after its exchange failed.
    async fn release_authorization_code(&self, code: &str) -> Result<()>;
    /// Scopes a user or a token to `accounts` (`None`: every account).
    async fn set_scope(&self, kind: Scoped, owner: i64, accounts: Option<&[String]>) -> Result<()>;
    /// The accounts a user or a token is scoped to (`None`: every one).
    async fn scope(&self, kind: Scoped, owner: i64) -> Result<Option<Vec<String>>>;
    /// Replaces `appid`'s testers, in one transaction.
    async fn set_testers(&self, appid: &str, testers: &Testers) -> Result<()>;
    /// `appid`'s testers, sorted.
    async fn testers(&self, appid: &str) -> Result<Testers>;
    /// Replaces `appid`'s tags (see [`crate::across::is_tag`]).
    async fn set_account_tags(&self, appid: &str, tags: &[String]) -> Result<()>;
    /// Every account's tags, as (appid, tag), sorted.
    async fn account_tags(&self) -> Result<Vec<(String, String)>>;
    /// Appends to the audit log.
    async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: i64,
    ) -> Result<()>;
    /// The audit log, newest first, at most `limit` lines before `before`
    /// (an id; none for the newest).
    async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>>;
}

/// Every campaign (the CLI's and the servers', one table, one
/// [`Campaign`]), read, and moved through its life from draft to finished.
#[async_trait]
pub trait LifecycleStore: Send + Sync {
    /// Keeps a new campaign (a draft); whether its id was free.
    async fn insert_campaign(&self, c: &Campaign) -> Result<bool>;
    /// Keeps a new campaign (a draft); [`Error::Exists`] if the id is taken.
    async fn create_campaign(&self, c: &Campaign) -> Result<()> {
        if !self.insert_campaign(c).await? {
            return Err(Error::Exists(format!(
                "a campaign {:?} exists already",
                c.id
            )));
        }
        Ok(())
    }
    /// The campaigns `which` names, newest first.
    async fn campaigns_of(&self, which: Which<'_>) -> Result<Vec<Campaign>>;
    /// A campaign by id.
    async fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        Ok(self.campaigns_of(Which::Id(id)).await?.into_iter().next())
    }
    /// Every campaign, newest first.
    async fn campaigns(&self) -> Result<Vec<Campaign>> {
        self.campaigns_of(Which::All).await
    }
    /// Campaign `id` if it is planned (its batches recorded): the engine's
    /// view, what a worker may send.
    async fn planned_campaign(&self, id: &str) -> Result<Option<Campaign>> {
        Ok(self
            .campaigns_of(Which::PlannedId(id))
            .await?
            .into_iter()
            .next())
    }
    /// Every planned campaign, newest first.
    async fn planned_campaigns(&self) -> Result<Vec<Campaign>> {
        self.campaigns_of(Which::Planned).await
    }
    /// The campaigns a server should be sending at `now`: scheduled ones
    /// whose time has come, and running ones (another server may have died
    /// while sending them).
    async fn due_campaigns(&self, now: i64) -> Result<Vec<Campaign>> {
        self.campaigns_of(Which::Due(now)).await
    }
    /// Finishes running campaign `id` if no server runs it (sent with the
    /// CLI or a worker: it has no creator), once every batch or recipient
    /// is done, by whoever records the last; a server finishes its own.
    async fn finish_unmanaged(&self, id: &str) -> Result<()> {
        if let Some(c) = self.campaign(id).await?
            && c.created_by.is_none()
            && c.state == CampaignState::Running
        {
            self.set_campaign_state(
                id,
                CampaignState::Running,
                CampaignState::Finished,
                &Change::default(),
                crate::beijing::now(),
            )
            .await?;
        }
        Ok(())
    }
    /// Replaces draft `c.id`'s name, content, audience, list and batch size,
    /// if it is still a draft; whether it was.
    async fn update_draft(&self, c: &Campaign, now: i64) -> Result<bool>;
    /// Deletes campaign `id` if it is still a draft; whether it was.
    async fn delete_draft(&self, id: &str) -> Result<bool>;
    /// Starts campaign across accounts `whole` (running, not started yet)
    /// by writing its `parts`, in one transaction with the mark that it
    /// started; `false`: it had started already (another server made its
    /// parts) or is not running.
    async fn spread_campaign(&self, whole: &str, parts: &[Campaign], now: i64) -> Result<bool>;

    /// The parts of campaign across accounts `whole`.
    async fn parts_of(&self, whole: &str) -> Result<Vec<Campaign>> {
        self.campaigns_of(Which::PartsOf(whole)).await
    }

    /// Moves campaign `id` from `from` to `to` with `change`, if it is still
    /// in `from`; whether it moved.
    async fn set_campaign_state(
        &self,
        id: &str,
        from: CampaignState,
        to: CampaignState,
        change: &Change,
        now: i64,
    ) -> Result<bool>;
    /// Takes `step` on campaign `id` if it is still in the state `from`:
    /// the new state, or [`Error::WrongState`] with the state it is in (or
    /// the one it was asked from, if the step cannot be taken from there).
    async fn move_campaign(
        &self,
        id: &str,
        from: CampaignState,
        step: Step,
        change: &Change,
        now: i64,
    ) -> Result<CampaignState> {
        let to = from.after(step).ok_or(Error::WrongState {
            id: id.to_owned(),
            state: from.as_str(),
        })?;
        if self.set_campaign_state(id, from, to, change, now).await? {
            return Ok(to);
        }
        let state = self
            .campaign(id)
            .await?
            .map_or("gone", |c| c.state.as_str());
        Err(Error::WrongState {
            id: id.to_owned(),
            state,
        })
    }
}

/// Openid lists saved by name, for servers.
#[async_trait]
pub trait ListStore: Send + Sync {
    /// Saves `data` as list `list.name`; whether the name was free.
    async fn insert_list(&self, list: &SavedList, data: &[u8]) -> Result<bool>;
    /// Saves `data` as list `list.name`; [`Error::Exists`] if the name is
    /// taken (lists do not change).
    async fn save_list(&self, list: &SavedList, data: &[u8]) -> Result<()> {
        if !self.insert_list(list, data).await? {
            return Err(Error::Exists(format!(
                "a list named {:?} exists already (lists do not change: save it under a new name)",
                list.name
            )));
        }
        Ok(())
    }
    /// Every saved list, by name.
    async fn lists(&self) -> Result<Vec<SavedList>>;
    /// Deletes list `name`; whether it was there.
    async fn delete_list(&self, name: &str) -> Result<bool>;
    /// Bytes every saved list takes, together.
    async fn lists_bytes(&self) -> Result<u64>;
    /// The bytes of list `name`.
    async fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>>;
}

/// Free publishing's submissions and reports.
#[async_trait]
pub trait PublishStore: Send + Sync {
    /// Records a publish of `campaign` (if any) submitted for `appid`.
    async fn record_publish_submitted(
        &self,
        appid: &str,
        publish_id: i64,
        media_id: &str,
        msg_data_id: Option<i64>,
        campaign: Option<&str>,
        at: i64,
    ) -> Result<()>;
    /// Records `appid`'s publish reports, in one transaction.
    async fn record_publish_reports(
        &self,
        appid: &str,
        reports: &[PublishReport],
        at: i64,
    ) -> Result<Vec<Recorded>>;
    /// Every publish, newest submission or report first.
    async fn publishes(&self) -> Result<Vec<PublishRecord>>;
}

/// The series of reads pulled from datacube.
#[async_trait]
pub trait ReadStore: Send + Sync {
    /// Keeps `points` (replacing what an earlier pull kept for the same
    /// article and day) and notes `campaign` pulled on `pulled_on`, in one
    /// transaction.
    async fn record_read_series(
        &self,
        campaign: &str,
        pulled_on: &str,
        points: &[ReadPoint],
        at: i64,
    ) -> Result<()>;
    /// `campaign`'s kept series.
    async fn read_series(&self, campaign: &str) -> Result<ReadSeries>;
}

/// Failed sign-ins, counted for every server on the store.
#[async_trait]
pub trait SignInStore: Send + Sync {
    /// Notes a failed sign-in for `name` from `address` at `now`, and
    /// forgets failures from before `forget_before`.
    async fn sign_in_failed(
        &self,
        name: &str,
        address: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<()>;
    /// Failed sign-ins after `since` (Unix seconds): `name`'s, `name`'s
    /// from `address`, and `address`'s.
    async fn sign_in_failures(
        &self,
        name: &str,
        address: &str,
        since: i64,
    ) -> Result<SignInFailures>;
    /// Forgets `name`'s failed sign-ins from `address` (it signed in there).
    async fn sign_in_succeeded(&self, name: &str, address: &str) -> Result<()>;
}
