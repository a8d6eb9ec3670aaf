//! The server's users, API tokens, accounts and audit log, in PostgreSQL.

use async_trait::async_trait;

use super::PgStore;
use crate::error::{Error, Result};
use crate::people::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl PeopleStore for PgStore {
    async fn insert_user(
        &self,
        name: &str,
        role: Role,
        hash: &str,
        now: i64,
    ) -> Result<Option<i64>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached("INSERT INTO wxmass_users (name, role, password_hash, created_at)
                     SELECT $1::TEXT, $2::TEXT, $3::TEXT, $4::BIGINT WHERE NOT EXISTS (SELECT 1 FROM wxmass_users WHERE lower(name) = lower($1))
                     ON CONFLICT (name) DO NOTHING RETURNING id").await?,
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
                    &c.prepare_cached("SELECT id, name, role, created_at, disabled_at IS NOT NULL, password_hash
                     FROM wxmass_users WHERE lower(name) = lower($1) ORDER BY name = $1 DESC, id LIMIT 1").await?,
                    &[&name],
                )
                .await
            })
            .await?;
        row.map(|r| Ok((user_of(&r)?, r.get(5)))).transpose()
    }

    async fn users(&self) -> Result<Vec<User>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached("SELECT id, name, role, created_at, disabled_at IS NOT NULL FROM wxmass_users ORDER BY id").await?,
                    &[],
                )
                .await
            })
            .await?;
        rows.iter().map(user_of).collect()
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
                    &c.prepare_cached("INSERT INTO wxmass_api_tokens (user_id, role, token_hash, label, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id").await?,
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
                    &c.prepare_cached(
                        "SELECT u.id, u.name, u.role, u.created_at, u.disabled_at IS NOT NULL,
                            t.role, t.label, t.created_at, t.id
                     FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id
                     WHERE t.token_hash = $1 AND u.disabled_at IS NULL",
                    )
                    .await?,
                    &[&hash],
                )
                .await
            })
            .await?;
        row.map(|r| {
            Ok((
                user_of(&r)?,
                Credential {
                    id: r.get(8),
                    role: role_of(r.get(5))?,
                    label: r.get(6),
                    created_at: r.get(7),
                },
            ))
        })
        .transpose()
    }

    async fn revoke_token(&self, hash: &str) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_api_tokens WHERE token_hash = $1")
                        .await?,
                    &[&hash],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached("SELECT t.id, u.name, t.role, t.label, t.created_at
                     FROM wxmass_api_tokens t JOIN wxmass_users u ON u.id = t.user_id ORDER BY t.id").await?,
                    &[],
                )
                .await
            })
            .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRecord {
                    id: r.get(0),
                    user: r.get(1),
                    role: role_of(r.get(2))?,
                    label: r.get(3),
                    created_at: r.get(4),
                })
            })
            .collect()
    }

    async fn revoke_token_id(&self, id: i64) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_api_tokens WHERE id = $1")
                        .await?,
                    &[&id],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn end_credentials(&self, user: i64) -> Result<u64> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("DELETE FROM wxmass_api_tokens WHERE user_id = $1")
                    .await?,
                &[&user],
            )
            .await
        })
        .await
    }

    async fn set_disabled(&self, user: i64, at: Option<i64>) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("UPDATE wxmass_users SET disabled_at = $2 WHERE id = $1")
                    .await?,
                &[&user, &at],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn set_password(&self, user: i64, password_hash: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("UPDATE wxmass_users SET password_hash = $2 WHERE id = $1")
                    .await?,
                &[&user, &password_hash],
            )
            .await
            .map(drop)
        })
        .await
    }

    async fn remove_user(&self, user: i64) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("DELETE FROM wxmass_api_tokens WHERE user_id = $1", &[&user])
                .await?;
            tx.execute("DELETE FROM wxmass_users WHERE id = $1", &[&user])
                .await?;
            tx.execute(
                "DELETE FROM wxmass_scopes WHERE kind = 'user' AND owner = $1",
                &[&user],
            )
            .await?;
            tx.commit().await
        })
        .await
    }

    async fn insert_account(&self, a: &Account) -> Result<bool> {
        let kind = account_type_name(a.account_type);
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("INSERT INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (appid) DO NOTHING").await?,
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
                    &c.prepare_cached(
                        "SELECT appid, name, account_type, sealed, api_base, created_at,
                                              platform, permission_sets, user_name, withdrawn_at
                                       FROM wxmass_accounts ORDER BY appid",
                    )
                    .await?,
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows.iter().map(account_row).collect())
    }

    async fn account(&self, appid: &str) -> Result<Option<Account>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT appid, name, account_type, sealed, api_base, created_at,
                                              platform, permission_sets, user_name, withdrawn_at
                                       FROM wxmass_accounts WHERE appid = $1",
                    )
                    .await?,
                    &[&appid],
                )
                .await
            })
            .await?;
        Ok(rows.first().map(account_row))
    }

    async fn authorise_account(&self, a: &Account) -> Result<()> {
        let Some(grant) = &a.authorised else {
            return Err(Error::Invalid(format!(
                "{}: not a platform's account",
                a.appid
            )));
        };
        let kind = account_type_name(a.account_type);
        let sets = sets_text(&grant.permission_sets);
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached("INSERT INTO wxmass_accounts (appid, name, account_type, sealed, api_base, created_at,
                                                                   platform, permission_sets, user_name, withdrawn_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)
                     ON CONFLICT (appid) DO UPDATE SET name = excluded.name, account_type = excluded.account_type,
                         sealed = excluded.sealed, api_base = excluded.api_base, platform = excluded.platform,
                         permission_sets = excluded.permission_sets, user_name = excluded.user_name, withdrawn_at = NULL
                     WHERE wxmass_accounts.platform IS NOT NULL").await?,
                    &[&a.appid, &a.name, &kind, &a.sealed, &a.api_base, &a.created_at,
                      &grant.component_appid, &sets, &grant.user_name],
                )
                .await
            })
            .await?;
        if n == 0 {
            return Err(Error::Exists(format!(
                "the account {} is on this server with its own AppSecret",
                a.appid
            )));
        }
        Ok(())
    }

    async fn set_sealed(&self, appid: &str, sealed: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("UPDATE wxmass_accounts SET sealed = $2 WHERE appid = $1")
                    .await?,
                &[&appid, &sealed],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn withdraw_account(&self, appid: &str, at: i64) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached(
                        "UPDATE wxmass_accounts SET withdrawn_at = $2
                     WHERE appid = $1 AND platform IS NOT NULL AND withdrawn_at IS NULL",
                    )
                    .await?,
                    &[&appid, &at],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn claim_authorization_code(&self, code: &str, appid: &str, now: i64) -> Result<bool> {
        let n = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached(
                        "INSERT INTO wxmass_authorization_codes (code, appid, claimed_at)
                     VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING",
                    )
                    .await?,
                    &[&code, &appid, &now],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn release_authorization_code(&self, code: &str) -> Result<()> {
        self.with(async |c| {
            c.execute(
                &c.prepare_cached("DELETE FROM wxmass_authorization_codes WHERE code = $1")
                    .await?,
                &[&code],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn set_scope(&self, kind: Scoped, owner: i64, accounts: Option<&[String]>) -> Result<()> {
        let listed = accounts.map(|a| json(&a));
        self.with(async |c| match &listed {
            None => {
                c.execute(
                    &c.prepare_cached("DELETE FROM wxmass_scopes WHERE kind = $1 AND owner = $2")
                        .await?,
                    &[&kind.as_str(), &owner],
                )
                .await
            }
            Some(listed) => {
                c.execute(
                    &c.prepare_cached(
                        "INSERT INTO wxmass_scopes (kind, owner, accounts) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, owner) DO UPDATE SET accounts = excluded.accounts",
                    )
                    .await?,
                    &[&kind.as_str(), &owner, listed],
                )
                .await
            }
        })
        .await?;
        Ok(())
    }

    async fn scope(&self, kind: Scoped, owner: i64) -> Result<Option<Vec<String>>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "SELECT accounts FROM wxmass_scopes WHERE kind = $1 AND owner = $2",
                    )
                    .await?,
                    &[&kind.as_str(), &owner],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| json_list(r.get::<_, &str>(0))))
    }

    async fn set_testers(&self, appid: &str, testers: &Testers) -> Result<()> {
        let rows: Vec<(&str, &str)> = tester_rows(testers).collect();
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("DELETE FROM wxmass_testers WHERE appid = $1", &[&appid])
                .await?;
            for (kind, value) in &rows {
                tx.execute(
                    "INSERT INTO wxmass_testers (appid, kind, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&appid, kind, value],
                )
                .await?;
            }
            tx.commit().await
        })
        .await?;
        Ok(())
    }

    async fn testers(&self, appid: &str) -> Result<Testers> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached("SELECT kind, value FROM wxmass_testers WHERE appid = $1 ORDER BY kind, value").await?,
                    &[&appid],
                )
                .await
            })
            .await?;
        Ok(testers_of(
            rows.iter().map(|r| (r.get(0), r.get(1))).collect(),
        ))
    }

    async fn set_account_tags(&self, appid: &str, tags: &[String]) -> Result<()> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute("DELETE FROM wxmass_account_tags WHERE appid = $1", &[&appid])
                .await?;
            for tag in tags {
                tx.execute(
                    "INSERT INTO wxmass_account_tags (appid, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&appid, tag],
                )
                .await?;
            }
            tx.commit().await
        })
        .await?;
        Ok(())
    }

    async fn account_tags(&self) -> Result<Vec<(String, String)>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT appid, tag FROM wxmass_account_tags ORDER BY appid, tag",
                    )
                    .await?,
                    &[],
                )
                .await
            })
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
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
                &c.prepare_cached("INSERT INTO wxmass_audit (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)").await?,
                &[&now, &actor, &action, &target, &detail],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn audit_log(&self, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>> {
        let before = before.unwrap_or(i64::MAX);
        let limit = i64::from(limit);
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT id, at, actor, action, target, detail FROM wxmass_audit
                     WHERE id < $1 ORDER BY id DESC LIMIT $2",
                    )
                    .await?,
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

/// The user of a row whose first five columns are id, name, role,
/// created_at and whether it is disabled.
fn user_of(r: &tokio_postgres::Row) -> Result<User> {
    Ok(User {
        id: r.get(0),
        name: r.get(1),
        role: role_of(r.get(2))?,
        created_at: r.get(3),
        disabled: r.get(4),
    })
}

/// An account from a row of its ten columns, in the order both account
/// queries select them.
fn account_row(r: &tokio_postgres::Row) -> Account {
    Account {
        appid: r.get(0),
        name: r.get(1),
        account_type: account_type_of(r.get(2)),
        sealed: r.get(3),
        api_base: r.get(4),
        created_at: r.get(5),
        authorised: authorised_of(r.get(6), r.get(7), r.get(8), r.get(9)),
    }
}
