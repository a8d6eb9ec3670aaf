//! Media, material and news over HTTP: success shapes and errcodes.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn temporary_upload_and_get() {
    let emu = start_default().await;
    let t = emu.token().await;
    let v = emu
        .upload("/cgi-bin/media/upload", &t, "image", JPEG, "a.jpg")
        .await;
    assert_code(&v, 0);
    assert_eq!(v["type"], "image");
    assert!(v["created_at"].is_i64());
    let id = v["media_id"].as_str().expect("id").to_owned();
    assert!(id.len() >= 43);

    let resp = emu
        .get_raw(
            "/cgi-bin/media/get",
            &[("access_token", &t), ("media_id", &id)],
        )
        .await;
    assert_eq!(resp.headers()["content-type"], "image/jpeg");
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains(&id)
    );
    assert_eq!(resp.bytes().await.expect("bytes").as_ref(), JPEG);

    let video = emu
        .upload("/cgi-bin/media/upload", &t, "video", MP4, "v.mp4")
        .await;
    let vid = video["media_id"].as_str().expect("id");
    let v = emu
        .get(
            "/cgi-bin/media/get",
            &[("access_token", &t), ("media_id", vid)],
        )
        .await;
    assert!(v["video_url"].as_str().expect("url").starts_with("http"));

    // Temporary media expire after three days.
    emu.advance(3 * 86_400).await;
    let t = emu.token().await;
    assert_code(
        &emu.get(
            "/cgi-bin/media/get",
            &[("access_token", &t), ("media_id", &id)],
        )
        .await,
        40007,
    );
    assert_code(
        &emu.get("/cgi-bin/media/get", &[("access_token", &t)]).await,
        41006,
    );
}

#[tokio::test]
async fn upload_errors_by_type_format_and_size() {
    let emu = start_default().await;
    let t = emu.token().await;
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "file", JPEG, "a")
            .await,
        40004,
    );
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "image", MP3, "a")
            .await,
        40005,
    );
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "voice", JPEG, "a")
            .await,
        40005,
    );
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "thumb", PNG, "a")
            .await,
        40005,
    );
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "image", &[], "a")
            .await,
        44001,
    );
    // One byte over each kind's limit.
    for (kind, sample, limit, code) in [
        ("thumb", JPEG, 64 * 1024, 40012),
        ("voice", MP3, 2 * 1024 * 1024, 40010),
        ("image", PNG, 10 * 1024 * 1024, 40009),
        ("video", MP4, 10 * 1024 * 1024, 40011),
    ] {
        let mut big = sample.to_vec();
        big.resize(limit + 1, 0);
        assert_code(
            &emu.upload("/cgi-bin/media/upload", &t, kind, &big, "a")
                .await,
            code,
        );
    }
    // Oversized beyond any limit: 45001, not a crash.
    let huge = vec![0u8; 25 * 1024 * 1024];
    assert_code(
        &emu.upload("/cgi-bin/media/upload", &t, "video", &huge, "a")
            .await,
        45001,
    );
    // No `media` part.
    let form = reqwest::multipart::Form::new().text("other", "x");
    let v: serde_json::Value = emu
        .http
        .post(emu.url("/cgi-bin/media/upload"))
        .query(&[("access_token", t.as_str()), ("type", "image")])
        .multipart(form)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_code(&v, 41005);
    for ok in [
        ("image", PNG),
        ("image", GIF),
        ("voice", AMR),
        ("voice", MP3),
        ("thumb", JPEG),
    ] {
        assert_code(
            &emu.upload("/cgi-bin/media/upload", &t, ok.0, ok.1, "f")
                .await,
            0,
        );
    }
}

#[tokio::test]
async fn article_images() {
    let emu = start_default().await;
    let t = emu.token().await;
    let v = emu
        .upload("/cgi-bin/media/uploadimg", &t, "", PNG, "p.png")
        .await;
    assert_code(&v, 0);
    assert!(
        v["url"]
            .as_str()
            .expect("url")
            .starts_with("http://mmbiz.qpic.cn/")
    );
    assert_code(
        &emu.upload("/cgi-bin/media/uploadimg", &t, "", GIF, "g.gif")
            .await,
        40005,
    );
    let mut big = JPEG.to_vec();
    big.resize(1024 * 1024, 0);
    assert_code(
        &emu.upload("/cgi-bin/media/uploadimg", &t, "", &big, "b.jpg")
            .await,
        40009,
    );
}

#[tokio::test]
async fn permanent_material() {
    let emu = start_default().await;
    let t = emu.token().await;
    let img = emu
        .upload("/cgi-bin/material/add_material", &t, "image", JPEG, "a.jpg")
        .await;
    assert_code(&img, 0);
    assert!(img["url"].as_str().expect("url").contains("mmbiz"));
    assert_code(
        &emu.upload("/cgi-bin/material/add_material", &t, "voice", AMR, "a.amr")
            .await,
        0,
    );
    // A video needs a description: missing, then as wechatpy sends it (query).
    assert_code(
        &emu.upload("/cgi-bin/material/add_material", &t, "video", MP4, "v.mp4")
            .await,
        40007,
    );
    let form = reqwest::multipart::Form::new()
        .part(
            "media",
            reqwest::multipart::Part::bytes(MP4.to_vec()).file_name("v.mp4"),
        )
        .text("description", r#"{"title":"T","introduction":"I"}"#);
    let v: serde_json::Value = emu
        .http
        .post(emu.url("/cgi-bin/material/add_material"))
        .query(&[("access_token", t.as_str()), ("type", "video")])
        .multipart(form)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_code(&v, 0);
    let counts = emu
        .get(
            "/cgi-bin/material/get_materialcount",
            &[("access_token", &t)],
        )
        .await;
    assert_eq!(
        counts,
        json!({"voice_count": 1, "video_count": 1, "image_count": 1, "news_count": 0})
    );
    let list = emu
        .post(
            "/cgi-bin/material/batchget_material",
            &t,
            json!({"type": "image", "offset": 0, "count": 20}),
        )
        .await;
    assert_eq!(list["total_count"], 1);
    assert_eq!(list["item"][0]["media_id"], img["media_id"]);
    emu.post_expect(
        "/cgi-bin/material/batchget_material",
        &t,
        json!({"type": "image", "offset": 0, "count": 21}),
        40035,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/material/add_news",
        &t,
        json!({"articles": []}),
        45103,
    )
    .await;
}

fn article(thumb: &str) -> serde_json::Value {
    json!({"thumb_media_id": thumb, "author": "wxmass", "title": "Happy Day",
           "content_source_url": "https://example.com", "content": "<p>html</p>",
           "digest": "digest", "show_cover_pic": 1, "need_open_comment": 1, "only_fans_can_comment": 0})
}

#[tokio::test]
async fn uploadnews_and_drafts() {
    let emu = start_default().await;
    let t = emu.token().await;
    let temp_thumb = emu
        .upload("/cgi-bin/media/upload", &t, "thumb", JPEG, "c.jpg")
        .await["media_id"]
        .as_str()
        .expect("id")
        .to_owned();
    let perm_thumb = emu
        .upload("/cgi-bin/material/add_material", &t, "thumb", JPEG, "c.jpg")
        .await["media_id"]
        .as_str()
        .expect("id")
        .to_owned();

    let news = emu
        .post(
            "/cgi-bin/media/uploadnews",
            &t,
            json!({"articles": [article(&temp_thumb)]}),
        )
        .await;
    assert_code(&news, 0);
    assert_eq!(news["type"], "news");
    assert!(news["created_at"].is_i64());
    // uploadnews wants a temporary cover; draft/add a permanent one.
    emu.post_expect(
        "/cgi-bin/media/uploadnews",
        &t,
        json!({"articles": [article(&perm_thumb)]}),
        40007,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/draft/add",
        &t,
        json!({"articles": [article(&temp_thumb)]}),
        40007,
    )
    .await;
    let draft = emu
        .post(
            "/cgi-bin/draft/add",
            &t,
            json!({"articles": [article(&perm_thumb)]}),
        )
        .await;
    assert_code(&draft, 0);
    assert!(draft["media_id"].is_string());

    emu.post_expect(
        "/cgi-bin/media/uploadnews",
        &t,
        json!({"articles": []}),
        44003,
    )
    .await;
    emu.post_expect("/cgi-bin/media/uploadnews", &t, json!({}), 44003)
        .await;
    let nine: Vec<_> = (0..9).map(|_| article(&temp_thumb)).collect();
    emu.post_expect(
        "/cgi-bin/media/uploadnews",
        &t,
        json!({"articles": nine}),
        45008,
    )
    .await;
    let mut long = article(&perm_thumb);
    long["title"] = json!("标".repeat(33));
    emu.post_expect("/cgi-bin/draft/add", &t, json!({"articles": [long]}), 45003)
        .await;
    let mut huge = article(&temp_thumb);
    huge["content"] = json!("x".repeat(20_000));
    emu.post_expect(
        "/cgi-bin/media/uploadnews",
        &t,
        json!({"articles": [huge]}),
        45002,
    )
    .await;
    assert_code(
        &emu.post_text("/cgi-bin/media/uploadnews", &t, "").await,
        44002,
    );
    assert_code(
        &emu.post_text("/cgi-bin/media/uploadnews", &t, "{").await,
        47001,
    );
    // Raw UTF-8 and \uXXXX escapes are both accepted.
    let escaped = format!(
        r#"{{"articles":[{{"thumb_media_id":"{temp_thumb}","title":"\u6807\u9898","content":"<p>x</p>"}}]}}"#
    );
    assert_code(
        &emu.post_text("/cgi-bin/media/uploadnews", &t, &escaped)
            .await,
        0,
    );
}

#[tokio::test]
async fn uploadvideo_makes_an_mpvideo() {
    let emu = start_default().await;
    let t = emu.token().await;
    let video = emu
        .upload("/cgi-bin/media/upload", &t, "video", MP4, "v.mp4")
        .await;
    let v = emu
        .post(
            "/cgi-bin/media/uploadvideo",
            &t,
            json!({"media_id": video["media_id"], "title": "T", "description": "D"}),
        )
        .await;
    assert_code(&v, 0);
    assert_eq!(v["type"], "video");
    assert_ne!(v["media_id"], video["media_id"]);
    emu.post_expect(
        "/cgi-bin/media/uploadvideo",
        &t,
        json!({"media_id": "nope"}),
        40007,
    )
    .await;
}
