//! Batches: claims under leases, what was sent, the pace, in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use crate::beijing;
use crate::error::Result;
use crate::spec::*;
use crate::store::rows::count;
use crate::store::*;

#[async_trait]
impl BatchStore for SqliteStore {
    /// A campaign's batches, in order.
    async fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        let batches = read_batches(&self.conn(), "b.campaign = ?1", campaign)?;
        Ok(batches.into_iter().map(|(_, b)| b).collect())
    }

    async fn batches_of_parts(&self, whole: &str) -> Result<Vec<(String, Batch)>> {
        read_batches(&self.conn(), "c.part_of = ?1", whole)
    }

    /// A batch's openids as stored, to be decoded with
    /// [`openids::decode_batch`] by the caller, after the journal's lock.
    async fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT openids FROM wxmass_batches WHERE campaign = ?1 AND idx = ?2",
                params![campaign, index],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    async fn claim(
        &self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
    ) -> Result<Vec<Claim>> {
        self.claim_at(campaign, worker, max, ttl, unnamed, beijing::now())
    }

    async fn record_submitted(
        &self,
        worker: &str,
        done: &[(Claim, Option<i64>, Option<i64>)],
    ) -> Result<usize> {
        self.record_submitted_at(worker, done, beijing::now())
    }

    /// Gives claimed batches back unsent (their state stays, so a
    /// `submitting` one is resent with its clientmsgid by whoever claims
    /// it next).
    async fn release(&self, worker: &str, claims: &[Claim]) -> Result<()> {
        let conn = self.conn();
        let mut update = conn.prepare_cached(
            "UPDATE wxmass_batches SET lease_owner = NULL, lease_expires_at = NULL
             WHERE campaign = ?1 AND idx = ?2 AND lease_owner = ?3",
        )?;
        for claim in claims {
            update.execute(params![claim.campaign, claim.index, worker])?;
        }
        Ok(())
    }

    /// Takes up to `want` of `appid`'s `limit` mass sends in the minute of
    /// `now`; returns how many it got (0: wait for the next minute).
    async fn take_send_slots(&self, appid: &str, want: u32, limit: u32) -> Result<u32> {
        let mut conn = self.conn();
        let now = beijing::now();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
    async fn unsent(&self, campaign: &str) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COUNT(*) FROM wxmass_batches WHERE campaign = ?1 AND state != 'submitted'",
            params![campaign],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn unnamed(&self, campaign: &str) -> Result<Unnamed> {
        let now = beijing::now();
        let (n, first): (i64, Option<i64>) = self.conn().query_row(
            &format!(
                "SELECT COUNT(*), MIN(coalesce(last_sent_at, submitted_at, 0)) FROM wxmass_batches
                 WHERE campaign = ?1 AND state = 'submitted' AND msg_id IS NULL
                   AND coalesce(submitted_at, 0) >= ?2 - {within}",
                within = crate::spec::NAME_BY_RESENDING_WITHIN
            ),
            params![campaign, now],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let ready_at = first.unwrap_or(now) + crate::spec::NAME_AFTER;
        Ok(Unnamed {
            count: count(n),
            ready_in: Duration::from_secs(u64::try_from(ready_at - now).unwrap_or(0)),
        })
    }

    /// Records the status of the job `msg_id` of `appid`, wherever it is.
    async fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()> {
        let conn = self.conn();
        let at = beijing::now();
        conn.execute(
            "UPDATE wxmass_batches SET status = ?3, updated_at = ?4 WHERE msg_id = ?2
             AND campaign IN (SELECT id FROM wxmass_campaigns WHERE appid = ?1)",
            params![appid, msg_id, status, at],
        )?;
        Ok(())
    }

    /// Records batches' job statuses (`mass/get`'s words), all in one
    /// transaction: one fsync however many jobs ended together.
    async fn set_statuses(&self, campaign: &str, statuses: &[(u32, &str)]) -> Result<()> {
        let mut conn = self.conn();
        let at = beijing::now();
        let tx = conn.transaction()?;
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
}

/// The lease steps at a time the caller gives (the trait's take the
/// clock's): tests move time past a lease or WeChat's 20 hours this way.
impl SqliteStore {
    /// Claims up to `max` batches of `campaign` for `worker` until
    /// `now + ttl`, marking planned ones `submitting`, in one transaction
    /// (one fsync) before any of them is sent. Claimable: not submitted
    /// (with `unnamed`: submitted without WeChat naming the job, to send
    /// again and learn it, while WeChat's clientmsgid dedup still answers
    /// for it: see [`crate::spec::NAME_BY_RESENDING_WITHIN`]), of a
    /// prepared campaign, and leased by nobody,
    /// by `worker` itself, or by a worker whose lease ran out.
    pub fn claim_at(
        &self,
        campaign: &str,
        worker: &str,
        max: usize,
        ttl: Duration,
        unnamed: bool,
        now: i64,
    ) -> Result<Vec<Claim>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let rows: Vec<(u32, String, String, Option<String>)> = tx
            .prepare_cached(&format!(
                "SELECT b.idx, b.clientmsgid, b.state, b.lease_owner FROM wxmass_batches b
                 JOIN wxmass_campaigns c ON c.id = b.campaign
                 WHERE b.campaign = ?1 AND c.message IS NOT NULL
                   AND CASE WHEN ?5 THEN b.state = 'submitted' AND b.msg_id IS NULL
                                 AND coalesce(b.submitted_at, 0) >= ?3 - {within}
                                 AND coalesce(b.last_sent_at, b.submitted_at, 0) <= ?3 - {after}
                            ELSE b.state != 'submitted' END
                   AND (b.lease_owner IS NULL OR b.lease_owner = ?2 OR b.lease_expires_at < ?3)
                 ORDER BY b.idx LIMIT ?4",
                within = crate::spec::NAME_BY_RESENDING_WITHIN,
                after = crate::spec::NAME_AFTER,
            ))?
            .query_map(params![campaign, worker, now, max as i64, unnamed], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let mut claims = Vec::with_capacity(rows.len());
        {
            let mut update = tx.prepare_cached(
                "UPDATE wxmass_batches SET lease_owner = ?3, lease_expires_at = ?4, updated_at = ?5,
                 last_sent_at = ?5,
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
                claims.push(Claim {
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
    pub fn record_submitted_at(
        &self,
        worker: &str,
        done: &[(Claim, Option<i64>, Option<i64>)],
        now: i64,
    ) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut recorded = 0;
        {
            let mut update = tx.prepare_cached(
                "UPDATE wxmass_batches SET state = 'submitted', msg_id = COALESCE(?3, msg_id),
                 msg_data_id = COALESCE(?4, msg_data_id), submitted_at = COALESCE(submitted_at, ?6),
                 updated_at = ?6, sent_by = COALESCE(sent_by, ?5), lease_owner = NULL, lease_expires_at = NULL
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
}

/// The batches `condition` selects (`?1`: `key`), each with its report and
/// its campaign, by campaign and index.
fn read_batches(
    conn: &rusqlite::Connection,
    condition: &str,
    key: &str,
) -> Result<Vec<(String, Batch)>> {
    // Reports live in `pushes` alone and are joined here, so a report
    // that arrives before its batch is marked submitted still shows.
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT b.idx, b.clientmsgid, b.size, b.state, b.msg_id, b.status,
                p.status, p.total_count, p.filter_count, p.sent_count, p.error_count, p.check_state, p.article_urls,
                b.sent_by, b.takeovers, b.msg_data_id, b.submitted_at, b.campaign
         FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
         LEFT JOIN wxmass_pushes p ON p.appid = c.appid AND p.msg_id = b.msg_id
         WHERE {condition} ORDER BY b.campaign, b.idx"
    ))?;
    let rows = stmt.query_map(params![key], |r| {
        let report = match r.get::<_, Option<String>>(6)? {
            None => None,
            Some(status) => Some(Report {
                status,
                total_count: r.get(7)?,
                filter_count: r.get(8)?,
                sent_count: r.get(9)?,
                error_count: r.get(10)?,
                check_state: r.get(11)?,
                article_urls: serde_json::from_str(&r.get::<_, String>(12)?).unwrap_or_default(),
            }),
        };
        let state: String = r.get(3)?;
        let batch = Batch {
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
        };
        Ok((r.get(17)?, batch))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
