//! What a mass message says ([`Message`]) and who it goes to ([`Audience`]),
//! and the exact JSON each produces for `sendall`, `send` and `preview`
//! (wechat-api.md §9–§11), checked before anything is sent.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Longest clientmsgid WeChat accepts, in bytes (the stricter, 32-byte
/// reading of §9.3; older docs say 64).
pub const MAX_CLIENTMSGID_BYTES: usize = 32;
/// Openids per `mass/send`.
pub const OPENIDS_PER_SEND: std::ops::RangeInclusive<usize> = 2..=10_000;
/// Longest text message we send, in bytes.
pub const MAX_TEXT_BYTES: usize = 2048;

/// The content of a mass message. Its serde form is wxmass's own (a
/// prepared message kept in the journal so that every worker sends the
/// same), not WeChat's body: that is [`Message::validate`]d and built by
/// the mass handler.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Message {
    /// Plain text.
    Text(String),
    /// One or more permanent images (`images.media_ids`).
    Images {
        /// Permanent image material ids.
        media_ids: Vec<String>,
        /// Recommendation text.
        recommend: Option<String>,
        /// Open comments.
        need_open_comment: bool,
        /// Only followers may comment.
        only_fans_can_comment: bool,
    },
    /// A permanent voice material.
    Voice(String),
    /// Articles from `uploadnews` or `draft/add`.
    MpNews {
        /// The news media id.
        media_id: String,
        /// Send even if WeChat judges it a reprint whose original allows it.
        send_ignore_reprint: bool,
    },
    /// A video from `media/uploadvideo`; title and description go only to `mass/send`.
    MpVideo {
        /// The mpvideo media id.
        media_id: String,
        /// Title (openid sends only).
        title: Option<String>,
        /// Description (openid sends only).
        description: Option<String>,
    },
    /// A card.
    WxCard(String),
}

impl Message {
    /// A text message.
    pub fn text(content: impl Into<String>) -> Self {
        Message::Text(content.into())
    }

    /// One permanent image.
    pub fn image(media_id: impl Into<String>) -> Self {
        Message::Images {
            media_ids: vec![media_id.into()],
            recommend: None,
            need_open_comment: false,
            only_fans_can_comment: false,
        }
    }

    /// An article message.
    pub fn mpnews(media_id: impl Into<String>) -> Self {
        Message::MpNews {
            media_id: media_id.into(),
            send_ignore_reprint: false,
        }
    }

    /// The `msgtype`.
    pub fn msgtype(&self) -> &'static str {
        match self {
            Message::Text(_) => "text",
            Message::Images { .. } => "image",
            Message::Voice(_) => "voice",
            Message::MpNews { .. } => "mpnews",
            Message::MpVideo { .. } => "mpvideo",
            Message::WxCard(_) => "wxcard",
        }
    }

    /// Checks what WeChat would refuse.
    pub fn validate(&self) -> Result<()> {
        let non_empty = |what: &str, id: &str| {
            if id.trim().is_empty() {
                Err(Error::Invalid(format!("{what} is empty")))
            } else {
                Ok(())
            }
        };
        match self {
            Message::Text(text) => {
                if text.trim().is_empty() {
                    return Err(Error::Invalid("text message is empty".into()));
                }
                if text.len() > MAX_TEXT_BYTES {
                    return Err(Error::Invalid(format!(
                        "text message is {} bytes; the limit is {MAX_TEXT_BYTES}",
                        text.len()
                    )));
                }
                Ok(())
            }
            Message::Images { media_ids, .. } => {
                if media_ids.is_empty() {
                    return Err(Error::Invalid(
                        "an image message needs at least one media_id".into(),
                    ));
                }
                media_ids
                    .iter()
                    .try_for_each(|id| non_empty("image media_id", id))
            }
            Message::Voice(id) => non_empty("voice media_id", id),
            Message::MpNews { media_id, .. } => non_empty("mpnews media_id", media_id),
            Message::MpVideo { media_id, .. } => non_empty("mpvideo media_id", media_id),
            Message::WxCard(card) => non_empty("card_id", card),
        }
    }

    /// Adds the content fields to a request body. `for_openids` adds the
    /// mpvideo title and description, which only `mass/send` takes;
    /// `preview` takes a single `image`.
    fn write(&self, body: &mut Map<String, Value>, target: Target) {
        body.insert("msgtype".into(), json!(self.msgtype()));
        match self {
            Message::Text(content) => {
                body.insert("text".into(), json!({"content": content}));
            }
            Message::Images {
                media_ids,
                recommend,
                need_open_comment,
                only_fans_can_comment,
            } => {
                if target == Target::Preview {
                    body.insert("image".into(), json!({"media_id": media_ids[0]}));
                } else {
                    let mut images = json!({
                        "media_ids": media_ids,
                        "need_open_comment": u8::from(*need_open_comment),
                        "only_fans_can_comment": u8::from(*only_fans_can_comment),
                    });
                    if let Some(r) = recommend {
                        images["recommend"] = json!(r);
                    }
                    body.insert("images".into(), images);
                }
            }
            Message::Voice(id) => {
                body.insert("voice".into(), json!({"media_id": id}));
            }
            Message::MpNews {
                media_id,
                send_ignore_reprint,
            } => {
                body.insert("mpnews".into(), json!({"media_id": media_id}));
                if target != Target::Preview {
                    body.insert(
                        "send_ignore_reprint".into(),
                        json!(u8::from(*send_ignore_reprint)),
                    );
                }
            }
            Message::MpVideo {
                media_id,
                title,
                description,
            } => {
                let mut video = json!({"media_id": media_id});
                if target == Target::OpenIds {
                    if let Some(t) = title {
                        video["title"] = json!(t);
                    }
                    if let Some(d) = description {
                        video["description"] = json!(d);
                    }
                }
                body.insert("mpvideo".into(), video);
            }
            Message::WxCard(card) => {
                body.insert("wxcard".into(), json!({"card_id": card}));
            }
        }
    }

    /// A stable digest of the content, for deriving clientmsgids.
    pub fn digest(&self) -> String {
        let mut body = Map::new();
        self.write(&mut body, Target::OpenIds);
        hex16(&Sha256::digest(Value::Object(body).to_string().as_bytes()))
    }
}

fn hex16(bytes: &[u8]) -> String {
    bytes.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Who a mass message goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every follower (`sendall` with `is_to_all`).
    All,
    /// Followers with a tag (`sendall` with `tag_id`).
    Tag(u32),
    /// 2..=10,000 openids (`mass/send`; service accounts only).
    OpenIds(Vec<String>),
}

impl Audience {
    /// Checks the size limits.
    pub fn validate(&self) -> Result<()> {
        if let Audience::OpenIds(list) = self {
            if !OPENIDS_PER_SEND.contains(&list.len()) {
                return Err(Error::Invalid(format!(
                    "mass/send takes 2 to 10,000 openids; this list has {}",
                    list.len()
                )));
            }
            if let Some(bad) = list.iter().find(|o| o.trim().is_empty()) {
                return Err(Error::Invalid(format!("empty openid in the list: {bad:?}")));
            }
        }
        Ok(())
    }

    fn digest(&self) -> String {
        match self {
            Audience::All => "all".into(),
            Audience::Tag(id) => format!("tag{id}"),
            Audience::OpenIds(list) => {
                let mut h = Sha256::new();
                for o in list {
                    h.update(o.as_bytes());
                    h.update([0]);
                }
                hex16(&h.finalize())
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Filter,
    OpenIds,
    Preview,
}

/// A clientmsgid derived from content and audience: the same send twice
/// gets the same id, so WeChat refuses the second (45065).
pub fn derive_clientmsgid(message: &Message, audience: &Audience) -> String {
    let mut h = Sha256::new();
    h.update(message.digest().as_bytes());
    h.update(audience.digest().as_bytes());
    format!("wxm{}", &hex16(&h.finalize()))
}

/// Checks a caller's clientmsgid.
pub fn validate_clientmsgid(id: &str) -> Result<()> {
    if id.is_empty() || id.len() > MAX_CLIENTMSGID_BYTES {
        return Err(Error::Invalid(format!(
            "clientmsgid must be 1 to {MAX_CLIENTMSGID_BYTES} bytes; {id:?} is {}",
            id.len()
        )));
    }
    Ok(())
}

/// The body of `sendall` or `send`.
pub fn send_body(message: &Message, audience: &Audience, clientmsgid: Option<&str>) -> Value {
    let mut body = Map::new();
    let target = match audience {
        Audience::All => {
            body.insert("filter".into(), json!({"is_to_all": true}));
            Target::Filter
        }
        Audience::Tag(id) => {
            body.insert("filter".into(), json!({"is_to_all": false, "tag_id": id}));
            Target::Filter
        }
        Audience::OpenIds(list) => {
            body.insert("touser".into(), json!(list));
            Target::OpenIds
        }
    };
    message.write(&mut body, target);
    if let Some(id) = clientmsgid {
        body.insert("clientmsgid".into(), json!(id));
    }
    Value::Object(body)
}

/// [`send_body`] serialised, the request's bytes. A list's openids are
/// written straight from the list: ten thousand of them are not first
/// copied into a JSON value (WeChat reads the keys in any order).
pub fn send_body_json(message: &Message, audience: &Audience, clientmsgid: Option<&str>) -> String {
    let Audience::OpenIds(list) = audience else {
        return send_body(message, audience, clientmsgid).to_string();
    };
    let mut rest = Map::new();
    message.write(&mut rest, Target::OpenIds);
    if let Some(id) = clientmsgid {
        rest.insert("clientmsgid".into(), json!(id));
    }
    let rest = Value::Object(rest).to_string();
    let mut out = String::with_capacity(list.len() * 31 + rest.len() + 12);
    out.push_str("{\"touser\":");
    // Serialising strings into a String cannot fail.
    out.push_str(&serde_json::to_string(list).unwrap_or_default());
    // `rest` is an object with at least msgtype: `{...}`.
    out.push(',');
    out.push_str(rest.get(1..).unwrap_or("}"));
    out
}

/// Who a preview goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PreviewTarget {
    /// A follower's openid (`touser`).
    OpenId(String),
    /// A WeChat ID (`towxname`; 100 a day).
    WeChatId(String),
}

/// The body of `preview`.
pub fn preview_body(message: &Message, to: &PreviewTarget) -> Value {
    let mut body = Map::new();
    match to {
        PreviewTarget::OpenId(o) => body.insert("touser".into(), json!(o)),
        PreviewTarget::WeChatId(w) => body.insert("towxname".into(), json!(w)),
    };
    message.write(&mut body, Target::Preview);
    Value::Object(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_reference() {
        assert_eq!(
            send_body(
                &Message::mpnews("123dsdajkasd231jhksad"),
                &Audience::Tag(2),
                None
            ),
            json!({"filter":{"is_to_all":false,"tag_id":2},"mpnews":{"media_id":"123dsdajkasd231jhksad"},"msgtype":"mpnews","send_ignore_reprint":0})
        );
        assert_eq!(
            send_body(
                &Message::text("CONTENT"),
                &Audience::All,
                Some("send_tag_3")
            ),
            json!({"filter":{"is_to_all":true},"text":{"content":"CONTENT"},"msgtype":"text","clientmsgid":"send_tag_3"})
        );
        let images = Message::Images {
            media_ids: vec!["aaa".into(), "bbb".into()],
            recommend: Some("xxx".into()),
            need_open_comment: true,
            only_fans_can_comment: false,
        };
        assert_eq!(
            send_body(&images, &Audience::Tag(2), None),
            json!({"filter":{"is_to_all":false,"tag_id":2},"images":{"media_ids":["aaa","bbb"],"recommend":"xxx","need_open_comment":1,"only_fans_can_comment":0},"msgtype":"image"})
        );
        let video = Message::MpVideo {
            media_id: "m".into(),
            title: Some("T".into()),
            description: Some("D".into()),
        };
        assert_eq!(
            send_body(
                &video,
                &Audience::OpenIds(vec!["o1".into(), "o2".into()]),
                None
            ),
            json!({"touser":["o1","o2"],"mpvideo":{"media_id":"m","title":"T","description":"D"},"msgtype":"mpvideo"})
        );
        // The bytes sent say the same, however they are written.
        for (message, audience) in [
            (&video, Audience::OpenIds(vec!["o1".into(), "o\"2".into()])),
            (&images, Audience::OpenIds(vec!["o1".into(), "o2".into()])),
            (&video, Audience::Tag(2)),
            (&images, Audience::All),
        ] {
            let fast: Value =
                serde_json::from_str(&send_body_json(message, &audience, Some("c-1")))
                    .expect("JSON");
            assert_eq!(fast, send_body(message, &audience, Some("c-1")));
        }
        assert_eq!(
            send_body(&video, &Audience::Tag(2), None)["mpvideo"],
            json!({"media_id": "m"}),
            "title and description only on mass/send"
        );
        assert_eq!(
            preview_body(&images, &PreviewTarget::OpenId("o1".into())),
            json!({"touser":"o1","image":{"media_id":"aaa"},"msgtype":"image"})
        );
        assert!(
            !send_body(&Message::text("x"), &Audience::Tag(1), None)
                .to_string()
                .contains("group_id")
        );
    }

    #[test]
    fn validation_before_sending() {
        assert!(Message::text(" ").validate().is_err());
        assert!(
            Message::text("x".repeat(MAX_TEXT_BYTES + 1))
                .validate()
                .is_err()
        );
        assert!(Audience::OpenIds(vec!["o1".into()]).validate().is_err());
        assert!(
            Audience::OpenIds(vec!["o".into(); 10_001])
                .validate()
                .is_err()
        );
        assert!(
            Audience::OpenIds(vec!["o1".into(), "o2".into()])
                .validate()
                .is_ok()
        );
        assert!(validate_clientmsgid(&"x".repeat(33)).is_err());
        assert!(validate_clientmsgid(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn derived_clientmsgids_are_short_and_stable() {
        let a = derive_clientmsgid(&Message::text("hi"), &Audience::Tag(1));
        assert_eq!(
            a,
            derive_clientmsgid(&Message::text("hi"), &Audience::Tag(1))
        );
        assert_ne!(
            a,
            derive_clientmsgid(&Message::text("hi"), &Audience::Tag(2))
        );
        assert!(a.len() <= MAX_CLIENTMSGID_BYTES);
    }
}
