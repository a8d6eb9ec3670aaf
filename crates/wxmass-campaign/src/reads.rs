//! How a campaign's articles were read, after delivery: the rows of
//! WeChat's `getarticletotal` for the days its jobs went out, kept to the
//! campaign's own jobs (`msg_data_id`), and the series the server pulls
//! from them once a day and keeps for the dashboard's charts.
//!
//! `getarticletotal` answers, for the articles sent on one day, each day's
//! figures so far (cumulative) for up to a week after the send. A day's
//! figures are there from 08:00 Beijing time the day after.

use std::collections::{BTreeMap, BTreeSet};

use wxmass_api::Client;
use wxmass_api::api::datacube::{ArticleTotal, Date};

use crate::error::{Error, Result};
use crate::spec::{Content, MediaType};
pub use crate::spec::{ReadPoint, ReadSeries};
use crate::store::prelude::*;

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
    journal: &dyn Store,
    campaign: &str,
    today: Date,
) -> Result<Vec<ArticleTotal>> {
    let c = journal.planned_campaign(campaign).await?.ok_or_else(|| {
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
