//! WeChat's error answers: HTTP 200 with `{"errcode": N, "errmsg": "..."}`,
//! the errmsg ending in a ` rid: ...` suffix that changes on every call, so
//! that clients learn to match on errcode alone (wechat-api.md §0).

use axum::Json;
use axum::response::{IntoResponse, Response};
use rand::RngExt as _;
use serde_json::{Value, json};

/// An API error as WeChat reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxError {
    /// The errcode.
    pub code: i64,
    /// The errmsg without its rid suffix.
    pub message: String,
    /// Extra fields (45065 carries the original `msg_id`).
    pub extra: Option<(&'static str, i64)>,
}

impl WxError {
    /// An error with WeChat's message for `code`.
    pub fn new(code: i64) -> Self {
        Self::with_message(code, message_for(code))
    }

    /// An error with a specific message.
    pub fn with_message(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            extra: None,
        }
    }

    /// Adds one numeric field to the body.
    pub fn with_field(mut self, name: &'static str, value: i64) -> Self {
        self.extra = Some((name, value));
        self
    }

    /// The JSON body, with a fresh rid.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "errcode": self.code,
            "errmsg": format!("{} rid: {}", self.message, rid()),
        });
        if let (Some((name, value)), Some(map)) = (self.extra, body.as_object_mut()) {
            map.insert(name.to_owned(), json!(value));
        }
        body
    }
}

impl IntoResponse for WxError {
    fn into_response(self) -> Response {
        Json(self.body()).into_response()
    }
}

/// A handler's result: a JSON success body, or WeChat's error.
pub type WxResult<T = Value> = Result<T, WxError>;

/// `xxxxxxxx-xxxxxxxx-xxxxxxxx`, as current servers append to errmsg.
pub fn rid() -> String {
    let mut rng = rand::rng();
    let [a, b, c]: [u32; 3] = rng.random();
    format!("{a:08x}-{b:08x}-{c:08x}")
}

/// The `{"errcode":0,"errmsg":"ok"}` of calls that return nothing else.
pub fn ok() -> Value {
    json!({"errcode": 0, "errmsg": "ok"})
}

/// WeChat's errmsg for the codes the emulator produces (wechat-api.md §19).
pub fn message_for(code: i64) -> &'static str {
    match code {
        -1 => "system error",
        40001 => {
            "invalid credential, access_token is invalid or not latest, could get access_token by getStableAccessToken, more details at https://mmbizurl.cn/s/JtxxFh33r"
        }
        40002 => "invalid grant_type",
        40003 => "invalid openid",
        40004 => "invalid media type",
        40005 => "invalid file type",
        40006 => "invalid meida size",
        40007 => "invalid media_id",
        40008 => "invalid message type",
        40009 => "invalid image size",
        40010 => "invalid voice size",
        40011 => "invalid video size",
        40012 => "invalid thumb size",
        40013 => "invalid appid",
        40014 => "invalid access_token",
        40032 => "invalid openid list size",
        40035 => "invalid args size",
        40036 => "invalid template_id size",
        40037 => "invalid template_id",
        40103 => "invalid industry index",
        40246 => "keyword name invalid",
        40247 => "history templates have been upgraded to category templates",
        40050 => "invalid group id",
        40051 => "invalid group name",
        40059 => "invalid msg id",
        40060 => "invalid article idx",
        40066 => "invalid url",
        40125 => "invalid appsecret",
        40128 => "invalid media id! must be uploaded  by api(cgi-bin/material/add_material)",
        40130 => "invalid openid list size, at least two openid",
        40132 => "invalid wechat id",
        40137 => "invalid image format",
        41001 => "access_token missing",
        41002 => "appid missing",
        41004 => "appsecret missing",
        41005 => "media data missing",
        41006 => "media_id missing",
        41009 => "missing openid",
        42001 => "access_token expired",
        43001 => "require GET method",
        43002 => "require POST method",
        43004 => "require subscribe",
        43019 => "require remove blacklist",
        43101 => "user refuse to accept the msg",
        44001 => "empty media data",
        47003 => "argument invalid!",
        76001 => "rid not found",
        76003 => "cgi_path is invalid",
        76021 => "cgi_path not found, please check",
        44002 => "empty post data",
        44003 => "empty news data",
        44004 => "empty content",
        45001 => "media size out of limit",
        45002 => "content size out of limit",
        45003 => "title size out of limit",
        45004 => "description size out of limit",
        45008 => "article size out of limit",
        45009 => "reach max api daily quota limit",
        45011 => "api minute-quota reach limit, must slower, retry next minute",
        45015 => "response out of time limit or subscription is canceled",
        45026 => "template num exceeds limit",
        45027 => "template conflict with industry",
        45047 => "out of response count limit",
        45016 => "can't modify sys group",
        45017 => "group name too long",
        45018 => "too many group now, no need to add new",
        45028 => "has no masssend quota",
        45056 => "too many tag now, no need to add new",
        45057 => "can't delete the tag that has too many fans",
        45058 => "can't modify sys tag",
        45059 => "can not tagging one user too much",
        45065 => "clientmsgid exist",
        45066 => "same clientmsgid retry too fast",
        45067 => "clientmsgid size out of limit",
        45083 => "the speed out of range",
        45084 => "No speed message",
        45103 => "This API has been unsupported",
        45157 => "invalid tag name",
        45158 => "tag name too long",
        45159 => "invalid tag id",
        46001 => "media data no exist",
        47001 => "data format error",
        48001 => "api unauthorized",
        48006 => "forbid to clear quota because of reaching the limit",
        53503 => "the draft did not pass the publish check",
        61500 => "date format error",
        88000 => "without comment privilege",
        88001 => "msg_data is not exists",
        88005 => "already reply",
        88007 => "reply content beyond max len or content len is zero",
        88008 => "comment is not exists",
        88010 => "count range error",
        61501 => "date range error",
        61503 => "data not ready, please try later",
        _ => "unknown error",
    }
}
