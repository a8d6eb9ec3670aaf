//! The journal: a SQLite file that is the source of truth for what was sent.
//! Write before acting, record after: a campaign and its batches (with their
//! members and clientmsgids) are written before any request; a batch is
//! `submitting` before its request and `submitted`, with its msg_id, after.
//! A rerun reads it and resends only what may not have gone out, with the
//! same clientmsgid, so WeChat refuses a duplicate.

use std::path::Path;

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// One campaign as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    /// Its name.
    pub id: String,
    /// The account.
    pub appid: String,
    /// The message, as JSON.
    pub content: serde_json::Value,
    /// `all`, `tag` or `openids`.
    pub audience_kind: String,
    /// The tag id, for `tag`.
    pub tag_id: Option<u32>,
    /// Followers addressed (known when planned).
    pub audience_size: i64,
    /// Unix seconds.
    pub created_at: i64,
}

/// One batch as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Batch {
    /// 0-based.
    pub index: u32,
    /// The clientmsgid it is sent with.
    pub clientmsgid: String,
    /// Openids in it (0 for all/tag).
    pub size: i64,
    /// `planned`, `submitting` or `submitted`.
    pub state: String,
    /// The job, once known.
    pub msg_id: Option<i64>,
    /// mass/get status, once polled.
    pub status: Option<String>,
    /// WeChat's MASSSENDJOBFINISH report, once `serve` has recorded it.
    pub report: Option<Report>,
}

/// A MASSSENDJOBFINISH report as recorded by `serve`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `send success`, `send fail` or `err(N)`.
    pub status: String,
    /// Followers addressed.
    pub total_count: i64,
    /// Left after filtering (quota, unfollowed).
    pub filter_count: i64,
    /// Delivered.
    pub sent_count: i64,
    /// Failed.
    pub error_count: i64,
    /// The copyright check's CheckState, for mpnews.
    pub check_state: Option<i64>,
    /// The sent articles' URLs.
    pub article_urls: Vec<String>,
}

/// The journal file.
pub struct Journal {
    conn: Connection,
}

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// The tables of the first release (user_version 0). A new journal is
/// created through them and upgraded like an old one, so there is one path.
const SCHEMA_V0: &str = "
    CREATE TABLE IF NOT EXISTS campaigns (
        id TEXT PRIMARY KEY, appid TEXT NOT NULL, content TEXT NOT NULL,
        audience_kind TEXT NOT NULL, tag_id INTEGER, audience_size INTEGER NOT NULL,
        created_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS batches (
        campaign TEXT NOT NULL, idx INTEGER NOT NULL, clientmsgid TEXT NOT NULL,
        size INTEGER NOT NULL, state TEXT NOT NULL, msg_id INTEGER, msg_data_id INTEGER,
        status TEXT, submitted_at INTEGER, updated_at INTEGER NOT NULL,
        PRIMARY KEY (campaign, idx));
    CREATE TABLE IF NOT EXISTS members (
        cid INTEGER NOT NULL, idx INTEGER NOT NULL, openid TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS members_batch ON members (cid, idx);
    CREATE TABLE IF NOT EXISTS pushes (
        msg_id INTEGER PRIMARY KEY, status TEXT NOT NULL, total_count INTEGER NOT NULL,
        filter_count INTEGER NOT NULL, sent_count INTEGER NOT NULL, error_count INTEGER NOT NULL,
        check_state INTEGER, article_urls TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS media (
        content_hash TEXT NOT NULL, kind TEXT NOT NULL, media_id TEXT NOT NULL,
        url TEXT, uploaded_at INTEGER NOT NULL, PRIMARY KEY (content_hash, kind));";

/// Version 1: reports keyed by (appid, msg_id), since msg_ids are numbered
/// per account; a second, different report for a job kept apart as a
/// conflict; the callback queries `serve` has used, so that a restart
/// opens no replay; batches found by msg_id.
const MIGRATION_V1: &str = "
    CREATE TABLE reports (
        appid TEXT NOT NULL, msg_id INTEGER NOT NULL, status TEXT NOT NULL,
        total_count INTEGER NOT NULL, filter_count INTEGER NOT NULL, sent_count INTEGER NOT NULL,
        error_count INTEGER NOT NULL, check_state INTEGER, article_urls TEXT NOT NULL,
        event TEXT NOT NULL, received_at INTEGER NOT NULL, PRIMARY KEY (appid, msg_id));
    -- Old reports belong to the account of the campaign that sent the job.
    INSERT INTO reports
        SELECT COALESCE((SELECT c.appid FROM batches b JOIN campaigns c ON c.id = b.campaign
                         WHERE b.msg_id = p.msg_id LIMIT 1), ''),
               p.msg_id, p.status, p.total_count, p.filter_count, p.sent_count, p.error_count,
               p.check_state, p.article_urls, p.event, p.received_at
        FROM pushes p;
    DROP TABLE pushes;
    ALTER TABLE reports RENAME TO pushes;
    CREATE TABLE push_conflicts (
        appid TEXT NOT NULL, msg_id INTEGER NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
    CREATE TABLE seen_requests (
        timestamp INTEGER NOT NULL, nonce TEXT NOT NULL, content BLOB NOT NULL,
        expires_at INTEGER NOT NULL, PRIMARY KEY (timestamp, nonce)) WITHOUT ROWID;
    CREATE INDEX seen_requests_expiry ON seen_requests (expires_at);
    CREATE INDEX batches_msg_id ON batches (msg_id);";

/// What became of a report handed to [`Journal::record_received`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Recorded; `known` says whether a batch of a campaign has its job
    /// (a report can also arrive before `send` has written the msg_id).
    New {
        /// A batch has this job.
        known: bool,
    },
    /// The same report was recorded before (WeChat's retry, or a restart).
    Duplicate,
    /// A different report for a job already reported: kept apart, the first
    /// stays.
    Conflict,
    /// The request carried no job report.
    NoReport,
}

/// A request `serve` accepted: the report it carried, if any, and the
/// replay guard's entry for it.
pub struct Received {
    /// The report.
    pub job: Option<wxmass_callback::MassSendJobFinish>,
    /// The request, remembered until its window closes.
    pub request: wxmass_callback::SeenRequest,
}

/// A report no batch knows, or a second report that contradicts the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StrayReport {
    /// The account.
    pub appid: String,
    /// The job.
    pub msg_id: i64,
    /// `unknown job` or `conflict`.
    pub kind: &'static str,
    /// The report's status.
    pub status: String,
    /// Delivered, as reported.
    pub sent_count: i64,
    /// Unix seconds.
    pub received_at: i64,
}

impl Journal {
    /// Opens or creates the journal (mode 0600: it names followers), and
    /// upgrades an older one in place.
    pub fn open(path: &Path) -> Result<Journal> {
        if path.is_dir() {
            bail!(
                "the journal {} is a folder: give a file, such as {}",
                path.display(),
                path.join("journal.db").display()
            );
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if dir.exists() && !dir.is_dir() {
                bail!(
                    "cannot put the journal {} in {}: that is a file, not a folder",
                    path.display(),
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the journal's folder {}", dir.display()))?;
        }
        create_private(path)
            .with_context(|| format!("cannot create the journal {}", path.display()))?;
        make_private(path)?;
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        conn.busy_timeout(BUSY_PATIENCE)?;
        let explain = |e: rusqlite::Error| explain_open_error(path, e);
        switch_to_wal(&conn).map_err(explain)?;
        conn.execute_batch(
            "PRAGMA synchronous = FULL;
             PRAGMA journal_size_limit = 8388608;",
        )
        .map_err(explain)?;
        let mut journal = Journal { conn };
        journal
            .migrate()
            .map_err(|e| match e.downcast::<rusqlite::Error>() {
                Ok(sqlite) => explain(sqlite),
                Err(other) => other,
            })?;
        // SQLite made the -wal and -shm files beside it; an old pair may be
        // readable by others.
        make_private(path)?;
        Ok(journal)
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one step per transaction.
    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            bail!(
                "the journal was written by a newer wxmass (schema {version}, this build knows {SCHEMA_VERSION}): upgrade wxmass; the journal is untouched"
            );
        }
        if version < 1 {
            // Immediate: the write lock first, so two processes upgrading
            // at once wait for each other instead of failing.
            let tx = self
                .conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            // Another process may have upgraded it while this one waited.
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version >= 1 {
                return Ok(());
            }
            tx.execute_batch(SCHEMA_V0)?;
            tx.execute_batch(MIGRATION_V1)?;
            tx.pragma_update(None, "user_version", 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A campaign by id.
    pub fn campaign(&self, id: &str) -> Result<Option<Campaign>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, appid, content, audience_kind, tag_id, audience_size, created_at FROM campaigns WHERE id = ?1",
                params![id],
                |r| {
                    Ok(Campaign {
                        id: r.get(0)?,
                        appid: r.get(1)?,
                        content: serde_json::from_str(&r.get::<_, String>(2)?).unwrap_or_default(),
                        audience_kind: r.get(3)?,
                        tag_id: r.get(4)?,
                        audience_size: r.get(5)?,
                        created_at: r.get(6)?,
                    })
                },
            )
            .optional()?)
    }

    /// Every campaign, newest first.
    pub fn campaigns(&self) -> Result<Vec<Campaign>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM campaigns ORDER BY created_at DESC, id")?;
        let ids: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        ids.iter()
            .filter_map(|id| self.campaign(id).transpose())
            .collect()
    }

    /// Starts recording a campaign. Everything added to the [`Planner`] is
    /// written in one transaction when it finishes, before anything is sent;
    /// dropped unfinished, nothing is recorded.
    pub fn plan(&mut self, campaign: &Campaign) -> Result<Planner<'_>> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO campaigns (id, appid, content, audience_kind, tag_id, audience_size, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                campaign.id,
                campaign.appid,
                campaign.content.to_string(),
                campaign.audience_kind,
                campaign.tag_id,
                campaign.audience_size,
                campaign.created_at
            ],
        )?;
        let cid = tx.last_insert_rowid();
        Ok(Planner {
            tx,
            cid,
            campaign: campaign.id.clone(),
            created_at: campaign.created_at,
            added: 0,
        })
    }

    /// A campaign's batches, in order.
    pub fn batches(&self, campaign: &str) -> Result<Vec<Batch>> {
        // Reports live in `pushes` alone and are joined here, so a report
        // that arrives before its batch is marked submitted still shows.
        let mut stmt = self.conn.prepare(
            "SELECT b.idx, b.clientmsgid, b.size, b.state, b.msg_id, b.status,
                    p.status, p.total_count, p.filter_count, p.sent_count, p.error_count, p.check_state, p.article_urls
             FROM batches b JOIN campaigns c ON c.id = b.campaign
             LEFT JOIN pushes p ON p.appid = c.appid AND p.msg_id = b.msg_id
             WHERE b.campaign = ?1 ORDER BY b.idx",
        )?;
        let rows = stmt.query_map(params![campaign], |r| {
            let report = match r.get::<_, Option<String>>(6)? {
                None => None,
                Some(status) => Some(Report {
                    status,
                    total_count: r.get(7)?,
                    filter_count: r.get(8)?,
                    sent_count: r.get(9)?,
                    error_count: r.get(10)?,
                    check_state: r.get(11)?,
                    article_urls: serde_json::from_str(&r.get::<_, String>(12)?)
                        .unwrap_or_default(),
                }),
            };
            Ok(Batch {
                index: r.get(0)?,
                clientmsgid: r.get(1)?,
                size: r.get(2)?,
                state: r.get(3)?,
                msg_id: r.get(4)?,
                status: r.get(5)?,
                report,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A batch's openids.
    pub fn members(&self, campaign: &str, index: u32) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(
            "SELECT openid FROM members WHERE cid = (SELECT rowid FROM campaigns WHERE id = ?1) AND idx = ?2 ORDER BY rowid",
        )?;
        let rows = stmt.query_map(params![campaign, index], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks a batch as about to be sent. Committed before the request leaves.
    pub fn mark_submitting(&self, campaign: &str, index: u32) -> Result<()> {
        self.conn.execute(
            "UPDATE batches SET state = 'submitting', updated_at = ?3 WHERE campaign = ?1 AND idx = ?2 AND state = 'planned'",
            params![campaign, index, now()],
        )?;
        Ok(())
    }

    /// Records a submitted batch.
    pub fn mark_submitted(
        &self,
        campaign: &str,
        index: u32,
        msg_id: Option<i64>,
        msg_data_id: Option<i64>,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE batches SET state = 'submitted', msg_id = COALESCE(?3, msg_id), msg_data_id = COALESCE(?4, msg_data_id),
             submitted_at = COALESCE(submitted_at, ?5), updated_at = ?5 WHERE campaign = ?1 AND idx = ?2",
            params![campaign, index, msg_id, msg_data_id, now()],
        )?;
        Ok(())
    }

    /// Records the status of the job `msg_id` of `appid`, wherever it is.
    pub fn set_status_of_job(&self, appid: &str, msg_id: i64, status: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE batches SET status = ?3, updated_at = ?4 WHERE msg_id = ?2
             AND campaign IN (SELECT id FROM campaigns WHERE appid = ?1)",
            params![appid, msg_id, status, now()],
        )?;
        Ok(())
    }

    /// Records a job's mass/get status.
    pub fn set_status(&self, campaign: &str, index: u32, status: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE batches SET status = ?3, updated_at = ?4 WHERE campaign = ?1 AND idx = ?2",
            params![campaign, index, status, now()],
        )?;
        Ok(())
    }

    /// Records what `serve` accepted, all in one transaction (one fsync for
    /// the group): each request for the replay guard, each report once per
    /// (appid, msg_id). A report for a job recorded before is a duplicate
    /// when it says the same, and a conflict, kept apart, when it does not.
    pub fn record_received(&mut self, appid: &str, received: &[Received]) -> Result<Vec<Recorded>> {
        let now = now();
        let tx = self.conn.transaction()?;
        let mut outcomes = Vec::with_capacity(received.len());
        {
            let mut seen = tx.prepare_cached(
                "INSERT OR IGNORE INTO seen_requests (timestamp, nonce, content, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO pushes (appid, msg_id, status, total_count, filter_count, sent_count,
                 error_count, check_state, article_urls, event, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            let mut known = tx.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM batches b JOIN campaigns c ON c.id = b.campaign
                 WHERE b.msg_id = ?2 AND c.appid = ?1)",
            )?;
            let mut earlier =
                tx.prepare_cached("SELECT event FROM pushes WHERE appid = ?1 AND msg_id = ?2")?;
            let mut conflict = tx.prepare_cached(
                "INSERT INTO push_conflicts (appid, msg_id, event, received_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in received {
                let q = &r.request;
                seen.execute(params![q.timestamp, q.nonce, &q.content[..], q.expires_at])?;
                let Some(job) = &r.job else {
                    outcomes.push(Recorded::NoReport);
                    continue;
                };
                let urls: Vec<&str> = job
                    .article_url_result
                    .iter()
                    .flat_map(|r| r.items.iter().map(|i| i.article_url.as_str()))
                    .collect();
                let event = serde_json::to_string(job)?;
                let inserted = insert.execute(params![
                    appid,
                    job.msg_id,
                    job.status.to_string(),
                    job.total_count,
                    job.filter_count,
                    job.sent_count,
                    job.error_count,
                    job.copyright_check_result
                        .as_ref()
                        .map(|c| c.check_state.code()),
                    serde_json::to_string(&urls)?,
                    event,
                    now
                ])?;
                outcomes.push(if inserted == 1 {
                    Recorded::New {
                        known: known.query_row(params![appid, job.msg_id], |row| row.get(0))?,
                    }
                } else {
                    let first: String =
                        earlier.query_row(params![appid, job.msg_id], |row| row.get(0))?;
                    if first == event {
                        Recorded::Duplicate
                    } else {
                        conflict.execute(params![appid, job.msg_id, event, now])?;
                        Recorded::Conflict
                    }
                });
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// The callback requests whose timestamp window is still open at `now`.
    pub fn seen_requests(&self, now: i64) -> Result<Vec<wxmass_callback::SeenRequest>> {
        let mut stmt = self.conn.prepare(
            "SELECT timestamp, nonce, content, expires_at FROM seen_requests WHERE expires_at >= ?1",
        )?;
        let rows = stmt.query_map(params![now], |r| {
            let content: Vec<u8> = r.get(2)?;
            Ok(wxmass_callback::SeenRequest {
                timestamp: r.get(0)?,
                nonce: r.get(1)?,
                content: content.try_into().unwrap_or([0; 20]),
                expires_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Forgets requests whose window closed before `now`.
    pub fn prune_seen_requests(&self, now: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM seen_requests WHERE expires_at < ?1",
            params![now],
        )?)
    }

    /// Reports that no batch knows (yet), and reports that contradict the
    /// first one recorded for their job.
    pub fn stray_reports(&self) -> Result<Vec<StrayReport>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.appid, p.msg_id, 'unknown job', p.status, p.sent_count, p.received_at FROM pushes p
             WHERE NOT EXISTS (SELECT 1 FROM batches b JOIN campaigns c ON c.id = b.campaign
                               WHERE b.msg_id = p.msg_id AND c.appid = p.appid)
             UNION ALL
             SELECT appid, msg_id, 'conflict', json_extract(event, '$.status'),
                    json_extract(event, '$.sent_count'), received_at FROM push_conflicts
             ORDER BY 6, 2",
        )?;
        let rows = stmt.query_map([], |r| {
            let kind: String = r.get(2)?;
            Ok(StrayReport {
                appid: r.get(0)?,
                msg_id: r.get(1)?,
                kind: if kind == "conflict" {
                    "conflict"
                } else {
                    "unknown job"
                },
                status: r.get(3)?,
                sent_count: r.get(4)?,
                received_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Reports received so far.
    pub fn push_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM pushes", [], |r| r.get(0))?)
    }

    /// Campaigns of `appid` to tag `tag_id` that had a batch submitted at
    /// or after `since` (Unix seconds).
    pub fn tag_campaigns_sent_since(&self, appid: &str, tag_id: u32, since: i64) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(DISTINCT c.id) FROM campaigns c JOIN batches b ON b.campaign = c.id
             WHERE c.appid = ?1 AND c.audience_kind = 'tag' AND c.tag_id = ?2 AND b.submitted_at >= ?3",
            params![appid, tag_id, since],
            |r| r.get(0),
        )?)
    }

    /// Campaigns of `appid` with an audience of `kinds` that had a batch
    /// submitted at or after `since` (Unix seconds).
    pub fn campaigns_sent_since(&self, appid: &str, kinds: &[&str], since: i64) -> Result<i64> {
        let mut total = 0;
        for kind in kinds {
            total += self.conn.query_row(
                "SELECT COUNT(DISTINCT c.id) FROM campaigns c JOIN batches b ON b.campaign = c.id
                 WHERE c.appid = ?1 AND c.audience_kind = ?2 AND b.submitted_at >= ?3",
                params![appid, kind, since],
                |r| r.get::<_, i64>(0),
            )?;
        }
        Ok(total)
    }

    /// A media id uploaded for these bytes after `uploaded_after` (Unix
    /// seconds; temporary media expire).
    pub fn media(
        &self,
        content_hash: &str,
        kind: &str,
        uploaded_after: i64,
    ) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT media_id FROM media WHERE content_hash = ?1 AND kind = ?2 AND uploaded_at > ?3",
                params![content_hash, kind, uploaded_after],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Records an upload as soon as it exists.
    pub fn record_media(
        &self,
        content_hash: &str,
        kind: &str,
        media_id: &str,
        url: Option<&str>,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO media (content_hash, kind, media_id, url, uploaded_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![content_hash, kind, media_id, url, now()],
        )?;
        Ok(())
    }
}

/// How long a statement waits for another process's lock on the journal.
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Puts the journal in WAL mode (`serve` reads while `send` writes). The
/// switch takes an exclusive lock without calling SQLite's busy handler, so
/// processes opening a new journal at once are told "database is locked" at
/// once: they try again until [`BUSY_PATIENCE`] is spent. Once the file is
/// in WAL mode the switch is a no-op.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let give_up = std::time::Instant::now() + BUSY_PATIENCE;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < give_up =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
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
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).with_context(
                || {
                    format!(
                        "{} is readable by others and cannot be made private: run `chmod 600 {}`",
                        file.display(),
                        file.display()
                    )
                },
            )?;
        }
    }
    Ok(())
}

/// Says what is wrong with a journal SQLite could not open or upgrade, and
/// what to do, without ever advising to throw the record away.
fn explain_open_error(path: &Path, error: rusqlite::Error) -> anyhow::Error {
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
    anyhow::Error::new(error).context(advice)
}

/// Unix seconds.
pub fn now() -> i64 {
    wxmass_api::token::now_ms() / 1000
}

/// A campaign being recorded: openids are appended, in order, to a
/// temporary table (on disk: memory stays flat however long the list), then
/// deduplicated and cut into batches by one sorting query when it finishes.
pub struct Planner<'j> {
    tx: rusqlite::Transaction<'j>,
    cid: i64,
    campaign: String,
    created_at: i64,
    added: u64,
}

impl Planner<'_> {
    /// Adds an openid (a repeat is dropped when the plan finishes).
    pub fn add(&mut self, openid: &str) -> Result<()> {
        if self.added == 0 {
            self.tx.execute_batch(
                "CREATE TEMP TABLE IF NOT EXISTS staging (openid TEXT NOT NULL); DELETE FROM temp.staging;",
            )?;
        }
        self.tx
            .prepare_cached("INSERT INTO temp.staging (openid) VALUES (?1)")?
            .execute(params![openid])?;
        self.added += 1;
        Ok(())
    }

    /// Of the openids added so far: how many different ones there are, and
    /// how many already had `cap` or more of `appid`'s campaigns submitted
    /// to them since `since` (as members of earlier openid lists). A temporary
    /// index makes this one pass over the month's members.
    pub fn followers_at_cap(&self, appid: &str, since: i64, cap: i64) -> Result<(u64, u64)> {
        if self.added == 0 {
            return Ok((0, 0));
        }
        self.tx
            .execute_batch("CREATE INDEX IF NOT EXISTS temp.staging_openid ON staging (openid);")?;
        let distinct: i64 =
            self.tx
                .query_row("SELECT COUNT(DISTINCT openid) FROM temp.staging", [], |r| {
                    r.get(0)
                })?;
        let distinct = u64::try_from(distinct).unwrap_or(0);
        if cap <= 0 {
            return Ok((distinct, distinct));
        }
        let capped: i64 = self.tx.query_row(
            "SELECT COUNT(*) FROM (
                 SELECT m.openid FROM members m JOIN campaigns c ON c.rowid = m.cid
                 WHERE c.appid = ?1 AND m.cid != ?4
                   AND c.id IN (SELECT campaign FROM batches WHERE submitted_at >= ?2)
                   AND m.openid IN (SELECT openid FROM temp.staging)
                 GROUP BY m.openid HAVING COUNT(DISTINCT m.cid) >= ?3)",
            params![appid, since, cap, self.cid],
            |r| r.get(0),
        )?;
        Ok((u64::try_from(capped).unwrap_or(0), distinct))
    }

    /// Writes the batches and commits; returns the number of different
    /// openids. For an openid list, batches of `batch_size` in the order of
    /// first appearance, except that a last batch of one openid (mass/send
    /// takes at least two) gets one more from the batch before it; for
    /// every follower or a tag, one batch without members. `clientmsgid`
    /// names each batch's.
    pub fn finish(self, batch_size: u64, clientmsgid: impl Fn(u32) -> String) -> Result<u64> {
        let (openids, _) = self.batches(batch_size, &clientmsgid)?;
        self.tx.commit()?;
        Ok(openids)
    }

    /// The same plan as [`finish`](Self::finish), by the same code, then
    /// thrown away: nothing is recorded. Returns the number of different
    /// openids and each batch's size (0 for every follower or a tag).
    pub fn rehearse(self, batch_size: u64) -> Result<(u64, Vec<u64>)> {
        let plan = self.batches(batch_size, &|i| format!("rehearsal-{i}"))?;
        self.tx.rollback()?;
        Ok(plan)
    }

    fn batches(
        &self,
        batch_size: u64,
        clientmsgid: &dyn Fn(u32) -> String,
    ) -> Result<(u64, Vec<u64>)> {
        let openids = if self.added == 0 {
            0
        } else {
            let n = self.tx.execute(
                "INSERT INTO members (cid, idx, openid)
                 SELECT ?1, (ROW_NUMBER() OVER (ORDER BY first) - 1) / ?2, openid
                 FROM (SELECT openid, MIN(rowid) AS first FROM temp.staging GROUP BY openid)
                 ORDER BY first",
                params![self.cid, batch_size as i64],
            )? as u64;
            self.tx.execute("DELETE FROM temp.staging", [])?;
            if n < 2 {
                bail!("mass/send needs at least 2 different openids; the list has {n}");
            }
            n
        };
        let sizes: Vec<u64> = if openids == 0 {
            vec![0]
        } else {
            let full = openids / batch_size;
            let rest = openids % batch_size;
            let mut sizes = vec![batch_size; full as usize];
            if rest > 0 {
                sizes.push(rest);
            }
            if sizes.len() > 1 && rest == 1 {
                let last = sizes.len() - 1;
                self.tx.execute(
                    "UPDATE members SET idx = ?3 WHERE rowid =
                     (SELECT max(rowid) FROM members WHERE cid = ?1 AND idx = ?2)",
                    params![self.cid, last as u32 - 1, last as u32],
                )?;
                sizes[last - 1] -= 1;
                sizes[last] += 1;
            }
            self.tx.execute(
                "UPDATE campaigns SET audience_size = ?2 WHERE rowid = ?1",
                params![self.cid, openids as i64],
            )?;
            sizes
        };
        {
            let mut stmt = self.tx.prepare(
                "INSERT INTO batches (campaign, idx, clientmsgid, size, state, updated_at) VALUES (?1, ?2, ?3, ?4, 'planned', ?5)",
            )?;
            for (idx, size) in sizes.iter().enumerate() {
                let idx = idx as u32;
                stmt.execute(params![
                    self.campaign,
                    idx,
                    clientmsgid(idx),
                    *size as i64,
                    self.created_at
                ])?;
            }
        }
        Ok((openids, sizes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn campaign(id: &str) -> Campaign {
        Campaign {
            id: id.into(),
            appid: "wx".into(),
            content: serde_json::json!({"type": "text"}),
            audience_kind: "openids".into(),
            tag_id: None,
            audience_size: 0,
            created_at: 1,
        }
    }

    #[test]
    fn batches_skip_repeats_and_never_end_with_a_single_openid() {
        let dir = tempfile::tempdir().expect("dir");
        let mut journal = Journal::open(&dir.path().join("j.db")).expect("open");
        let mut planner = journal.plan(&campaign("c")).expect("plan");
        for i in (0..11).chain([3, 7]) {
            planner.add(&format!("o{i}")).expect("add");
        }
        assert_eq!(planner.finish(5, |i| format!("m{i}")).expect("finish"), 11);
        let sizes: Vec<i64> = journal
            .batches("c")
            .expect("batches")
            .iter()
            .map(|b| b.size)
            .collect();
        assert_eq!(sizes, [5, 4, 2]);
        let all: Vec<String> = (0..3)
            .flat_map(|i| journal.members("c", i).expect("members"))
            .collect();
        assert_eq!(journal.members("c", 2).expect("last").len(), 2);
        // First appearance order, repeats dropped.
        let expected: Vec<String> = (0..11).map(|i| format!("o{i}")).collect();
        assert_eq!(all, expected);
        assert_eq!(
            journal.campaign("c").expect("c").map(|c| c.audience_size),
            Some(11)
        );
    }

    #[test]
    fn an_unfinished_plan_records_nothing() {
        let dir = tempfile::tempdir().expect("dir");
        let mut journal = Journal::open(&dir.path().join("j.db")).expect("open");
        let mut planner = journal.plan(&campaign("c")).expect("plan");
        planner.add("o1").expect("add");
        planner.add("o1").expect("add");
        let error = planner
            .finish(5, |i| format!("m{i}"))
            .expect_err("one openid");
        assert!(error.to_string().contains("2 different openids"), "{error}");
        assert!(journal.campaign("c").expect("query").is_none());
        assert!(journal.members("c", 0).expect("members").is_empty());
    }

    /// A journal as the first release wrote it (no user_version; reports
    /// keyed by msg_id alone) opens, and is upgraded in place: its reports
    /// keep their counts and belong to the account that sent the job.
    #[test]
    fn a_first_release_journal_is_upgraded_in_place() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).expect("create");
            conn.execute_batch(SCHEMA_V0).expect("old schema");
            conn.execute_batch(
                "INSERT INTO campaigns VALUES ('c', 'wxA', '{\"type\":\"text\"}', 'tag', 100, 50, 1);
                 INSERT INTO batches (campaign, idx, clientmsgid, size, state, msg_id, updated_at)
                     VALUES ('c', 0, 'm0', 0, 'submitted', 1000001, 1);
                 INSERT INTO pushes VALUES (1000001, 'send success', 50, 50, 49, 1, NULL, '[]', '{}', 2);
                 INSERT INTO pushes VALUES (2000002, 'send fail', 3, 0, 0, 0, NULL, '[]', '{}', 3);",
            )
            .expect("old rows");
        }
        let mut journal = Journal::open(&path).expect("upgraded");
        let version: i64 = journal
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
        let report = journal.batches("c").expect("batches")[0]
            .report
            .clone()
            .expect("the old report is joined to its batch");
        assert_eq!((report.sent_count, report.error_count), (49, 1));
        let strays = journal.stray_reports().expect("strays");
        assert_eq!(strays.len(), 1);
        assert_eq!((strays[0].appid.as_str(), strays[0].msg_id), ("", 2000002));
        // Opening again changes nothing, and new reports go in beside the old.
        drop(journal);
        journal = Journal::open(&path).expect("reopened");
        assert_eq!(journal.push_count().expect("count"), 2);
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
                        Journal::open(&path).map(drop)
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
        let error = Journal::open(&path).err().expect("refused");
        let shown = format!("{error:#}");
        assert!(shown.contains("newer wxmass"), "{shown}");
        assert!(
            !shown.contains("move"),
            "never advise moving it aside: {shown}"
        );
    }
}
