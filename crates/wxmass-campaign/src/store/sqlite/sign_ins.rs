//! Failed sign-ins, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::Result;
use crate::sign_ins::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl SignInStore for SqliteStore {
    async fn sign_in_failed(&self, name: &str, now: i64, forget_before: i64) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
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

    async fn sign_in_failures(&self, name: &str, since: i64) -> Result<SignInFailures> {
        let conn = self.conn();
        Ok(conn.query_row(
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

    async fn sign_in_succeeded(&self, name: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM wxmass_sign_in_failures WHERE name = ?1",
            [name],
        )?;
        Ok(())
    }
}
