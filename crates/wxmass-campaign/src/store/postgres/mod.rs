//! The store in PostgreSQL, for many workers on many hosts: the same tables
//! as the SQLite store, the same rules; each aggregate's methods are in the
//! file named after it, and this one holds the connections. What
//! only a shared database needs is here: batches are claimed with
//! `FOR UPDATE SKIP LOCKED` under a lease whose expiry is the database's
//! clock (hosts' clocks may differ), and the minute's sends are counted in
//! a row every worker updates.
//!
//! Connections come from a deadpool-postgres pool (`--database-connections`,
//! [`super::DEFAULT_CONNECTIONS`] by default): it hands the next free
//! connection to whichever caller waits first, and replaces one that
//! closed. No TLS: the URL should point at a database on a trusted network
//! or a Unix socket (the README says so).

mod batches;
mod campaigns;
mod lifecycle;
mod lists;
mod media;
mod people;
mod publishes;
mod pushes;
mod reads;
mod recipients;
mod sign_ins;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use tokio_postgres::NoTls;

use crate::error::{Error, Result};
use crate::store::migrations;

/// The schema version this build writes (`wxmass_schema.version`).
pub const SCHEMA_VERSION: i64 = migrations::LATEST;

/// The database's clock, in Unix seconds.
pub(super) const DB_NOW: &str = "extract(epoch from clock_timestamp())::bigint";

/// The store in a PostgreSQL database.
pub struct PgStore {
    pool: Pool,
}

impl super::Store for PgStore {
    fn is_shared(&self) -> bool {
        true
    }
}

impl std::fmt::Debug for PgStore {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

/// The server's own message (tokio-postgres shows only "db error"), with
/// what to do for the usual ones. Never the URL: it may hold a password.
pub(super) fn db_error(e: tokio_postgres::Error) -> Error {
    let advice = match e.as_db_error() {
        Some(db) => {
            let what = format!("PostgreSQL said {}: {}", db.code().code(), db.message());
            match db.code().code() {
                "42501" => format!(
                    "{what}: the database user may not create or change wxmass's tables; grant it CREATE on the schema, or run once as the owner"
                ),
                "3D000" => format!("{what}: create the database first (createdb)"),
                "28P01" | "28000" => format!("{what}: check the user and password in the URL"),
                _ => what,
            }
        }
        None => format!(
            "cannot reach the PostgreSQL database ({e}): check the host, port and that it is running"
        ),
    };
    Error::Store {
        advice,
        source: None,
    }
}

pub(super) fn unreadable(what: String) -> Error {
    Error::Store {
        advice: what,
        source: None,
    }
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`) with up to
    /// `connections` connections, and creates or upgrades the tables. A
    /// database written by a newer wxmass is refused before anything is
    /// changed.
    pub async fn connect(url: &str, connections: usize) -> Result<PgStore> {
        let config = url.parse::<tokio_postgres::Config>().map_err(|e| Error::Invalid(format!(
            "the database URL is not a PostgreSQL URL ({e}): give one such as postgres://user@localhost/wxmass"
        )))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A closed connection is found (and replaced) without a
                // round trip; a broken one fails its caller once.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(connections.max(1))
            .build()
            .map_err(|e| Error::Invalid(format!("cannot make the database pool: {e}")))?;
        let store = PgStore { pool };
        store.migrate().await?;
        Ok(store)
    }

    /// Runs `f` on a connection of the pool (waiting for a free one,
    /// connecting if the pool has room).
    pub(crate) async fn with<T>(
        &self,
        f: impl AsyncFnOnce(
            &mut deadpool_postgres::Client,
        ) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        let mut client = self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => db_error(e),
            other => unreadable(format!(
                "no database connection could be had ({other}): check that PostgreSQL is running"
            )),
        })?;
        f(&mut client).await.map_err(db_error)
    }

    async fn migrate(&self) -> Result<()> {
        self.with(async |c| migrations::postgres(c).await).await?
    }
}
