//! The store in PostgreSQL, for many workers on many hosts: the same tables
//! as the SQLite store, the same rules; each aggregate's methods are in the
//! file named after it, and this one holds the connections. What
//! only a shared database needs is here: batches are claimed with
//! `FOR UPDATE SKIP LOCKED` under a lease whose expiry is the database's
//! clock (hosts' clocks may differ), and the minute's sends are counted in
//! a row every worker updates.
//!
//! Why tokio-postgres without a pool: a worker does one thing at a time
//! against the database (claim, record), so one connection per process is
//! enough; it is made again when it fails. No TLS: the URL should point at
//! a database on a trusted network or a Unix socket (say so in the README).

mod batches;
mod campaigns;
mod lists;
mod media;
mod people;
mod publishes;
mod pushes;
mod reads;
mod server_campaigns;
mod sign_ins;

use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls};

use crate::error::{Error, Result};
use crate::store::migrations;

/// The schema version this build writes (`wxmass_schema.version`).
pub const SCHEMA_VERSION: i64 = migrations::LATEST;

/// The database's clock, in Unix seconds.
pub(super) const DB_NOW: &str = "extract(epoch from clock_timestamp())::bigint";

/// The store in a PostgreSQL database.
pub struct PgStore {
    url: String,
    /// Up to [`CONNECTIONS`] connections, made as they are first needed.
    clients: Vec<Mutex<Option<Client>>>,
    /// Where a caller that finds every connection busy waits.
    next: std::sync::atomic::AtomicUsize,
}

/// Connections a journal opens at most: the API, the push writer, the
/// runner and its campaigns each get one of their own under load, and a
/// slow query holds up only its own caller. (Each server process opens up
/// to this many: mind PostgreSQL's `max_connections` with many servers.)
pub const CONNECTIONS: usize = 8;

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
    /// Connects to `url` (`postgres://user@host:port/db`) and creates or
    /// upgrades the tables. A database written by a newer wxmass is refused
    /// before anything is changed.
    pub async fn connect(url: &str) -> Result<PgStore> {
        url.parse::<tokio_postgres::Config>().map_err(|e| Error::Invalid(format!(
            "the database URL is not a PostgreSQL URL ({e}): give one such as postgres://user@localhost/wxmass"
        )))?;
        let journal = PgStore {
            url: url.to_owned(),
            clients: (0..CONNECTIONS).map(|_| Mutex::new(None)).collect(),
            next: std::sync::atomic::AtomicUsize::new(0),
        };
        journal.migrate().await?;
        Ok(journal)
    }

    /// Runs `f` on a free connection (an open one first, else a new one;
    /// when all are busy, waits for one), connecting first if needed; a
    /// failed connection is dropped so the next call makes a new one.
    pub(crate) async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&mut Client) -> std::result::Result<T, tokio_postgres::Error>,
    ) -> Result<T> {
        let free = |open: bool| {
            self.clients.iter().find_map(|m| {
                m.try_lock()
                    .ok()
                    .filter(|g| g.as_ref().is_some_and(|c| !c.is_closed()) == open)
            })
        };
        let mut guard = match free(true).or_else(|| free(false)) {
            Some(guard) => guard,
            None => {
                let i = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                self.clients[i % CONNECTIONS].lock().await
            }
        };
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            let (client, connection) = tokio_postgres::connect(&self.url, NoTls)
                .await
                .map_err(db_error)?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            *guard = Some(client);
        }
        let Some(client) = guard.as_mut() else {
            return Err(unreadable("no database connection".into()));
        };
        let result = f(client).await;
        if result.is_err() && client.is_closed() {
            *guard = None;
        }
        result.map_err(db_error)
    }

    async fn migrate(&self) -> Result<()> {
        self.with(async |c| migrations::postgres(c).await).await?
    }
}
