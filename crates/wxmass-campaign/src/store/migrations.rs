//! The schema's history: numbered `.sql` files per backend under
//! `migrations/{sqlite,postgres}/`, frozen once released (a change to the
//! schema is a new file, never an edit), embedded in the binary and applied
//! in order, all pending ones in one transaction, by [`sqlite`] and
//! [`postgres`].
//!
//! One numbering on both backends: after step N both hold the same tables.
//! Where a backend had a step's tables earlier, its file for that step
//! says so and does nothing.
//!
//! Why not refinery or rusqlite_migration: both pin rusqlite below the 0.43
//! this workspace builds (refinery-core 0.10.1 takes `<= 0.41`,
//! rusqlite_migration 2.6 takes 0.40), and two rusqlite versions cannot
//! link one SQLite. Neither takes the write lock before reading the
//! version (two processes opening a new database at once would both
//! migrate), and step 2 on SQLite needs Rust (old content rewritten in its
//! typed form). The runner below is the few lines those need.
//!
//! Where the version is kept:
//! - SQLite: `PRAGMA user_version`, the number of the last step applied;
//!   the releases before these files counted the same steps the same way.
//! - PostgreSQL: `wxmass_schema.version`. The releases before these files
//!   numbered PostgreSQL's steps one behind (their 1 was 0001 here, their
//!   2 was 0003): a version from 1 to [`PG_OLD_NUMBERING_LAST`] is read as
//!   one more. This build never leaves a database below
//!   [`LATEST`] (> that), so the two numberings cannot be confused.

use rusqlite::TransactionBehavior;

use crate::error::{Error, Result};

/// One step of the schema.
struct Migration {
    /// Its number: 1, 2, ...
    version: i64,
    /// SQLite's SQL.
    sqlite: &'static str,
    /// PostgreSQL's SQL.
    postgres: &'static str,
}

macro_rules! migrations {
    ($($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            sqlite: include_str!(concat!("migrations/sqlite/", $name, ".sql")),
            postgres: include_str!(concat!("migrations/postgres/", $name, ".sql")),
        }),*]
    };
}

/// Every step, in order. Append; never edit or renumber a released one.
const MIGRATIONS: &[Migration] = migrations![
    1 "0001_journal",
    2 "0002_openids_in_one_blob",
    3 "0003_many_workers",
    4 "0004_people",
    5 "0005_publishes",
    6 "0006_reads",
    7 "0007_sign_ins",
    8 "0008_one_set_of_names",
    9 "0009_last_sent_at",
    10 "0010_media_per_account",
    11 "0011_sign_in_addresses",
    12 "0012_users_disabled",
    13 "0013_one_campaign_table",
    14 "0014_testers",
    15 "0015_account_scopes",
    16 "0016_recipients",
    17 "0017_consents",
    18 "0018_platform",
    19 "0019_campaigns_across_accounts",
];

/// The schema version this build writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The last PostgreSQL version of the old numbering (see the module doc).
pub const PG_OLD_NUMBERING_LAST: i64 = 6;

// A PostgreSQL database this build wrote must not read as one of the old
// numbering.
const _: () = assert!(LATEST > PG_OLD_NUMBERING_LAST + 1);

/// What a database's recorded version means, or a refusal if a newer
/// wxmass wrote it.
fn pending(found: i64) -> Result<&'static [Migration]> {
    if found > LATEST {
        return Err(Error::NewerSchema {
            found,
            known: LATEST,
        });
    }
    Ok(&MIGRATIONS[usize::try_from(found).unwrap_or(0)..])
}

/// Brings a SQLite database to [`LATEST`], in one transaction that takes
/// the write lock before it reads the version, so processes opening one
/// database at once wait for each other instead of failing. A newer
/// database is refused before anything is written.
pub fn sqlite(conn: &mut rusqlite::Connection) -> Result<()> {
    let version = |c: &rusqlite::Connection| -> rusqlite::Result<i64> {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    if pending(version(conn)?)?.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Another process may have migrated it while this one waited.
    let todo = pending(version(&tx)?)?;
    if todo.is_empty() {
        return Ok(());
    }
    for step in todo {
        tx.execute_batch(step.sqlite)?;
        if step.version == 2 {
            typed_content(&tx)?;
        }
    }
    tx.pragma_update(None, "user_version", LATEST)?;
    tx.commit()?;
    Ok(())
}

/// Step 2's Rust: the first releases kept content in forms of their own,
/// rewritten here in today's typed form.
fn typed_content(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    let rows: Vec<(String, String)> = tx
        .prepare("SELECT id, content FROM campaigns")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut update = tx.prepare("UPDATE campaigns SET content = ?2 WHERE id = ?1")?;
    for (id, old) in rows {
        let content = crate::legacy::content(&old).ok_or_else(|| Error::Store {
            advice: format!(
                "campaign {id:?} in the journal holds content no wxmass release wrote: {}; the journal is untouched",
                old.escape_debug()
            ),
            source: None,
        })?;
        update.execute(rusqlite::params![id, content.to_json()])?;
    }
    Ok(())
}

/// Brings a PostgreSQL database to [`LATEST`], in one transaction under an
/// advisory lock held until it commits, so that workers starting at once
/// do not race into `CREATE TABLE`. A newer database is refused before
/// anything is changed.
pub async fn postgres(
    client: &mut tokio_postgres::Client,
) -> std::result::Result<Result<()>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    tx.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtext('wxmass journal schema'));
         CREATE TABLE IF NOT EXISTS wxmass_schema (version INTEGER NOT NULL);",
    )
    .await?;
    let found: Option<i32> = tx
        .query_opt("SELECT max(version) FROM wxmass_schema", &[])
        .await?
        .and_then(|r| r.get(0));
    let found = i64::from(found.unwrap_or(0));
    let found = match found {
        1..=PG_OLD_NUMBERING_LAST => found + 1,
        _ => found,
    };
    let todo = match pending(found) {
        Ok(todo) => todo,
        Err(refused) => {
            tx.rollback().await?;
            return Ok(Err(refused));
        }
    };
    if todo.is_empty() {
        tx.rollback().await?;
        return Ok(Ok(()));
    }
    for step in todo {
        tx.batch_execute(step.postgres).await?;
    }
    let latest = i32::try_from(LATEST).unwrap_or(i32::MAX);
    tx.execute("DELETE FROM wxmass_schema", &[]).await?;
    tx.execute(
        "INSERT INTO wxmass_schema (version) VALUES ($1)",
        &[&latest],
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_one_by_one() {
        for (i, step) in MIGRATIONS.iter().enumerate() {
            assert_eq!(step.version, i as i64 + 1);
        }
    }

    #[test]
    fn no_table_is_made_outside_these_files() {
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut stack = vec![std::path::PathBuf::from(src)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("store/migrations.rs")
                {
                    let text = std::fs::read_to_string(&path).expect("read");
                    assert!(
                        !text.contains("CREATE TABLE") && !text.contains("ALTER TABLE"),
                        "{} holds DDL: a schema change is a new file in store/migrations/",
                        path.display()
                    );
                }
            }
        }
    }
}
