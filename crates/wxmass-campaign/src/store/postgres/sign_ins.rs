//! Failed sign-ins, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::sign_ins::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl SignInStore for PgStore {
    async fn sign_in_failed(
        &self,
        name: &str,
        address: &str,
        now: i64,
        forget_before: i64,
    ) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "DELETE FROM wxmass_sign_in_failures WHERE at < $1",
                &[&forget_before],
            )
            .await?;
            tx.execute(
                "INSERT INTO wxmass_sign_in_failures (name, address, at) VALUES ($1, $2, $3)",
                &[&name, &address, &now],
            )
            .await?;
            tx.commit().await
        })
        .await
    }

    async fn sign_in_failures(
        &self,
        name: &str,
        address: &str,
        since: i64,
    ) -> Result<SignInFailures> {
        self.with(async |c| {
            let row = c
                .query_one(
                    "SELECT count(*) FILTER (WHERE name = $1),
                            count(*) FILTER (WHERE name = $1 AND address = $2),
                            min(at) FILTER (WHERE name = $1 AND address = $2),
                            count(*) FILTER (WHERE address = $2),
                            min(at) FILTER (WHERE address = $2)
                     FROM wxmass_sign_in_failures WHERE at > $3 AND (name = $1 OR address = $2)",
                    &[&name, &address, &since],
                )
                .await?;
            Ok(SignInFailures {
                name: count(row.get(0)),
                name_here: count(row.get(1)),
                name_here_oldest: row.get(2),
                here: count(row.get(3)),
                here_oldest: row.get(4),
            })
        })
        .await
    }

    async fn sign_in_succeeded(&self, name: &str, address: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "DELETE FROM wxmass_sign_in_failures WHERE name = $1 AND address = $2",
                )
                .await?,
                &[&name, &address],
            )
            .await
            .map(drop)
        })
        .await
    }
}
