//! People: users (`/api/v1/users`: added, disabled, enabled, removed, their
//! passwords reset), API tokens and sessions (`/api/v1/tokens`: made,
//! listed, revoked) and the audit log (`/api/v1/audit`). All of it is the
//! admin's, but for one's own password (`/api/v1/me/password`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wxmass_campaign::people::{AuditEntry, Role, Scoped, User};

use crate::AppState;
use crate::auth::{
    Allowed, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS, SESSION_LABEL, ToAdmin, ToRead, hash_password,
    new_token, token_hash, verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::{Body, Params};

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// Its id.
    pub id: i64,
    /// Its login name.
    pub name: String,
    /// `admin`, `editor`, `approver` or `viewer`.
    pub role: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Disabled by an admin: it cannot sign in and has no credentials.
    pub disabled: bool,
    /// The accounts (AppIDs) it sees and acts on; `null`: every account.
    pub accounts: Option<Vec<String>>,
}

impl UserView {
    /// `u` with its scope.
    async fn of(state: &AppState, u: User) -> ApiResult<UserView> {
        let accounts = state.journal().scope(Scoped::User, u.id).await?;
        Ok(UserView {
            id: u.id,
            name: u.name,
            role: u.role.as_str().to_owned(),
            created_at: u.created_at,
            disabled: u.disabled,
            accounts,
        })
    }
}

/// An AppID, as a scope names it.
#[derive(ToSchema)]
#[schema(pattern = "^wx[A-Za-z0-9]{16}$", min_length = 18, max_length = 18)]
#[allow(dead_code)]
pub struct AppId(String);

/// Checks a scope's AppIDs; an admin's role cannot be scoped (it manages
/// users, who could then see every account).
fn check_scope(field: &str, role: Role, accounts: &Option<Vec<String>>) -> Result<(), ApiError> {
    let Some(accounts) = accounts else {
        return Ok(());
    };
    if role == Role::Admin {
        return Err(ApiError::invalid(
            field,
            "an admin sees every account: scope an editor, approver or viewer",
        ));
    }
    if accounts.len() > 1000 {
        return Err(ApiError::invalid(field, "at most 1,000 accounts"));
    }
    for (i, appid) in accounts.iter().enumerate() {
        let ok = appid.len() == 18
            && appid.starts_with("wx")
            && appid.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(ApiError::invalid(
                &format!("{field}[{i}]"),
                "an AppID is `wx` and 16 letters or digits",
            ));
        }
    }
    Ok(())
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub name: String,
    /// `admin`, `editor`, `approver` or `viewer`.
    #[schema(value_type = wxmass_campaign::people::Role)]
    pub role: String,
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
    /// The accounts (AppIDs) it sees and acts on; absent or `null`: every
    /// account. Not for an admin.
    #[serde(default)]
    #[schema(value_type = Option<Vec<AppId>>, max_items = 1000)]
    pub accounts: Option<Vec<String>>,
}

/// Checks a login name.
pub fn check_name(field: &str, name: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            "1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'",
        ))
    }
}

/// Checks a name people read (a campaign's, an account's, a token's
/// label): 1 to `max` characters, none of them a control character (NUL,
/// a newline) or one that reorders or hides text (bidi overrides and
/// isolates, zero-width marks), which could make a name read as another in
/// a list, a log or the audit trail.
pub fn check_display_name(field: &str, name: &str, max: usize) -> Result<(), ApiError> {
    let n = name.chars().count();
    if !(1..=max).contains(&n) {
        return Err(ApiError::invalid(field, format!("1 to {max} characters")));
    }
    if let Some(c) = name.chars().find(|&c| hides_or_reorders(c)) {
        return Err(ApiError::invalid(
            field,
            format!(
                "U+{:04X} is not allowed in a name (control characters and ones that reorder or hide text)",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Control characters, and the format characters that reorder or hide text.
fn hides_or_reorders(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // zero-width space, LRM and RLM (not the joiners emoji and
            // some scripts need)
            '\u{200B}' | '\u{200E}' | '\u{200F}'
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2069}' // word joiner .. isolates
            | '\u{FEFF}')
}

/// Checks a password's length.
pub fn check_password(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("{n} characters, at least {MIN_PASSWORD_CHARS}"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(ApiError::invalid(
            field,
            format!("{n} characters, at most {MAX_PASSWORD_CHARS}"),
        ));
    }
    Ok(())
}

fn role(field: &str, name: &str) -> Result<Role, ApiError> {
    Role::parse(name).ok_or_else(|| {
        ApiError::invalid(
            field,
            format!(
                "{:?} is not a role: admin, editor, approver or viewer",
                name.escape_debug().to_string()
            ),
        )
    })
}

/// Every user.
#[utoipa::path(get, path = "/api/v1/users", tag = "people", security(("token" = ["admin"])),
    responses((status = 200, body = Vec<UserView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_users(
    _: Allowed<ToAdmin>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<UserView>>> {
    let mut views = Vec::new();
    for u in state.journal().users().await? {
        views.push(UserView::of(&state, u).await?);
    }
    Ok(Json(views))
}

/// Adds a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "people", security(("token" = ["admin"])),
    request_body = NewUser,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_user(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Body(new): Body<NewUser>,
) -> ApiResult<(StatusCode, Json<UserView>)> {
    check_name("name", &new.name)?;
    let role = role("role", &new.role)?;
    check_password("password", &new.password)?;
    check_scope("accounts", role, &new.accounts)?;
    let hash = hash_password(&new.password)?;
    let now = state.now();
    let user = state
        .journal()
        .create_user(&new.name, role, &hash, now)
        .await?;
    // Set even when none: an id a removed user had starts unscoped.
    state
        .journal()
        .set_scope(Scoped::User, user.id, new.accounts.as_deref())
        .await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.create",
            &user.name,
            role.as_str(),
            now,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(UserView::of(&state, user).await?)))
}

/// A user's accounts.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserAccounts {
    /// The accounts (AppIDs) it sees and acts on; `null`: every account.
    #[schema(value_type = Option<Vec<AppId>>, max_items = 1000)]
    pub accounts: Option<Vec<String>>,
}

/// Scopes a user to some accounts (or, with `null`, to every one): its
/// tokens and sessions see and act on those only, at once.
#[utoipa::path(put, path = "/api/v1/users/{name}/accounts", tag = "people", security(("token" = ["admin"])),
    params(("name" = String, Path, description = "The user's name")),
    request_body = UserAccounts,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn scope_user(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    axum::extract::Path(name): axum::extract::Path<String>,
    Body(scope): Body<UserAccounts>,
) -> ApiResult<Json<UserView>> {
    let (user, _) = state
        .journal()
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user named {name:?}")))?;
    check_scope("accounts", user.role, &scope.accounts)?;
    state
        .journal()
        .set_scope(Scoped::User, user.id, scope.accounts.as_deref())
        .await?;
    let detail = scope
        .accounts
        .as_ref()
        .map_or("every account".to_owned(), |a| a.join(", "));
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.scope",
            &user.name,
            &detail,
            state.now(),
        )
        .await?;
    Ok(Json(UserView::of(&state, user).await?))
}

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Whose (a user's name).
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$", min_length = 1, max_length = 64)]
    pub user: String,
    /// What it may do: the user's role or a weaker one.
    #[schema(value_type = wxmass_campaign::people::Role)]
    pub role: String,
    /// What it is for (a machine's name), 1 to 100 characters, none of
    /// them a control character or one that reorders or hides text.
    #[schema(
        pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]*$",
        min_length = 1,
        max_length = 100
    )]
    pub label: String,
    /// The accounts (AppIDs) it sees and acts on, among its user's;
    /// absent or `null`: all its user's. Not for an admin token.
    #[serde(default)]
    #[schema(value_type = Option<Vec<AppId>>, max_items = 1000)]
    pub accounts: Option<Vec<String>>,
}

/// A token, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// Its id.
    pub id: i64,
    /// The token: keep it; it is not shown again.
    pub token: String,
    /// Its role.
    pub role: String,
}

/// Makes an API token for a user.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "people", security(("token" = ["admin"])),
    request_body = NewToken,
    responses((status = 201, body = CreatedToken), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_token(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Body(new): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let role = role("role", &new.role)?;
    check_display_name("label", &new.label, 100)?;
    let (user, _) = state
        .journal()
        .user_by_name(&new.user)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user named {:?}", new.user)))?;
    if !user.role.covers(role) {
        return Err(ApiError::invalid(
            "role",
            format!(
                "a token may do at most what its user may; {} is {}",
                user.name,
                user.role.as_str()
            ),
        ));
    }
    check_scope("accounts", role, &new.accounts)?;
    if let (Some(wanted), Some(users)) = (
        &new.accounts,
        state.journal().scope(Scoped::User, user.id).await?,
    ) && let Some(outside) = wanted.iter().find(|a| !users.contains(a))
    {
        return Err(ApiError::invalid(
            "accounts",
            format!("{} sees only its accounts; {outside} is not one", user.name),
        ));
    }
    let token = new_token();
    let now = state.now();
    let id = state
        .journal()
        .create_token(user.id, role, &token_hash(&token), &new.label, now)
        .await?;
    state
        .journal()
        .set_scope(Scoped::Token, id, new.accounts.as_deref())
        .await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "token.create",
            &user.name,
            &format!("{} token {:?}", role.as_str(), new.label),
            now,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id,
            token,
            role: role.as_str().to_owned(),
        }),
    ))
}

/// Which lines of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Lines before this id (for the next page).
    pub before: Option<i64>,
    /// At most this many (1 to 500; 100 by default).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A line of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// Its id, increasing.
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// What (`user.create`, `token.create`, `account.create`, ...).
    pub action: String,
    /// On what.
    pub target: String,
    /// More.
    pub detail: String,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> AuditView {
        AuditView {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            target: a.target,
            detail: a.detail,
        }
    }
}

/// Who did what, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "people", security(("token" = ["admin"])),
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn audit_log(
    _: Allowed<ToAdmin>,
    State(state): State<AppState>,
    Params(query): Params<AuditQuery>,
) -> ApiResult<Json<Vec<AuditView>>> {
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("{limit}: 1 to 500")));
    }
    let log = state.journal().audit_log(query.before, limit).await?;
    Ok(Json(log.into_iter().map(AuditView::from).collect()))
}

/// A token or a browser session, as an admin lists it (never the secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Its id.
    pub id: i64,
    /// Whose (a user's name).
    pub user: String,
    /// What it may do.
    pub role: String,
    /// What it is for, or `session` for a browser's.
    pub label: String,
    /// Whether it is a browser session (signed in with a password).
    pub session: bool,
    /// Unix seconds.
    pub created_at: i64,
    /// The accounts it is narrowed to, among its user's; `null`: all its
    /// user's.
    pub accounts: Option<Vec<String>>,
}

impl TokenView {
    /// `t` with its own scope.
    async fn of(state: &AppState, t: wxmass_campaign::people::TokenRecord) -> ApiResult<TokenView> {
        let accounts = state.journal().scope(Scoped::Token, t.id).await?;
        Ok(TokenView {
            session: t.label == SESSION_LABEL,
            id: t.id,
            user: t.user,
            role: t.role.as_str().to_owned(),
            label: t.label,
            created_at: t.created_at,
            accounts,
        })
    }
}

/// Every API token and browser session, oldest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "people", security(("token" = ["admin"])),
    responses((status = 200, body = Vec<TokenView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list_tokens(
    _: Allowed<ToAdmin>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let mut views = Vec::new();
    for t in state.journal().tokens().await? {
        views.push(TokenView::of(&state, t).await?);
    }
    Ok(Json(views))
}

async fn token(state: &AppState, id: i64) -> ApiResult<TokenView> {
    let t = state
        .journal()
        .tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    TokenView::of(state, t).await
}

/// One token or session.
#[utoipa::path(get, path = "/api/v1/tokens/{id}", tag = "people", security(("token" = ["admin"])),
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 200, body = TokenView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_token(
    _: Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<TokenView>> {
    Ok(Json(token(&state, token_id(&id)?).await?))
}

/// A token's id from the path: axum's own refusal would be plain text.
fn token_id(id: &str) -> ApiResult<i64> {
    id.parse().map_err(|_| {
        ApiError::invalid(
            "id",
            "a token's id: a whole number, as GET /api/v1/tokens lists them",
        )
    })
}

/// Revokes a token, or ends a session: the next request with it is 401.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "people", security(("token" = ["admin"])),
    params(("id" = i64, Path, description = "The token's id")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = token_id(&id)?;
    let revoked = token(&state, id).await?;
    if !state.journal().revoke_token_id(id).await? {
        return Err(ApiError::not_found(format!("no token {id}")));
    }
    state
        .journal()
        .audit(
            &caller.user.name,
            "token.revoke",
            &revoked.user,
            &format!("{} {:?} (id {id})", revoked.role, revoked.label),
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// User `name`, or 404.
async fn user_named(state: &AppState, name: &str) -> ApiResult<User> {
    Ok(state
        .journal()
        .user_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user named {name:?}")))?
        .0)
}

/// Refuses what would leave the server with no admin able to sign in, or
/// an admin acting on itself.
async fn check_not_last_admin(state: &AppState, caller: &User, target: &User) -> ApiResult<()> {
    if caller.id == target.id {
        return Err(ApiError::wrong_state(
            "an admin does not disable or remove itself: another admin does",
        ));
    }
    let admins = state
        .journal()
        .users()
        .await?
        .into_iter()
        .filter(|u| u.role == Role::Admin && !u.disabled && u.id != target.id)
        .count();
    if target.role == Role::Admin && admins == 0 {
        return Err(ApiError::wrong_state(format!(
            "{} is the last admin who can sign in",
            target.name
        )));
    }
    Ok(())
}

/// Disables a user: it cannot sign in, and its tokens and sessions end.
#[utoipa::path(post, path = "/api/v1/users/{name}/disable", tag = "people", security(("token" = ["admin"])),
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn disable_user(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<UserView>> {
    let mut user = user_named(&state, &name).await?;
    check_not_last_admin(&state, &caller.user, &user).await?;
    let now = state.now();
    state.journal().set_disabled(user.id, Some(now)).await?;
    let ended = state.journal().end_credentials(user.id).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.disable",
            &user.name,
            &format!("{ended} token(s) and session(s) ended"),
            now,
        )
        .await?;
    user.disabled = true;
    Ok(Json(UserView::of(&state, user).await?))
}

/// Enables a disabled user (it signs in again with its password; its old
/// tokens stay ended).
#[utoipa::path(post, path = "/api/v1/users/{name}/enable", tag = "people", security(("token" = ["admin"])),
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn enable_user(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<UserView>> {
    let mut user = user_named(&state, &name).await?;
    state.journal().set_disabled(user.id, None).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.enable",
            &user.name,
            "",
            state.now(),
        )
        .await?;
    user.disabled = false;
    Ok(Json(UserView::of(&state, user).await?))
}

/// Removes a user and ends its tokens and sessions (the audit log keeps
/// its name).
#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "people", security(("token" = ["admin"])),
    params(("name" = String, Path, description = "The user's name")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_user(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let user = user_named(&state, &name).await?;
    check_not_last_admin(&state, &caller.user, &user).await?;
    state.journal().remove_user(user.id).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.remove",
            &user.name,
            user.role.as_str(),
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

/// Resets a user's password and ends its tokens and sessions (for one who
/// forgot it, or whose password may be known to others).
#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "people", security(("token" = ["admin"])),
    params(("name" = String, Path, description = "The user's name")),
    request_body = NewPassword,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn reset_password(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Body(new): Body<NewPassword>,
) -> ApiResult<StatusCode> {
    check_password("password", &new.password)?;
    let user = user_named(&state, &name).await?;
    state
        .journal()
        .set_password(user.id, &hash_password(&new.password)?)
        .await?;
    let ended = state.journal().end_credentials(user.id).await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "user.password_reset",
            &user.name,
            &format!("{ended} token(s) and session(s) ended"),
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One's own new password, with the current one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password now.
    #[schema(min_length = 1, max_length = 256)]
    pub current: String,
    /// The new one: 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub password: String,
}

/// Changes the caller's own password (the current one is asked again:
/// a session left open is not enough).
#[utoipa::path(put, path = "/api/v1/me/password", tag = "people", security(("token" = ["read"])),
    request_body = PasswordChange,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn change_password(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    Body(change): Body<PasswordChange>,
) -> ApiResult<StatusCode> {
    check_password("password", &change.password)?;
    let (user, hash) = state
        .journal()
        .user_by_name(&caller.user.name)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the user is gone"))?;
    let current = change.current;
    let matches = tokio::task::spawn_blocking(move || verify_password(&current, &hash))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if !matches {
        return Err(ApiError::invalid("current", "not the current password"));
    }
    state
        .journal()
        .set_password(user.id, &hash_password(&change.password)?)
        .await?;
    state
        .journal()
        .audit(
            &user.name,
            "user.password_change",
            &user.name,
            "",
            state.now(),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
