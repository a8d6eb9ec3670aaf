//! One interface to the journal, whichever database holds it: the embedded
//! SQLite file (one host) or PostgreSQL (many workers on many hosts). The
//! engine and the faces speak to this; each backend keeps the same tables
//! and the same rules.
//!
//! SQLite calls are short and local: they run on the calling task, behind
//! a mutex (one connection per process). PostgreSQL calls are async.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::beijing;
use crate::error::Result;
use crate::postgres::PgJournal;
use crate::spec::{Batch, Campaign, Claim, FileRef, Files, JobReport, SeenRequest};
use crate::sqlite::{PlannedBatch, Recorded, SqliteJournal, StrayReport};

/// Where campaigns are kept.
pub enum Journal {
    /// A SQLite file.
    Sqlite(Mutex<SqliteJournal>),
    /// A PostgreSQL database.
    Postgres(PgJournal),
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Journal::Sqlite(_) => "Journal::Sqlite",
            Journal::Postgres(_) => "Journal::Postgres",
        })
    }
}

impl Journal {
    /// The SQLite journal at `path`.
    pub fn sqlite(path: &Path) -> Result<Journal> {
        Ok(Journal::Sqlite(Mutex::new(SqliteJournal::open(path)?)))
    }

    /// The journal in the PostgreSQL database at `url`.
    pub async fn postgres(url: &str) -> Result<Journal> {
        Ok(Journal::Postgres(PgJournal::connect(url).await?))
    }

    /// Whether several hosts may share it.
    pub fn is_shared(&self) -> bool {
        matches!(self, Journal::Postgres(_))
    }

    /// A campaign by id.
    pub async fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        match self {
            Journal::Sqlite(j) => lock(j).campaign(id),
            Journal::Postgres(p) => p.campaign(id).await,
        }
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        match self {
            Journal::Sqlite(j) => lock(j).campaigns(),
            Journal::Postgres(p) => p.campaigns().await,
        }
    }

    /// Records a campaign, its files and its batches, whole or not at all.
    pub async fn plan(
        &self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut (dyn Iterator<Item = Result<PlannedBatch>> + Send),
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).plan(campaign, files, batches),
            Journal::Postgres(p) => p.plan(campaign, files, batches).await,
        }
    }

    /// A campaign's batches, in order.
    pub async fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        match self {
            Journal::Sqlite(j) => lock(j).batches(campaign),
            Journal::Postgres(p) => p.batches(campaign).await,
        }
    }

    /// A batch's openids.
    pub async fn openids(&self, campaign: &str, index: u32) -> Result<Vec<String>> {
        let blob = self.packed_openids(campaign, index).await?;
        crate::openids::decode_batch(blob.as_deref(), campaign, index)
    }

    /// A batch's openids as stored (see [`crate::openids::decode_batch`]):
    /// a sender decodes them on its own task, not under the journal.
    pub async fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>> {
        match self {
            Journal::Sqlite(j) => lock(j).packed_openids(campaign, index),
            Journal::Postgres(p) => p.packed_openids(campaign, index).await,
        }
    }

    /// See [`SqliteJournal::campaigns_sent_since`].
    pub async fn campaigns_sent_since(
        &self,
        appid: &str,
        kind: &str,
        tag_id: Option<u32>,
        since: i64,
    ) -> Result<u64> {
        match self {
            Journal::Sqlite(j) => lock(j).campaigns_sent_since(appid, kind, tag_id, since),
            Journal::Postgres(p) => p.campaigns_sent_since(appid, kind, tag_id, since).await,
        }
    }

    /// See [`SqliteJournal::each_recent_list_member`].
    pub async fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut (dyn FnMut(&str) + Send),
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).each_recent_list_member(appid, since, except, f),
            Journal::Postgres(p) => p.each_recent_list_member(appid, since, except, f).await,
        }
    }

    /// See [`SqliteJournal::media`].
    pub async fn media(&self, hash: &str, kind: &str, after: i64) -> Result<Option<String>> {
        match self {
            Journal::Sqlite(j) => lock(j).media(hash, kind, after),
            Journal::Postgres(p) => p.media(hash, kind, after).await,
        }
    }

    /// See [`SqliteJournal::record_media`].
    pub async fn record_media(
        &self,
        hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).record_media(hash, kind, media_id, url, beijing::now()),
            Journal::Postgres(p) => {
                p.record_media(hash, kind, media_id, url, beijing::now())
                    .await
            }
        }
    }

    /// Forgets `kind`'s `media_id` (WeChat no longer has it: a draft that
    /// left the box), so that the next preparation uploads afresh.
    pub async fn forget_media(&self, kind: &str, media_id: &str) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).forget_media(kind, media_id),
            Journal::Postgres(p) => p.forget_media(kind, media_id).await,
        }
    }

    /// See [`SqliteJournal::file`].
    pub async fn file(&self, file: &FileRef) -> Result<Vec<u8>> {
        match self {
            Journal::Sqlite(j) => lock(j).file(file),
            Journal::Postgres(p) => p.file(file).await,
        }
    }

    /// The bytes kept under `sha256`, if any: never read from a path (a
    /// server's campaigns name only what was uploaded to it).
    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Journal::Sqlite(j) => lock(j).blob(sha256),
            Journal::Postgres(p) => p.blob(sha256).await,
        }
    }

    /// Keeps `data` (an upload to the server) and returns its hex SHA-256.
    pub async fn store_blob(&self, data: &[u8]) -> Result<String> {
        let sha256 = crate::sha256_hex(data);
        match self {
            Journal::Sqlite(j) => lock(j).store_blob(&sha256, data),
            Journal::Postgres(p) => p.store_blob(&sha256, data).await,
        }?;
        Ok(sha256)
    }

    /// See [`SqliteJournal::set_statuses`].
    pub async fn set_statuses(&self, campaign: &str, statuses: &[(u32, &str)]) -> Result<()> {
        if statuses.is_empty() {
            return Ok(());
        }
        match self {
            Journal::Sqlite(j) => lock(j).set_statuses(campaign, statuses, beijing::now()),
            Journal::Postgres(p) => p.set_statuses(campaign, statuses).await,
        }
    }

    /// See [`SqliteJournal::claim`].
    pub async fn claim(
        &self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
    ) -> Result<Vec<Claim>> {
        match self {
            Journal::Sqlite(j) => {
                lock(j).claim(campaign, worker, max, ttl, unnamed, beijing::now())
            }
            Journal::Postgres(p) => p.claim(campaign, worker, max, ttl, unnamed).await,
        }
    }

    /// See [`SqliteJournal::record_submitted`].
    pub async fn record_submitted(
        &self,
        worker: &str,
        done: &[(Claim, Option<i64>, Option<i64>)],
    ) -> Result<usize> {
        match self {
            Journal::Sqlite(j) => lock(j).record_submitted(worker, done, beijing::now()),
            Journal::Postgres(p) => p.record_submitted(worker, done).await,
        }
    }

    /// See [`SqliteJournal::release`].
    pub async fn release(&self, worker: &str, claims: &[Claim]) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).release(worker, claims),
            Journal::Postgres(p) => p.release(worker, claims).await,
        }
    }

    /// See [`SqliteJournal::prepared`].
    pub async fn prepared(&self, campaign: &str) -> Result<Option<String>> {
        match self {
            Journal::Sqlite(j) => lock(j).prepared(campaign),
            Journal::Postgres(p) => p.prepared(campaign).await,
        }
    }

    /// See [`SqliteJournal::set_prepared`].
    pub async fn set_prepared(&self, campaign: &str, message: &str) -> Result<String> {
        match self {
            Journal::Sqlite(j) => lock(j).set_prepared(campaign, message),
            Journal::Postgres(p) => p.set_prepared(campaign, message).await,
        }
    }

    /// See [`SqliteJournal::take_send_slots`].
    pub async fn take_send_slots(&self, appid: &str, want: u32, limit: u32) -> Result<u32> {
        match self {
            Journal::Sqlite(j) => lock(j).take_send_slots(appid, want, limit, beijing::now()),
            Journal::Postgres(p) => p.take_send_slots(appid, want, limit).await,
        }
    }

    /// See [`SqliteJournal::unsent`].
    pub async fn unsent(&self, campaign: &str) -> Result<u64> {
        match self {
            Journal::Sqlite(j) => lock(j).unsent(campaign),
            Journal::Postgres(p) => p.unsent(campaign).await,
        }
    }

    /// See [`SqliteJournal::set_status_of_job`].
    pub async fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()> {
        match self {
            Journal::Sqlite(j) => lock(j).set_status_of_job(appid, msg_id, status, beijing::now()),
            Journal::Postgres(p) => p.set_status_of_job(appid, msg_id, status).await,
        }
    }

    /// See [`SqliteJournal::record_received`]. On SQLite this waits for
    /// the fsync on the calling thread: the receiver calls it from a thread
    /// of its own.
    pub async fn record_received(
        &self,
        appid: &str,
        received: &[(Option<JobReport>, SeenRequest)],
    ) -> Result<Vec<Recorded>> {
        match self {
            Journal::Sqlite(j) => lock(j).record_received(appid, received, beijing::now()),
            Journal::Postgres(p) => p.record_received(appid, received).await,
        }
    }

    /// See [`SqliteJournal::seen_requests`].
    pub async fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>> {
        match self {
            Journal::Sqlite(j) => lock(j).seen_requests(now),
            Journal::Postgres(p) => p.seen_requests(now).await,
        }
    }

    /// See [`SqliteJournal::prune_seen_requests`].
    pub async fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        match self {
            Journal::Sqlite(j) => lock(j).prune_seen_requests(now),
            Journal::Postgres(p) => p.prune_seen_requests(now).await,
        }
    }

    /// See [`SqliteJournal::stray_reports`].
    pub async fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        match self {
            Journal::Sqlite(j) => lock(j).stray_reports(),
            Journal::Postgres(p) => p.stray_reports().await,
        }
    }

    /// See [`SqliteJournal::push_count`].
    pub async fn push_count(&self) -> Result<i64> {
        match self {
            Journal::Sqlite(j) => lock(j).push_count(),
            Journal::Postgres(p) => p.push_count().await,
        }
    }
}

/// The SQLite journal; a panic while it was held cannot leave it half
/// written (every change is a transaction), so a poisoned lock is used.
/// A count as both databases return it (i64), as a count.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn lock(j: &Mutex<SqliteJournal>) -> MutexGuard<'_, SqliteJournal> {
    j.lock().unwrap_or_else(|e| e.into_inner())
}
