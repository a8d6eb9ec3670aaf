//! Test sends go to the account's testers only, whom an admin names: an
//! editor cannot send an unapproved draft to any openid or WeChat ID.

use serde_json::json;

use crate::helpers::TestApp;

const APPID: &str = "wx5e1f0c2a9b84d37e";

#[tokio::test]
async fn test_sends_go_to_the_accounts_testers_only() {
    // A test send to anyone else is forbidden (403), naming the field.
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let erin = app.user_with_token(&admin, "erin", "editor").await;
    let path = format!("/api/v1/accounts/{APPID}/testers");

    let (status, none) = app.call("GET", &path, Some(&erin), None).await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(none, json!({"openids": [], "wechat_ids": []}));
    let testers = json!({"openids": ["oTester2", "oTester1"], "wechat_ids": ["phone-of-ann"]});
    let (status, _) = app
        .call("PUT", &path, Some(&erin), Some(testers.clone()))
        .await;
    assert_eq!(
        status, 403,
        "an editor does not choose who receives test sends"
    );
    for (bad, field) in [
        (json!({"openids": ["o 1"], "wechat_ids": []}), "openids[0]"),
        (
            json!({"openids": [], "wechat_ids": ["ok", ""]}),
            "wechat_ids[1]",
        ),
        (json!({"openids": [], "wechat_ids": [], "extra": 1}), ""),
    ] {
        let (status, answer) = app.call("PUT", &path, Some(&admin), Some(bad)).await;
        assert_eq!(status, 400, "{answer}");
        if !field.is_empty() {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    let (status, kept) = app.call("PUT", &path, Some(&admin), Some(testers)).await;
    assert_eq!(status, 200, "{kept}");
    assert_eq!(
        kept,
        json!({"openids": ["oTester1", "oTester2"], "wechat_ids": ["phone-of-ann"]})
    );
    let (status, _) = app
        .call("GET", "/api/v1/accounts/wxnope/testers", Some(&admin), None)
        .await;
    assert_eq!(status, 404);

    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&erin),
            Some(json!({"id": "news", "appid": APPID, "name": "news",
                        "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    for (to, field) in [
        (json!({"openid": "oStranger"}), "openid"),
        (json!({"wechat_id": "someone-else"}), "wechat_id"),
    ] {
        let (status, answer) = app
            .call("POST", "/api/v1/campaigns/news/test", Some(&erin), Some(to))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (403, Some(field)),
            "{answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("not a tester")),
            "{answer}"
        );
    }
    let (_, log) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await;
    assert!(
        log.as_array()
            .is_some_and(|l| l.iter().any(|e| e["action"] == "account.testers")),
        "{log}"
    );
}
