//! `/callback/{appid}`: each account's pushes through wxmass-callback's
//! hardened receiver (URL verification, signatures, the replay guard, safe
//! mode: an account always has its EncodingAESKey, and plaintext is
//! refused), recorded by the push writer before WeChat is answered. This
//! is WeChat's protocol, not the API: it is not in the API's document and
//! takes no API credentials (the signature is the credential).
//!
//! The accounts a platform acts for come in on `/platform/callback/{appid}`
//! ([`Via::Platform`]) to receivers of the same kind, sealed with the
//! platform's key and pinned to the account; and the platform's own events
//! to one receiver whose recorder handles them ([`crate::platform`]).

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use wxmass_campaign::beijing;

use crate::AppState;
use wxmass_campaign::pushes::PushWriter;

/// Which URL an account's pushes come to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `/callback/{appid}`: the account's own server settings.
    Own,
    /// `/platform/callback/{appid}`: the platform's message URL.
    Platform,
}

/// Each account's receiver, made on its first push.
#[derive(Debug)]
pub struct Callbacks {
    writer: PushWriter,
    routers: tokio::sync::RwLock<HashMap<(String, bool), axum::Router>>,
    /// The platform's keys, when the server is one (`--platform`).
    platform: std::sync::OnceLock<PlatformKeys>,
}

/// What a platform's receivers open its accounts' pushes with.
struct PlatformKeys {
    component_appid: String,
    token: String,
    aes_key: String,
}

impl std::fmt::Debug for PlatformKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformKeys")
            .field("component_appid", &self.component_appid)
            .finish_non_exhaustive()
    }
}

impl Callbacks {
    /// Receivers that record through `writer`.
    pub fn new(writer: PushWriter) -> Callbacks {
        Callbacks {
            writer,
            routers: tokio::sync::RwLock::default(),
            platform: std::sync::OnceLock::new(),
        }
    }

    /// Takes the pushes of a platform's accounts on [`Via::Platform`],
    /// sealed with its token, key and component appid (set once, at start).
    pub fn serve_platform(&self, component_appid: &str, token: &str, aes_key: &str) {
        let _ = self.platform.set(PlatformKeys {
            component_appid: component_appid.to_owned(),
            token: token.to_owned(),
            aes_key: aes_key.to_owned(),
        });
    }

    /// A recorder of `appid`'s requests through the push writer.
    pub(crate) fn recorder(
        &self,
        appid: &str,
        seen: &[wxmass_campaign::SeenRequest],
    ) -> wxmass_campaign::pushes::JournalRecorder {
        self.writer.recorder(appid, seen)
    }

    async fn router_for(
        &self,
        state: &AppState,
        appid: &str,
        via: Via,
    ) -> Result<Option<axum::Router>, String> {
        let key = (appid.to_owned(), via == Via::Platform);
        if let Some(router) = self.routers.read().await.get(&key) {
            return Ok(Some(router.clone()));
        }
        let journal = state.journal();
        let config = match via {
            Via::Own => {
                // A platform's account has no receiver here (None).
                let Some((_, secrets)) = crate::api::accounts::open(state, appid)
                    .await
                    .map_err(|e| e.to_string())?
                else {
                    return Ok(None);
                };
                wxmass_callback::CallbackConfig::builder(secrets.callback_token, appid)
                    .aes_key(secrets.aes_key)
                    .build()
                    .map_err(|e| e.to_string())?
            }
            Via::Platform => {
                let Some(keys) = self.platform.get() else {
                    return Ok(None);
                };
                let account = journal.account(appid).await.map_err(|e| e.to_string())?;
                let Some(grant) = account
                    .and_then(|a| a.authorised)
                    .filter(|g| g.component_appid == keys.component_appid)
                else {
                    return Ok(None);
                };
                // Pinned: one key seals every account's pushes.
                wxmass_callback::CallbackConfig::builder(
                    keys.token.clone(),
                    keys.component_appid.clone(),
                )
                .aes_key(keys.aes_key.clone())
                .account(grant.user_name)
                .build()
                .map_err(|e| e.to_string())?
            }
        };
        let seen = journal
            .seen_requests_of(Some(appid), beijing::now())
            .await
            .map_err(|e| e.to_string())?;
        let router =
            wxmass_callback::router_with_recorder(config, self.writer.recorder(appid, &seen));
        let mut routers = self.routers.write().await;
        Ok(Some(routers.entry(key).or_insert(router).clone()))
    }

    /// Forgets `appid`'s receivers: its keys or grant changed.
    pub async fn forget(&self, appid: &str) {
        let mut routers = self.routers.write().await;
        routers.remove(&(appid.to_owned(), false));
        routers.remove(&(appid.to_owned(), true));
    }
}

/// `GET` (URL verification) and `POST` (a push) on `/callback/{appid}`.
pub async fn handle(
    State(state): State<AppState>,
    Path(appid): Path<String>,
    request: Request,
) -> Response {
    receive(&state, &appid, Via::Own, request).await
}

/// Hands a request to `appid`'s receiver for pushes that come `via`.
pub async fn receive(state: &AppState, appid: &str, via: Via, request: Request) -> Response {
    let router = match state.callbacks().router_for(state, appid, via).await {
        Ok(Some(router)) => router,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such account").into_response(),
        Err(why) => {
            tracing::error!(appid = %appid.escape_debug(), error = %why.escape_debug(), "cannot receive this account's pushes");
            return (StatusCode::SERVICE_UNAVAILABLE, "not ready; retry").into_response();
        }
    };
    to_receiver(router, request).await
}

/// Serves `request` on a receiver, which serves `/` with the query WeChat
/// signed.
pub(crate) async fn to_receiver(router: axum::Router, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let uri = match parts.uri.query() {
        Some(query) => format!("/?{query}"),
        None => "/".to_owned(),
    };
    match uri.parse() {
        Ok(uri) => parts.uri = uri,
        Err(_) => return (StatusCode::BAD_REQUEST, "bad query").into_response(),
    }
    match router.oneshot(Request::from_parts(parts, body)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}
