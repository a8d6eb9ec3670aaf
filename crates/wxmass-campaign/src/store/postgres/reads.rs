//! The series of reads pulled from datacube, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;

use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl ReadStore for PgStore {
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
                        "INSERT INTO wxmass_read_points (campaign, {READ_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
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
                        "SELECT {READ_COLUMNS} FROM wxmass_read_points WHERE campaign = $1 ORDER BY article, date"
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
