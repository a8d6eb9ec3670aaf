//! The HTTP API under `/api/v1`, one module per area, and its OpenAPI 3.1
//! document, generated from the handlers' annotations (so it cannot drift
//! from them) and served at `/api/v1/openapi.json`.
//!
//! Each operation's security requirement names the permission it needs
//! (`token: [admin]`); the handler checks the same with
//! [`Caller::require`](crate::auth::Caller::require).

pub mod accounts;
pub mod across;
pub mod campaign_edits;
pub mod campaigns;
pub mod content;
pub mod files;
pub mod lists;
pub mod people;
pub mod preview;
pub mod publishes;
pub mod reads;
pub mod recipients;
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

/// What every operation's answers have in common, added once the routes
/// are in: to each that reads a body, the answers any body may get before
/// its handler runs (413, over the size limit; 415, not the type it
/// reads); and to every answer without one, the description its status
/// means here (OpenAPI requires one).
struct StandardAnswers;

/// What each status means in this API.
fn meaning(status: &str) -> &'static str {
    match status {
        "200" => "Done.",
        "201" => "Made.",
        "204" => "Done; nothing to answer.",
        "400" => "Bad input: the error names the field and what was wrong.",
        "401" => "No credentials, or ones that are not valid.",
        "403" => "The credentials' role may not do this (or a browser left out X-CSRF-Token).",
        "404" => "No such thing.",
        "409" => "It exists already, or is not in a state that allows this (the error says which).",
        "413" => "The body is larger than the server reads.",
        "415" => "The body is not of the type the operation reads.",
        "429" => "Too many tries: Retry-After says when to try again.",
        "502" => "WeChat refused or failed the call (its errcode is in the message).",
        _ => "The server or its store failed; the cause is in its log.",
    }
}

impl utoipa::Modify for StandardAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |status: &str| {
            ResponseBuilder::new()
                .description(meaning(status))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                if operation.request_body.is_some() {
                    for status in ["413", "415"] {
                        responses
                            .entry(status.to_owned())
                            .or_insert_with(|| error(status).into());
                    }
                }
                for (status, response) in responses.iter_mut() {
                    if let RefOr::T(response) = response
                        && response.description.is_empty()
                    {
                        response.description = meaning(status).to_owned();
                    }
                }
            }
        }
    }
}

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
    let (router, mut doc) = OpenApiRouter::with_openapi(Doc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::ready))
        .routes(routes!(system::metrics))
        .routes(routes!(system::me))
        .routes(routes!(system::get_clock, system::move_clock))
        .routes(routes!(
            session::sign_in,
            session::get_session,
            session::sign_out
        ))
        .routes(routes!(people::list_users, people::create_user))
        .routes(routes!(people::create_token, people::list_tokens))
        .routes(routes!(people::get_token, people::revoke_token))
        .routes(routes!(people::remove_user))
        .routes(routes!(people::disable_user))
        .routes(routes!(people::enable_user))
        .routes(routes!(people::reset_password))
        .routes(routes!(people::scope_user))
        .routes(routes!(people::change_password))
        .routes(routes!(people::audit_log))
        .routes(routes!(accounts::list_accounts, accounts::create_account))
        .routes(routes!(accounts::account_quota))
        .routes(routes!(
            accounts::account_testers,
            accounts::set_account_testers
        ))
        .routes(routes!(accounts::account_templates))
        .routes(routes!(accounts::set_account_tags))
        .routes(routes!(accounts::authorization_page))
        .routes(routes!(
            campaigns::list_campaigns,
            campaigns::create_campaign
        ))
        .routes(routes!(
            campaigns::get_campaign,
            campaign_edits::edit_campaign,
            campaign_edits::delete_campaign
        ))
        .routes(routes!(campaign_edits::clone_campaign))
        .routes(routes!(campaign_edits::reschedule_campaign))
        .routes(routes!(campaigns::campaign_batches))
        .routes(routes!(campaigns::campaign_accounts))
        .routes(routes!(recipients::campaign_recipients))
        .routes(routes!(recipients::campaign_recipients_csv))
        .routes(routes!(recipients::resend_unknown))
        .routes(routes!(preview::campaign_message))
        .routes(routes!(reads::campaign_reads))
        .routes(routes!(campaigns::submit_campaign))
        .routes(routes!(campaigns::approve_campaign))
        .routes(routes!(campaigns::pause_campaign))
        .routes(routes!(campaigns::resume_campaign))
        .routes(routes!(campaigns::cancel_campaign))
        .routes(routes!(campaigns::test_campaign))
        .routes(routes!(files::upload_file))
        .routes(routes!(files::delete_file))
        .routes(routes!(preview::preview_article))
        .routes(routes!(preview::check_content))
        .routes(routes!(
            publishes::list_publishes,
            publishes::submit_publish
        ))
        .routes(routes!(lists::list_lists))
        .routes(routes!(lists::save_list, lists::delete_list))
        .split_for_parts();
    // After the routes: they bring the operations.
    utoipa::Modify::modify(&StandardAnswers, &mut doc);
    (router, doc)
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
