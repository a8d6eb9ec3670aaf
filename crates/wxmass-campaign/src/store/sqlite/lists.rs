//! Openid lists saved by name, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::Result;
use crate::lists::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl ListStore for SqliteStore {
    async fn insert_list(&self, l: &SavedList, data: &[u8]) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO wxmass_lists (name, count, distinct_count, sha256, created_by, created_at, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![
                l.name,
                l.count as i64,
                l.distinct as i64,
                l.sha256,
                l.created_by,
                l.created_at,
                data
            ],
        )?;
        Ok(n == 1)
    }

    async fn lists(&self) -> Result<Vec<SavedList>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT name, count, distinct_count, sha256, created_by, created_at FROM wxmass_lists ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SavedList {
                name: r.get(0)?,
                count: count(r.get(1)?),
                distinct: count(r.get(2)?),
                sha256: r.get(3)?,
                created_by: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn delete_list(&self, name: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute("DELETE FROM wxmass_lists WHERE name = ?1", [name])?;
        Ok(n == 1)
    }

    async fn lists_bytes(&self) -> Result<u64> {
        let conn = self.conn();
        let n: i64 = conn.query_row(
            "SELECT coalesce(sum(length(data)), 0) FROM wxmass_lists",
            [],
            |r| r.get(0),
        )?;
        Ok(count(n))
    }

    async fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let conn = self.conn();
        use rusqlite::OptionalExtension as _;
        Ok(conn
            .query_row(
                "SELECT data FROM wxmass_lists WHERE name = ?1",
                rusqlite::params![name],
                |r| r.get(0),
            )
            .optional()?)
    }
}
