//! Followers (wechat-api.md §8): `user/get`, `user/info`, `user/info/batchget`.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, opt_str, str_field};
use crate::error::{WxError, WxResult};
use crate::state::Account;

/// Most users in one `user/info/batchget`.
pub const MAX_BATCH_INFO: usize = 100;

/// `GET /cgi-bin/user/get?next_openid=NEXT_OPENID`: 10,000 openids a page.
pub fn list(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let next = call.query("next_openid").unwrap_or("");
    let mut account = emulator.account();
    account.use_quota("user_get", &emulator.clock)?;
    let (page, next_openid) = account.follower_page(next, None)?;
    Ok(super::tags::page_body(
        Some(account.subscribed_count()),
        page,
        next_openid,
    ))
}

fn info_of(account: &Account, openid: &str) -> Option<Value> {
    let index = account.index_of(openid)?;
    let f = account.follower(index)?;
    if !f.subscribed {
        return Some(json!({"subscribe": 0, "openid": openid}));
    }
    Some(json!({
        "subscribe": 1,
        "openid": openid,
        "language": "zh_CN",
        "subscribe_time": f.subscribe_time,
        "remark": "",
        "groupid": f.tags.first().copied().unwrap_or(0),
        "tagid_list": f.tags,
        "subscribe_scene": "ADD_SCENE_QR_CODE",
        "qr_scene": 0,
        "qr_scene_str": "",
    }))
}

fn check_lang(lang: Option<&str>) -> WxResult<()> {
    match lang {
        None | Some("zh_CN" | "zh_TW" | "en") => Ok(()),
        Some(_) => Err(WxError::with_message(40005, "invalid lang")),
    }
}

/// `GET /cgi-bin/user/info?openid=OPENID&lang=zh_CN`.
pub fn info(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let openid = call
        .query("openid")
        .filter(|o| !o.is_empty())
        .ok_or_else(|| WxError::new(41009))?;
    check_lang(call.query("lang"))?;
    let mut account = emulator.account();
    account.use_quota("user_info", &emulator.clock)?;
    info_of(&account, openid).ok_or_else(|| WxError::new(40003))
}

/// `POST /cgi-bin/user/info/batchget` with `{"user_list":[{"openid","lang"}]}`, at most 100.
pub fn batch_info(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let list = match body.get("user_list") {
        Some(Value::Array(list)) => list,
        _ => return Err(WxError::new(40032)),
    };
    if list.is_empty() || list.len() > MAX_BATCH_INFO {
        return Err(WxError::new(40032));
    }
    let mut account = emulator.account();
    account.use_quota("user_info", &emulator.clock)?;
    let infos = list
        .iter()
        .map(|entry| {
            let openid = str_field(entry, "openid", 41009)?;
            check_lang(opt_str(entry, "lang")?)?;
            info_of(&account, openid).ok_or_else(|| WxError::new(40003))
        })
        .collect::<WxResult<Vec<_>>>()?;
    Ok(json!({"user_info_list": infos}))
}
