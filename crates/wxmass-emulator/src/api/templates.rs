//! Template messages (wechat-notifications.md §2.1–§2.6): the account's
//! industries, a category-template library to add from, the account's
//! templates, and the send to one follower with every documented check:
//! the follower follows (43004), the template is the account's (40037),
//! each keyword value keeps its type's rule and has no line break (47003),
//! the daily quota (45009, 100,000 by default) and a per-minute quota
//! (45011, reported by `openapi/quota/get`'s `rate_limit`). A
//! `client_msg_id` already used for the follower in the last 10 minutes
//! of the emulator's clock sends nothing again. Each message is delivered
//! after the job delay and reported by a TEMPLATESENDJOBFINISH push:
//! `success`, `failed:user block` for a follower who blocked the account,
//! `failed:freq limit` past a per-follower daily cap.
//!
//! Decisions where the reference is unsure (§0.10, §0.11), listed so that
//! tests and users know: a repeated `client_msg_id` answers errcode 0 with
//! the first message's `msgid`; the per-minute quota is 6,000 by default;
//! the per-follower cap is off unless set; changing an industry deletes
//! every template (no once-a-month limit is kept); a template added
//! without `keyword_name_list` gets every keyword of the library's.

use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};

use serde::Serialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, opt_str, str_field};
use crate::error::{WxError, WxResult, ok};

/// Templates an account may hold.
pub const MAX_TEMPLATES: usize = 25;
/// How long a `client_msg_id` holds for a follower, emulated milliseconds.
pub const CLIENT_MSG_ID_MS: i64 = 10 * 60 * 1000;
/// Template sends a day by default.
pub const DEFAULT_DAILY_LIMIT: u64 = 100_000;
/// Template sends a minute by default (not published; unsure).
pub const DEFAULT_PER_MINUTE: u64 = 6_000;

/// A category template of the library: its short id, title and keywords
/// (name, type prefix).
struct LibraryTemplate {
    short_id: &'static str,
    title: &'static str,
    keywords: &'static [(&'static str, &'static str)],
}

/// The library the emulator offers (a handful of common ones).
const LIBRARY: &[LibraryTemplate] = &[
    LibraryTemplate {
        short_id: "47123",
        title: "订单发货通知",
        keywords: &[
            ("商品名称", "thing"),
            ("快递公司", "thing"),
            ("快递单号", "character_string"),
            ("发货时间", "time"),
        ],
    },
    LibraryTemplate {
        short_id: "42066",
        title: "预约成功通知",
        keywords: &[
            ("预约项目", "thing"),
            ("预约时间", "time"),
            ("联系电话", "phone_number"),
            ("预约人", "name"),
        ],
    },
    LibraryTemplate {
        short_id: "43216",
        title: "缴费提醒",
        keywords: &[
            ("缴费项目", "thing"),
            ("缴费金额", "amount"),
            ("截止日期", "date"),
            ("状态", "phrase"),
        ],
    },
    LibraryTemplate {
        short_id: "46300",
        title: "积分变动提醒",
        keywords: &[
            ("变动积分", "number"),
            ("当前积分", "number"),
            ("变动原因", "thing"),
            ("车牌号", "car_number"),
            ("会员编号", "letter"),
        ],
    },
];

/// An industry's two classes, for `get_industry`.
fn industry_classes(code: u32) -> (String, String) {
    let (first, second) = match code {
        1 => ("IT科技", "互联网|电子商务"),
        2 => ("IT科技", "IT软件与服务"),
        7 => ("金融业", "银行"),
        10 => ("餐饮", "餐饮"),
        13 => ("交通工具", "快递"),
        _ => return ("其它".into(), format!("行业{code}")),
    };
    (first.into(), second.into())
}

/// A template the account added.
#[derive(Debug, Clone)]
struct PrivateTemplate {
    title: String,
    /// (keyword name, key) in order: `("商品名称", "thing1")`.
    keys: Vec<(String, String)>,
}

impl PrivateTemplate {
    fn content(&self) -> String {
        self.keys
            .iter()
            .map(|(name, key)| format!("{name}：{{{{{key}.DATA}}}}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// One template message, in the ledger.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateDelivery {
    /// The `msgid` the send returned.
    pub msg_id: i64,
    /// The follower.
    pub openid: String,
    /// The template.
    pub template_id: String,
    /// `success`, `failed:user block`, `failed:freq limit`.
    pub status: &'static str,
    /// Emulated milliseconds it was sent.
    pub sent_at_ms: i64,
    /// Emulated milliseconds it is delivered and reported.
    pub finishes_at_ms: i64,
    /// Whether its report is due or gone.
    pub finished: bool,
}

/// The account's template state.
#[derive(Debug)]
pub struct Templates {
    industries: Option<(u32, u32)>,
    private: BTreeMap<String, PrivateTemplate>,
    /// Template sends a day (`POST /_emulator/templates/settings`).
    pub daily_limit: u64,
    /// Template sends a minute.
    pub per_minute: u64,
    /// Messages one follower takes a day before `failed:freq limit`
    /// (`None`: no cap).
    pub per_follower_daily: Option<u32>,
    /// Followers who blocked the account (by openid).
    pub blocked: HashSet<String>,
    day: i64,
    used_today: u64,
    minute: i64,
    used_this_minute: u64,
    follower_today: HashMap<u32, u32>,
    /// (follower, client_msg_id) -> (emulated ms, msgid).
    recent: HashMap<(u32, String), (i64, i64)>,
    /// The keys of `recent` in the order they were used, to forget the
    /// expired ones from the front (a scan of the map per send made a
    /// million sends quadratic).
    recent_order: VecDeque<(i64, (u32, String))>,
    messages: Vec<TemplateDelivery>,
    due: BinaryHeap<std::cmp::Reverse<(i64, usize)>>,
    next_msg_id: i64,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            industries: None,
            private: BTreeMap::new(),
            daily_limit: DEFAULT_DAILY_LIMIT,
            per_minute: DEFAULT_PER_MINUTE,
            per_follower_daily: None,
            blocked: HashSet::new(),
            day: 0,
            used_today: 0,
            minute: 0,
            used_this_minute: 0,
            follower_today: HashMap::new(),
            recent: HashMap::new(),
            recent_order: VecDeque::new(),
            messages: Vec::new(),
            due: BinaryHeap::new(),
            next_msg_id: 3_557_254_367_693_750_277,
        }
    }
}

impl Templates {
    /// Every template message sent.
    pub fn messages(&self) -> &[TemplateDelivery] {
        &self.messages
    }

    /// (daily limit, used today, per minute) for `quota/get`.
    pub fn quota(&self, now_ms: i64) -> (u64, u64, u64) {
        let used = if self.day == beijing_day(now_ms) {
            self.used_today
        } else {
            0
        };
        (self.daily_limit, used, self.per_minute)
    }

    /// Clears the daily counter (`clear_quota`).
    pub fn clear_quota(&mut self) {
        self.used_today = 0;
    }

    /// Marks at most `most` of the messages due by `now_ms` delivered;
    /// their msgids, to push.
    pub fn finish_due(&mut self, now_ms: i64, most: usize) -> Vec<i64> {
        let mut done = Vec::new();
        while let Some(std::cmp::Reverse((at, i))) = self.due.peek().copied() {
            if at > now_ms || done.len() >= most {
                break;
            }
            self.due.pop();
            if let Some(m) = self.messages.get_mut(i) {
                m.finished = true;
                done.push(m.msg_id);
            }
        }
        done
    }

    /// When the next message is due, if one is.
    pub fn next_due(&self) -> Option<i64> {
        self.due.peek().map(|std::cmp::Reverse((at, _))| *at)
    }

    /// The message with `msg_id`.
    pub fn message(&self, msg_id: i64) -> Option<&TemplateDelivery> {
        // msgids are given in order, one apart, and messages are only
        // appended: the message is at its msgid's distance from the first
        // (a scan per report made a million reports quadratic).
        let first = self.messages.first()?.msg_id;
        let at = usize::try_from(msg_id.checked_sub(first)?).ok()?;
        self.messages
            .get(at)
            .filter(|m| m.msg_id == msg_id)
            .or_else(|| self.messages.iter().rev().find(|m| m.msg_id == msg_id))
    }

    /// Counts one send against the day's and the minute's quotas (Beijing
    /// days, as WeChat's quotas turn at midnight UTC+8).
    fn use_quota(&mut self, now_ms: i64) -> WxResult<()> {
        let day = beijing_day(now_ms);
        if self.day != day {
            self.day = day;
            self.used_today = 0;
            self.follower_today.clear();
        }
        let minute = now_ms.div_euclid(60_000);
        if self.minute != minute {
            self.minute = minute;
            self.used_this_minute = 0;
        }
        if self.used_today >= self.daily_limit {
            return Err(WxError::new(45009));
        }
        if self.used_this_minute >= self.per_minute {
            return Err(WxError::new(45011));
        }
        self.used_today += 1;
        self.used_this_minute += 1;
        Ok(())
    }
}

/// The Beijing day (UTC+8) of emulated milliseconds `ms`: WeChat's daily
/// quotas turn at its midnight.
fn beijing_day(ms: i64) -> i64 {
    (ms + 8 * 3_600_000).div_euclid(86_400_000)
}

/// `POST /cgi-bin/template/api_set_industry` with
/// `{"industry_id1":"1","industry_id2":"4"}`.
pub fn set_industry(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let code = |name: &str| -> WxResult<u32> {
        let text = match body.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(WxError::new(40103)),
        };
        text.trim()
            .parse::<u32>()
            .ok()
            .filter(|c| (1..=41).contains(c))
            .ok_or_else(|| WxError::new(40103))
    };
    let industries = (code("industry_id1")?, code("industry_id2")?);
    let mut templates = emulator.templates();
    if templates.industries != Some(industries) {
        // Changing the industries deletes the templates of the old ones.
        templates.private.clear();
        templates.industries = Some(industries);
    }
    Ok(ok())
}

/// `GET /cgi-bin/template/get_industry`.
pub fn get_industry(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let templates = emulator.templates();
    let class = |code: Option<u32>| match code {
        Some(code) => {
            let (first, second) = industry_classes(code);
            json!({"first_class": first, "second_class": second})
        }
        None => json!({"first_class": "", "second_class": ""}),
    };
    Ok(json!({
        "primary_industry": class(templates.industries.map(|i| i.0)),
        "secondary_industry": class(templates.industries.map(|i| i.1)),
    }))
}

/// `POST /cgi-bin/template/api_add_template` with `{"template_id_short",
/// "keyword_name_list"}`.
pub fn add(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let short = str_field(&body, "template_id_short", 40037)?.trim();
    if short.starts_with("TM") || short.starts_with("OPENTM") {
        return Err(WxError::new(40247));
    }
    let library = LIBRARY
        .iter()
        .find(|t| t.short_id == short)
        .ok_or_else(|| WxError::new(40037))?;
    // Without a list (as SDKs of the industry-template days send it), the
    // template's every keyword, in the library's order.
    let names: Vec<&str> = match body.get("keyword_name_list") {
        None | Some(Value::Null) => library.keywords.iter().map(|(n, _)| *n).collect(),
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().filter_map(Value::as_str).collect()
        }
        _ => return Err(WxError::new(40246)),
    };
    let mut keys = Vec::new();
    for name in names {
        let Some((_, kind)) = library.keywords.iter().find(|(n, _)| *n == name) else {
            return Err(WxError::with_message(
                40246,
                format!("keyword name invalid: {name}"),
            ));
        };
        keys.push((name.to_owned(), format!("{kind}{}", keys.len() + 1)));
    }
    let mut templates = emulator.templates();
    if templates.industries.is_none() {
        return Err(WxError::new(45027));
    }
    if templates.private.len() >= MAX_TEMPLATES {
        return Err(WxError::new(45026));
    }
    let id = crate::ids::random_id(43);
    templates.private.insert(
        id.clone(),
        PrivateTemplate {
            title: library.title.to_owned(),
            keys,
        },
    );
    Ok(json!({"errcode": 0, "errmsg": "ok", "template_id": id}))
}

/// `GET /cgi-bin/template/get_all_private_template`.
pub fn list(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let templates = emulator.templates();
    let (primary, deputy) = templates
        .industries
        .map(|(a, b)| (industry_classes(a), industry_classes(b)))
        .unwrap_or_default();
    let list: Vec<Value> = templates
        .private
        .iter()
        .map(|(id, t)| {
            json!({"template_id": id, "title": t.title,
                   "primary_industry": primary.0, "deputy_industry": deputy.1,
                   "content": t.content(), "example": ""})
        })
        .collect();
    Ok(json!({"template_list": list}))
}

/// `POST /cgi-bin/template/del_private_template` with `{"template_id"}`.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let id = str_field(&body, "template_id", 40037)?;
    match emulator.templates().private.remove(id) {
        Some(_) => Ok(ok()),
        None => Err(WxError::new(40037)),
    }
}

/// Whether `value` breaks the rule of keys starting with `kind` (§2.1):
/// WeChat's 47003.
pub(crate) fn breach(kind: &str, value: &str) -> bool {
    let n = value.chars().count();
    let all = |f: &dyn Fn(char) -> bool| value.chars().all(f);
    let cjk = |c: char| matches!(c as u32, 0x3400..=0x9FFF | 0xF900..=0xFAFF);
    match kind {
        "thing" => n > 20,
        "number" => {
            n > 33
                || value.matches('.').count() > 1
                || !all(&|c| c.is_ascii_digit() || c == '.')
                || !value.chars().any(|c| c.is_ascii_digit())
        }
        "letter" => n > 32 || !all(&|c| c.is_ascii_alphabetic()),
        "symbol" => n > 5 || !all(&|c| c.is_ascii_punctuation()),
        "character_string" => n > 32 || !all(&|c| c.is_ascii_graphic()),
        "time" | "date" => {
            !value.chars().any(|c| c.is_ascii_digit())
                || !all(&|c| c.is_ascii_digit() || "-/:.~ 年月日时分秒点".contains(c))
        }
        "amount" => {
            let v = value.trim_start_matches(['¥', '￥', '$', '€', '£']);
            let v = v.strip_suffix('元').unwrap_or(v);
            let (whole, cents) = v.split_once('.').unwrap_or((v, ""));
            whole.is_empty()
                || whole.len() > 10
                || cents.len() > 2
                || !whole.chars().all(|c| c.is_ascii_digit())
                || !cents.chars().all(|c| c.is_ascii_digit())
        }
        "phone_number" => n > 17 || !all(&|c| c.is_ascii_digit() || "+-() ".contains(c)),
        "car_number" => n > 8,
        "name" => {
            if value.is_ascii() {
                n > 20
            } else {
                n > 10
            }
        }
        "phrase" => n > 5 || !all(&cjk),
        _ => n > 20,
    }
}

/// `POST /cgi-bin/message/template/send`.
pub fn send(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let touser = str_field(&body, "touser", 40003)?;
    let template_id = str_field(&body, "template_id", 40037)?;
    let client_msg_id = opt_str(&body, "client_msg_id")?;
    let now_ms = emulator.clock.now_ms();
    let follower = {
        let account = emulator.account();
        let index = account
            .index_of(touser)
            .ok_or_else(|| WxError::new(40003))?;
        if !account.follower(index).is_some_and(|f| f.subscribed) {
            return Err(WxError::new(43004));
        }
        index
    };
    let mut templates = emulator.templates();
    let template = templates
        .private
        .get(template_id)
        .cloned()
        .ok_or_else(|| WxError::new(40037))?;
    let data = body.get("data").ok_or_else(|| WxError::new(47001))?;
    let mut digest_input = template_id.to_owned();
    for (_, key) in &template.keys {
        let value = match data.get(key).and_then(|v| v.get("value")) {
            Some(Value::String(s)) => s.as_str(),
            Some(_) => return Err(WxError::new(47001)),
            None => "",
        };
        if value.trim().is_empty() {
            return Err(WxError::with_message(
                47003,
                format!("argument invalid! data.{key}.value is empty"),
            ));
        }
        let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
        if value.contains(['\n', '\r']) || breach(kind, value) {
            return Err(WxError::with_message(
                47003,
                format!("argument invalid! data.{key}.value invalid"),
            ));
        }
        digest_input.push('\u{1f}');
        digest_input.push_str(value);
    }
    if let Some(id) = client_msg_id {
        let key = (follower, id.to_owned());
        if let Some((at, msg_id)) = templates.recent.get(&key).copied()
            && now_ms - at < CLIENT_MSG_ID_MS
        {
            // One message per follower and key within 10 minutes.
            return Ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msg_id}));
        }
    }
    templates.use_quota(now_ms)?;
    let msg_id = templates.next_msg_id;
    templates.next_msg_id += 1;
    if let Some(id) = client_msg_id {
        let key = (follower, id.to_owned());
        templates.recent.insert(key.clone(), (now_ms, msg_id));
        templates.recent_order.push_back((now_ms, key));
        while let Some((at, _)) = templates.recent_order.front()
            && now_ms - *at >= CLIENT_MSG_ID_MS
        {
            let Some((at, key)) = templates.recent_order.pop_front() else {
                break;
            };
            // Forgotten only if not used again since.
            if templates
                .recent
                .get(&key)
                .is_some_and(|(used, _)| *used == at)
            {
                templates.recent.remove(&key);
            }
        }
    }
    let today = {
        let count = templates.follower_today.entry(follower).or_insert(0);
        *count += 1;
        *count
    };
    let status = if templates.blocked.contains(touser) {
        "failed:user block"
    } else if templates.per_follower_daily.is_some_and(|cap| today > cap) {
        "failed:freq limit"
    } else {
        "success"
    };
    let finishes_at_ms = now_ms + emulator.config.job_delay.as_millis() as i64;
    // What makes two messages the same: the channel, template and values.
    let digest = crate::ids::fnv1a(format!("template\u{1f}{digest_input}").as_bytes());
    let index = templates.messages.len();
    templates.messages.push(TemplateDelivery {
        msg_id,
        openid: touser.to_owned(),
        template_id: template_id.to_owned(),
        status,
        sent_at_ms: now_ms,
        finishes_at_ms,
        finished: false,
    });
    templates
        .due
        .push(std::cmp::Reverse((finishes_at_ms, index)));
    let delivered = (status == "success").then_some((follower, digest));
    drop(templates);
    if let Some((follower, digest)) = delivered {
        emulator
            .account()
            .record_delivery("template", follower, digest);
    }
    emulator.jobs_changed();
    Ok(json!({"errcode": 0, "errmsg": "ok", "msgid": msg_id}))
}

/// The TEMPLATESENDJOBFINISH XML for a delivered message.
pub fn finish_xml(m: &TemplateDelivery, original_id: &str) -> String {
    use wxmass_callback::xml::write_cdata_element;
    let mut xml = String::with_capacity(320);
    xml.push_str("<xml>");
    write_cdata_element(&mut xml, "ToUserName", original_id);
    write_cdata_element(&mut xml, "FromUserName", &m.openid);
    xml.push_str(&format!(
        "<CreateTime>{}</CreateTime>",
        m.finishes_at_ms.div_euclid(1000)
    ));
    write_cdata_element(&mut xml, "MsgType", "event");
    write_cdata_element(&mut xml, "Event", "TEMPLATESENDJOBFINISH");
    xml.push_str(&format!("<MsgID>{}</MsgID>", m.msg_id));
    write_cdata_element(&mut xml, "Status", m.status);
    xml.push_str("</xml>");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emulator_holds_each_type_to_its_rule() {
        for (kind, good, bad) in [
            (
                "thing",
                "包裹",
                "一二三四五六七八九十一二三四五六七八九十一",
            ),
            ("number", "12.5", "1.2.3"),
            ("letter", "abc", "a1"),
            ("symbol", "%", "%%%%%%"),
            ("character_string", "SN-1", "S N"),
            ("time", "2026-12-06 08:00", "soon"),
            ("amount", "¥12.50", "12.505"),
            ("phone_number", "+86 10", "x"),
            ("car_number", "京A12345", "京A123456789"),
            ("name", "王小明", "王小明王小明王小明王小明"),
            ("phrase", "已完成", "done"),
        ] {
            assert!(!breach(kind, good), "{kind} {good:?}");
            assert!(breach(kind, bad), "{kind} {bad:?}");
        }
    }

    #[test]
    fn template_reports_read_back_through_the_receiver() {
        let m = TemplateDelivery {
            msg_id: 42,
            openid: "oF1".into(),
            template_id: "t".into(),
            status: "failed:user block",
            sent_at_ms: 0,
            finishes_at_ms: 1_700_000_000_000,
            finished: true,
        };
        let Ok(wxmass_callback::Push::TemplateSendJobFinish(job)) =
            wxmass_callback::Push::parse(&finish_xml(&m, "gh_1"))
        else {
            panic!("not a template report");
        };
        assert_eq!(
            (job.msg_id, job.recipient.as_str(), job.status),
            (42, "oF1", wxmass_callback::TemplateStatus::UserBlock)
        );
    }
}
