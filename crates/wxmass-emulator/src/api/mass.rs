//! Mass messages (wechat-api.md §9–§14, quotas of §17): `sendall`, `send`,
//! `preview`, `delete`, `get`, and the speed level.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Emulator;
use crate::call::{Call, int_field, opt_int, opt_str, str_field};
use crate::config::AccountType;
use crate::error::{WxError, WxResult, ok};
use crate::state::{Account, Audience, Job, JobStatus, MediaKind, realspeed};

/// Longest clientmsgid accepted (the 32-byte reading of §9.3).
pub const MAX_CLIENTMSGID_BYTES: usize = 32;
/// Openids in one `mass/send`.
pub const OPENIDS_PER_SEND: std::ops::RangeInclusive<usize> = 2..=10_000;
/// Longest text message, in bytes (not documented for mass send; the
/// customer-service limit).
pub const MAX_TEXT_BYTES: usize = 2048;

/// Which endpoint a message body came to: they differ in small ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    SendAll,
    Send,
    Preview,
}

/// A validated message: its type, the fields that make its content, and the
/// media id it sends, if any.
#[derive(Debug)]
struct Content {
    msgtype: String,
    fields: Vec<String>,
    media_id: Option<String>,
}

impl Content {
    /// A hash of msgtype and content, independent of audience and clientmsgid.
    fn digest(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.msgtype.as_bytes());
        for f in &self.fields {
            h.update([0u8]);
            h.update(f.as_bytes());
        }
        h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn sub_object<'v>(body: &'v Value, name: &str) -> WxResult<&'v Value> {
    match body.get(name) {
        Some(v @ Value::Object(_)) => Ok(v),
        None | Some(Value::Null) => Err(WxError::with_message(
            40008,
            format!("{name} object missing for this msgtype"),
        )),
        Some(_) => Err(WxError::new(47001)),
    }
}

/// A media id that must name permanent material of `kind`.
fn permanent(account: &Account, id: &str, kind: MediaKind, now: i64) -> WxResult<()> {
    match account.media(id, now) {
        Some(m) if m.kind == kind && m.permanent => Ok(()),
        Some(m) if m.kind == kind => Err(WxError::new(40128)),
        _ => Err(WxError::new(40007)),
    }
}

fn content(emulator: &Emulator, body: &Value, endpoint: Endpoint) -> WxResult<Content> {
    let msgtype = str_field(body, "msgtype", 40008)?;
    let now = emulator.clock.now();
    let account = emulator.account();
    let media_id = |object: &Value| -> WxResult<String> {
        Ok(str_field(object, "media_id", 40007)?.to_owned())
    };
    let content = match msgtype {
        "text" => {
            let text = opt_str(sub_object(body, "text")?, "content")?.unwrap_or("");
            if text.is_empty() {
                return Err(WxError::new(44004));
            }
            if text.len() > MAX_TEXT_BYTES {
                return Err(WxError::new(45002));
            }
            Content {
                msgtype: "text".into(),
                fields: vec![text.to_owned()],
                media_id: None,
            }
        }
        "mpnews" => {
            let id = media_id(sub_object(body, "mpnews")?)?;
            if account.news(&id).is_none() {
                return Err(WxError::new(40007));
            }
            Content {
                msgtype: "mpnews".into(),
                fields: vec![id.clone()],
                media_id: Some(id),
            }
        }
        "voice" => {
            let id = media_id(sub_object(body, "voice")?)?;
            permanent(&account, &id, MediaKind::Voice, now)?;
            Content {
                msgtype: "voice".into(),
                fields: vec![id.clone()],
                media_id: Some(id),
            }
        }
        "music" if endpoint == Endpoint::Preview => {
            let id = media_id(sub_object(body, "music")?)?;
            Content {
                msgtype: "music".into(),
                fields: vec![id.clone()],
                media_id: Some(id),
            }
        }
        "image" => {
            // Mass sends take `images.media_ids`; the single `image.media_id`
            // is the older form and what preview takes.
            let ids: Vec<String> = match (body.get("images"), endpoint) {
                (Some(images), Endpoint::SendAll | Endpoint::Send) => {
                    let list = images
                        .get("media_ids")
                        .and_then(Value::as_array)
                        .ok_or_else(|| WxError::new(40007))?;
                    list.iter()
                        .map(|v| {
                            v.as_str()
                                .map(str::to_owned)
                                .ok_or_else(|| WxError::new(40007))
                        })
                        .collect::<WxResult<_>>()?
                }
                _ => vec![media_id(sub_object(body, "image")?)?],
            };
            if ids.is_empty() {
                return Err(WxError::new(40007));
            }
            for id in &ids {
                permanent(&account, id, MediaKind::Image, now)?;
            }
            let first = ids.first().cloned();
            Content {
                msgtype: "image".into(),
                fields: ids,
                media_id: first,
            }
        }
        "mpvideo" => {
            let id = media_id(sub_object(body, "mpvideo")?)?;
            let ok = account
                .media(&id, now)
                .is_some_and(|m| m.kind == MediaKind::MpVideo);
            if !ok {
                return Err(WxError::new(40007));
            }
            Content {
                msgtype: "mpvideo".into(),
                fields: vec![id.clone()],
                media_id: Some(id),
            }
        }
        "wxcard" => {
            let card = str_field(sub_object(body, "wxcard")?, "card_id", 47001)?;
            if card.is_empty() {
                return Err(WxError::new(47001));
            }
            Content {
                msgtype: "wxcard".into(),
                fields: vec![card.to_owned()],
                media_id: None,
            }
        }
        _ => return Err(WxError::new(40008)),
    };
    Ok(content)
}

fn clientmsgid(body: &Value, scope: &str, content: &Content) -> WxResult<(String, bool)> {
    match opt_str(body, "clientmsgid")? {
        Some(id) if !id.is_empty() => {
            if id.len() > MAX_CLIENTMSGID_BYTES {
                return Err(WxError::new(45067));
            }
            Ok((id.to_owned(), true))
        }
        // Without one, WeChat dedups on a digest of audience and content.
        _ => Ok((format!("implicit:{scope}:{}", content.digest()), false)),
    }
}

/// Creates the job once every check has passed.
fn submit(
    emulator: &Emulator,
    body: &Value,
    content: Content,
    audience: Audience,
    scope: String,
) -> WxResult<Value> {
    let (clientmsgid, given) = clientmsgid(body, &scope, &content)?;
    let now_ms = emulator.clock.now_ms();
    let mut account = emulator.account();
    account.check_clientmsgid(&clientmsgid, now_ms)?;
    account.check_mass_quota(audience == Audience::All, &emulator.clock)?;
    let audience_size = account.audience_size(&audience);
    // The titles are kept with the job: a draft sent to all leaves the
    // draft box, and datacube still names its articles.
    let titles: Vec<String> = match &content.media_id {
        Some(id) if content.msgtype == "mpnews" => account.news(id).map_or_else(
            || vec![String::new()],
            |n| n.articles.iter().map(|a| a.title.clone()).collect(),
        ),
        _ => Vec::new(),
    };
    if audience == Audience::All
        && content.msgtype == "mpnews"
        && let Some(id) = &content.media_id
    {
        account.remove_draft(id);
    }
    let job = Job {
        msg_id: 0,
        msg_data_id: None,
        clientmsgid,
        clientmsgid_given: given,
        content_digest: content.digest(),
        msgtype: content.msgtype,
        media_id: content.media_id,
        audience,
        audience_size,
        status: JobStatus::Sending,
        total_count: audience_size,
        filter_count: 0,
        sent_count: 0,
        error_count: 0,
        created_at: now_ms.div_euclid(1000),
        finishes_at_ms: now_ms + emulator.config.job_delay.as_millis() as i64,
        finished_at: None,
        article_urls: titles
            .iter()
            .map(|_| format!("http://mp.weixin.qq.com/s/{}", crate::ids::random_id(22)))
            .collect(),
        article_titles: titles,
        recipients: Vec::new(),
    };
    let job = account.create_job(job, &emulator.clock);
    let mut response =
        json!({"errcode": 0, "errmsg": "send job submission success", "msg_id": job.msg_id});
    if let Some(data_id) = job.msg_data_id {
        response["msg_data_id"] = json!(data_id);
    }
    drop(account);
    emulator.jobs_changed();
    Ok(response)
}

/// `POST /cgi-bin/message/mass/sendall`: to every follower or to a tag.
pub fn sendall(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let filter = body
        .get("filter")
        .filter(|f| f.is_object())
        .ok_or_else(|| WxError::new(47001))?;
    let to_all = match filter.get("is_to_all") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => false,
        Some(_) => return Err(WxError::new(47001)),
    };
    let content = content(emulator, &body, Endpoint::SendAll)?;
    let (audience, scope) = if to_all {
        (Audience::All, "all".to_owned())
    } else {
        // `group_id` is the old name of the same field.
        let id = match opt_int(filter, "tag_id")? {
            Some(id) => id,
            None => int_field(filter, "group_id", 40050)?,
        };
        let tag_id = u32::try_from(id).map_err(|_| WxError::new(45159))?;
        if emulator.account().tag(tag_id).is_none() {
            return Err(WxError::new(45159));
        }
        (Audience::Tag { tag_id }, format!("tag:{tag_id}"))
    };
    submit(emulator, &body, content, audience, scope)
}

/// `POST /cgi-bin/message/mass/send`: to 2..=10,000 openids (service accounts).
pub fn send(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    if emulator.config.account_type == AccountType::Subscription {
        return Err(WxError::new(48001));
    }
    let mut body = call.json()?;
    // Taken out of the body (nothing after reads it): a million openids
    // are not copied.
    let touser = match body.get_mut("touser").map(Value::take) {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => return Err(WxError::new(40130)),
        Some(_) => return Err(WxError::new(47001)),
    };
    if touser.len() < *OPENIDS_PER_SEND.start() {
        return Err(WxError::new(40130));
    }
    if touser.len() > *OPENIDS_PER_SEND.end() {
        return Err(WxError::new(40032));
    }
    let openids = touser
        .into_iter()
        .map(|o| match o {
            Value::String(o) => Ok(o),
            _ => Err(WxError::new(40003)),
        })
        .collect::<WxResult<Vec<_>>>()?;
    let content = content(emulator, &body, Endpoint::Send)?;
    // The same openids in any order are the same audience: a sum of each
    // one's hash (no sort of ten thousand strings per send).
    let hashing = crate::ids::IntHashing::default();
    let sum = openids.iter().fold(0u64, |sum, o| {
        sum.wrapping_add(std::hash::BuildHasher::hash_one(&hashing, o.as_bytes()))
    });
    let scope = format!("openids:{sum:016x}");
    submit(
        emulator,
        &body,
        content,
        Audience::OpenIds { openids },
        scope,
    )
}

/// `POST /cgi-bin/message/mass/preview`: to one follower (`touser`) or WeChat
/// ID (`towxname`, which wins when both are given; 100 a day).
pub fn preview(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let towxname = opt_str(&body, "towxname")?.filter(|w| !w.is_empty());
    let touser = opt_str(&body, "touser")?.filter(|o| !o.is_empty());
    if towxname.is_none() && touser.is_none() {
        return Err(WxError::new(41009));
    }
    content(emulator, &body, Endpoint::Preview)?;
    let mut account = emulator.account();
    if let Some(name) = towxname {
        if name.len() > 64 || name.chars().any(char::is_whitespace) {
            return Err(WxError::new(40132));
        }
        account.use_quota("preview_wxname", &emulator.clock)?;
    } else if let Some(openid) = touser {
        let index = account
            .index_of(openid)
            .ok_or_else(|| WxError::new(40003))?;
        if !account.follower(index).is_some_and(|f| f.subscribed) {
            return Err(WxError::new(43004));
        }
    }
    account.stats.previews += 1;
    let msg_id = 3_147_483_650 + account.stats.previews as i64;
    Ok(json!({"errcode": 0, "errmsg": "preview success", "msg_id": msg_id}))
}

/// `POST /cgi-bin/message/mass/delete` with `{"msg_id":30124,"article_idx":2}`
/// or `{"url":"...","article_idx":0}`.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let article_idx = opt_int(&body, "article_idx")?.unwrap_or(0);
    let article_idx = u32::try_from(article_idx).map_err(|_| WxError::new(40060))?;
    let mut account = emulator.account();
    let msg_id = match opt_int(&body, "msg_id")? {
        Some(id) => id,
        None => {
            let url = str_field(&body, "url", 40059)?;
            account.job_by_url(url).ok_or_else(|| WxError::new(40059))?
        }
    };
    account.delete_job(msg_id, article_idx)?;
    Ok(ok())
}

/// `POST /cgi-bin/message/mass/get` with `{"msg_id":"201053012"}` (string or number).
pub fn get(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let msg_id = int_field(&body, "msg_id", 40059)?;
    let account = emulator.account();
    let job = account.job(msg_id).ok_or_else(|| WxError::new(40059))?;
    Ok(json!({"msg_id": job.msg_id, "msg_status": job.status}))
}

/// `POST /cgi-bin/message/mass/speed/get`.
pub fn speed_get(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    call.json_or_empty()?;
    let speed = emulator.account().speed();
    Ok(json!({"speed": speed, "realspeed": realspeed(speed)}))
}

/// `POST /cgi-bin/message/mass/speed/set` with `{"speed":1}`.
pub fn speed_set(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json_or_empty()?;
    let speed = int_field(&body, "speed", 45084)?;
    let speed = u8::try_from(speed)
        .ok()
        .filter(|s| *s <= 4)
        .ok_or_else(|| WxError::new(45083))?;
    emulator.account().set_speed(speed);
    Ok(ok())
}

/// `POST /cgi-bin/clear_quota` with `{"appid":"APPID"}`.
pub fn clear_quota(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let appid = str_field(&body, "appid", 41002)?;
    if appid != emulator.config.appid {
        return Err(WxError::new(40013));
    }
    emulator.account().clear_quota(&emulator.clock)?;
    emulator.templates().clear_quota();
    Ok(ok())
}
