//! The admin API under `/_emulator/` (JSON), for tests and users' CI: seed
//! followers, read the delivery ledger and push log, inject faults, choose
//! how the next free publishes end, set template quotas, have followers
//! block the account, move the clock.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::http::Faults;

/// The admin routes.
pub fn router() -> Router<Arc<Emulator>> {
    Router::new()
        .route("/_emulator/followers", post(add_followers))
        .route("/_emulator/jobs", get(jobs))
        .route("/_emulator/jobs/{msg_id}/recipients", get(recipients))
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/faults", get(get_faults).post(set_faults))
        .route("/_emulator/clock", get(clock).post(advance_clock))
        .route("/_emulator/pushes", get(pushes))
        .route("/_emulator/account", get(account))
        .route("/_emulator/news/{media_id}", get(news))
        .route("/_emulator/publish_outcome", post(publish_outcome))
        .route("/_emulator/comments", post(add_comment))
        .route("/_emulator/messages", get(messages))
        .route("/_emulator/received/{openid}", get(received))
        .route("/_emulator/templates/settings", post(template_settings))
        .route("/_emulator/blocked", post(block_followers))
        .route("/_emulator/interactions", post(interaction))
        .route("/_emulator/custom/settings", post(custom_settings))
        .route("/_emulator/consents", post(consent))
        .route("/_emulator/platform", get(platform_summary))
        .route("/_emulator/platform/ticket", post(platform_ticket))
        .route("/_emulator/platform/urls", post(platform_urls))
        .route("/_emulator/platform/authorize", post(platform_authorize))
        .route(
            "/_emulator/platform/authorize_all",
            post(platform_authorize_all),
        )
        .route("/_emulator/platform/revoke", post(platform_revoke))
        .route(
            "/_emulator/platform/release_test",
            post(platform_release_test),
        )
        .route(
            "/_emulator/platform/accounts/{appid}/{*rest}",
            axum::routing::any(platform_account),
        )
}

/// `GET /_emulator/messages`: every one-by-one message (template
/// messages), with its follower, status and times.
async fn messages(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    let templates = emulator.templates();
    Json(json!({"template": templates.messages()}))
}

/// `GET /_emulator/received/{openid}`: the one-by-one messages (template,
/// custom, subscribe) the follower received, by channel.
async fn received(State(emulator): State<Arc<Emulator>>, Path(openid): Path<String>) -> Response {
    let account = emulator.account();
    let Some(follower) = account.index_of(&openid) else {
        return bad_request(format!("no follower {openid:?}"));
    };
    Json(json!({"openid": openid, "channels": account.received(follower)})).into_response()
}

/// Template quotas and the per-follower cap.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateSettings {
    daily_limit: Option<u64>,
    per_minute: Option<u64>,
    /// Messages a follower takes a day before `failed:freq limit`; 0 turns
    /// the cap off.
    per_follower_daily: Option<u32>,
}

/// `POST /_emulator/templates/settings` with `{"daily_limit",
/// "per_minute", "per_follower_daily"}` (each optional).
async fn template_settings(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let settings: TemplateSettings = match parse(&body) {
        Ok(s) => s,
        Err(reason) => return bad_request(reason),
    };
    let mut templates = emulator.templates();
    if let Some(n) = settings.daily_limit {
        templates.daily_limit = n;
    }
    if let Some(n) = settings.per_minute {
        templates.per_minute = n;
    }
    if let Some(n) = settings.per_follower_daily {
        templates.per_follower_daily = (n > 0).then_some(n);
    }
    Json(
        json!({"daily_limit": templates.daily_limit, "per_minute": templates.per_minute,
                "per_follower_daily": templates.per_follower_daily}),
    )
    .into_response()
}

/// Followers who block, or stop blocking, the account.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Blocking {
    openids: Vec<String>,
    #[serde(default = "yes")]
    blocked: bool,
}

fn yes() -> bool {
    true
}

/// `POST /_emulator/blocked` with `{"openids": [...], "blocked": true}`:
/// these followers refuse the account's messages (their template messages
/// end `failed:user block`); `false` lifts it.
async fn block_followers(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let blocking: Blocking = match parse(&body) {
        Ok(b) => b,
        Err(reason) => return bad_request(reason),
    };
    let mut templates = emulator.templates();
    for openid in blocking.openids {
        if blocking.blocked {
            templates.blocked.insert(openid);
        } else {
            templates.blocked.remove(&openid);
        }
    }
    Json(json!({"blocked": templates.blocked.len()})).into_response()
}

/// A follower's consent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Consent {
    openid: String,
    /// A notice template's `priTmplId`; absent: the one-time template.
    template_id: Option<String>,
    /// The one-time template's scene.
    scene: Option<u16>,
}

/// `POST /_emulator/consents` with `{"openid", "scene"}` (the one-time
/// subscription message) or `{"openid", "template_id"}` (a notice): the
/// follower tapped "allow", which one send spends.
async fn consent(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let consent: Consent = match parse(&body) {
        Ok(c) => c,
        Err(reason) => return bad_request(reason),
    };
    use crate::api::subscribe::ONE_TIME_TEMPLATE_ID;
    let (template_id, scene) = match (consent.template_id, consent.scene) {
        (Some(id), None) => (id, None),
        (None, Some(scene)) if scene <= 10_000 => (ONE_TIME_TEMPLATE_ID.to_owned(), Some(scene)),
        _ => {
            return bad_request(
                "give a notice's template_id, or the one-time message's scene (0 to 10,000)",
            );
        }
    };
    emulator.subscriptions().consent(
        &consent.openid,
        &template_id,
        scene,
        &emulator.config.original_id(),
        emulator.clock.now(),
    );
    emulator.jobs_changed();
    Json(json!({"template_id": template_id, "scene": scene})).into_response()
}

/// A follower's action.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInteraction {
    openid: String,
    kind: crate::api::custom::Interaction,
}

/// `POST /_emulator/interactions` with `{"openid", "kind": "message" |
/// "menu_click" | "follow" | "qr_scan"}`: the follower acted, which opens
/// their customer-service window.
async fn interaction(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let new: NewInteraction = match parse(&body) {
        Ok(n) => n,
        Err(reason) => return bad_request(reason),
    };
    let Some(follower) = emulator.account().index_of(&new.openid) else {
        return bad_request(format!("no follower {:?}", new.openid));
    };
    emulator
        .windows()
        .open(follower, new.kind, emulator.clock.now_ms());
    Json(json!({"opened": true})).into_response()
}

/// The window's message count.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomSettings {
    message_window_messages: u32,
}

/// `POST /_emulator/custom/settings` with `{"message_window_messages": N}`:
/// how many messages a window after a follower's message takes (5 by
/// default; the reference is unsure).
async fn custom_settings(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let settings: CustomSettings = match parse(&body) {
        Ok(s) => s,
        Err(reason) => return bad_request(reason),
    };
    emulator.windows().message_window_messages = settings.message_window_messages;
    Json(json!({"message_window_messages": settings.message_window_messages})).into_response()
}

/// A follower's comment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewComment {
    msg_data_id: i64,
    /// 0-based, as the comment API counts.
    #[serde(default)]
    index: i64,
    /// Who writes it (a made-up follower when absent).
    openid: Option<String>,
    content: String,
}

/// `POST /_emulator/comments` with `{"msg_data_id", "index" (0-based),
/// "openid", "content"}`: a follower comments on a sent article (once its
/// comments are open).
async fn add_comment(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let new: NewComment = match parse(&body) {
        Ok(n) => n,
        Err(reason) => return bad_request(reason),
    };
    let openid = new
        .openid
        .unwrap_or_else(|| format!("o{}", crate::ids::random_id(27)));
    match crate::api::comments::add(&emulator, new.msg_data_id, new.index, &openid, &new.content) {
        Ok(id) => Json(json!({"user_comment_id": id})).into_response(),
        Err(e) => bad_request(format!("errcode {}: {}", e.code, e.message)),
    }
}

/// `POST /_emulator/publish_outcome` with `{"status": N, "fail_idx": [..]}`:
/// the next free publish ends so (0 success, 2 originality check failed,
/// 3 failed, 4 rejected by review); several calls queue several endings.
async fn publish_outcome(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let outcome: crate::state::PublishOutcome = match parse(&body) {
        Ok(o) => o,
        Err(reason) => return bad_request(reason),
    };
    if !matches!(outcome.status, 0 | 2 | 3 | 4) {
        return bad_request(
            "status is how a publish ends: 0 success, 2 originality check failed, 3 failed, 4 rejected by review",
        );
    }
    let mut account = emulator.account();
    account.publish_outcomes.push_back(outcome);
    Json(json!({"queued": account.publish_outcomes.len()})).into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": message.into()})),
    )
        .into_response()
}

/// Parses a JSON body (empty means `{}`); the error says what does not fit.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddFollowers {
    /// Generated followers to add.
    #[serde(default)]
    count: u32,
    /// Followers with these openids.
    #[serde(default)]
    openids: Vec<String>,
    /// Tag the new followers.
    tag_id: Option<u32>,
}

/// `POST /_emulator/followers` with `{"count":N}` and/or `{"openids":[...]}`,
/// optionally `"tag_id"`.
async fn add_followers(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let request: AddFollowers = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    if let Some(bad) = request
        .openids
        .iter()
        .find(|o| o.is_empty() || o.len() > 64)
    {
        return bad_request(format!("openid {bad:?} must be 1 to 64 characters"));
    }
    let now = emulator.clock.now();
    let mut account = emulator.account();
    if let Some(tag) = request.tag_id
        && account.tag(tag).is_none()
    {
        return bad_request(format!(
            "tag {tag} does not exist; create it with tags/create first"
        ));
    }
    let tags: Vec<u32> = request.tag_id.into_iter().collect();
    let seeded = account.seed_followers(request.count, &tags, now);
    let explicit = account.add_followers(&request.openids, request.tag_id, now);
    let sample: Vec<String> = seeded
        .iter()
        .chain(&explicit)
        .take(1000)
        .map(|&i| account.openid_of(i))
        .collect();
    Json(json!({
        "added": seeded.len() + explicit.len(),
        "total": account.subscribed_count(),
        "openids": sample,
    }))
    .into_response()
}

/// `GET /_emulator/jobs`.
async fn jobs(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    let account = emulator.account();
    Json(json!({"jobs": account.jobs()}))
}

/// `GET /_emulator/jobs/{msg_id}/recipients`.
async fn recipients(State(emulator): State<Arc<Emulator>>, Path(msg_id): Path<i64>) -> Response {
    let account = emulator.account();
    let Some(job) = account.job(msg_id) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no job {msg_id}")})),
        )
            .into_response();
    };
    let openids: Vec<String> = job
        .recipients
        .iter()
        .map(|&i| account.openid_of(i))
        .collect();
    Json(json!({"msg_id": msg_id, "status": job.status, "openids": openids})).into_response()
}

/// `GET /_emulator/news/{media_id}`: an uploaded news item or draft, with
/// each article's HTML and the images WeChat would filter out of it.
async fn news(State(emulator): State<Arc<Emulator>>, Path(media_id): Path<String>) -> Response {
    let account = emulator.account();
    match account.news(&media_id) {
        Some(news) => Json(json!(news)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("no news item {media_id}")})),
        )
            .into_response(),
    }
}

/// `GET /_emulator/stats`.
async fn stats(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    let account = emulator.account();
    Json(json!({
        "token_fetches": {
            "classic": account.stats.token_fetches_classic,
            "stable": account.stats.token_fetches_stable,
            "stable_forced": account.stats.token_fetches_stable_forced,
        },
        "calls": emulator.calls(),
        "errors": emulator.errors(),
        "jobs": account.stats.jobs,
        "deliveries": account.stats.deliveries,
        "duplicate_deliveries": account.stats.duplicate_deliveries,
        "deliveries_by_channel": account.stats.deliveries_by_channel,
        "previews": account.stats.previews,
        "followers": account.subscribed_count(),
    }))
}

/// `GET /_emulator/faults`.
async fn get_faults(State(emulator): State<Arc<Emulator>>) -> Json<Faults> {
    Json(emulator.faults().clone())
}

/// `POST /_emulator/faults`: replaces the injected faults (`{}` clears them).
async fn set_faults(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let faults: Faults = match parse(&body) {
        Ok(f) => f,
        Err(reason) => return bad_request(reason),
    };
    for (path, f) in &faults.paths {
        let rates = [f.errcode_rate, f.http_5xx_rate, f.drop_rate];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return bad_request(format!("rates for {path} must be between 0 and 1"));
        }
    }
    emulator.set_faults(faults.clone());
    Json(json!({"faults": faults})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    advance_seconds: i64,
}

/// `GET /_emulator/clock`.
async fn clock(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    Json(json!({"now": emulator.clock.now()}))
}

/// `POST /_emulator/clock` with `{"advance_seconds":N}`.
async fn advance_clock(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let request: Advance = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    if request.advance_seconds < 0 {
        return bad_request("the clock only moves forward: advance_seconds must be >= 0");
    }
    emulator.clock.advance(request.advance_seconds);
    emulator.jobs_changed();
    Json(json!({"now": emulator.clock.now()})).into_response()
}

/// `GET /_emulator/pushes`.
async fn pushes(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    Json(json!({"pushes": emulator.pushes()}))
}

/// `GET /_emulator/account`: what a client needs to talk to the emulator.
async fn account(State(emulator): State<Arc<Emulator>>) -> Json<Value> {
    let config = &emulator.config;
    Json(json!({
        "appid": config.appid,
        "original_id": config.original_id(),
        "account_type": config.account_type,
        "job_delay_ms": config.job_delay.as_millis() as u64,
        "mass_sends_per_minute": config.mass_sends_per_minute,
        "callback_url": emulator.callback().map(|c| c.url),
        "callback_mode": emulator.callback().map(|c| c.mode),
    }))
}

/// The platform, or the answer that there is none.
fn platform_of(emulator: &Emulator) -> Result<&crate::platform::Platform, Box<Response>> {
    emulator.platform().ok_or_else(|| {
        Box::new(
            (
                StatusCode::NOT_FOUND,
                Json(
                    json!({"error": "no open platform: start the emulator with one (--platform)"}),
                ),
            )
                .into_response(),
        )
    })
}

/// `GET /_emulator/platform`: the authorised accounts, the counts (token
/// fetches, tickets), and every errcode answered, the accounts' included.
async fn platform_summary(State(emulator): State<Arc<Emulator>>) -> Response {
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let mut errors = emulator.errors();
    for account in platform.accounts() {
        for (code, n) in account.errors() {
            *errors.entry(code).or_insert(0) += n;
        }
    }
    let mut summary = platform.summary();
    summary["errors"] = json!(errors);
    Json(summary).into_response()
}

/// `POST /_emulator/platform/ticket`: a ticket pushed now.
async fn platform_ticket(State(emulator): State<Arc<Emulator>>) -> Response {
    match platform_of(&emulator) {
        Ok(p) => {
            p.ask_ticket();
            Json(json!({"asked": true})).into_response()
        }
        Err(r) => *r,
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Authorize {
    appid: String,
    #[serde(default)]
    pre_auth_code: Option<String>,
    #[serde(default)]
    permission_sets: Option<Vec<u32>>,
    #[serde(default)]
    redirect_uri: Option<String>,
    /// `false`: the push is lost (a platform then learns it from
    /// `api_get_authorizer_list`).
    #[serde(default = "yes")]
    push: bool,
}

/// `POST /_emulator/platform/authorize` with `{"appid", "pre_auth_code"?,
/// "permission_sets"?, "redirect_uri"?, "push"?}`: an admin's scan. The push
/// (`authorized`, or `updateauthorized` for an account that had) is made
/// before the answer, which carries the redirect the browser would follow.
async fn platform_authorize(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let request: Authorize = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    let sets = request
        .permission_sets
        .unwrap_or_else(|| crate::platform::ALL_SETS.to_vec());
    let now_ms = emulator.clock.now_ms();
    let (code, info_type, xml) = match platform.authorize(
        &request.appid,
        request.pre_auth_code.as_deref(),
        sets,
        now_ms,
    ) {
        Ok(done) => done,
        Err(reason) => return bad_request(reason),
    };
    if request.push {
        crate::platform::push_event(emulator.clone(), info_type, xml).await;
    }
    let redirect = request.redirect_uri.map(|uri| {
        let joiner = if uri.contains('?') { '&' } else { '?' };
        let code: String = url::form_urlencoded::byte_serialize(code.as_bytes()).collect();
        format!("{uri}{joiner}auth_code={code}&expires_in=600")
    });
    Json(json!({"auth_code": code, "info_type": info_type, "redirect": redirect})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthorizeAll {
    count: usize,
    #[serde(default)]
    permission_sets: Option<Vec<u32>>,
}

/// `POST /_emulator/platform/authorize_all` with `{"count": N}`: the first
/// N accounts authorise, each pushed, 32 pushes at a time.
async fn platform_authorize_all(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let request: AuthorizeAll = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    let sets = request
        .permission_sets
        .unwrap_or_else(|| crate::platform::ALL_SETS.to_vec());
    let appids: Vec<String> = platform
        .accounts()
        .map(|a| a.config.appid.clone())
        .filter(|a| {
            !crate::platform::RELEASE_TEST_ACCOUNTS
                .iter()
                .any(|(t, _)| t == a)
        })
        .take(request.count)
        .collect();
    if appids.len() < request.count {
        return bad_request(format!("the platform has {} accounts", appids.len()));
    }
    let mut pushes = tokio::task::JoinSet::new();
    for appid in &appids {
        while pushes.len() >= 32 {
            pushes.join_next().await;
        }
        let now_ms = emulator.clock.now_ms();
        match platform.authorize(appid, None, sets.clone(), now_ms) {
            Ok((_, info_type, xml)) => {
                pushes.spawn(crate::platform::push_event(
                    emulator.clone(),
                    info_type,
                    xml,
                ));
            }
            Err(reason) => return bad_request(reason),
        }
    }
    while pushes.join_next().await.is_some() {}
    Json(json!({"authorized": appids})).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Revoke {
    appid: String,
    /// `false`: the push is lost.
    #[serde(default = "yes")]
    push: bool,
}

/// `POST /_emulator/platform/revoke` with `{"appid", "push"?}`: the account's admin
/// withdraws; `unauthorized` is pushed before the answer.
async fn platform_revoke(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let request: Revoke = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    match platform.revoke(&request.appid, emulator.clock.now_ms()) {
        Ok(xml) => {
            if request.push {
                crate::platform::push_event(emulator.clone(), "unauthorized", xml).await;
            }
            Json(json!({"revoked": request.appid})).into_response()
        }
        Err(reason) => bad_request(reason),
    }
}

/// `/_emulator/platform/accounts/{appid}/...`: an account's own admin API
/// (`.../stats`, `.../messages`, `.../followers`, ...).
async fn platform_account(
    State(emulator): State<Arc<Emulator>>,
    Path((appid, rest)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Response {
    use tower::ServiceExt as _;
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let Some(account) = platform.account(&appid) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": format!("{appid} is not one of the platform's accounts")})),
        )
            .into_response();
    };
    let (mut parts, body) = request.into_parts();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    parts.uri = match format!("/_emulator/{rest}{query}").parse() {
        Ok(uri) => uri,
        Err(_) => return bad_request("not a path"),
    };
    let request = axum::extract::Request::from_parts(parts, body);
    match account.router().oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseTest {
    group: usize,
}

/// `POST /_emulator/platform/release_test` with `{"group": 1..5}`: the
/// 全网发布 test against the platform's URLs; each case with what was seen.
async fn platform_release_test(
    State(emulator): State<Arc<Emulator>>,
    body: axum::body::Bytes,
) -> Response {
    let request: ReleaseTest = match parse(&body) {
        Ok(r) => r,
        Err(reason) => return bad_request(reason),
    };
    match crate::platform::release_test(emulator, request.group).await {
        Ok(cases) => {
            let passed = cases.iter().all(|c| c.passed);
            Json(json!({"group": request.group, "passed": passed, "cases": cases})).into_response()
        }
        Err(reason) => bad_request(reason),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlatformUrls {
    event_url: Option<String>,
    message_url: Option<String>,
}

/// `POST /_emulator/platform/urls` with `{"event_url", "message_url"}`:
/// the URLs set in the open platform's console (`$APPID$` in the message
/// URL), for a platform started after the emulator. A ticket follows.
async fn platform_urls(State(emulator): State<Arc<Emulator>>, body: axum::body::Bytes) -> Response {
    let platform = match platform_of(&emulator) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let urls: PlatformUrls = match parse(&body) {
        Ok(u) => u,
        Err(reason) => return bad_request(reason),
    };
    for url in [&urls.event_url, &urls.message_url].into_iter().flatten() {
        if url::Url::parse(url).is_err()
            || !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return bad_request(format!("{url:?} is not an http(s) URL"));
        }
    }
    platform.set_urls(urls.event_url.clone(), urls.message_url.clone());
    platform.ask_ticket();
    Json(json!({"event_url": urls.event_url, "message_url": urls.message_url})).into_response()
}
