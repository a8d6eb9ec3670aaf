//! What the push receiver accepted: reports and the replay guard, in SQLite.

use async_trait::async_trait;
use rusqlite::params;

use super::SqliteStore;
use crate::beijing;
use crate::error::Result;
use crate::spec::*;
use crate::store::*;

#[async_trait]
impl PushStore for SqliteStore {
    /// Records what the receiver accepted for `appid`, all in one
    /// transaction (one fsync for the group): each request for the replay
    /// guard, each report once per (appid, msg_id). A report for a job
    /// recorded before is a duplicate when it says the same, and a
    /// conflict, kept apart, when it does not.
    async fn record_received(
        &self,
        received: &[(&str, Option<JobReport>, SeenRequest)],
    ) -> Result<Vec<Recorded>> {
        let mut conn = self.conn();
        let at = beijing::now();
        let tx = conn.transaction()?;
        let mut outcomes = Vec::with_capacity(received.len());
        {
            let mut seen = tx.prepare_cached(
                "INSERT OR IGNORE INTO wxmass_seen_requests (timestamp, nonce, content, expires_at, appid) VALUES (?1, ?2, ?3, ?4, ?5)",
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
            for &(appid, ref job, ref q) in received {
                seen.execute(params![
                    q.timestamp,
                    q.nonce,
                    &q.content[..],
                    q.expires_at,
                    appid
                ])?;
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
    async fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>> {
        self.seen_requests_of(None, now).await
    }

    async fn seen_requests_of(&self, appid: Option<&str>, now: i64) -> Result<Vec<SeenRequest>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT timestamp, nonce, content, expires_at FROM wxmass_seen_requests
             WHERE expires_at >= ?1 AND (?2 IS NULL OR appid = ?2 OR appid IS NULL)",
        )?;
        let rows = stmt.query_map(params![now, appid], |r| {
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
    async fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        let conn = self.conn();
        Ok(conn.execute(
            "DELETE FROM wxmass_seen_requests WHERE expires_at < ?1",
            params![now],
        )?)
    }

    /// Reports that no batch knows (yet), and reports that contradict the
    /// first one recorded for their job.
    async fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
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
    async fn push_count(&self) -> Result<i64> {
        let conn = self.conn();
        Ok(conn.query_row("SELECT COUNT(*) FROM wxmass_pushes", [], |r| r.get(0))?)
    }
}
