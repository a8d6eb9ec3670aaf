//! Failed sign-ins, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::sign_ins::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl SignInStore for PgStore {
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
