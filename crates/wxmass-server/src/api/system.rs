//! The server itself: `GET /api/v1/health` (no credentials: the process
//! answers, for liveness), `GET /api/v1/ready` (no credentials: its store
//! answers too, for load balancers), `GET /metrics` (Prometheus text),
//! `GET /api/v1/me` (who the credentials are) and `/api/v1/clock` (the
//! time campaigns are scheduled by; moved by tests).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use wxmass_campaign::beijing;

use crate::AppState;
use crate::auth::{Allowed, ToAdmin, ToRead};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::json::Body;

/// The server's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// Whether the server answers (liveness: it does not ask the store, so a
/// database outage does not get healthy instances restarted).
#[utoipa::path(get, path = "/api/v1/health", tag = "system", security(()),
    responses((status = 200, body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Whether the server can serve: its store answers a query (readiness:
/// 503 while it does not, so a load balancer sends requests elsewhere).
#[utoipa::path(get, path = "/api/v1/ready", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn ready(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    // One lookup by key: cheap whatever the store holds.
    if let Err(error) = state.journal().planned_campaign("").await {
        return Err(ApiError::unavailable(format!(
            "the store does not answer: {error}"
        )));
    }
    Ok(Json(Health {
        status: "ready",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// The server's figures in Prometheus text: requests by route and status,
/// WeChat calls' latency, token fetches, batches sent and refused by
/// errcode, pushes recorded, campaigns by state.
#[utoipa::path(get, path = "/metrics", tag = "system", security(("token" = ["read"])),
    responses((status = 200, body = String, content_type = "text/plain"), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "A credential scoped to some accounts")))]
pub async fn metrics(
    Allowed(caller, _): Allowed<ToRead>,
    State(state): State<AppState>,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    // The figures span every account.
    caller.require_every_account()?;
    let mut by_state = std::collections::BTreeMap::<&'static str, u64>::new();
    for c in state.journal().campaigns().await? {
        *by_state.entry(c.state.as_str()).or_default() += 1;
    }
    for (name, n) in by_state {
        metrics::gauge!("wxmass_campaigns", "state" => name).set(n as f64);
    }
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::handle().render(),
    ))
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The user's id.
    pub id: i64,
    /// The user's name.
    pub name: String,
    /// The user's role.
    #[schema(value_type = String, example = "editor")]
    pub user_role: wxmass_campaign::people::Role,
    /// What these credentials may do.
    #[schema(value_type = String, example = "viewer")]
    pub role: wxmass_campaign::people::Role,
}

/// Who the credentials belong to, and what they may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "system", security(("token" = ["read"])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(Allowed(caller, _): Allowed<ToRead>) -> ApiResult<Json<Me>> {
    Ok(Json(Me {
        id: caller.user.id,
        name: caller.user.name.clone(),
        user_role: caller.user.role,
        role: caller.role,
    }))
}

/// The server's clock.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    /// Now, Beijing time (RFC 3339).
    pub now: String,
    /// Seconds ahead of the machine's clock.
    pub offset_seconds: i64,
    /// Whether an admin may move it (`--movable-clock`).
    pub movable: bool,
}

fn clock_view(state: &AppState) -> ClockView {
    let clock = state.clock();
    ClockView {
        now: beijing::rfc3339(clock.now()),
        offset_seconds: clock.offset(),
        movable: clock.is_movable(),
    }
}

/// The time campaigns are scheduled by.
#[utoipa::path(get, path = "/api/v1/clock", tag = "system", security(("token" = ["read"])),
    responses((status = 200, body = ClockView), (status = 401, body = ErrorBody)))]
pub async fn get_clock(_: Allowed<ToRead>, State(state): State<AppState>) -> Json<ClockView> {
    Json(clock_view(&state))
}

/// A move of the clock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClockMove {
    /// Seconds forward: 0 to 34,560,000 (400 days).
    #[schema(minimum = 0, maximum = 34560000)]
    pub advance_seconds: i64,
}

/// Moves the clock forward (a server started with `--movable-clock`: tests
/// and demos), so that a campaign due tomorrow runs now. The pushes'
/// replay window and the leases keep the machine's time.
#[utoipa::path(post, path = "/api/v1/clock", tag = "system", security(("token" = ["admin"])),
    request_body = ClockMove,
    responses((status = 200, body = ClockView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn move_clock(
    Allowed(caller, _): Allowed<ToAdmin>,
    State(state): State<AppState>,
    Body(request): Body<ClockMove>,
) -> ApiResult<Json<ClockView>> {
    if !(0..=crate::clock::MAX_ADVANCE).contains(&request.advance_seconds) {
        return Err(ApiError::invalid(
            "advance_seconds",
            format!(
                "{}: 0 to 34,560,000 (the clock moves forward only)",
                request.advance_seconds
            ),
        ));
    }
    let now = state
        .clock()
        .advance(request.advance_seconds)
        .map_err(ApiError::wrong_state)?;
    state
        .journal()
        .audit(
            &caller.user.name,
            "clock.move",
            "server",
            &format!(
                "+{} s, now {}",
                request.advance_seconds,
                beijing::shown(now)
            ),
            now,
        )
        .await?;
    Ok(Json(clock_view(&state)))
}
