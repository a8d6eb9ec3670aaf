//! Template messages (模板消息, wechat-notifications.md §2.1–§2.6): the
//! account's industries and templates, and the send to one follower. Reach
//! it with [`Client::templates`].
//!
//! Every keyword value is checked against the rule its key's prefix names
//! (`thing1` at most 20 characters, `amount2` a sum, ...) and the 2023
//! rules (no line breaks; `first`, `remark` and colours dropped, said as
//! warnings) before the request leaves, so that WeChat's 47003 is found
//! here. A send is repeated after an unclear failure only when it carries
//! a `client_msg_id`, which WeChat de-duplicates for 10 minutes.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::{decode, decode_list};
use crate::client::{Call, Client, as_i64};
use crate::error::{Error, Result};

/// Template calls.
#[derive(Debug, Clone)]
pub struct TemplatesHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Template messages: industries, the template library, the send.
    pub fn templates(&self) -> TemplatesHandler<'_> {
        TemplatesHandler { client: self }
    }
}

/// One of the account's two industries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Industry {
    /// The broad class, e.g. `IT科技`.
    #[serde(default)]
    pub first_class: String,
    /// The industry within it, e.g. `互联网|电子商务`.
    #[serde(default)]
    pub second_class: String,
}

/// The account's industries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Industries {
    /// The primary industry.
    pub primary_industry: Industry,
    /// The secondary industry.
    pub secondary_industry: Industry,
}

/// A template the account added.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Template {
    /// Its id, for [`TemplateMessage::template_id`].
    pub template_id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// The primary industry it belongs to.
    #[serde(default)]
    pub primary_industry: String,
    /// The secondary industry.
    #[serde(default)]
    pub deputy_industry: String,
    /// Its text, with `{{key.DATA}}` where each keyword goes.
    #[serde(default)]
    pub content: String,
    /// An example.
    #[serde(default)]
    pub example: String,
}

impl Template {
    /// The keys its content names (`thing1`, `time2`, ...), in order.
    pub fn keys(&self) -> Vec<String> {
        content_keys(&self.content)
    }

    /// Checks that `data` names exactly this template's keywords (the
    /// dropped `first` and `remark` aside): a key it lacks would show an
    /// empty line, one it does not have is ignored by WeChat. The value
    /// rules are [`check`]'s.
    pub fn check_keys<'a>(&self, data: impl IntoIterator<Item = &'a String>) -> Result<()> {
        let keys = self.keys();
        let given: Vec<&String> = data
            .into_iter()
            .filter(|k| !DROPPED_KEYS.contains(&k.as_str()))
            .collect();
        let unknown: Vec<&str> = given
            .iter()
            .filter(|k| !keys.contains(k))
            .map(|k| k.as_str())
            .collect();
        let missing: Vec<&str> = keys
            .iter()
            .filter(|k| !given.contains(k))
            .map(String::as_str)
            .collect();
        let named = format!(
            "template {} ({}) has the keywords {}",
            self.template_id,
            self.title,
            keys.join(", ")
        );
        match (unknown.is_empty(), missing.is_empty()) {
            (true, true) => Ok(()),
            (false, true) => Err(Error::Invalid(format!(
                "data: {} not in the template: {named}",
                unknown.join(", ")
            ))),
            (true, false) => Err(Error::Invalid(format!(
                "data: {} missing: {named}",
                missing.join(", ")
            ))),
            (false, false) => Err(Error::Invalid(format!(
                "data: {} missing and {} not in the template: {named}",
                missing.join(", "),
                unknown.join(", ")
            ))),
        }
    }
}

/// The keys a template's text names with `{{key.DATA}}`, in order (a
/// template message's or a subscription notice's).
pub fn content_keys(content: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("{{") {
        rest = &rest[start + 2..];
        let Some(end) = rest.find("}}") else { break };
        if let Some(key) = rest[..end].strip_suffix(".DATA") {
            keys.push(key.to_owned());
        }
        rest = &rest[end + 2..];
    }
    keys
}

/// A mini program a template message opens.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MiniProgram {
    /// The mini program, linked to the account.
    pub appid: String,
    /// The page, with its query (`index?foo=bar`).
    pub pagepath: String,
}

/// A template message to one follower.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct TemplateMessage {
    /// The follower's openid.
    pub touser: String,
    /// The template ([`Template::template_id`]).
    pub template_id: String,
    /// A web page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A mini program page it opens (wins over `url`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
    /// WeChat's de-duplication key: for this follower and key one message
    /// is sent within 10 minutes; a retry with it is safe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_msg_id: Option<String>,
    /// Each keyword's value, by key (`thing1`, `time2`, ...), in order.
    pub data: Vec<(String, String)>,
}

/// A template message WeChat took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSent {
    /// The message's id, as TEMPLATESENDJOBFINISH names it (`None`: WeChat
    /// gave none, as for messages held for review).
    pub msg_id: Option<i64>,
    /// What was dropped before sending (2023 rules), for people.
    pub warnings: Vec<String>,
}

/// Longest `client_msg_id` taken. WeChat documents no limit (the
/// reference marks it unsure); 64 characters of `[A-Za-z0-9_-]` cover any
/// key a sender derives, and keep the key printable in logs.
pub const CLIENT_MSG_ID_MAX: usize = 64;

/// Keys the 2023 rules removed: WeChat drops them; so do we, saying so.
const DROPPED_KEYS: [&str; 2] = ["first", "remark"];

/// The rule a keyword value follows, from its key's prefix
/// (wechat-notifications.md §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeywordRule {
    /// `thing`: at most 20 characters.
    Thing,
    /// `number`: at most 32 digits, a decimal point allowed.
    Number,
    /// `letter`: at most 32 letters.
    Letter,
    /// `symbol`: at most 5 symbols.
    Symbol,
    /// `character_string`: at most 32 digits, letters or symbols.
    CharacterString,
    /// `time`, `date`: a date or time, or a range of them with `~`.
    Time,
    /// `amount`: a sum, an optional currency sign, at most 10 digits and
    /// 2 decimals, an optional trailing 元.
    Amount,
    /// `phone_number`: at most 17 digits, `+`, `-`, spaces or brackets.
    PhoneNumber,
    /// `car_number`: at most 8 characters.
    CarNumber,
    /// `name`: at most 10 Chinese characters, or 20 letters.
    Name,
    /// `phrase`: at most 5 Chinese characters.
    Phrase,
    /// `const`, `enum`, and keys of no known type (`keyword1` of older
    /// templates): not empty, at most 20 characters.
    Other,
}

impl KeywordRule {
    /// The rule for `key` (`thing1` -> [`KeywordRule::Thing`]).
    pub fn of(key: &str) -> KeywordRule {
        let prefix = key.trim_end_matches(|c: char| c.is_ascii_digit());
        match prefix {
            "thing" => KeywordRule::Thing,
            "number" => KeywordRule::Number,
            "letter" => KeywordRule::Letter,
            "symbol" => KeywordRule::Symbol,
            "character_string" => KeywordRule::CharacterString,
            "time" | "date" => KeywordRule::Time,
            "amount" => KeywordRule::Amount,
            "phone_number" => KeywordRule::PhoneNumber,
            "car_number" => KeywordRule::CarNumber,
            "name" => KeywordRule::Name,
            "phrase" => KeywordRule::Phrase,
            _ => KeywordRule::Other,
        }
    }

    /// Why `value` breaks the rule, or `None` when it keeps it.
    pub fn breach(self, value: &str) -> Option<String> {
        let chars = value.chars().count();
        let at_most = |n: usize, what: &str| {
            (chars > n).then(|| format!("{what}: at most {n} characters, this has {chars}"))
        };
        let only = |ok: &dyn Fn(char) -> bool, what: &str| {
            value
                .chars()
                .find(|c| !ok(*c))
                .map(|c| format!("{what}: {c:?} is not allowed"))
        };
        let symbol = |c: char| c.is_ascii_punctuation();
        match self {
            KeywordRule::Thing | KeywordRule::Other => at_most(20, "at most 20 characters"),
            KeywordRule::Number => {
                let digits = value.chars().filter(char::is_ascii_digit).count();
                let points = value.matches('.').count();
                if digits == 0
                    || points > 1
                    || value.starts_with('.')
                    || value.ends_with('.')
                    || value.chars().any(|c| !c.is_ascii_digit() && c != '.')
                {
                    Some("a number: digits, with at most one decimal point".into())
                } else if digits > 32 {
                    Some(format!("a number: at most 32 digits, this has {digits}"))
                } else {
                    None
                }
            }
            KeywordRule::Letter => only(&|c| c.is_ascii_alphabetic(), "letters only")
                .or_else(|| at_most(32, "letters")),
            KeywordRule::Symbol => only(&symbol, "symbols only").or_else(|| at_most(5, "symbols")),
            KeywordRule::CharacterString => only(
                &|c| c.is_ascii_alphanumeric() || symbol(c),
                "digits, letters and symbols only",
            )
            .or_else(|| at_most(32, "digits, letters and symbols")),
            KeywordRule::Time => time_breach(value),
            KeywordRule::Amount => amount_breach(value),
            KeywordRule::PhoneNumber => only(
                &|c| c.is_ascii_digit() || "+-() ".contains(c),
                "a phone number: digits, +, -, spaces and brackets",
            )
            .or_else(|| at_most(17, "a phone number")),
            KeywordRule::CarNumber => at_most(8, "a car number"),
            KeywordRule::Name => {
                if value.is_ascii() {
                    only(
                        &|c| c.is_ascii_alphabetic() || c == ' ' || c == '.',
                        "a name",
                    )
                    .or_else(|| at_most(20, "a name in letters"))
                } else {
                    at_most(10, "a name in Chinese characters")
                }
            }
            KeywordRule::Phrase => only(&is_cjk, "a phrase: Chinese characters only")
                .or_else(|| at_most(5, "a phrase")),
        }
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF)
}

/// A date or time, or a range of them: each side has digits and only the
/// separators dates and times are written with (`2026-12-06 08:00`,
/// `2026年12月6日`, `8:00~9:30`). The reference gives no stricter form.
fn time_breach(value: &str) -> Option<String> {
    let parts: Vec<&str> = value.split('~').collect();
    let bad = parts.len() > 2
        || parts.iter().any(|p| {
            let p = p.trim();
            !p.chars().any(|c| c.is_ascii_digit())
                || p.chars()
                    .any(|c| !(c.is_ascii_digit() || "-/:. 年月日时分秒点".contains(c)))
        });
    bad.then(|| "a date or time (2026-12-06 08:00, 2026年12月6日), or two joined by ~".to_owned())
}

/// A sum: an optional currency sign, at most 10 digits before the point and
/// 2 after, an optional trailing 元.
fn amount_breach(value: &str) -> Option<String> {
    let rest = value
        .strip_prefix(['¥', '￥', '$', '€', '£'])
        .unwrap_or(value);
    let rest = rest.strip_suffix('元').unwrap_or(rest);
    let (whole, cents) = rest.split_once('.').unwrap_or((rest, ""));
    let ok = !whole.is_empty()
        && whole.len() <= 10
        && whole.chars().all(|c| c.is_ascii_digit())
        && cents.len() <= 2
        && cents.chars().all(|c| c.is_ascii_digit())
        && !(rest.contains('.') && cents.is_empty());
    (!ok).then(|| "a sum: ¥12.50, 12.50元 or 1250 (at most 10 digits and 2 decimals)".to_owned())
}

/// Checks one keyword's value as WeChat would (47003): not empty, no line
/// break (since 2023-05-04), and the rule of its key's type. Template
/// messages and subscription notices share these rules.
pub fn check_value(key: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::Invalid(format!("data.{key}.value is empty")));
    }
    if value.contains(['\n', '\r']) {
        return Err(Error::Invalid(format!(
            "data.{key}.value has a line break: WeChat takes none since 2023-05-04"
        )));
    }
    if let Some(why) = KeywordRule::of(key).breach(value) {
        return Err(Error::Invalid(format!(
            "data.{key}.value {value:?} breaks its rule: {why}"
        )));
    }
    Ok(())
}

/// Checks `message` as WeChat would, and returns the body to send and what
/// was dropped. Errors name the keyword and the rule (WeChat's 47003).
pub fn check(message: &TemplateMessage) -> Result<(Value, Vec<String>)> {
    let invalid = |why: String| Err(Error::Invalid(why));
    if message.touser.trim().is_empty() {
        return invalid("touser: the follower's openid is missing".into());
    }
    if message.template_id.trim().is_empty() || message.template_id.len() > 128 {
        return invalid("template_id: the template's id (1 to 128 characters) is missing".into());
    }
    if let Some(id) = &message.client_msg_id
        && (id.is_empty()
            || id.len() > CLIENT_MSG_ID_MAX
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
    {
        return invalid(format!(
            "client_msg_id: 1 to {CLIENT_MSG_ID_MAX} letters, digits, _ or -; got {id:?}"
        ));
    }
    if let Some(url) = &message.url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return invalid(format!("url: a web address (http or https); got {url:?}"));
    }
    if let Some(mp) = &message.miniprogram
        && (mp.appid.trim().is_empty() || mp.pagepath.trim().is_empty())
    {
        return invalid("miniprogram: give its appid and pagepath".into());
    }
    let mut warnings = Vec::new();
    let mut data = Map::new();
    for (key, value) in &message.data {
        if DROPPED_KEYS.contains(&key.as_str()) {
            warnings.push(format!(
                "data.{key} dropped: WeChat removed the first and remark lines on 2023-05-04"
            ));
            continue;
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return invalid(format!("data: {key:?} is not a template keyword"));
        }
        if data.contains_key(key) {
            return invalid(format!("data.{key} is given twice"));
        }
        check_value(key, value)?;
        data.insert(key.clone(), json!({ "value": value }));
    }
    if data.is_empty() {
        return invalid("data: give the template's keywords".into());
    }
    let mut body = json!({
        "touser": message.touser,
        "template_id": message.template_id,
        "data": data,
    });
    if let Some(url) = &message.url {
        body["url"] = json!(url);
    }
    if let Some(mp) = &message.miniprogram {
        body["miniprogram"] = json!({"appid": mp.appid, "pagepath": mp.pagepath});
    }
    if let Some(id) = &message.client_msg_id {
        body["client_msg_id"] = json!(id);
    }
    Ok((body, warnings))
}

impl TemplatesHandler<'_> {
    /// Sends a template message to one follower (checked first; see
    /// [`check`]). Repeated after an unclear failure only with a
    /// `client_msg_id`.
    ///
    /// `POST /cgi-bin/message/template/send`.
    pub async fn send(&self, message: &TemplateMessage) -> Result<TemplateSent> {
        let (body, warnings) = check(message)?;
        let path = "/cgi-bin/message/template/send";
        let mut call = Call::post(path, body);
        if message.client_msg_id.is_none() {
            // Without the key a repeat reaches the follower twice.
            call = call.unsafe_to_repeat();
        }
        let answer = self.client.call(call).await?;
        Ok(TemplateSent {
            msg_id: answer.get("msgid").and_then(as_i64),
            warnings,
        })
    }

    /// Sets the account's two industries (by WeChat's industry codes: 1
    /// 互联网/电子商务, 2 IT软件与服务, ...). Changing them deletes the
    /// templates of the old ones; WeChat takes one change a month.
    ///
    /// `POST /cgi-bin/template/api_set_industry`.
    pub async fn set_industry(&self, primary: u32, secondary: u32) -> Result<()> {
        if primary == 0 || secondary == 0 {
            return Err(Error::Invalid(
                "industry codes start at 1 (1 互联网/电子商务, 2 IT软件与服务, ...)".into(),
            ));
        }
        self.client
            .call(Call::post(
                "/cgi-bin/template/api_set_industry",
                json!({"industry_id1": primary.to_string(), "industry_id2": secondary.to_string()}),
            ))
            .await?;
        Ok(())
    }

    /// The account's industries.
    ///
    /// `GET /cgi-bin/template/get_industry`.
    pub async fn industry(&self) -> Result<Industries> {
        let path = "/cgi-bin/template/get_industry";
        let answer = self.client.call(Call::get(path)).await?;
        decode(path, Some(&answer))
    }

    /// Adds a category template from the library by its short id and the
    /// keyword names to show, in order; its id. Old TM/OPENTM ids are
    /// refused here: WeChat retired them (40247).
    ///
    /// `POST /cgi-bin/template/api_add_template`.
    pub async fn add(&self, template_id_short: &str, keyword_names: &[&str]) -> Result<String> {
        if template_id_short.is_empty() || !template_id_short.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Invalid(format!(
                "template_id_short {template_id_short:?}: a category template's number (TM and OPENTM ids were retired in 2023)"
            )));
        }
        if keyword_names.is_empty() || keyword_names.iter().any(|k| k.trim().is_empty()) {
            return Err(Error::Invalid(
                "keyword_name_list: name the template's keywords to show, in order".into(),
            ));
        }
        let path = "/cgi-bin/template/api_add_template";
        let answer = self
            .client
            .call(
                Call::post(
                    path,
                    json!({"template_id_short": template_id_short, "keyword_name_list": keyword_names}),
                )
                .unsafe_to_repeat(),
            )
            .await?;
        decode(path, answer.get("template_id"))
    }

    /// The account's templates.
    ///
    /// `GET /cgi-bin/template/get_all_private_template`.
    pub async fn list(&self) -> Result<Vec<Template>> {
        let path = "/cgi-bin/template/get_all_private_template";
        let answer = self.client.call(Call::get(path)).await?;
        decode_list(path, answer.get("template_list"))
    }

    /// Deletes a template.
    ///
    /// `POST /cgi-bin/template/del_private_template`.
    pub async fn delete(&self, template_id: &str) -> Result<()> {
        self.client
            .call(Call::post(
                "/cgi-bin/template/del_private_template",
                json!({"template_id": template_id}),
            ))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(data: &[(&str, &str)]) -> TemplateMessage {
        TemplateMessage {
            touser: "oFollower".into(),
            template_id: "tpl".into(),
            data: data
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..TemplateMessage::default()
        }
    }

    #[test]
    fn each_keyword_type_keeps_its_rule() {
        for (key, good, bad) in [
            (
                "thing1",
                "订单已发货",
                "这是一个超过二十个字符长度的物品名称描述文字",
            ),
            ("number2", "12.5", "12a"),
            ("letter3", "abc", "ab1"),
            ("symbol4", "%$", "%%%%%%"),
            ("character_string5", "SN-2026/12", "SN 2026"),
            ("time6", "2026-12-06 08:00~09:30", "tomorrow"),
            ("date7", "2026年12月6日", "下周一"),
            ("amount8", "¥12.50", "12.505"),
            ("phone_number9", "+86 (10) 1234-567", "call me"),
            ("car_number10", "京A12345", "京A123456789"),
            ("name11", "王小明", "王小明王小明王小明王小明"),
            ("phrase12", "已完成", "done"),
            ("const13", "固定值", ""),
        ] {
            assert!(check(&message(&[(key, good)])).is_ok(), "{key} {good:?}");
            let refused = check(&message(&[(key, bad)]));
            assert!(
                matches!(&refused, Err(Error::Invalid(why)) if why.contains(key)),
                "{key} {bad:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn the_2023_rules_drop_first_and_remark_and_refuse_line_breaks() {
        let (body, warnings) = check(&message(&[
            ("first", "您好"),
            ("thing1", "包裹"),
            ("remark", "谢谢"),
        ]))
        .expect("checked");
        assert_eq!(body["data"], json!({"thing1": {"value": "包裹"}}));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(check(&message(&[("thing1", "a\nb")])).is_err());
        assert!(
            check(&message(&[("first", "only")])).is_err(),
            "nothing left"
        );
    }

    #[test]
    fn a_templates_keys_come_from_its_content() {
        let t = Template {
            template_id: "t".into(),
            title: String::new(),
            primary_industry: String::new(),
            deputy_industry: String::new(),
            content: "物品：{{thing1.DATA}}\n时间：{{time2.DATA}}".into(),
            example: String::new(),
        };
        assert_eq!(t.keys(), ["thing1", "time2"]);
    }

    #[test]
    fn keys_are_checked_against_the_templates_own() {
        let t = Template {
            template_id: "T1".into(),
            title: "发货通知".into(),
            primary_industry: String::new(),
            deputy_industry: String::new(),
            content: "商品：{{thing1.DATA}}\n时间：{{time2.DATA}}".into(),
            example: String::new(),
        };
        let keys = |ks: &[&str]| ks.iter().map(|k| k.to_string()).collect::<Vec<_>>();
        assert!(t.check_keys(&keys(&["thing1", "time2", "remark"])).is_ok());
        let said = t
            .check_keys(&keys(&["thing1", "thing9"]))
            .unwrap_err()
            .to_string();
        assert!(
            said.contains("time2 missing and thing9 not in the template"),
            "{said}"
        );
        assert!(said.contains("thing1, time2"), "{said}");
        let said = t.check_keys(&keys(&["thing1"])).unwrap_err().to_string();
        assert!(
            said.contains("data: time2 missing: template T1 (发货通知)"),
            "{said}"
        );
    }
}
