//! The 全网发布 release test (wechat-notifications.md §1.17): before a
//! platform is released, WeChat authorises one of five test accounts and
//! checks the answers to its scripted messages. They are answered here,
//! before any business logic, and the test accounts never become accounts
//! of the server:
//! - the fan's `TESTCOMPONENT_MSG_TYPE_TEXT`: a passive reply, encrypted,
//!   `TESTCOMPONENT_MSG_TYPE_TEXT_callback`;
//! - `QUERY_AUTH_CODE:$code$`: an empty answer at once, then the code
//!   exchanged (only here: the `authorized` push's copy is not) and
//!   `$code$_from_api` sent to the fan by customer service;
//! - an event (the older script): a passive reply `<Event>from_callback`.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rand::RngExt as _;
use wxmass_api::api::custom::CustomMessage;
use wxmass_callback::xml::write_cdata_element;
use wxmass_callback::{Push, PushQuery};

use super::Platform;
use crate::AppState;

/// The five test accounts' appids.
pub const TEST_ACCOUNTS: [&str; 5] = [
    "wx570bc396a51b8ff8",
    "wx9252c5e0bb1836fc",
    "wx8e1097c5bc82cde9",
    "wx14550af28c71a144",
    "wxa35b9c23cfe664eb",
];

/// What the fan writes first.
const TEXT: &str = "TESTCOMPONENT_MSG_TYPE_TEXT";
/// What the script expects back.
const TEXT_REPLY: &str = "TESTCOMPONENT_MSG_TYPE_TEXT_callback";
/// The prefix of the message carrying the authorization code.
const QUERY_AUTH_CODE: &str = "QUERY_AUTH_CODE:";
/// The most a test push may be.
const BODY_LIMIT: usize = 64 * 1024;

/// Whether `appid` is one of the release test's accounts.
pub fn is_test_account(appid: &str) -> bool {
    TEST_ACCOUNTS.contains(&appid)
}

fn wall_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Answers a test account's push as the script expects.
pub async fn answer(
    state: &AppState,
    platform: &Platform,
    appid: &str,
    request: Request,
) -> Response {
    let query: PushQuery = axum::extract::Query::try_from_uri(request.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let body = match axum::body::to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response(),
    };
    // The platform's own receiver: the same token, key and appid, not
    // pinned (the test accounts are none of the server's).
    let config = platform.events_receiver();
    let opened = match wxmass_callback::open_push(config, &query, &body, wall_now()) {
        Ok(opened) => opened,
        Err(rejection) => return (rejection.status(), "refused").into_response(),
    };
    let Push::Other(message) = opened.push else {
        return "success".into_response();
    };
    let fan = message.field("FromUserName").unwrap_or_default().to_owned();
    let account = message.field("ToUserName").unwrap_or_default().to_owned();
    let reply = |text: &str| {
        let mut xml = String::from("<xml>");
        write_cdata_element(&mut xml, "ToUserName", &fan);
        write_cdata_element(&mut xml, "FromUserName", &account);
        xml.push_str(&format!("<CreateTime>{}</CreateTime>", wall_now()));
        write_cdata_element(&mut xml, "MsgType", "text");
        write_cdata_element(&mut xml, "Content", text);
        xml.push_str("</xml>");
        let Some(crypto) = config.crypto() else {
            return (StatusCode::SERVICE_UNAVAILABLE, "no key").into_response();
        };
        let nonce = rand::rng()
            .random_range(100_000_000u64..10_000_000_000)
            .to_string();
        let sealed = crypto.seal(
            config.token().expose(),
            &xml,
            &wall_now().to_string(),
            &nonce,
        );
        (
            [(axum::http::header::CONTENT_TYPE, "application/xml")],
            sealed.to_reply_xml(),
        )
            .into_response()
    };
    match message.msg_type() {
        Some("text") => {
            let content = message.field("Content").unwrap_or_default();
            if content == TEXT {
                return reply(TEXT_REPLY);
            }
            if let Some(code) = content.strip_prefix(QUERY_AUTH_CODE) {
                let (state, appid, code) =
                    (state.clone(), appid.to_owned(), code.trim().to_owned());
                tokio::spawn(async move { send_from_api(&state, &appid, &fan, &code).await });
                return String::new().into_response();
            }
            "success".into_response()
        }
        Some("event") => {
            let event = message.event().unwrap_or_default().to_owned();
            reply(&format!("{event}from_callback"))
        }
        _ => "success".into_response(),
    }
}

/// The API case: the code exchanged, then `$code$_from_api` to the fan.
async fn send_from_api(state: &AppState, appid: &str, fan: &str, code: &str) {
    let Some(platform) = state.platform() else {
        return;
    };
    let sent = async {
        let granted = platform.component().query_auth(code).await?;
        let client = platform.component().authorizer(&granted.authorizer_appid)?;
        let text = CustomMessage::Text {
            content: format!("{code}_from_api"),
        };
        client.custom().send(fan, &text, None).await
    }
    .await;
    if let Err(e) = sent {
        tracing::warn!(appid = %appid.escape_debug(), error = %e, "release test: the API reply failed");
    }
}
