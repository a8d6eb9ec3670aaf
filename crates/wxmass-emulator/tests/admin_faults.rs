//! The admin API, injected faults, and bad input.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn admin_followers_and_errors() {
    let emu = start_default().await;
    let (status, v) = emu
        .admin_post("/_emulator/followers", json!({"count": 5}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(v["added"], 5);
    assert_eq!(v["total"], 35);
    let (_, v) = emu
        .admin_post(
            "/_emulator/followers",
            json!({"openids": ["oMyOwnOpenid0000000000000001"], "tag_id": 100}),
        )
        .await;
    assert_eq!(v["openids"][0], "oMyOwnOpenid0000000000000001");
    let t = emu.token().await;
    let info = emu
        .get(
            "/cgi-bin/user/info",
            &[
                ("access_token", &t),
                ("openid", "oMyOwnOpenid0000000000000001"),
            ],
        )
        .await;
    assert_eq!(info["tagid_list"], json!([100]));
    assert_eq!(
        emu.admin_post("/_emulator/followers", json!({"tag_id": 9999, "count": 1}))
            .await
            .0,
        400
    );
    assert_eq!(
        emu.admin_post("/_emulator/followers", json!({"bogus": 1}))
            .await
            .0,
        400
    );
    assert_eq!(
        emu.admin_post("/_emulator/clock", json!({"advance_seconds": -5}))
            .await
            .0,
        400
    );
    let resp = emu
        .http
        .get(emu.url("/_emulator/jobs/123/recipients"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 404);
    let account = emu.admin_get("/_emulator/account").await;
    assert_eq!(account["appid"], wxmass_emulator::config::DEFAULT_APPID);
    assert!(account.get("secret").is_none(), "secrets are not exposed");
}

#[tokio::test]
async fn injected_errcodes_5xx_drops_and_latency() {
    let emu = start_default().await;
    let t = emu.token().await;
    let (status, _) = emu
        .admin_post(
            "/_emulator/faults",
            json!({"paths": {"/cgi-bin/tags/get": {"errcode_rate": 1.0}}}),
        )
        .await;
    assert_eq!(status, 200);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await,
        -1,
    );
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"*": {"http_5xx_rate": 1.0}}}),
    )
    .await;
    assert_eq!(
        emu.get_raw("/cgi-bin/tags/get", &[("access_token", &t)])
            .await
            .status()
            .as_u16(),
        503
    );
    // A dropped connection after the call ran: the client sees an error, but
    // the tag was created.
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/tags/create": {"drop_rate": 1.0}}}),
    )
    .await;
    let result = async {
        emu.http
            .post(emu.url("/cgi-bin/tags/create"))
            .query(&[("access_token", t.as_str())])
            .body(json!({"tag": {"name": "dropped"}}).to_string())
            .send()
            .await?
            .text()
            .await
    }
    .await;
    assert!(result.is_err(), "the answer must not arrive: {result:?}");
    emu.admin_post("/_emulator/faults", json!({})).await;
    let tags = emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await;
    assert!(tags.to_string().contains("dropped"));
    // Latency.
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/tags/get": {"latency_ms": 300}}}),
    )
    .await;
    let started = std::time::Instant::now();
    emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    assert_eq!(
        emu.admin_post(
            "/_emulator/faults",
            json!({"paths": {"*": {"drop_rate": 2.0}}})
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn tokens_invalidated_every_n_calls() {
    let emu = start_default().await;
    let t = emu.token().await;
    emu.admin_post("/_emulator/faults", json!({"invalidate_token_every": 3}))
        .await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await,
        0,
    );
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await,
        0,
    );
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await,
        0,
    );
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await,
        40001,
    );
    let fresh = emu.token().await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &fresh)])
            .await,
        0,
    );
}

#[tokio::test]
async fn bad_input_gets_wechat_errcodes() {
    let emu = start_default().await;
    let t = emu.token().await;
    assert_code(&emu.post_text("/cgi-bin/tags/create", &t, "").await, 44002);
    assert_code(
        &emu.post_text("/cgi-bin/tags/create", &t, "{\"tag\":").await,
        47001,
    );
    assert_code(
        &emu.post_text("/cgi-bin/tags/create", &t, "[1,2]").await,
        47001,
    );
    assert_code(
        &emu.post_text("/cgi-bin/tags/create", &t, "{\"tag\":{\"name\":5}}")
            .await,
        47001,
    );
    assert_code(
        &emu.post_text("/cgi-bin/message/mass/sendall", &t, "\u{0}\u{1}")
            .await,
        47001,
    );
    assert_code(
        &emu.get("/cgi-bin/tags/create", &[("access_token", &t)])
            .await,
        43002,
    );
    let resp = emu
        .get_raw("/cgi-bin/no/such/api", &[("access_token", &t)])
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_code(&resp.json().await.expect("json"), 40066);
    let stats = emu.admin_get("/_emulator/stats").await;
    assert_eq!(stats["calls"]["/cgi-bin/tags/create"], 5);
}
