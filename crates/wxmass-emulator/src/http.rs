//! The HTTP front: one dispatcher for every `/cgi-bin/...` path. It counts
//! the call, applies injected faults, checks the method, reads the body
//! (multipart included), checks the access token, then runs the handler.
//! WeChat answers API errors with HTTP 200, and so does this.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::RngExt as _;
use serde::{Deserialize, Serialize};

use crate::Emulator;
use crate::api::{
    comments, custom, datacube, mass, media, news, publish, quota, subscribe, tags, templates,
    token, users,
};
use crate::call::Call;
use crate::error::{WxError, WxResult};

pub use crate::call::{MAX_BODY_BYTES, url_pairs};

type JsonHandler = fn(&Emulator, &Call) -> WxResult<serde_json::Value>;
type RawHandler = fn(&Emulator, &Call) -> WxResult<Response>;

#[derive(Clone, Copy)]
enum Handler {
    Json(JsonHandler),
    Raw(RawHandler),
}

struct Route {
    method: Method,
    needs_token: bool,
    handler: Handler,
}

fn route(path: &str) -> Option<Route> {
    use Handler::{Json, Raw};
    let (method, needs_token, handler) = match path {
        "/cgi-bin/token" => (Method::GET, false, Json(token::token)),
        "/cgi-bin/stable_token" => (Method::POST, false, Json(token::stable_token)),
        "/cgi-bin/media/upload" => (Method::POST, true, Json(media::upload)),
        "/cgi-bin/media/get" => (Method::GET, true, Raw(media::get)),
        "/cgi-bin/media/uploadimg" => (Method::POST, true, Json(media::upload_article_image)),
        "/cgi-bin/media/uploadnews" => (Method::POST, true, Json(news::upload_news)),
        "/cgi-bin/media/uploadvideo" => (Method::POST, true, Json(media::upload_video)),
        "/cgi-bin/material/add_material" => (Method::POST, true, Json(media::add_material)),
        "/cgi-bin/material/get_materialcount" => (Method::GET, true, Json(media::material_count)),
        "/cgi-bin/material/batchget_material" => {
            (Method::POST, true, Json(media::batchget_material))
        }
        "/cgi-bin/material/add_news" => (Method::POST, true, Json(media::add_news_retired)),
        "/cgi-bin/material/del_material" => (Method::POST, true, Json(media::del_material)),
        "/cgi-bin/draft/add" => (Method::POST, true, Json(news::draft_add)),
        "/cgi-bin/draft/batchget" => (Method::POST, true, Json(news::draft_batchget)),
        "/cgi-bin/draft/delete" => (Method::POST, true, Json(news::draft_delete)),
        "/cgi-bin/comment/open" => (Method::POST, true, Json(comments::open)),
        "/cgi-bin/comment/close" => (Method::POST, true, Json(comments::close)),
        "/cgi-bin/comment/list" => (Method::POST, true, Json(comments::list)),
        "/cgi-bin/comment/markelect" => (Method::POST, true, Json(comments::mark_elect)),
        "/cgi-bin/comment/unmarkelect" => (Method::POST, true, Json(comments::unmark_elect)),
        "/cgi-bin/comment/delete" => (Method::POST, true, Json(comments::delete)),
        "/cgi-bin/comment/reply/add" => (Method::POST, true, Json(comments::reply_add)),
        "/cgi-bin/comment/reply/delete" => (Method::POST, true, Json(comments::reply_delete)),
        "/cgi-bin/freepublish/submit" => (Method::POST, true, Json(publish::submit)),
        "/cgi-bin/freepublish/get" => (Method::POST, true, Json(publish::get)),
        "/cgi-bin/freepublish/delete" => (Method::POST, true, Json(publish::delete)),
        "/cgi-bin/freepublish/getarticle" => (Method::POST, true, Json(publish::get_article)),
        "/cgi-bin/freepublish/batchget" => (Method::POST, true, Json(publish::batchget)),
        "/cgi-bin/tags/create" => (Method::POST, true, Json(tags::create)),
        "/cgi-bin/tags/get" => (Method::GET, true, Json(tags::list)),
        "/cgi-bin/tags/update" => (Method::POST, true, Json(tags::update)),
        "/cgi-bin/tags/delete" => (Method::POST, true, Json(tags::delete)),
        "/cgi-bin/tags/members/batchtagging" => (Method::POST, true, Json(tags::batch_tag)),
        "/cgi-bin/tags/members/batchuntagging" => (Method::POST, true, Json(tags::batch_untag)),
        "/cgi-bin/tags/getidlist" => (Method::POST, true, Json(tags::tags_of_user)),
        "/cgi-bin/user/tag/get" => (Method::POST, true, Json(tags::members)),
        "/cgi-bin/groups/get" => (Method::GET, true, Json(tags::groups_list)),
        "/cgi-bin/groups/create" => (Method::POST, true, Json(tags::groups_create)),
        "/cgi-bin/groups/update" => (Method::POST, true, Json(tags::groups_update)),
        "/cgi-bin/groups/delete" => (Method::POST, true, Json(tags::groups_delete)),
        "/cgi-bin/groups/getid" => (Method::POST, true, Json(tags::groups_of_user)),
        "/cgi-bin/groups/members/update" => (Method::POST, true, Json(tags::groups_move)),
        "/cgi-bin/groups/members/batchupdate" => {
            (Method::POST, true, Json(tags::groups_batch_move))
        }
        "/cgi-bin/user/get" => (Method::GET, true, Json(users::list)),
        "/cgi-bin/user/info" => (Method::GET, true, Json(users::info)),
        "/cgi-bin/user/info/batchget" => (Method::POST, true, Json(users::batch_info)),
        "/cgi-bin/message/mass/sendall" => (Method::POST, true, Json(mass::sendall)),
        "/cgi-bin/message/mass/send" => (Method::POST, true, Json(mass::send)),
        "/cgi-bin/message/mass/preview" => (Method::POST, true, Json(mass::preview)),
        "/cgi-bin/message/mass/delete" => (Method::POST, true, Json(mass::delete)),
        "/cgi-bin/message/mass/get" => (Method::POST, true, Json(mass::get)),
        "/cgi-bin/message/mass/speed/get" => (Method::POST, true, Json(mass::speed_get)),
        "/cgi-bin/message/mass/speed/set" => (Method::POST, true, Json(mass::speed_set)),
        "/cgi-bin/clear_quota" => (Method::POST, true, Json(mass::clear_quota)),
        "/cgi-bin/openapi/quota/get" => (Method::POST, true, Json(quota::get)),
        "/cgi-bin/openapi/rid/get" => (Method::POST, true, Json(quota::rid)),
        "/cgi-bin/message/template/send" => (Method::POST, true, Json(templates::send)),
        "/cgi-bin/message/custom/send" => (Method::POST, true, Json(custom::send)),
        "/cgi-bin/message/template/subscribe" => (Method::POST, true, Json(subscribe::send_once)),
        "/cgi-bin/message/subscribe/bizsend" => (Method::POST, true, Json(subscribe::bizsend)),
        "/wxaapi/newtmpl/getcategory" => (Method::GET, true, Json(subscribe::categories)),
        "/wxaapi/newtmpl/getpubtemplatetitles" => (Method::GET, true, Json(subscribe::titles)),
        "/wxaapi/newtmpl/getpubtemplatekeywords" => (Method::GET, true, Json(subscribe::keywords)),
        "/wxaapi/newtmpl/addtemplate" => (Method::POST, true, Json(subscribe::add)),
        "/wxaapi/newtmpl/gettemplate" => (Method::GET, true, Json(subscribe::list)),
        "/wxaapi/newtmpl/deltemplate" => (Method::POST, true, Json(subscribe::delete)),
        "/cgi-bin/message/custom/typing" => (Method::POST, true, Json(custom::typing)),
        "/cgi-bin/customservice/getkflist" => (Method::GET, true, Json(custom::kf_list)),
        "/cgi-bin/template/api_set_industry" => (Method::POST, true, Json(templates::set_industry)),
        "/cgi-bin/template/get_industry" => (Method::GET, true, Json(templates::get_industry)),
        "/cgi-bin/template/api_add_template" => (Method::POST, true, Json(templates::add)),
        "/cgi-bin/template/get_all_private_template" => (Method::GET, true, Json(templates::list)),
        "/cgi-bin/template/del_private_template" => (Method::POST, true, Json(templates::delete)),
        "/datacube/getusersummary" => (Method::POST, true, Json(datacube::user_summary)),
        "/datacube/getusercumulate" => (Method::POST, true, Json(datacube::user_cumulate)),
        "/datacube/getarticlesummary" => (Method::POST, true, Json(datacube::article_summary)),
        "/datacube/getarticletotal" => (Method::POST, true, Json(datacube::article_total)),
        "/datacube/getuserread" => (Method::POST, true, Json(datacube::user_read)),
        "/datacube/getuserreadhour" => (Method::POST, true, Json(datacube::user_read_hour)),
        "/datacube/getusershare" => (Method::POST, true, Json(datacube::user_share)),
        "/datacube/getusersharehour" => (Method::POST, true, Json(datacube::user_share_hour)),
        "/datacube/getarticleread" => (Method::POST, true, Json(datacube::article_read)),
        "/datacube/getarticleshare" => (Method::POST, true, Json(datacube::article_share)),
        "/datacube/getbizsummary" => (Method::POST, true, Json(datacube::biz_summary)),
        "/datacube/getarticletotaldetail" => {
            (Method::POST, true, Json(datacube::article_total_detail))
        }
        _ => return None,
    };
    Some(Route {
        method,
        needs_token,
        handler,
    })
}

/// Whether the emulator serves `path`.
pub fn is_route(path: &str) -> bool {
    route(path).is_some()
}

/// Faults injected on one path (or on every path, under `*`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PathFault {
    /// Probability of answering errcode -1 (system busy) without running the call.
    pub errcode_rate: f64,
    /// Probability of answering HTTP 503 without running the call.
    pub http_5xx_rate: f64,
    /// Probability of running the call and then dropping the connection
    /// before the answer is complete: the client cannot know it succeeded.
    pub drop_rate: f64,
    /// Milliseconds added before the call runs.
    pub latency_ms: u64,
    /// Up to this many more milliseconds, drawn at random per call.
    pub latency_jitter_ms: u64,
}

/// All injected faults.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Per path (`/cgi-bin/message/mass/sendall`, or `*` for all).
    pub paths: HashMap<String, PathFault>,
    /// Invalidate the current tokens every N business calls (0: never).
    pub invalidate_token_every: u64,
}

impl Faults {
    fn for_path(&self, path: &str) -> Option<&PathFault> {
        self.paths.get(path).or_else(|| self.paths.get("*"))
    }
}

/// The fallback handler behind every path of the emulator's router. With
/// an open platform, its `/cgi-bin/component/...` calls go to it, and a
/// call carrying one of its authorizer tokens to that account.
pub async fn dispatch(State(emulator): State<Arc<Emulator>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    if let Some(platform) = emulator.platform() {
        if path.starts_with("/cgi-bin/component/") {
            emulator.count_call(&path);
            return crate::platform::serve(&emulator, platform, &path, request).await;
        }
        let token = request
            .uri()
            .query()
            .and_then(|q| url_pairs(q).into_iter().find(|(k, _)| k == "access_token"))
            .map(|(_, v)| v);
        let routed = token.and_then(|t| platform.route(&t, emulator.clock.now_ms(), &path));
        match routed {
            Some(Ok(account)) => {
                emulator.count_call(&path);
                return serve(&account, &path, request, true).await;
            }
            Some(Err(refused)) => {
                emulator.count_call(&path);
                emulator.count_error(refused.code);
                return refused.into_response();
            }
            None => {}
        }
    }
    serve(&emulator, &path, request, false).await
}

/// Serves one call on `emulator`'s account: its faults, then the call;
/// `token_checked` when the platform checked an authorizer token.
async fn serve(
    emulator: &Arc<Emulator>,
    path: &str,
    request: Request,
    token_checked: bool,
) -> Response {
    let path = path.to_owned();
    emulator.count_call(&path);
    let fault = emulator.faults().for_path(&path).cloned();
    if let Some(fault) = &fault {
        let jitter = match fault.latency_jitter_ms {
            0 => 0,
            max => rand::rng().random_range(0..=max),
        };
        if fault.latency_ms + jitter > 0 {
            tokio::time::sleep(Duration::from_millis(fault.latency_ms + jitter)).await;
        }
        let mut rng = rand::rng();
        if rng.random_bool(fault.http_5xx_rate.clamp(0.0, 1.0)) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "<html><body>503 Service Unavailable</body></html>",
            )
                .into_response();
        }
        if rng.random_bool(fault.errcode_rate.clamp(0.0, 1.0)) {
            return WxError::new(-1).into_response();
        }
    }
    let response = match handle(emulator, &path, request, token_checked).await {
        Ok(response) => response,
        Err(error) => {
            emulator.count_error(error.code);
            error.into_response()
        }
    };
    match fault {
        Some(f) if rand::rng().random_bool(f.drop_rate.clamp(0.0, 1.0)) => dropped(response),
        _ => response,
    }
}

/// A response whose body fails after the headers: the connection is cut and
/// the client never sees the answer.
fn dropped(response: Response) -> Response {
    let (parts, _) = response.into_parts();
    let failing = futures_util::stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault injected: connection dropped",
        ))
    });
    Response::from_parts(parts, Body::from_stream(failing))
}

/// WeChat checks the caller's address against the account's IP whitelist
/// before anything else and names it in the errmsg (wechat-api.md §1).
fn check_ip_whitelist(emulator: &Emulator, request: &Request) -> WxResult<()> {
    let whitelist = &emulator.config.ip_whitelist;
    if whitelist.is_empty() {
        return Ok(());
    }
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_canonical());
    match peer {
        Some(ip) if whitelist.contains(&ip) => Ok(()),
        Some(ip) => Err(WxError::with_message(
            40164,
            format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
        )),
        None => Err(WxError::with_message(
            40164,
            "invalid ip unknown, not in whitelist",
        )),
    }
}

async fn handle(
    emulator: &Arc<Emulator>,
    path: &str,
    request: Request,
    token_checked: bool,
) -> WxResult<Response> {
    let Some(route) = route(path) else {
        return Ok((
            StatusCode::NOT_FOUND,
            axum::Json(WxError::new(40066).body()),
        )
            .into_response());
    };
    check_ip_whitelist(emulator, &request)?;
    if request.method() != route.method {
        return Err(WxError::new(if route.method == Method::GET {
            43001
        } else {
            43002
        }));
    }
    let call = Call::read(request).await?;
    if route.needs_token && !token_checked {
        let now_ms = emulator.clock.now_ms();
        let mut account = emulator.account();
        account.check_token(call.query("access_token"), now_ms)?;
        if emulator.token_fault_due() {
            account.invalidate_tokens(now_ms);
        }
    }
    match route.handler {
        Handler::Json(h) => h(emulator, &call).map(|v| axum::Json(v).into_response()),
        Handler::Raw(h) => h(emulator, &call),
    }
}
