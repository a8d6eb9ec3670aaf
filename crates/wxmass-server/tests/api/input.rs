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

/// Item 9: the API document says what a campaign is (its content and
/// audience as unions tagged by `type` and `kind`, every kind named), an
/// articles campaign needs none of the fields the document leaves
/// optional, and a field the document does not name is refused.
#[tokio::test]
async fn the_document_says_what_a_campaign_is_and_unknown_fields_are_refused() {
    let (app, admin) = with_account().await;
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let schemas = &doc["components"]["schemas"];
    let tags = |schema: &str, tag: &str| -> Vec<String> {
        let mut found = Vec::new();
        for alternative in schemas[schema]["oneOf"].as_array().expect("a union") {
            let parts = match alternative["allOf"].as_array() {
                Some(parts) => parts.clone(),
                None => vec![alternative.clone()],
            };
            for part in parts {
                if let Some(name) = part["properties"][tag]["enum"][0].as_str() {
                    found.push(name.to_owned());
                }
            }
        }
        found.sort();
        found
    };
    let kinds = tags("Content", "type");
    for kind in ["text", "images", "articles", "notice"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    assert_eq!(tags("Audience", "kind"), ["all", "openids", "tag"]);
    // An articles campaign with only what the document requires.
    let cover = app
        .upload(
            "POST",
            "/api/v1/files?name=cover.png",
            &admin,
            "application/octet-stream",
            crate::helpers::png([7, 193, 96]),
        )
        .await
        .1;
    let post = app
        .upload(
            "POST",
            "/api/v1/files?name=post.md",
            &admin,
            "application/octet-stream",
            b"---\ntitle: Hello\ncover: cover.png\n---\nHi.\n".to_vec(),
        )
        .await
        .1;
    let file = |v: &serde_json::Value| json!({"path": v["path"], "sha256": v["sha256"]});
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": "plain", "appid": ACCOUNT, "name": "Plain",
                "content": {"type": "articles", "articles": [{"file": file(&post), "cover": file(&cover)}]},
                "audience": {"kind": "all"}})),
        )
        .await;
    assert_eq!(status, 201, "{answer}");
    // A field in the audience the document does not name.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": "odd", "appid": ACCOUNT, "name": "Odd",
                "content": {"type": "text", "text": "hi"},
                "audience": {"kind": "all", "everyone": true}})),
        )
        .await;
    assert_eq!(status, 400, "{answer}");
}
