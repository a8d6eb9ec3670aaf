//! A token store in a SQLite file: processes on one host share tokens, and
//! the refresh lock is a row with an expiry, so a holder that dies releases
//! it when the expiry passes. The file holds access tokens: it is created
//! readable by its owner only.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use super::{CachedToken, StoreFuture, TokenStore, now_ms};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Tokens shared through a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
}

fn store_error(e: impl std::fmt::Display) -> Error {
    Error::TokenStore(format!("sqlite: {e}"))
}

impl SqliteStore {
    /// Opens (or creates, mode 0600) the store at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        create_private(&path)?;
        let conn = Connection::open(&path).map_err(store_error)?;
        conn.busy_timeout(BUSY_PATIENCE).map_err(store_error)?;
        switch_to_wal(&conn).map_err(store_error)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, token TEXT NOT NULL, expires_at_ms INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS locks (key TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL);",
        )
        .map_err(store_error)?;
        Ok(Self {
            path,
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection off the async runtime.
    fn run<T, F>(&self, f: F) -> StoreFuture<'static, T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let conn = conn
                    .lock()
                    .map_err(|_| store_error("connection poisoned"))?;
                f(&conn).map_err(store_error)
            })
            .await
            .map_err(store_error)?
        })
    }
}

/// How long a call waits for another process's lock on the file.
const BUSY_PATIENCE: Duration = Duration::from_secs(10);

/// Puts the file in WAL mode (readers never wait for the writer). The
/// switch takes an exclusive lock without calling SQLite's busy handler, so
/// when several processes open a new store at once, all but one are told
/// "database is locked" at once: they try again until [`BUSY_PATIENCE`] is
/// spent. Once the file is in WAL mode the switch is a no-op.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = std::time::Instant::now() + BUSY_PATIENCE;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < give_up =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other.map(drop),
        }
    }
}

/// Creates the file with mode 0600 if it does not exist.
fn create_private(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(store_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map(drop)
        .map_err(|e| store_error(format!("{}: {e}", path.display())))
}

impl TokenStore for SqliteStore {
    fn load<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<CachedToken>> {
        let key = key.to_owned();
        self.run(move |c| {
            c.query_row(
                "SELECT token, expires_at_ms FROM tokens WHERE key = ?1",
                params![key],
                |r| {
                    Ok(CachedToken {
                        token: Secret::new(r.get::<_, String>(0)?),
                        expires_at_ms: r.get(1)?,
                    })
                },
            )
            .optional()
        })
    }

    fn save<'a>(&'a self, key: &'a str, token: &'a CachedToken) -> StoreFuture<'a, ()> {
        let (key, value, expires) = (
            key.to_owned(),
            token.token.expose().to_owned(),
            token.expires_at_ms,
        );
        self.run(move |c| {
            c.execute(
                "INSERT INTO tokens (key, token, expires_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET token = excluded.token, expires_at_ms = excluded.expires_at_ms",
                params![key, value, expires],
            )
            .map(drop)
        })
    }

    fn invalidate<'a>(&'a self, key: &'a str, token: &'a str) -> StoreFuture<'a, ()> {
        let (key, token) = (key.to_owned(), token.to_owned());
        self.run(move |c| {
            c.execute(
                "DELETE FROM tokens WHERE key = ?1 AND token = ?2",
                params![key, token],
            )
            .map(drop)
        })
    }

    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> StoreFuture<'a, bool> {
        let (key, owner) = (key.to_owned(), owner.to_owned());
        let now = now_ms();
        let expires = now + ttl.as_millis() as i64;
        self.run(move |c| {
            let changed = c.execute(
                "INSERT INTO locks (key, owner, expires_at_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT(key) DO UPDATE SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
                 WHERE locks.expires_at_ms < ?4 OR locks.owner = excluded.owner",
                params![key, owner, expires, now],
            )?;
            Ok(changed == 1)
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()> {
        let (key, owner) = (key.to_owned(), owner.to_owned());
        self.run(move |c| {
            c.execute(
                "DELETE FROM locks WHERE key = ?1 AND owner = ?2",
                params![key, owner],
            )
            .map(drop)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Connections creating one new store at once all succeed: the switch
    /// to WAL mode is tried again while another holds the lock (CI saw
    /// "database is locked" from one of four processes).
    #[test]
    fn many_open_a_new_store_at_once() {
        for round in 0..40 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join(format!("t{round}.db"));
            let barrier = Arc::new(std::sync::Barrier::new(6));
            let threads: Vec<_> = (0..6)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        SqliteStore::open(&path).map(drop)
                    })
                })
                .collect();
            for t in threads {
                t.join().expect("thread").expect("open");
            }
        }
    }
}
