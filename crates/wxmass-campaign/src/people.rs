//! Who may do what, and which accounts a server sends for: users and their
//! roles, API tokens, Official Accounts with their secrets (sealed by the
//! server before they reach the store: the journal never holds them in
//! the clear), and the audit log. The same tables on both backends.
//!
//! Passwords and tokens arrive here already hashed; this module keeps
//! rows, the server decides.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::postgres::PgJournal;
use crate::quota::AccountType;
use crate::sqlite::SqliteJournal;

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read campaigns, accounts, reports.
    Read,
    /// Write drafts, upload, send tests.
    Edit,
    /// Approve, schedule, send, pause, cancel.
    Send,
    /// Manage users, tokens, accounts; read the audit log.
    Admin,
}

impl Permission {
    /// Its name in the API's security requirements.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "read",
            Permission::Edit => "edit",
            Permission::Send => "send",
            Permission::Admin => "admin",
        }
    }
}

/// A user's (or a token's) role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Drafts, uploads and test sends.
    Editor,
    /// Approves, schedules, sends and cancels.
    Approver,
    /// Reads.
    Viewer,
}

impl Role {
    /// Every role, strongest first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Editor, Role::Approver, Role::Viewer];

    /// Whether it may do `p`.
    pub fn grants(self, p: Permission) -> bool {
        match self {
            Role::Admin => true,
            Role::Editor => matches!(p, Permission::Read | Permission::Edit),
            Role::Approver => matches!(p, Permission::Read | Permission::Send),
            Role::Viewer => p == Permission::Read,
        }
    }

    /// Whether everything `other` may do, this may do too (a token's role
    /// must be covered by its user's).
    pub fn covers(self, other: Role) -> bool {
        [
            Permission::Read,
            Permission::Edit,
            Permission::Send,
            Permission::Admin,
        ]
        .into_iter()
        .all(|p| !other.grants(p) || self.grants(p))
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Approver => "approver",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s`.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A user, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: i64,
    /// Its login name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Unix seconds.
    pub created_at: i64,
}

/// A credential as the store keeps it: an API token, or a browser
/// session (kept the same way, under its own label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// What it may do (at most its user's role).
    pub role: Role,
    /// What it is for, e.g. `deploy bot`, or `session`.
    pub label: String,
    /// Unix seconds (sessions expire from this).
    pub created_at: i64,
}

/// An Official Account the server sends for, as the API shows it (its
/// secrets are in [`Account::sealed`], which the API never shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its AppID.
    pub appid: String,
    /// A name for people.
    pub name: String,
    /// Service or subscription (the quotas depend on it).
    pub account_type: Option<AccountType>,
    /// AppSecret, callback token and EncodingAESKey, sealed by the server.
    pub sealed: String,
    /// Where its API calls go when not to WeChat itself (a proxy with the
    /// whitelisted IP, or the emulator).
    pub api_base: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Its id, increasing.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who (a user's name).
    pub actor: String,
    /// What, e.g. `user.create`, `campaign.approve`.
    pub action: String,
    /// On what, e.g. a user's name or a campaign's id.
    pub target: String,
    /// More, for people.
    pub detail: String,
}

fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| Error::Store {
        advice: format!(
            "the store holds a role this build does not know ({}): was it written by a newer wxmass?",
            s.escape_debug()
        ),
        source: None,
    })
}

fn exists(what: String) -> Error {
    Error::Exists(what)
}

impl Journal {
    /// Adds a user; [`Error::Exists`] if the name is taken.
    pub async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: i64,
    ) -> Result<User> {
        let id = match self {
            Journal::Sqlite(j) => {
                crate::journal::lock(j).create_user(name, role, password_hash, now)
            }
            Journal::Postgres(p) => p.create_user(name, role, password_hash, now).await,
        }?
        .ok_or_else(|| exists(format!("a user named {name:?} exists already")))?;
        Ok(User {
            id,
            name: name.to_owned(),
            role,
            created_at: now,
        })
    }

    /// The user named `name`, with its password hash.
    pub async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).user_by_name(name),
            Journal::Postgres(p) => p.user_by_name(name).await,
        }
    }

    /// Every user, by id.
    pub async fn users(&self) -> Result<Vec<User>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).users(),
            Journal::Postgres(p) => p.users().await,
        }
    }

    /// Keeps a token (its hash) for `user` with `role`.
    pub async fn create_token(
        &self,
        user: i64,
        role: Role,
        token_hash: &str,
        label: &str,
        now: i64,
    ) -> Result<i64> {
        match self {
            Journal::Sqlite(j) => {
                crate::journal::lock(j).create_token(user, role, token_hash, label, now)
            }
            Journal::Postgres(p) => p.create_token(user, role, token_hash, label, now).await,
        }
    }

    /// The user a token (by hash) belongs to, and the token.
    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<(User, Credential)>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).token_owner(token_hash),
            Journal::Postgres(p) => p.token_owner(token_hash).await,
        }
    }

    /// Forgets a token (by hash); whether it was there.
    pub async fn revoke_token(&self, token_hash: &str) -> Result<bool> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).revoke_token(token_hash),
            Journal::Postgres(p) => p.revoke_token(token_hash).await,
        }
    }

    /// Adds an account; [`Error::Exists`] if its AppID is there already.
    pub async fn create_account(&self, account: &Account) -> Result<()> {
        let created = match self {
            Journal::Sqlite(j) => crate::journal::lock(j).create_account(account),
            Journal::Postgres(p) => p.create_account(account).await,
        }?;
        if !created {
            return Err(exists(format!(
                "the account {} exists already",
                account.appid
            )));
        }
        Ok(())
    }

    /// Every account, by AppID.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).accounts(),
            Journal::Postgres(p) => p.accounts().await,
        }
    }

    /// Appends to the audit log.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).audit(actor, action, target, detail, now),
            Journal::Postgres(p) => p.audit(actor, action, target, detail, now).await,
        }
    }

    /// The audit log, newest first, at most `limit` lines before `before`
    /// (an id; none for the newest).
    pub async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let before = before.unwrap_or(i64::MAX);
        match self {
            Journal::Sqlite(j) => crate::journal::lock(j).audit_log(before, limit),
            Journal::Postgres(p) => p.audit_log(before, limit).await,
        }
    }
}

fn account_type_of(s: Option<String>) -> Option<AccountType> {
    s.as_deref().and_then(AccountType::parse)
}

fn account_type_name(t: Option<AccountType>) -> Option<&'static str> {
    t.map(|t| match t {
        AccountType::Service => "service",
        AccountType::Subscription => "subscription",
    })
}

impl SqliteJournal {
    fn create_user(&self, name: &str, role: Role, hash: &str, now: i64) -> Result<Option<i64>> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO wxmass_users (name, role, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![name, role.as_str(), hash, now],
        )?;
        Ok((n == 1).then(|| self.conn().last_insert_rowid()))
    }

    fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        self.user_with(
            "SELECT id, name, role, created_at, password_hash FROM wxmass_users WHERE name = ?1",
            name,
            |_, extra| Ok(extra),
        )
    }

    /// The user (its first four columns) of `sql`'s one row, if any, and
    /// what `then` makes of it and the fifth column.
    fn user_with<T>(
        &self,
        sql: &str,
        key: &str,
        then: impl FnOnce(&User, String) -> Result<T>,
    ) -> Result<Option<(User, T)>> {
        use rusqlite::OptionalExtension as _;
        let row: Option<(i64, String, String, i64, String)> = self
            .conn()
            .query_row(sql, rusqlite::params![key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()?;
        row.map(|(id, name, role, created_at, extra)| {
            let user = User {
                id,
                name,
                role: role_of(&role)?,
                created_at,
            };
            let extra = then(&user, extra)?;
            Ok((user, extra))
        })
        .transpose()
    }

    fn users(&self) -> Result<Vec<User>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT id, name, role, created_at FROM wxmass_users ORDER BY id")?;
        let rows: Vec<(i64, String, String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, name, role, created_at)| {
                Ok(User {
                    id,
                    name,
                    role: role_of(&role)?,
                    created_at,
                })
            })
            .collect()
    }

    fn create_token(
        &self,
        user: i64,
        role: Role,
        hash: &str,
        label: &str,
        now: i64,
    ) -> Result<i64> {
        self.conn().execute(
            "INSERT INTO wxmass_api_tokens (user_id, role, token_hash, label, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![user, role.as_str(), hash, label, now],
        )?;
        Ok(self.conn().last_insert_rowid())
    }

    fn token_owner(&self, hash: &str) -> Result<Option<(User, Credential)>> {
        use rusqlite::OptionalExtension as _;
        type Row = (i64, String, String, i64, String, String, i64);
        let row: Option<Row> = self
            .conn()
            .query_row(
                "SELECT u.id, u.name, u.role, u.created_at, t.role, t.label, t.created_at
                 FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id WHERE t.token_hash = ?1",
                rusqlite::params![hash],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(id, name, role, created_at, t_role, label, t_created)| {
            Ok((
                User {
                    id,
                    name,
                    role: role_of(&role)?,
                    created_at,
                },
                Credential {
                    role: role_of(&t_role)?,
                    label,
                    created_at: t_created,
                },
            ))
        })
        .transpose()
    }

    fn revoke_token(&self, hash: &str) -> Result<bool> {
        let n = self.conn().execute(
            "DELETE FROM wxmass_api_tokens WHERE token_hash = ?1",
            rusqlite::params![hash],
        )?;
        Ok(n == 1)
    }

    fn create_account(&self, a: &Account) -> Result<bool> {
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![a.appid, a.name, account_type_name(a.account_type), a.sealed, a.api_base, a.created_at],
        )?;
        Ok(n == 1)
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        let mut stmt = self.conn().prepare(
            "SELECT appid, name, account_type, sealed, api_base, created_at FROM wxmass_accounts ORDER BY appid",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Account {
                appid: r.get(0)?,
                name: r.get(1)?,
                account_type: account_type_of(r.get(2)?),
                sealed: r.get(3)?,
                api_base: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn audit(&self, actor: &str, action: &str, target: &str, detail: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO wxmass_audit (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![now, actor, action, target, detail],
        )?;
        Ok(())
    }

    fn audit_log(&self, before: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let mut stmt = self.conn().prepare(
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

impl PgJournal {
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    "INSERT INTO wxmass_users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (name) DO NOTHING RETURNING id",
                    &[&name, &role.as_str(), &hash, &now],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    "SELECT id, name, role, created_at, password_hash FROM wxmass_users WHERE name = $1",
                    &[&name],
                )
                .await
            })
            .await?;
        row.map(|r| {
            Ok((
                User {
                    id: r.get(0),
                    name: r.get(1),
                    role: role_of(r.get(2))?,
                    created_at: r.get(3),
                },
                r.get(4),
            ))
        })
        .transpose()
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT id, name, role, created_at FROM wxmass_users ORDER BY id",
                    &[],
                )
                .await
            })
            .await?;
        rows.iter()
            .map(|r| {
                Ok(User {
                    id: r.get(0),
                    name: r.get(1),
                    role: role_of(r.get(2))?,
                    created_at: r.get(3),
                })
            })
            .collect()
    }

    async fn create_token(
        &self,
        user: i64,
        role: Role,
        hash: &str,
        label: &str,
        now: i64,
    ) -> Result<i64> {
        let row = self
            .with(async |c| {
                c.query_one(
                    "INSERT INTO wxmass_api_tokens (user_id, role, token_hash, label, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    &[&user, &role.as_str(), &hash, &label, &now],
                )
                .await
            })
            .await?;
        Ok(row.get(0))
    }

    async fn token_owner(&self, hash: &str) -> Result<Option<(User, Credential)>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    "SELECT u.id, u.name, u.role, u.created_at, t.role, t.label, t.created_at
                     FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id
                     WHERE t.token_hash = $1",
                    &[&hash],
                )
                .await
            })
            .await?;
        row.map(|r| {
            Ok((
                User {
                    id: r.get(0),
                    name: r.get(1),
                    role: role_of(r.get(2))?,
                    created_at: r.get(3),
                },
                Credential {
                    role: role_of(r.get(4))?,
                    label: r.get(5),
                    created_at: r.get(6),
                },
            ))
        })
        .transpose()
    }

    async fn revoke_token(&self, hash: &str) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    "DELETE FROM wxmass_api_tokens WHERE token_hash = $1",
                    &[&hash],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn create_account(&self, a: &Account) -> Result<bool> {
        let kind = account_type_name(a.account_type);
        let n = self
            .with(async |c| {
                c.execute(
                    "INSERT INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (appid) DO NOTHING",
                    &[&a.appid, &a.name, &kind, &a.sealed, &a.api_base, &a.created_at],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT appid, name, account_type, sealed, api_base, created_at FROM wxmass_accounts ORDER BY appid",
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| Account {
                appid: r.get(0),
                name: r.get(1),
                account_type: account_type_of(r.get(2)),
                sealed: r.get(3),
                api_base: r.get(4),
                created_at: r.get(5),
            })
            .collect())
    }

    async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: &str,
        now: i64,
    ) -> Result<()> {
        self.with(async |c| {
            c.execute(
                "INSERT INTO wxmass_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
                &[&now, &actor, &action, &target, &detail],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn audit_log(&self, before: i64, limit: u32) -> Result<Vec<AuditEntry>> {
        let limit = i64::from(limit);
        let rows = self
            .with(async |c| {
                c.query(
                    "SELECT id, at, actor, action, target, detail FROM wxmass_audit
                     WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    &[&before, &limit],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| AuditEntry {
                id: r.get(0),
                at: r.get(1),
                actor: r.get(2),
                action: r.get(3),
                target: r.get(4),
                detail: r.get(5),
            })
            .collect())
    }
}
