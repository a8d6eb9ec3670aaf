//! The server's users, API tokens, accounts and audit log, in SQLite.

use async_trait::async_trait;
use rusqlite::OptionalExtension;

use super::SqliteStore;
use crate::error::{Error, Result};
use crate::people::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn insert_user(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO wxmass_users (name, role, password_hash, created_at)
             SELECT ?1, ?2, ?3, ?4 WHERE NOT EXISTS (SELECT 1 FROM wxmass_users WHERE lower(name) = lower(?1))",
            rusqlite::params![name, role.as_str(), hash, now],
        )?;
        Ok((n == 1).then(|| conn.last_insert_rowid()))
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        use rusqlite::OptionalExtension as _;
        let row: Option<(UserRow, String)> = self
            .conn()
            .query_row(
                "SELECT id, name, role, created_at, disabled_at IS NOT NULL, password_hash
                 FROM wxmass_users WHERE lower(name) = lower(?1) ORDER BY name = ?1 DESC, id LIMIT 1",
                [name],
                |r| Ok((user_columns(r)?, r.get(5)?)),
            )
            .optional()?;
        row.map(|(user, hash)| Ok((user_of(user)?, hash)))
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, role, created_at, disabled_at IS NOT NULL FROM wxmass_users ORDER BY id")?;
        let rows: Vec<UserRow> = stmt
            .query_map([], user_columns)?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter().map(user_of).collect()
    }

    async fn create_token(
        &self,
        user: i64,
        role: Role,
        hash: &str,
        label: &str,
        now: i64,
    ) -> Result<i64> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO wxmass_api_tokens (user_id, role, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![user, role.as_str(), hash, label, now],
        )?;
        Ok(conn.last_insert_rowid())
    }

    async fn token_owner(&self, hash: &str) -> Result<Option<(User, Credential)>> {
        let conn = self.conn();
        use rusqlite::OptionalExtension as _;
        let row: Option<(UserRow, (String, String, i64, i64))> = conn
            .query_row(
                "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at IS NOT NULL,
                        t.role, t.label, t.created_at, t.id
                 FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id
                 WHERE t.token_hash = ?1 AND u.disabled_at IS NULL",
                rusqlite::params![hash],
                |r| {
                    Ok((
                        user_columns(r)?,
                        (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?),
                    ))
                },
            )
            .optional()?;
        row.map(|(user, (role, label, created_at, id))| {
            Ok((
                user_of(user)?,
                Credential {
                    id,
                    role: role_of(&role)?,
                    label,
                    created_at,
                },
            ))
        })
        .transpose()
    }

    async fn revoke_token(&self, hash: &str) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "DELETE FROM wxmass_api_tokens WHERE token_hash = ?1",
            rusqlite::params![hash],
        )?;
        Ok(n == 1)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT t.id, u.name, t.role, t.label, t.created_at
             FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id ORDER BY t.id",
        )?;
        let rows: Vec<(i64, String, String, String, i64)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, user, role, label, created_at)| {
                Ok(TokenRecord {
                    id,
                    user,
                    role: role_of(&role)?,
                    label,
                    created_at,
                })
            })
            .collect()
    }

    async fn revoke_token_id(&self, id: i64) -> Result<bool> {
        let n = self
            .conn()
            .execute("DELETE FROM wxmass_api_tokens WHERE id = ?1", [id])?;
        Ok(n == 1)
    }

    async fn end_credentials(&self, user: i64) -> Result<u64> {
        let n = self
            .conn()
            .execute("DELETE FROM wxmass_api_tokens WHERE user_id = ?1", [user])?;
        Ok(n as u64)
    }

    async fn set_disabled(&self, user: i64, at: Option<i64>) -> Result<()> {
        self.conn().execute(
            "UPDATE wxmass_users SET disabled_at = ?2 WHERE id = ?1",
            rusqlite::params![user, at],
        )?;
        Ok(())
    }

    async fn set_password(&self, user: i64, password_hash: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE wxmass_users SET password_hash = ?2 WHERE id = ?1",
            rusqlite::params![user, password_hash],
        )?;
        Ok(())
    }

    async fn remove_user(&self, user: i64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM wxmass_api_tokens WHERE user_id = ?1", [user])?;
        tx.execute("DELETE FROM wxmass_users WHERE id = ?1", [user])?;
        tx.execute(
            "DELETE FROM wxmass_scopes WHERE kind = 'user' AND owner = ?1",
            [user],
        )?;
        tx.commit()?;
        Ok(())
    }

    async fn insert_account(&self, a: &Account) -> Result<bool> {
        let conn = self.conn();
        let n = conn.execute(
            "INSERT OR IGNORE INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![a.appid, a.name, account_type_name(a.account_type), a.sealed, a.api_base, a.created_at],
        )?;
        Ok(n == 1)
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT appid, name, account_type, sealed, api_base, created_at,
                    platform, permission_sets, user_name, withdrawn_at
             FROM wxmass_accounts ORDER BY appid",
        )?;
        let rows = stmt.query_map([], account_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn account(&self, appid: &str) -> Result<Option<Account>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                "SELECT appid, name, account_type, sealed, api_base, created_at,
                        platform, permission_sets, user_name, withdrawn_at
                 FROM wxmass_accounts WHERE appid = ?1",
                [appid],
                account_row,
            )
            .optional()?)
    }

    async fn authorise_account(&self, a: &Account) -> Result<()> {
        let Some(grant) = &a.authorised else {
            return Err(Error::Invalid(format!(
                "{}: not a platform's account",
                a.appid
            )));
        };
        let conn = self.conn();
        let n = conn.execute(
            "INSERT INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at,
                                          platform, permission_sets, user_name, withdrawn_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULL)
             ON CONFLICT (appid) DO UPDATE SET name = excluded.name, account_type = excluded.account_type,
                 sealed = excluded.sealed, api_base = excluded.api_base, platform = excluded.platform,
                 permission_sets = excluded.permission_sets, user_name = excluded.user_name, withdrawn_at = NULL
             WHERE wxmass_accounts.platform IS NOT NULL",
            rusqlite::params![a.appid, a.name, account_type_name(a.account_type), a.sealed, a.api_base,
                a.created_at, grant.component_appid, sets_text(&grant.permission_sets), grant.user_name],
        )?;
        if n == 0 {
            return Err(Error::Exists(format!(
                "the account {} is on this server with its own AppSecret",
                a.appid
            )));
        }
        Ok(())
    }

    async fn set_sealed(&self, appid: &str, sealed: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE wxmass_accounts SET sealed = ?2 WHERE appid = ?1",
            rusqlite::params![appid, sealed],
        )?;
        Ok(())
    }

    async fn withdraw_account(&self, appid: &str, at: i64) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE wxmass_accounts SET withdrawn_at = ?2
             WHERE appid = ?1 AND platform IS NOT NULL AND withdrawn_at IS NULL",
            rusqlite::params![appid, at],
        )?;
        Ok(n == 1)
    }

    async fn claim_authorization_code(&self, code: &str, appid: &str, now: i64) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO wxmass_authorization_codes (code, appid, claimed_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![code, appid, now],
        )?;
        Ok(n == 1)
    }

    async fn release_authorization_code(&self, code: &str) -> Result<()> {
        self.conn().execute(
            "DELETE FROM wxmass_authorization_codes WHERE code = ?1",
            [code],
        )?;
        Ok(())
    }

    async fn set_scope(&self, kind: Scoped, owner: i64, accounts: Option<&[String]>) -> Result<()> {
        let conn = self.conn();
        match accounts {
            None => conn.execute(
                "DELETE FROM wxmass_scopes WHERE kind = ?1 AND owner = ?2",
                rusqlite::params![kind.as_str(), owner],
            )?,
            Some(accounts) => conn.execute(
                "INSERT INTO wxmass_scopes (kind, owner, accounts) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kind, owner) DO UPDATE SET accounts = excluded.accounts",
                rusqlite::params![kind.as_str(), owner, json(&accounts)],
            )?,
        };
        Ok(())
    }

    async fn scope(&self, kind: Scoped, owner: i64) -> Result<Option<Vec<String>>> {
        use rusqlite::OptionalExtension as _;
        let text: Option<String> = self
            .conn()
            .query_row(
                "SELECT accounts FROM wxmass_scopes WHERE kind = ?1 AND owner = ?2",
                rusqlite::params![kind.as_str(), owner],
                |r| r.get(0),
            )
            .optional()?;
        Ok(text.map(|t| json_list(&t)))
    }

    async fn set_testers(&self, appid: &str, testers: &Testers) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM wxmass_testers WHERE appid = ?1", [appid])?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO wxmass_testers (appid, kind, value) VALUES (?1, ?2, ?3)",
            )?;
            for (kind, value) in tester_rows(testers) {
                insert.execute(rusqlite::params![appid, kind, value])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn testers(&self, appid: &str) -> Result<Testers> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT kind, value FROM wxmass_testers WHERE appid = ?1 ORDER BY kind, value",
        )?;
        let rows = stmt
            .query_map([appid], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        Ok(testers_of(rows))
    }

    async fn set_account_tags(&self, appid: &str, tags: &[String]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM wxmass_account_tags WHERE appid = ?1", [appid])?;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO wxmass_account_tags (appid, tag) VALUES (?1, ?2)",
            )?;
            for tag in tags {
                insert.execute(rusqlite::params![appid, tag])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn account_tags(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT appid, tag FROM wxmass_account_tags ORDER BY appid, tag")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<(String, String)>>>()?;
        Ok(rows)
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        let conn = self.conn();
        conn.execute(
            "INSERT INTO wxmass_audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![now, actor, action, target, detail],
        )?;
        Ok(())
    }

    async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let before = before.unwrap_or(i64::MAX);
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT id, at, actor, action, target, detail FROM wxmass_audit WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(rusqlite::params![before, limit], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                detail: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A user's columns: id, name, role, created_at, and whether it is
/// disabled.
type UserRow = (i64, String, String, i64, bool);

/// The first five columns of `r`, as [`UserRow`].
fn user_columns(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

/// The user of those columns.
fn user_of((id, name, role, created_at, disabled): UserRow) -> Result<User> {
    Ok(User {
        id,
        name,
        role: role_of(&role)?,
        created_at,
        disabled,
    })
}

/// An account from a row of its ten columns, in the order both account
/// queries select them.
fn account_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        appid: r.get(0)?,
        name: r.get(1)?,
        account_type: account_type_of(r.get(2)?),
        sealed: r.get(3)?,
        api_base: r.get(4)?,
        created_at: r.get(5)?,
        authorised: authorised_of(r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
    })
}
