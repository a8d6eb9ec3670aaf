//! Template messages against the emulator: the library (industry, add,
//! list, delete), each keyword type's rule refused before any request, a
//! `client_msg_id` that WeChat de-duplicates for 10 minutes, the daily
//! (45009) and per-minute (45011) quotas and `openapi/quota/get`
//! reporting both.

mod common;

use common::*;
use serde_json::json;
use wxmass_api::api::templates::{Template, TemplateMessage};
use wxmass_api::{Client, Errcode, Error};

const SEND: &str = "/cgi-bin/message/template/send";

/// The account's industries set and one library template added: its id
/// and keys.
async fn template(client: &Client, short: &str, keywords: &[&str]) -> Template {
    client
        .templates()
        .set_industry(1, 2)
        .await
        .expect("industry");
    let id = client.templates().add(short, keywords).await.expect("add");
    client
        .templates()
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|t| t.template_id == id)
        .expect("the template is listed")
}

fn message(to: &str, t: &Template, values: &[&str]) -> TemplateMessage {
    TemplateMessage {
        touser: to.to_owned(),
        template_id: t.template_id.clone(),
        data: t
            .keys()
            .into_iter()
            .zip(values.iter().map(|v| (*v).to_owned()))
            .collect(),
        ..TemplateMessage::default()
    }
}

async fn sends(emu: &Emu) -> u64 {
    emu.stats().await["calls"][SEND].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn the_library_adds_lists_and_deletes_templates() {
    let emu = default_emulator().await;
    let client = emu.client();
    let t = template(&client, "47123", &["商品名称", "快递单号", "发货时间"]).await;
    assert_eq!(t.title, "订单发货通知");
    assert_eq!(t.keys(), ["thing1", "character_string2", "time3"]);
    let industries = client.templates().industry().await.expect("industry");
    assert_eq!(industries.primary_industry.second_class, "互联网|电子商务");

    // A retired TM id is refused here; a keyword the template lacks there.
    let before = emu.stats().await["calls"]["/cgi-bin/template/api_add_template"].clone();
    assert!(matches!(
        client.templates().add("OPENTM207498902", &["x"]).await,
        Err(Error::Invalid(_))
    ));
    assert_eq!(
        emu.stats().await["calls"]["/cgi-bin/template/api_add_template"],
        before,
        "refused before the request"
    );
    assert_eq!(
        errcode(client.templates().add("47123", &["no such keyword"]).await),
        Some(Errcode::KeywordNameInvalid)
    );

    client
        .templates()
        .delete(&t.template_id)
        .await
        .expect("delete");
    assert!(client.templates().list().await.expect("list").is_empty());
    assert_eq!(
        errcode(client.templates().delete(&t.template_id).await),
        Some(Errcode::InvalidTemplateId)
    );
}

#[tokio::test]
async fn each_keyword_rule_is_kept_before_any_request() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let shipped = template(&client, "47123", &["商品名称", "快递单号", "发货时间"]).await;
    let booked = template(&client, "42066", &["联系电话", "预约人"]).await;
    let billed = template(&client, "43216", &["缴费金额", "截止日期", "状态"]).await;
    let points = template(&client, "46300", &["变动积分", "车牌号", "会员编号"]).await;
    let good = [
        message(
            &to,
            &shipped,
            &["冬季外套", "SF-1234/5", "2026-12-06 08:00"],
        ),
        message(&to, &booked, &["+86 10 1234 5678", "王小明"]),
        message(&to, &billed, &["¥128.50", "2026年12月31日", "待缴费"]),
        message(&to, &points, &["120", "京A12345", "VIP"]),
    ];
    let bad = [
        message(
            &to,
            &shipped,
            &[
                "一件名字长到超过二十个字符的冬季羽绒外套商品",
                "SF 1234",
                "2026-12-06",
            ],
        ),
        message(&to, &shipped, &["外套", "SF 1234", "2026-12-06"]),
        message(&to, &shipped, &["外套", "SF1", "明天上午"]),
        message(&to, &booked, &["call me", "王小明"]),
        message(&to, &booked, &["10086", "王小明王小明王小明王小明"]),
        message(&to, &billed, &["128.505", "2026-12-31", "待缴费"]),
        message(&to, &billed, &["¥1", "下周", "待缴费"]),
        message(&to, &billed, &["¥1", "2026-12-31", "pending"]),
        message(&to, &points, &["1.2.3", "京A1", "VIP"]),
        message(&to, &points, &["1", "京A123456789", "VIP"]),
        message(&to, &points, &["1", "京A1", "VIP1"]),
        message(&to, &shipped, &["两行\n文字", "SF1", "2026-12-06"]),
        message(&to, &shipped, &["", "SF1", "2026-12-06"]),
    ];
    let before = sends(&emu).await;
    for m in &bad {
        let refused = client.templates().send(m).await;
        assert!(
            matches!(&refused, Err(Error::Invalid(why)) if why.contains("data.")),
            "{m:?}: {refused:?}"
        );
    }
    assert_eq!(
        sends(&emu).await,
        before,
        "no refused message left the machine"
    );
    for m in &good {
        let sent = client.templates().send(m).await.expect("sent");
        assert!(sent.msg_id.is_some());
    }
    assert_eq!(sends(&emu).await, before + good.len() as u64);

    // The emulator holds the same rules: a request made by hand is refused
    // with WeChat's 47003.
    let token = client.access_token().await.expect("token");
    let refused = emu
        .admin
        .post(format!(
            "{}{SEND}?access_token={}",
            emu.url(),
            token.expose()
        ))
        .json(&json!({"touser": to, "template_id": points.template_id,
                      "data": {"number1": {"value": "1.2.3"}, "car_number2": {"value": "京A1"},
                               "letter3": {"value": "VIP"}}}))
        .send()
        .await
        .expect("send")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(refused["errcode"], 47003, "{refused}");
}

/// Template messages the emulator delivered.
async fn delivered(emu: &Emu) -> Option<u64> {
    emu.stats().await["deliveries_by_channel"]["template"].as_u64()
}

#[tokio::test]
async fn a_client_msg_id_sends_once_within_ten_minutes() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let t = template(&client, "47123", &["商品名称"]).await;
    let mut m = message(&to, &t, &["冬季外套"]);
    m.client_msg_id = Some("order-1001-shipped".into());
    let first = client.templates().send(&m).await.expect("first");
    let again = client.templates().send(&m).await.expect("again");
    assert_eq!(first.msg_id, again.msg_id, "the same message");
    assert_eq!(delivered(&emu).await, Some(1));
    emu.advance(11 * 60).await;
    let later = client.templates().send(&m).await.expect("later");
    assert_ne!(later.msg_id, first.msg_id);
    assert_eq!(delivered(&emu).await, Some(2), "after 10 minutes, again");
    assert_eq!(
        emu.stats().await["duplicate_deliveries"],
        1,
        "the ledger sees the second delivery of the same content"
    );
}

/// Moves the emulator's clock to the start of a minute at least ten
/// minutes from a Beijing midnight, so that what follows shares one minute
/// and one day of WeChat's quotas however slow the machine.
async fn at_a_quiet_minute(emu: &Emu) {
    let now = emu.admin_get("/_emulator/clock").await["now"]
        .as_i64()
        .expect("now");
    let mut advance = 60 - now.rem_euclid(60);
    let in_beijing_day = (now + advance + 8 * 3600).rem_euclid(86_400);
    if !(60..=86_400 - 600).contains(&in_beijing_day) {
        advance += 1200;
    }
    emu.advance(advance).await;
}

#[tokio::test]
async fn the_daily_and_minute_quotas_are_kept_and_reported() {
    let emu = default_emulator().await;
    let client = emu.client();
    let to = follower(&client).await;
    let t = template(&client, "47123", &["商品名称"]).await;
    let m = message(&to, &t, &["外套"]);
    emu.admin_post(
        "/_emulator/templates/settings",
        json!({"daily_limit": 5, "per_minute": 2}),
    )
    .await;
    at_a_quiet_minute(&emu).await;
    for _ in 0..2 {
        client.templates().send(&m).await.expect("sent");
    }
    assert_eq!(
        errcode(client.templates().send(&m).await),
        Some(Errcode::ApiMinuteQuota)
    );
    let quota = client.quota().get(SEND).await.expect("quota/get");
    assert_eq!(
        (
            quota.quota.daily_limit,
            quota.quota.used,
            quota.quota.remain
        ),
        (5, 2, 3)
    );
    let rate = quota.rate_limit.expect("rate_limit");
    assert_eq!((rate.call_count, rate.refresh_second), (2, 60));

    emu.admin_post("/_emulator/templates/settings", json!({"per_minute": 1000}))
        .await;
    for _ in 0..3 {
        client.templates().send(&m).await.expect("sent");
    }
    assert_eq!(
        errcode(client.templates().send(&m).await),
        Some(Errcode::ApiFreqOutOfLimit)
    );
    assert_eq!(
        client.quota().get(SEND).await.expect("quota").quota.remain,
        0
    );
    assert!(
        matches!(
            client.quota().get("cgi-bin/x").await,
            Err(Error::Invalid(_))
        ),
        "a path without its slash is refused here"
    );
    assert_eq!(
        errcode(client.quota().get("/cgi-bin/no/such/api").await),
        Some(Errcode::CgiPathNotFound)
    );
}
