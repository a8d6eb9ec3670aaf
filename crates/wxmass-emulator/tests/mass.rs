//! Mass sends over HTTP: every message type, audiences, clientmsgid rules,
//! quotas across a moved clock, preview, delete, get, speed.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wxmass_emulator::{AccountType, EmulatorConfig};

const SENDALL: &str = "/cgi-bin/message/mass/sendall";
const SEND: &str = "/cgi-bin/message/mass/send";

fn text_to_tag(tag: i64, text: &str) -> Value {
    json!({"filter": {"is_to_all": false, "tag_id": tag}, "text": {"content": text}, "msgtype": "text"})
}

async fn first_tag(emu: &Emu, t: &str) -> i64 {
    let tags = emu.get("/cgi-bin/tags/get", &[("access_token", t)]).await;
    tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["count"].as_u64() > Some(0))
        .and_then(|t| t["id"].as_i64())
        .expect("a seeded tag")
}

async fn news(emu: &Emu, t: &str, articles: usize) -> String {
    let thumb = emu
        .upload("/cgi-bin/media/upload", t, "thumb", JPEG, "c.jpg")
        .await["media_id"]
        .clone();
    let list: Vec<_> = (0..articles)
        .map(|i| json!({"thumb_media_id": thumb, "title": format!("A{i}"), "content": "<p>x</p>"}))
        .collect();
    emu.post("/cgi-bin/media/uploadnews", t, json!({"articles": list}))
        .await["media_id"]
        .as_str()
        .expect("news id")
        .to_owned()
}

#[tokio::test]
async fn text_to_a_tag_runs_and_finishes() {
    let emu = start_default().await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    let v = emu.post(SENDALL, &t, text_to_tag(tag, "hello")).await;
    assert_code(&v, 0);
    assert_eq!(v["errmsg"], "send job submission success");
    assert!(
        v.get("msg_data_id").is_none(),
        "msg_data_id is for mpnews only"
    );
    let msg_id = v["msg_id"].as_i64().expect("msg_id");
    let first = emu
        .post(
            "/cgi-bin/message/mass/get",
            &t,
            json!({"msg_id": msg_id.to_string()}),
        )
        .await;
    assert_eq!(first["msg_id"], msg_id);
    assert_eq!(emu.wait_job(&t, msg_id).await, "SEND_SUCCESS");
    let members = emu
        .post("/cgi-bin/user/tag/get", &t, json!({"tagid": tag}))
        .await;
    let recipients = emu
        .admin_get(&format!("/_emulator/jobs/{msg_id}/recipients"))
        .await;
    let mut a: Vec<_> = members["data"]["openid"]
        .as_array()
        .expect("members")
        .clone();
    let mut b: Vec<_> = recipients["openids"]
        .as_array()
        .expect("recipients")
        .clone();
    a.sort_by_key(|v| v.to_string());
    b.sort_by_key(|v| v.to_string());
    assert_eq!(a, b);
    let jobs = emu.admin_get("/_emulator/jobs").await;
    let job = &jobs["jobs"][0];
    assert_eq!(job["msgtype"], "text");
    assert_eq!(job["audience"]["kind"], "tag");
    assert_eq!(job["sent_count"], job["total_count"]);
    assert_eq!(job["content_digest"].as_str().expect("digest").len(), 32);
    emu.post_expect("/cgi-bin/message/mass/get", &t, json!({"msg_id": 1}), 40059)
        .await;
}

#[tokio::test]
async fn mpnews_to_all_then_delete() {
    let emu = start_default().await;
    let t = emu.token().await;
    let news = news(&emu, &t, 2).await;
    let body = json!({"filter": {"is_to_all": true}, "mpnews": {"media_id": news}, "msgtype": "mpnews", "send_ignore_reprint": 0});
    let v = emu.post(SENDALL, &t, body).await;
    assert_code(&v, 0);
    assert!(v["msg_data_id"].as_i64().is_some());
    let msg_id = v["msg_id"].as_i64().expect("id");
    // Not finished yet: cannot be deleted.
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": msg_id}),
        40059,
    )
    .await;
    assert_eq!(emu.wait_job(&t, msg_id).await, "SEND_SUCCESS");
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": msg_id, "article_idx": 3}),
        40060,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": msg_id, "article_idx": 2}),
        0,
    )
    .await;
    assert_eq!(
        emu.post("/cgi-bin/message/mass/get", &t, json!({"msg_id": msg_id}))
            .await["msg_status"],
        "SEND_SUCCESS"
    );
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": msg_id}),
        0,
    )
    .await;
    assert_eq!(
        emu.post("/cgi-bin/message/mass/get", &t, json!({"msg_id": msg_id}))
            .await["msg_status"],
        "DELETE"
    );
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": 42}),
        40059,
    )
    .await;
    // Text jobs cannot be deleted.
    let tag = first_tag(&emu, &t).await;
    let text = emu.post(SENDALL, &t, text_to_tag(tag, "hi")).await["msg_id"]
        .as_i64()
        .expect("id");
    emu.wait_job(&t, text).await;
    emu.post_expect(
        "/cgi-bin/message/mass/delete",
        &t,
        json!({"msg_id": text}),
        40008,
    )
    .await;
}

#[tokio::test]
async fn draft_is_removed_after_a_send_to_all() {
    let emu = start_default().await;
    let t = emu.token().await;
    let thumb = emu
        .upload("/cgi-bin/material/add_material", &t, "thumb", JPEG, "c.jpg")
        .await["media_id"]
        .clone();
    let draft = emu
        .post(
            "/cgi-bin/draft/add",
            &t,
            json!({"articles": [{"thumb_media_id": thumb, "title": "T", "content": "<p>x</p>"}]}),
        )
        .await["media_id"]
        .clone();
    let body = json!({"filter": {"is_to_all": true}, "mpnews": {"media_id": draft}, "msgtype": "mpnews", "clientmsgid": "d1"});
    emu.post_expect(SENDALL, &t, body, 0).await;
    let again = json!({"filter": {"is_to_all": true}, "mpnews": {"media_id": draft}, "msgtype": "mpnews", "clientmsgid": "d2"});
    emu.post_expect(SENDALL, &t, again, 40007).await;
}

#[tokio::test]
async fn send_to_openids() {
    let emu = start_default().await;
    let t = emu.token().await;
    let users = emu.openids(&t, 5).await;
    let body =
        |touser: Value| json!({"touser": touser, "text": {"content": "hi"}, "msgtype": "text"});
    emu.post_expect(SEND, &t, body(json!([users[0]])), 40130)
        .await;
    let too_many: Vec<_> = (0..10_001).map(|i| format!("o{i:027}")).collect();
    emu.post_expect(SEND, &t, body(json!(too_many)), 40032)
        .await;
    let v = emu.post(SEND, &t, body(json!(users))).await;
    assert_code(&v, 0);
    let msg_id = v["msg_id"].as_i64().expect("id");
    emu.wait_job(&t, msg_id).await;
    let recipients = emu
        .admin_get(&format!("/_emulator/jobs/{msg_id}/recipients"))
        .await;
    assert_eq!(recipients["openids"].as_array().expect("list").len(), 5);
    // Strangers in the list are counted but not delivered to.
    let mut mixed = users[..2].to_vec();
    mixed.push("oNotAFollowerOfThisAccount00".into());
    let v = emu.post(SEND, &t, body(json!(mixed))).await;
    let msg_id = v["msg_id"].as_i64().expect("id");
    emu.wait_job(&t, msg_id).await;
    let job = emu.admin_get("/_emulator/jobs").await["jobs"][1].clone();
    assert_eq!(job["total_count"], 3);
    assert_eq!(job["sent_count"], 2);
}

#[tokio::test]
async fn message_types_and_media_checks() {
    let emu = start_default().await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    let filter = json!({"is_to_all": false, "tag_id": tag});
    let temp_voice = emu
        .upload("/cgi-bin/media/upload", &t, "voice", AMR, "v.amr")
        .await["media_id"]
        .clone();
    let perm_voice = emu
        .upload("/cgi-bin/material/add_material", &t, "voice", AMR, "v.amr")
        .await["media_id"]
        .clone();
    let perm_image = emu
        .upload("/cgi-bin/material/add_material", &t, "image", PNG, "i.png")
        .await["media_id"]
        .clone();
    let video = emu
        .upload("/cgi-bin/media/upload", &t, "video", MP4, "v.mp4")
        .await["media_id"]
        .clone();
    let mpvideo = emu
        .post(
            "/cgi-bin/media/uploadvideo",
            &t,
            json!({"media_id": video, "title": "T", "description": "D"}),
        )
        .await["media_id"]
        .clone();

    let cases = [
        (
            json!({"filter": filter, "voice": {"media_id": temp_voice}, "msgtype": "voice"}),
            40128,
        ),
        (
            json!({"filter": filter, "voice": {"media_id": "missing"}, "msgtype": "voice"}),
            40007,
        ),
        (
            json!({"filter": filter, "voice": {"media_id": perm_voice}, "msgtype": "voice"}),
            0,
        ),
        (
            json!({"filter": filter, "images": {"media_ids": [perm_image], "recommend": "r", "need_open_comment": 1, "only_fans_can_comment": 0}, "msgtype": "image"}),
            0,
        ),
        (
            json!({"filter": filter, "image": {"media_id": perm_voice}, "msgtype": "image"}),
            40007,
        ),
        (
            json!({"filter": filter, "mpvideo": {"media_id": mpvideo}, "msgtype": "mpvideo"}),
            0,
        ),
        (
            json!({"filter": filter, "mpvideo": {"media_id": video}, "msgtype": "mpvideo"}),
            40007,
        ),
        (
            json!({"filter": filter, "wxcard": {"card_id": "123dsdajkasd231jhksad"}, "msgtype": "wxcard"}),
            0,
        ),
        (
            json!({"filter": filter, "mpnews": {"media_id": perm_image}, "msgtype": "mpnews"}),
            40007,
        ),
        (
            json!({"filter": filter, "text": {"content": ""}, "msgtype": "text"}),
            44004,
        ),
        (
            json!({"filter": filter, "text": {"content": "x".repeat(2049)}, "msgtype": "text"}),
            45002,
        ),
        (
            json!({"filter": filter, "music": {"media_id": perm_voice}, "msgtype": "music"}),
            40008,
        ),
        (json!({"filter": filter, "msgtype": "text"}), 40008),
        (json!({"filter": filter, "text": {"content": "x"}}), 40008),
        (
            json!({"filter": {"is_to_all": false, "tag_id": 777}, "text": {"content": "x"}, "msgtype": "text"}),
            45159,
        ),
        (json!({"text": {"content": "x"}, "msgtype": "text"}), 47001),
    ];
    for (i, (body, expected)) in cases.into_iter().enumerate() {
        let v = emu.post(SENDALL, &t, body).await;
        assert_eq!(code(&v), expected, "case {i}: {v}");
        emu.advance(61).await;
    }
    // Legacy group_id and a string tag_id are accepted.
    let legacy = json!({"filter": {"is_to_all": false, "group_id": tag.to_string()}, "text": {"content": "legacy"}, "msgtype": "text"});
    emu.post_expect(SENDALL, &t, legacy, 0).await;
}

#[tokio::test]
async fn clientmsgid_rules() {
    let emu = start_default().await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    let mut body = text_to_tag(tag, "one");
    body["clientmsgid"] = json!("campaign-1-batch-0");
    let first = emu.post(SENDALL, &t, body.clone()).await;
    let msg_id = first["msg_id"].as_i64().expect("id");
    emu.post_expect(SENDALL, &t, body.clone(), 45066).await;
    emu.advance(61).await;
    let dup = emu.post(SENDALL, &t, body.clone()).await;
    assert_code(&dup, 45065);
    assert_eq!(dup["msg_id"], msg_id, "45065 carries the original msg_id");
    emu.advance(86_400).await;
    let t = emu.token().await;
    emu.post_expect(SENDALL, &t, body.clone(), 0).await;
    body["clientmsgid"] = json!("x".repeat(33));
    emu.post_expect(SENDALL, &t, body.clone(), 45067).await;
    body["clientmsgid"] = json!("x".repeat(32));
    emu.post_expect(SENDALL, &t, body, 0).await;
    // Without a clientmsgid the same content to the same audience is a duplicate.
    emu.advance(61).await;
    let plain = text_to_tag(tag, "implicit");
    emu.post_expect(SENDALL, &t, plain.clone(), 0).await;
    emu.advance(61).await;
    emu.post_expect(SENDALL, &t, plain, 45065).await;
    // ...but not to another audience.
    let other =
        json!({"filter": {"is_to_all": true}, "text": {"content": "implicit"}, "msgtype": "text"});
    emu.post_expect(SENDALL, &t, other, 0).await;
}

#[tokio::test]
async fn subscription_accounts_send_once_a_day() {
    let emu = start(EmulatorConfig {
        followers: 10,
        tags: 1,
        account_type: AccountType::Subscription,
        job_delay: Duration::from_millis(20),
        ..EmulatorConfig::default()
    })
    .await;
    emu.align(86_400).await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    emu.post_expect(SENDALL, &t, text_to_tag(tag, "a"), 0).await;
    emu.post_expect(SENDALL, &t, text_to_tag(tag, "b"), 45028)
        .await;
    let users = emu.openids(&t, 2).await;
    let to_users = json!({"touser": users, "text": {"content": "c"}, "msgtype": "text"});
    emu.post_expect(SEND, &t, to_users, 48001).await;
    emu.advance(86_400).await;
    let t = emu.token().await;
    emu.post_expect(SENDALL, &t, text_to_tag(tag, "b"), 0).await;
}

#[tokio::test]
async fn service_accounts_four_a_month() {
    let emu = start_default().await;
    let t = emu.token().await;
    // Four send-to-all jobs a month.
    let mut ids = Vec::new();
    for i in 0..4 {
        let v = emu.post(SENDALL, &t, json!({"filter": {"is_to_all": true}, "text": {"content": format!("m{i}")}, "msgtype": "text"})).await;
        assert_code(&v, 0);
        ids.push(v["msg_id"].as_i64().expect("id"));
    }
    emu.post_expect(
        SENDALL,
        &t,
        json!({"filter": {"is_to_all": true}, "text": {"content": "m5"}, "msgtype": "text"}),
        45028,
    )
    .await;
    for id in &ids {
        emu.wait_job(&t, *id).await;
    }
    // Every follower has had four: a fifth message to a tag reaches nobody.
    let tag = first_tag(&emu, &t).await;
    let v = emu.post(SENDALL, &t, text_to_tag(tag, "fifth")).await;
    let id = v["msg_id"].as_i64().expect("id");
    assert_eq!(emu.wait_job(&t, id).await, "SEND_FAIL");
    let jobs = emu.admin_get("/_emulator/jobs").await;
    let last = jobs["jobs"]
        .as_array()
        .expect("jobs")
        .last()
        .cloned()
        .expect("job");
    assert!(last["total_count"].as_u64() > Some(0));
    assert_eq!(last["filter_count"], 0);
    // Next month they can receive again.
    emu.advance(32 * 86_400).await;
    let t = emu.token().await;
    let v = emu.post(SENDALL, &t, text_to_tag(tag, "new month")).await;
    let id = v["msg_id"].as_i64().expect("id");
    assert_eq!(emu.wait_job(&t, id).await, "SEND_SUCCESS");
}

#[tokio::test]
async fn sixty_sends_a_minute() {
    let emu = start_default().await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    emu.align(60).await;
    for i in 0..60 {
        emu.post_expect(SENDALL, &t, text_to_tag(tag, &format!("r{i}")), 0)
            .await;
    }
    emu.post_expect(SENDALL, &t, text_to_tag(tag, "r60"), 45011)
        .await;
}

#[tokio::test]
async fn load_tests_can_lift_the_quotas() {
    let emu = start(EmulatorConfig {
        followers: 30,
        tags: 2,
        account_type: AccountType::Subscription,
        quotas: false,
        ..EmulatorConfig::default()
    })
    .await;
    let t = emu.token().await;
    let tag = first_tag(&emu, &t).await;
    emu.align(60).await;
    // Past 60 a minute, 100 a day, and a subscription account's one a day.
    for i in 0..120 {
        emu.post_expect(SENDALL, &t, text_to_tag(tag, &format!("load {i}")), 0)
            .await;
    }
    // Other rules still hold: the same clientmsgid is still a repeat.
    emu.post_expect(SENDALL, &t, text_to_tag(tag, "load 0"), 45066)
        .await;
}

#[tokio::test]
async fn duplicate_deliveries_are_counted() {
    let emu = start_default().await;
    let t = emu.token().await;
    let users = emu.openids(&t, 2).await;
    for id in ["a", "b"] {
        let body = json!({"touser": users, "text": {"content": "same"}, "msgtype": "text", "clientmsgid": id});
        let msg = emu.post(SEND, &t, body).await["msg_id"]
            .as_i64()
            .expect("id");
        emu.wait_job(&t, msg).await;
    }
    let stats = emu.admin_get("/_emulator/stats").await;
    assert_eq!(stats["deliveries"], 4);
    assert_eq!(stats["duplicate_deliveries"], 2);
}

#[tokio::test]
async fn preview_and_speed() {
    let emu = start_default().await;
    let t = emu.token().await;
    let users = emu.openids(&t, 1).await;
    let preview = "/cgi-bin/message/mass/preview";
    let v = emu
        .post(
            preview,
            &t,
            json!({"touser": users[0], "text": {"content": "p"}, "msgtype": "text"}),
        )
        .await;
    assert_code(&v, 0);
    assert_eq!(v["errmsg"], "preview success");
    emu.post_expect(
        preview,
        &t,
        json!({"towxname": "someone", "text": {"content": "p"}, "msgtype": "text"}),
        0,
    )
    .await;
    emu.post_expect(
        preview,
        &t,
        json!({"touser": "stranger", "text": {"content": "p"}, "msgtype": "text"}),
        40003,
    )
    .await;
    emu.post_expect(
        preview,
        &t,
        json!({"text": {"content": "p"}, "msgtype": "text"}),
        41009,
    )
    .await;
    let voice = emu
        .upload("/cgi-bin/material/add_material", &t, "voice", AMR, "v.amr")
        .await["media_id"]
        .clone();
    emu.post_expect(
        preview,
        &t,
        json!({"touser": users[0], "music": {"media_id": voice}, "msgtype": "music"}),
        0,
    )
    .await;
    assert_eq!(emu.admin_get("/_emulator/stats").await["previews"], 3);

    let speed = emu
        .post_text("/cgi-bin/message/mass/speed/get", &t, "")
        .await;
    assert_eq!(speed, json!({"speed": 0, "realspeed": 80}));
    emu.post_expect(
        "/cgi-bin/message/mass/speed/set",
        &t,
        json!({"speed": 3}),
        0,
    )
    .await;
    assert_eq!(
        emu.post("/cgi-bin/message/mass/speed/get", &t, json!({}))
            .await,
        json!({"speed": 3, "realspeed": 30})
    );
    emu.post_expect(
        "/cgi-bin/message/mass/speed/set",
        &t,
        json!({"speed": 5}),
        45083,
    )
    .await;
    emu.post_expect("/cgi-bin/message/mass/speed/set", &t, json!({}), 45084)
        .await;
}

#[tokio::test]
async fn preview_by_wechat_id_is_limited_and_clear_quota_resets() {
    let emu = start_default().await;
    emu.align(86_400).await;
    let t = emu.token().await;
    let preview = "/cgi-bin/message/mass/preview";
    let body = json!({"towxname": "someone", "text": {"content": "p"}, "msgtype": "text"});
    for _ in 0..100 {
        emu.post_expect(preview, &t, body.clone(), 0).await;
    }
    emu.post_expect(preview, &t, body.clone(), 45009).await;
    let appid = wxmass_emulator::config::DEFAULT_APPID;
    emu.post_expect(
        "/cgi-bin/clear_quota",
        &t,
        json!({"appid": "wx0000000000000000"}),
        40013,
    )
    .await;
    emu.post_expect("/cgi-bin/clear_quota", &t, json!({"appid": appid}), 0)
        .await;
    emu.post_expect(preview, &t, body, 0).await;
    for _ in 0..9 {
        emu.post_expect("/cgi-bin/clear_quota", &t, json!({"appid": appid}), 0)
            .await;
    }
    emu.post_expect("/cgi-bin/clear_quota", &t, json!({"appid": appid}), 48006)
        .await;
}
