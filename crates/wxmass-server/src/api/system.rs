//! The server itself: `GET /api/v1/health` (no credentials: for load
//! balancers) and `GET /api/v1/me` (who the credentials are).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Allowed, ToRead};
use crate::error::{ApiResult, ErrorBody};

/// The server's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the store answers.
    pub status: &'static str,
    /// The server's version.
    pub version: &'static str,
}

/// Whether the server and its store answer.
#[utoipa::path(get, path = "/api/v1/health", tag = "system", security(()),
    responses((status = 200, body = Health), (status = 500, body = ErrorBody)))]
pub async fn health(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    state.journal().campaigns().await?;
    Ok(Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    }))
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
