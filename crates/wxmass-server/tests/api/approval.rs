//! The two-person rule (`--require-second-approver`): nobody approves a
//! campaign they made.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

#[tokio::test]
async fn under_the_two_person_rule_a_maker_does_not_approve_its_own() {
    let app = TestApp::new();
    app.state.require_second_approver();
    let admin = app.first_admin().await;
    app.account(&admin, "wx5e1f0c2a9b84d37e").await;
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": "dora", "role": "approver", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201);
    let (_, dora) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"user": "dora", "role": "approver", "label": "dora"})),
        )
        .await;
    let dora = dora["token"].as_str().expect("token").to_owned();
    for path in ["/api/v1/campaigns", "/api/v1/campaigns/news/submit"] {
        let body = (path == "/api/v1/campaigns").then(|| {
            json!({"id": "news", "appid": "wx5e1f0c2a9b84d37e", "name": "news",
                   "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})
        });
        let (status, answer) = app.call("POST", path, Some(&admin), body).await;
        assert!(status == 200 || status == 201, "{path}: {answer}");
    }
    let later = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + 86_400);
    let approve = json!({"send_at": later});
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/approve",
            Some(&admin),
            Some(approve.clone()),
        )
        .await;
    assert_eq!(status, 403, "the maker approved its own: {answer}");
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns/news/approve",
            Some(&dora),
            Some(approve),
        )
        .await;
    assert_eq!(
        (
            status,
            answer["state"].as_str(),
            answer["approved_by"].as_str()
        ),
        (200, Some("scheduled"), Some("dora")),
        "{answer}"
    );
}
