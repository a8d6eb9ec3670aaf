//! Customer-service messages (wechat-notifications.md §3): a follower's
//! action opens a window (`POST /_emulator/interactions` stands for it:
//! a message opens 48 hours, a menu click, a follow or a QR scan one
//! minute), and `message/custom/send` reaches them only inside it (45015
//! otherwise, or once they unfollowed) and while it has messages left
//! (45047). A new action resets the window and its count. The typing
//! indicator needs an action in the last 30 seconds and lasts 15.
//!
//! The reference is unsure how many messages a window takes (§0.9: 5, 20
//! or unlimited over the years): 5 after a message and 3 after the other
//! actions by default, the first settable (`POST /_emulator/custom/settings`).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, str_field};
use crate::error::{WxError, WxResult, ok};

/// How long a window after a follower's message lasts.
pub const MESSAGE_WINDOW_MS: i64 = 48 * 3600 * 1000;
/// How long a window after a click, follow or scan lasts.
pub const SHORT_WINDOW_MS: i64 = 60 * 1000;
/// Messages a window after a click, follow or scan takes.
pub const SHORT_WINDOW_MESSAGES: u32 = 3;
/// Messages a window after a follower's message takes, by default.
pub const DEFAULT_MESSAGE_WINDOW_MESSAGES: u32 = 5;

/// What a follower did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interaction {
    /// Sent the account a message.
    Message,
    /// Clicked a menu button.
    MenuClick,
    /// Followed the account.
    Follow,
    /// Scanned a parameter QR code.
    QrScan,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    acted_at_ms: i64,
    closes_at_ms: i64,
    left: u32,
    typing_since_ms: Option<i64>,
}

/// Every follower's window.
#[derive(Debug)]
pub struct Windows {
    windows: HashMap<u32, Window>,
    /// Messages a window after a follower's message takes.
    pub message_window_messages: u32,
    /// The latest texts sent, to whom (what the release test reads).
    texts: std::collections::VecDeque<(u32, String)>,
}

/// Texts kept in [`Windows::texts`].
const TEXTS_KEPT: usize = 256;

impl Default for Windows {
    fn default() -> Self {
        Windows {
            windows: HashMap::new(),
            message_window_messages: DEFAULT_MESSAGE_WINDOW_MESSAGES,
            texts: std::collections::VecDeque::new(),
        }
    }
}

impl Windows {
    /// Whether `follower` was sent the text `content` lately.
    pub fn was_sent(&self, follower: u32, content: &str) -> bool {
        self.texts
            .iter()
            .any(|(f, t)| *f == follower && t == content)
    }

    /// `follower` did `what` at `now_ms`: a fresh window.
    pub fn open(&mut self, follower: u32, what: Interaction, now_ms: i64) {
        let (length, left) = match what {
            Interaction::Message => (MESSAGE_WINDOW_MS, self.message_window_messages),
            _ => (SHORT_WINDOW_MS, SHORT_WINDOW_MESSAGES),
        };
        self.windows.insert(
            follower,
            Window {
                acted_at_ms: now_ms,
                closes_at_ms: now_ms + length,
                left,
                typing_since_ms: None,
            },
        );
    }
}

/// `POST /cgi-bin/message/custom/send`.
pub fn send(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let touser = str_field(&body, "touser", 40003)?;
    let msgtype = str_field(&body, "msgtype", 40008)?;
    let object = body.get(msgtype).ok_or_else(|| WxError::new(47001))?;
    let required: &[&str] = match msgtype {
        "text" => &["content"],
        "image" | "voice" | "mpnews" => &["media_id"],
        "video" => &["media_id"],
        "music" => &["musicurl", "thumb_media_id"],
        "news" => &[],
        "mpnewsarticle" => &["article_id"],
        "msgmenu" => &[],
        "wxcard" => &["card_id"],
        "miniprogrampage" => &["appid", "pagepath", "thumb_media_id"],
        _ => return Err(WxError::new(40008)),
    };
    for field in required {
        let value = object.get(*field).and_then(Value::as_str).unwrap_or("");
        if value.trim().is_empty() {
            return Err(WxError::new(if msgtype == "text" { 44004 } else { 47001 }));
        }
    }
    if msgtype == "news" {
        match object.get("articles").and_then(Value::as_array) {
            Some(a) if a.len() == 1 => {}
            Some(a) if a.len() > 1 => return Err(WxError::new(45008)),
            _ => return Err(WxError::new(44003)),
        }
    }
    if msgtype == "msgmenu"
        && object
            .get("list")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
    {
        return Err(WxError::new(47001));
    }
    let now_ms = emulator.clock.now_ms();
    let follower = {
        let account = emulator.account();
        let index = account
            .index_of(touser)
            .ok_or_else(|| WxError::new(40003))?;
        if !account.follower(index).is_some_and(|f| f.subscribed) {
            return Err(WxError::new(45015));
        }
        index
    };
    {
        let mut windows = emulator.windows();
        let window = windows
            .windows
            .get_mut(&follower)
            .filter(|w| w.closes_at_ms > now_ms)
            .ok_or_else(|| WxError::new(45015))?;
        if window.left == 0 {
            return Err(WxError::new(45047));
        }
        window.left -= 1;
        // Sending a message ends the typing indicator.
        window.typing_since_ms = None;
        if let Some(text) = object.get("content").and_then(Value::as_str)
            && msgtype == "text"
        {
            if windows.texts.len() >= TEXTS_KEPT {
                windows.texts.pop_front();
            }
            windows.texts.push_back((follower, text.to_owned()));
        }
    }
    let digest = crate::ids::fnv1a(format!("custom\u{1f}{msgtype}\u{1f}{object}").as_bytes());
    emulator
        .account()
        .record_delivery("custom", follower, digest);
    Ok(ok())
}

/// `POST /cgi-bin/message/custom/typing` with `{"touser", "command"}`.
pub fn typing(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let touser = str_field(&body, "touser", 40003)?;
    let command = str_field(&body, "command", 45072)?;
    if !matches!(command, "Typing" | "CancelTyping") {
        return Err(WxError::new(45072));
    }
    let now_ms = emulator.clock.now_ms();
    let follower = emulator
        .account()
        .index_of(touser)
        .ok_or_else(|| WxError::new(40003))?;
    let mut windows = emulator.windows();
    let window = windows
        .windows
        .get_mut(&follower)
        .filter(|w| now_ms - w.acted_at_ms <= 30_000)
        .ok_or_else(|| WxError::new(45080))?;
    if command == "CancelTyping" {
        window.typing_since_ms = None;
        return Ok(ok());
    }
    if window
        .typing_since_ms
        .is_some_and(|since| now_ms - since < 15_000)
    {
        return Err(WxError::new(45081));
    }
    window.typing_since_ms = Some(now_ms);
    Ok(ok())
}

/// `GET /cgi-bin/customservice/getkflist`: the emulated account has one.
pub fn kf_list(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let account = format!("kf2001@{}", emulator.config.original_id());
    Ok(
        json!({"kf_list": [{"kf_account": account, "kf_nick": "客服", "kf_id": "2001",
                           "kf_headimgurl": ""}]}),
    )
}
