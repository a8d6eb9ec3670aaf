//! API quotas (wechat-notifications.md §4.3–§4.4): `openapi/quota/get`
//! reports an API's daily limit, use and per-minute rate. Template sends
//! report their own counters; the mass sends theirs; any other API of the
//! emulator its calls so far against its documented daily quota. The
//! emulator keeps no request ids, so `rid/get` finds none (76001).

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, str_field};
use crate::error::{WxError, WxResult};

/// `POST /cgi-bin/openapi/quota/get` with `{"cgi_path": "/cgi-bin/..."}`.
pub fn get(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let path = str_field(&body, "cgi_path", 76021)?;
    if !path.starts_with('/') || path.contains('?') {
        return Err(WxError::new(76003));
    }
    if !emulator.serves(path) {
        return Err(WxError::new(76021));
    }
    let (daily_limit, used, rate) = if path == "/cgi-bin/message/template/send" {
        let (limit, used, per_minute) = emulator.templates().quota(emulator.clock.now_ms());
        (limit, used, Some(per_minute))
    } else {
        let used = emulator.calls().get(path).copied().unwrap_or(0);
        let name = quota_name(path);
        let rate = path
            .starts_with("/cgi-bin/message/mass/send")
            .then_some(u64::from(emulator.config.mass_sends_per_minute));
        (u64::from(crate::state::daily_quota(name)), used, rate)
    };
    let mut answer = json!({
        "errcode": 0, "errmsg": "ok",
        "quota": {"daily_limit": daily_limit, "used": used, "remain": daily_limit.saturating_sub(used)},
    });
    if let Some(per_minute) = rate {
        answer["rate_limit"] = json!({"call_count": per_minute, "refresh_second": 60});
    }
    Ok(answer)
}

/// `POST /cgi-bin/openapi/rid/get` with `{"rid"}`: the emulator keeps no
/// request ids.
pub fn rid(_emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    str_field(&body, "rid", 76001)?;
    Err(WxError::new(76001))
}

/// The daily quota ([`crate::state::daily_quota`]) a path's calls count
/// against, for `openapi/quota/get`.
fn quota_name(path: &str) -> &'static str {
    match path {
        "/cgi-bin/token" => "token",
        "/cgi-bin/stable_token" => "stable_token",
        "/cgi-bin/media/upload"
        | "/cgi-bin/media/uploadimg"
        | "/cgi-bin/media/uploadvideo"
        | "/cgi-bin/material/add_material" => "media_upload",
        "/cgi-bin/media/get" => "media_get",
        "/cgi-bin/message/mass/sendall" | "/cgi-bin/message/mass/send" => "mass",
        "/cgi-bin/media/uploadnews" => "uploadnews",
        "/cgi-bin/user/get" => "user_get",
        "/cgi-bin/user/info" | "/cgi-bin/user/info/batchget" => "user_info",
        p if p.starts_with("/cgi-bin/draft/") => "draft",
        p if p.starts_with("/cgi-bin/tags/") => "tags",
        _ => "other",
    }
}
