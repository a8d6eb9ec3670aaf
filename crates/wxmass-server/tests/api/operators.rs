//! What operators watch: liveness, readiness, and Prometheus figures.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_ready_and_metrics_behind_a_token() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let (status, health) = app.call("GET", "/api/v1/health", None, None).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, ready) = app.call("GET", "/api/v1/ready", None, None).await;
    assert_eq!(
        (status, ready["status"].as_str()),
        (200, Some("ready")),
        "{ready}"
    );

    // A draft, so that campaigns are counted by state.
    app.account(&admin, "wx5e1f0c2a9b84d37e").await;
    let (status, draft) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(
                json!({"id": "metrics-1", "appid": "wx5e1f0c2a9b84d37e", "name": "m",
                        "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{draft}");

    let (status, _) = app.call("GET", "/metrics", None, None).await;
    assert_eq!(status, 401, "the figures need a token");
    let (status, headers, _) = app
        .call_with(
            "GET",
            "/metrics",
            &[("authorization", &format!("Bearer {admin}"))],
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/plain")),
        "{headers:?}"
    );
    // The body is text, not JSON: read it again raw.
    let text = metrics_text(&app, &admin).await;
    for wanted in [
        r#"wxmass_http_requests_total{route="/api/v1/health",status="200"}"#,
        r#"wxmass_http_requests_total{route="/api/v1/campaigns",status="201"}"#,
        r#"wxmass_campaigns{state="draft"} 1"#,
    ] {
        assert!(text.contains(wanted), "no {wanted} in:\n{text}");
    }
    assert!(
        !text.contains("metrics-1"),
        "ids never become labels: {text}"
    );
}

async fn metrics_text(app: &TestApp, token: &str) -> String {
    use tower::ServiceExt as _;
    let request = axum::http::Request::builder()
        .uri("/metrics")
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .expect("request");
    let response = app.app.clone().oneshot(request).await.expect("answer");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    String::from_utf8_lossy(&bytes).into_owned()
}

/// An account's credentials are tried when it is added: a wrong AppSecret
/// or AppID is said then (naming the field, with WeChat's errcode), not by
/// the first send; a WeChat that cannot be reached stores nothing.
#[tokio::test]
async fn an_accounts_credentials_are_tried_when_it_is_added() {
    use crate::helpers::{APPID, SECRET};
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let account = |appid: &str, secret: &str| {
        json!({"appid": appid, "name": "Newsroom", "account_type": "service",
               "secret": secret, "callback_token": "t0ken",
               "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"})
    };
    for (body, field) in [
        (account(APPID, "0123456789abcdef0123456789abcdef"), "secret"),
        (account("wx0000000000000000", SECRET), "appid"),
    ] {
        let (status, answer) = app
            .call("POST", "/api/v1/accounts", Some(&admin), Some(body))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("WeChat refused") && !m.contains(SECRET)),
            "{answer}"
        );
    }
    for base in ["http://127.0.0.1:9", "http://"] {
        let mut unreachable = account(APPID, SECRET);
        unreachable["api_base"] = json!(base);
        let (status, answer) = app
            .call("POST", "/api/v1/accounts", Some(&admin), Some(unreachable))
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some("api_base")),
            "{base}: {answer}"
        );
    }
    let (_, accounts) = app
        .call("GET", "/api/v1/accounts", Some(&admin), None)
        .await;
    assert_eq!(accounts, json!([]), "nothing stored unchecked");
    app.account(&admin, APPID).await;
}
