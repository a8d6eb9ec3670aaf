//! Browser sessions (`/api/v1/session`): a person signs in with a name and
//! password and gets an HttpOnly, SameSite=Strict cookie (`Secure` behind
//! an HTTPS proxy that says so with `X-Forwarded-Proto: https`) and the
//! session's CSRF token, which the page sends in `X-CSRF-Token` with every
//! request that changes something. Failed sign-ins are limited per name
//! (and over all names) with 429 and `Retry-After`, counted in the store
//! for every server on it. Machines use API tokens instead.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wxmass_campaign::beijing;

use crate::AppState;
use crate::auth::{
    self, Allowed, SESSION_COOKIE, SESSION_LABEL, SESSION_SECONDS, ToRead, csrf_token, token_hash,
    verify_password,
};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;

/// A sign-in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    /// The user's name (surrounding spaces ignored).
    #[schema(pattern = "\\S", min_length = 1, max_length = 1024)]
    pub name: String,
    /// The user's password.
    #[schema(max_length = 1024)]
    pub password: String,
}

/// The caller's session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// The user's name.
    pub name: String,
    /// What the session may do: the user's role.
    pub role: String,
    /// Send this in `X-CSRF-Token` with every request that changes
    /// something (none for an API token).
    pub csrf_token: Option<String>,
    /// When the session ends, Beijing time (RFC 3339; none for an API
    /// token).
    pub expires_at: Option<String>,
}

/// The longest name or password looked at (a longer one cannot match).
const MAX_SIGN_IN_CHARS: usize = 1024;

fn cookie(headers: &HeaderMap, value: &str, max_age: i64) -> ApiResult<HeaderValue> {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .map_err(|e| ApiError::internal(&e))
}

/// Signs in: sets the session cookie and answers its CSRF token.
#[utoipa::path(post, path = "/api/v1/session", tag = "people", security(()),
    request_body = SignIn,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    auth::ClientAddress(address): auth::ClientAddress,
    headers: HeaderMap,
    Body(request): Body<SignIn>,
) -> ApiResult<Response> {
    if !auth::same_origin(&headers) {
        return Err(ApiError::forbidden(
            "this sign-in comes from another site's page (its Origin is not this server)",
        ));
    }
    let name = request.name.trim();
    if name.is_empty() || name.chars().count() > MAX_SIGN_IN_CHARS {
        return Err(ApiError::invalid(
            "name",
            "the user's name, 1 to 1,024 characters, not only spaces",
        ));
    }
    if request.password.chars().count() > MAX_SIGN_IN_CHARS {
        return Err(ApiError::invalid("password", "at most 1,024 characters"));
    }
    match state.sign_ins().check(name, &address).await? {
        auth::SignInTurn::Wait(wait) => {
            return Err(ApiError::too_many(
                format!(
                    "too many failed sign-ins from this address: try again in {} s",
                    wait.as_secs().max(1)
                ),
                wait,
            ));
        }
        // A name failing from many addresses is slowed, never locked.
        auth::SignInTurn::Go(delay) => tokio::time::sleep(delay).await,
    }
    let found = state.journal().user_by_name(name).await?;
    // Unknown names cost the same hash as wrong passwords: timing says
    // nothing about who exists.
    let hash = found
        .as_ref()
        .map_or_else(|| dummy_hash().to_owned(), |(_, hash)| hash.clone());
    let password = request.password;
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    // A disabled user is refused as a wrong password is: the answer says
    // nothing of who exists.
    let Some((user, _)) = found.filter(|(user, _)| matches && !user.disabled) else {
        state.sign_ins().failed(name, &address).await?;
        tracing::warn!(name = %name.escape_debug(), %address, "a sign-in failed");
        state
            .journal()
            .audit(
                name,
                "session.failed",
                name,
                &format!("wrong name or password, from {address}"),
                state.now(),
            )
            .await?;
        return Err(ApiError::unauthorized("wrong name or password"));
    };
    state.sign_ins().succeeded(name, &address).await?;
    let secret = auth::new_session();
    let now = beijing::now();
    state
        .journal()
        .create_token(user.id, user.role, &token_hash(&secret), SESSION_LABEL, now)
        .await?;
    state
        .journal()
        .audit(
            &user.name,
            "session.create",
            &user.name,
            &format!("signed in from {address}"),
            state.now(),
        )
        .await?;
    let view = SessionView {
        name: user.name,
        role: user.role.as_str().to_owned(),
        csrf_token: Some(csrf_token(&secret)),
        expires_at: Some(beijing::rfc3339(now + SESSION_SECONDS)),
    };
    let cookie = cookie(&headers, &secret, SESSION_SECONDS)?;
    Ok(([(SET_COOKIE, cookie)], Json(view)).into_response())
}

/// An argon2id hash of nothing anyone types, made once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| auth::hash_password("no user has this password").unwrap_or_default())
}

/// The caller's session: who, and the CSRF token (a page reloaded reads
/// it here).
#[utoipa::path(get, path = "/api/v1/session", tag = "people", security(("token" = ["read"])),
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub async fn get_session(Allowed(caller, _): Allowed<ToRead>) -> Json<SessionView> {
    Json(SessionView {
        name: caller.user.name.clone(),
        role: caller.role.as_str().to_owned(),
        csrf_token: caller.session.as_ref().map(|s| csrf_token(&s.secret)),
        expires_at: caller
            .session
            .as_ref()
            .map(|s| beijing::rfc3339(s.started_at + SESSION_SECONDS)),
    })
}

/// Signs out: the session ends here and on every other server, and the
/// cookie is cleared. (An API token is revoked by an admin instead.)
#[utoipa::path(delete, path = "/api/v1/session", tag = "people", security(("token" = ["read"])),
    responses((status = 204, description = "Signed out; the cookie is cleared."), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody, description = "Called with an API token, which has no session")))]
pub async fn sign_out(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(session) = &caller.session else {
        return Err(ApiError::wrong_state(
            "an API token has no session to end (an admin revokes a token: DELETE /api/v1/tokens/{id})",
        ));
    };
    state
        .journal()
        .revoke_token(&token_hash(&session.secret))
        .await?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "session.delete",
            &caller.user.name,
            "signed out",
            state.now(),
        )
        .await?;
    let cookie = cookie(&headers, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, cookie)]).into_response())
}
