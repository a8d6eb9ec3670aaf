//! Saved openid lists: a list uploaded once under a name, kept in the store
//! (so that every server, on any host, plans from the same bytes), and
//! never changed: a campaign approved for a list sends to what was
//! approved. Checked ([`crate::OpenIdList::read`]) before it is saved.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::journal::{Journal, count};
use crate::postgres::PgJournal;
use crate::sqlite::SqliteJournal;

/// A saved list, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SavedList {
    /// Its name.
    pub name: String,
    /// Lines (openids, repeats included).
    pub count: u64,
    /// Different openids.
    pub distinct: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Who saved it.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl Journal {
    /// Saves `data` as list `list.name`; [`Error::Exists`] if the name is
    /// taken (lists do not change).
    pub async fn save_list(&self, list: &SavedList, data: &[u8]) -> Result<()> {
        let saved = match self {
            Journal::Sqlite(j) => crate::journal::lock(j).save_list(list, data),
            Journal::Postgres(p) => p.save_list(list, data).await,
        }?;
        if !saved {
            return Err(Error::Exists(format!(
                "a list named {:?} exists already (lists do not change: save it under a new name)",
                list.name
            )));
        }
        Ok(())
    }

    /// Every saved list, by name.
    pub async fn lists(&self) -> Result<Vec<SavedList>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).lists(),
            Journal::Postgres(p) => p.lists().await,
        }
    }

    /// The bytes of list `name`.
    pub async fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).list_data(name),
            Journal::Postgres(p) => p.list_data(name).await,
        }
    }
}

impl SqliteJournal {
    fn save_list(&self, l: &SavedList, data: &[u8]) -> Result<bool> {
        let n = self.conn().execute(
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

    fn lists(&self) -> Result<Vec<SavedList>> {
        let mut stmt = self.conn().prepare(
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

    fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>> {
        use rusqlite::OptionalExtension as _;
        Ok(self
            .conn()
            .query_row(
                "SELECT data FROM wxmass_lists WHERE name = ?1",
                rusqlite::params![name],
                |r| r.get(0),
            )
            .optional()?)
    }
}

impl PgJournal {
    async fn save_list(&self, l: &SavedList, data: &[u8]) -> Result<bool> {
        let (c, d) = (l.count as i64, l.distinct as i64);
        let n = self
            .with(async |db| {
                db.execute(
                    "INSERT INTO wxmass_lists (name, count, distinct_count, sha256, created_by, created_at, data)
                     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING",
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
                    "SELECT name, count, distinct_count, sha256, created_by, created_at FROM wxmass_lists ORDER BY name",
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

    async fn list_data(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .with(async |db| {
                db.query_opt("SELECT data FROM wxmass_lists WHERE name = $1", &[&name])
                    .await
            })
            .await?;
        Ok(row.map(|r| r.get(0)))
    }
}
