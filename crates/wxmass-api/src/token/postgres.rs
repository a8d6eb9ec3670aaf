//! A token store in PostgreSQL: workers that share a database share tokens,
//! with no Redis. Two small tables; the refresh lock is a row whose expiry is
//! read from the database's clock (hosts' clocks may differ), taken by an
//! upsert that only replaces an expired row, and released by a
//! compare-and-delete, so a holder that dies releases it by expiry and
//! nobody releases another's lock.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use super::{CachedToken, StoreFuture, TokenStore};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The tables, created if absent. `CREATE TABLE IF NOT EXISTS` is not safe
/// when several workers start at once (two can both try, and one fails on
/// the catalog's unique index), so it runs under an advisory lock held until
/// the tables are committed (a session lock released before the commit
/// still lets the next worker in too early).
const SCHEMA: &str = "
    BEGIN;
    SELECT pg_advisory_xact_lock(hashtext('wxmass token store schema'));
    CREATE TABLE IF NOT EXISTS wxmass_tokens (
        key TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at_ms BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS wxmass_token_locks (
        key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms BIGINT NOT NULL);
    COMMIT;";

/// The database's clock, in milliseconds.
const DB_NOW_MS: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Tokens shared through PostgreSQL.
pub struct PostgresStore {
    url: String,
    /// The connection, made again after it fails.
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresStore {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::TokenStore(format!("postgres: {e}"))
}

/// The server's own message, which `tokio_postgres::Error` shows only as
/// "db error".
fn db_error(e: tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => store_error(format!("{}: {}", db.code().code(), db.message())),
        None => store_error(e),
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@127.0.0.1:5432/db`, no TLS: use it on
    /// a private network or a Unix socket) and creates the tables if absent.
    pub async fn connect(url: &str) -> Result<Self> {
        let store = PostgresStore {
            url: url.to_owned(),
            client: Mutex::new(None),
        };
        store.run(SCHEMA, &[]).await?;
        Ok(store)
    }

    async fn connection(&self) -> Result<Client> {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .map_err(db_error)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "the token store's connection closed");
            }
        });
        Ok(client)
    }

    /// Runs one statement (or several, without parameters) and returns the
    /// rows; a failed connection is dropped, to be made again next time.
    async fn run(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let mut guard = self.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = Some(self.connection().await?);
        }
        let Some(client) = guard.as_ref() else {
            return Err(store_error("no connection"));
        };
        let result = if params.is_empty() && sql.contains(';') {
            client.batch_execute(sql).await.map(|()| Vec::new())
        } else {
            client.query(sql, params).await
        };
        let closed = client.is_closed();
        if closed {
            *guard = None;
        }
        result.map_err(db_error)
    }
}

impl TokenStore for PostgresStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<CachedToken>> {
        Box::pin(async move {
            let rows = self
                .run(
                    "SELECT token, expires_at_ms FROM wxmass_tokens WHERE key = $1",
                    &[&key],
                )
                .await?;
            Ok(rows.first().map(|row| CachedToken {
                token: Secret::new(row.get::<_, String>(0)),
                expires_at_ms: row.get(1),
            }))
        })
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.run(
                "INSERT INTO wxmass_tokens (key, token, expires_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET token = EXCLUDED.token, expires_at_ms = EXCLUDED.expires_at_ms",
                &[&key, &token.token.expose(), &token.expires_at_ms],
            )
            .await
            .map(drop)
        })
    }

    fn invalidate<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.run(
                "DELETE FROM wxmass_tokens WHERE key = $1 AND token = $2",
                &[&key, &token],
            )
            .await
            .map(drop)
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        Box::pin(async move {
            // A row comes back only when this owner now holds the lock: a new
            // row, or one whose holder's time ran out.
            let sql = format!(
                "INSERT INTO wxmass_token_locks (key, owner, expires_at_ms) VALUES ($1, $2, {DB_NOW_MS} + $3)
                 ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at_ms = EXCLUDED.expires_at_ms
                 WHERE wxmass_token_locks.expires_at_ms < {DB_NOW_MS}
                 RETURNING owner"
            );
            let rows = self.run(&sql, &[&key, &owner, &ttl_ms]).await?;
            Ok(!rows.is_empty())
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            self.run(
                "DELETE FROM wxmass_token_locks WHERE key = $1 AND owner = $2",
                &[&key, &owner],
            )
            .await
            .map(drop)
        })
    }
}
