//! The journal in PostgreSQL, for many workers on many hosts: the same
//! tables as the SQLite journal (prefixed `wxmass_`), the same rules. What
//! only a shared database needs is here: batches are claimed with
//! `FOR UPDATE SKIP LOCKED` under a lease whose expiry is the database's
//! clock (hosts' clocks may differ), and the minute's sends are counted in
//! a row every worker updates.
//!
//! Why tokio-postgres without a pool: a worker does one thing at a time
//! against the database (claim, record), so one connection per process is
//! enough; it is made again when it fails. No TLS: the URL should point at
//! a database on a trusted network or a Unix socket (say so in the README).

use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use crate::error::{Error, Result};
use crate::openids;
use crate::spec::{Audience, Batch, BatchState, Campaign, Claim, Content, FileRef, Files, Report};
use crate::spec::{JobReport, SeenRequest};
use crate::sqlite::{PlannedBatch, Recorded, StrayReport};

/// The schema version this build writes (`wxmass_schema.version`).
pub const SCHEMA_VERSION: i64 = crate::store::migrations::LATEST;

/// The database's clock, in Unix seconds.
const DB_NOW: &str = "extract(epoch from clock_timestamp())::bigint";

/// The journal in a PostgreSQL database.
pub struct PgJournal {
    url: String,
    /// Up to [`CONNECTIONS`] connections, made as they are first needed.
    clients: Vec<Mutex<Option<Client>>>,
    /// Where a caller that finds every connection busy waits.
    next: std::sync::atomic::AtomicUsize,
}

/// Connections a journal opens at most: the API, the push writer, the
/// runner and its campaigns each get one of their own under load, and a
/// slow query holds up only its own caller. (Each server process opens up
/// to this many: mind PostgreSQL's `max_connections` with many servers.)
pub const CONNECTIONS: usize = 8;

impl std::fmt::Debug for PgJournal {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgJournal")
    }
}

/// The server's own message (tokio-postgres shows only "db error"), with
/// what to do for the usual ones. Never the URL: it may hold a password.
fn db_error(e: tokio_postgres::Error) -> Error {
    let advice = match e.as_db_error() {
        Some(db) => {
            let what = format!("PostgreSQL said {}: {}", db.code().code(), db.message());
            match db.code().code() {
                "42501" => format!(
                    "{what}: the database user may not create or change wxmass's tables; grant it CREATE on the schema, or run once as the owner"
                ),
                "3D000" => format!("{what}: create the database first (createdb)"),
                "28P01" | "28000" => format!("{what}: check the user and password in the URL"),
                _ => what,
            }
        }
        None => format!(
            "cannot reach the PostgreSQL database ({e}): check the host, port and that it is running"
        ),
    };
    Error::Store {
        advice,
        source: None,
    }
}

fn unreadable(what: String) -> Error {
    Error::Store {
        advice: what,
        source: None,
    }
}

impl PgJournal {
    /// Connects to `url` (`postgres://user@host:port/db`) and creates or
    /// upgrades the tables. A database written by a newer wxmass is refused
    /// before anything is changed.
    pub async fn connect(url: &str) -> Result<PgJournal> {
        url.parse::<tokio_postgres::Config>().map_err(|e| Error::Invalid(format!(
            "the database URL is not a PostgreSQL URL ({e}): give one such as postgres://user@localhost/wxmass"
        )))?;
        let journal = PgJournal {
            url: url.to_owned(),
            clients: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        };
        journal.migrate().await?;
        Ok(journal)
    }

    /// Runs `f` on a free connection (an open one first, else a new one;
    /// when all are busy, waits for one), connecting first if needed; a
    /// failed connection is dropped so the next call makes a new one.
    pub(crate) async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&mut Client) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        let free = |open: bool| {
            self.clients.iter().find_map(|m| {
                m.try_lock()
                    .ok()
                    .filter(|g| g.as_ref().is_some_and(|c| !c.is_closed()) == open)
            })
        };
        let mut guard = match free(true).or_else(|| free(false)) {
            Some(guard) => guard,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.clients[i % CONNECTIONS].lock().await
            }
        };
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
                .await
                .map_err(db_error)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            *guard = Some(client);
        }
        let Some(client) = guard.as_mut() else {
            return Err(unreadable("no database connection".into()));
        };
        let result = f(client).await;
        if result.is_err() && client.is_closed() {
            *guard = None;
        }
        result.map_err(db_error)
    }

    async fn migrate(&self) -> Result<()> {
        self.with(async |c| crate::store::migrations::postgres(c).await)
            .await?
    }

    /// A campaign by id.
    pub async fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    "SELECT id, appid, content, audience_kind, tag_id, audience_size, created_at
                     FROM wxmass_campaigns WHERE id = $1",
                    &[&id],
                )
                .await
            })
            .await?;
        row.map(|r| campaign_of(&r)).transpose()
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT id, appid, content, audience_kind, tag_id, audience_size, created_at
                     FROM wxmass_campaigns ORDER BY created_at DESC, id",
                    &[],
                )
                .await
            })
            .await?;
        rows.iter().map(campaign_of).collect()
    }

    /// Records a campaign, its files and its batches in one transaction.
    pub async fn plan(
        &self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut (dyn Iterator<Item = Result<PlannedBatch>> + Send),
    ) -> Result<()> {
        // The batches come from a file and may fail midway: collect the
        // rows per batch inside the transaction, rolling back on error.
        let content = campaign.content.to_json();
        let size = i64::try_from(campaign.audience_size).unwrap_or(i64::MAX);
        let tag = campaign.audience.tag_id().map(i64::from);
        let mut failed = None;
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO wxmass_campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[&campaign.id, &campaign.appid, &content, &campaign.audience.kind(), &tag, &size, &campaign.created_at],
            )
            .await?;
            for (sha, data) in files.iter() {
                tx.execute(
                    "INSERT INTO wxmass_blobs (sha256, data) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&sha, &data],
                )
                .await?;
            }
            let insert = tx
                .prepare(
                    "INSERT INTO wxmass_batches (campaign, idx, clientmsgid, size, state, updated_at, openids)
                     VALUES ($1, $2, $3, $4, 'planned', $5, $6)",
                )
                .await?;
            for (index, batch) in batches.enumerate() {
                let batch = match batch {
                    Ok(b) => b,
                    Err(e) => {
                        failed = Some(e);
                        return tx.rollback().await;
                    }
                };
                let encoded = (!batch.openids.is_empty()).then(|| openids::encode(&batch.openids));
                tx.execute(
                    &insert,
                    &[&campaign.id, &(index as i32), &batch.clientmsgid, &(batch.openids.len() as i64), &campaign.created_at, &encoded],
                )
                .await?;
            }
            tx.commit().await
        })
        .await?;
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A campaign's batches, in order, with their reports.
    pub async fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT b.idx, b.clientmsgid, b.size, b.state, b.msg_id, b.status,
                            p.status, p.total_count, p.filter_count, p.sent_count, p.error_count,
                            p.check_state, p.article_urls, b.sent_by, b.takeovers,
                            b.msg_data_id, b.submitted_at
                     FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                     LEFT JOIN wxmass_pushes p ON p.appid = c.appid AND p.msg_id = b.msg_id
                     WHERE b.campaign = $1 ORDER BY b.idx",
                    &[&campaign],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let report = r.get::<_, Option<String>>(6).map(|status| Report {
                    status,
                    total_count: r.get(7),
                    filter_count: r.get(8),
                    sent_count: r.get(9),
                    error_count: r.get(10),
                    check_state: r.get(11),
                    article_urls: serde_json::from_str(&r.get::<_, String>(12)).unwrap_or_default(),
                });
                Batch {
                    index: r.get::<_, i32>(0) as u32,
                    clientmsgid: r.get(1),
                    size: u64::try_from(r.get::<_, i64>(2)).unwrap_or(0),
                    state: BatchState::parse(r.get(3)).unwrap_or(BatchState::Submitting),
                    msg_id: r.get(4),
                    status: r.get(5),
                    report,
                    sent_by: r.get(13),
                    takeovers: r.get::<_, i32>(14) as u32,
                    msg_data_id: r.get(15),
                    submitted_at: r.get(16),
                }
            })
            .collect())
    }

    /// See [`crate::SqliteJournal::packed_openids`].
    pub async fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>> {
        let idx = index as i32;
        Ok(self
            .with(async |c| {
                c.query_opt(
                    "SELECT openids FROM wxmass_batches WHERE campaign = $1 AND idx = $2",
                    &[&campaign, &idx],
                )
                .await
            })
            .await?
            .and_then(|r| r.get(0)))
    }

    /// See [`crate::SqliteJournal::each_recent_list_member`].
    pub async fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut (dyn FnMut(&str) + Send),
    ) -> Result<()> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT b.openids FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                     WHERE c.appid = $1 AND c.audience_kind = 'openids' AND c.id != $3 AND b.openids IS NOT NULL
                       AND c.id IN (SELECT campaign FROM wxmass_batches WHERE submitted_at >= $2)",
                    &[&appid, &since, &except],
                )
                .await
            })
            .await?;
        for row in rows {
            let blob: Vec<u8> = row.get(0);
            let list = openids::decode(&blob)
                .ok_or_else(|| unreadable("a batch holds openids this build cannot read".into()))?;
            list.iter().for_each(|o| f(o));
        }
        Ok(())
    }

    /// See [`crate::SqliteJournal::campaigns_sent_since`].
    pub async fn campaigns_sent_since(
        &self,
        appid: &str,
        kind: &str,
        tag_id: Option<u32>,
        since: i64,
    ) -> Result<u64> {
        let tag = tag_id.map(i64::from);
        let n: i64 = self
            .with(async |c| {
                c.query_one(
                    "SELECT COUNT(DISTINCT c.id) FROM wxmass_campaigns c JOIN wxmass_batches b ON b.campaign = c.id
                     WHERE c.appid = $1 AND c.audience_kind = $2 AND ($3::BIGINT IS NULL OR c.tag_id = $3)
                       AND b.submitted_at >= $4",
                    &[&appid, &kind, &tag, &since],
                )
                .await
            })
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// See [`crate::SqliteJournal::media`].
    pub async fn media(&self, hash: &str, kind: &str, after: i64) -> Result<Option<String>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    "SELECT media_id FROM wxmass_media WHERE content_hash = $1 AND kind = $2 AND uploaded_at > $3",
                    &[&hash, &kind, &after],
                )
                .await
            })
            .await?
            .map(|r| r.get(0)))
    }

    /// See [`Journal::forget_media`].
    pub async fn forget_media(&self, kind: &str, media_id: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "DELETE FROM wxmass_media WHERE kind = $1 AND media_id = $2",
                &[&kind, &media_id],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// See [`crate::SqliteJournal::record_media`].
    pub async fn record_media(
        &self,
        hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "INSERT INTO wxmass_media (content_hash, kind, media_id, url, uploaded_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (content_hash, kind) DO UPDATE SET media_id = excluded.media_id, url = excluded.url,
                 uploaded_at = excluded.uploaded_at",
                &[&hash, &kind, &media_id, &url, &at],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// See [`crate::SqliteJournal::file`].
    pub async fn file(&self, file: &FileRef) -> Result<Vec<u8>> {
        if let Some(data) = self.blob(&file.sha256).await? {
            return Ok(data);
        }
        file.read_as_planned()
    }

    /// See [`crate::SqliteJournal::blob`].
    pub async fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    "SELECT data FROM wxmass_blobs WHERE sha256 = $1",
                    &[&sha256],
                )
                .await
            })
            .await?
            .map(|r| r.get(0)))
    }

    /// See [`crate::SqliteJournal::store_blob`].
    pub async fn store_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "INSERT INTO wxmass_blobs (sha256, data) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&sha256, &data],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// See [`crate::SqliteJournal::set_statuses`]: one statement.
    pub async fn set_statuses(&self, campaign: &str, statuses: &[(u32, &str)]) -> Result<()> {
        let idx: Vec<i32> = statuses.iter().map(|(i, _)| *i as i32).collect();
        let status: Vec<&str> = statuses.iter().map(|(_, s)| *s).collect();
        self.with(async |c| {
            c.execute(
                &format!(
                    "UPDATE wxmass_batches b SET status = u.status, updated_at = {DB_NOW}
                     FROM unnest($2::int4[], $3::text[]) AS u(idx, status)
                     WHERE b.campaign = $1 AND b.idx = u.idx"
                ),
                &[&campaign, &idx, &status],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// See [`crate::SqliteJournal::claim`]: the same, with the database's
    /// clock, and rows other workers are claiming skipped (`SKIP LOCKED`)
    /// instead of waited for.
    pub async fn claim(
        &self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
    ) -> Result<Vec<Claim>> {
        let (max, ttl) = (max as i64, ttl.as_secs() as i64);
        let rows = self
            .with(async |c| {
                c.query(
                    &format!(
                        "WITH picked AS (
                             SELECT b.campaign, b.idx, b.state AS old_state, b.lease_owner AS old_owner
                             FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                             WHERE b.campaign = $1 AND c.message IS NOT NULL
                               AND CASE WHEN $5 THEN b.state = 'submitted' AND b.msg_id IS NULL
                                             AND coalesce(b.submitted_at, 0) >= {DB_NOW} - {within}
                                        ELSE b.state != 'submitted' END
                               AND (b.lease_owner IS NULL OR b.lease_owner = $2 OR b.lease_expires_at < {DB_NOW})
                             ORDER BY b.idx LIMIT $3 FOR UPDATE OF b SKIP LOCKED)
                         UPDATE wxmass_batches b SET lease_owner = $2, lease_expires_at = {DB_NOW} + $4,
                             updated_at = {DB_NOW},
                             state = CASE WHEN b.state = 'planned' THEN 'submitting' ELSE b.state END,
                             takeovers = b.takeovers + CASE WHEN p.old_state = 'submitting'
                                 AND p.old_owner IS NOT NULL AND p.old_owner != $2 THEN 1 ELSE 0 END
                         FROM picked p WHERE b.campaign = p.campaign AND b.idx = p.idx
                         RETURNING b.idx, b.clientmsgid, p.old_state = 'submitting'
                             AND p.old_owner IS NOT NULL AND p.old_owner != $2",
                        within = crate::spec::NAME_BY_RESENDING_WITHIN
                    ),
                    &[&campaign, &worker, &max, &ttl, &unnamed],
                )
                .await
            })
            .await?;
        let mut claims: Vec<Claim> = rows
            .iter()
            .map(|r| Claim {
                campaign: campaign.to_owned(),
                index: r.get::<_, i32>(0) as u32,
                clientmsgid: r.get(1),
                takeover: r.get(2),
            })
            .collect();
        claims.sort_by_key(|c| c.index);
        Ok(claims)
    }

    /// See [`crate::SqliteJournal::record_submitted`].
    pub async fn record_submitted(
        &self,
        worker: &str,
        done: &[(Claim, Option<i64>, Option<i64>)],
    ) -> Result<usize> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let update = tx
                .prepare(&format!(
                    "UPDATE wxmass_batches SET state = 'submitted', msg_id = COALESCE($3, msg_id),
                     msg_data_id = COALESCE($4, msg_data_id), submitted_at = COALESCE(submitted_at, {DB_NOW}),
                     updated_at = {DB_NOW}, sent_by = $5, lease_owner = NULL, lease_expires_at = NULL
                     WHERE campaign = $1 AND idx = $2 AND lease_owner = $5"
                ))
                .await?;
            let mut recorded = 0;
            for (claim, msg_id, data_id) in done {
                let idx = claim.index as i32;
                recorded += tx
                    .execute(&update, &[&claim.campaign, &idx, msg_id, data_id, &worker])
                    .await? as usize;
            }
            tx.commit().await?;
            Ok(recorded)
        })
        .await
    }

    /// See [`crate::SqliteJournal::release`].
    pub async fn release(&self, worker: &str, claims: &[Claim]) -> Result<()> {
        self.with(async |c| {
            for claim in claims {
                let idx = claim.index as i32;
                c.execute(
                    "UPDATE wxmass_batches SET lease_owner = NULL, lease_expires_at = NULL
                     WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                    &[&claim.campaign, &idx, &worker],
                )
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// See [`crate::SqliteJournal::prepared`].
    pub async fn prepared(&self, campaign: &str) -> Result<Option<String>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    "SELECT message FROM wxmass_campaigns WHERE id = $1",
                    &[&campaign],
                )
                .await
            })
            .await?
            .and_then(|r| r.get(0)))
    }

    /// See [`crate::SqliteJournal::set_prepared`].
    pub async fn set_prepared(&self, campaign: &str, message: &str) -> Result<String> {
        self.with(async |c| {
            c.execute(
                "UPDATE wxmass_campaigns SET message = $2 WHERE id = $1 AND message IS NULL",
                &[&campaign, &message],
            )
            .await
        })
        .await?;
        Ok(self
            .prepared(campaign)
            .await?
            .unwrap_or_else(|| message.to_owned()))
    }

    /// See [`crate::SqliteJournal::take_send_slots`], counted on the
    /// database's clock for every worker of the account.
    pub async fn take_send_slots(&self, appid: &str, want: u32, limit: u32) -> Result<u32> {
        let (want, limit) = (want as i32, limit as i32);
        let granted: i32 = self
            .with(async |c| {
                let tx = c.transaction().await?;
                let minute: i64 = tx
                    .query_one(&format!("SELECT {DB_NOW} / 60"), &[])
                    .await?
                    .get(0);
                tx.execute(
                    "INSERT INTO wxmass_pace (appid, minute, used) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
                    &[&appid, &minute],
                )
                .await?;
                let used: i32 = tx
                    .query_one(
                        "SELECT used FROM wxmass_pace WHERE appid = $1 AND minute = $2 FOR UPDATE",
                        &[&appid, &minute],
                    )
                    .await?
                    .get(0);
                let granted = want.min((limit - used).max(0));
                tx.execute(
                    "UPDATE wxmass_pace SET used = used + $3 WHERE appid = $1 AND minute = $2",
                    &[&appid, &minute, &granted],
                )
                .await?;
                tx.execute(
                    "DELETE FROM wxmass_pace WHERE minute < $1",
                    &[&(minute - 1)],
                )
                .await?;
                tx.commit().await?;
                Ok(granted)
            })
            .await?;
        Ok(granted as u32)
    }

    /// See [`crate::SqliteJournal::set_status_of_job`].
    pub async fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &format!(
                    "UPDATE wxmass_batches SET status = $3, updated_at = {DB_NOW} WHERE msg_id = $2
                     AND campaign IN (SELECT id FROM wxmass_campaigns WHERE appid = $1)"
                ),
                &[&appid, &msg_id, &status],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// See [`crate::SqliteJournal::record_received`]: the same, in one
    /// transaction, stamped with the database's clock.
    pub async fn record_received(
        &self,
        appid: &str,
        received: &[(Option<JobReport>, SeenRequest)],
    ) -> Result<Vec<Recorded>> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let seen = tx
                .prepare(
                    "INSERT INTO wxmass_seen_requests (timestamp, nonce, content, expires_at)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .await?;
            let insert = tx
                .prepare(&format!(
                    "INSERT INTO wxmass_pushes (appid, msg_id, status, total_count, filter_count, sent_count,
                     error_count, check_state, article_urls, event, received_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {DB_NOW}) ON CONFLICT DO NOTHING"
                ))
                .await?;
            let known = tx
                .prepare(
                    "SELECT EXISTS (SELECT 1 FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                     WHERE b.msg_id = $2 AND c.appid = $1)",
                )
                .await?;
            let earlier = tx
                .prepare("SELECT event FROM wxmass_pushes WHERE appid = $1 AND msg_id = $2")
                .await?;
            let conflict = tx
                .prepare(&format!(
                    "INSERT INTO wxmass_push_conflicts (appid, msg_id, event, received_at) VALUES ($1, $2, $3, {DB_NOW})"
                ))
                .await?;
            let mut outcomes = Vec::with_capacity(received.len());
            for (job, q) in received {
                let content = &q.content[..];
                tx.execute(&seen, &[&q.timestamp, &q.nonce, &content, &q.expires_at])
                    .await?;
                let Some(job) = job else {
                    outcomes.push(Recorded::NoReport);
                    continue;
                };
                let r = &job.report;
                let urls = serde_json::to_string(&r.article_urls).unwrap_or_default();
                let inserted = tx
                    .execute(
                        &insert,
                        &[
                            &appid,
                            &job.msg_id,
                            &r.status,
                            &r.total_count,
                            &r.filter_count,
                            &r.sent_count,
                            &r.error_count,
                            &r.check_state,
                            &urls,
                            &job.event,
                        ],
                    )
                    .await?;
                outcomes.push(if inserted == 1 {
                    Recorded::New {
                        known: tx.query_one(&known, &[&appid, &job.msg_id]).await?.get(0),
                    }
                } else {
                    let first: String = tx.query_one(&earlier, &[&appid, &job.msg_id]).await?.get(0);
                    if first == job.event {
                        Recorded::Duplicate
                    } else {
                        tx.execute(&conflict, &[&appid, &job.msg_id, &job.event]).await?;
                        Recorded::Conflict
                    }
                });
            }
            tx.commit().await?;
            Ok(outcomes)
        })
        .await
    }

    /// See [`crate::SqliteJournal::seen_requests`].
    pub async fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT timestamp, nonce, content, expires_at FROM wxmass_seen_requests WHERE expires_at >= $1",
                    &[&now],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| SeenRequest {
                timestamp: r.get(0),
                nonce: r.get(1),
                content: r.get::<_, &[u8]>(2).try_into().unwrap_or([0; 20]),
                expires_at: r.get(3),
            })
            .collect())
    }

    /// See [`crate::SqliteJournal::prune_seen_requests`].
    pub async fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        let n = self
            .with(async |c| {
                c.execute(
                    "DELETE FROM wxmass_seen_requests WHERE expires_at < $1",
                    &[&now],
                )
                .await
            })
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// See [`crate::SqliteJournal::stray_reports`].
    pub async fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT p.appid, p.msg_id, 'unknown job', p.status, p.sent_count, p.received_at FROM wxmass_pushes p
                     WHERE NOT EXISTS (SELECT 1 FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                                       WHERE b.msg_id = p.msg_id AND c.appid = p.appid)
                     UNION ALL
                     SELECT appid, msg_id, 'conflict', coalesce(event::jsonb ->> 'status', ''),
                            coalesce((event::jsonb ->> 'sent_count')::bigint, 0), received_at
                     FROM wxmass_push_conflicts
                     ORDER BY 6, 2",
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| StrayReport {
                appid: r.get(0),
                msg_id: r.get(1),
                kind: if r.get::<_, &str>(2) == "conflict" {
                    "conflict"
                } else {
                    "unknown job"
                },
                status: r.get(3),
                sent_count: r.get(4),
                received_at: r.get(5),
            })
            .collect())
    }

    /// See [`crate::SqliteJournal::push_count`].
    pub async fn push_count(&self) -> Result<i64> {
        Ok(self
            .with(async |c| c.query_one("SELECT COUNT(*) FROM wxmass_pushes", &[]).await)
            .await?
            .get(0))
    }

    /// See [`crate::SqliteJournal::unsent`].
    pub async fn unsent(&self, campaign: &str) -> Result<u64> {
        let n: i64 = self
            .with(async |c| {
                c.query_one(
                    "SELECT COUNT(*) FROM wxmass_batches WHERE campaign = $1 AND state != 'submitted'",
                    &[&campaign],
                )
                .await
            })
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

fn campaign_of(r: &tokio_postgres::Row) -> Result<Campaign> {
    let id: String = r.get(0);
    let bad = |what: &str| {
        unreadable(format!(
            "campaign {id:?} in the database has {what} this build cannot read: was it written by a newer wxmass?"
        ))
    };
    let content: Content = serde_json::from_str(r.get::<_, &str>(2)).map_err(|_| bad("content"))?;
    let tag: Option<i64> = r.get(4);
    let audience = match (r.get::<_, &str>(3), tag.and_then(|t| u32::try_from(t).ok())) {
        ("all", _) => Audience::All,
        ("tag", Some(tag_id)) => Audience::Tag { tag_id },
        ("openids", _) => Audience::Openids,
        _ => return Err(bad("an audience")),
    };
    Ok(Campaign {
        appid: r.get(1),
        content,
        audience,
        audience_size: u64::try_from(r.get::<_, i64>(5)).unwrap_or(0),
        created_at: r.get(6),
        id,
    })
}
