//! An Origin check beside the CSRF token: a signed-in browser's request
//! that changes something, or a sign-in, from another site's page is
//! refused even when it carries the token.

use serde_json::json;

use crate::helpers::{PASSWORD, Session, TestApp};

#[tokio::test]
async fn a_browser_request_from_another_sites_page_is_refused() {
    let app = TestApp::new();
    app.first_admin().await;
    let session = Session::sign_in(&app, "alice").await;
    let body = json!({"name": "dora", "role": "viewer", "password": PASSWORD});
    let mut headers = session.headers(true);
    headers.push(("host", "wxmass.example.com"));
    let mut from_elsewhere = headers.clone();
    from_elsewhere.push(("origin", "https://evil.example"));
    let (status, _, answer) = app
        .call_with("POST", "/api/v1/users", &from_elsewhere, Some(body.clone()))
        .await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Origin")),
        "{answer}"
    );
    let (status, _, answer) = app
        .call_with(
            "POST",
            "/api/v1/session",
            &[
                ("host", "wxmass.example.com"),
                ("origin", "https://evil.example"),
            ],
            Some(json!({"name": "alice", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 403, "a sign-in from another site: {answer}");

    // From the server's own page (directly, or behind a proxy that says
    // which host it was asked for), it goes through.
    let mut own = headers.clone();
    own.push(("origin", "https://wxmass.example.com"));
    let (status, _, answer) = app
        .call_with("POST", "/api/v1/users", &own, Some(body))
        .await;
    assert_eq!(status, 201, "{answer}");
    let mut proxied = session.headers(true);
    proxied.extend([
        ("host", "127.0.0.1:8090"),
        ("x-forwarded-host", "wxmass.example.com"),
        ("origin", "https://wxmass.example.com"),
    ]);
    let (status, _, answer) = app
        .call_with(
            "POST",
            "/api/v1/users",
            &proxied,
            Some(json!({"name": "erin", "role": "viewer", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}
