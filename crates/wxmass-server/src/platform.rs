//! `--platform`: the server as a WeChat third-party platform
//! (wechat-notifications.md §1), acting for every account that authorised
//! it with a scan instead of giving its AppSecret.
//!
//! - `POST /platform/events` (the authorization event URL): the ticket,
//!   kept in the token store for every server; `authorized` and
//!   `updateauthorized`, whose code one server claims in the store and
//!   exchanges, once, writing the account; `unauthorized`, which marks the
//!   account withdrawn and pauses its campaigns. Each is answered `success`
//!   when done (WeChat waits 5 s).
//! - `/platform/callback/{appid}` (the message URL, configured at WeChat
//!   as `https://host/platform/callback/$APPID$`): each account's pushes,
//!   through the same receivers and push writer as `/callback/{appid}`,
//!   sealed with the platform's key and pinned to the account's original
//!   id. The five release test accounts get the scripted answers
//!   ([`release`]) before anything else.
//! - Tokens: [`wxmass_api::Component`] on the server's token store, so that
//!   one server at a time fetches each (the platform's and each account's)
//!   and the others read it; refresh tokens sealed with the server key in
//!   the account's row ([`SealedRefreshTokens`]).

pub mod release;

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use wxmass_api::{Component, RefreshTokens, Secret};
use wxmass_callback::{CallbackConfig, PlatformInfo, Push};
use wxmass_campaign::AccountType;
use wxmass_campaign::lifecycle::{CampaignState, Change, Step};
use wxmass_campaign::people::{Account, Authorised};
use wxmass_campaign::store::prelude::*;

use crate::AppState;

/// What `--platform` gives: the platform's credentials from the open
/// platform's console.
#[derive(Clone)]
pub struct PlatformSettings {
    /// The component appid.
    pub component_appid: String,
    /// The component secret.
    pub secret: Secret,
    /// The message token (消息校验Token).
    pub token: String,
    /// The EncodingAESKey (消息加解密Key).
    pub aes_key: String,
}

impl std::fmt::Debug for PlatformSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlatformSettings")
            .field("component_appid", &self.component_appid)
            .finish_non_exhaustive()
    }
}

/// The platform a server runs as.
pub struct Platform {
    settings: PlatformSettings,
    component: Component,
    events: CallbackConfig,
    /// The Beijing day of the last reconcile with WeChat's list (0: none
    /// since start).
    reconciled_day: std::sync::atomic::AtomicI64,
    /// The event receiver, made on the first event.
    events_router: tokio::sync::OnceCell<axum::Router>,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("component_appid", &self.settings.component_appid)
            .finish_non_exhaustive()
    }
}

/// What a platform account's row seals: the refresh token.
#[derive(Serialize, Deserialize)]
struct PlatformSecrets {
    refresh_token: String,
}

/// Refresh tokens sealed with the server key in each account's row, so
/// that every server reads the one the last answer carried.
pub struct SealedRefreshTokens {
    journal: Arc<dyn Store>,
    key: crate::ServerKey,
}

impl SealedRefreshTokens {
    async fn account(&self, appid: &str) -> wxmass_api::Result<Option<Account>> {
        let account = self
            .journal
            .account(appid)
            .await
            .map_err(|e| wxmass_api::Error::TokenStore(e.to_string()))?;
        Ok(account.filter(|a| a.authorised.is_some()))
    }
}

impl RefreshTokens for SealedRefreshTokens {
    fn load<'a>(&'a self, appid: &'a str) -> wxmass_api::token::StoreFuture<'a, Option<Secret>> {
        Box::pin(async move {
            let Some(account) = self.account(appid).await? else {
                return Ok(None);
            };
            Ok(self
                .key
                .open(&account.sealed)
                .ok()
                .and_then(|plain| serde_json::from_slice::<PlatformSecrets>(&plain).ok())
                .map(|s| Secret::new(s.refresh_token))
                .filter(|s| !s.is_empty()))
        })
    }

    fn save<'a>(
        &'a self,
        appid: &'a str,
        refresh_token: &'a Secret,
    ) -> wxmass_api::token::StoreFuture<'a, ()> {
        Box::pin(async move {
            // An account not written yet keeps it when it is (the exchange
            // hands it over).
            if self.account(appid).await?.is_none() {
                return Ok(());
            }
            let sealed = seal_refresh_token(&self.key, refresh_token)?;
            self.journal
                .set_sealed(appid, &sealed)
                .await
                .map_err(|e| wxmass_api::Error::TokenStore(e.to_string()))
        })
    }
}

fn seal_refresh_token(key: &crate::ServerKey, token: &Secret) -> wxmass_api::Result<String> {
    let plain = serde_json::to_vec(&PlatformSecrets {
        refresh_token: token.expose().to_owned(),
    })
    .map_err(|e| wxmass_api::Error::TokenStore(e.to_string()))?;
    Ok(key.seal(&plain))
}

impl Platform {
    /// The platform on `state`'s store, token store and WeChat address.
    pub fn new(settings: PlatformSettings, state: &AppState) -> Result<Platform, String> {
        if !wxmass_api::is_appid(&settings.component_appid) {
            return Err(format!(
                "--platform {:?}: the platform's component AppID, `wx` and 16 letters or digits",
                settings.component_appid
            ));
        }
        let events =
            CallbackConfig::builder(settings.token.clone(), settings.component_appid.clone())
                .aes_key(settings.aes_key.clone())
                .build()
                .map_err(|e| format!("--platform-token or --platform-aes-key: {e}"))?;
        let refresh_tokens = Arc::new(SealedRefreshTokens {
            journal: state.journal_arc(),
            key: state.key().clone(),
        });
        let mut builder =
            wxmass_api::Client::builder(settings.component_appid.clone(), settings.secret.clone())
                .token_store(state.tokens())
                .refresh_tokens(refresh_tokens)
                .clock(state.token_clock());
        if let Some(base) = state.wechat_base() {
            builder = builder.base_url(base);
        }
        let component = builder.build_component().map_err(|e| e.to_string())?;
        Ok(Platform {
            settings,
            component,
            events,
            reconciled_day: std::sync::atomic::AtomicI64::new(0),
            events_router: tokio::sync::OnceCell::new(),
        })
    }

    /// The platform's client.
    pub fn component(&self) -> &Component {
        &self.component
    }

    /// The component appid.
    pub fn appid(&self) -> &str {
        &self.settings.component_appid
    }

    /// The platform's own receiver configuration (its events).
    pub(crate) fn events_receiver(&self) -> &CallbackConfig {
        &self.events
    }

    /// The receiver of its events, whose recorder handles each before
    /// recording its request (the replay guard's memory).
    async fn events_router(&self, state: &AppState) -> Result<axum::Router, String> {
        self.events_router
            .get_or_try_init(|| async {
                let seen = state
                    .journal()
                    .seen_requests_of(Some(self.appid()), wxmass_campaign::beijing::now())
                    .await
                    .map_err(|e| e.to_string())?;
                let recorder = EventRecorder::new(
                    state.clone(),
                    state.callbacks().recorder(self.appid(), &seen),
                );
                Ok::<_, String>(wxmass_callback::router_with_recorder(
                    self.events.clone(),
                    recorder,
                ))
            })
            .await
            .cloned()
    }

    /// The message token, key and appid its accounts' pushes are sealed
    /// with, for the receivers.
    pub(crate) fn keys(&self) -> (&str, &str, &str) {
        (self.appid(), &self.settings.token, &self.settings.aes_key)
    }
}

/// What an exchange came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exchanged {
    /// The account is written (new, or its grant renewed).
    Account(Box<Account>),
    /// Another server, or an earlier push, claimed this code.
    AlreadyClaimed,
}

/// Exchanges an authorization code once across every server: claims it in
/// the store, asks WeChat (`api_query_auth`, then the account's name and
/// kind), and writes the account with its sealed refresh token and grant.
/// A failed exchange gives the code back, for WeChat's retry or the
/// browser's redirect.
pub async fn exchange(
    state: &AppState,
    platform: &Platform,
    code: &str,
    appid_hint: &str,
) -> Result<Exchanged, String> {
    let journal = state.journal();
    let now = state.now();
    if !journal
        .claim_authorization_code(code, appid_hint, now)
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(Exchanged::AlreadyClaimed);
    }
    let exchanged = async {
        let granted = platform
            .component()
            .query_auth(code)
            .await
            .map_err(|e| e.to_string())?;
        let refresh = granted
            .refresh_token
            .clone()
            .ok_or("the account granted no API permission: nothing to act with")?;
        write_account(
            state,
            platform,
            &granted.authorizer_appid,
            &refresh,
            "account.authorise",
        )
        .await
    }
    .await;
    match exchanged {
        Ok(account) => Ok(Exchanged::Account(Box::new(account))),
        Err(why) => {
            let _ = journal.release_authorization_code(code).await;
            Err(why)
        }
    }
}

/// Writes (or renews) the platform's account `appid` with its refresh
/// token and what `api_get_authorizer_info` says of it (name, kind,
/// original id, permission sets), audited as `action`.
async fn write_account(
    state: &AppState,
    platform: &Platform,
    appid: &str,
    refresh: &Secret,
    action: &str,
) -> Result<Account, String> {
    let journal = state.journal();
    let now = state.now();
    let info = platform
        .component()
        .authorizer_info(appid)
        .await
        .map_err(|e| e.to_string())?;
    let sealed = seal_refresh_token(state.key(), refresh).map_err(|e| e.to_string())?;
    let name: String = match info.nick_name.trim() {
        "" => appid.to_owned(),
        name => name.chars().filter(|c| !c.is_control()).take(64).collect(),
    };
    let account = Account {
        appid: appid.to_owned(),
        name,
        account_type: Some(if info.service_type == 2 {
            AccountType::Service
        } else {
            AccountType::Subscription
        }),
        sealed,
        api_base: None,
        created_at: now,
        authorised: Some(Authorised {
            component_appid: platform.appid().to_owned(),
            permission_sets: info.permission_sets.clone(),
            user_name: info.user_name.clone(),
            withdrawn_at: None,
        }),
    };
    journal
        .authorise_account(&account)
        .await
        .map_err(|e| e.to_string())?;
    let missing: Vec<&str> = [
        (7, "7 (mass and template messages)"),
        (89, "89 (subscription notices)"),
    ]
    .into_iter()
    .filter(|(set, _)| !info.permission_sets.contains(set))
    .map(|(_, name)| name)
    .collect();
    let mut detail = format!(
        "through the platform; permission sets {:?}",
        info.permission_sets
    );
    if !missing.is_empty() {
        detail.push_str(&format!("; missing {}", missing.join(", ")));
    }
    journal
        .audit("WeChat", action, appid, &detail, now)
        .await
        .map_err(|e| e.to_string())?;
    state.callbacks().forget(appid).await;
    Ok(account)
}

/// An account withdrew: it is marked so (its history kept), its campaigns
/// that would still send are paused, and its receiver forgotten.
pub async fn withdraw(state: &AppState, appid: &str) -> Result<(), String> {
    let journal = state.journal();
    let now = state.now();
    let newly = journal
        .withdraw_account(appid, now)
        .await
        .map_err(|e| e.to_string())?;
    let campaigns = journal.campaigns().await.map_err(|e| e.to_string())?;
    let note = "paused: the account withdrew its authorisation of the platform; its admin authorises again, then resume";
    let mut paused = 0;
    for c in campaigns.iter().filter(|c| c.appid == appid) {
        if matches!(c.state, CampaignState::Scheduled | CampaignState::Running) {
            let change = Change {
                note: Some(note.into()),
                ..Default::default()
            };
            if journal
                .move_campaign(&c.id, c.state, Step::Pause, &change, now)
                .await
                .is_ok()
            {
                paused += 1;
            }
        }
    }
    if newly {
        journal
            .audit(
                "WeChat",
                "account.withdrawn",
                appid,
                &format!("unauthorized; {paused} campaign(s) paused"),
                now,
            )
            .await
            .map_err(|e| e.to_string())?;
    }
    state.callbacks().forget(appid).await;
    Ok(())
}

/// Tokens fetched at once, at most, when many end together.
const REFRESHES_AT_ONCE: usize = 16;

/// The runner's sweep for the platform: its token and every authorised
/// account's refreshed ahead of their ends (one server fetches each; the
/// others find it in the store), so that a send never waits for one; and,
/// once a day (and after a start), the accounts reconciled with WeChat's
/// list ([`reconcile`]). An account WeChat says withdrew (61003) is
/// marked so.
pub async fn keep(state: &AppState) -> Result<(), String> {
    use futures_util::StreamExt as _;
    let Some(platform) = state.platform() else {
        return Ok(());
    };
    if !platform
        .component()
        .has_fresh_ticket()
        .await
        .map_err(|e| e.to_string())?
    {
        // Nothing to fetch with until WeChat pushes a ticket.
        return Ok(());
    }
    platform
        .component()
        .access_token()
        .await
        .map_err(|e| e.to_string())?;
    let day = wxmass_campaign::beijing::day_number(state.now());
    let last = platform
        .reconciled_day
        .swap(day, std::sync::atomic::Ordering::AcqRel);
    if last != day
        && let Err(why) = reconcile(state, platform).await
    {
        platform
            .reconciled_day
            .store(last, std::sync::atomic::Ordering::Release);
        tracing::warn!(error = %why.escape_debug(), "could not reconcile the platform's accounts; trying again");
    }
    let accounts = platform_accounts(state, platform).await?;
    let withdrawn: Vec<String> = futures_util::stream::iter(accounts)
        .map(|account| async move {
            let client = platform.component().authorizer(&account.appid).ok()?;
            match client.access_token().await {
                Err(e) if e.errcode() == Some(wxmass_api::Errcode::ComponentNotAuthorized) => {
                    Some(account.appid)
                }
                Err(e) => {
                    tracing::warn!(appid = %account.appid, error = %e, "could not refresh the account's token");
                    None
                }
                Ok(_) => None,
            }
        })
        .buffer_unordered(REFRESHES_AT_ONCE)
        .filter_map(|gone| async move { gone })
        .collect()
        .await;
    for appid in withdrawn {
        withdraw(state, &appid).await?;
    }
    Ok(())
}

/// The platform's accounts that are not withdrawn.
async fn platform_accounts(state: &AppState, platform: &Platform) -> Result<Vec<Account>, String> {
    Ok(state
        .journal()
        .accounts()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|a| {
            a.authorised
                .as_ref()
                .is_some_and(|g| g.component_appid == platform.appid() && g.withdrawn_at.is_none())
        })
        .collect())
}

/// The accounts as WeChat lists them (`api_get_authorizer_list`), which is
/// the truth when a push was missed: each listed refresh token kept; an
/// account listed and not here (its code never exchanged, or a
/// re-authorisation missed) written; an account here and not listed
/// (a withdrawal missed) marked withdrawn.
pub async fn reconcile(state: &AppState, platform: &Platform) -> Result<(), String> {
    // Ours first: an account written after WeChat's list was read (an
    // authorisation exchanged meanwhile, here or on another server) would
    // read as one the list lacks.
    let ours = platform_accounts(state, platform).await?;
    let listed = platform
        .component()
        .reconcile()
        .await
        .map_err(|e| e.to_string())?;
    for account in &ours {
        if !listed.iter().any(|l| l.authorizer_appid == account.appid) {
            withdraw(state, &account.appid).await?;
        }
    }
    for entry in listed {
        let known = ours.iter().any(|a| a.appid == entry.authorizer_appid);
        if known || release::is_test_account(&entry.authorizer_appid) {
            continue;
        }
        if let Some(refresh) = &entry.refresh_token
            && let Err(why) = write_account(
                state,
                platform,
                &entry.authorizer_appid,
                refresh,
                "account.recover",
            )
            .await
        {
            tracing::warn!(appid = %entry.authorizer_appid.escape_debug(), error = %why.escape_debug(), "could not recover a listed account");
        }
    }
    Ok(())
}

/// `POST /platform/events`: the authorization event URL, through the
/// platform's receiver (signatures, the replay guard) and its
/// [`EventRecorder`].
pub async fn events(State(state): State<AppState>, request: Request) -> Response {
    let Some(platform) = state.platform() else {
        return (
            StatusCode::NOT_FOUND,
            "this server is not a platform (--platform)",
        )
            .into_response();
    };
    match platform.events_router(&state).await {
        Ok(router) => crate::callbacks::to_receiver(router, request).await,
        Err(why) => {
            tracing::error!(error = %why.escape_debug(), "cannot receive the platform's events");
            (StatusCode::SERVICE_UNAVAILABLE, "not ready; retry").into_response()
        }
    }
}

/// Handles each platform event, then records its request (so that a
/// replay of it is refused, across restarts). An event not handled is
/// answered 503, for WeChat to push again; handling twice is harmless (a
/// ticket kept already, a code claimed already, a withdrawal marked).
pub struct EventRecorder {
    state: AppState,
    journal: wxmass_campaign::pushes::JournalRecorder,
}

impl EventRecorder {
    pub(crate) fn new(state: AppState, journal: wxmass_campaign::pushes::JournalRecorder) -> Self {
        Self { state, journal }
    }
}

impl wxmass_callback::PushRecorder for EventRecorder {
    fn record(
        &self,
        push: Push,
        request: wxmass_callback::SeenRequest,
    ) -> wxmass_callback::RecordFuture {
        let state = self.state.clone();
        let event = push.clone();
        let recorded = self.journal.record(push, request);
        Box::pin(async move {
            handle_event(&state, event)
                .await
                .map_err(wxmass_callback::RecordError::Store)?;
            recorded.await
        })
    }

    fn record_request(
        &self,
        request: wxmass_callback::SeenRequest,
    ) -> wxmass_callback::RecordFuture {
        self.journal.record_request(request)
    }

    fn seen_requests(&self) -> Vec<wxmass_callback::SeenRequest> {
        self.journal.seen_requests()
    }
}

/// What an event asks for.
async fn handle_event(state: &AppState, push: Push) -> Result<(), String> {
    let platform = state.platform().ok_or("this server is not a platform")?;
    let Push::Platform(event) = push else {
        return Err("not a platform event".into());
    };
    if event.component_appid != platform.appid() {
        return Err("another platform's event".into());
    }
    let done = match &event.info {
        PlatformInfo::Ticket { ticket } => platform
            .component()
            .save_ticket(ticket, event.create_time)
            .await
            .map_err(|e| e.to_string()),
        PlatformInfo::Authorized(change) | PlatformInfo::UpdateAuthorized(change) => {
            if release::is_test_account(&change.authorizer_appid) {
                // The release test exchanges its code from the fan's
                // message; a second exchange would fail it.
                Ok(())
            } else {
                exchange(
                    state,
                    platform,
                    &change.authorization_code,
                    &change.authorizer_appid,
                )
                .await
                .map(drop)
            }
        }
        PlatformInfo::Unauthorized { authorizer_appid } => withdraw(state, authorizer_appid).await,
        PlatformInfo::Other { .. } => Ok(()),
    };
    done.inspect_err(|why| {
        tracing::error!(
            info_type = %event.info_type().escape_debug(),
            error = %why.escape_debug(),
            "platform event not handled"
        );
    })
}

/// `GET` and `POST` on `/platform/callback/{appid}`: an authorised account's
/// pushes (the message URL, `$APPID$` replaced).
pub async fn callback(
    State(state): State<AppState>,
    Path(appid): Path<String>,
    request: Request,
) -> Response {
    let Some(platform) = state.platform() else {
        return (
            StatusCode::NOT_FOUND,
            "this server is not a platform (--platform)",
        )
            .into_response();
    };
    if release::is_test_account(&appid) {
        return release::answer(&state, platform, &appid, request).await;
    }
    crate::callbacks::receive(&state, &appid, crate::callbacks::Via::Platform, request).await
}

/// `GET /platform/authorized?auth_code=...&expires_in=600`: where WeChat
/// sends the admin's browser back. The code is exchanged, once (the
/// `authorized` push may have come first), and the admin shown a page.
/// Everything in it is from a browser: read as such, and escaped.
pub async fn authorized(State(state): State<AppState>, request: Request) -> Response {
    let Some(platform) = state.platform() else {
        return (
            StatusCode::NOT_FOUND,
            "this server is not a platform (--platform)",
        )
            .into_response();
    };
    let redirect = match wxmass_api::api::component::AuthorizationRedirect::parse(
        request.uri().query().unwrap_or_default(),
    ) {
        Ok(r) => r,
        Err(e) => return page(StatusCode::BAD_REQUEST, "Not authorised", &e.to_string()),
    };
    match exchange(&state, platform, &redirect.auth_code, "").await {
        Ok(Exchanged::Account(account)) => page(
            StatusCode::OK,
            "Authorised",
            &format!(
                "{} ({}) authorised the platform; it is in the dashboard's accounts.",
                account.name, account.appid
            ),
        ),
        Ok(Exchanged::AlreadyClaimed) => page(
            StatusCode::OK,
            "Authorised",
            "The authorisation was received; the account is in the dashboard's accounts.",
        ),
        Err(why) => {
            tracing::warn!(error = %why.escape_debug(), "an authorisation's code did not exchange");
            page(
                StatusCode::BAD_GATEWAY,
                "Not authorised",
                "WeChat did not accept this authorisation's code (it is good for 10 minutes, once): authorise again from the dashboard.",
            )
        }
    }
}

/// A small page for a person, its text escaped.
fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{t}</title>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{t}</h1><p>{x}</p>\
         <p><a href=\"/ui/#/accounts\">Back to the accounts</a></p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    (
        status,
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                axum::http::header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        html,
    )
        .into_response()
}
