//! Failed sign-ins, kept in the store so that every server on it counts
//! the same ones: behind a load balancer, a name gets its few tries in
//! all, not a few per instance. The server decides how many are too many
//! (and for how long); this module keeps the times.
//!
//! Names are kept as given (the server folds their case first). Rows older
//! than the window the server asks about are removed as failures are
//! added, so the table holds at most one window's worth.

use crate::error::Result;
use crate::journal::{Journal, count};
use crate::postgres::PgJournal;
use crate::sqlite::SqliteJournal;

/// Failed sign-ins since a time: for one name, and for every name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    /// The name's failures.
    pub name: u64,
    /// The oldest of them (Unix seconds), if any.
    pub name_oldest: Option<i64>,
    /// Every name's failures.
    pub all: u64,
    /// The oldest of those, if any.
    pub all_oldest: Option<i64>,
}

impl Journal {
    /// Notes a failed sign-in for `name` at `now`, and forgets failures
    /// from before `forget_before`.
    pub async fn sign_in_failed(&self, name: &str, now: i64, forget_before: i64) -> Result<()> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).sign_in_failed(name, now, forget_before),
            Journal::Postgres(p) => p.sign_in_failed(name, now, forget_before).await,
        }
    }

    /// Failed sign-ins after `since` (Unix seconds), for `name` and for all.
    pub async fn sign_in_failures(&self, name: &str, since: i64) -> Result<SignInFailures> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).sign_in_failures(name, since),
            Journal::Postgres(p) => p.sign_in_failures(name, since).await,
        }
    }

    /// Forgets `name`'s failed sign-ins (it has signed in).
    pub async fn sign_in_succeeded(&self, name: &str) -> Result<()> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).sign_in_succeeded(name),
            Journal::Postgres(p) => p.sign_in_succeeded(name).await,
        }
    }
}

impl SqliteJournal {
    fn sign_in_failed(&self, name: &str, now: i64, forget_before: i64) -> Result<()> {
        let tx = self.conn().unchecked_transaction()?;
        tx.execute(
            "DELETE FROM wxmass_sign_in_failures WHERE at < ?1",
            [forget_before],
        )?;
        tx.execute(
            "INSERT INTO wxmass_sign_in_failures (name, at) VALUES (?1, ?2)",
            rusqlite::params![name, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn sign_in_failures(&self, name: &str, since: i64) -> Result<SignInFailures> {
        Ok(self.conn().query_row(
            "SELECT count(*) FILTER (WHERE name = ?1), min(at) FILTER (WHERE name = ?1), count(*), min(at)
             FROM wxmass_sign_in_failures WHERE at > ?2",
            rusqlite::params![name, since],
            |r| {
                Ok(SignInFailures {
                    name: count(r.get(0)?),
                    name_oldest: r.get(1)?,
                    all: count(r.get(2)?),
                    all_oldest: r.get(3)?,
                })
            },
        )?)
    }

    fn sign_in_succeeded(&self, name: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM wxmass_sign_in_failures WHERE name = ?1",
            [name],
        )?;
        Ok(())
    }
}

impl PgJournal {
    async fn sign_in_failed(&self, name: &str, now: i64, forget_before: i64) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "DELETE FROM wxmass_sign_in_failures WHERE at < $1",
                &[&forget_before],
            )
            .await?;
            tx.execute(
                "INSERT INTO wxmass_sign_in_failures (name, at) VALUES ($1, $2)",
                &[&name, &now],
            )
            .await?;
            tx.commit().await
        })
        .await
    }

    async fn sign_in_failures(&self, name: &str, since: i64) -> Result<SignInFailures> {
        self.with(async |c| {
            let row = c
                .query_one(
                    "SELECT count(*) FILTER (WHERE name = $1), min(at) FILTER (WHERE name = $1), count(*), min(at)
                     FROM wxmass_sign_in_failures WHERE at > $2",
                    &[&name, &since],
                )
                .await?;
            Ok(SignInFailures {
                name: count(row.get(0)),
                name_oldest: row.get(1),
                all: count(row.get(2)),
                all_oldest: row.get(3),
            })
        })
        .await
    }

    async fn sign_in_succeeded(&self, name: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "DELETE FROM wxmass_sign_in_failures WHERE name = $1",
                &[&name],
            )
            .await
            .map(drop)
        })
        .await
    }
}
