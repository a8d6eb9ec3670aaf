//! Free publishing from the server: `POST /api/v1/publishes` submits a
//! draft once. The same articles again answer with the first publish; a
//! submit that went through unrecorded is found among what was published
//! and not repeated; only a sender publishes, and only articles.

use serde_json::{Value, json};
use wxmass_campaign::Content;

use crate::helpers::{APPID, TestApp, png};

/// An article kept as POST /api/v1/files keeps it; the publish's content.
async fn articles(app: &TestApp, title: &str) -> Value {
    let text =
        format!("---\ntitle: {title}\ncover: cover.png\n---\n# {title}\n\nPublished, not sent.\n");
    let journal = app.state.journal();
    let sha256 = journal.store_blob(text.as_bytes()).await.expect("blob");
    let cover = journal.store_blob(&png([30, 60, 90])).await.expect("blob");
    json!({"type": "articles", "articles": [{"file": {"path": "post.md", "sha256": sha256},
                                             "cover": {"path": "cover.png", "sha256": cover}}],
           "draft": true, "theme": null, "fetch_remote_images": false, "ignore_reprint": false})
}

/// Waits (with a deadline) until WeChat holds `n` publishes: it
/// publishes a moment after the submit.
async fn wait_for_published(app: &TestApp, n: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while published(app).await < n && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(published(app).await, n);
}

/// How many publishes WeChat holds for the account.
async fn published(app: &TestApp) -> u64 {
    let (total, _) = app
        .wechat()
        .publish()
        .page(0, 20, false)
        .await
        .expect("freepublish/batchget");
    total
}

#[tokio::test]
async fn the_same_articles_are_published_once() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let content = articles(&app, "Once only").await;
    let body = json!({"appid": APPID, "name": "weekly-49", "content": content});

    let (status, first) = app
        .call(
            "POST",
            "/api/v1/publishes",
            Some(&admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["submitted_now"], true, "{first}");
    let publish_id = first["publish"]["publish_id"].as_i64().expect("publish_id");
    assert_eq!(first["publish"]["campaign"], "weekly-49", "{first}");
    wait_for_published(&app, 1).await;

    // Asked again (a retry, a second click): the first publish, not a second.
    let (status, again) = app
        .call("POST", "/api/v1/publishes", Some(&admin), Some(body))
        .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (
            again["submitted_now"].as_bool(),
            again["publish"]["publish_id"].as_i64()
        ),
        (Some(false), Some(publish_id)),
        "{again}"
    );
    assert_eq!(published(&app).await, 1, "nothing was submitted twice");

    let (status, list) = app
        .call("GET", "/api/v1/publishes", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{list}");
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|p| p["publish_id"] == publish_id)),
        "{list}"
    );
    let (_, audit) = app.call("GET", "/api/v1/audit", Some(&admin), None).await;
    let submits = audit.as_array().map_or(0, |a| {
        a.iter().filter(|e| e["action"] == "publish.submit").count()
    });
    assert_eq!(submits, 1, "{audit}");
}

#[tokio::test]
async fn a_submit_that_went_through_unrecorded_is_not_repeated() {
    // A sender that died between WeChat's answer and its record: WeChat
    // published the draft, the store does not know. The server finds the
    // articles among what was published and refuses (409), submitting
    // nothing.
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let content = articles(&app, "Lost answer").await;
    let parsed: Content = serde_json::from_value(content.clone()).expect("content");
    let wechat = app.wechat();
    let plan = wxmass_campaign::publishing::plan(
        &wechat,
        app.state.journal(),
        &parsed,
        &wxmass_campaign::prepare::Silent,
    )
    .await
    .expect("plan");
    wechat
        .publish()
        .submit(&plan.media_id)
        .await
        .expect("submitted behind the server's back");
    wait_for_published(&app, 1).await;

    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/publishes",
            Some(&admin),
            Some(json!({"appid": APPID, "content": content})),
        )
        .await;
    assert_eq!(status, 409, "{answer}");
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("published already"), "{answer}");
    assert_eq!(published(&app).await, 1, "nothing was submitted again");
}

#[tokio::test]
async fn only_senders_publish_and_only_articles() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let erin = app.user_with_token(&admin, "erin", "editor").await;
    let content = articles(&app, "Not yours").await;

    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/publishes",
            Some(&erin),
            Some(json!({"appid": APPID, "content": content})),
        )
        .await;
    assert_eq!(status, 403, "an editor does not publish: {answer}");

    for (body, field) in [
        (
            json!({"appid": APPID, "content": {"type": "text", "text": "hello"}}),
            "content.type",
        ),
        (
            json!({"appid": "wx0000000000000000", "content": content}),
            "appid",
        ),
        (
            json!({"appid": APPID, "name": "bad name/", "content": content}),
            "name",
        ),
        (
            json!({"appid": APPID, "content": {"type": "articles",
                "articles": [{"file": {"path": "gone.md", "sha256": "0".repeat(64)}}],
                "draft": true, "theme": null, "fetch_remote_images": false, "ignore_reprint": false}}),
            "content.articles[0].file.sha256",
        ),
    ] {
        let (status, answer) = app
            .call("POST", "/api/v1/publishes", Some(&admin), Some(body))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
    }
    assert_eq!(published(&app).await, 0, "nothing reached WeChat");
}
