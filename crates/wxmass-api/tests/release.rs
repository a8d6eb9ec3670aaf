//! The emulator's 全网发布 release test against a small platform made of
//! this crate's [`Component`] and wxmass-callback: what a platform must do
//! to be released, and proof that the emulator fails one that does not
//! (a passive reply sent in plain text).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use common::*;
use serde_json::json;
use wxmass_api::api::custom::CustomMessage;
use wxmass_api::{Client, Component};
use wxmass_callback::crypto::{AesKey, MessageCrypto};
use wxmass_callback::xml::write_cdata_element;
use wxmass_callback::{CallbackConfig, PlatformInfo, Push, PushQuery};
use wxmass_emulator::platform::{PlatformConfig, RELEASE_TEXT, RELEASE_TEXT_REPLY};
use wxmass_emulator::{EmulatorConfig, PLATFORM_AES_KEY, PLATFORM_APPID, PLATFORM_SECRET};

const TOKEN: &str = "releaseToken9";

#[derive(Clone)]
struct Platform {
    component: Arc<std::sync::OnceLock<Component>>,
    receiver: Arc<CallbackConfig>,
    /// Misbehave: answer the fan's text in plain XML.
    plain_replies: Arc<AtomicBool>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The authorization event URL: tickets kept; the test account's code is
/// exchanged once, from the fan's message.
async fn events(
    State(p): State<Platform>,
    Query(q): Query<PushQuery>,
    body: String,
) -> &'static str {
    let Ok(opened) = wxmass_callback::open_push(&p.receiver, &q, body.as_bytes(), now()) else {
        return "refused";
    };
    if let Push::Platform(event) = opened.push
        && let PlatformInfo::Ticket { ticket } = event.info
        && let Some(component) = p.component.get()
    {
        let _ = component.save_ticket(&ticket, event.create_time).await;
    }
    "success"
}

/// The message URL (`/m/$APPID$`): the scripted answers, before anything
/// else, as a platform must.
async fn messages(
    State(p): State<Platform>,
    axum::extract::Path(appid): axum::extract::Path<String>,
    Query(q): Query<PushQuery>,
    body: String,
) -> String {
    let Ok(opened) = wxmass_callback::open_push(&p.receiver, &q, body.as_bytes(), now()) else {
        return "refused".into();
    };
    let Push::Other(message) = opened.push else {
        return "success".into();
    };
    let content = message.field("Content").unwrap_or_default().to_owned();
    let fan = message.field("FromUserName").unwrap_or_default().to_owned();
    let account = message.field("ToUserName").unwrap_or_default().to_owned();
    if content == RELEASE_TEXT {
        let mut xml = String::from("<xml>");
        write_cdata_element(&mut xml, "ToUserName", &fan);
        write_cdata_element(&mut xml, "FromUserName", &account);
        xml.push_str(&format!("<CreateTime>{}</CreateTime>", now()));
        write_cdata_element(&mut xml, "MsgType", "text");
        write_cdata_element(&mut xml, "Content", RELEASE_TEXT_REPLY);
        xml.push_str("</xml>");
        if p.plain_replies.load(Ordering::Relaxed) {
            return xml;
        }
        let key = AesKey::from_encoding_aes_key(PLATFORM_AES_KEY).expect("key");
        let sealed =
            MessageCrypto::new(PLATFORM_APPID, key).seal(TOKEN, &xml, &now().to_string(), "1234");
        return sealed.to_reply_xml();
    }
    if let Some(code) = content.strip_prefix("QUERY_AUTH_CODE:") {
        // Answered empty at once; the exchange and the message follow.
        let (component, code) = (p.component.get().cloned(), code.to_owned());
        tokio::spawn(async move {
            let Some(component) = component else { return };
            if component.query_auth(&code).await.is_ok()
                && let Ok(client) = component.authorizer(&appid)
            {
                let text = CustomMessage::Text {
                    content: format!("{code}_from_api"),
                };
                let _ = client.custom().send(&fan, &text, None).await;
            }
        });
    }
    String::new()
}

#[tokio::test]
async fn a_platform_that_answers_the_script_passes_and_a_plain_reply_fails() {
    let receiver = CallbackConfig::builder(TOKEN, PLATFORM_APPID)
        .aes_key(PLATFORM_AES_KEY)
        .build()
        .expect("receiver");
    let platform = Platform {
        component: Arc::new(std::sync::OnceLock::new()),
        receiver: Arc::new(receiver),
        plain_replies: Arc::new(AtomicBool::new(false)),
    };
    let app = axum::Router::new()
        .route("/events", post(events))
        .route("/m/{appid}", post(messages))
        .with_state(platform.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let emu = emulator(EmulatorConfig {
        platform: Some(PlatformConfig {
            component_appid: PLATFORM_APPID.into(),
            component_secret: PLATFORM_SECRET.into(),
            token: TOKEN.into(),
            aes_key: PLATFORM_AES_KEY.into(),
            event_url: Some(format!("{host}/events")),
            message_url: Some(format!("{host}/m/$APPID$")),
            accounts: 1,
            followers: 3,
        }),
        job_delay: Duration::from_millis(30),
        ..EmulatorConfig::default()
    })
    .await;
    let component = Client::builder(PLATFORM_APPID, PLATFORM_SECRET)
        .base_url(emu.url())
        .retry(fast_retry())
        .build_component()
        .expect("component");
    let _ = platform.component.set(component);

    for group in 1..=5 {
        let result = emu
            .admin_post("/_emulator/platform/release_test", json!({"group": group}))
            .await;
        assert_eq!(result["passed"], true, "group {group}: {result}");
        assert_eq!(
            result["cases"].as_array().map(Vec::len),
            Some(3),
            "{result}"
        );
    }

    platform.plain_replies.store(true, Ordering::Relaxed);
    let result = emu
        .admin_post("/_emulator/platform/release_test", json!({"group": 2}))
        .await;
    assert_eq!(result["passed"], false, "{result}");
    let text = &result["cases"][1];
    assert_eq!(text["case"], "text");
    assert_eq!(text["passed"], false, "{result}");
    assert!(
        text["detail"]
            .as_str()
            .is_some_and(|d| d.contains("encrypted")),
        "{result}"
    );
    server.abort();
}
