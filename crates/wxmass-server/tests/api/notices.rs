//! A notice on the server: made, approved and sent follower by follower by
//! the server's runner; stopped by WeChat's daily quota, which the engine
//! counts in the store, and finished after midnight, Beijing time; its
//! template checked against the account's; its failures downloaded and its
//! unknown recipients sent again on request.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wxmass_campaign::engine::WorkOptions;

use crate::helpers::{APPID, TestApp};

const FOLLOWERS: u32 = 500;
const DAILY: u64 = 300;
const SEND: &str = "/cgi-bin/message/template/send";
const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";

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

async fn campaign(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, answer) = app
        .call("GET", &format!("/api/v1/campaigns/{id}"), Some(token), None)
        .await;
    assert_eq!(status, 200, "{answer}");
    answer
}

/// Waits, on a deadline, for campaign `id` to be as `done` says.
async fn wait_for(
    app: &TestApp,
    token: &str,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = campaign(app, token, id).await;
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
    approved(
        &app,
        &admin,
        "shipped",
        json!({"type": "notice", "via": ["template"],
               "template": {"template_id": template_id, "data": data}}),
    )
    .await;

    let runner = Runner::start(&app);
    // The day's quota: 300 sent, the rest waiting, nothing refused by
    // WeChat (the engine stopped at the count it keeps).
    let today = wait_for(&app, &admin, "shipped", "stopped at the quota", |c| {
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
    let done = wait_for(&app, &admin, "shipped", "finished", |c| {
        c["state"] == "finished"
    })
    .await;
    assert_eq!(done["recipients"]["sent"], FOLLOWERS, "{done}");
    let got = app.emulator().templates().messages().len();
    assert_eq!(got, FOLLOWERS as usize, "each follower once");
    runner.stop().await;
}

/// Makes campaign `id` to all followers with `content`, submits it and
/// approves it to send now.
async fn approved(app: &TestApp, token: &str, id: &str, content: Value) {
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(token),
            Some(
                json!({"id": id, "appid": APPID, "name": id, "content": content,
                        "audience": {"kind": "all"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    for (step, body) in [
        ("submit", None),
        (
            "approve",
            Some(json!({"send_at": wxmass_campaign::beijing::rfc3339(app.state.now())})),
        ),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/{id}/{step}"),
                Some(token),
                body,
            )
            .await;
        assert_eq!(status, 200, "{step}: {answer}");
    }
}

/// The server's runner, sending what is due until stopped.
struct Runner {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Runner {
    fn start(app: &TestApp) -> Runner {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(wxmass_server::runner::run(
            app.state.clone(),
            WorkOptions::new("test-server"),
            async {
                let _ = stopped.await;
            },
        ));
        Runner { stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.expect("runner");
    }
}

#[tokio::test]
async fn a_template_notice_names_one_of_the_accounts_templates_and_its_keywords() {
    let app = TestApp::with_followers(5);
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let (template_id, keys) = template(&app).await;
    // The account's templates, with the keys each takes.
    let (status, listed) = app
        .call(
            "GET",
            &format!("/api/v1/accounts/{APPID}/templates"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{listed}");
    let shown = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["template_id"] == template_id.as_str())
        .expect("the template is listed");
    assert_eq!(shown["keys"], json!(keys));
    let create = |template_id: &str, data: Value| {
        json!({"id": "wrong", "appid": APPID, "name": "wrong", "audience": {"kind": "all"},
               "content": {"type": "notice", "via": ["template"],
                           "template": {"template_id": template_id, "data": data}}})
    };
    // A keyword the template lacks, and those it has left out: refused
    // before anything is stored, in the CLI's words.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(create(&template_id, json!({"thing9": "钢笔"}))),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["field"], "content.template.data",
        "{answer}"
    );
    let said = answer["error"]["message"].as_str().expect("message");
    assert!(said.contains("thing9 not in the template"), "{said}");
    assert!(said.contains(&keys.join(", ")), "{said}");
    // A template the account does not have.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(create("not-ours", json!({"thing1": "钢笔"}))),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(
        answer["error"]["field"], "content.template.template_id",
        "{answer}"
    );
    let (status, _) = app
        .call("GET", "/api/v1/campaigns/wrong", Some(&admin), None)
        .await;
    assert_eq!(status, 404, "nothing stored");
}

#[tokio::test]
async fn a_notices_failures_download_and_its_unknown_recipients_go_again_on_request() {
    const OPEN: u32 = 40;
    const FOLLOWERS: u32 = 60;
    let app = TestApp::with_followers(FOLLOWERS);
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let wechat = app.emulator().clone();
    let openids: Vec<String> = {
        let account = wechat.account();
        (0..FOLLOWERS).map(|i| account.openid_of(i)).collect()
    };
    // The first 40 wrote to the account: their windows are open; the
    // other 20 are refused (45015). Half the answers, messages and
    // refusals alike, are lost after WeChat acted: those recipients are
    // unknown.
    {
        let now = wechat.clock.now_ms();
        let mut windows = wechat.windows();
        for i in 0..OPEN {
            windows.open(i, wxmass_emulator::api::custom::Interaction::Message, now);
        }
    }
    let mut faults = wxmass_emulator::Faults::default();
    faults.paths.insert(
        CUSTOM_SEND.into(),
        wxmass_emulator::PathFault {
            drop_rate: 0.5,
            ..Default::default()
        },
    );
    wechat.set_faults(faults);
    approved(
        &app,
        &admin,
        "told",
        json!({"type": "notice", "via": ["customer_service"], "custom_text": "您的订单已发货"}),
    )
    .await;
    let runner = Runner::start(&app);
    let done = wait_for(&app, &admin, "told", "finished", |c| {
        c["state"] == "finished"
    })
    .await;
    let unknown = done["recipients"]["unknown"].as_u64().expect("unknown");
    assert!(unknown > 0, "some answers were lost: {done}");

    // Added up: refused with 45015 (only those whose window was shut),
    // sent, or unknown (an answer lost, refusal or not).
    let (status, tally) = app
        .call(
            "GET",
            "/api/v1/campaigns/told/recipients",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{tally}");
    assert_eq!(tally["recipients"], FOLLOWERS, "{tally}");
    assert_eq!(tally["failed"][0]["errcode"], 45015, "{tally}");
    let refused = tally["failed"][0]["recipients"].as_u64().expect("failed");
    let sent = tally["by_state"]["sent"].as_u64().expect("sent");
    assert_eq!(refused + sent + unknown, u64::from(FOLLOWERS), "{tally}");
    assert_eq!(tally["sent_by_channel"]["customer_service"], sent);

    // The failures, as CSV: followers whose window was shut, each once.
    let (status, headers, csv) = app
        .download("/api/v1/campaigns/told/recipients.csv", &admin)
        .await;
    assert_eq!(status, 200, "{csv}");
    assert!(
        headers["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/csv"),
        "{headers:?}"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .expect("disposition")
            .contains("told-failed.csv")
    );
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(wxmass_campaign::notices::CSV_HEADER.trim_end())
    );
    let shut = &openids[OPEN as usize..];
    let mut failed = 0;
    for line in lines {
        assert!(line.contains(",customer_service,45015,"), "{line}");
        let openid = line.split(',').next().expect("openid");
        assert!(shut.iter().any(|o| o == openid), "{line}");
        failed += 1;
    }
    assert_eq!(failed, refused);
    let (status, _, csv) = app
        .download(
            "/api/v1/campaigns/told/recipients.csv?state=unknown",
            &admin,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count() as u64, unknown + 1, "{csv}");
    let (status, _, said) = app
        .download("/api/v1/campaigns/told/recipients.csv?state=lost", &admin)
        .await;
    assert_eq!(status, 400, "{said}");

    // The unknown ones, sent again on request: none is left unknown, and
    // every follower whose window was open has the message.
    wechat.set_faults(wxmass_emulator::Faults::default());
    let (status, resent) = app
        .call(
            "POST",
            "/api/v1/campaigns/told/resend-unknown",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{resent}");
    assert_eq!(resent["resent"], unknown, "{resent}");
    assert_eq!(resent["campaign"]["state"], "scheduled", "{resent}");
    let again = wait_for(&app, &admin, "told", "finished again", |c| {
        c["state"] == "finished" && c["recipients"]["planned"] == 0
    })
    .await;
    assert_eq!(again["recipients"]["unknown"], 0, "{again}");
    assert_eq!(again["recipients"]["sent"], OPEN, "{again}");
    assert_eq!(again["recipients"]["failed"], FOLLOWERS - OPEN, "{again}");
    {
        let account = wechat.account();
        for i in 0..FOLLOWERS {
            let got = account.received(i).get("custom").copied().unwrap_or(0);
            match i < OPEN {
                // Once, or twice where a lost answer's message had arrived.
                true => assert!((1..=2).contains(&got), "follower {i}: {got}"),
                false => assert_eq!(got, 0, "follower {i}"),
            }
        }
    }
    // Nothing unknown is left to send.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/told/resend-unknown",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    runner.stop().await;
}
