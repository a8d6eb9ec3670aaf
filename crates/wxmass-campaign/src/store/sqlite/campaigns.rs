//! Campaigns as the engine sends them, and their planning, in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::openids;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl CampaignStore for SqliteStore {
    /// Records a campaign, the files it sends (by content) and its batches,
    /// in one transaction: all of it, or (on any error, including one from
    /// `batches`) nothing.
    async fn plan(
        &self,
        campaign: &Campaign,
        files: &Files,
        batches: &mut (dyn Iterator<Item = Result<PlannedBatch>> + Send),
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        insert_planned(&tx, campaign)?;
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

    /// Calls `f` with every openid of `appid`'s openid-list campaigns, other
    /// than `except`, that had a batch submitted at or after `since`: once
    /// per campaign and follower (a campaign's list has no repeats).
    async fn each_recent_list_member(
        &self,
        appid: &str,
        since: i64,
        except: &str,
        f: &mut (dyn for<'a> FnMut(&'a str) + Send),
    ) -> Result<()> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
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

    /// The campaign's prepared message (JSON), once its uploads are done.
    async fn prepared(&self, campaign: &str) -> Result<Option<String>> {
        prepared_in(&self.conn(), campaign)
    }

    /// Keeps the prepared message; the first one kept stays (every worker
    /// then sends the same media ids).
    async fn set_prepared(&self, campaign: &str, message: &str) -> Result<String> {
        let conn = self.conn();
        conn.execute(
            "UPDATE wxmass_campaigns SET message = ?2 WHERE id = ?1 AND message IS NULL",
            params![campaign, message],
        )?;
        Ok(prepared_in(&conn, campaign)?.unwrap_or_else(|| message.to_owned()))
    }

    /// Campaigns of `appid` to audiences of `kind` (`all`, `tag` or
    /// `openids`; with `tag_id`, that tag only) that had a batch submitted
    /// at or after `since` (Unix seconds).
    async fn campaigns_sent_since(
        &self,
        appid: &str,
        kind: &str,
        tag_id: Option<u32>,
        since: i64,
    ) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT COUNT(DISTINCT c.id) FROM wxmass_campaigns c JOIN wxmass_batches b ON b.campaign = c.id
             WHERE c.appid = ?1 AND c.audience_kind = ?2 AND (?3 IS NULL OR c.tag_id = ?3)
               AND b.submitted_at >= ?4",
            params![appid, kind, tag_id, since],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Campaign `campaign`'s prepared message, read on `conn`.
fn prepared_in(conn: &rusqlite::Connection, campaign: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT message FROM wxmass_campaigns WHERE id = ?1",
            params![campaign],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Records `campaign` as planned (a new row, or a server's approved one),
/// in `tx`: what planning a campaign and planning its recipients share.
pub(super) fn insert_planned(tx: &rusqlite::Transaction<'_>, campaign: &Campaign) -> Result<()> {
    let planned = tx.execute(
        PLAN_CAMPAIGN_SQL,
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
    if planned == 0 {
        return Err(taken(&campaign.id));
    }
    Ok(())
}
