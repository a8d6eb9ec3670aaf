//! A notice on the server: made, approved and sent follower by follower by
//! the server's runner; stopped by WeChat's daily quota, which the engine
//! counts in the store, and finished after midnight, Beijing time.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wxmass_campaign::engine::WorkOptions;

use crate::helpers::{APPID, TestApp};

const FOLLOWERS: u32 = 500;
const DAILY: u64 = 300;
const SEND: &str = "/cgi-bin/message/template/send";

/// The account's order-shipped template: its id and keys.
async fn template(app: &TestApp) -> (String, Vec<String>) {
    let wechat = app.wechat();
    wechat
        .templates()
        .set_industry(1, 2)
        .await
        .expect("industry");
    let id = wechat
        .templates()
        .add("47123", &["商品名称", "快递公司", "快递单号", "发货时间"])
        .await
        .expect("template");
    let t = wechat
        .templates()
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|t| t.template_id == id)
        .expect("listed");
    (id, t.keys())
}

async fn campaign(app: &TestApp, token: &str) -> Value {
    let (status, answer) = app
        .call("GET", "/api/v1/campaigns/shipped", Some(token), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Waits, on a deadline, for the campaign to be as `done` says.
async fn wait_for(app: &TestApp, token: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = campaign(app, token).await;
        if done(&now) {
            return now;
        }
        assert!(Instant::now() < deadline, "never {what}: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_notice_stops_at_the_daily_quota_and_the_server_finishes_it_after_midnight() {
    let app = TestApp::with_followers(FOLLOWERS);
    let emulator = app.emulator().clone();
    app.state
        .clock()
        .make_movable(Some(Box::new(move |seconds| {
            emulator.clock.advance(seconds)
        })));
    app.emulator().templates().daily_limit = DAILY;
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let (template_id, keys) = template(&app).await;
    let values = ["钢笔", "顺丰速运", "SF1234567890", "2026-12-06 10:00"];
    let data: serde_json::Map<String, Value> = keys
        .into_iter()
        .zip(values)
        .map(|(k, v)| (k, json!(v)))
        .collect();
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(
                json!({"id": "shipped", "appid": APPID, "name": "Order shipped",
                "content": {"type": "notice", "via": ["template"],
                            "template": {"template_id": template_id, "data": data}},
                "audience": {"kind": "all"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/shipped/submit",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let now = wxmass_campaign::beijing::rfc3339(app.state.now());
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/shipped/approve",
            Some(&admin),
            Some(json!({"send_at": now})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(wxmass_server::runner::run(
        app.state.clone(),
        WorkOptions::new("test-server"),
        async {
            let _ = stopped.await;
        },
    ));
    // The day's quota: 300 sent, the rest waiting, nothing refused by
    // WeChat (the engine stopped at the count it keeps).
    let today = wait_for(&app, &admin, "stopped at the quota", |c| {
        c["recipients"]["sent"] == DAILY
    })
    .await;
    assert_eq!(today["state"], "running", "{today}");
    assert_eq!(today["recipients"]["planned"], u64::from(FOLLOWERS) - DAILY);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        app.emulator().calls().get(SEND).copied(),
        Some(DAILY),
        "no call past the quota"
    );
    // Past midnight, Beijing time: the server sends the rest.
    let (_, tomorrow) = wxmass_campaign::beijing::day_bounds(app.state.now());
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/clock",
            Some(&admin),
            Some(json!({"advance_seconds": tomorrow - app.state.now() + 60})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let done = wait_for(&app, &admin, "finished", |c| c["state"] == "finished").await;
    assert_eq!(done["recipients"]["sent"], FOLLOWERS, "{done}");
    let got = app.emulator().templates().messages().len();
    assert_eq!(got, FOLLOWERS as usize, "each follower once");
    let _ = stop.send(());
    runner.await.expect("runner");
}
