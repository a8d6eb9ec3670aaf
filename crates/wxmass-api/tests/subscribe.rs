//! Subscription notices against the emulator: a one-time subscription
//! message spends its consent (a second send is 43101); a notice template
//! added from the library is sent once per one-time consent, as often as
//! needed for a long-term one.

mod common;

use common::*;
use serde_json::json;
use wxmass_api::api::subscribe::{OneTimeMessage, SubscribeMessage};
use wxmass_api::{Errcode, Error};

/// The emulator's one-time template id.
const ONE_TIME: &str = "wxmass-emulator-one-time-template";

#[tokio::test]
async fn a_one_time_subscription_is_spent_by_one_send() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let message = OneTimeMessage {
        touser: to.clone(),
        template_id: ONE_TIME.into(),
        scene: 7,
        title: "到货提醒".into(),
        content: "您关注的商品已到货".into(),
        ..OneTimeMessage::default()
    };
    assert_eq!(
        errcode(client.subscribe().send_once(&message).await),
        Some(Errcode::UserRefusedMessage),
        "no consent yet"
    );
    emu.admin_post("/_emulator/consents", json!({"openid": to, "scene": 7}))
        .await;
    client
        .subscribe()
        .send_once(&message)
        .await
        .expect("the consent allows one send");
    assert_eq!(
        errcode(client.subscribe().send_once(&message).await),
        Some(Errcode::UserRefusedMessage),
        "spent"
    );
    let long_title = OneTimeMessage {
        title: "一个超过十五个字符长度的订阅消息标题文字".into(),
        ..message
    };
    assert!(matches!(
        client.subscribe().send_once(&long_title).await,
        Err(Error::Invalid(_))
    ));
    let stats = emu.stats().await;
    assert_eq!(stats["deliveries_by_channel"]["subscribe"], 1, "{stats}");
}

#[tokio::test]
async fn notices_from_the_library_follow_their_consents() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let subscribe = client.subscribe();
    let titles = subscribe.library(&[616, 708], 0, 30).await.expect("titles");
    assert_eq!(titles.len(), 2);
    let once = titles
        .iter()
        .find(|t| t.kind == 2)
        .expect("a one-time title");
    let lasting = titles
        .iter()
        .find(|t| t.kind == 3)
        .expect("a long-term title");
    let kids = |tid| {
        let subscribe = client.subscribe();
        async move {
            subscribe
                .keywords(tid)
                .await
                .expect("keywords")
                .iter()
                .take(2)
                .map(|k| k.kid)
                .collect::<Vec<_>>()
        }
    };
    let paid = subscribe
        .add(once.tid, &kids(once.tid).await, "缴费")
        .await
        .expect("add");
    let water = subscribe
        .add(lasting.tid, &kids(lasting.tid).await, "停水")
        .await
        .expect("add");
    let templates = subscribe.templates().await.expect("templates");
    assert_eq!(templates.len(), 2);
    let paid_message = SubscribeMessage {
        touser: to.clone(),
        template_id: paid.clone(),
        data: vec![
            ("thing1".into(), "物业费".into()),
            ("amount2".into(), "¥320.00".into()),
        ],
        ..SubscribeMessage::default()
    };
    assert_eq!(
        errcode(subscribe.send(&paid_message).await),
        Some(Errcode::UserRefusedMessage)
    );
    emu.admin_post(
        "/_emulator/consents",
        json!({"openid": to, "template_id": paid}),
    )
    .await;
    subscribe.send(&paid_message).await.expect("sent once");
    assert_eq!(
        errcode(subscribe.send(&paid_message).await),
        Some(Errcode::UserRefusedMessage),
        "one-time: spent"
    );

    emu.admin_post(
        "/_emulator/consents",
        json!({"openid": to, "template_id": water}),
    )
    .await;
    let water_message = SubscribeMessage {
        touser: to.clone(),
        template_id: water.clone(),
        data: vec![
            ("thing1".into(), "东区".into()),
            ("time2".into(), "2026-12-07 08:00~12:00".into()),
        ],
        ..SubscribeMessage::default()
    };
    for _ in 0..3 {
        subscribe.send(&water_message).await.expect("long-term");
    }
    subscribe.delete(&water).await.expect("delete");
    assert_eq!(
        errcode(subscribe.send(&water_message).await),
        Some(Errcode::InvalidTemplateId)
    );
}
