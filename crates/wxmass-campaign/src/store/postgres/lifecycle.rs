//! Campaigns in their life, from draft to finished, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::across::AccountSet;
use crate::error::Result;
use crate::lifecycle::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl LifecycleStore for PgStore {
    async fn insert_campaign(&self, c: &Campaign) -> Result<bool> {
        Ok(self.with(async |db| insert(&*db, c).await).await? == 1)
    }

    async fn campaigns_of(&self, which: Which<'_>) -> Result<Vec<Campaign>> {
        let sql = format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM wxmass_campaigns WHERE {} ORDER BY created_at DESC, id",
            which_condition(which).replace("?1", "$1")
        );
        let rows = self
            .with(async |db| match which {
                Which::Id(id) | Which::PlannedId(id) | Which::PartsOf(id) => {
                    db.query(&db.prepare_cached(&sql).await?, &[&id]).await
                }
                Which::All | Which::Planned => db.query(&db.prepare_cached(&sql).await?, &[]).await,
                Which::Due(now) => db.query(&db.prepare_cached(&sql).await?, &[&now]).await,
            })
            .await?;
        rows.iter()
            .map(|r| {
                campaign_row((
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                    r.get(8),
                    r.get(9),
                    r.get(10),
                    r.get(11),
                    r.get(12),
                    r.get(13),
                    r.get(14),
                    r.get(15),
                    r.get(16),
                    r.get(17),
                ))
            })
            .collect()
    }

    async fn update_draft(&self, c: &Campaign, now: i64) -> Result<bool> {
        let content = json(&c.content);
        let tag = c.audience.tag_id().map(i64::from);
        let batch_size = c.batch_size.map(i64::from);
        let accounts = c.accounts.as_ref().map(AccountSet::to_json);
        let n = self
            .with(async |db| {
                db.execute(
                    &db.prepare_cached("UPDATE wxmass_campaigns SET name = $2, content = $3, audience_kind = $4, tag_id = $5, list = $6,
                         batch_size = $7, updated_at = $8, accounts = $9
                     WHERE id = $1 AND state = 'draft' AND planned_at IS NULL").await?,
                    &[&c.id, &c.name, &content, &c.audience.kind(), &tag, &c.list, &batch_size, &now, &accounts],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn delete_draft(&self, id: &str) -> Result<bool> {
        let n = self
            .with(async |db| {
                db.execute(
                    &db.prepare_cached("DELETE FROM wxmass_campaigns WHERE id = $1 AND state = 'draft' AND planned_at IS NULL").await?,
                    &[&id],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn spread_campaign(&self, whole: &str, parts: &[Campaign], now: i64) -> Result<bool> {
        self.with(async |db| {
            let tx = db.transaction().await?;
            // The row's lock orders two servers: the second finds it marked.
            let marked = tx
                .execute(
                    "UPDATE wxmass_campaigns SET planned_at = $2
                     WHERE id = $1 AND state = 'running' AND planned_at IS NULL AND accounts IS NOT NULL",
                    &[&whole, &now],
                )
                .await?;
            if marked != 1 {
                return Ok(false);
            }
            for c in parts {
                insert(&tx, c).await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    async fn set_campaign_state(
        &self,
        id: &str,
        from: CampaignState,
        to: CampaignState,
        change: &Change,
        now: i64,
    ) -> Result<bool> {
        let n = self
            .with(async |db| {
                db.execute(
                    &db.prepare_cached("UPDATE wxmass_campaigns SET state = $3, send_at = coalesce($4, send_at),
                         approved_by = coalesce($5, approved_by), note = coalesce($6, note), updated_at = $7
                     WHERE id = $1 AND state = $2").await?,
                    &[
                        &id,
                        &from.as_str(),
                        &to.as_str(),
                        &change.send_at,
                        &change.approved_by,
                        &change.note,
                        &now,
                    ],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }
}

/// Writes campaign `c` unless its id is taken; the rows written (0 or 1).
async fn insert(
    db: &impl deadpool_postgres::GenericClient,
    c: &Campaign,
) -> std::result::Result<u64, tokio_postgres::Error> {
    let content = json(&c.content);
    let tag = c.audience.tag_id().map(i64::from);
    let batch_size = c.batch_size.map(i64::from);
    let accounts = c.accounts.as_ref().map(AccountSet::to_json);
    db.execute(
        &format!("INSERT INTO wxmass_campaigns ({NEW_CAMPAIGN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 0) ON CONFLICT (id) DO NOTHING"),
        &[
            &c.id,
            &c.appid,
            &c.name,
            &content,
            &c.audience.kind(),
            &tag,
            &c.list,
            &batch_size,
            &c.state.as_str(),
            &c.send_at,
            &c.created_by,
            &c.approved_by,
            &c.note,
            &c.created_at,
            &c.updated_at,
            &accounts,
            &c.part_of,
        ],
    )
    .await
}
