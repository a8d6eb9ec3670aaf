//! Customer-service messages (客服消息, wechat-notifications.md §3): a
//! message to one follower inside the window their own action opened (a
//! message, a menu click, a follow, a QR scan), the typing indicator, and
//! the account's kf accounts. Reach it with [`Client::custom`].
//!
//! A customer-service message has no de-duplication key and no delivery
//! report: after an unclear failure it is never sent again here (a repeat
//! would reach the follower twice and spend their window).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::decode_list;
use crate::client::{Call, Client};
use crate::error::{Error, Result};

/// Customer-service calls.
#[derive(Debug, Clone)]
pub struct CustomHandler<'c> {
    client: &'c Client,
}

impl Client {
    /// Customer-service messages: the send, typing, kf accounts.
    pub fn custom(&self) -> CustomHandler<'_> {
        CustomHandler { client: self }
    }
}

/// One article of a `news` message (WeChat takes one since 2018-10-12).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct NewsLink {
    /// Its title.
    pub title: String,
    /// A line under it.
    pub description: String,
    /// Where it opens.
    pub url: String,
    /// Its picture's address.
    pub picurl: String,
}

/// A choice of a `msgmenu` message.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct MenuChoice {
    /// What comes back in the follower's click.
    pub id: String,
    /// What the follower sees.
    pub content: String,
}

/// What a customer-service message says: every msgtype of
/// `message/custom/send`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", tag = "msgtype")]
pub enum CustomMessage {
    /// Text (links allowed as `<a href>`).
    Text {
        /// The text.
        content: String,
    },
    /// A picture (temporary or permanent material).
    Image {
        /// Its media id.
        media_id: String,
    },
    /// A voice.
    Voice {
        /// Its media id.
        media_id: String,
    },
    /// A video.
    Video {
        /// Its media id.
        media_id: String,
        /// Its thumbnail's media id.
        thumb_media_id: String,
        /// Its title.
        title: String,
        /// Its description.
        description: String,
    },
    /// Music.
    Music {
        /// Its title.
        title: String,
        /// Its description.
        description: String,
        /// Its address.
        musicurl: String,
        /// Its high-quality address.
        hqmusicurl: String,
        /// Its thumbnail's media id.
        thumb_media_id: String,
    },
    /// One article as a link (WeChat takes one; more is 45008).
    News {
        /// The article.
        article: NewsLink,
    },
    /// Old material news by media id.
    Mpnews {
        /// Its media id.
        media_id: String,
    },
    /// A published article (free publishing's `article_id`).
    Mpnewsarticle {
        /// Its article id.
        article_id: String,
    },
    /// A menu of choices.
    Msgmenu {
        /// Above the choices.
        head_content: String,
        /// The choices.
        list: Vec<MenuChoice>,
        /// Below them.
        tail_content: String,
    },
    /// A card.
    Wxcard {
        /// Its id.
        card_id: String,
    },
    /// A mini program page (linked to the account).
    Miniprogrampage {
        /// Its title.
        title: String,
        /// The mini program.
        appid: String,
        /// The page.
        pagepath: String,
        /// The thumbnail's media id.
        thumb_media_id: String,
    },
}

impl CustomMessage {
    /// Its msgtype.
    pub fn msgtype(&self) -> &'static str {
        match self {
            CustomMessage::Text { .. } => "text",
            CustomMessage::Image { .. } => "image",
            CustomMessage::Voice { .. } => "voice",
            CustomMessage::Video { .. } => "video",
            CustomMessage::Music { .. } => "music",
            CustomMessage::News { .. } => "news",
            CustomMessage::Mpnews { .. } => "mpnews",
            CustomMessage::Mpnewsarticle { .. } => "mpnewsarticle",
            CustomMessage::Msgmenu { .. } => "msgmenu",
            CustomMessage::Wxcard { .. } => "wxcard",
            CustomMessage::Miniprogrampage { .. } => "miniprogrampage",
        }
    }

    /// The object WeChat reads under the msgtype's name.
    fn object(&self) -> Result<Value> {
        let required = |field: &str, v: &str| {
            if v.trim().is_empty() {
                Err(Error::Invalid(format!(
                    "{} message: {field} is empty",
                    self.msgtype()
                )))
            } else {
                Ok(())
            }
        };
        Ok(match self {
            CustomMessage::Text { content } => {
                required("content", content)?;
                if content.len() > crate::message::MAX_TEXT_BYTES {
                    return Err(Error::Invalid(format!(
                        "text message: at most {} bytes, this has {}",
                        crate::message::MAX_TEXT_BYTES,
                        content.len()
                    )));
                }
                json!({"content": content})
            }
            CustomMessage::Image { media_id }
            | CustomMessage::Voice { media_id }
            | CustomMessage::Mpnews { media_id } => {
                required("media_id", media_id)?;
                json!({"media_id": media_id})
            }
            CustomMessage::Video {
                media_id,
                thumb_media_id,
                title,
                description,
            } => {
                required("media_id", media_id)?;
                json!({"media_id": media_id, "thumb_media_id": thumb_media_id,
                       "title": title, "description": description})
            }
            CustomMessage::Music {
                title,
                description,
                musicurl,
                hqmusicurl,
                thumb_media_id,
            } => {
                required("musicurl", musicurl)?;
                required("thumb_media_id", thumb_media_id)?;
                json!({"title": title, "description": description, "musicurl": musicurl,
                       "hqmusicurl": hqmusicurl, "thumb_media_id": thumb_media_id})
            }
            CustomMessage::News { article } => {
                required("title", &article.title)?;
                required("url", &article.url)?;
                json!({"articles": [article]})
            }
            CustomMessage::Mpnewsarticle { article_id } => {
                required("article_id", article_id)?;
                json!({"article_id": article_id})
            }
            CustomMessage::Msgmenu {
                head_content,
                list,
                tail_content,
            } => {
                if list.is_empty() || list.iter().any(|c| c.id.is_empty() || c.content.is_empty()) {
                    return Err(Error::Invalid(
                        "msgmenu message: give 1 or more choices, each with an id and content"
                            .into(),
                    ));
                }
                json!({"head_content": head_content, "list": list, "tail_content": tail_content})
            }
            CustomMessage::Wxcard { card_id } => {
                required("card_id", card_id)?;
                json!({"card_id": card_id})
            }
            CustomMessage::Miniprogrampage {
                title,
                appid,
                pagepath,
                thumb_media_id,
            } => {
                required("appid", appid)?;
                required("pagepath", pagepath)?;
                required("thumb_media_id", thumb_media_id)?;
                json!({"title": title, "appid": appid, "pagepath": pagepath,
                       "thumb_media_id": thumb_media_id})
            }
        })
    }
}

/// A kf account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct KfAccount {
    /// `prefix@wechat_id`.
    pub kf_account: String,
    /// Its nickname.
    #[serde(default)]
    pub kf_nick: String,
    /// Its id.
    #[serde(default)]
    pub kf_id: Value,
}

/// The `customservice.kf_account` form: `prefix@wechat_id`, the prefix at
/// most 10 of `[A-Za-z0-9_]`.
fn check_kf_account(kf: &str) -> Result<()> {
    let ok = kf.split_once('@').is_some_and(|(prefix, id)| {
        (1..=10).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            && !id.is_empty()
            && kf.len() <= 30
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "kf_account {kf:?}: prefix@wechat_id, the prefix 1 to 10 letters, digits or _"
        )))
    }
}

impl CustomHandler<'_> {
    /// Sends `message` to follower `touser`, as kf account `kf_account` if
    /// given. WeChat takes it only inside the follower's window (45015
    /// otherwise) and while it has messages left (45047). Never repeated
    /// after an unclear failure.
    ///
    /// `POST /cgi-bin/message/custom/send`.
    pub async fn send(
        &self,
        touser: &str,
        message: &CustomMessage,
        kf_account: Option<&str>,
    ) -> Result<()> {
        if touser.trim().is_empty() {
            return Err(Error::Invalid(
                "touser: the follower's openid is missing".into(),
            ));
        }
        let msgtype = message.msgtype();
        let mut body = json!({"touser": touser, "msgtype": msgtype});
        body[msgtype] = message.object()?;
        if let Some(kf) = kf_account {
            check_kf_account(kf)?;
            body["customservice"] = json!({"kf_account": kf});
        }
        self.client
            .call(Call::post("/cgi-bin/message/custom/send", body).unsafe_to_repeat())
            .await?;
        Ok(())
    }

    /// Shows (`true`) or stops (`false`) "typing..." to a follower who
    /// acted in the last 30 seconds; it lasts 15 seconds.
    ///
    /// `POST /cgi-bin/message/custom/typing`.
    pub async fn typing(&self, touser: &str, typing: bool) -> Result<()> {
        let command = if typing { "Typing" } else { "CancelTyping" };
        self.client
            .call(Call::post(
                "/cgi-bin/message/custom/typing",
                json!({"touser": touser, "command": command}),
            ))
            .await?;
        Ok(())
    }

    /// The account's kf accounts.
    ///
    /// `GET /cgi-bin/customservice/getkflist`.
    pub async fn kf_accounts(&self) -> Result<Vec<KfAccount>> {
        let path = "/cgi-bin/customservice/getkflist";
        let answer = self.client.call(Call::get(path)).await?;
        decode_list(path, answer.get("kf_list"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_msgtype_makes_its_object() {
        let menu = CustomMessage::Msgmenu {
            head_content: "您对本次服务是否满意？".into(),
            list: vec![MenuChoice {
                id: "101".into(),
                content: "满意".into(),
            }],
            tail_content: "欢迎再次光临".into(),
        };
        assert_eq!(menu.object().expect("menu")["list"][0]["id"], "101");
        let news = CustomMessage::News {
            article: NewsLink {
                title: "t".into(),
                description: "d".into(),
                url: "https://example.com".into(),
                picurl: String::new(),
            },
        };
        assert_eq!(
            news.object().expect("news")["articles"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert!(
            CustomMessage::Text {
                content: " ".into()
            }
            .object()
            .is_err()
        );
        assert!(check_kf_account("help@gh_account").is_ok());
        assert!(check_kf_account("no-at-sign").is_err());
        assert!(check_kf_account("far_too_long_prefix@x").is_err());
    }
}
