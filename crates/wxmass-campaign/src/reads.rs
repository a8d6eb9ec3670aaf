//! How a campaign's articles were read, after delivery: the rows of
//! WeChat's `getarticletotal` for the days its jobs went out, kept to the
//! campaign's own jobs (`msg_data_id`), and the series the server pulls
//! from them once a day and keeps for the dashboard's charts.
//!
//! `getarticletotal` answers, for the articles sent on one day, each day's
//! figures so far (cumulative) for up to a week after the send. A day's
//! figures are there from 08:00 Beijing time the day after.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use wxmass_api::Client;
use wxmass_api::api::datacube::{ArticleTotal, Date};

use crate::error::{Error, Result};
use crate::journal::{Journal, count};
use crate::postgres::PgJournal;
use crate::spec::{Content, MediaType};
use crate::sqlite::SqliteJournal;

/// Days after its send the server pulls a campaign's figures (WeChat's
/// details cover about a week).
pub const PULL_FOR_DAYS: i64 = 7;

/// Whether datacube counts the reads of `content`: articles only.
pub fn is_read_counted(content: &Content) -> bool {
    matches!(
        content,
        Content::Articles { .. }
            | Content::Uploaded {
                media_type: MediaType::Mpnews,
                ..
            }
    )
}

/// The `getarticletotal` rows of `campaign`'s jobs, as of `today` (WeChat's
/// Beijing day: data up to yesterday).
pub async fn article_totals(
    client: &Client,
    journal: &Journal,
    campaign: &str,
    today: Date,
) -> Result<Vec<ArticleTotal>> {
    let c = journal.campaign(campaign).await?.ok_or_else(|| {
        Error::Invalid(format!(
            "no campaign {campaign:?} in the journal: `wxmass campaigns` lists them"
        ))
    })?;
    if !is_read_counted(&c.content) {
        return Err(Error::Invalid(format!(
            "campaign {campaign} sent {}: WeChat's datacube counts the reads of articles only",
            c.content.msgtype()
        )));
    }
    let batches = journal.batches(campaign).await?;
    let data_ids: BTreeSet<i64> = batches.iter().filter_map(|b| b.msg_data_id).collect();
    if data_ids.is_empty() {
        return Err(Error::Invalid(format!(
            "campaign {campaign} has no job WeChat named yet: send it first (`wxmass status {campaign}`)"
        )));
    }
    let days: BTreeSet<Date> = batches
        .iter()
        .filter(|b| b.msg_data_id.is_some())
        .filter_map(|b| b.submitted_at)
        .map(Date::of_unix)
        .collect();
    let datacube = client.datacube().as_of(today);
    let mut rows = Vec::new();
    for day in days {
        if day >= today {
            return Err(Error::Invalid(format!(
                "campaign {campaign} went out on {day}: WeChat has its figures from 08:00 Beijing time on {}",
                day.plus(1)
            )));
        }
        let all = datacube.article_total(day).await?;
        rows.extend(
            all.into_iter()
                .filter(|r| data_ids.contains(&r.msgid.msg_data_id)),
        );
    }
    Ok(rows)
}

/// One article's figures so far on one day (summed over the campaign's
/// jobs), as the server keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReadPoint {
    /// The article, from 1.
    pub article: u32,
    /// Its title.
    pub title: String,
    /// The day, YYYY-MM-DD.
    pub date: String,
    /// Followers it reached.
    pub delivered: u64,
    /// People who read it, so far.
    pub readers: u64,
    /// Reads, so far.
    pub reads: u64,
    /// People who shared it, so far.
    pub sharers: u64,
    /// Shares, so far.
    pub shares: u64,
    /// People who added it to favourites, so far.
    pub favouriters: u64,
}

/// The series of `rows`: per article and day, summed over the jobs.
pub fn series(rows: &[ArticleTotal]) -> Vec<ReadPoint> {
    let mut points: BTreeMap<(u32, Date), ReadPoint> = BTreeMap::new();
    for row in rows {
        let article = row.msgid.index.get();
        for day in &row.details {
            let p = points
                .entry((article, day.stat_date))
                .or_insert_with(|| ReadPoint {
                    article,
                    title: row.title.clone(),
                    date: day.stat_date.to_string(),
                    delivered: 0,
                    readers: 0,
                    reads: 0,
                    sharers: 0,
                    shares: 0,
                    favouriters: 0,
                });
            p.delivered += day.target_user;
            p.readers += day.figures.readers;
            p.reads += day.figures.reads;
            p.sharers += day.figures.sharers;
            p.shares += day.figures.shares;
            p.favouriters += day.figures.favouriters;
        }
    }
    points.into_values().collect()
}

/// A campaign's kept series and the day it was last pulled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadSeries {
    /// WeChat's day of the last pull, YYYY-MM-DD (none yet: `None`).
    pub pulled_on: Option<String>,
    /// Per article and day, in that order.
    pub points: Vec<ReadPoint>,
}

const COLUMNS: &str =
    "article, title, date, delivered, readers, reads, sharers, shares, favouriters";

impl Journal {
    /// Keeps `points` (replacing what an earlier pull kept for the same
    /// article and day) and notes `campaign` pulled on `pulled_on`, in one
    /// transaction.
    pub async fn record_read_series(
        &self,
        campaign: &str,
        pulled_on: &str,
        points: &[ReadPoint],
        at: i64,
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => {
                crate::journal::lock(j).record_read_series(campaign, pulled_on, points, at)
            }
            Journal::Postgres(p) => p.record_read_series(campaign, pulled_on, points, at).await,
        }
    }

    /// `campaign`'s kept series.
    pub async fn read_series(&self, campaign: &str) -> Result<ReadSeries> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).read_series(campaign),
            Journal::Postgres(p) => p.read_series(campaign).await,
        }
    }
}

/// Figures go in as i64 (both databases' integer); they are counts.
fn db(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl SqliteJournal {
    fn record_read_series(
        &self,
        campaign: &str,
        pulled_on: &str,
        points: &[ReadPoint],
        at: i64,
    ) -> Result<()> {
        let tx = self.conn().unchecked_transaction()?;
        for p in points {
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO wxmass_read_points (campaign, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
                rusqlite::params![
                    campaign,
                    p.article,
                    p.title,
                    p.date,
                    db(p.delivered),
                    db(p.readers),
                    db(p.reads),
                    db(p.sharers),
                    db(p.shares),
                    db(p.favouriters)
                ],
            )?;
        }
        tx.execute(
            "INSERT OR REPLACE INTO wxmass_read_pulls (campaign, pulled_on, at) VALUES (?1, ?2, ?3)",
            rusqlite::params![campaign, pulled_on, at],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn read_series(&self, campaign: &str) -> Result<ReadSeries> {
        use rusqlite::OptionalExtension as _;
        let pulled_on = self
            .conn()
            .query_row(
                "SELECT pulled_on FROM wxmass_read_pulls WHERE campaign = ?1",
                [campaign],
                |r| r.get(0),
            )
            .optional()?;
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM wxmass_read_points WHERE campaign = ?1 ORDER BY article, date"
        ))?;
        let points = stmt
            .query_map([campaign], |r| {
                Ok(ReadPoint {
                    article: r.get(0)?,
                    title: r.get(1)?,
                    date: r.get(2)?,
                    delivered: count(r.get(3)?),
                    readers: count(r.get(4)?),
                    reads: count(r.get(5)?),
                    sharers: count(r.get(6)?),
                    shares: count(r.get(7)?),
                    favouriters: count(r.get(8)?),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ReadSeries { pulled_on, points })
    }
}

impl PgJournal {
    async fn record_read_series(
        &self,
        campaign: &str,
        pulled_on: &str,
        points: &[ReadPoint],
        at: i64,
    ) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            for p in points {
                tx.execute(
                    &format!(
                        "INSERT INTO wxmass_read_points (campaign, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                         ON CONFLICT (campaign, article, date) DO UPDATE SET title = excluded.title,
                           delivered = excluded.delivered, readers = excluded.readers, reads = excluded.reads,
                           sharers = excluded.sharers, shares = excluded.shares, favouriters = excluded.favouriters"
                    ),
                    &[
                        &campaign,
                        &i64::from(p.article),
                        &p.title,
                        &p.date,
                        &db(p.delivered),
                        &db(p.readers),
                        &db(p.reads),
                        &db(p.sharers),
                        &db(p.shares),
                        &db(p.favouriters),
                    ],
                )
                .await?;
            }
            tx.execute(
                "INSERT INTO wxmass_read_pulls (campaign, pulled_on, at) VALUES ($1, $2, $3)
                 ON CONFLICT (campaign) DO UPDATE SET pulled_on = excluded.pulled_on, at = excluded.at",
                &[&campaign, &pulled_on, &at],
            )
            .await?;
            tx.commit().await
        })
        .await
    }

    async fn read_series(&self, campaign: &str) -> Result<ReadSeries> {
        self.with(async |c| {
            let pulled_on = c
                .query_opt(
                    "SELECT pulled_on FROM wxmass_read_pulls WHERE campaign = $1",
                    &[&campaign],
                )
                .await?
                .map(|r| r.get(0));
            let rows = c
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM wxmass_read_points WHERE campaign = $1 ORDER BY article, date"
                    ),
                    &[&campaign],
                )
                .await?;
            let points = rows
                .iter()
                .map(|r| ReadPoint {
                    article: u32::try_from(r.get::<_, i64>(0)).unwrap_or(0),
                    title: r.get(1),
                    date: r.get(2),
                    delivered: count(r.get(3)),
                    readers: count(r.get(4)),
                    reads: count(r.get(5)),
                    sharers: count(r.get(6)),
                    shares: count(r.get(7)),
                    favouriters: count(r.get(8)),
                })
                .collect();
            Ok(ReadSeries { pulled_on, points })
        })
        .await
    }
}
