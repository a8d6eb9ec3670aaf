//! Free publishing in the journal: each publish this journal's owner
//! submitted (`freepublish/submit`: its draft, `publish_id` and
//! `msg_data_id`), and each PUBLISHJOBFINISH report `wxmass serve` or the
//! server received, in one table keyed by account and `publish_id`. A
//! report is recorded before WeChat is answered; WeChat's retry of it is
//! recognised; a report that contradicts the first is kept beside it.

use serde::Serialize;

use crate::error::Result;
use crate::journal::Journal;
use crate::postgres::PgJournal;
use crate::sqlite::{Recorded, SqliteJournal};

/// A PUBLISHJOBFINISH report, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// The publish.
    pub publish_id: i64,
    /// `publish_status` (0 success, 2 to 6 the ways it fails or ends).
    pub status: i64,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address, in order.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// The whole event, as JSON (to tell a retry from a contradiction).
    pub event: String,
}

/// A publish as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishRecord {
    /// The account.
    pub appid: String,
    /// The publish.
    pub publish_id: i64,
    /// The campaign that submitted it, if one of ours did.
    pub campaign: Option<String>,
    /// The draft it was made from, if ours.
    pub media_id: Option<String>,
    /// The content's id (datacube, comments), if ours.
    pub msg_data_id: Option<i64>,
    /// Unix seconds it was submitted, if ours.
    pub submitted_at: Option<i64>,
    /// `publish_status`, once reported.
    pub status: Option<i64>,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// Unix seconds the report came.
    pub reported_at: Option<i64>,
    /// A later report that contradicted the first (kept apart).
    pub conflicting: bool,
}

const COLUMNS: &str = "appid, publish_id, campaign, media_id, msg_data_id, submitted_at, status, article_id, \
                       article_urls, fail_idx, reported_at, conflicting_event IS NOT NULL";

impl Journal {
    /// Records a publish `campaign` (if any) submitted for `appid`.
    pub async fn record_publish_submitted(
        &self,
        appid: &str,
        publish_id: i64,
        media_id: &str,
        msg_data_id: Option<i64>,
        campaign: Option<&str>,
        at: i64,
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).record_publish_submitted(
                appid,
                publish_id,
                media_id,
                msg_data_id,
                campaign,
                at,
            ),
            Journal::Postgres(p) => {
                p.record_publish_submitted(appid, publish_id, media_id, msg_data_id, campaign, at)
                    .await
            }
        }
    }

    /// Records `appid`'s publish reports, in one transaction.
    pub async fn record_publish_reports(
        &self,
        appid: &str,
        reports: &[PublishReport],
        at: i64,
    ) -> Result<Vec<Recorded>> {
        match self {
            Journal::Sqlite(j) => {
                crate::journal::lock(j).record_publish_reports(appid, reports, at)
            }
            Journal::Postgres(p) => p.record_publish_reports(appid, reports, at).await,
        }
    }

    /// Every publish, newest submission or report first.
    pub async fn publishes(&self) -> Result<Vec<PublishRecord>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).publishes(),
            Journal::Postgres(p) => p.publishes().await,
        }
    }
}

fn json_list<T: serde::de::DeserializeOwned>(text: &str) -> Vec<T> {
    serde_json::from_str(text).unwrap_or_default()
}

/// What recording `event` comes to, given the report recorded `first`
/// (if any) and whether this journal `submitted` the publish.
fn outcome(submitted: bool, first: Option<&str>, event: &str) -> Recorded {
    match first {
        None => Recorded::New { known: submitted },
        Some(first) if first == event => Recorded::Duplicate,
        Some(_) => Recorded::Conflict,
    }
}

impl SqliteJournal {
    fn record_publish_submitted(
        &self,
        appid: &str,
        publish_id: i64,
        media_id: &str,
        msg_data_id: Option<i64>,
        campaign: Option<&str>,
        at: i64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO wxmass_publishes (appid, publish_id, campaign, media_id, msg_data_id, submitted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (appid, publish_id) DO UPDATE SET campaign = excluded.campaign,
               media_id = excluded.media_id, msg_data_id = excluded.msg_data_id,
               submitted_at = excluded.submitted_at",
            rusqlite::params![appid, publish_id, campaign, media_id, msg_data_id, at],
        )?;
        Ok(())
    }

    fn record_publish_reports(
        &self,
        appid: &str,
        reports: &[PublishReport],
        at: i64,
    ) -> Result<Vec<Recorded>> {
        use rusqlite::OptionalExtension as _;
        let tx = self.conn().unchecked_transaction()?;
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

    fn publishes(&self) -> Result<Vec<PublishRecord>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM wxmass_publishes ORDER BY max(coalesce(submitted_at, 0), coalesce(reported_at, 0)) DESC, publish_id DESC"
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

impl PgJournal {
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
                "INSERT INTO wxmass_publishes (appid, publish_id, campaign, media_id, msg_data_id, submitted_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (appid, publish_id) DO UPDATE SET campaign = excluded.campaign,
                   media_id = excluded.media_id, msg_data_id = excluded.msg_data_id,
                   submitted_at = excluded.submitted_at",
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
                        "SELECT {COLUMNS} FROM wxmass_publishes
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
