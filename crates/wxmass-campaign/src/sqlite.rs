//! The journal in a SQLite file: the embedded store, and the source of
//! truth for what was sent. It keeps data; the rules (what a batch is, when
//! a quota is spent) are the engine's.
//!
//! Shape, for speed and size: a campaign is one row, each batch one row
//! holding its openids as one compact blob ([`crate::openids`]), each file
//! the message needs one content-addressed blob. Planning is one
//! transaction (one fsync); each state change that must survive a crash
//! (`submitting` before a request, `submitted` after) is one more.
//!
//! Schema versions live in `PRAGMA user_version`; every older journal is
//! upgraded in place, one step per version, in one transaction.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::error::{Error, Result};
use crate::openids;
use crate::spec::{
    Audience, Batch, BatchState, Campaign, Content, FileRef, Files, JobReport, Report, SeenRequest,
};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = crate::store::migrations::LATEST;

/// How long a statement waits for another process's lock on the journal.
const BUSY_PATIENCE: Duration = Duration::from_secs(10);

/// A batch to record: its openids (empty for all/tag) and clientmsgid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedBatch {
    /// The clientmsgid it will be sent with.
    pub clientmsgid: String,
    /// Its openids, in order; empty for every follower or a tag.
    pub openids: Vec<String>,
}

/// What became of a report handed to [`SqliteJournal::record_received`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; `known` says whether a batch of a campaign has its job
    /// (a report can also arrive before the sender has written the msg_id).
    New {
        /// A batch has this job.
        known: bool,
    },
    /// The same report was recorded before (WeChat's retry, or a restart).
    Duplicate,
    /// A different report for a job already reported: kept apart, the first
    /// stays.
    Conflict,
    /// The request carried no job report.
    NoReport,
}

/// A report no batch knows, or a second report that contradicts the first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StrayReport {
    /// The account.
    pub appid: String,
    /// The job.
    pub msg_id: i64,
    /// `unknown job` or `conflict`.
    pub kind: &'static str,
    /// The report's status.
    pub status: String,
    /// Delivered, as reported.
    pub sent_count: i64,
    /// Unix seconds.
    pub received_at: i64,
}

/// The journal file.
pub struct SqliteJournal {
    conn: Connection,
}

impl SqliteJournal {
    /// The connection, for the other modules that keep tables here.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Opens or creates the journal (mode 0600: it names followers), and
    /// upgrades an older one in place.
    pub fn open(path: &Path) -> Result<SqliteJournal> {
        let invalid = |advice: String| Error::Store {
            advice,
            source: None,
        };
        if path.is_dir() {
            return Err(invalid(format!(
                "the journal {} is a folder: give a file, such as {}",
                path.display(),
                path.join("journal.db").display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if dir.exists() && !dir.is_dir() {
                return Err(invalid(format!(
                    "cannot put the journal {} in {}: that is a file, not a folder",
                    path.display(),
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(|e| {
                invalid(format!(
                    "cannot create the journal's folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        create_private(path)
            .map_err(|e| invalid(format!("cannot create the journal {}: {e}", path.display())))?;
        make_private(path)?;
        let explain = |e: rusqlite::Error| explain_open_error(path, e);
        let conn = Connection::open(path).map_err(explain)?;
        conn.busy_timeout(BUSY_PATIENCE).map_err(explain)?;
        // A newer journal is refused before anything is written to it.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(explain)?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        switch_to_wal(&conn).map_err(explain)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA journal_size_limit = 8388608;",
        )
        .map_err(explain)?;
        let mut journal = SqliteJournal { conn };
        journal.migrate().map_err(|e| match e {
            Error::Store {
                source: Some(sqlite),
                ..
            } => explain(sqlite),
            other => other,
        })?;
        // SQLite made the -wal and -shm files beside it; an old pair may be
        // readable by others.
        make_private(path)?;
        Ok(journal)
    }

    /// Brings the schema to [`SCHEMA_VERSION`] (see [`crate::store::migrations`]).
    fn migrate(&mut self) -> Result<()> {
        crate::store::migrations::sqlite(&mut self.conn)
    }

    /// The schema version of the file.
    pub fn version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A campaign by id.
    pub fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, appid, content, audience_kind, tag_id, audience_size, created_at
                 FROM wxmass_campaigns WHERE id = ?1",
                params![id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, Option<u32>>(4)?,
                        r.get::<_, i64>(5)?,
                        r.get::<_, i64>(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((id, appid, content, kind, tag_id, size, created_at)) = row else {
            return Ok(None);
        };
        let unreadable = |what: &str| Error::Store {
            advice: format!(
                "campaign {id:?} in the journal has {what} this build cannot read: was it written by a newer wxmass?"
            ),
            source: None,
        };
        let content: Content = serde_json::from_str(&content).map_err(|_| unreadable("content"))?;
        let audience = match (kind.as_str(), tag_id) {
            ("all", _) => Audience::All,
            ("tag", Some(tag_id)) => Audience::Tag { tag_id },
            ("openids", _) => Audience::Openids,
            _ => return Err(unreadable("an audience")),
        };
        Ok(Some(Campaign {
            id,
            appid,
            content,
            audience,
            audience_size: u64::try_from(size).unwrap_or(0),
            created_at,
        }))
    }

    /// Every campaign, newest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM wxmass_campaigns ORDER BY created_at DESC, id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .filter_map(|id| self.campaign(id).transpose())
            .collect()
    }

    /// Records a campaign, the files it sends (by content) and its batches,
    /// in one transaction: all of it, or (on any error, including one from
    /// `batches`) nothing.
    pub fn plan(
        &mut self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut dyn Iterator<Item = Result<PlannedBatch>>,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO wxmass_campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                campaign.id,
                campaign.appid,
                campaign.content.to_json(),
                campaign.audience.kind(),
                campaign.audience.tag_id(),
                i64::try_from(campaign.audience_size).unwrap_or(i64::MAX),
                campaign.created_at
            ],
        )?;
        {
            let mut blob =
                tx.prepare("INSERT OR IGNORE INTO wxmass_blobs (sha256, data) VALUES (?1, ?2)")?;
            for (sha256, data) in files.iter() {
                blob.execute(params![sha256, data])?;
            }
            let mut insert = tx.prepare(
                "INSERT INTO wxmass_batches (campaign, idx, clientmsgid, size, state, updated_at, openids)
                 VALUES (?1, ?2, ?3, ?4, 'planned', ?5, ?6)",
            )?;
            for (index, batch) in batches.enumerate() {
                let batch = batch?;
                let encoded = (!batch.openids.is_empty()).then(|| openids::encode(&batch.openids));
                insert.execute(params![
                    campaign.id,
                    index as u32,
                    batch.clientmsgid,
                    batch.openids.len() as i64,
                    campaign.created_at,
                    encoded
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// A campaign's batches, in order.
    pub fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        // Reports live in `pushes` alone and are joined here, so a report
        // that arrives before its batch is marked submitted still shows.
        let mut stmt = self.conn.prepare_cached(
            "SELECT b.idx, b.clientmsgid, b.size, b.state, b.msg_id, b.status,
                    p.status, p.total_count, p.filter_count, p.sent_count, p.error_count, p.check_state, p.article_urls,
                    b.sent_by, b.takeovers, b.msg_data_id, b.submitted_at
             FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
             LEFT JOIN wxmass_pushes p ON p.appid = c.appid AND p.msg_id = b.msg_id
             WHERE b.campaign = ?1 ORDER BY b.idx",
        )?;
        let rows = stmt.query_map(params![campaign], |r| {
            let report = match r.get::<_, Option<String>>(6)? {
                None => None,
                Some(status) => Some(Report {
                    status,
                    total_count: r.get(7)?,
                    filter_count: r.get(8)?,
                    sent_count: r.get(9)?,
                    error_count: r.get(10)?,
                    check_state: r.get(11)?,
                    article_urls: serde_json::from_str(&r.get::<_, String>(12)?)
                        .unwrap_or_default(),
                }),
            };
            let state: String = r.get(3)?;
            Ok(Batch {
                index: r.get(0)?,
                clientmsgid: r.get(1)?,
                size: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                // Only this code writes states; an unknown one is not
                // taken for sent.
                state: BatchState::parse(&state).unwrap_or(BatchState::Submitting),
                msg_id: r.get(4)?,
                status: r.get(5)?,
                report,
                sent_by: r.get(13)?,
                takeovers: r.get(14)?,
                msg_data_id: r.get(15)?,
                submitted_at: r.get(16)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A batch's openids, in order (none for every follower or a tag).
    pub fn openids(&self, campaign: &str, index: u32) -> Result<Vec<String>> {
        let blob = self.packed_openids(campaign, index)?;
        openids::decode_batch(blob.as_deref(), campaign, index)
    }

    /// A batch's openids as stored, to be decoded with
    /// [`openids::decode_batch`] by the caller, after the journal's lock.
    pub fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT openids FROM wxmass_batches WHERE campaign = ?1 AND idx = ?2",
                params![campaign, index],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Calls `f` with every openid of `appid`'s openid-list campaigns, other
    /// than `except`, that had a batch submitted at or after `since`: once
    /// per campaign and follower (a campaign's list has no repeats).
    pub fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT b.campaign, b.idx, b.openids FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
             WHERE c.appid = ?1 AND c.audience_kind = 'openids' AND c.id != ?3 AND b.openids IS NOT NULL
               AND c.id IN (SELECT campaign FROM wxmass_batches WHERE submitted_at >= ?2)",
        )?;
        let mut rows = stmt.query(params![appid, since, except])?;
        while let Some(row) = rows.next()? {
            let (campaign, index, blob): (String, u32, Vec<u8>) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let list = openids::decode(&blob).ok_or_else(|| Error::Store {
                advice: format!(
                    "batch {} of campaign {campaign:?} holds openids this build cannot read",
                    index + 1
                ),
                source: None,
            })?;
            list.iter().for_each(|o| f(o));
        }
        Ok(())
    }

    /// Claims up to `max` batches of `campaign` for `worker` until
    /// `now + ttl`, marking planned ones `submitting`, in one transaction
    /// (one fsync) before any of them is sent. Claimable: not submitted
    /// (with `unnamed`: submitted without WeChat naming the job, to send
    /// again and learn it, while WeChat's clientmsgid dedup still answers
    /// for it: see [`crate::spec::NAME_BY_RESENDING_WITHIN`]), of a
    /// prepared campaign, and leased by nobody,
    /// by `worker` itself, or by a worker whose lease ran out.
    pub fn claim(
        &mut self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
        now: i64,
    ) -> Result<Vec<crate::spec::Claim>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(u32, String, String, Option<String>)> = tx
            .prepare_cached(&format!(
                "SELECT b.idx, b.clientmsgid, b.state, b.lease_owner FROM wxmass_batches b
                 JOIN wxmass_campaigns c ON c.id = b.campaign
                 WHERE b.campaign = ?1 AND c.message IS NOT NULL
                   AND CASE WHEN ?5 THEN b.state = 'submitted' AND b.msg_id IS NULL
                                 AND coalesce(b.submitted_at, 0) >= ?3 - {within}
                            ELSE b.state != 'submitted' END
                   AND (b.lease_owner IS NULL OR b.lease_owner = ?2 OR b.lease_expires_at < ?3)
                 ORDER BY b.idx LIMIT ?4",
                within = crate::spec::NAME_BY_RESENDING_WITHIN
            ))?
            .query_map(params![campaign, worker, now, max as i64, unnamed], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut claims = Vec::with_capacity(rows.len());
        {
            let mut update = tx.prepare_cached(
                "UPDATE wxmass_batches SET lease_owner = ?3, lease_expires_at = ?4, updated_at = ?5,
                 state = CASE WHEN state = 'planned' THEN 'submitting' ELSE state END,
                 takeovers = takeovers + ?6 WHERE campaign = ?1 AND idx = ?2",
            )?;
            for (index, clientmsgid, state, owner) in rows {
                let takeover =
                    state == "submitting" && owner.as_deref().is_some_and(|o| o != worker);
                update.execute(params![
                    campaign,
                    index,
                    worker,
                    now + ttl.as_secs() as i64,
                    now,
                    i64::from(takeover)
                ])?;
                claims.push(crate::spec::Claim {
                    campaign: campaign.to_owned(),
                    index,
                    clientmsgid,
                    takeover,
                });
            }
        }
        tx.commit()?;
        Ok(claims)
    }

    /// Records claimed batches as submitted (with WeChat's job, when it
    /// named it) and releases them, in one transaction. A batch whose
    /// lease `worker` no longer holds is left to the worker that took it
    /// over (it resends with the same clientmsgid and records the job).
    /// Returns how many were recorded.
    pub fn record_submitted(
        &mut self,
        worker: &str,
        done: &[(crate::spec::Claim, Option<i64>, Option<i64>)],
        now: i64,
    ) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let mut recorded = 0;
        {
            let mut update = tx.prepare_cached(
                "UPDATE wxmass_batches SET state = 'submitted', msg_id = COALESCE(?3, msg_id),
                 msg_data_id = COALESCE(?4, msg_data_id), submitted_at = COALESCE(submitted_at, ?6),
                 updated_at = ?6, sent_by = ?5, lease_owner = NULL, lease_expires_at = NULL
                 WHERE campaign = ?1 AND idx = ?2 AND lease_owner = ?5",
            )?;
            for (claim, msg_id, data_id) in done {
                recorded += update.execute(params![
                    claim.campaign,
                    claim.index,
                    msg_id,
                    data_id,
                    worker,
                    now
                ])?;
            }
        }
        tx.commit()?;
        Ok(recorded)
    }

    /// Gives claimed batches back unsent (their state stays, so a
    /// `submitting` one is resent with its clientmsgid by whoever claims
    /// it next).
    pub fn release(&self, worker: &str, claims: &[crate::spec::Claim]) -> Result<()> {
        let mut update = self.conn.prepare_cached(
            "UPDATE wxmass_batches SET lease_owner = NULL, lease_expires_at = NULL
             WHERE campaign = ?1 AND idx = ?2 AND lease_owner = ?3",
        )?;
        for claim in claims {
            update.execute(params![claim.campaign, claim.index, worker])?;
        }
        Ok(())
    }

    /// The campaign's prepared message (JSON), once its uploads are done.
    pub fn prepared(&self, campaign: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT message FROM wxmass_campaigns WHERE id = ?1",
                params![campaign],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Keeps the prepared message; the first one kept stays (every worker
    /// then sends the same media ids).
    pub fn set_prepared(&self, campaign: &str, message: &str) -> Result<String> {
        self.conn.execute(
            "UPDATE wxmass_campaigns SET message = ?2 WHERE id = ?1 AND message IS NULL",
            params![campaign, message],
        )?;
        Ok(self
            .prepared(campaign)?
            .unwrap_or_else(|| message.to_owned()))
    }

    /// Takes up to `want` of `appid`'s `limit` mass sends in the minute of
    /// `now`; returns how many it got (0: wait for the next minute).
    pub fn take_send_slots(&mut self, appid: &str, want: u32, limit: u32, now: i64) -> Result<u32> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let minute = now.div_euclid(60);
        let used: u32 = tx
            .query_row(
                "SELECT used FROM wxmass_pace WHERE appid = ?1 AND minute = ?2",
                params![appid, minute],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let granted = want.min(limit.saturating_sub(used));
        if granted > 0 {
            tx.execute(
                "INSERT INTO wxmass_pace (appid, minute, used) VALUES (?1, ?2, ?3)
                 ON CONFLICT (appid, minute) DO UPDATE SET used = excluded.used",
                params![appid, minute, used + granted],
            )?;
            tx.execute(
                "DELETE FROM wxmass_pace WHERE minute < ?1",
                params![minute - 1],
            )?;
        }
        tx.commit()?;
        Ok(granted)
    }

    /// Batches of `campaign` not yet recorded submitted.
    pub fn unsent(&self, campaign: &str) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(*) FROM wxmass_batches WHERE campaign = ?1 AND state != 'submitted'",
            params![campaign],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Records the status of the job `msg_id` of `appid`, wherever it is.
    pub fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str, at: i64) -> Result<()> {
        self.conn.execute(
            "UPDATE wxmass_batches SET status = ?3, updated_at = ?4 WHERE msg_id = ?2
             AND campaign IN (SELECT id FROM wxmass_campaigns WHERE appid = ?1)",
            params![appid, msg_id, status, at],
        )?;
        Ok(())
    }

    /// Records batches' job statuses (`mass/get`'s words), all in one
    /// transaction: one fsync however many jobs ended together.
    pub fn set_statuses(
        &mut self,
        campaign: &str,
        statuses: &[(u32, &str)],
        at: i64,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut update = tx.prepare_cached(
                "UPDATE wxmass_batches SET status = ?3, updated_at = ?4 WHERE campaign = ?1 AND idx = ?2",
            )?;
            for (index, status) in statuses {
                update.execute(params![campaign, index, status, at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Records what the receiver accepted for `appid`, all in one
    /// transaction (one fsync for the group): each request for the replay
    /// guard, each report once per (appid, msg_id). A report for a job
    /// recorded before is a duplicate when it says the same, and a
    /// conflict, kept apart, when it does not.
    pub fn record_received(
        &mut self,
        appid: &str,
        received: &[(Option<JobReport>, SeenRequest)],
        at: i64,
    ) -> Result<Vec<Recorded>> {
        let tx = self.conn.transaction()?;
        let mut outcomes = Vec::with_capacity(received.len());
        {
            let mut seen = tx.prepare_cached(
                "INSERT OR IGNORE INTO wxmass_seen_requests (timestamp, nonce, content, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO wxmass_pushes (appid, msg_id, status, total_count, filter_count, sent_count,
                 error_count, check_state, article_urls, event, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut known = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                 WHERE b.msg_id = ?2 AND c.appid = ?1)",
            )?;
            let mut earlier = tx.prepare_cached(
                "SELECT event FROM wxmass_pushes WHERE appid = ?1 AND msg_id = ?2",
            )?;
            let mut conflict = tx.prepare_cached(
                "INSERT INTO wxmass_push_conflicts (appid, msg_id, event, received_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (job, q) in received {
                seen.execute(params![q.timestamp, q.nonce, &q.content[..], q.expires_at])?;
                let Some(job) = job else {
                    outcomes.push(Recorded::NoReport);
                    continue;
                };
                let r = &job.report;
                let urls = serde_json::to_string(&r.article_urls).unwrap_or_default();
                let inserted = insert.execute(params![
                    appid,
                    job.msg_id,
                    r.status,
                    r.total_count,
                    r.filter_count,
                    r.sent_count,
                    r.error_count,
                    r.check_state,
                    urls,
                    job.event,
                    at
                ])?;
                outcomes.push(if inserted == 1 {
                    Recorded::New {
                        known: known.query_row(params![appid, job.msg_id], |row| row.get(0))?,
                    }
                } else {
                    let first: String =
                        earlier.query_row(params![appid, job.msg_id], |row| row.get(0))?;
                    if first == job.event {
                        Recorded::Duplicate
                    } else {
                        conflict.execute(params![appid, job.msg_id, job.event, at])?;
                        Recorded::Conflict
                    }
                });
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// The callback requests whose timestamp window is still open at `now`.
    pub fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>> {
        let mut stmt = self.conn.prepare(
            "SELECT timestamp, nonce, content, expires_at FROM wxmass_seen_requests WHERE expires_at >= ?1",
        )?;
        let rows = stmt.query_map(params![now], |r| {
            let content: Vec<u8> = r.get(2)?;
            Ok(SeenRequest {
                timestamp: r.get(0)?,
                nonce: r.get(1)?,
                content: content.try_into().unwrap_or([0; 20]),
                expires_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets requests whose window closed before `now`.
    pub fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM wxmass_seen_requests WHERE expires_at < ?1",
            params![now],
        )?)
    }

    /// Reports that no batch knows (yet), and reports that contradict the
    /// first one recorded for their job.
    pub fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.appid, p.msg_id, 'unknown job', p.status, p.sent_count, p.received_at FROM wxmass_pushes p
             WHERE NOT EXISTS (SELECT 1 FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                               WHERE b.msg_id = p.msg_id AND c.appid = p.appid)
             UNION ALL
             SELECT appid, msg_id, 'conflict', json_extract(event, '$.status'),
                    json_extract(event, '$.sent_count'), received_at FROM wxmass_push_conflicts
             ORDER BY 6, 2",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(2)?;
            Ok(StrayReport {
                appid: r.get(0)?,
                msg_id: r.get(1)?,
                kind: if kind == "conflict" {
                    "conflict"
                } else {
                    "unknown job"
                },
                status: r.get(3)?,
                sent_count: r.get(4)?,
                received_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Reports received so far.
    pub fn push_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM wxmass_pushes", [], |r| r.get(0))?)
    }

    /// Campaigns of `appid` to audiences of `kind` (`all`, `tag` or
    /// `openids`; with `tag_id`, that tag only) that had a batch submitted
    /// at or after `since` (Unix seconds).
    pub fn campaigns_sent_since(
        &self,
        appid: &str,
        kind: &str,
        tag_id: Option<u32>,
        since: i64,
    ) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT COUNT(DISTINCT c.id) FROM wxmass_campaigns c JOIN wxmass_batches b ON b.campaign = c.id
             WHERE c.appid = ?1 AND c.audience_kind = ?2 AND (?3 IS NULL OR c.tag_id = ?3)
               AND b.submitted_at >= ?4",
            params![appid, kind, tag_id, since],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A media id uploaded for these bytes after `uploaded_after` (Unix
    /// seconds; temporary media expire).
    pub fn media(
        &self,
        content_hash: &str,
        kind: &str,
        uploaded_after: i64,
    ) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT media_id FROM wxmass_media WHERE content_hash = ?1 AND kind = ?2 AND uploaded_at > ?3",
                params![content_hash, kind, uploaded_after],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records an upload as soon as it exists.
    pub fn record_media(
        &self,
        content_hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO wxmass_media (content_hash, kind, media_id, url, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![content_hash, kind, media_id, url, at],
        )?;
        Ok(())
    }

    /// See [`Journal::forget_media`].
    pub fn forget_media(&self, kind: &str, media_id: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM wxmass_media WHERE kind = ?1 AND media_id = ?2",
            params![kind, media_id],
        )?;
        Ok(())
    }

    /// The bytes of a file a campaign sends: kept in the journal when the
    /// campaign was planned; for campaigns planned by the first releases
    /// (which kept only the path), read from the path if they are still
    /// the bytes planned.
    pub fn file(&self, file: &FileRef) -> Result<Vec<u8>> {
        if let Some(data) = self.blob(&file.sha256)? {
            return Ok(data);
        }
        file.read_as_planned()
    }

    /// Keeps `data` under its `sha256` ahead of any campaign (the server's
    /// uploads), once.
    pub fn store_blob(&self, sha256: &str, data: &[u8]) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO wxmass_blobs (sha256, data) VALUES (?1, ?2)",
            params![sha256, data],
        )?;
        Ok(())
    }

    /// The bytes kept for a file when its campaign was planned (or
    /// uploaded to the server).
    pub fn blob(&self, sha256: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT data FROM wxmass_blobs WHERE sha256 = ?1",
                params![sha256],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// Puts the journal in WAL mode (the receiver reads while a send writes).
/// The switch takes an exclusive lock without calling SQLite's busy
/// handler, so processes opening a new journal at once are told "database
/// is locked" at once: they try again until [`BUSY_PATIENCE`] is spent.
/// Once the file is in WAL mode the switch is a no-op.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = std::time::Instant::now() + BUSY_PATIENCE;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < give_up =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other.map(drop),
        }
    }
}

/// Creates the journal file with mode 0600 if it does not exist. Never
/// replaces or opens one that does (another process may have made it a
/// moment ago and be writing to it; it may be read-only).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// Tightens the journal and its -wal and -shm files to 0600 (they name
/// followers), or says how to.
fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        for file in [path.to_path_buf(), wal.into(), shm.into()] {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 == 0 {
                continue;
            }
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| Error::Store {
                    advice: format!(
                        "{} is readable by others and cannot be made private ({e}): run `chmod 600 {}`",
                        file.display(),
                        file.display()
                    ),
                    source: None,
                },
            )?;
        }
    }
    Ok(())
}

/// Says what is wrong with a journal SQLite could not open or upgrade, and
/// what to do, without ever advising to throw the record away.
fn explain_open_error(path: &Path, error: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let shown = path.display();
    let advice = match error.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => format!(
            "the journal {shown} is read-only (a read-only filesystem, or a file you may not write): mount it writable or fix its permissions; it is intact"
        ),
        Some(ErrorCode::PermissionDenied) | Some(ErrorCode::CannotOpen) => format!(
            "cannot open the journal {shown}: check that you may read and write it and its folder"
        ),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => format!(
            "the journal {shown} is locked by another wxmass process: wait for it to finish, then retry"
        ),
        Some(ErrorCode::NotADatabase) => format!(
            "{shown} is not a wxmass journal (not an SQLite database): pass another --journal; this file was not changed"
        ),
        Some(ErrorCode::DatabaseCorrupt) => format!(
            "the journal {shown} is damaged: keep a copy, then try `sqlite3 {shown} .recover`; do not delete it, it records what was sent"
        ),
        Some(ErrorCode::DiskFull) => {
            format!("no space left for the journal {shown}: free some space, then retry")
        }
        _ => format!("cannot use the journal {shown}"),
    };
    Error::Store {
        advice,
        source: Some(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(id: &str) -> Campaign {
        Campaign {
            id: id.into(),
            appid: "wx".into(),
            content: Content::Text { text: "hi".into() },
            audience: Audience::Openids,
            audience_size: 3,
            created_at: 1,
        }
    }

    fn batch(n: u32, openids: &[&str]) -> Result<PlannedBatch> {
        Ok(PlannedBatch {
            clientmsgid: format!("m{n}"),
            openids: openids.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[test]
    fn a_plan_is_recorded_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("dir");
        let mut journal = SqliteJournal::open(&dir.path().join("j.db")).expect("open");
        let mut failing = [
            batch(0, &["a", "b"]),
            Err(Error::Invalid("the list broke".into())),
        ]
        .into_iter();
        assert!(
            journal
                .plan(&campaign("c"), &Files::default(), &mut failing)
                .is_err()
        );
        assert!(journal.campaign("c").expect("query").is_none());
        let mut ok = [batch(0, &["a", "b"]), batch(1, &["c", "d"])].into_iter();
        let mut files = Files::default();
        let file = files.add("f.png", b"bytes".to_vec());
        journal.plan(&campaign("c"), &files, &mut ok).expect("plan");
        assert_eq!(journal.openids("c", 1).expect("openids"), ["c", "d"]);
        let batches = journal.batches("c").expect("batches");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].state, BatchState::Planned);
        assert_eq!(journal.file(&file).expect("file"), b"bytes");
        assert_eq!(journal.campaign("c").expect("c"), Some(campaign("c")));
    }

    /// Processes opening one new journal at once all succeed, and it is
    /// made once.
    #[test]
    fn many_open_a_new_journal_at_once() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join(format!("j{round}.db"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
            let threads: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        SqliteJournal::open(&path).map(drop)
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("thread").expect("open");
            }
        }
    }

    #[test]
    fn a_newer_journal_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("new.db");
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("newer");
        let error = SqliteJournal::open(&path).err().expect("refused");
        let shown = error.to_string();
        assert!(shown.contains("newer wxmass"), "{shown}");
        assert!(
            !shown.contains("move"),
            "never advise moving it aside: {shown}"
        );
    }
}
