//! What the push receiver accepted: reports and the replay guard, in PostgreSQL.

use async_trait::async_trait;

use super::{DB_NOW, PgStore};
use crate::error::Result;
use crate::spec::*;
use crate::store::*;

#[async_trait]
impl PushStore for PgStore {
    /// As on SQLite: the same, in one
    /// transaction, stamped with the database's clock.
    async fn record_received(
        &self,
        received: &[(&str, Option<JobReport>, SeenRequest)],
    ) -> Result<Vec<Recorded>> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let seen = tx
                .prepare(
                    "INSERT INTO wxmass_seen_requests (timestamp, nonce, content, expires_at, appid)
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
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
            for &(appid, ref job, ref q) in received {
                let content = &q.content[..];
                tx.execute(&seen, &[&q.timestamp, &q.nonce, &content, &q.expires_at, &appid])
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
    async fn seen_requests(&self, now: i64) -> Result<Vec<SeenRequest>> {
        self.seen_requests_of(None, now).await
    }

    async fn seen_requests_of(&self, appid: Option<&str>, now: i64) -> Result<Vec<SeenRequest>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT timestamp, nonce, content, expires_at FROM wxmass_seen_requests
                         WHERE expires_at >= $1 AND ($2::TEXT IS NULL OR appid = $2 OR appid IS NULL)",
                    )
                    .await?,
                    &[&now, &appid],
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

    async fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_seen_requests WHERE expires_at < $1")
                        .await?,
                    &[&now],
                )
                .await
            })
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
    async fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached("SELECT p.appid, p.msg_id, 'unknown job', p.status, p.sent_count, p.received_at FROM wxmass_pushes p
                     WHERE NOT EXISTS (SELECT 1 FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                                       WHERE b.msg_id = p.msg_id AND c.appid = p.appid)
                     UNION ALL
                     SELECT appid, msg_id, 'conflict', coalesce(event::jsonb ->> 'status', ''),
                            coalesce((event::jsonb ->> 'sent_count')::bigint, 0), received_at
                     FROM wxmass_push_conflicts
                     ORDER BY 6, 2").await?,
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
    async fn push_count(&self) -> Result<i64> {
        Ok(self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached("SELECT COUNT(*) FROM wxmass_pushes")
                        .await?,
                    &[],
                )
                .await
            })
            .await?
            .get(0))
    }
}
