//! Nothing was editable or removable: drafts are now edited, cloned and
//! deleted; scheduled and paused campaigns re-timed; lists and files
//! deleted unless a campaign still uses them (named in the refusal); what
//! they may take together is bounded; campaigns are listed filtered and a
//! page at a time.

use serde_json::{Value, json};

use crate::helpers::{TestApp, png};

const APPID: &str = "wx5e1f0c2a9b84d37e";

fn draft(id: &str, text: &str) -> Value {
    json!({"id": id, "appid": APPID, "name": id, "content": {"type": "text", "text": text},
           "audience": {"kind": "tag", "tag_id": 100}})
}

async fn created(app: &TestApp, token: &str, body: Value) {
    let (status, answer) = app
        .call("POST", "/api/v1/campaigns", Some(token), Some(body))
        .await;
    assert_eq!(status, 201, "{answer}");
}

fn later(days: i64) -> String {
    wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + days * 86_400)
}

#[tokio::test]
async fn drafts_are_edited_cloned_and_deleted_and_schedules_moved() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    created(&app, &admin, draft("news", "first words")).await;

    let edit = json!({"name": "Friday news", "content": {"type": "text", "text": "better words"},
                      "audience": {"kind": "all"}, "list": null, "batch_size": null});
    let (status, c) = app
        .call(
            "PUT",
            "/api/v1/campaigns/news",
            Some(&admin),
            Some(edit.clone()),
        )
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(
        (&c["name"], &c["content"]["text"], &c["audience"]["kind"]),
        (&json!("Friday news"), &json!("better words"), &json!("all"))
    );
    let mut bad = edit.clone();
    bad["content"]["text"] = json!("字".repeat(700));
    let (status, answer) = app
        .call("PUT", "/api/v1/campaigns/news", Some(&admin), Some(bad))
        .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("content.text")),
        "checked as creating it was: {answer}"
    );
    let mut unknown = edit.clone();
    unknown["colour"] = json!("red");
    let (status, _) = app
        .call("PUT", "/api/v1/campaigns/news", Some(&admin), Some(unknown))
        .await;
    assert_eq!(status, 400, "unknown fields are refused");

    let (status, copy) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/clone",
            Some(&admin),
            Some(json!({"id": "news-2"})),
        )
        .await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(
        (&copy["state"], &copy["content"]["text"], &copy["name"]),
        (
            &json!("draft"),
            &json!("better words"),
            &json!("Friday news")
        )
    );
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/clone",
            Some(&admin),
            Some(json!({"id": "news-2"})),
        )
        .await;
    assert_eq!(status, 409, "the copy's id is taken");

    let (status, _) = app
        .call("DELETE", "/api/v1/campaigns/news-2", Some(&admin), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = app
        .call("GET", "/api/v1/campaigns/news-2", Some(&admin), None)
        .await;
    assert_eq!(status, 404);

    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/reschedule",
            Some(&admin),
            Some(json!({"send_at": later(1)})),
        )
        .await;
    assert_eq!(status, 409, "a draft has no time to move: {answer}");
    app.call("POST", "/api/v1/campaigns/news/submit", Some(&admin), None)
        .await;
    let (status, answer) = app
        .call("PUT", "/api/v1/campaigns/news", Some(&admin), Some(edit))
        .await;
    assert_eq!(status, 409, "submitted: no longer edited: {answer}");
    let (status, answer) = app
        .call("DELETE", "/api/v1/campaigns/news", Some(&admin), None)
        .await;
    assert_eq!(status, 409, "{answer}");
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/approve",
            Some(&admin),
            Some(json!({"send_at": later(1)})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    for state in ["scheduled", "paused"] {
        if state == "paused" {
            app.call("POST", "/api/v1/campaigns/news/pause", Some(&admin), None)
                .await;
        }
        let to = later(if state == "paused" { 3 } else { 2 });
        let (status, c) = app
            .call(
                "POST",
                "/api/v1/campaigns/news/reschedule",
                Some(&admin),
                Some(json!({"send_at": to})),
            )
            .await;
        assert_eq!(status, 200, "{c}");
        assert_eq!((&c["state"], &c["send_at"]), (&json!(state), &json!(to)));
    }
    let (_, log) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await;
    for action in [
        "campaign.edit",
        "campaign.clone",
        "campaign.delete",
        "campaign.reschedule",
    ] {
        assert!(
            log.as_array()
                .is_some_and(|l| l.iter().any(|e| e["action"] == action)),
            "{action} audited: {log}"
        );
    }
}

#[tokio::test]
async fn lists_and_files_a_campaign_uses_stay_and_storage_is_bounded() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let list: Vec<u8> = (0..3)
        .map(|i| format!("oABCDEFGHIJKLMNOPQRSTUVWXY{i:02}\n"))
        .collect::<String>()
        .into_bytes();
    let (status, answer) = app
        .upload(
            "PUT",
            "/api/v1/lists/readers",
            &admin,
            "text/plain",
            list.clone(),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    let (status, file) = app
        .upload(
            "POST",
            "/api/v1/files?name=photo.png",
            &admin,
            "application/octet-stream",
            png([10, 200, 10]),
        )
        .await;
    assert_eq!(status, 201, "{file}");
    let sha = file["sha256"].as_str().expect("sha").to_owned();
    created(
        &app,
        &admin,
        json!({"id": "to-readers", "appid": APPID, "name": "to readers",
               "content": {"type": "text", "text": "hi"}, "audience": {"kind": "openids"},
               "list": "readers"}),
    )
    .await;
    created(
        &app,
        &admin,
        json!({"id": "picture", "appid": APPID, "name": "picture",
               "content": {"type": "images", "files": [{"path": "photo.png", "sha256": sha}]},
               "audience": {"kind": "all"}}),
    )
    .await;
    for (path, user) in [
        ("/api/v1/lists/readers".to_owned(), "to-readers"),
        (format!("/api/v1/files/{sha}"), "picture"),
    ] {
        let (status, answer) = app.call("DELETE", &path, Some(&admin), None).await;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(user)),
            "the refusal names the campaign: {answer}"
        );
        app.call(
            "POST",
            &format!("/api/v1/campaigns/{user}/cancel"),
            Some(&admin),
            None,
        )
        .await;
        let (status, answer) = app.call("DELETE", &path, Some(&admin), None).await;
        assert_eq!(status, 204, "{answer}");
        let (status, _) = app.call("DELETE", &path, Some(&admin), None).await;
        assert_eq!(status, 404);
    }

    app.state.limit_storage(64);
    let (status, answer) = app
        .upload("PUT", "/api/v1/lists/more", &admin, "text/plain", list)
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{answer}"
    );
    let (status, answer) = app
        .upload(
            "POST",
            "/api/v1/files?name=big.bin",
            &admin,
            "application/octet-stream",
            vec![7; 100],
        )
        .await;
    assert_eq!(status, 413, "{answer}");
}

#[tokio::test]
async fn campaigns_are_listed_filtered_and_a_page_at_a_time() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    for i in 0..5 {
        created(&app, &admin, draft(&format!("c{i}"), "hi")).await;
    }
    app.call("POST", "/api/v1/campaigns/c3/submit", Some(&admin), None)
        .await;
    let page = |query: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let (status, headers, body) = app
                .call_with(
                    "GET",
                    &format!("/api/v1/campaigns{query}"),
                    &[("authorization", &format!("Bearer {admin}"))],
                    None,
                )
                .await;
            let total = headers
                .get("x-total-count")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            (status, total, body)
        }
    };
    let (status, total, body) = page("?limit=2").await;
    assert_eq!((status, total), (200, Some(5)), "{body}");
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    let (_, _, rest) = page("?limit=2&offset=4").await;
    assert_eq!(rest.as_array().map(Vec::len), Some(1));
    let (_, total, submitted) = page("?state=awaiting_approval").await;
    assert_eq!(total, Some(1));
    assert_eq!(submitted[0]["id"], "c3");
    let (_, total, _) = page("?appid=wx0000000000000000").await;
    assert_eq!(total, Some(0));
    for bad in ["?state=sent", "?limit=0", "?limit=1001", "?colour=red"] {
        let (status, _, answer) = page(bad).await;
        assert_eq!(status, 400, "{bad}: {answer}");
    }
}
