//! Fan-out campaigns' recipients, in chunks under leases, in PostgreSQL.
//! Leases run on the caller's clock (`now`), as the recipients' first
//! attempts do, so that one clock judges both.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::notices::{Records, StateCounts};
use crate::openids;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl RecipientStore for PgStore {
    async fn plan_recipients(
        &self,
        campaign: &Campaign,
        chunks: &mut (dyn Iterator<Item = Result<Vec<String>>> + Send),
    ) -> Result<()> {
        // The chunks come from a file and may fail midway: the transaction
        // is rolled back then.
        let content = campaign.content.to_json();
        let size = i64::try_from(campaign.audience_size).unwrap_or(i64::MAX);
        let tag = campaign.audience.tag_id().map(i64::from);
        let mut failed = None;
        self.with(async |c| {
            let tx = c.transaction().await?;
            let planned = tx
                .execute(
                    &PLAN_CAMPAIGN_SQL.replace('?', "$"),
                    &[
                        &campaign.id,
                        &campaign.appid,
                        &content,
                        &campaign.audience.kind(),
                        &tag,
                        &size,
                        &campaign.created_at,
                    ],
                )
                .await?;
            if planned == 0 {
                failed = Some(taken(&campaign.id));
                return tx.rollback().await;
            }
            let insert = tx
                .prepare(
                    "INSERT INTO wxmass_recipient_chunks
                     (campaign, idx, openids, records, planned, sending, sent, failed, unknown, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, $6)",
                )
                .await?;
            for (index, chunk) in chunks.enumerate() {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        failed = Some(e);
                        return tx.rollback().await;
                    }
                };
                tx.execute(
                    &insert,
                    &[
                        &campaign.id,
                        &(index as i32),
                        &openids::encode(&chunk),
                        &Records::planned(chunk.len()).encode(),
                        &(chunk.len() as i32),
                        &campaign.created_at,
                    ],
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

    /// As on SQLite, with chunks other workers are claiming skipped (`SKIP
    /// LOCKED`) instead of waited for.
    async fn claim_chunk(
        &self,
        campaign: &str,
        worker: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<Option<StoredChunk>> {
        let expires = now + ttl.as_secs() as i64;
        let row = self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "WITH picked AS (
                             SELECT campaign, idx, lease_owner AS old_owner FROM wxmass_recipient_chunks
                             WHERE campaign = $1 AND planned + sending > 0
                               AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < $3)
                             ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED)
                         UPDATE wxmass_recipient_chunks r SET lease_owner = $2, lease_expires_at = $4,
                             updated_at = $3,
                             takeovers = r.takeovers + CASE WHEN p.old_owner IS NOT NULL
                                 AND p.old_owner != $2 THEN 1 ELSE 0 END
                         FROM picked p WHERE r.campaign = p.campaign AND r.idx = p.idx
                         RETURNING r.idx, r.openids, r.records,
                             coalesce(p.old_owner IS NOT NULL AND p.old_owner != $2, false)",
                    )
                    .await?,
                    &[&campaign, &worker, &now, &expires],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| StoredChunk {
            index: r.get::<_, i32>(0) as u32,
            openids: r.get(1),
            records: r.get(2),
            takeover: r.get(3),
        }))
    }

    async fn write_records(
        &self,
        campaign: &str,
        index: u32,
        worker: &str,
        records: &[u8],
        counts: &StateCounts,
        ttl: Duration,
        now: i64,
    ) -> Result<bool> {
        let idx = index as i32;
        let [a, b, c2, d, e] = counts.0.map(|n| n as i32);
        let expires = now + ttl.as_secs() as i64;
        let written = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached(
                        "UPDATE wxmass_recipient_chunks SET records = $4, planned = $5, sending = $6,
                         sent = $7, failed = $8, unknown = $9, lease_expires_at = $10, updated_at = $11
                         WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                    )
                    .await?,
                    &[&campaign, &idx, &worker, &records, &a, &b, &c2, &d, &e, &expires, &now],
                )
                .await
            })
            .await?;
        Ok(written == 1)
    }

    async fn release_chunk(&self, campaign: &str, index: u32, worker: &str) -> Result<()> {
        let idx = index as i32;
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "UPDATE wxmass_recipient_chunks SET lease_owner = NULL, lease_expires_at = NULL
                     WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                )
                .await?,
                &[&campaign, &idx, &worker],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn chunk_page(
        &self,
        campaign: &str,
        after: Option<u32>,
        limit: u32,
    ) -> Result<Vec<StoredChunk>> {
        let after = after.map_or(-1, |a| a as i32);
        let limit = i64::from(limit);
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT idx, openids, records FROM wxmass_recipient_chunks
                         WHERE campaign = $1 AND idx > $2 ORDER BY idx LIMIT $3",
                    )
                    .await?,
                    &[&campaign, &after, &limit],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| StoredChunk {
                index: r.get::<_, i32>(0) as u32,
                openids: r.get(1),
                records: r.get(2),
                takeover: false,
            })
            .collect())
    }

    async fn recipient_counts(&self, campaign: &str) -> Result<StateCounts> {
        let row = self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached(
                        "SELECT coalesce(SUM(planned), 0)::bigint, coalesce(SUM(sending), 0)::bigint,
                                coalesce(SUM(sent), 0)::bigint, coalesce(SUM(failed), 0)::bigint,
                                coalesce(SUM(unknown), 0)::bigint
                         FROM wxmass_recipient_chunks WHERE campaign = $1",
                    )
                    .await?,
                    &[&campaign],
                )
                .await
            })
            .await?;
        Ok(StateCounts(
            [0, 1, 2, 3, 4].map(|i| count(row.get::<_, i64>(i))),
        ))
    }

    async fn rewrite_chunks(
        &self,
        campaign: &str,
        now: i64,
        f: &mut (dyn for<'a> FnMut(&'a mut Vec<u8>) -> Option<StateCounts> + Send),
    ) -> Result<u64> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let rows = tx
                .query(
                    "SELECT idx, records FROM wxmass_recipient_chunks
                     WHERE campaign = $1 AND (lease_owner IS NULL OR lease_expires_at < $2)
                     ORDER BY idx FOR UPDATE",
                    &[&campaign, &now],
                )
                .await?;
            let mut changed = 0;
            for row in rows {
                let idx: i32 = row.get(0);
                let mut records: Vec<u8> = row.get(1);
                if let Some(counts) = f(&mut records) {
                    let [a, b, c2, d, e] = counts.0.map(|n| n as i32);
                    tx.execute(
                        "UPDATE wxmass_recipient_chunks SET records = $3, planned = $4, sending = $5,
                         sent = $6, failed = $7, unknown = $8, updated_at = $9
                         WHERE campaign = $1 AND idx = $2",
                        &[&campaign, &idx, &records, &a, &b, &c2, &d, &e, &now],
                    )
                    .await?;
                    changed += 1;
                }
            }
            tx.commit().await?;
            Ok(changed)
        })
        .await
    }
}
