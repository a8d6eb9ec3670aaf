//! Campaigns in their life, from draft to finished, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::across::AccountSet;
use crate::error::Result;
use crate::lifecycle::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl LifecycleStore for SqliteStore {
    async fn insert_campaign(&self, c: &Campaign) -> Result<bool> {
        Ok(insert(&self.conn(), c)? == 1)
    }

    async fn campaigns_of(&self, which: Which<'_>) -> Result<Vec<Campaign>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM wxmass_campaigns WHERE {} ORDER BY created_at DESC, id",
            which_condition(which)
        ))?;
        let read = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
                r.get(15)?,
                r.get(16)?,
                r.get(17)?,
            ))
        };
        let rows = match which {
            Which::Id(id) | Which::PlannedId(id) | Which::PartsOf(id) => {
                stmt.query_map(rusqlite::params![id], read)?
            }
            Which::All | Which::Planned => stmt.query_map([], read)?,
            Which::Due(now) => stmt.query_map(rusqlite::params![now], read)?,
        };
        let rows: Vec<CampaignRow> = rows.collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(campaign_row).collect()
    }

    async fn update_draft(&self, c: &Campaign, now: i64) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE wxmass_campaigns SET name = ?2, content = ?3, audience_kind = ?4, tag_id = ?5, list = ?6,
                 batch_size = ?7, updated_at = ?8, accounts = ?9
             WHERE id = ?1 AND state = 'draft' AND planned_at IS NULL",
            rusqlite::params![
                c.id,
                c.name,
                json(&c.content),
                c.audience.kind(),
                c.audience.tag_id(),
                c.list,
                c.batch_size.map(i64::from),
                now,
                c.accounts.as_ref().map(AccountSet::to_json)
            ],
        )?;
        Ok(n == 1)
    }

    async fn delete_draft(&self, id: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "DELETE FROM wxmass_campaigns WHERE id = ?1 AND state = 'draft' AND planned_at IS NULL",
            [id],
        )?;
        Ok(n == 1)
    }

    async fn spread_campaign(&self, whole: &str, parts: &[Campaign], now: i64) -> Result<bool> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let marked = tx.execute(
            "UPDATE wxmass_campaigns SET planned_at = ?2
             WHERE id = ?1 AND state = 'running' AND planned_at IS NULL AND accounts IS NOT NULL",
            rusqlite::params![whole, now],
        )?;
        if marked != 1 {
            return Ok(false);
        }
        for c in parts {
            insert(&tx, c)?;
        }
        tx.commit()?;
        Ok(true)
    }

    async fn set_campaign_state(
        &self,
        id: &str,
        from: CampaignState,
        to: CampaignState,
        change: &Change,
        now: i64,
    ) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "UPDATE wxmass_campaigns SET state = ?3, send_at = coalesce(?4, send_at),
                 approved_by = coalesce(?5, approved_by), note = coalesce(?6, note), updated_at = ?7
             WHERE id = ?1 AND state = ?2",
            rusqlite::params![
                id,
                from.as_str(),
                to.as_str(),
                change.send_at,
                change.approved_by,
                change.note,
                now
            ],
        )?;
        Ok(n == 1)
    }
}

/// Writes campaign `c` unless its id is taken; the rows written (0 or 1).
fn insert(conn: &rusqlite::Connection, c: &Campaign) -> rusqlite::Result<usize> {
    conn.prepare_cached(&format!(
        "INSERT OR IGNORE INTO wxmass_campaigns ({NEW_CAMPAIGN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, 0)"
    ))?
    .execute(rusqlite::params![
        c.id,
        c.appid,
        c.name,
        json(&c.content),
        c.audience.kind(),
        c.audience.tag_id(),
        c.list,
        c.batch_size.map(i64::from),
        c.state.as_str(),
        c.send_at,
        c.created_by,
        c.approved_by,
        c.note,
        c.created_at,
        c.updated_at,
        c.accounts.as_ref().map(AccountSet::to_json),
        c.part_of
    ])
}
