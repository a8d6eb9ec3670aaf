//! `/callback/{appid}`: each account's pushes through wxmass-callback's
//! hardened receiver (URL verification, signatures, the replay guard, safe
//! mode: an account always has its EncodingAESKey, and plaintext is
//! refused), recorded by the push writer before WeChat is answered. This
//! is WeChat's protocol, not the API: it is not in the API's document and
//! takes no API credentials (the signature is the credential).

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;
use wxmass_campaign::beijing;

use crate::AppState;
use wxmass_campaign::pushes::PushWriter;

/// Each account's receiver, made on its first push.
#[derive(Debug)]
pub struct Callbacks {
    writer: PushWriter,
    routers: tokio::sync::RwLock<HashMap<String, axum::Router>>,
}

impl Callbacks {
    /// Receivers that record through `writer`.
    pub fn new(writer: PushWriter) -> Callbacks {
        Callbacks {
            writer,
            routers: tokio::sync::RwLock::default(),
        }
    }

    async fn router_for(
        &self,
        state: &AppState,
        appid: &str,
    ) -> Result<Option<axum::Router>, String> {
        if let Some(router) = self.routers.read().await.get(appid) {
            return Ok(Some(router.clone()));
        }
        let journal = state.journal();
        let Some((_, secrets)) = crate::api::accounts::open(state, appid)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let config = wxmass_callback::CallbackConfig::builder(secrets.callback_token, appid)
            .aes_key(secrets.aes_key)
            .build()
            .map_err(|e| e.to_string())?;
        let seen = journal
            .seen_requests(beijing::now())
            .await
            .map_err(|e| e.to_string())?;
        let router =
            wxmass_callback::router_with_recorder(config, self.writer.recorder(appid, &seen));
        let mut routers = self.routers.write().await;
        Ok(Some(
            routers.entry(appid.to_owned()).or_insert(router).clone(),
        ))
    }
}

/// `GET` (URL verification) and `POST` (a push) on `/callback/{appid}`.
pub async fn handle(
    State(state): State<AppState>,
    Path(appid): Path<String>,
    request: Request,
) -> Response {
    let router = match state.callbacks().router_for(&state, &appid).await {
        Ok(Some(router)) => router,
        Ok(None) => return (StatusCode::NOT_FOUND, "no such account").into_response(),
        Err(why) => {
            tracing::error!(appid = %appid.escape_debug(), error = %why.escape_debug(), "cannot receive this account's pushes");
            return (StatusCode::SERVICE_UNAVAILABLE, "not ready; retry").into_response();
        }
    };
    // The receiver serves `/`, with the query WeChat signed.
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
