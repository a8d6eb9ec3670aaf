//! Batches: claims under leases, what was sent, the pace, in PostgreSQL.

use async_trait::async_trait;

use super::{DB_NOW, PgStore};
use crate::error::Result;
use crate::spec::*;
use crate::store::rows::count;
use crate::store::*;

#[async_trait]
impl BatchStore for PgStore {
    /// A campaign's batches, in order, with their reports.
    async fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        let batches = self.read_batches("b.campaign = $1", campaign).await?;
        Ok(batches.into_iter().map(|(_, b)| b).collect())
    }

    async fn batches_of_parts(&self, whole: &str) -> Result<Vec<(String, Batch)>> {
        self.read_batches("c.part_of = $1", whole).await
    }

    async fn packed_openids(&self, campaign: &str, index: u32) -> Result<Option<Vec<u8>>> {
        let idx = index as i32;
        Ok(self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "SELECT openids FROM wxmass_batches WHERE campaign = $1 AND idx = $2",
                    )
                    .await?,
                    &[&campaign, &idx],
                )
                .await
            })
            .await?
            .and_then(|r| r.get(0)))
    }

    /// As on SQLite: one statement.
    async fn set_statuses(&self, campaign: &str, statuses: &[(u32, &str)]) -> Result<()> {
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

    /// As on SQLite: the same, with the database's
    /// clock, and rows other workers are claiming skipped (`SKIP LOCKED`)
    /// instead of waited for.
    async fn claim(
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
                                             AND coalesce(b.last_sent_at, b.submitted_at, 0) <= {DB_NOW} - {after}
                                        ELSE b.state != 'submitted' END
                               AND (b.lease_owner IS NULL OR b.lease_owner = $2 OR b.lease_expires_at < {DB_NOW})
                             ORDER BY b.idx LIMIT $3 FOR UPDATE OF b SKIP LOCKED)
                         UPDATE wxmass_batches b SET lease_owner = $2, lease_expires_at = {DB_NOW} + $4,
                             updated_at = {DB_NOW}, last_sent_at = {DB_NOW},
                             state = CASE WHEN b.state = 'planned' THEN 'submitting' ELSE b.state END,
                             takeovers = b.takeovers + CASE WHEN p.old_state = 'submitting'
                                 AND p.old_owner IS NOT NULL AND p.old_owner != $2 THEN 1 ELSE 0 END
                         FROM picked p WHERE b.campaign = p.campaign AND b.idx = p.idx
                         RETURNING b.idx, b.clientmsgid, p.old_state = 'submitting'
                             AND p.old_owner IS NOT NULL AND p.old_owner != $2",
                        within = crate::spec::NAME_BY_RESENDING_WITHIN,
                        after = crate::spec::NAME_AFTER,
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
    async fn record_submitted(
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
                     updated_at = {DB_NOW}, sent_by = COALESCE(sent_by, $5), lease_owner = NULL, lease_expires_at = NULL
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
    async fn release(&self, worker: &str, claims: &[Claim]) -> Result<()> {
        self.with(async |c| {
            for claim in claims {
                let idx = claim.index as i32;
                c.execute(
                    &c.prepare_cached(
                        "UPDATE wxmass_batches SET lease_owner = NULL, lease_expires_at = NULL
                     WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                    )
                    .await?,
                    &[&claim.campaign, &idx, &worker],
                )
                .await?;
            }
            Ok(())
        })
        .await
    }

    /// As on SQLite, counted on the
    /// database's clock for every worker of the account.
    async fn take_send_slots(&self, appid: &str, want: u32, limit: u32) -> Result<u32> {
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
    async fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()> {
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
    async fn unsent(&self, campaign: &str) -> Result<u64> {
        let n: i64 = self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached("SELECT COUNT(*) FROM wxmass_batches WHERE campaign = $1 AND state != 'submitted'").await?,
                    &[&campaign],
                )
                .await
            })
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn unnamed(&self, campaign: &str) -> Result<Unnamed> {
        let row = self
            .with(async |c| {
                c.query_one(
                    &format!(
                        "SELECT COUNT(*), GREATEST(0, coalesce(MIN(coalesce(last_sent_at, submitted_at, 0))
                                + {after} - {DB_NOW}, 0))
                         FROM wxmass_batches
                         WHERE campaign = $1 AND state = 'submitted' AND msg_id IS NULL
                           AND coalesce(submitted_at, 0) >= {DB_NOW} - {within}",
                        after = crate::spec::NAME_AFTER,
                        within = crate::spec::NAME_BY_RESENDING_WITHIN,
                    ),
                    &[&campaign],
                )
                .await
            })
            .await?;
        Ok(Unnamed {
            count: count(row.get(0)),
            ready_in: Duration::from_secs(u64::try_from(row.get::<_, i64>(1)).unwrap_or(0)),
        })
    }
}

impl PgStore {
    /// The batches `condition` selects (`$1`: `key`), each with its report
    /// and its campaign, by campaign and index.
    async fn read_batches(&self, condition: &str, key: &str) -> Result<Vec<(String, Batch)>> {
        let sql = format!(
            "SELECT b.idx, b.clientmsgid, b.size, b.state, b.msg_id, b.status,
                    p.status, p.total_count, p.filter_count, p.sent_count, p.error_count,
                    p.check_state, p.article_urls, b.sent_by, b.takeovers,
                    b.msg_data_id, b.submitted_at, b.campaign
             FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
             LEFT JOIN wxmass_pushes p ON p.appid = c.appid AND p.msg_id = b.msg_id
             WHERE {condition} ORDER BY b.campaign, b.idx"
        );
        let rows = self
            .with(async |c| c.query(&c.prepare_cached(&sql).await?, &[&key]).await)
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
                let batch = Batch {
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
                };
                (r.get(17), batch)
            })
            .collect())
    }
}
