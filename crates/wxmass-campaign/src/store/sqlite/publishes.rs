//! Free publishing's submissions and reports, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::Result;
use crate::publishes::*;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl PublishStore for SqliteStore {
    async fn record_publish_submitted(
        &self,
        appid: &str,
        publish_id: i64,
        media_id: &str,
        msg_data_id: Option<i64>,
        campaign: Option<&str>,
        at: i64,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO wxmass_publishes (appid, publish_id, campaign, media_id, msg_data_id, submitted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (appid, publish_id) DO UPDATE SET campaign = excluded.campaign,
               media_id = excluded.media_id, msg_data_id = excluded.msg_data_id,
               submitted_at = excluded.submitted_at",
            rusqlite::params![appid, publish_id, campaign, media_id, msg_data_id, at],
        )?;
        Ok(())
    }

    async fn record_publish_reports(
        &self,
        appid: &str,
        reports: &[PublishReport],
        at: i64,
    ) -> Result<Vec<Recorded>> {
        let conn = self.conn();
        use rusqlite::OptionalExtension as _;
        let tx = conn.unchecked_transaction()?;
        let mut outcomes = Vec::with_capacity(reports.len());
        for r in reports {
            let before: Option<(bool, Option<String>)> = tx
                .query_row(
                    "SELECT media_id IS NOT NULL, event FROM wxmass_publishes WHERE appid = ?1 AND publish_id = ?2",
                    rusqlite::params![appid, r.publish_id],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let submitted = before.as_ref().is_some_and(|(s, _)| *s);
            let first = before.and_then(|(_, e)| e);
            let recorded = outcome(submitted, first.as_deref(), &r.event);
            match recorded {
                Recorded::New { .. } => {
                    tx.execute(
                        "INSERT INTO wxmass_publishes (appid, publish_id, status, article_id, article_urls, fail_idx, event, reported_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (appid, publish_id) DO UPDATE SET status = excluded.status,
                           article_id = excluded.article_id, article_urls = excluded.article_urls,
                           fail_idx = excluded.fail_idx, event = excluded.event, reported_at = excluded.reported_at",
                        rusqlite::params![
                            appid,
                            r.publish_id,
                            r.status,
                            r.article_id,
                            serde_json::to_string(&r.article_urls).unwrap_or_default(),
                            serde_json::to_string(&r.fail_idx).unwrap_or_default(),
                            r.event,
                            at
                        ],
                    )?;
                }
                Recorded::Conflict => {
                    tx.execute(
                        "UPDATE wxmass_publishes SET conflicting_event = ?3 WHERE appid = ?1 AND publish_id = ?2",
                        rusqlite::params![appid, r.publish_id, r.event],
                    )?;
                }
                _ => {}
            }
            outcomes.push(recorded);
        }
        tx.commit()?;
        Ok(outcomes)
    }

    async fn publishes(&self) -> Result<Vec<PublishRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {PUBLISH_COLUMNS} FROM wxmass_publishes ORDER BY max(coalesce(submitted_at, 0), coalesce(reported_at, 0)) DESC, publish_id DESC"
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok(PublishRecord {
                appid: r.get(0)?,
                publish_id: r.get(1)?,
                campaign: r.get(2)?,
                media_id: r.get(3)?,
                msg_data_id: r.get(4)?,
                submitted_at: r.get(5)?,
                status: r.get(6)?,
                article_id: r.get(7)?,
                article_urls: json_list(&r.get::<_, String>(8)?),
                fail_idx: json_list(&r.get::<_, String>(9)?),
                reported_at: r.get(10)?,
                conflicting: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
