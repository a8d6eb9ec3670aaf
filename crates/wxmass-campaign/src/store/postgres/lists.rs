//! Openid lists saved by name, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::lists::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl ListStore for PgStore {
    async fn insert_list(&self, l: &SavedList, data: &[u8]) -> Result<bool> {
        let (c, d) = (l.count as i64, l.distinct as i64);
        let n = self
            .with(async |db| {
                db.execute(
                    &db.prepare_cached("INSERT INTO wxmass_lists (name, count, distinct_count, sha256, created_by, created_at, data)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING").await?,
                    &[&l.name, &c, &d, &l.sha256, &l.created_by, &l.created_at, &data],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn lists(&self) -> Result<Vec<SavedList>> {
        let rows = self
            .with(async |db| {
                db.query(
                    &db.prepare_cached("SELECT name, count, distinct_count, sha256, created_by, created_at FROM wxmass_lists ORDER BY name").await?,
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| SavedList {
                name: r.get(0),
                count: count(r.get(1)),
                distinct: count(r.get(2)),
                sha256: r.get(3),
                created_by: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    async fn delete_list(&self, name: &str) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_lists WHERE name = $1")
                        .await?,
                    &[&name],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn lists_bytes(&self) -> Result<u64> {
        let row = self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached(
                        "SELECT coalesce(sum(octet_length(data)), 0)::BIGINT FROM wxmass_lists",
                    )
                    .await?,
                    &[],
                )
                .await
            })
            .await?;
        Ok(count(row.get(0)))
    }

    async fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .with(async |db| {
                db.query_opt(
                    &db.prepare_cached("SELECT data FROM wxmass_lists WHERE name = $1")
                        .await?,
                    &[&name],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
