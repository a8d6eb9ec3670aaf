//! Free publishing's submissions and reports, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::publishes::*;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl PublishStore for PgStore {
    async fn record_publish_submitted(
        &self,
        appid: &str,
        publish_id: i64,
        media_id: &str,
        msg_data_id: Option<i64>,
        campaign: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("INSERT INTO wxmass_publishes (appid, publish_id, campaign, media_id, msg_data_id, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (appid, publish_id) DO UPDATE SET campaign = excluded.campaign,
                   media_id = excluded.media_id, msg_data_id = excluded.msg_data_id,
                   submitted_at = excluded.submitted_at").await?,
                &[&appid, &publish_id, &campaign, &media_id, &msg_data_id, &at],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn record_publish_reports(
        &self,
        appid: &str,
        reports: &[PublishReport],
        at: i64,
    ) -> Result<Vec<Recorded>> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let mut outcomes = Vec::with_capacity(reports.len());
            for r in reports {
                let before = tx
                    .query_opt(
                        "SELECT media_id IS NOT NULL, event FROM wxmass_publishes
                         WHERE appid = $1 AND publish_id = $2 FOR UPDATE",
                        &[&appid, &r.publish_id],
                    )
                    .await?
                    .map(|row| (row.get::<_, bool>(0), row.get::<_, Option<String>>(1)));
                let submitted = before.as_ref().is_some_and(|(s, _)| *s);
                let first = before.and_then(|(_, e)| e);
                let recorded = outcome(submitted, first.as_deref(), &r.event);
                let urls = serde_json::to_string(&r.article_urls).unwrap_or_default();
                let failed = serde_json::to_string(&r.fail_idx).unwrap_or_default();
                match recorded {
                    Recorded::New { .. } => {
                        tx.execute(
                            "INSERT INTO wxmass_publishes (appid, publish_id, status, article_id, article_urls, fail_idx, event, reported_at)
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                             ON CONFLICT (appid, publish_id) DO UPDATE SET status = excluded.status,
                               article_id = excluded.article_id, article_urls = excluded.article_urls,
                               fail_idx = excluded.fail_idx, event = excluded.event, reported_at = excluded.reported_at",
                            &[&appid, &r.publish_id, &r.status, &r.article_id, &urls, &failed, &r.event, &at],
                        )
                        .await?;
                    }
                    Recorded::Conflict => {
                        tx.execute(
                            "UPDATE wxmass_publishes SET conflicting_event = $3 WHERE appid = $1 AND publish_id = $2",
                            &[&appid, &r.publish_id, &r.event],
                        )
                        .await?;
                    }
                    _ => {}
                }
                outcomes.push(recorded);
            }
            tx.commit().await?;
            Ok(outcomes)
        })
        .await
    }

    async fn publishes(&self) -> Result<Vec<PublishRecord>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &format!(
                        "SELECT {PUBLISH_COLUMNS} FROM wxmass_publishes
                         ORDER BY greatest(coalesce(submitted_at, 0), coalesce(reported_at, 0)) DESC, publish_id DESC"
                    ),
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| PublishRecord {
                appid: r.get(0),
                publish_id: r.get(1),
                campaign: r.get(2),
                media_id: r.get(3),
                msg_data_id: r.get(4),
                submitted_at: r.get(5),
                status: r.get(6),
                article_id: r.get(7),
                article_urls: json_list(&r.get::<_, String>(8)),
                fail_idx: json_list(&r.get::<_, String>(9)),
                reported_at: r.get(10),
                conflicting: r.get(11),
            })
            .collect())
    }
}
