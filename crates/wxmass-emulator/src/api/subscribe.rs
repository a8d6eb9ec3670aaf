//! Subscription notices (wechat-notifications.md §2.7–§2.8). A follower's
//! consent is given through `POST /_emulator/consents` (it stands for
//! their tap on the consent page or the pop-up) and spent by a send:
//! the one-time subscription message (`template/subscribe`, under the
//! account's one fixed template id and a scene: consents under one scene
//! do not stack) and service-account notices (`bizsend`, by the notice
//! templates added from the library under `/wxaapi/newtmpl/`: a one-time
//! notice spends a consent, a long-term one does not). No consent: 43101.
//! A consent to a notice pushes `subscribe_msg_popup_event` (accept), and
//! a delivered notice `subscribe_msg_sent_event` with its `MsgID`.
//!
//! The emulator decides where the reference is unsure: `bizsend` answers
//! without a `msgid` (§0.12; a community thread says it gives none), and
//! takes `page` as a web address beside a `miniprogram` object.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, str_field};
use crate::error::{WxError, WxResult, ok};

/// The account's one-time subscription template id (WeChat gives each
/// account one, fixed).
pub const ONE_TIME_TEMPLATE_ID: &str = "wxmass-emulator-one-time-template";

/// A title of the notice library: (tid, title, type 2 one-time / 3
/// long-term, category, keywords (kid, name, rule)).
type LibraryTitle = (
    i64,
    &'static str,
    u8,
    i64,
    &'static [(i64, &'static str, &'static str)],
);

const LIBRARY: &[LibraryTitle] = &[
    (
        1001,
        "缴费成功通知",
        2,
        616,
        &[
            (1, "缴费项目", "thing"),
            (2, "缴费金额", "amount"),
            (3, "缴费时间", "time"),
            (4, "备注", "thing"),
        ],
    ),
    (
        1002,
        "停水通知",
        3,
        708,
        &[
            (1, "停水区域", "thing"),
            (2, "停水时间", "time"),
            (3, "原因", "thing"),
        ],
    ),
];

const CATEGORIES: &[(i64, &str)] = &[(616, "生活缴费"), (708, "水务")];

#[derive(Debug, Clone)]
struct NoticeTemplate {
    tid: i64,
    kind: u8,
    /// (name, key), in order.
    keys: Vec<(String, String)>,
}

/// Consents and notice templates.
#[derive(Debug, Default)]
pub struct Subscriptions {
    notices: BTreeMap<String, NoticeTemplate>,
    /// (openid, template id, scene for one-time messages) -> consents left.
    consents: HashMap<(String, String, Option<u16>), u32>,
    /// Events to push: (event name, an id for the push log, XML).
    outbox: Vec<(&'static str, i64, String)>,
    next_msg_id: i64,
}

impl Subscriptions {
    /// `openid` consented (once more) to `template_id` (the one-time
    /// template under `scene`, or a notice template: then, as WeChat
    /// does for a pop-up, a `subscribe_msg_popup_event` is pushed).
    pub fn consent(
        &mut self,
        openid: &str,
        template_id: &str,
        scene: Option<u16>,
        original_id: &str,
        now: i64,
    ) {
        let key = (openid.to_owned(), template_id.to_owned(), scene);
        let left = self.consents.entry(key).or_insert(0);
        // One-time consents under one scene do not stack.
        *left = if scene.is_some() { 1 } else { *left + 1 };
        if scene.is_none() {
            let list = format!(
                "<List><TemplateId><![CDATA[{}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>",
                cdata(template_id)
            );
            let xml = event_xml(
                original_id,
                openid,
                now,
                "subscribe_msg_popup_event",
                "SubscribeMsgPopupEvent",
                &list,
            );
            self.outbox.push(("subscribe_msg_popup_event", now, xml));
        }
    }

    /// The events waiting to be pushed.
    pub fn take_outbox(&mut self) -> Vec<(&'static str, i64, String)> {
        std::mem::take(&mut self.outbox)
    }

    /// Spends a consent; whether there was one.
    fn spend(&mut self, openid: &str, template_id: &str, scene: Option<u16>) -> bool {
        let key = (openid.to_owned(), template_id.to_owned(), scene);
        match self.consents.get_mut(&key) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }
}

/// Text fit for a CDATA section (the sequence that ends one split).
fn cdata(s: &str) -> String {
    s.replace("]]>", "]]]]><![CDATA[>")
}

/// A subscription event's XML: `container` holds `lists`.
fn event_xml(
    original_id: &str,
    openid: &str,
    now: i64,
    event: &str,
    container: &str,
    lists: &str,
) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{}]]></FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event><{container}>{lists}</{container}></xml>",
        cdata(original_id),
        cdata(openid)
    )
}

/// The follower `openid` is, or 40003.
fn follower(emulator: &Emulator, openid: &str) -> WxResult<u32> {
    emulator
        .account()
        .index_of(openid)
        .ok_or_else(|| WxError::new(40003))
}

/// `POST /cgi-bin/message/template/subscribe`: what a one-time consent
/// allows.
pub fn send_once(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let touser = str_field(&body, "touser", 40003)?;
    let template_id = str_field(&body, "template_id", 40037)?;
    if template_id != ONE_TIME_TEMPLATE_ID {
        return Err(WxError::new(40037));
    }
    let scene = match body.get("scene") {
        Some(Value::String(s)) => s.trim().parse::<u16>().ok(),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        _ => None,
    }
    .filter(|s| *s <= 10_000)
    .ok_or_else(|| WxError::new(47003))?;
    let title = str_field(&body, "title", 47003)?;
    let content = body
        .pointer("/data/content/value")
        .and_then(Value::as_str)
        .unwrap_or("");
    if title.is_empty()
        || title.chars().count() > 15
        || content.is_empty()
        || content.chars().count() > 200
    {
        return Err(WxError::new(47003));
    }
    let index = follower(emulator, touser)?;
    if !emulator
        .subscriptions()
        .spend(touser, ONE_TIME_TEMPLATE_ID, Some(scene))
    {
        return Err(WxError::new(43101));
    }
    let digest =
        crate::ids::fnv1a(format!("subscribe\u{1f}{scene}\u{1f}{title}\u{1f}{content}").as_bytes());
    emulator
        .account()
        .record_delivery("subscribe", index, digest);
    Ok(ok())
}

/// `POST /cgi-bin/message/subscribe/bizsend`.
pub fn bizsend(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let touser = str_field(&body, "touser", 40003)?;
    let template_id = str_field(&body, "template_id", 40037)?;
    let index = follower(emulator, touser)?;
    let mut subscriptions = emulator.subscriptions();
    let notice = subscriptions
        .notices
        .get(template_id)
        .cloned()
        .ok_or_else(|| WxError::new(40037))?;
    let data = body.get("data").ok_or_else(|| WxError::new(47001))?;
    let mut digest = template_id.to_owned();
    for (_, key) in &notice.keys {
        let value = data
            .get(key)
            .and_then(|v| v.get("value"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if value.trim().is_empty()
            || value.contains(['\n', '\r'])
            || crate::api::templates::breach(kind, value)
        {
            return Err(WxError::with_message(
                47003,
                format!("argument invalid! data.{key}.value invalid"),
            ));
        }
        digest.push('\u{1f}');
        digest.push_str(value);
    }
    // A long-term notice is sent as often as needed; a one-time one
    // spends a consent.
    let consented = if notice.kind == 3 {
        subscriptions
            .consents
            .contains_key(&(touser.to_owned(), template_id.to_owned(), None))
    } else {
        subscriptions.spend(touser, template_id, None)
    };
    if !consented {
        return Err(WxError::new(43101));
    }
    // Delivered: WeChat pushes subscribe_msg_sent_event with the notice's
    // MsgID (the send itself answers none).
    subscriptions.next_msg_id += 1;
    let msg_id = 1_700_827_132_819_554_304 + subscriptions.next_msg_id;
    let list = format!(
        "<List><TemplateId><![CDATA[{}]]></TemplateId><MsgID>{msg_id}</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List>",
        cdata(template_id)
    );
    let xml = event_xml(
        &emulator.config.original_id(),
        touser,
        emulator.clock.now(),
        "subscribe_msg_sent_event",
        "SubscribeMsgSentEvent",
        &list,
    );
    subscriptions
        .outbox
        .push(("subscribe_msg_sent_event", msg_id, xml));
    drop(subscriptions);
    emulator.jobs_changed();
    emulator.account().record_delivery(
        "subscribe",
        index,
        crate::ids::fnv1a(format!("subscribe\u{1f}{digest}").as_bytes()),
    );
    Ok(ok())
}

/// `GET /wxaapi/newtmpl/getcategory`.
pub fn categories(_emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let data: Vec<Value> = CATEGORIES
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "data": data}))
}

/// `GET /wxaapi/newtmpl/getpubtemplatetitles?ids=..&start=..&limit=..`.
pub fn titles(_emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let ids: Vec<i64> = call
        .query("ids")
        .unwrap_or("")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let start: usize = call
        .query("start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let limit: usize = call
        .query("limit")
        .and_then(|s| s.parse().ok())
        .filter(|l| (1..=30).contains(l))
        .ok_or_else(|| WxError::new(47001))?;
    let found: Vec<Value> = LIBRARY
        .iter()
        .filter(|t| ids.contains(&t.3))
        .map(|t| json!({"tid": t.0, "title": t.1, "type": t.2, "categoryId": t.3.to_string()}))
        .collect();
    let count = found.len();
    let page: Vec<Value> = found.into_iter().skip(start).take(limit).collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "count": count, "data": page}))
}

/// `GET /wxaapi/newtmpl/getpubtemplatekeywords?tid=..`.
pub fn keywords(_emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let tid: i64 = call
        .query("tid")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| WxError::new(47001))?;
    let title = LIBRARY
        .iter()
        .find(|t| t.0 == tid)
        .ok_or_else(|| WxError::new(47001))?;
    let data: Vec<Value> = title
        .4
        .iter()
        .map(|(kid, name, rule)| json!({"kid": kid, "name": name, "example": "", "rule": rule}))
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "count": data.len(), "data": data}))
}

/// `POST /wxaapi/newtmpl/addtemplate` with `{"tid", "kidList", "sceneDesc"}`.
pub fn add(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let tid = body
        .get("tid")
        .and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()))
        .ok_or_else(|| WxError::new(47001))?;
    let title = LIBRARY
        .iter()
        .find(|t| t.0 == tid)
        .ok_or_else(|| WxError::new(47001))?;
    let kids: Vec<i64> = body
        .get("kidList")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    if !(2..=5).contains(&kids.len()) {
        return Err(WxError::new(47001));
    }
    let mut keys = Vec::new();
    for kid in kids {
        let (_, name, rule) = title
            .4
            .iter()
            .find(|k| k.0 == kid)
            .ok_or_else(|| WxError::new(47001))?;
        keys.push(((*name).to_owned(), format!("{rule}{}", keys.len() + 1)));
    }
    let id = crate::ids::random_id(43);
    emulator.subscriptions().notices.insert(
        id.clone(),
        NoticeTemplate {
            tid,
            kind: title.2,
            keys,
        },
    );
    Ok(json!({"errcode": 0, "errmsg": "ok", "priTmplId": id}))
}

/// `GET /wxaapi/newtmpl/gettemplate`.
pub fn list(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let subscriptions = emulator.subscriptions();
    let data: Vec<Value> = subscriptions
        .notices
        .iter()
        .map(|(id, n)| {
            let title = LIBRARY.iter().find(|t| t.0 == n.tid).map_or("", |t| t.1);
            let content: Vec<String> = n
                .keys
                .iter()
                .map(|(name, key)| format!("{name}:{{{{{key}.DATA}}}}"))
                .collect();
            json!({"priTmplId": id, "title": title, "content": content.join("\n"),
                   "example": "", "type": n.kind})
        })
        .collect();
    Ok(json!({"errcode": 0, "errmsg": "ok", "data": data}))
}

/// `POST /wxaapi/newtmpl/deltemplate` with `{"priTmplId"}`.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let id = str_field(&body, "priTmplId", 47001)?;
    match emulator.subscriptions().notices.remove(id) {
        Some(_) => Ok(ok()),
        None => Err(WxError::new(40037)),
    }
}
