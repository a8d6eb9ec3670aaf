//! The server as a third-party platform (`--platform`), against the
//! emulator's open platform pushing to it over loopback: the release test,
//! an account authorising with a scan, sending for it with no AppSecret,
//! its reports on `/platform/callback/{appid}`, and its withdrawal.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wxmass_emulator::platform::account_appid;
use wxmass_emulator::{PLATFORM_APPID, PLATFORM_SECRET};

use crate::helpers::*;

/// Waits, on a deadline, for `done` to see what it waits for.
pub(crate) async fn wait_until<T>(what: &str, mut done: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(found) = done().await {
            return found;
        }
        assert!(Instant::now() < deadline, "never {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn accounts(app: &TestApp, token: &str) -> Vec<Value> {
    let (status, answer) = app.call("GET", "/api/v1/accounts", Some(token), None).await;
    assert_eq!(status, 200, "{answer}");
    answer.as_array().cloned().unwrap_or_default()
}

pub(crate) async fn the_ticket_is_kept(app: &TestApp) {
    let platform = app.state.platform().expect("a platform");
    wait_until("the first ticket kept", async || {
        platform
            .component()
            .has_fresh_ticket()
            .await
            .ok()?
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn the_release_test_passes_with_each_of_the_five_test_accounts() {
    let app = TestApp::platform(1, 3);
    app.the_ticket_is_kept_then().await;
    for group in 1..=5 {
        let result = app
            .wechat_admin("/_emulator/platform/release_test", json!({"group": group}))
            .await;
        assert_eq!(result["passed"], true, "group {group}: {result}");
    }
    // The test accounts never become accounts of the server.
    let admin = app.first_admin().await;
    assert!(accounts(&app, &admin).await.is_empty());
}

impl TestApp {
    async fn the_ticket_is_kept_then(&self) {
        the_ticket_is_kept(self).await;
    }
}

#[tokio::test]
async fn an_account_authorises_sends_without_a_secret_and_withdraws() {
    let app = TestApp::platform(2, 4);
    let admin = app.first_admin().await;
    the_ticket_is_kept(&app).await;
    let appid = account_appid(PLATFORM_APPID, 0);

    // The admin's scan, without set 89: the server exchanges the code of
    // the `authorized` push before it answers.
    let scan = app
        .wechat_admin(
            "/_emulator/platform/authorize",
            json!({"appid": appid, "permission_sets": [1, 2, 7]}),
        )
        .await;
    assert_eq!(scan["info_type"], "authorized", "{scan}");
    let listed = accounts(&app, &admin).await;
    let account = listed
        .iter()
        .find(|a| a["appid"] == appid.as_str())
        .unwrap_or_else(|| panic!("the account appears: {listed:?}"));
    assert_eq!(
        account["callback_path"],
        format!("/platform/callback/{appid}")
    );
    assert_eq!(account["account_type"], "service");
    assert_eq!(account["authorised"]["permission_sets"], json!([1, 2, 7]));
    let warnings = account["authorised"]["warnings"].to_string();
    assert!(
        warnings.contains("89") && !warnings.contains("set 7"),
        "{warnings}"
    );
    // Its code was exchanged once: the browser's redirect finds it claimed.
    let platform = app.state.platform().expect("platform");
    let again = wxmass_server::platform::exchange(
        &app.state,
        platform,
        scan["auth_code"].as_str().expect("code"),
        &appid,
    )
    .await
    .expect("claimed");
    assert_eq!(again, wxmass_server::platform::Exchanged::AlreadyClaimed);

    // A text to its followers, sent with the platform's token for it; the
    // report comes back on the platform's message URL.
    for (step, body) in [
        (
            "",
            Some(json!({"id": "hello", "appid": appid, "name": "hello",
                         "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})),
        ),
        ("/hello/submit", None),
        (
            "/hello/approve",
            Some(json!({"send_at": wxmass_campaign::beijing::rfc3339(app.state.now())})),
        ),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                &format!("/api/v1/campaigns{step}"),
                Some(&admin),
                body,
            )
            .await;
        assert!(status == 200 || status == 201, "{step}: {answer}");
    }
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(wxmass_server::runner::run(
        app.state.clone(),
        wxmass_campaign::engine::WorkOptions::new("test-server"),
        async {
            let _ = stopped.await;
        },
    ));
    let done = wait_until("the report recorded", async || {
        let (_, c) = app
            .call("GET", "/api/v1/campaigns/hello", Some(&admin), None)
            .await;
        (c["reported"] == 1).then_some(c)
    })
    .await;
    assert_eq!(done["delivered"], 4, "{done}");
    let _ = stop.send(());
    runner.await.expect("runner");
    let stats = app
        .wechat_admin(
            &format!("/_emulator/platform/accounts/{appid}/stats"),
            Value::Null,
        )
        .await;
    assert_eq!(stats["deliveries"], 4, "{stats}");

    // Withdrawn: marked, its scheduled campaign paused, nothing more sent.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": "later", "appid": appid, "name": "later",
                         "content": {"type": "text", "text": "later"}, "audience": {"kind": "all"}})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    for (step, body) in [
        ("submit", None),
        (
            "approve",
            Some(json!({"send_at": wxmass_campaign::beijing::rfc3339(app.state.now() + 86_400)})),
        ),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/later/{step}"),
                Some(&admin),
                body,
            )
            .await;
        assert_eq!(status, 200, "{step}: {answer}");
    }
    app.wechat_admin("/_emulator/platform/revoke", json!({"appid": appid}))
        .await;
    let (_, later) = app
        .call("GET", "/api/v1/campaigns/later", Some(&admin), None)
        .await;
    assert_eq!(later["state"], "paused", "{later}");
    assert!(
        later["note"]
            .as_str()
            .is_some_and(|n| n.contains("withdrew")),
        "{later}"
    );
    let listed = accounts(&app, &admin).await;
    let account = listed
        .iter()
        .find(|a| a["appid"] == appid.as_str())
        .expect("kept");
    assert!(account["authorised"]["withdrawn_at"].is_i64(), "{account}");
    // Resumed anyway: the server will not send for it.
    let (status, _) = app
        .call("POST", "/api/v1/campaigns/later/resume", Some(&admin), None)
        .await;
    assert_eq!(status, 200);

    // Its pushes come on the platform's URL only: it has no receiver of
    // its own (and no AppSecret, token or key to make one).
    let own = reqwest::get(format!(
        "{}/callback/{appid}?signature=x&timestamp=1&nonce=2&echostr=e",
        app.base_url()
    ))
    .await
    .expect("get");
    assert_eq!(own.status(), 404);
    // Another server's platform: a push it cannot open is refused.
    let forged = reqwest::Client::new()
        .post(format!(
            "{}/platform/events?timestamp=1&nonce=2&encrypt_type=aes&msg_signature=x",
            app.base_url()
        ))
        .body(format!(
            "<xml><AppId>{PLATFORM_APPID}</AppId><Encrypt>abc</Encrypt></xml>"
        ))
        .send()
        .await
        .expect("post");
    assert!(forged.status().is_client_error(), "{}", forged.status());
    let _ = PLATFORM_SECRET;
}

#[tokio::test]
async fn the_dashboard_makes_the_authorisation_link_and_the_redirect_lands() {
    let app = TestApp::platform(1, 2);
    let admin = app.first_admin().await;
    the_ticket_is_kept(&app).await;
    let back = "https://launch.example.com/platform/authorized";
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/accounts/authorization",
            Some(&admin),
            Some(json!({"redirect_uri": "https://launch.example.com/elsewhere"})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["field"], "redirect_uri", "{answer}");
    let (status, page) = app
        .call(
            "POST",
            "/api/v1/accounts/authorization",
            Some(&admin),
            Some(json!({"redirect_uri": back})),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let url = page["url"].as_str().expect("url");
    assert!(
        url.starts_with("https://mp.weixin.qq.com/cgi-bin/componentloginpage?"),
        "{url}"
    );
    let pre_auth_code = url::Url::parse(url)
        .expect("url")
        .query_pairs()
        .find(|(k, _)| k == "pre_auth_code")
        .map(|(_, v)| v.into_owned())
        .expect("pre_auth_code");
    // The admin scans: the push comes (and is exchanged), then the browser
    // is sent back with the same code, which lands on a page.
    let appid = account_appid(PLATFORM_APPID, 0);
    let scan = app
        .wechat_admin(
            "/_emulator/platform/authorize",
            json!({"appid": appid, "pre_auth_code": pre_auth_code, "redirect_uri": back}),
        )
        .await;
    let redirect = scan["redirect"].as_str().expect("redirect");
    let path = redirect.trim_start_matches("https://launch.example.com");
    let landed = reqwest::get(format!("{}{path}", app.base_url()))
        .await
        .expect("redirect");
    assert_eq!(landed.status(), 200);
    let html = landed.text().await.expect("page");
    assert!(html.contains("Authorised"), "{html}");
    assert!(
        accounts(&app, &admin)
            .await
            .iter()
            .any(|a| a["appid"] == appid.as_str() && a["authorised"]["permission_sets"].is_array())
    );
    // A code WeChat does not know: refused, and what came is escaped.
    let forged = reqwest::get(format!(
        "{}/platform/authorized?auth_code=%3Cscript%3Ex%3C%2Fscript%3E",
        app.base_url()
    ))
    .await
    .expect("forged");
    assert_eq!(forged.status(), 502);
    assert!(!forged.text().await.expect("page").contains("<script>"));
}

#[tokio::test]
async fn a_server_that_is_not_a_platform_says_so() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/accounts/authorization",
            Some(&admin),
            Some(json!({"redirect_uri": "https://a.example.com/platform/authorized"})),
        )
        .await;
    assert_eq!(status, 404, "{answer}");
    assert!(answer.to_string().contains("--platform"), "{answer}");
}

#[tokio::test]
async fn a_day_of_sweeps_refreshes_each_token_once_per_expiry() {
    const ACCOUNTS: u32 = 40;
    let app = TestApp::platform(ACCOUNTS, 1);
    let emulator = app.emulator().clone();
    app.state
        .clock()
        .make_movable(Some(Box::new(move |seconds| {
            emulator.clock.advance(seconds)
        })));
    the_ticket_is_kept(&app).await;
    let authorised = app
        .wechat_admin(
            "/_emulator/platform/authorize_all",
            json!({"count": ACCOUNTS}),
        )
        .await;
    assert_eq!(
        authorised["authorized"].as_array().map(Vec::len),
        Some(ACCOUNTS as usize)
    );
    let admin = app.first_admin().await;
    assert_eq!(accounts(&app, &admin).await.len(), ACCOUNTS as usize);
    // A day in half hours, a sweep after each (the runner's, every minute
    // and after each move of the clock).
    for _ in 0..48 {
        app.state.clock().advance(1_800).expect("movable");
        wxmass_server::platform::keep(&app.state)
            .await
            .expect("keep");
    }
    let summary = app.wechat_admin("/_emulator/platform", Value::Null).await;
    // Fetched with 5 minutes to go: at 2 h, 4 h, ... 24 h.
    let fetches = &summary["stats"]["authorizer_token_fetches"];
    for appid in (0..ACCOUNTS).map(|i| account_appid(PLATFORM_APPID, i)) {
        assert_eq!(fetches[&appid], 12, "{appid}: {summary}");
    }
    // The platform's own: the first, then the same.
    assert_eq!(summary["stats"]["component_token_fetches"], 13, "{summary}");
    for code in ["40001", "42001", "61005", "61006", "61023"] {
        assert!(summary["errors"].get(code).is_none(), "{code}: {summary}");
    }
}

#[tokio::test]
async fn pushes_lost_are_made_up_for_by_wechats_list() {
    let app = TestApp::platform(3, 1);
    let admin = app.first_admin().await;
    the_ticket_is_kept(&app).await;
    let [kept, gone, missed] = [0, 1, 2].map(|i| account_appid(PLATFORM_APPID, i));
    for appid in [&kept, &gone] {
        app.wechat_admin("/_emulator/platform/authorize", json!({"appid": appid}))
            .await;
    }
    // A withdrawal and an authorisation whose pushes never came.
    app.wechat_admin(
        "/_emulator/platform/revoke",
        json!({"appid": gone, "push": false}),
    )
    .await;
    app.wechat_admin(
        "/_emulator/platform/authorize",
        json!({"appid": missed, "permission_sets": [1, 7], "push": false}),
    )
    .await;
    let before = accounts(&app, &admin).await;
    assert_eq!(before.len(), 2);
    let platform = app.state.platform().expect("platform");
    wxmass_server::platform::reconcile(&app.state, platform)
        .await
        .expect("reconcile");
    let after = accounts(&app, &admin).await;
    let find = |appid: &str| {
        after
            .iter()
            .find(|a| a["appid"] == appid)
            .cloned()
            .unwrap_or_else(|| panic!("{appid} listed: {after:?}"))
    };
    assert!(find(&kept)["authorised"]["withdrawn_at"].is_null());
    assert!(find(&gone)["authorised"]["withdrawn_at"].is_i64());
    assert_eq!(
        find(&missed)["authorised"]["permission_sets"],
        json!([1, 7])
    );
    // The recovered account works: its token comes from the listed
    // refresh token.
    let client = platform.component().authorizer(&missed).expect("client");
    client.access_token().await.expect("a token for it");
}
