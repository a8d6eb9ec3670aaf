//! The admin API under `/_emulator/` (JSON), for tests and users' CI: seed
//! followers, read the delivery ledger and push log, inject faults, choose
//! how the next free publishes end, move the
//! clock.

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
        "jobs": account.stats.jobs,
        "deliveries": account.stats.deliveries,
        "duplicate_deliveries": account.stats.duplicate_deliveries,
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
        "callback_url": config.callback.as_ref().map(|c| c.url.clone()),
        "callback_mode": config.callback.as_ref().map(|c| c.mode),
    }))
}
