//! The approver reads what they approve: a campaign's message as it will
//! be sent, the text, the pictures, each article at phone width.

use serde_json::{Value, json};

use crate::helpers::{TestApp, png};

const APPID: &str = "wx5e1f0c2a9b84d37e";

/// A file kept as POST /api/v1/files keeps it; its reference.
async fn keep(app: &TestApp, name: &str, data: &[u8]) -> Value {
    let sha256 = app.state.journal().store_blob(data).await.expect("blob");
    json!({"path": name, "sha256": sha256})
}

#[tokio::test]
async fn a_campaigns_page_shows_its_message_as_it_will_be_sent() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    let cover = keep(&app, "cover.png", &png([200, 40, 40])).await;
    let photo = keep(&app, "photo.png", &png([10, 200, 10])).await;
    let post = keep(
        &app,
        "post.md",
        b"---\ntitle: From the server\ncover: cover.png\n---\n# Hello, readers\n\n![a photo](photo.png)\n",
    )
    .await;
    let article =
        json!({"file": post, "cover": cover, "pictures": [{"src": "photo.png", "file": photo}]});
    for (id, content) in [
        (
            "news",
            json!({"type": "articles", "articles": [article], "draft": false, "theme": null,
                   "fetch_remote_images": false, "ignore_reprint": false}),
        ),
        (
            "note",
            json!({"type": "text", "text": "Doors open at 9.\nBring a friend."}),
        ),
        ("pics", json!({"type": "images", "files": [photo]})),
    ] {
        let (status, answer) = app
            .call(
                "POST",
                "/api/v1/campaigns",
                Some(&admin),
                Some(
                    json!({"id": id, "appid": APPID, "name": id, "content": content,
                            "audience": {"kind": "all"}}),
                ),
            )
            .await;
        assert_eq!(status, 201, "{id}: {answer}");
    }

    let (status, news) = app
        .call("GET", "/api/v1/campaigns/news/message", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{news}");
    assert_eq!(news["type"], "mpnews");
    let shown = &news["articles"][0];
    assert_eq!(shown["title"], "From the server", "{shown}");
    assert_eq!(shown["problems"], json!([]), "{shown}");
    let html = shown["html"].as_str().expect("html");
    assert!(html.contains("Hello, readers"), "{html}");
    assert!(
        html.contains("data:image/png;base64,"),
        "the picture is shown from its uploaded bytes"
    );

    let (status, note) = app
        .call("GET", "/api/v1/campaigns/note/message", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{note}");
    assert_eq!(
        (note["type"].as_str(), note["text"].as_str()),
        (Some("text"), Some("Doors open at 9.\nBring a friend."))
    );

    let (status, pics) = app
        .call("GET", "/api/v1/campaigns/pics/message", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{pics}");
    assert!(
        pics["pictures"][0]
            .as_str()
            .is_some_and(|p| p.starts_with("data:image/png;base64,")),
        "{pics}"
    );

    let (status, _) = app
        .call("GET", "/api/v1/campaigns/nope/message", Some(&admin), None)
        .await;
    assert_eq!(status, 404);
}
