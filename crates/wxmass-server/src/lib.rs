//! `wxmass server`: the campaign engine as a service for teams. One process
//! serves a JSON API under `/api/v1` (its OpenAPI document at
//! `/api/v1/openapi.json`), keeps users, roles, API tokens, Official
//! Accounts and an audit log in the engine's store (SQLite, or PostgreSQL
//! shared by any number of instances), and seals every account's secrets
//! with a server key before they are stored.
//!
//! # Layout
//! - [`api`]: the routes, one module per area, and the document.
//! - [`auth`]: tokens, passwords, the [`auth::Caller`] of a request and the
//!   permission check.
//! - [`key`]: the server key and sealing.
//! - [`runner`]: sending due campaigns, beside the other servers, by
//!   [`clock`] (the machine's, or one tests move).
//! - [`callbacks`]: `/callback/{appid}`, each account's receiver, writing
//!   through the engine's push writer (`wxmass_campaign::pushes`).
//! - [`platform`]: `--platform`, the server as a third-party platform:
//!   `/platform/events`, `/platform/callback/{appid}`, the accounts that
//!   authorised it, the release test.
//! - [`error`]: the API's error answers; [`json`]: request bodies.
//! - [`dashboard`]: the web pages under `/ui/`, embedded, over the API.
//!
//! # The flow of a request
//! The listener (wxmass-callback's: header and idle timeouts, a connection
//! cap) hands it to the router; a body over [`BODY_LIMIT`] is refused; the
//! handler's [`auth::Caller`] extractor finds the token's user and role
//! (401 without), the handler checks the permission it needs (403), checks
//! its input (400, naming the field), and asks the store, which knows the
//! SQL. What changes something is written to the audit log.

pub mod api;
pub mod auth;
pub mod callbacks;
pub mod clock;
pub mod dashboard;
pub mod error;
pub mod json;
pub mod key;
pub mod metrics;
pub mod platform;
pub mod runner;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use wxmass_campaign::store::prelude::*;

pub use key::{KeyError, ServerKey};

/// The largest request body the API reads.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    journal: Arc<dyn Store>,
    tokens: Arc<dyn wxmass_api::TokenStore>,
    key: ServerKey,
    wechat: Option<String>,
    callbacks: callbacks::Callbacks,
    clock: Arc<clock::Clock>,
    /// Proxies whose X-Forwarded-For names the client (`--trusted-proxy`).
    trusted_proxies: std::sync::OnceLock<Vec<std::net::IpAddr>>,
    /// Nobody approves a campaign they made (`--require-second-approver`).
    second_approver: std::sync::atomic::AtomicBool,
    /// Bytes the saved lists and files may take together (`--max-storage-mb`).
    storage_limit: std::sync::atomic::AtomicU64,
    /// Credentials looked up in the last second (see [`auth::Owners`]).
    owners: auth::Owners,
    /// The third-party platform it runs as (`--platform`), set at start.
    platform: std::sync::OnceLock<platform::Platform>,
}

/// What saved lists and files may take together unless told otherwise:
/// room for dozens of million-follower lists and a year of pictures,
/// and a bound on what an editor's uploads can fill.
pub const DEFAULT_STORAGE_LIMIT: u64 = 2 * 1024 * 1024 * 1024;

impl AppState {
    /// The state of a server on `journal` with `key`, calling WeChat at
    /// `wechat` (its API's base URL; `None`: WeChat's own), keeping each
    /// account's access token in `tokens` (shared with every server and
    /// worker on the same store: WeChat invalidates a token a few minutes
    /// after the next is fetched, so they must not each fetch their own).
    /// Starts the push writer, which ends when the state is dropped.
    pub fn new(
        journal: Arc<dyn Store>,
        key: ServerKey,
        wechat: Option<String>,
        tokens: Arc<dyn wxmass_api::TokenStore>,
    ) -> std::io::Result<AppState> {
        let (writer, _thread) = wxmass_campaign::pushes::PushWriter::start(journal.clone())?;
        Ok(AppState(Arc::new(Inner {
            journal,
            tokens,
            key,
            wechat,
            callbacks: callbacks::Callbacks::new(writer),
            clock: Arc::new(clock::Clock::default()),
            trusted_proxies: std::sync::OnceLock::new(),
            second_approver: std::sync::atomic::AtomicBool::new(false),
            storage_limit: std::sync::atomic::AtomicU64::new(DEFAULT_STORAGE_LIMIT),
            owners: auth::Owners::default(),
            platform: std::sync::OnceLock::new(),
        })))
    }

    /// Runs as the third-party platform `settings` describe (once, at
    /// start): `/platform/...` then serve it, and its accounts send.
    pub fn enable_platform(&self, settings: platform::PlatformSettings) -> Result<(), String> {
        let platform = platform::Platform::new(settings, self)?;
        let (appid, token, aes_key) = platform.keys();
        self.callbacks().serve_platform(appid, token, aes_key);
        self.0
            .platform
            .set(platform)
            .map_err(|_| "the platform is set already".to_owned())
    }

    /// The platform it runs as, if any.
    pub fn platform(&self) -> Option<&platform::Platform> {
        self.0.platform.get()
    }

    /// The store, shared.
    pub(crate) fn journal_arc(&self) -> Arc<dyn Store> {
        self.0.journal.clone()
    }

    /// Bytes saved lists and files may take together; more is refused
    /// (413) until some are deleted.
    pub fn limit_storage(&self, bytes: u64) {
        self.0
            .storage_limit
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Refuses (413) an upload of `adding` bytes that would take the saved
    /// lists and files past their limit together.
    pub async fn check_storage(&self, adding: u64) -> Result<(), crate::error::ApiError> {
        let limit = self
            .0
            .storage_limit
            .load(std::sync::atomic::Ordering::Relaxed);
        let used = self.journal().lists_bytes().await? + self.journal().blobs_bytes().await?;
        if used.saturating_add(adding) > limit {
            return Err(crate::error::ApiError::too_large(format!(
                "saved lists and files take {} of the {} MB this server allows (--max-storage-mb): delete ones no campaign uses (DELETE /api/v1/lists/{{name}}, DELETE /api/v1/files/{{sha256}})",
                used.div_ceil(1024 * 1024),
                limit / (1024 * 1024)
            )));
        }
        Ok(())
    }

    /// From now on, nobody approves a campaign they made: a second person
    /// does (the two-person rule).
    pub fn require_second_approver(&self) {
        self.0
            .second_approver
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the two-person rule holds.
    pub fn second_approver_required(&self) -> bool {
        self.0
            .second_approver
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Believes X-Forwarded-For from these proxies (and from no other
    /// address): the client a sign-in is limited by is the one they name.
    /// Set once, at start.
    pub fn trust_proxies(&self, proxies: Vec<std::net::IpAddr>) {
        let _ = self.0.trusted_proxies.set(proxies);
    }

    /// The proxies whose X-Forwarded-For is believed.
    pub fn trusted_proxies(&self) -> &[std::net::IpAddr] {
        self.0.trusted_proxies.get().map_or(&[], Vec::as_slice)
    }

    /// Each account's push receiver.
    pub fn callbacks(&self) -> &callbacks::Callbacks {
        &self.0.callbacks
    }

    /// Where WeChat's API is, when not WeChat's own (the emulator).
    pub fn wechat_base(&self) -> Option<&str> {
        self.0.wechat.as_deref()
    }

    /// The store.
    pub fn journal(&self) -> &dyn Store {
        &*self.0.journal
    }

    /// Credentials looked up lately.
    pub(crate) fn owners(&self) -> &auth::Owners {
        &self.0.owners
    }

    /// The clock campaigns are scheduled by.
    pub fn clock(&self) -> &clock::Clock {
        &self.0.clock
    }

    /// The same clock, in milliseconds, for WeChat's tokens: their ends
    /// come on it, so that a clock tests move refreshes them as WeChat's
    /// (the emulator's, moved alike) expire them.
    pub(crate) fn token_clock(&self) -> wxmass_api::Now {
        let clock = self.0.clock.clone();
        Arc::new(move || wxmass_api::token::now_ms() + clock.offset() * 1000)
    }

    /// Unix seconds now, on [`AppState::clock`].
    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// Failed sign-ins, for the rate limit (kept in the store, counted
    /// for every server on it).
    pub fn sign_ins(&self) -> auth::SignIns<'_> {
        auth::SignIns::new(&*self.0.journal)
    }

    /// Where the accounts' access tokens are kept.
    pub fn tokens(&self) -> Arc<dyn wxmass_api::TokenStore> {
        self.0.tokens.clone()
    }

    /// The server key.
    pub fn key(&self) -> &ServerKey {
        &self.0.key
    }
}

/// The whole application.
pub fn app(state: AppState) -> axum::Router {
    let callbacks = axum::Router::new()
        .route(
            "/callback/{appid}",
            axum::routing::get(callbacks::handle).post(callbacks::handle),
        )
        .route("/platform/events", axum::routing::post(platform::events))
        .route(
            "/platform/authorized",
            axum::routing::get(platform::authorized),
        )
        .route(
            "/platform/callback/{appid}",
            axum::routing::get(platform::callback).post(platform::callback),
        )
        .with_state(state.clone());
    metrics::handle();
    api::with_document(state.clone())
        .merge(callbacks)
        .merge(dashboard::routes())
        .layer(axum::middleware::from_fn_with_state(
            state,
            auth::forget_owners_after_changes,
        ))
        .layer(axum::middleware::from_fn(metrics::count_requests))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// For an admin locked out of the web (`wxmass server reset-password`): sets
/// user `name`'s password, enables it if disabled, ends its tokens and
/// sessions (returns how many), and logs it.
pub async fn reset_password(
    journal: &dyn Store,
    name: &str,
    password: &str,
) -> Result<u64, error::ApiError> {
    api::people::check_password("password", password)?;
    let (user, _) = journal
        .user_by_name(name)
        .await?
        .ok_or_else(|| error::ApiError::not_found(format!("no user named {name:?}")))?;
    journal
        .set_password(user.id, &auth::hash_password(password)?)
        .await?;
    journal.set_disabled(user.id, None).await?;
    let ended = journal.end_credentials(user.id).await?;
    journal
        .audit(
            "wxmass server reset-password",
            "user.password_reset",
            &user.name,
            &format!("on the server's machine; {ended} token(s) and session(s) ended"),
            wxmass_campaign::beijing::now(),
        )
        .await?;
    Ok(ended)
}

/// The first user: an admin named `name`, and an admin API token for it
/// (returned: it is shown once). Refused when the store has users already
/// (add more through the API).
pub async fn init_admin(
    journal: &dyn Store,
    name: &str,
    password: &str,
) -> Result<String, error::ApiError> {
    use wxmass_campaign::people::Role;
    api::people::check_name("name", name)?;
    api::people::check_password("password", password)?;
    if !journal.users().await?.is_empty() {
        return Err(wxmass_campaign::Error::Exists(
            "this server has users already: add more with POST /api/v1/users".into(),
        )
        .into());
    }
    let now = wxmass_campaign::beijing::now();
    let user = journal
        .create_user(name, Role::Admin, &auth::hash_password(password)?, now)
        .await?;
    let token = auth::new_token();
    journal
        .create_token(
            user.id,
            Role::Admin,
            &auth::token_hash(&token),
            "init-admin",
            now,
        )
        .await?;
    journal
        .audit(name, "user.create", name, "admin (init-admin)", now)
        .await?;
    Ok(token)
}
