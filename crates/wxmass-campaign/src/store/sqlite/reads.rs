//! The series of reads pulled from datacube, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::Result;

use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl ReadStore for SqliteStore {
    async fn record_read_series(
        &self,
        campaign: &str,
        pulled_on: &str,
        points: &[ReadPoint],
        at: i64,
    ) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        for p in points {
            tx.execute(
                &format!(
                    "INSERT OR REPLACE INTO wxmass_read_points (campaign, {READ_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
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

    async fn read_series(&self, campaign: &str) -> Result<ReadSeries> {
        let conn = self.conn();
        use rusqlite::OptionalExtension as _;
        let pulled_on = conn
            .query_row(
                "SELECT pulled_on FROM wxmass_read_pulls WHERE campaign = ?1",
                [campaign],
                |r| r.get(0),
            )
            .optional()?;
        let mut stmt = conn.prepare(&format!(
            "SELECT {READ_COLUMNS} FROM wxmass_read_points WHERE campaign = ?1 ORDER BY article, date"
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
