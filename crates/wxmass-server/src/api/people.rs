//! People: users (`/api/v1/users`), API tokens (`/api/v1/tokens`) and the
//! audit log (`/api/v1/audit`). All of it is the admin's.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wxmass_campaign::people::{AuditEntry, Role, User};

use crate::AppState;
use crate::auth::{Allowed, MIN_PASSWORD_CHARS, ToAdmin, hash_password, new_token, token_hash};
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
}

impl From<User> for UserView {
    fn from(u: User) -> UserView {
        UserView {
            id: u.id,
            name: u.name,
            role: u.role.as_str().to_owned(),
            created_at: u.created_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name: 1 to 64 of `A-Z a-z 0-9 . _ -`.
    pub name: String,
    /// `admin`, `editor`, `approver` or `viewer`.
    pub role: String,
    /// At least 12 characters.
    pub password: String,
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
    if password.len() > 1024 {
        return Err(ApiError::invalid(field, "more than 1024 bytes"));
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
    let users = state.journal().users().await?;
    Ok(Json(users.into_iter().map(UserView::from).collect()))
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
    let hash = hash_password(&new.password)?;
    let now = state.now();
    let user = state
        .journal()
        .create_user(&new.name, role, &hash, now)
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
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Whose (a user's name).
    pub user: String,
    /// What it may do: the user's role or a weaker one.
    pub role: String,
    /// What it is for (a machine's name), 1 to 100 characters.
    pub label: String,
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
    let token = new_token();
    let now = state.now();
    let id = state
        .journal()
        .create_token(user.id, role, &token_hash(&token), &new.label, now)
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
