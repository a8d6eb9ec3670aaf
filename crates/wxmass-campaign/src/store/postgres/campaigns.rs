//! Campaigns as the engine sends them, and their planning, in PostgreSQL.

use async_trait::async_trait;

use super::{PgStore, unreadable};
use crate::error::Result;
use crate::openids;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl CampaignStore for PgStore {
    /// Records a campaign, its files and its batches in one transaction.
    async fn plan(
        &self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut (dyn Iterator<Item = Result<PlannedBatch>> + Send),
    ) -> Result<()> {
        // The batches come from a file and may fail midway: collect the
        // rows per batch inside the transaction, rolling back on error.
        let mut failed = None;
        self.with(async |c| {
            let tx = c.transaction().await?;
            if !insert_planned(&tx, campaign).await? {
                failed = Some(taken(&campaign.id));
                return tx.rollback().await;
            }
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
    async fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<()> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached("SELECT b.openids FROM wxmass_batches b JOIN wxmass_campaigns c ON c.id = b.campaign
                     WHERE c.appid = $1 AND c.audience_kind = 'openids' AND c.id != $3 AND b.openids IS NOT NULL
                       AND c.id IN (SELECT campaign FROM wxmass_batches WHERE submitted_at >= $2)").await?,
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
    async fn campaigns_sent_since(
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
                    &c.prepare_cached("SELECT COUNT(DISTINCT c.id) FROM wxmass_campaigns c JOIN wxmass_batches b ON b.campaign = c.id
                     WHERE c.appid = $1 AND c.audience_kind = $2 AND ($3::BIGINT IS NULL OR c.tag_id = $3)
                       AND b.submitted_at >= $4").await?,
                    &[&appid, &kind, &tag, &since],
                )
                .await
            })
            .await?
            .get(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
    async fn prepared(&self, campaign: &str) -> Result<Option<String>> {
        Ok(self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached("SELECT message FROM wxmass_campaigns WHERE id = $1")
                        .await?,
                    &[&campaign],
                )
                .await
            })
            .await?
            .and_then(|r| r.get(0)))
    }
    async fn set_prepared(&self, campaign: &str, message: &str) -> Result<String> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "UPDATE wxmass_campaigns SET message = $2 WHERE id = $1 AND message IS NULL",
                )
                .await?,
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
}

/// Records `campaign` as planned (a new row, or a server's approved one),
/// in `tx`; whether its id was free: what planning a campaign and planning
/// its recipients share.
pub(super) async fn insert_planned(
    tx: &tokio_postgres::Transaction<'_>,
    campaign: &Campaign,
) -> std::result::Result<bool, tokio_postgres::Error> {
    let content = campaign.content.to_json();
    let size = i64::try_from(campaign.audience_size).unwrap_or(i64::MAX);
    let tag = campaign.audience.tag_id().map(i64::from);
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
    Ok(planned > 0)
}
