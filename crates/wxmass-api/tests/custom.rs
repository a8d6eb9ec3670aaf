//! Customer-service messages against the emulator: refused outside a
//! follower's window (45015), accepted inside it, refused past its count
//! (45047), a new action opening a new window; every msgtype; typing.

mod common;

use common::*;
use serde_json::json;
use wxmass_api::api::custom::{CustomMessage, MenuChoice, NewsLink};
use wxmass_api::{Errcode, Error};

fn text(s: &str) -> CustomMessage {
    CustomMessage::Text {
        content: s.to_owned(),
    }
}

async fn acts(emu: &Emu, openid: &str, kind: &str) {
    let answer = emu
        .admin_post(
            "/_emulator/interactions",
            json!({"openid": openid, "kind": kind}),
        )
        .await;
    assert_eq!(answer["opened"], true, "{answer}");
}

#[tokio::test]
async fn a_message_goes_only_inside_the_followers_window() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let custom = client.custom();
    assert_eq!(
        errcode(custom.send(&to, &text("hello"), None).await),
        Some(Errcode::ResponseOutOfTime),
        "nobody wrote: no window"
    );
    acts(&emu, &to, "message").await;
    for n in 1..=5 {
        custom
            .send(&to, &text(&format!("answer {n}")), None)
            .await
            .expect("inside the window");
    }
    assert_eq!(
        errcode(custom.send(&to, &text("one more"), None).await),
        Some(Errcode::OutOfResponseCount),
        "five a window"
    );
    // Their next message opens a new window.
    acts(&emu, &to, "message").await;
    custom
        .send(&to, &text("again"), None)
        .await
        .expect("a new window");
    // After a click, one minute.
    acts(&emu, &to, "menu_click").await;
    custom
        .send(&to, &text("thanks"), None)
        .await
        .expect("after a click");
    emu.advance(61).await;
    assert_eq!(
        errcode(custom.send(&to, &text("late"), None).await),
        Some(Errcode::ResponseOutOfTime)
    );
    let stats = emu.stats().await;
    assert_eq!(stats["deliveries_by_channel"]["custom"], 7, "{stats}");
    let received = emu.admin_get(&format!("/_emulator/received/{to}")).await;
    assert_eq!(received["channels"], json!({"custom": 7}), "{received}");
}

#[tokio::test]
async fn every_msgtype_is_sent_and_typing_is_shown() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    emu.admin_post(
        "/_emulator/custom/settings",
        json!({"message_window_messages": 20}),
    )
    .await;
    acts(&emu, &to, "message").await;
    let custom = client.custom();
    custom.typing(&to, true).await.expect("typing");
    assert_eq!(
        errcode(custom.typing(&to, true).await),
        Some(Errcode::AlreadyTyping)
    );
    let kf = custom.kf_accounts().await.expect("kf accounts");
    let as_kf = kf
        .first()
        .map(|k| k.kf_account.clone())
        .expect("one kf account");
    let media = |id: &str| id.to_owned();
    for message in [
        text("你好"),
        CustomMessage::Image {
            media_id: media("m1"),
        },
        CustomMessage::Voice {
            media_id: media("m2"),
        },
        CustomMessage::Video {
            media_id: media("m3"),
            thumb_media_id: media("t3"),
            title: "片".into(),
            description: "说明".into(),
        },
        CustomMessage::Music {
            title: "歌".into(),
            description: "".into(),
            musicurl: "https://example.com/a.mp3".into(),
            hqmusicurl: "https://example.com/a.flac".into(),
            thumb_media_id: media("t4"),
        },
        CustomMessage::News {
            article: NewsLink {
                title: "新闻".into(),
                description: "一篇".into(),
                url: "https://example.com/n".into(),
                picurl: "https://example.com/p.png".into(),
            },
        },
        CustomMessage::Mpnews {
            media_id: media("m5"),
        },
        CustomMessage::Mpnewsarticle {
            article_id: "art-1".into(),
        },
        CustomMessage::Msgmenu {
            head_content: "满意吗？".into(),
            list: vec![MenuChoice {
                id: "1".into(),
                content: "满意".into(),
            }],
            tail_content: "谢谢".into(),
        },
        CustomMessage::Wxcard {
            card_id: "card-1".into(),
        },
        CustomMessage::Miniprogrampage {
            title: "小程序".into(),
            appid: "wxa1".into(),
            pagepath: "pages/index".into(),
            thumb_media_id: media("t6"),
        },
    ] {
        custom
            .send(&to, &message, Some(&as_kf))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", message.msgtype()));
    }
    emu.advance(31).await;
    assert_eq!(
        errcode(custom.typing(&to, true).await),
        Some(Errcode::TypingNeedsInteraction)
    );
    assert!(
        matches!(
            custom.send(&to, &text("x"), Some("not an account")).await,
            Err(Error::Invalid(_))
        ),
        "a malformed kf account is refused here"
    );
}
