//! The HTTP API under `/api/v1`, one module per area, and its OpenAPI 3.1
//! document, generated from the handlers' annotations (so it cannot drift
//! from them) and served at `/api/v1/openapi.json`.
//!
//! Each operation's security requirement names the permission it needs
//! (`token: [admin]`); the handler checks the same with
//! [`Caller::require`](crate::auth::Caller::require).

pub mod accounts;
pub mod campaigns;
pub mod lists;
pub mod people;
pub mod session;
pub mod system;

use std::sync::Arc;

use axum::Json;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wxmass server",
        description = "Mass messaging for WeChat Official Accounts: accounts, people, campaigns."
    ),
    modifiers(&Security)
)]
struct Doc;

/// Adds the bearer-token scheme every secured operation names.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token (`wxm_...`); the scopes listed on an operation are the permission it needs: read, edit, send or admin. A browser signed in with POST /api/v1/session may call the same operations with its session cookie instead, sending X-CSRF-Token with each that is not GET.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The API's routes, and its document.
pub fn router() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::me))
        .routes(routes!(system::get_clock, system::move_clock))
        .routes(routes!(
            session::sign_in,
            session::get_session,
            session::sign_out
        ))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(people::create_token))
        .routes(routes!(people::audit_log))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(campaigns::get_campaign))
        .routes(routes!(campaigns::submit_campaign))
        .routes(routes!(campaigns::approve_campaign))
        .routes(routes!(campaigns::pause_campaign))
        .routes(routes!(campaigns::resume_campaign))
        .routes(routes!(campaigns::cancel_campaign))
        .routes(routes!(campaigns::test_campaign))
        .routes(routes!(lists::list_lists))
        .routes(routes!(lists::save_list))
        .split_for_parts()
}

/// The routes with `/api/v1/openapi.json` serving the document.
pub fn with_document(state: AppState) -> axum::Router {
    let (router, doc) = router();
    let doc = Arc::new(doc);
    router
        .route(
            "/api/v1/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .with_state(state)
}
