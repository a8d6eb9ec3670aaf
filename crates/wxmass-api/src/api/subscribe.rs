//! Subscription notices (wechat-notifications.md §2.7–§2.8): the one-time
//! subscription message (`subscribemsg`: the consent page's address and
//! the send it allows) and a service account's subscription notices (the
//! template library under `/wxaapi/newtmpl/`, and `bizsend`). Reach it
//! with [`Client::subscribe`].
//!
//! Each consent allows one send: a send is never repeated after an unclear
//! failure (a repeat is refused with 43101 at best, or spends a second
//! consent). Where the reference is unsure of a request's shape (§0.12:
//! `bizsend`'s `page` as a web address beside a `miniprogram` object, as
//! the SDKs send it, or the mini-program form), the choice is made once,
//! in [`bizsend_body`].

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::api::templates::{MiniProgram, check_value};
use crate::api::{decode, decode_list, percent_encode};
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Subscription calls.
#[derive(Debug, Clone)]
pub struct SubscribeHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Subscription notices: one-time consents and sends, the notice
    /// library, `bizsend`.
    pub fn subscribe(&self) -> SubscribeHandler<'_> {
        SubscribeHandler { client: self }
    }
}

/// The one-time consent page a follower opens inside WeChat: after a tap
/// WeChat sends them to `redirect_url` with `openid`, `template_id`,
/// `action` (`confirm` or `cancel`), `scene` and `reserved`.
///
/// `scene` is 0 to 10,000 (consents under one scene do not stack: use
/// another for another send); `reserved` at most 128 letters or digits,
/// returned as it was (a CSRF state).
pub fn consent_url(
    appid: &str,
    scene: u16,
    template_id: &str,
    redirect_url: &str,
    reserved: &str,
) -> Result<String> {
    if scene > 10_000 {
        return Err(Error::Invalid(format!("scene {scene}: 0 to 10,000")));
    }
    if reserved.len() > 128 || !reserved.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Invalid(
            "reserved: at most 128 letters or digits".into(),
        ));
    }
    if !redirect_url.starts_with("https://") && !redirect_url.starts_with("http://") {
        return Err(Error::Invalid(format!(
            "redirect_url {redirect_url:?}: a web address on the account's business domain"
        )));
    }
    Ok(format!(
        "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid={}&scene={scene}&template_id={}&redirect_url={}&reserved={reserved}#wechat_redirect",
        percent_encode(appid),
        percent_encode(template_id),
        percent_encode(redirect_url)
    ))
}

/// A one-time subscription message: what one consent allows.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct OneTimeMessage {
    /// The follower (or non-follower) who consented.
    pub touser: String,
    /// The account's one-time template id.
    pub template_id: String,
    /// The scene they consented under.
    pub scene: u16,
    /// A title, at most 15 characters.
    pub title: String,
    /// The text, at most 200 characters.
    pub content: String,
    /// A web page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A mini program page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
}

/// A subscription notice (`bizsend`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct SubscribeMessage {
    /// The subscriber.
    pub touser: String,
    /// The notice template (`priTmplId`).
    pub template_id: String,
    /// A web page it opens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// A mini program page it opens (wins over `page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miniprogram: Option<MiniProgram>,
    /// Each keyword's value, by key, in order (the template rules apply).
    pub data: Vec<(String, String)>,
}

/// A notice template of the account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NoticeTemplate {
    /// Its id, for [`SubscribeMessage::template_id`].
    #[serde(rename = "priTmplId")]
    pub pri_tmpl_id: String,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Its text, with `{{key.DATA}}` for each keyword.
    #[serde(default)]
    pub content: String,
    /// An example.
    #[serde(default)]
    pub example: String,
    /// 2 one-time, 3 long-term.
    #[serde(rename = "type", default)]
    pub kind: u8,
}

impl NoticeTemplate {
    /// The keys its content names (`thing1`, `amount2`, ...), in order.
    pub fn keys(&self) -> Vec<String> {
        super::templates::content_keys(&self.content)
    }
}

/// A library title the account may add notices from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LibraryTitle {
    /// Its id (`tid`).
    pub tid: i64,
    /// Its title.
    pub title: String,
    /// 2 one-time, 3 long-term.
    #[serde(rename = "type", default)]
    pub kind: u8,
    /// Its category.
    #[serde(rename = "categoryId", default)]
    pub category_id: Value,
}

/// A keyword of a library title.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LibraryKeyword {
    /// Its id (`kid`).
    pub kid: i64,
    /// Its name.
    pub name: String,
    /// An example value.
    #[serde(default)]
    pub example: String,
    /// Its type (`thing`, `time`, ...).
    #[serde(default)]
    pub rule: String,
}

fn check_data(data: &[(String, String)]) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    if data.is_empty() {
        return Err(Error::Invalid("data: give the notice's keywords".into()));
    }
    for (key, value) in data {
        check_value(key, value)?;
        out.insert(key.clone(), json!({ "value": value }));
    }
    Ok(out)
}

/// `bizsend`'s body. The reference is unsure of `page` (§0.12): sent as
/// the SDKs send it, a web address, beside a `miniprogram` object; never
/// the mini-program-only fields (`miniprogram_state`, `lang`).
pub fn bizsend_body(message: &SubscribeMessage) -> Result<Value> {
    if message.touser.trim().is_empty() || message.template_id.trim().is_empty() {
        return Err(Error::Invalid(
            "touser and template_id are both needed".into(),
        ));
    }
    let mut body = json!({
        "touser": message.touser,
        "template_id": message.template_id,
        "data": check_data(&message.data)?,
    });
    if let Some(page) = &message.page {
        body["page"] = json!(page);
    }
    if let Some(mp) = &message.miniprogram {
        body["miniprogram"] = json!({"appid": mp.appid, "pagepath": mp.pagepath});
    }
    Ok(body)
}

impl SubscribeHandler<'_> {
    /// Sends what a one-time consent allows.
    ///
    /// `POST /cgi-bin/message/template/subscribe`.
    pub async fn send_once(&self, message: &OneTimeMessage) -> Result<()> {
        if message.touser.trim().is_empty() || message.template_id.trim().is_empty() {
            return Err(Error::Invalid(
                "touser and template_id are both needed".into(),
            ));
        }
        if message.scene > 10_000 {
            return Err(Error::Invalid(format!(
                "scene {}: 0 to 10,000",
                message.scene
            )));
        }
        let title = message.title.chars().count();
        if title == 0 || title > 15 {
            return Err(Error::Invalid(format!(
                "title: 1 to 15 characters, this has {title}"
            )));
        }
        let content = message.content.chars().count();
        if content == 0 || content > 200 {
            return Err(Error::Invalid(format!(
                "content: 1 to 200 characters, this has {content}"
            )));
        }
        let mut body = json!({
            "touser": message.touser, "template_id": message.template_id,
            "scene": message.scene.to_string(), "title": message.title,
            "data": {"content": {"value": message.content}},
        });
        if let Some(url) = &message.url {
            body["url"] = json!(url);
        }
        if let Some(mp) = &message.miniprogram {
            body["miniprogram"] = json!({"appid": mp.appid, "pagepath": mp.pagepath});
        }
        self.client
            .call(Call::post("/cgi-bin/message/template/subscribe", body).unsafe_to_repeat())
            .await?;
        Ok(())
    }

    /// Sends a subscription notice to a subscriber (43101 when they have
    /// no consent left for it).
    ///
    /// `POST /cgi-bin/message/subscribe/bizsend`.
    pub async fn send(&self, message: &SubscribeMessage) -> Result<()> {
        let body = bizsend_body(message)?;
        self.client
            .call(Call::post("/cgi-bin/message/subscribe/bizsend", body).unsafe_to_repeat())
            .await?;
        Ok(())
    }

    /// The account's notice templates.
    ///
    /// `GET /wxaapi/newtmpl/gettemplate`.
    pub async fn templates(&self) -> Result<Vec<NoticeTemplate>> {
        let path = "/wxaapi/newtmpl/gettemplate";
        let answer = self.client.call(Call::get(path)).await?;
        decode_list(path, answer.get("data"))
    }

    /// The library's titles in `categories` (ids), `limit` (1 to 30) from
    /// `start`.
    ///
    /// `GET /wxaapi/newtmpl/getpubtemplatetitles`.
    pub async fn library(
        &self,
        categories: &[i64],
        start: u32,
        limit: u32,
    ) -> Result<Vec<LibraryTitle>> {
        if categories.is_empty() || !(1..=30).contains(&limit) {
            return Err(Error::Invalid(
                "name 1 or more category ids, and a limit of 1 to 30".into(),
            ));
        }
        let ids: Vec<String> = categories.iter().map(i64::to_string).collect();
        let path = "/wxaapi/newtmpl/getpubtemplatetitles";
        let answer = self
            .client
            .call(
                Call::get(path)
                    .query("ids", ids.join(","))
                    .query("start", start.to_string())
                    .query("limit", limit.to_string()),
            )
            .await?;
        decode_list(path, answer.get("data"))
    }

    /// A library title's keywords.
    ///
    /// `GET /wxaapi/newtmpl/getpubtemplatekeywords`.
    pub async fn keywords(&self, tid: i64) -> Result<Vec<LibraryKeyword>> {
        let path = "/wxaapi/newtmpl/getpubtemplatekeywords";
        let answer = self
            .client
            .call(Call::get(path).query("tid", tid.to_string()))
            .await?;
        decode_list(path, answer.get("data"))
    }

    /// Adds a notice template from library title `tid` with keywords
    /// `kids` (2 to 5) and a scene description (at most 15 characters);
    /// its `priTmplId`.
    ///
    /// `POST /wxaapi/newtmpl/addtemplate`.
    pub async fn add(&self, tid: i64, kids: &[i64], scene: &str) -> Result<String> {
        if !(2..=5).contains(&kids.len()) {
            return Err(Error::Invalid(format!(
                "kidList: 2 to 5 keywords, {} given",
                kids.len()
            )));
        }
        if scene.chars().count() > 15 {
            return Err(Error::Invalid("sceneDesc: at most 15 characters".into()));
        }
        let path = "/wxaapi/newtmpl/addtemplate";
        let answer = self
            .client
            .call(
                Call::post(
                    path,
                    json!({"tid": tid, "kidList": kids, "sceneDesc": scene}),
                )
                .unsafe_to_repeat(),
            )
            .await?;
        decode(path, answer.get("priTmplId"))
    }

    /// Deletes a notice template.
    ///
    /// `POST /wxaapi/newtmpl/deltemplate`.
    pub async fn delete(&self, pri_tmpl_id: &str) -> Result<()> {
        self.client
            .call(Call::post(
                "/wxaapi/newtmpl/deltemplate",
                json!({"priTmplId": pri_tmpl_id}),
            ))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_page_is_addressed_and_checked() {
        let url =
            consent_url("wx1", 7, "tpl_1", "https://example.com/back?x=1", "state42").expect("url");
        assert!(url.contains("scene=7&template_id=tpl_1&redirect_url=https%3A%2F%2Fexample.com%2Fback%3Fx%3D1&reserved=state42#wechat_redirect"), "{url}");
        assert!(consent_url("wx1", 10_001, "t", "https://e.com", "s").is_err());
        assert!(consent_url("wx1", 1, "t", "https://e.com", "bad state").is_err());
    }

    #[test]
    fn bizsend_keeps_the_keyword_rules() {
        let ok = SubscribeMessage {
            touser: "o1".into(),
            template_id: "p1".into(),
            data: vec![("thing1".into(), "已到账".into())],
            ..SubscribeMessage::default()
        };
        assert!(bizsend_body(&ok).is_ok());
        let bad = SubscribeMessage {
            data: vec![("amount1".into(), "lots".into())],
            ..ok
        };
        assert!(bizsend_body(&bad).is_err());
    }
}
