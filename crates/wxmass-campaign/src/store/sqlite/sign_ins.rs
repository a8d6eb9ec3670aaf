//! Failed sign-ins, in SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::error::Result;
use crate::sign_ins::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl SignInStore for SqliteStore {
    async fn sign_in_failed(
        &self,
        name: &str,
        address: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<()> {
        let conn = self.conn();
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "DELETE FROM wxmass_sign_in_failures WHERE at < ?1",
            [forget_before],
        )?;
        tx.execute(
            "INSERT INTO wxmass_sign_in_failures (name, address, at) VALUES (?1, ?2, ?3)",
            rusqlite::params![name, address, now],
        )?;
        tx.commit()?;
        Ok(())
    }

    async fn sign_in_failures(
        &self,
        name: &str,
        address: &str,
        since: i64,
    ) -> Result<SignInFailures> {
        let conn = self.conn();
        Ok(conn.query_row(
            "SELECT count(*) FILTER (WHERE name = ?1),
                    count(*) FILTER (WHERE name = ?1 AND address = ?2),
                    min(at) FILTER (WHERE name = ?1 AND address = ?2),
                    count(*) FILTER (WHERE address = ?2),
                    min(at) FILTER (WHERE address = ?2)
             FROM wxmass_sign_in_failures WHERE at > ?3 AND (name = ?1 OR address = ?2)",
            rusqlite::params![name, address, since],
            |r| {
                Ok(SignInFailures {
                    name: count(r.get(0)?),
                    name_here: count(r.get(1)?),
                    name_here_oldest: r.get(2)?,
                    here: count(r.get(3)?),
                    here_oldest: r.get(4)?,
                })
            },
        )?)
    }

    async fn sign_in_succeeded(&self, name: &str, address: &str) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM wxmass_sign_in_failures WHERE name = ?1 AND address = ?2",
            [name, address],
        )?;
        Ok(())
    }
}
