//! Typed pushes: MASSSENDJOBFINISH in full (wechat-api.md §15),
//! PUBLISHJOBFINISH (free publishing, wechat-analytics.md §2),
//! TEMPLATESENDJOBFINISH (one template message, wechat-notifications.md
//! §2.3), the subscription events (§2.8), a third-party platform's ticket
//! and authorization events (§1.2, §1.7), and every
//! other message or event kept whole as a [`GenericPush`].
//!
//! Parsing is lenient where WeChat is inconsistent (absent counts are 0, empty
//! result lists are fine, unknown elements are kept in `extra`) and strict
//! where a value is there but wrong (a `MsgID` that is not a number), because a
//! wrong value is either a forgery or a change we must hear about.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::xml::{Document, Element, Node, XmlError};
pub use wxmass_vocab::PublishStatus;

/// Why a push could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The XML itself was refused.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// A known element holds a value of the wrong kind.
    #[error("<{element}> holds {value:?}, expected {expected}")]
    Field {
        /// The element's name.
        element: &'static str,
        /// Its text, cut to 64 characters.
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// A required element is absent.
    #[error("<{0}> is missing")]
    Missing(&'static str),
}

/// A push from WeChat: a message or an event. [`Push::parse`] (in
/// [`crate::layout`], beside the fast path it tries first) reads one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Push {
    /// The report of a finished mass send.
    MassSendJobFinish(MassSendJobFinish),
    /// The report of a finished free publish.
    PublishJobFinish(PublishJobFinish),
    /// The report of one template message.
    TemplateSendJobFinish(TemplateSendJobFinish),
    /// A follower's subscription choices, or a notice's delivery.
    Subscription(SubscriptionEvent),
    /// A third-party platform's push to its authorization event URL: the
    /// ticket, or an account's authorization changing.
    Platform(PlatformEvent),
    /// Any other message or event, with all its elements.
    Other(GenericPush),
}

impl Push {
    /// Reads a push from a parsed document.
    pub fn from_document(doc: &Document<'_>) -> Result<Push, EventError> {
        let root = doc.root();
        // A platform's pushes name an InfoType, not a MsgType.
        if let Some(info_type) = root.child_text("InfoType") {
            return PlatformEvent::from_node(root, info_type.trim()).map(Push::Platform);
        }
        let is_event = root.child_text("MsgType").map(str::trim) == Some("event");
        let event = root.child_text("Event").map(str::trim).unwrap_or("");
        if is_event && event.eq_ignore_ascii_case("MASSSENDJOBFINISH") {
            MassSendJobFinish::from_node(root).map(Push::MassSendJobFinish)
        } else if is_event && event.eq_ignore_ascii_case("PUBLISHJOBFINISH") {
            // One doc example writes FREEPUBLISHJOBFINISH; the reference
            // takes PUBLISHJOBFINISH and keeps any other as it came.
            PublishJobFinish::from_node(root).map(Push::PublishJobFinish)
        } else if is_event && event.eq_ignore_ascii_case("TEMPLATESENDJOBFINISH") {
            TemplateSendJobFinish::from_node(root).map(Push::TemplateSendJobFinish)
        } else if let Some(kind) = is_event.then(|| SubscriptionKind::of(event)).flatten() {
            SubscriptionEvent::from_node(root, kind).map(Push::Subscription)
        } else {
            Ok(Push::Other(GenericPush {
                root: root.to_element().into_owned(),
            }))
        }
    }

    /// The key WeChat's retries of this push share (§16.5): `MsgID`/`MsgId`
    /// when it has one, else `FromUserName` + `CreateTime`. `None` when the
    /// push carries neither, so it cannot be told from a retry.
    pub fn dedup_key(&self) -> Option<String> {
        match self {
            Push::MassSendJobFinish(job) => Some(format!("job:{}", job.msg_id)),
            Push::PublishJobFinish(job) => Some(format!("publish:{}", job.publish_id)),
            // One report per message; a MsgID of 0 (sent with a
            // client_msg_id, per a field report) is told apart by its
            // recipient and time.
            Push::TemplateSendJobFinish(job) if job.msg_id != 0 => {
                Some(format!("template:{}", job.msg_id))
            }
            Push::TemplateSendJobFinish(job) => {
                Some(format!("template:0:{}:{}", job.recipient, job.create_time))
            }
            Push::Subscription(e) => Some(format!(
                "subscription:{}:{}:{}",
                e.kind.as_str(),
                e.openid,
                e.create_time
            )),
            Push::Platform(e) => Some(format!(
                "platform:{}:{}:{}",
                e.info_type(),
                e.authorizer_appid().unwrap_or(""),
                e.create_time
            )),
            Push::Other(push) => {
                let root = &push.root;
                if let Some(id) = root.child_text("MsgId").or(root.child_text("MsgID")) {
                    return Some(format!("msg:{}", id.trim()));
                }
                let from = root.child_text("FromUserName")?;
                let time = root.child_text("CreateTime")?;
                Some(format!("event:{}:{}", from.trim(), time.trim()))
            }
        }
    }

    /// The account's original id (`gh_...`) the push is addressed to.
    pub fn to_user_name(&self) -> &str {
        match self {
            Push::MassSendJobFinish(job) => &job.to_user_name,
            Push::PublishJobFinish(job) => &job.to_user_name,
            Push::TemplateSendJobFinish(job) => &job.to_user_name,
            Push::Subscription(e) => &e.to_user_name,
            // The platform's own appid: its pushes name no account.
            Push::Platform(e) => &e.component_appid,
            Push::Other(push) => push.field("ToUserName").unwrap_or(""),
        }
    }
}

/// A push kept as it came: use [`field`](Self::field) for any element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenericPush {
    /// The `<xml>` root with every element.
    pub root: Element<'static>,
}

impl GenericPush {
    /// The text of a top-level element.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.root.child_text(name)
    }

    /// `MsgType`: `text`, `image`, `event`, ...
    pub fn msg_type(&self) -> Option<&str> {
        self.field("MsgType")
    }

    /// `Event` for event pushes (`subscribe`, `CLICK`, ...).
    pub fn event(&self) -> Option<&str> {
        self.field("Event")
    }

    /// The follower's action this push reports that opens a
    /// customer-service window (wechat-notifications.md §3.2), if it is
    /// one: who (`FromUserName`) and what.
    pub fn window_opened(&self) -> Option<(&str, WindowTrigger)> {
        let follower = self.field("FromUserName")?.trim();
        let trigger = match self.msg_type()?.trim() {
            "event" => match self.event()?.trim() {
                e if e.eq_ignore_ascii_case("subscribe") => WindowTrigger::Follow,
                e if e.eq_ignore_ascii_case("SCAN") => WindowTrigger::QrScan,
                // Only these menu buttons count (a VIEW link does not).
                e if e.eq_ignore_ascii_case("CLICK")
                    || e.eq_ignore_ascii_case("scancode_push")
                    || e.eq_ignore_ascii_case("scancode_waitmsg") =>
                {
                    WindowTrigger::MenuClick
                }
                _ => return None,
            },
            "text" | "image" | "voice" | "video" | "shortvideo" | "location" | "link" | "file" => {
                WindowTrigger::Message
            }
            _ => return None,
        };
        (!follower.is_empty()).then_some((follower, trigger))
    }
}

/// What a follower did that opens a customer-service window, and so how
/// long it stays open and how many messages it takes (§3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowTrigger {
    /// Sent the account a message: 48 hours.
    Message,
    /// Clicked a menu button (click or scan-code kinds): one minute.
    MenuClick,
    /// Followed the account: one minute.
    Follow,
    /// Scanned a parameter QR code: one minute.
    QrScan,
}

/// The MASSSENDJOBFINISH event: how a mass send went.
///
/// WeChat sends it when the job is about to finish, so counts may differ a
/// little from the final truth (§15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MassSendJobFinish {
    /// The account's original id (`gh_...`).
    pub to_user_name: String,
    /// The sender: `mphelper` per the docs, an openid-like id in practice.
    pub from_user_name: String,
    /// Unix seconds.
    pub create_time: i64,
    /// The job's `msg_id` from `sendall` / `send`.
    pub msg_id: i64,
    /// The outcome.
    pub status: MassStatus,
    /// Followers under the tag, or openids in the list.
    pub total_count: u32,
    /// Left after filtering (refusals, the 4-a-month cap, ...).
    pub filter_count: u32,
    /// Delivered.
    pub sent_count: u32,
    /// Failed.
    pub error_count: u32,
    /// The originality check, for mpnews sends.
    pub copyright_check_result: Option<CopyrightCheckResult>,
    /// The published article URLs, for mpnews sends.
    pub article_url_result: Option<ArticleUrlResult>,
    /// Elements this version does not know, kept as they came.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<Element<'static>>,
}

impl MassSendJobFinish {
    /// One pass over the children: this is on the hot path of every push.
    fn from_node(root: Node<'_, '_>) -> Result<Self, EventError> {
        let mut job = MassSendJobFinish {
            to_user_name: String::new(),
            from_user_name: String::new(),
            create_time: 0,
            msg_id: 0,
            status: MassStatus::Other(String::new()),
            total_count: 0,
            filter_count: 0,
            sent_count: 0,
            error_count: 0,
            copyright_check_result: None,
            article_url_result: None,
            extra: Vec::new(),
        };
        let mut msg_id = None;
        for child in root.children() {
            let text = child.text();
            match child.name() {
                "ToUserName" => job.to_user_name = text.to_owned(),
                "FromUserName" => job.from_user_name = text.to_owned(),
                "CreateTime" => job.create_time = parse_number("CreateTime", text)?.unwrap_or(0),
                "MsgID" => msg_id = parse_msg_id(text)?,
                "Status" => job.status = MassStatus::parse(text),
                "TotalCount" => job.total_count = parse_count("TotalCount", text)?.unwrap_or(0),
                "FilterCount" => job.filter_count = parse_count("FilterCount", text)?.unwrap_or(0),
                "SentCount" => job.sent_count = parse_count("SentCount", text)?.unwrap_or(0),
                "ErrorCount" => job.error_count = parse_count("ErrorCount", text)?.unwrap_or(0),
                "CopyrightCheckResult" => {
                    job.copyright_check_result = Some(CopyrightCheckResult::from_node(child)?)
                }
                "ArticleUrlResult" => {
                    job.article_url_result = Some(ArticleUrlResult::from_node(child)?)
                }
                "MsgType" | "Event" => {}
                _ => job.extra.push(child.to_element().into_owned()),
            }
        }
        job.msg_id = msg_id.ok_or(EventError::Missing("MsgID"))?;
        job.check_text()?;
        Ok(job)
    }

    /// Refuses control characters (newlines, escapes, NUL) in the values
    /// that are shown or stored as text: WeChat never writes them there, and
    /// they are how a forged value would split a log line or hide in a
    /// terminal. Both readers call it, so they agree.
    pub(crate) fn check_text(&self) -> Result<(), EventError> {
        let status = self.status.to_string();
        let urls = self.article_url_result.iter().flat_map(|r| {
            r.items
                .iter()
                .map(|i| ("ArticleUrl", i.article_url.as_str()))
        });
        let originals = self.copyright_check_result.iter().flat_map(|r| {
            r.items
                .iter()
                .map(|i| ("OriginalArticleUrl", i.original_article_url.as_str()))
        });
        [
            ("ToUserName", self.to_user_name.as_str()),
            ("FromUserName", self.from_user_name.as_str()),
            ("Status", status.as_str()),
        ]
        .into_iter()
        .chain(urls)
        .chain(originals)
        .try_for_each(|(element, text)| {
            if text.chars().any(char::is_control) {
                Err(EventError::Field {
                    element,
                    value: text.chars().take(64).collect(),
                    expected: "text without control characters",
                })
            } else {
                Ok(())
            }
        })
    }
}

/// The TEMPLATESENDJOBFINISH event: how one template message went
/// (wechat-notifications.md §2.3). One comes for every message sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TemplateSendJobFinish {
    /// The account's original id (`gh_...`).
    pub to_user_name: String,
    /// The follower the message was for (`FromUserName`).
    pub recipient: String,
    /// Unix seconds.
    pub create_time: i64,
    /// The `msgid` the send returned (0 when WeChat gave none, as a field
    /// report says it does for sends with a `client_msg_id`).
    pub msg_id: i64,
    /// The outcome.
    pub status: TemplateStatus,
}

/// How a template message went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateStatus {
    /// `success`: delivered.
    Success,
    /// `failed:user block`: the follower refuses the account's messages.
    UserBlock,
    /// `failed: system failed` (with its space).
    SystemFailed,
    /// `failed:freq limit`: the follower had too many (undocumented cap).
    FreqLimit,
    /// Any other `failed:...`, as it came.
    Failed(String),
    /// Anything else, as it came.
    Other(String),
}

impl TemplateStatus {
    /// From the `Status` text.
    pub fn parse(s: &str) -> TemplateStatus {
        let s = s.trim();
        if s == "success" {
            return TemplateStatus::Success;
        }
        let Some(why) = s.strip_prefix("failed:") else {
            return TemplateStatus::Other(s.to_owned());
        };
        match why.trim() {
            "user block" => TemplateStatus::UserBlock,
            "system failed" => TemplateStatus::SystemFailed,
            "freq limit" => TemplateStatus::FreqLimit,
            _ => TemplateStatus::Failed(s.to_owned()),
        }
    }

    /// The `Status` text WeChat writes for it.
    pub fn as_wechat(&self) -> &str {
        match self {
            TemplateStatus::Success => "success",
            TemplateStatus::UserBlock => "failed:user block",
            TemplateStatus::SystemFailed => "failed: system failed",
            TemplateStatus::FreqLimit => "failed:freq limit",
            TemplateStatus::Failed(s) | TemplateStatus::Other(s) => s,
        }
    }

    /// Whether the follower received it.
    pub fn is_success(&self) -> bool {
        *self == TemplateStatus::Success
    }
}

impl TemplateSendJobFinish {
    fn from_node(root: Node<'_, '_>) -> Result<Self, EventError> {
        let msg_id = root
            .child_text("MsgID")
            .or_else(|| root.child_text("MsgId"))
            .ok_or(EventError::Missing("MsgID"))?;
        Ok(TemplateSendJobFinish {
            to_user_name: root
                .child_text("ToUserName")
                .unwrap_or("")
                .trim()
                .to_owned(),
            recipient: root
                .child_text("FromUserName")
                .unwrap_or("")
                .trim()
                .to_owned(),
            create_time: parse_number("CreateTime", root.child_text("CreateTime").unwrap_or(""))?
                .unwrap_or(0),
            msg_id: parse_number("MsgID", msg_id)?.unwrap_or(0),
            status: TemplateStatus::parse(
                root.child_text("Status")
                    .ok_or(EventError::Missing("Status"))?,
            ),
        })
    }
}

/// A third-party platform's push (wechat-notifications.md §1.2, §1.7):
/// sealed with the platform's key and component appid, its outer body
/// naming `AppId` where an account's push names `ToUserName`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformEvent {
    /// The platform's component appid.
    pub component_appid: String,
    /// Unix seconds.
    pub create_time: i64,
    /// What happened.
    pub info: PlatformInfo,
}

/// What a platform's push says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PlatformInfo {
    /// `component_verify_ticket`: the ticket, pushed every 10 minutes and
    /// valid 12 hours; keep the latest.
    Ticket {
        /// `ticket@@@...`.
        ticket: String,
    },
    /// `authorized`: an account's admin authorised the platform.
    Authorized(AuthorizationChange),
    /// `updateauthorized`: the admin changed the permission sets (a new
    /// code, to exchange again for the new ones).
    UpdateAuthorized(AuthorizationChange),
    /// `unauthorized`: the account withdrew; its refresh token is dead.
    Unauthorized {
        /// The account.
        authorizer_appid: String,
    },
    /// Any other InfoType, kept as its name (mini-program flows and the like).
    Other {
        /// The InfoType.
        info_type: String,
    },
}

/// An account's authorization, granted or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationChange {
    /// The account.
    pub authorizer_appid: String,
    /// `queryauthcode@@@...`: exchange it once (`api_query_auth`).
    pub authorization_code: String,
    /// When the code expires. The doc says seconds; real payloads carry a
    /// Unix timestamp: kept as it came.
    pub authorization_code_expired_time: Option<i64>,
    /// The pre-auth code the authorization used.
    pub pre_auth_code: Option<String>,
}

impl PlatformEvent {
    fn from_node(root: Node<'_, '_>, info_type: &str) -> Result<Self, EventError> {
        let text = |name: &'static str| root.child_text(name).map(str::trim).unwrap_or("");
        let required = |name: &'static str| -> Result<String, EventError> {
            let value = text(name);
            if value.is_empty() {
                Err(EventError::Missing(name))
            } else {
                Ok(value.to_owned())
            }
        };
        let change = || -> Result<AuthorizationChange, EventError> {
            Ok(AuthorizationChange {
                authorizer_appid: required("AuthorizerAppid")?,
                authorization_code: required("AuthorizationCode")?,
                authorization_code_expired_time: parse_number(
                    "AuthorizationCodeExpiredTime",
                    text("AuthorizationCodeExpiredTime"),
                )?,
                pre_auth_code: Some(text("PreAuthCode").to_owned()).filter(|s| !s.is_empty()),
            })
        };
        let info = match info_type {
            "component_verify_ticket" => PlatformInfo::Ticket {
                ticket: required("ComponentVerifyTicket")?,
            },
            "authorized" => PlatformInfo::Authorized(change()?),
            "updateauthorized" => PlatformInfo::UpdateAuthorized(change()?),
            "unauthorized" => PlatformInfo::Unauthorized {
                authorizer_appid: required("AuthorizerAppid")?,
            },
            other => PlatformInfo::Other {
                info_type: other.chars().take(64).collect(),
            },
        };
        Ok(PlatformEvent {
            component_appid: required("AppId")?,
            create_time: parse_number("CreateTime", text("CreateTime"))?.unwrap_or(0),
            info,
        })
    }

    /// WeChat's InfoType.
    pub fn info_type(&self) -> &str {
        match &self.info {
            PlatformInfo::Ticket { .. } => "component_verify_ticket",
            PlatformInfo::Authorized(_) => "authorized",
            PlatformInfo::UpdateAuthorized(_) => "updateauthorized",
            PlatformInfo::Unauthorized { .. } => "unauthorized",
            PlatformInfo::Other { info_type } => info_type,
        }
    }

    /// The account it is about, if one.
    pub fn authorizer_appid(&self) -> Option<&str> {
        match &self.info {
            PlatformInfo::Authorized(c) | PlatformInfo::UpdateAuthorized(c) => {
                Some(&c.authorizer_appid)
            }
            PlatformInfo::Unauthorized { authorizer_appid } => Some(authorizer_appid),
            _ => None,
        }
    }
}

/// Which subscription event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionKind {
    /// `subscribe_msg_popup_event`: the follower's choices in a pop-up.
    Popup,
    /// `subscribe_msg_change_event`: a withdrawal from their settings.
    Change,
    /// `subscribe_msg_sent_event`: a notice's delivery.
    Sent,
}

impl SubscriptionKind {
    fn of(event: &str) -> Option<SubscriptionKind> {
        match event.to_ascii_lowercase().as_str() {
            "subscribe_msg_popup_event" => Some(SubscriptionKind::Popup),
            "subscribe_msg_change_event" => Some(SubscriptionKind::Change),
            "subscribe_msg_sent_event" => Some(SubscriptionKind::Sent),
            _ => None,
        }
    }

    /// WeChat's event name.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionKind::Popup => "subscribe_msg_popup_event",
            SubscriptionKind::Change => "subscribe_msg_change_event",
            SubscriptionKind::Sent => "subscribe_msg_sent_event",
        }
    }
}

/// One `<List>` item of a subscription event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionItem {
    /// The notice template.
    pub template_id: String,
    /// `accept` or `reject` (pop-up, change); `success` or another
    /// `ErrorStatus` (sent).
    pub status: String,
    /// Where the pop-up was: 1 a web page, 2 an article (pop-up only).
    pub popup_scene: Option<u8>,
    /// The delivered notice's id (sent only).
    pub msg_id: Option<i64>,
    /// 0 when delivered (sent only).
    pub error_code: Option<i64>,
}

/// A subscription event (wechat-notifications.md §2.8): one action can
/// carry several items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionEvent {
    /// The account's original id (`gh_...`).
    pub to_user_name: String,
    /// The follower.
    pub openid: String,
    /// Unix seconds.
    pub create_time: i64,
    /// Which event.
    pub kind: SubscriptionKind,
    /// Each template's choice or delivery.
    pub items: Vec<SubscriptionItem>,
}

impl SubscriptionEvent {
    fn from_node(root: Node<'_, '_>, kind: SubscriptionKind) -> Result<Self, EventError> {
        let mut items = Vec::new();
        // The container's name varies (one doc example reuses the pop-up's
        // for a change): any `SubscribeMsg...Event` element holds the lists.
        for container in root
            .children()
            .filter(|c| c.name().starts_with("SubscribeMsg") && c.name().ends_with("Event"))
        {
            for list in container.children().filter(|c| c.name() == "List") {
                let text = |name: &str| list.child_text(name).map(str::trim).unwrap_or("");
                let status = match text("SubscribeStatusString") {
                    "" => text("ErrorStatus"),
                    s => s,
                };
                items.push(SubscriptionItem {
                    template_id: text("TemplateId").to_owned(),
                    status: status.to_owned(),
                    popup_scene: parse_number("PopupScene", text("PopupScene"))?,
                    msg_id: parse_number("MsgID", text("MsgID"))?,
                    error_code: parse_number("ErrorCode", text("ErrorCode"))?,
                });
            }
        }
        Ok(SubscriptionEvent {
            to_user_name: root
                .child_text("ToUserName")
                .unwrap_or("")
                .trim()
                .to_owned(),
            openid: root
                .child_text("FromUserName")
                .unwrap_or("")
                .trim()
                .to_owned(),
            create_time: parse_number("CreateTime", root.child_text("CreateTime").unwrap_or(""))?
                .unwrap_or(0),
            kind,
            items,
        })
    }
}

/// The PUBLISHJOBFINISH event: how a free publish (`freepublish/submit`)
/// went. Its fields are inside `<PublishEventInfo>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishJobFinish {
    /// The account's original id (`gh_...`).
    pub to_user_name: String,
    /// `mphelper`.
    pub from_user_name: String,
    /// Unix seconds.
    pub create_time: i64,
    /// The `publish_id` `freepublish/submit` returned.
    pub publish_id: i64,
    /// The outcome.
    pub status: PublishStatus,
    /// The published articles' id (for `freepublish/getarticle` and
    /// `delete`), on success.
    pub article_id: Option<String>,
    /// Each published article's address, 1-based `idx`.
    pub articles: Vec<PublishedArticleUrl>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// Elements of `<PublishEventInfo>` this version does not know.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<Element<'static>>,
}

/// One published article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedArticleUrl {
    /// 1-based, as free publishing counts.
    pub idx: u32,
    /// Its address.
    pub article_url: String,
}

impl PublishJobFinish {
    fn from_node(root: Node<'_, '_>) -> Result<Self, EventError> {
        let mut job = PublishJobFinish {
            to_user_name: root.child_text("ToUserName").unwrap_or("").to_owned(),
            from_user_name: root.child_text("FromUserName").unwrap_or("").to_owned(),
            create_time: parse_number("CreateTime", root.child_text("CreateTime").unwrap_or(""))?
                .unwrap_or(0),
            publish_id: 0,
            status: PublishStatus::Other(-1),
            article_id: None,
            articles: Vec::new(),
            fail_idx: Vec::new(),
            extra: Vec::new(),
        };
        let info = root
            .child("PublishEventInfo")
            .ok_or(EventError::Missing("PublishEventInfo"))?;
        let (mut publish_id, mut status) = (None, None);
        for child in info.children() {
            let text = child.text();
            match child.name() {
                "publish_id" => publish_id = parse_number::<i64>("publish_id", text)?,
                "publish_status" => status = parse_number::<i64>("publish_status", text)?,
                "article_id" if !text.trim().is_empty() => {
                    job.article_id = Some(text.trim().to_owned())
                }
                "article_id" => {}
                "article_detail" => {
                    for item in child.children().filter(|c| c.name() == "item") {
                        job.articles.push(PublishedArticleUrl {
                            idx: parse_count("idx", item.child_text("idx").unwrap_or(""))?
                                .unwrap_or(0),
                            article_url: item
                                .child_text("article_url")
                                .unwrap_or("")
                                .trim()
                                .to_owned(),
                        });
                    }
                }
                "fail_idx" => {
                    if let Some(i) = parse_count("fail_idx", text)? {
                        job.fail_idx.push(i);
                    }
                }
                _ => job.extra.push(child.to_element().into_owned()),
            }
        }
        job.publish_id = publish_id.ok_or(EventError::Missing("publish_id"))?;
        job.status = PublishStatus::from_code(status.ok_or(EventError::Missing("publish_status"))?);
        let texts = job
            .articles
            .iter()
            .map(|a| ("article_url", a.article_url.as_str()))
            .chain(job.article_id.iter().map(|a| ("article_id", a.as_str())))
            .chain([
                ("ToUserName", job.to_user_name.as_str()),
                ("FromUserName", job.from_user_name.as_str()),
            ]);
        for (element, text) in texts {
            if text.chars().any(char::is_control) {
                return Err(EventError::Field {
                    element,
                    value: text.chars().take(64).collect(),
                    expected: "text without control characters",
                });
            }
        }
        Ok(job)
    }
}

/// `Status` of a finished job: `send success`, `send fail` or `err(N)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum MassStatus {
    /// `send success` (a few per-user failures are still possible).
    SendSuccess,
    /// `send fail`.
    SendFail,
    /// `err(N)`, documented or not; see [`MassStatus::meaning`].
    Error(u32),
    /// Anything else, kept verbatim.
    Other(String),
}

impl MassStatus {
    /// Reads a `Status` value.
    pub fn parse(s: &str) -> MassStatus {
        let s = s.trim();
        match s {
            "send success" => MassStatus::SendSuccess,
            "send fail" => MassStatus::SendFail,
            _ => s
                .strip_prefix("err(")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(|n| n.parse().ok())
                .map(MassStatus::Error)
                .unwrap_or_else(|| MassStatus::Other(s.to_owned())),
        }
    }

    /// Whether the message went out.
    pub fn is_success(&self) -> bool {
        matches!(self, MassStatus::SendSuccess)
    }

    /// What the status means, per wechat-api.md §15.
    pub fn meaning(&self) -> &'static str {
        match self {
            MassStatus::SendSuccess => "sent",
            MassStatus::SendFail => "failed",
            MassStatus::Error(code) => match code {
                10001 => "suspected advertising",
                20001 => "suspected political content",
                20002 => "suspected pornography",
                20004 => "suspected social issue",
                20006 => "suspected illegal or criminal content",
                20008 => "suspected fraud",
                20013 => "suspected copyright infringement",
                21000 => "other content problem",
                22000 => "suspected mutual promotion",
                30001 => {
                    "originality check failed with a system error; the send stops if judged a reprint"
                }
                30002 => "originality check: not allowed to send",
                30003 => "judged a reprint, and the send was set to stop on reprints",
                40001 => "rejected by the account's admin (API mass-send protection)",
                40002 => "the account's admin did not confirm within 30 minutes",
                _ => "undocumented error code",
            },
            MassStatus::Other(_) => "unrecognised status",
        }
    }
}

impl fmt::Display for MassStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MassStatus::SendSuccess => f.write_str("send success"),
            MassStatus::SendFail => f.write_str("send fail"),
            MassStatus::Error(code) => write!(f, "err({code})"),
            MassStatus::Other(s) => f.write_str(s),
        }
    }
}

impl From<MassStatus> for String {
    fn from(status: MassStatus) -> String {
        status.to_string()
    }
}

impl From<String> for MassStatus {
    fn from(s: String) -> MassStatus {
        MassStatus::parse(&s)
    }
}

/// `CopyrightCheckResult`: the originality (reprint) check of an mpnews send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyrightCheckResult {
    /// `Count` as sent (the number of items).
    pub count: u64,
    /// One item per article that matched something.
    pub items: Vec<CopyrightCheckItem>,
    /// The overall verdict.
    pub check_state: CheckState,
}

impl CopyrightCheckResult {
    fn from_node(el: Node<'_, '_>) -> Result<Self, EventError> {
        Ok(CopyrightCheckResult {
            count: number(el, "Count")?.unwrap_or(0),
            items: list_items(el)
                .map(CopyrightCheckItem::from_node)
                .collect::<Result<_, _>>()?,
            check_state: CheckState::from_code(number(el, "CheckState")?.unwrap_or(0)),
        })
    }
}

/// One article of the originality check.
///
/// The meanings of `user_declare_state`, `audit_state` and
/// `original_article_type` come from a third-party transcription of the docs
/// (wechat-api.md §15, §22.8), so they are kept as numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyrightCheckItem {
    /// 1-based article index.
    pub article_idx: u32,
    /// 0 not declared original, 1 declared original, 2 declared reprint.
    pub user_declare_state: i64,
    /// 0 not checked, 1 checking, 11 passed, other: failed.
    pub audit_state: i64,
    /// The similar original's URL.
    pub original_article_url: String,
    /// 1 original, 2 historical non-original, 3 news, 4 blacklisted.
    pub original_article_type: i64,
    /// The original allows reprinting.
    pub can_reprint: bool,
    /// The content is replaced by the original's.
    pub need_replace_content: bool,
    /// The reprint source is shown.
    pub need_show_reprint_source: bool,
}

impl CopyrightCheckItem {
    fn from_node(el: Node<'_, '_>) -> Result<Self, EventError> {
        let mut item = CopyrightCheckItem {
            article_idx: 0,
            user_declare_state: 0,
            audit_state: 0,
            original_article_url: String::new(),
            original_article_type: 0,
            can_reprint: false,
            need_replace_content: false,
            need_show_reprint_source: false,
        };
        for child in el.children() {
            let text = child.text();
            match child.name() {
                "ArticleIdx" => item.article_idx = parse_number("ArticleIdx", text)?.unwrap_or(0),
                "UserDeclareState" => {
                    item.user_declare_state = parse_number("UserDeclareState", text)?.unwrap_or(0)
                }
                "AuditState" => item.audit_state = parse_number("AuditState", text)?.unwrap_or(0),
                "OriginalArticleUrl" => item.original_article_url = text.to_owned(),
                "OriginalArticleType" => {
                    item.original_article_type =
                        parse_number("OriginalArticleType", text)?.unwrap_or(0)
                }
                "CanReprint" => item.can_reprint = parse_flag("CanReprint", text)?,
                "NeedReplaceContent" => {
                    item.need_replace_content = parse_flag("NeedReplaceContent", text)?
                }
                "NeedShowReprintSource" => {
                    item.need_show_reprint_source = parse_flag("NeedShowReprintSource", text)?
                }
                _ => {}
            }
        }
        Ok(item)
    }
}

/// `CheckState`: the overall originality verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i64", from = "i64")]
pub enum CheckState {
    /// 0: no check was made (non-news sends, failed jobs).
    NotChecked,
    /// 1: not judged a reprint; can be sent.
    NotReprint,
    /// 2: judged a reprint; can be sent.
    ReprintAllowed,
    /// 3: judged a reprint; cannot be sent.
    ReprintRefused,
    /// Any other value, kept.
    Other(i64),
}

impl CheckState {
    /// The state for a `CheckState` number.
    pub fn from_code(code: i64) -> CheckState {
        match code {
            0 => CheckState::NotChecked,
            1 => CheckState::NotReprint,
            2 => CheckState::ReprintAllowed,
            3 => CheckState::ReprintRefused,
            other => CheckState::Other(other),
        }
    }

    /// The number WeChat uses.
    pub fn code(self) -> i64 {
        match self {
            CheckState::NotChecked => 0,
            CheckState::NotReprint => 1,
            CheckState::ReprintAllowed => 2,
            CheckState::ReprintRefused => 3,
            CheckState::Other(code) => code,
        }
    }

    /// What the state means.
    pub fn meaning(self) -> &'static str {
        match self {
            CheckState::NotChecked => "not checked",
            CheckState::NotReprint => "not a reprint; can be sent",
            CheckState::ReprintAllowed => "judged a reprint; can be sent",
            CheckState::ReprintRefused => "judged a reprint; cannot be sent",
            CheckState::Other(_) => "undocumented check state",
        }
    }
}

impl From<CheckState> for i64 {
    fn from(state: CheckState) -> i64 {
        state.code()
    }
}

impl From<i64> for CheckState {
    fn from(code: i64) -> CheckState {
        CheckState::from_code(code)
    }
}

/// `ArticleUrlResult`: where the articles of an mpnews send were published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleUrlResult {
    /// `Count` as sent.
    pub count: u64,
    /// One URL per article.
    pub items: Vec<ArticleUrl>,
}

impl ArticleUrlResult {
    fn from_node(el: Node<'_, '_>) -> Result<Self, EventError> {
        Ok(ArticleUrlResult {
            count: number(el, "Count")?.unwrap_or(0),
            items: list_items(el)
                .map(|item| {
                    Ok(ArticleUrl {
                        article_idx: number(item, "ArticleIdx")?.unwrap_or(0),
                        article_url: item.child_text("ArticleUrl").unwrap_or("").to_owned(),
                    })
                })
                .collect::<Result<_, EventError>>()?,
        })
    }
}

/// One published article.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleUrl {
    /// 1-based article index.
    pub article_idx: u32,
    /// Its URL.
    pub article_url: String,
}

/// The `item` children of a `ResultList` child.
fn list_items<'d, 'a>(el: Node<'d, 'a>) -> impl Iterator<Item = Node<'d, 'a>> {
    el.child("ResultList")
        .into_iter()
        .flat_map(|list| list.children())
        .filter(|item| item.name() == "item")
}

/// The number in a child element: `None` when absent or empty.
fn number<T: std::str::FromStr>(
    el: Node<'_, '_>,
    name: &'static str,
) -> Result<Option<T>, EventError> {
    match el.child_text(name) {
        Some(text) => parse_number(name, text),
        None => Ok(None),
    }
}

/// A count: WeChat's counts are followers of one account, far below
/// `u32::MAX`; anything larger is refused rather than wrapped.
pub(crate) fn parse_count(name: &'static str, text: &str) -> Result<Option<u32>, EventError> {
    parse_number::<u32>(name, text).map_err(|e| match e {
        EventError::Field { element, value, .. } => EventError::Field {
            element,
            value,
            expected: "a count from 0 to 4294967295",
        },
        other => other,
    })
}

/// A job id: digits only (no sign), and small enough for the signed 64-bit
/// integers every journal stores it in.
pub(crate) fn parse_msg_id(text: &str) -> Result<Option<i64>, EventError> {
    let refused = |text: &str| EventError::Field {
        element: "MsgID",
        value: text.chars().take(64).collect(),
        expected: "a job id from 0 to 9223372036854775807",
    };
    let text = text.trim_ascii();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused(text));
    }
    text.parse::<i64>().map(Some).map_err(|_| refused(text))
}

/// The number in an element's text: `None` when empty.
fn parse_number<T: std::str::FromStr>(
    name: &'static str,
    text: &str,
) -> Result<Option<T>, EventError> {
    let text = text.trim_ascii();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| EventError::Field {
        element: name,
        value: text.chars().take(64).collect(),
        expected: "a number",
    })
}

fn parse_flag(name: &'static str, text: &str) -> Result<bool, EventError> {
    Ok(parse_number::<i64>(name, text)?.unwrap_or(0) != 0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The official example of §15 (Status err(30003), two copyright items).
    pub(crate) const OFFICIAL: &str = "<xml>\n<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>\n<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>\n<CreateTime>1481013459</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[MASSSENDJOBFINISH]]></Event>\n<MsgID>1000001625</MsgID>\n<Status><![CDATA[err(30003)]]></Status>\n<TotalCount>0</TotalCount>\n<FilterCount>0</FilterCount>\n<SentCount>0</SentCount>\n<ErrorCount>0</ErrorCount>\n<CopyrightCheckResult>\n<Count>2</Count>\n<ResultList>\n<item>\n<ArticleIdx>1</ArticleIdx>\n<UserDeclareState>0</UserDeclareState>\n<AuditState>2</AuditState>\n<OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl>\n<OriginalArticleType>1</OriginalArticleType>\n<CanReprint>1</CanReprint>\n<NeedReplaceContent>1</NeedReplaceContent>\n<NeedShowReprintSource>1</NeedShowReprintSource>\n</item>\n<item>\n<ArticleIdx>2</ArticleIdx>\n<UserDeclareState>0</UserDeclareState>\n<AuditState>2</AuditState>\n<OriginalArticleUrl><![CDATA[Url_2]]></OriginalArticleUrl>\n<OriginalArticleType>1</OriginalArticleType>\n<CanReprint>1</CanReprint>\n<NeedReplaceContent>1</NeedReplaceContent>\n<NeedShowReprintSource>1</NeedShowReprintSource>\n</item>\n</ResultList>\n<CheckState>2</CheckState>\n</CopyrightCheckResult>\n</xml>";

    /// The community success example of §15, with ArticleUrlResult.
    pub(crate) const SUCCESS: &str = "<xml><ToUserName><![CDATA[gh_1f567c6f4bbd]]></ToUserName>\n<FromUserName><![CDATA[ov7hP6b1X_yWfnX7Jy3IFQnwJzzM]]></FromUserName>\n<CreateTime>1650896441</CreateTime>\n<MsgType><![CDATA[event]]></MsgType>\n<Event><![CDATA[MASSSENDJOBFINISH]]></Event>\n<MsgID>1000000003</MsgID>\n<Status><![CDATA[send success]]></Status>\n<TotalCount>4</TotalCount>\n<FilterCount>4</FilterCount>\n<SentCount>4</SentCount>\n<ErrorCount>0</ErrorCount>\n<CopyrightCheckResult><Count>0</Count>\n<ResultList></ResultList>\n<CheckState>0</CheckState>\n</CopyrightCheckResult>\n<ArticleUrlResult><Count>1</Count>\n<ResultList><item><ArticleIdx>1</ArticleIdx>\n<ArticleUrl><![CDATA[http://mp.weixin.qq.com/s/8yzT20EvmDg37Jso9nsIIw]]></ArticleUrl>\n</item>\n</ResultList>\n</ArticleUrlResult>\n</xml>";

    fn job(xml: &str) -> MassSendJobFinish {
        match Push::parse(xml).expect("parses") {
            Push::MassSendJobFinish(job) => job,
            other => panic!("not a job: {other:?}"),
        }
    }

    #[test]
    fn official_example_with_copyright_items() {
        let job = job(OFFICIAL);
        assert_eq!(job.to_user_name, "gh_4d00ed8d6399");
        assert_eq!(job.from_user_name, "oV5CrjpxgaGXNHIQigzNlgLTnwic");
        assert_eq!(job.create_time, 1481013459);
        assert_eq!(job.msg_id, 1000001625);
        assert_eq!(job.status, MassStatus::Error(30003));
        assert!(job.status.meaning().contains("reprint"));
        let copyright = job.copyright_check_result.expect("present");
        assert_eq!(copyright.count, 2);
        assert_eq!(copyright.check_state, CheckState::ReprintAllowed);
        assert_eq!(copyright.items.len(), 2);
        let second = &copyright.items[1];
        assert_eq!(second.article_idx, 2);
        assert_eq!(second.audit_state, 2);
        assert_eq!(second.original_article_url, "Url_2");
        assert_eq!(second.original_article_type, 1);
        assert!(
            second.can_reprint && second.need_replace_content && second.need_show_reprint_source
        );
        assert!(job.article_url_result.is_none());
        assert!(job.extra.is_empty());
    }

    #[test]
    fn success_example_with_article_urls() {
        let job = job(SUCCESS);
        assert_eq!(job.status, MassStatus::SendSuccess);
        assert!(job.status.is_success());
        assert_eq!(
            (
                job.total_count,
                job.filter_count,
                job.sent_count,
                job.error_count
            ),
            (4, 4, 4, 0)
        );
        let copyright = job.copyright_check_result.expect("present");
        assert_eq!(copyright.check_state, CheckState::NotChecked);
        assert!(copyright.items.is_empty());
        let urls = job.article_url_result.expect("present");
        assert_eq!(urls.count, 1);
        assert_eq!(urls.items[0].article_idx, 1);
        assert_eq!(
            urls.items[0].article_url,
            "http://mp.weixin.qq.com/s/8yzT20EvmDg37Jso9nsIIw"
        );
    }

    #[test]
    fn statuses_keep_undocumented_codes() {
        assert_eq!(MassStatus::parse("err(20431)"), MassStatus::Error(20431));
        assert_eq!(
            MassStatus::parse("err(20431)").meaning(),
            "undocumented error code"
        );
        assert_eq!(MassStatus::parse("send fail"), MassStatus::SendFail);
        assert_eq!(
            MassStatus::parse("err(abc)"),
            MassStatus::Other("err(abc)".into())
        );
        assert_eq!(MassStatus::Error(40002).to_string(), "err(40002)");
        for s in ["send success", "send fail", "err(10001)", "weird"] {
            assert_eq!(MassStatus::parse(s).to_string(), s);
        }
    }

    #[test]
    fn unknown_elements_are_kept_and_never_fail() {
        let xml = SUCCESS.replace(
            "<TotalCount>",
            "<NewThing><![CDATA[x]]></NewThing><Nested><A>1</A></Nested><TotalCount>",
        );
        let job = job(&xml);
        assert_eq!(job.extra.len(), 2);
        assert_eq!(job.extra[0].name, "NewThing");
        assert_eq!(job.extra[1].child_text("A"), Some("1"));
    }

    #[test]
    fn missing_counts_and_lists_are_tolerated() {
        let xml = "<xml><MsgType>event</MsgType><Event>masssendjobfinish</Event><MsgID>7</MsgID><Status>send fail</Status><TotalCount></TotalCount></xml>";
        let job = job(xml);
        assert_eq!(job.msg_id, 7);
        assert_eq!(job.total_count, 0);
        assert!(job.copyright_check_result.is_none());
    }

    #[test]
    fn wrong_values_are_errors() {
        let bad_id = SUCCESS.replace("<MsgID>1000000003</MsgID>", "<MsgID>12ab</MsgID>");
        assert!(matches!(
            Push::parse(&bad_id),
            Err(EventError::Field {
                element: "MsgID",
                ..
            })
        ));
        let no_id = SUCCESS.replace("<MsgID>1000000003</MsgID>", "");
        assert_eq!(Push::parse(&no_id), Err(EventError::Missing("MsgID")));
        let negative = SUCCESS.replace("<SentCount>4</SentCount>", "<SentCount>-4</SentCount>");
        assert!(Push::parse(&negative).is_err());
    }

    #[test]
    fn other_pushes_keep_every_field() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>123</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_1]]></EventKey></xml>";
        let push = Push::parse(xml).expect("parses");
        let Push::Other(generic) = &push else {
            panic!("generic expected")
        };
        assert_eq!(generic.event(), Some("subscribe"));
        assert_eq!(generic.field("EventKey"), Some("qrscene_1"));
        assert_eq!(push.dedup_key().as_deref(), Some("event:o1:123"));
        assert_eq!(push.to_user_name(), "gh_1");
        let text = "<xml><FromUserName>o1</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><MsgId>99</MsgId></xml>";
        assert_eq!(
            Push::parse(text).expect("parses").dedup_key().as_deref(),
            Some("msg:99")
        );
    }

    #[test]
    fn serialises_to_json_and_back() {
        let push = Push::parse(OFFICIAL).expect("parses");
        let json = serde_json::to_string(&push).expect("json");
        assert!(json.contains("\"status\":\"err(30003)\""));
        assert!(json.contains("\"check_state\":2"));
        let back: Push = serde_json::from_str(&json).expect("back");
        assert_eq!(back, push);
    }

    /// PUBLISHJOBFINISH as the reference shows it: success with two
    /// articles, and a failure naming the article that failed.
    #[test]
    fn publish_job_finish_success_and_failure() {
        let success = "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>\
            <FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>\
            <CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType>\
            <Event><![CDATA[PUBLISHJOBFINISH]]></Event><PublishEventInfo>\
            <publish_id>2247503051</publish_id><publish_status>0</publish_status>\
            <article_id><![CDATA[b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy]]></article_id>\
            <article_detail><count>2</count>\
            <item><idx>1</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/a]]></article_url></item>\
            <item><idx>2</idx><article_url><![CDATA[https://mp.weixin.qq.com/s/b]]></article_url></item>\
            </article_detail></PublishEventInfo></xml>";
        let Push::PublishJobFinish(job) = Push::parse(success).expect("parses") else {
            panic!("not a publish report");
        };
        assert_eq!(
            (job.publish_id, job.status),
            (2_247_503_051, PublishStatus::Success)
        );
        assert_eq!(
            job.article_id.as_deref(),
            Some("b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvy")
        );
        assert_eq!(job.articles.len(), 2);
        assert_eq!(
            (job.articles[1].idx, job.articles[1].article_url.as_str()),
            (2, "https://mp.weixin.qq.com/s/b")
        );
        assert!(job.fail_idx.is_empty());
        assert_eq!(
            Push::PublishJobFinish(job.clone()).dedup_key().as_deref(),
            Some("publish:2247503051")
        );

        let failed = "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>\
            <FromUserName><![CDATA[mphelper]]></FromUserName><CreateTime>1481013459</CreateTime>\
            <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[PUBLISHJOBFINISH]]></Event>\
            <PublishEventInfo><publish_id>2247503052</publish_id><publish_status>2</publish_status>\
            <fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo></xml>";
        let Push::PublishJobFinish(job) = Push::parse(failed).expect("parses") else {
            panic!("not a publish report");
        };
        assert_eq!(job.status, PublishStatus::OriginalityFailed);
        assert!(job.status.is_final() && job.article_id.is_none());
        assert_eq!(job.fail_idx, vec![1, 2]);
        let json = serde_json::to_string(&Push::PublishJobFinish(job.clone())).expect("json");
        assert_eq!(
            serde_json::from_str::<Push>(&json).expect("back"),
            Push::PublishJobFinish(job)
        );

        for bad in [
            failed.replace("<publish_id>2247503052</publish_id>", ""),
            failed.replace("2247503052", "x"),
            failed
                .replace("<PublishEventInfo>", "<Other>")
                .replace("</PublishEventInfo>", "</Other>"),
        ] {
            assert!(Push::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(PublishStatus::from_code(9), PublishStatus::Other(9));
    }
}

#[cfg(test)]
mod notification_tests {
    use super::*;

    fn parse(xml: &str) -> Push {
        let doc = Document::parse(xml).expect("xml");
        Push::from_document(&doc).expect("push")
    }

    #[test]
    fn template_reports_keep_every_status() {
        for (status, expected) in [
            ("success", TemplateStatus::Success),
            ("failed:user block", TemplateStatus::UserBlock),
            ("failed: system failed", TemplateStatus::SystemFailed),
            ("failed:freq limit", TemplateStatus::FreqLimit),
            (
                "failed:new reason",
                TemplateStatus::Failed("failed:new reason".into()),
            ),
        ] {
            let push = parse(&format!(
                "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oF]]></FromUserName>\
                 <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
                 <Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>3557254367693750277</MsgID>\
                 <Status><![CDATA[{status}]]></Status></xml>"
            ));
            let Push::TemplateSendJobFinish(job) = push else {
                panic!("not a template report: {push:?}")
            };
            assert_eq!(
                (job.msg_id, job.recipient.as_str()),
                (3_557_254_367_693_750_277, "oF")
            );
            assert_eq!(job.status, expected);
            assert_eq!(job.status.as_wechat(), status);
        }
    }

    #[test]
    fn subscription_events_carry_every_list_item() {
        let popup = parse(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oF]]></FromUserName>\
             <CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>\
             <List><TemplateId><![CDATA[t1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
             <List><TemplateId><![CDATA[t2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
             </SubscribeMsgPopupEvent></xml>",
        );
        let Push::Subscription(e) = popup else {
            panic!("not a subscription event")
        };
        assert_eq!(e.kind, SubscriptionKind::Popup);
        assert_eq!(
            e.items
                .iter()
                .map(|i| (i.template_id.as_str(), i.status.as_str(), i.popup_scene))
                .collect::<Vec<_>>(),
            [("t1", "accept", Some(2)), ("t2", "reject", Some(2))]
        );
        let sent = parse(
            "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oF]]></FromUserName>\
             <CreateTime>1610969468</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent>\
             <List><TemplateId><![CDATA[t1]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List>\
             </SubscribeMsgSentEvent></xml>",
        );
        let Push::Subscription(e) = sent else {
            panic!("not a subscription event")
        };
        assert_eq!(e.kind, SubscriptionKind::Sent);
        assert_eq!(e.items[0].msg_id, Some(1_700_827_132_819_554_304));
        assert_eq!(
            (e.items[0].error_code, e.items[0].status.as_str()),
            (Some(0), "success")
        );
    }

    #[test]
    fn the_actions_that_open_a_window_are_known() {
        let push = |msg_type: &str, event: &str| {
            let xml = format!(
                "<xml><ToUserName>gh_1</ToUserName><FromUserName>oF</FromUserName><CreateTime>1</CreateTime>\
                 <MsgType>{msg_type}</MsgType><Event>{event}</Event></xml>"
            );
            match parse(&xml) {
                Push::Other(p) => p.window_opened().map(|(who, t)| (who.to_owned(), t)),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            push("text", ""),
            Some(("oF".into(), WindowTrigger::Message))
        );
        assert_eq!(
            push("event", "CLICK"),
            Some(("oF".into(), WindowTrigger::MenuClick))
        );
        assert_eq!(
            push("event", "subscribe"),
            Some(("oF".into(), WindowTrigger::Follow))
        );
        assert_eq!(
            push("event", "SCAN"),
            Some(("oF".into(), WindowTrigger::QrScan))
        );
        assert_eq!(push("event", "VIEW"), None, "a link button opens no window");
        assert_eq!(push("event", "unsubscribe"), None);
    }
}

#[cfg(test)]
mod platform_tests {
    use super::*;

    fn parse(xml: &str) -> Push {
        let doc = Document::parse(xml).expect("xml");
        Push::from_document(&doc).expect("push")
    }

    #[test]
    fn the_ticket_and_authorization_events_are_typed() {
        let ticket = parse(
            "<xml><AppId><![CDATA[wxcomponent1]]></AppId><CreateTime>1413192605</CreateTime>\
             <InfoType><![CDATA[component_verify_ticket]]></InfoType>\
             <ComponentVerifyTicket><![CDATA[ticket@@@abc]]></ComponentVerifyTicket></xml>",
        );
        let Push::Platform(e) = &ticket else {
            panic!("not a platform push: {ticket:?}")
        };
        assert_eq!(e.component_appid, "wxcomponent1");
        assert_eq!(
            e.info,
            PlatformInfo::Ticket {
                ticket: "ticket@@@abc".into()
            }
        );
        assert_eq!(ticket.to_user_name(), "wxcomponent1");

        let authorized = parse(
            "<xml><AppId>wxcomponent1</AppId><CreateTime>1413192760</CreateTime>\
             <InfoType>authorized</InfoType><AuthorizerAppid>wxaccount1</AuthorizerAppid>\
             <AuthorizationCode>queryauthcode@@@xyz</AuthorizationCode>\
             <AuthorizationCodeExpiredTime>1413196360</AuthorizationCodeExpiredTime>\
             <PreAuthCode>preauthcode@@@p</PreAuthCode></xml>",
        );
        let Push::Platform(e) = &authorized else {
            panic!("not a platform push")
        };
        let PlatformInfo::Authorized(change) = &e.info else {
            panic!("not authorized: {e:?}")
        };
        assert_eq!(change.authorization_code, "queryauthcode@@@xyz");
        assert_eq!(change.authorization_code_expired_time, Some(1_413_196_360));
        assert_eq!(e.authorizer_appid(), Some("wxaccount1"));
        assert!(
            authorized
                .dedup_key()
                .is_some_and(|k| k.contains("authorized:wxaccount1"))
        );

        let gone = parse(
            "<xml><AppId>wxcomponent1</AppId><CreateTime>1413192760</CreateTime>\
             <InfoType>unauthorized</InfoType><AuthorizerAppid>wxaccount1</AuthorizerAppid></xml>",
        );
        let Push::Platform(e) = gone else { panic!() };
        assert_eq!(
            e.info,
            PlatformInfo::Unauthorized {
                authorizer_appid: "wxaccount1".into()
            }
        );

        // A code missing from an authorized push is refused, not guessed.
        let doc = Document::parse(
            "<xml><AppId>c</AppId><InfoType>authorized</InfoType><AuthorizerAppid>a</AuthorizerAppid></xml>",
        )
        .expect("xml");
        assert_eq!(
            Push::from_document(&doc),
            Err(EventError::Missing("AuthorizationCode"))
        );
    }
}
