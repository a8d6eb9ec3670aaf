//! Job completion and its MASSSENDJOBFINISH push in all three modes, received,
//! verified and decrypted by wxmass-callback; retries of a failing receiver.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use serde_json::json;
use wxmass_callback::{CallbackConfig, Push};
use wxmass_emulator::{CallbackMode, CallbackTarget, EmulatorConfig};

const TOKEN: &str = "pushToken1";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

async fn receiver(
    allow_plaintext: bool,
) -> (
    String,
    wxmass_callback::PushReceiver,
    tokio::task::JoinHandle<()>,
) {
    let mut config =
        CallbackConfig::builder(TOKEN, wxmass_emulator::config::DEFAULT_APPID).aes_key(KEY);
    if allow_plaintext {
        config = config.allow_plaintext(true);
    }
    let (router, rx) = wxmass_callback::router(config.build().expect("config"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, rx, task)
}

async fn run_mode(mode: CallbackMode) {
    let (url, mut rx, task) = receiver(mode == CallbackMode::Plain).await;
    let emu = start(EmulatorConfig {
        followers: 12,
        tags: 1,
        job_delay: Duration::from_millis(30),
        callback: Some(CallbackTarget {
            url,
            token: TOKEN.into(),
            aes_key: Some(KEY.into()),
            mode,
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let t = emu.token().await;
    let thumb = emu
        .upload("/cgi-bin/media/upload", &t, "thumb", JPEG, "c.jpg")
        .await["media_id"]
        .clone();
    let news = emu
        .post(
            "/cgi-bin/media/uploadnews",
            &t,
            json!({"articles": [{"thumb_media_id": thumb, "title": "T", "content": "<p>x</p>"}]}),
        )
        .await["media_id"]
        .clone();
    let sent = emu
        .post("/cgi-bin/message/mass/sendall", &t, json!({"filter": {"is_to_all": true}, "mpnews": {"media_id": news}, "msgtype": "mpnews"}))
        .await;
    let msg_id = sent["msg_id"].as_i64().expect("msg_id");
    let push = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("push within 10 s")
        .expect("a push");
    let Push::MassSendJobFinish(job) = push else {
        panic!("expected MASSSENDJOBFINISH, got {push:?}")
    };
    assert_eq!(job.msg_id, msg_id);
    assert!(job.status.is_success());
    assert_eq!((job.total_count, job.sent_count), (12, 12));
    assert_eq!(job.to_user_name, emu.running.emulator.config.original_id());
    let urls = job.article_url_result.expect("article URLs for mpnews");
    assert_eq!(urls.items.len(), 1);
    assert!(job.copyright_check_result.is_some());
    let pushes = emu.admin_get("/_emulator/pushes").await;
    let first = &pushes["pushes"][0];
    assert_eq!(first["accepted"], true, "{pushes}");
    assert_eq!(first["attempt"], 1);
    task.abort();
}

#[tokio::test]
async fn push_in_plain_mode() {
    run_mode(CallbackMode::Plain).await;
}

#[tokio::test]
async fn push_in_compatible_mode() {
    run_mode(CallbackMode::Compat).await;
}

#[tokio::test]
async fn push_in_safe_mode() {
    run_mode(CallbackMode::Safe).await;
}

#[tokio::test]
async fn a_failing_receiver_gets_three_attempts() {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/",
        axum::routing::post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "boom")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let emu = start(EmulatorConfig {
        followers: 3,
        job_delay: Duration::from_millis(10),
        callback: Some(CallbackTarget {
            url,
            token: TOKEN.into(),
            aes_key: None,
            mode: CallbackMode::Plain,
        }),
        ..EmulatorConfig::default()
    })
    .await;
    let t = emu.token().await;
    emu.post(
        "/cgi-bin/message/mass/sendall",
        &t,
        json!({"filter": {"is_to_all": true}, "text": {"content": "x"}, "msgtype": "text"}),
    )
    .await;
    for _ in 0..100 {
        if hits.load(Ordering::SeqCst) >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(hits.load(Ordering::SeqCst), 3, "three attempts in all");
    let pushes = emu.admin_get("/_emulator/pushes").await;
    let attempts = pushes["pushes"].as_array().expect("list");
    assert_eq!(attempts.len(), 3);
    assert!(
        attempts
            .iter()
            .all(|a| a["accepted"] == false && a["status"] == 500)
    );
    server.abort();
}

#[tokio::test]
async fn moving_the_clock_finishes_jobs_at_once() {
    let emu = start(EmulatorConfig {
        followers: 3,
        job_delay: Duration::from_secs(3600),
        ..EmulatorConfig::default()
    })
    .await;
    let t = emu.token().await;
    let v = emu
        .post(
            "/cgi-bin/message/mass/sendall",
            &t,
            json!({"filter": {"is_to_all": true}, "text": {"content": "x"}, "msgtype": "text"}),
        )
        .await;
    let msg_id = v["msg_id"].as_i64().expect("id");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        emu.post("/cgi-bin/message/mass/get", &t, json!({"msg_id": msg_id}))
            .await["msg_status"],
        "SENDING"
    );
    emu.advance(3600).await;
    let t = emu.token().await;
    assert_eq!(emu.wait_job(&t, msg_id).await, "SEND_SUCCESS");
}

/// Template messages are each reported by a TEMPLATESENDJOBFINISH push:
/// `success`, `failed:user block` for a follower who blocked the account,
/// `failed:freq limit` past the per-follower cap.
#[tokio::test]
async fn template_messages_are_reported_one_by_one() {
    let (url, mut rx, task) = receiver(true).await;
    let emu = pushing_plainly(url, 3).await;
    let t = emu.token().await;
    emu.post_expect(
        "/cgi-bin/template/api_set_industry",
        &t,
        json!({"industry_id1": "1", "industry_id2": "2"}),
        0,
    )
    .await;
    let added = emu
        .post(
            "/cgi-bin/template/api_add_template",
            &t,
            json!({"template_id_short": "47123", "keyword_name_list": ["商品名称"]}),
        )
        .await;
    let template_id = added["template_id"]
        .as_str()
        .expect("template_id")
        .to_owned();
    let followers = emu.get("/cgi-bin/user/get", &[("access_token", &t)]).await;
    let openid = |i: usize| {
        followers["data"]["openid"][i]
            .as_str()
            .expect("openid")
            .to_owned()
    };
    let (blocked, fine) = (openid(0), openid(1));
    let (status, _) = emu
        .admin_post("/_emulator/blocked", json!({"openids": [blocked]}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = emu
        .admin_post(
            "/_emulator/templates/settings",
            json!({"per_follower_daily": 1}),
        )
        .await;
    assert_eq!(status, 200);
    let mut expected = std::collections::HashMap::new();
    for (to, status) in [
        (&blocked, "failed:user block"),
        (&fine, "success"),
        (&fine, "failed:freq limit"),
    ] {
        let sent = emu
            .post(
                "/cgi-bin/message/template/send",
                &t,
                json!({"touser": to, "template_id": template_id,
                       "data": {"thing1": {"value": "冬季外套"}}}),
            )
            .await;
        assert_code(&sent, 0);
        expected.insert(sent["msgid"].as_i64().expect("msgid"), (to.clone(), status));
    }
    for _ in 0..3 {
        let push = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("a push within 10 s")
            .expect("a push");
        let Push::TemplateSendJobFinish(report) = push else {
            panic!("expected TEMPLATESENDJOBFINISH, got {push:?}")
        };
        let (to, status) = expected
            .remove(&report.msg_id)
            .expect("one report per message");
        assert_eq!(report.recipient, to);
        assert_eq!(report.status.as_wechat(), status);
    }
    let stats = emu.admin_get("/_emulator/stats").await;
    assert_eq!(stats["deliveries_by_channel"]["template"], 1, "{stats}");
    task.abort();
}

/// A follower's consent to a notice is pushed as subscribe_msg_popup_event
/// (accept); a delivered notice as subscribe_msg_sent_event with its MsgID.
#[tokio::test]
async fn subscription_events_are_pushed() {
    let (url, mut rx, task) = receiver(true).await;
    let emu = pushing_plainly(url, 2).await;
    let t = emu.token().await;
    let added = emu
        .post(
            "/wxaapi/newtmpl/addtemplate",
            &t,
            json!({"tid": 1001, "kidList": [1, 2], "sceneDesc": "缴费"}),
        )
        .await;
    let template_id = added["priTmplId"].as_str().expect("priTmplId").to_owned();
    let followers = emu.get("/cgi-bin/user/get", &[("access_token", &t)]).await;
    let openid = followers["data"]["openid"][0]
        .as_str()
        .expect("openid")
        .to_owned();
    let (status, _) = emu
        .admin_post(
            "/_emulator/consents",
            json!({"openid": openid, "template_id": template_id}),
        )
        .await;
    assert_eq!(status, 200);
    let Push::Subscription(popup) = next_push(&mut rx).await else {
        panic!("expected a subscription event")
    };
    assert_eq!(popup.kind, wxmass_callback::SubscriptionKind::Popup);
    assert_eq!(
        (popup.openid.as_str(), popup.items[0].status.as_str()),
        (openid.as_str(), "accept")
    );
    assert_eq!(popup.items[0].template_id, template_id);
    let sent = emu
        .post(
            "/cgi-bin/message/subscribe/bizsend",
            &t,
            json!({"touser": openid, "template_id": template_id,
                   "data": {"thing1": {"value": "物业费"}, "amount2": {"value": "¥320.00"}}}),
        )
        .await;
    assert_code(&sent, 0);
    let Push::Subscription(delivered) = next_push(&mut rx).await else {
        panic!("expected a subscription event")
    };
    assert_eq!(delivered.kind, wxmass_callback::SubscriptionKind::Sent);
    assert_eq!(delivered.items[0].error_code, Some(0));
    assert!(delivered.items[0].msg_id.is_some());
    task.abort();
}

/// The next push, within 10 seconds.
async fn next_push(rx: &mut wxmass_callback::PushReceiver) -> Push {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a push within 10 s")
        .expect("a push")
}

/// An emulator of `followers` that pushes to `url` in plain mode.
async fn pushing_plainly(url: String, followers: u32) -> Emu {
    start(EmulatorConfig {
        followers,
        tags: 1,
        job_delay: Duration::from_millis(30),
        callback: Some(CallbackTarget {
            url,
            token: TOKEN.into(),
            aes_key: Some(KEY.into()),
            mode: CallbackMode::Plain,
        }),
        ..EmulatorConfig::default()
    })
    .await
}
