//! Input from outside: names that would read as other names are refused
//! with the field named, and a body over the limit is `too_large`.

use serde_json::json;

use crate::helpers::TestApp;

const ACCOUNT: &str = "wx5e1f0c2a9b84d37e";

async fn with_account() -> (TestApp, String) {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, ACCOUNT).await;
    (app, admin)
}

#[tokio::test]
async fn names_with_controls_or_bidi_overrides_are_refused() {
    let (app, admin) = with_account().await;
    for (n, name) in [
        "a\u{0}b",
        "line\nbreak",
        "evil\u{202E}txt.exe",
        "zero\u{200B}width",
        "iso\u{2066}late",
    ]
    .iter()
    .enumerate()
    {
        let (status, answer) = app
            .call(
                "POST",
                "/api/v1/campaigns",
                Some(&admin),
                Some(json!({"id": format!("bad-{n}"), "appid": ACCOUNT, "name": name,
                            "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})),
            )
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some("name")),
            "{name:?}: {answer}"
        );
        let (status, answer) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&admin),
                Some(json!({"user": "alice", "role": "viewer", "label": name})),
            )
            .await;
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some("label")),
            "{name:?}: {answer}"
        );
    }
    // Other scripts and marks are names like any other.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(
                json!({"id": "news", "appid": ACCOUNT, "name": "秋季更新 – café",
                        "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_too_large_not_invalid() {
    let (app, admin) = with_account().await;
    let text = "x".repeat(wxmass_server::BODY_LIMIT + 1);
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": "big", "appid": ACCOUNT, "name": "big",
                        "content": {"type": "text", "text": text}, "audience": {"kind": "all"}})),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{answer}"
    );
}

#[tokio::test]
async fn a_bad_list_is_explained_without_the_servers_paths() {
    use tower::ServiceExt as _;
    let (app, admin) = with_account().await;
    let request = axum::http::Request::builder()
        .method("PUT")
        .uri("/api/v1/lists/crm")
        .header("authorization", format!("Bearer {admin}"))
        .body(axum::body::Body::from(
            "o6_bmjrPTlm6_2sgVt7hMZOPfL2M\nnot an openid\n",
        ))
        .expect("request");
    let response = app.app.clone().oneshot(request).await.expect("answer");
    assert_eq!(response.status().as_u16(), 400);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("line 2"), "{text}");
    let temp = std::env::temp_dir().display().to_string();
    assert!(
        !text.contains(&temp) && !text.contains("wxmass-list"),
        "a server path leaked: {text}"
    );
}

#[tokio::test]
async fn a_token_id_that_is_no_number_is_a_json_400() {
    let (app, admin) = with_account().await;
    for path in ["/api/v1/tokens/9223372036854775808", "/api/v1/tokens/x"] {
        for method in ["GET", "DELETE"] {
            let (status, answer) = app.call(method, path, Some(&admin), None).await;
            assert_eq!(
                (status, answer["error"]["field"].as_str()),
                (400, Some("id")),
                "{method} {path}: {answer}"
            );
        }
    }
}
