//! The store in a SQLite file: one host. Each aggregate's methods are in
//! the file named after it; this one opens the file and keeps its one
//! connection.
//!
//! Shape, for speed and size: a campaign is one row, each batch one row
//! holding its openids as one compact blob ([`crate::openids`]), each file
//! the message needs one content-addressed blob. Planning is one
//! transaction (one fsync); each state change that must survive a crash
//! (`submitting` before a request, `submitted` after) is one more.

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

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};
use crate::store::migrations;

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = migrations::LATEST;

/// How long a statement waits for another process's lock on the journal.
const BUSY_PATIENCE: Duration = Duration::from_secs(10);

/// The journal file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl super::Store for SqliteStore {
    fn is_shared(&self) -> bool {
        false
    }
}

impl SqliteStore {
    /// The connection. A panic while it was held cannot leave it half
    /// written (every change is a transaction), so a poisoned lock is used.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens or creates the journal (mode 0600: it names followers), and
    /// upgrades an older one in place.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let invalid = |advice: String| Error::Store {
            advice,
            source: None,
        };
        if path.is_dir() {
            return Err(invalid(format!(
                "the journal {} is a folder: give a file, such as {}",
                path.display(),
                path.join("journal.db").display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if dir.exists() && !dir.is_dir() {
                return Err(invalid(format!(
                    "cannot put the journal {} in {}: that is a file, not a folder",
                    path.display(),
                    dir.display()
                )));
            }
            std::fs::create_dir_all(dir).map_err(|e| {
                invalid(format!(
                    "cannot create the journal's folder {}: {e}",
                    dir.display()
                ))
            })?;
        }
        create_private(path)
            .map_err(|e| invalid(format!("cannot create the journal {}: {e}", path.display())))?;
        make_private(path)?;
        let explain = |e: rusqlite::Error| explain_open_error(path, e);
        let conn = Connection::open(path).map_err(explain)?;
        conn.busy_timeout(BUSY_PATIENCE).map_err(explain)?;
        // A newer journal is refused before anything is written to it.
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(explain)?;
        if version > SCHEMA_VERSION {
            return Err(Error::NewerSchema {
                found: version,
                known: SCHEMA_VERSION,
            });
        }
        switch_to_wal(&conn).map_err(explain)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA journal_size_limit = 8388608;",
        )
        .map_err(explain)?;
        let mut conn = conn;
        migrations::sqlite(&mut conn).map_err(|e| match e {
            Error::Store {
                source: Some(sqlite),
                ..
            } => explain(sqlite),
            other => other,
        })?;
        // SQLite made the -wal and -shm files beside it; an old pair may be
        // readable by others.
        make_private(path)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    /// The schema version of the file.
    pub fn version(&self) -> Result<i64> {
        Ok(self
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }
}

/// Puts the journal in WAL mode (the receiver reads while a send writes).
/// The switch takes an exclusive lock without calling SQLite's busy
/// handler, so processes opening a new journal at once are told "database
/// is locked" at once: they try again until [`BUSY_PATIENCE`] is spent.
/// Once the file is in WAL mode the switch is a no-op.
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

/// Creates the journal file with mode 0600 if it does not exist. Never
/// replaces or opens one that does (another process may have made it a
/// moment ago and be writing to it; it may be read-only).
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map(drop),
    }
}

/// Tightens the journal and its -wal and -shm files to 0600 (they name
/// followers), or says how to.
fn make_private(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut shm = path.as_os_str().to_owned();
        shm.push("-shm");
        for file in [path.to_path_buf(), wal.into(), shm.into()] {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if meta.permissions().mode() & 0o077 == 0 {
                continue;
            }
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(
                |e| Error::Store {
                    advice: format!(
                        "{} is readable by others and cannot be made private ({e}): run `chmod 600 {}`",
                        file.display(),
                        file.display()
                    ),
                    source: None,
                },
            )?;
        }
    }
    Ok(())
}

/// Says what is wrong with a journal SQLite could not open or upgrade, and
/// what to do, without ever advising to throw the record away.
fn explain_open_error(path: &Path, error: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode;
    let shown = path.display();
    let advice = match error.sqlite_error_code() {
        Some(ErrorCode::ReadOnly) => format!(
            "the journal {shown} is read-only (a read-only filesystem, or a file you may not write): mount it writable or fix its permissions; it is intact"
        ),
        Some(ErrorCode::PermissionDenied) | Some(ErrorCode::CannotOpen) => format!(
            "cannot open the journal {shown}: check that you may read and write it and its folder"
        ),
        Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => format!(
            "the journal {shown} is locked by another wxmass process: wait for it to finish, then retry"
        ),
        Some(ErrorCode::NotADatabase) => format!(
            "{shown} is not a wxmass journal (not an SQLite database): pass another --journal; this file was not changed"
        ),
        Some(ErrorCode::DatabaseCorrupt) => format!(
            "the journal {shown} is damaged: keep a copy, then try `sqlite3 {shown} .recover`; do not delete it, it records what was sent"
        ),
        Some(ErrorCode::DiskFull) => {
            format!("no space left for the journal {shown}: free some space, then retry")
        }
        _ => format!("cannot use the journal {shown}"),
    };
    Error::Store {
        advice,
        source: Some(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Audience, BatchState, Campaign, Content, Files, PlannedBatch};
    use crate::store::prelude::*;

    fn campaign(id: &str) -> Campaign {
        Campaign::sent_now(
            id.into(),
            "wx".into(),
            Content::Text { text: "hi".into() },
            Audience::Openids,
            3,
            1,
        )
    }

    fn batch(n: u32, openids: &[&str]) -> Result<PlannedBatch> {
        Ok(PlannedBatch {
            clientmsgid: format!("m{n}"),
            openids: openids.iter().map(|s| s.to_string()).collect(),
        })
    }

    #[tokio::test]
    async fn a_plan_is_recorded_whole_or_not_at_all() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = SqliteStore::open(&dir.path().join("j.db")).expect("open");
        let mut failing = [
            batch(0, &["a", "b"]),
            Err(Error::Invalid("the list broke".into())),
        ]
        .into_iter();
        assert!(
            journal
                .plan(&campaign("c"), &Files::default(), &mut failing)
                .await
                .is_err()
        );
        assert!(
            journal
                .planned_campaign("c")
                .await
                .expect("query")
                .is_none()
        );
        let mut ok = [batch(0, &["a", "b"]), batch(1, &["c", "d"])].into_iter();
        let mut files = Files::default();
        let file = files.add("f.png", b"bytes".to_vec());
        journal
            .plan(&campaign("c"), &files, &mut ok)
            .await
            .expect("plan");
        assert_eq!(journal.openids("c", 1).await.expect("openids"), ["c", "d"]);
        let batches = journal.batches("c").await.expect("batches");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].state, BatchState::Planned);
        assert_eq!(journal.file(&file).await.expect("file"), b"bytes");
        assert_eq!(
            journal.planned_campaign("c").await.expect("c"),
            Some(campaign("c"))
        );
    }

    /// Processes opening one new journal at once all succeed, and it is
    /// made once.
    #[test]
    fn many_open_a_new_journal_at_once() {
        for round in 0..20 {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join(format!("j{round}.db"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
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

    #[test]
    fn a_newer_journal_is_refused_untouched() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("new.db");
        Connection::open(&path)
            .and_then(|c| c.pragma_update(None, "user_version", SCHEMA_VERSION + 1))
            .expect("newer");
        let error = SqliteStore::open(&path).expect_err("refused");
        let shown = error.to_string();
        assert!(shown.contains("newer wxmass"), "{shown}");
        assert!(
            !shown.contains("move"),
            "never advise moving it aside: {shown}"
        );
    }
}
