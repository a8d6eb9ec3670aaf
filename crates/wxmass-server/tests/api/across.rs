//! Campaigns across accounts, against the emulator's open platform: one
//! draft naming every account with a tag, one approval, one part per
//! account sent under that account's own quota, the breakdown; what such
//! a campaign may not be; the accounts whose quota is spent named at
//! approval; a pause and a resume carried to the parts.

use serde_json::{Value, json};
use wxmass_emulator::PLATFORM_APPID;
use wxmass_emulator::platform::account_appid;

use crate::helpers::*;
use crate::platform::{the_ticket_is_kept, wait_until};

/// The platform's first `n` accounts, authorised.
async fn authorised(app: &TestApp, n: u32) -> Vec<String> {
    the_ticket_is_kept(app).await;
    let done = app
        .wechat_admin("/_emulator/platform/authorize_all", json!({"count": n}))
        .await;
    assert_eq!(
        done["authorized"].as_array().map(Vec::len),
        Some(n as usize)
    );
    (0..n).map(|i| account_appid(PLATFORM_APPID, i)).collect()
}

/// The emulator's counts for one of the platform's accounts.
async fn account_stats(app: &TestApp, appid: &str) -> Value {
    app.wechat_admin(
        &format!("/_emulator/platform/accounts/{appid}/stats"),
        Value::Null,
    )
    .await
}

/// Creates, submits and approves (to send now) campaign `body`.
async fn approved(app: &TestApp, admin: &str, body: Value) -> (u16, Value) {
    let id = body["id"].as_str().expect("id").to_owned();
    let (status, answer) = app
        .call("POST", "/api/v1/campaigns", Some(admin), Some(body))
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, answer) = app
        .call(
            "POST",
            &format!("/api/v1/campaigns/{id}/submit"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let now = wxmass_campaign::beijing::rfc3339(app.state.now());
    app.call(
        "POST",
        &format!("/api/v1/campaigns/{id}/approve"),
        Some(admin),
        Some(json!({"send_at": now})),
    )
    .await
}

/// Waits for campaign `id` to be in `state` with `reported` reports.
async fn settled(app: &TestApp, admin: &str, id: &str, state: &str, reported: u64) -> Value {
    wait_until(
        &format!("{id} {state} with {reported} reports"),
        async || {
            let (_, c) = app
                .call("GET", &format!("/api/v1/campaigns/{id}"), Some(admin), None)
                .await;
            (c["state"] == state && c["reported"] == reported).then_some(c)
        },
    )
    .await
}

fn runner(
    app: &TestApp,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let runner = tokio::spawn(wxmass_server::runner::run(
        app.state.clone(),
        wxmass_campaign::engine::WorkOptions::new("test-server"),
        async {
            let _ = stopped.await;
        },
    ));
    (stop, runner)
}

#[tokio::test]
async fn one_campaign_to_every_account_with_a_tag_each_once_with_a_breakdown() {
    let app = TestApp::platform(4, 3);
    let admin = app.first_admin().await;
    let appids = authorised(&app, 4).await;
    for appid in &appids[..3] {
        let (status, answer) = app
            .call(
                "PUT",
                &format!("/api/v1/accounts/{appid}/tags"),
                Some(&admin),
                Some(json!({"tags": ["east", "华东"]})),
            )
            .await;
        assert_eq!(
            (status, &answer["tags"]),
            (200, &json!(["east", "华东"])),
            "{answer}"
        );
    }
    let (status, answer) = app
        .call(
            "PUT",
            &format!("/api/v1/accounts/{}/tags", appids[3]),
            Some(&admin),
            Some(json!({"tags": ["a b"]})),
        )
        .await;
    assert_eq!(
        (status, &answer["error"]["field"]),
        (400, &json!("tags")),
        "{answer}"
    );

    // What a campaign across accounts cannot be, each said by its field.
    let text = json!({"type": "text", "text": "hello, everyone"});
    for (body, field) in [
        (
            json!({"accounts": {"kind": "tagged", "tag": "east"}, "audience": {"kind": "tag", "tag_id": 2}, "content": text}),
            "audience",
        ),
        (
            json!({"accounts": {"kind": "tagged", "tag": "east"}, "audience": {"kind": "all"},
                "content": {"type": "uploaded", "media_type": "image", "media_id": "m"}}),
            "content",
        ),
        (
            json!({"accounts": {"kind": "listed", "appids": [appids[0], appids[0]]}, "audience": {"kind": "all"}, "content": text}),
            "accounts",
        ),
        (
            json!({"accounts": {"kind": "listed", "appids": ["wx00000000000000ff"]}, "audience": {"kind": "all"}, "content": text}),
            "accounts",
        ),
        (
            json!({"appid": appids[0], "accounts": {"kind": "tagged", "tag": "east"}, "audience": {"kind": "all"}, "content": text}),
            "accounts",
        ),
        (
            json!({"audience": {"kind": "all"}, "content": text}),
            "appid",
        ),
    ] {
        let mut body = body;
        body["id"] = json!("bad");
        body["name"] = json!("bad");
        let (status, answer) = app
            .call("POST", "/api/v1/campaigns", Some(&admin), Some(body))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }

    // A test send goes to a tester of any of its accounts, sent by that one.
    let (status, answer) = app
        .call(
            "PUT",
            &format!("/api/v1/accounts/{}/testers", appids[1]),
            Some(&admin),
            Some(json!({"openids": [], "wechat_ids": ["east-tester"]})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": "east-draft", "name": "Draft", "accounts": {"kind": "tagged", "tag": "east"},
                         "audience": {"kind": "all"}, "content": text})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    for (who, want) in [("east-tester", 200), ("stranger", 403)] {
        let (status, answer) = app
            .call(
                "POST",
                "/api/v1/campaigns/east-draft/test",
                Some(&admin),
                Some(json!({"wechat_id": who})),
            )
            .await;
        assert_eq!(status, want, "{who}: {answer}");
    }
    let previews = account_stats(&app, &appids[1]).await;
    assert_eq!(previews["previews"], 1, "{previews}");
    let (status, _) = app
        .call("DELETE", "/api/v1/campaigns/east-draft", Some(&admin), None)
        .await;
    assert_eq!(status, 204);

    let (status, answer) = approved(
        &app,
        &admin,
        json!({"id": "east-news", "name": "East news", "accounts": {"kind": "tagged", "tag": "east"},
                "audience": {"kind": "all"}, "content": text}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["appid"], "");
    let (stop, running) = runner(&app);
    let whole = settled(&app, &admin, "east-news", "finished", 3).await;
    assert_eq!(
        (whole["audience_size"].as_u64(), whole["delivered"].as_u64()),
        (Some(9), Some(9)),
        "{whole}"
    );
    assert_eq!(whole["note"], "sent for all 3 accounts");
    let _ = stop.send(());
    running.await.expect("runner");

    // The breakdown: one finished part per tagged account, its figures
    // those of that account's report and of the emulator's ledger.
    let (status, parts) = app
        .call(
            "GET",
            "/api/v1/campaigns/east-news/accounts",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 200, "{parts}");
    let parts = parts.as_array().expect("parts").clone();
    let mut tagged: Vec<&str> = appids[..3].iter().map(String::as_str).collect();
    tagged.sort_unstable();
    let shown: Vec<&str> = parts.iter().filter_map(|p| p["appid"].as_str()).collect();
    assert_eq!(shown, tagged);
    for part in &parts {
        let appid = part["appid"].as_str().expect("appid");
        assert_eq!(part["part_of"], "east-news");
        assert_eq!(part["state"], "finished", "{part}");
        let stats = account_stats(&app, appid).await;
        assert_eq!(
            (
                part["delivered"].as_u64(),
                stats["deliveries"].as_u64(),
                stats["jobs"].as_u64()
            ),
            (Some(3), Some(3), Some(1)),
            "{part} {stats}"
        );
    }
    let untagged = account_stats(&app, &appids[3]).await;
    assert_eq!(untagged["jobs"], 0, "{untagged}");

    // Listed once among every account's campaigns; its parts among each
    // account's.
    let (_, all) = app
        .call("GET", "/api/v1/campaigns", Some(&admin), None)
        .await;
    let ids: Vec<&str> = all
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["east-news"]);
    let (_, mine) = app
        .call(
            "GET",
            &format!("/api/v1/campaigns?appid={}", appids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(mine[0]["id"], format!("east-news@{}", appids[0]), "{mine}");
    // A campaign of one account has no breakdown.
    let (status, _) = app
        .call(
            "GET",
            &format!("/api/v1/campaigns/east-news@{}/accounts", appids[0]),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_account_whose_quota_is_spent_is_named_at_approval() {
    let app = TestApp::platform(2, 1);
    let admin = app.first_admin().await;
    let appids = authorised(&app, 2).await;
    // A service account sends to all four times a month: the first
    // account's four are spent.
    let (stop, running) = runner(&app);
    for n in 0..4 {
        let id = format!("monthly-{n}");
        let (status, answer) = approved(
            &app,
            &admin,
            json!({"id": id, "name": id, "appid": appids[0], "audience": {"kind": "all"},
                    "content": {"type": "text", "text": format!("number {n}")}}),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
        settled(&app, &admin, &id, "finished", 1).await;
    }
    let _ = stop.send(());
    running.await.expect("runner");
    let (status, answer) = approved(
        &app,
        &admin,
        json!({"id": "both", "name": "both", "accounts": {"kind": "listed", "appids": appids},
                "audience": {"kind": "all"}, "content": {"type": "text", "text": "fifth"}}),
    )
    .await;
    assert_eq!(status, 409, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("{}: a service account", appids[0]))
            && !message.contains(&appids[1]),
        "{answer}"
    );
}

#[tokio::test]
async fn a_pause_and_a_resume_are_carried_to_the_parts() {
    let app = TestApp::platform(2, 2);
    let admin = app.first_admin().await;
    let appids = authorised(&app, 2).await;
    // Each account's sends take long enough to pause them under way.
    for appid in &appids {
        app.wechat_admin(
            &format!("/_emulator/platform/accounts/{appid}/faults"),
            json!({"paths": {"/cgi-bin/message/mass/sendall": {"latency_ms": 3000}}}),
        )
        .await;
    }
    let (status, answer) = approved(
        &app,
        &admin,
        json!({"id": "slow", "name": "slow", "accounts": {"kind": "listed", "appids": appids},
                "audience": {"kind": "all"}, "content": {"type": "text", "text": "slowly"}}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let (stop, running) = runner(&app);
    wait_until("the parts made", async || {
        let (_, parts) = app
            .call("GET", "/api/v1/campaigns/slow/accounts", Some(&admin), None)
            .await;
        (parts.as_array().map(Vec::len) == Some(2)).then_some(())
    })
    .await;
    let (status, paused) = app
        .call("POST", "/api/v1/campaigns/slow/pause", Some(&admin), None)
        .await;
    assert_eq!(
        (status, &paused["state"]),
        (200, &json!("paused")),
        "{paused}"
    );
    let (_, parts) = app
        .call("GET", "/api/v1/campaigns/slow/accounts", Some(&admin), None)
        .await;
    for part in parts.as_array().expect("parts") {
        // Paused with it, unless its send was answered first.
        assert!(
            part["state"] == "paused" || part["state"] == "finished",
            "{part}"
        );
    }
    for appid in &appids {
        app.wechat_admin(
            &format!("/_emulator/platform/accounts/{appid}/faults"),
            json!({}),
        )
        .await;
    }
    let (status, resumed) = app
        .call("POST", "/api/v1/campaigns/slow/resume", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{resumed}");
    let whole = settled(&app, &admin, "slow", "finished", 2).await;
    assert_eq!(whole["delivered"], 4, "{whole}");
    let _ = stop.send(());
    running.await.expect("runner");
    for appid in &appids {
        let stats = account_stats(&app, appid).await;
        assert_eq!(
            (
                stats["jobs"].as_u64(),
                stats["duplicate_deliveries"].as_u64()
            ),
            (Some(1), Some(0)),
            "{appid}: {stats}"
        );
    }
}
