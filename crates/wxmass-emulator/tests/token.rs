//! Access tokens over HTTP: errors, the 5-minute overlap of /token,
//! stable_token's reuse, rotation and force limits, expiry on the clock.

mod common;

use common::*;
use serde_json::json;
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};

#[tokio::test]
async fn token_errors() {
    let emu = start_default().await;
    let q = |grant: &'static str, appid: &'static str, secret: &'static str| {
        vec![("grant_type", grant), ("appid", appid), ("secret", secret)]
    };
    assert_code(
        &emu.get(
            "/cgi-bin/token",
            &q("password", DEFAULT_APPID, DEFAULT_SECRET),
        )
        .await,
        40002,
    );
    assert_code(
        &emu.get(
            "/cgi-bin/token",
            &q("client_credential", "", DEFAULT_SECRET),
        )
        .await,
        41002,
    );
    assert_code(
        &emu.get("/cgi-bin/token", &q("client_credential", DEFAULT_APPID, ""))
            .await,
        41004,
    );
    assert_code(
        &emu.get(
            "/cgi-bin/token",
            &q("client_credential", "wx0000000000000000", DEFAULT_SECRET),
        )
        .await,
        40013,
    );
    assert_code(
        &emu.get(
            "/cgi-bin/token",
            &q("client_credential", DEFAULT_APPID, "nothex"),
        )
        .await,
        40125,
    );
    assert_code(
        &emu.get(
            "/cgi-bin/token",
            &q(
                "client_credential",
                DEFAULT_APPID,
                "00000000000000000000000000000000",
            ),
        )
        .await,
        40001,
    );
    let ok = emu
        .get(
            "/cgi-bin/token",
            &q("client_credential", DEFAULT_APPID, DEFAULT_SECRET),
        )
        .await;
    assert_code(&ok, 0);
    assert_eq!(ok["expires_in"], 7200);
    assert!(ok["access_token"].as_str().expect("token").len() >= 100);
    // Wrong method.
    let resp = emu
        .http
        .post(emu.url("/cgi-bin/token"))
        .send()
        .await
        .expect("post");
    assert_code(&resp.json().await.expect("json"), 43001);
}

#[tokio::test]
async fn business_calls_check_the_token() {
    let emu = start_default().await;
    assert_code(&emu.get("/cgi-bin/tags/get", &[]).await, 41001);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", "short")])
            .await,
        40014,
    );
    let unknown = "A".repeat(136);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &unknown)])
            .await,
        40001,
    );
    let token = emu.token().await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &token)])
            .await,
        0,
    );
}

#[tokio::test]
async fn a_new_token_leaves_the_old_one_five_minutes() {
    let emu = start_default().await;
    let old = emu.token().await;
    let new = emu.token().await;
    assert_ne!(old, new);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &old)])
            .await,
        0,
    );
    emu.advance(299).await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &old)])
            .await,
        0,
    );
    emu.advance(2).await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &old)])
            .await,
        40001,
    );
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &new)])
            .await,
        0,
    );
    // And every token expires after two hours.
    emu.advance(7200).await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &new)])
            .await,
        42001,
    );
    let stats = emu.admin_get("/_emulator/stats").await;
    assert_eq!(stats["token_fetches"]["classic"], 2);
}

async fn stable(emu: &Emu, force: bool) -> serde_json::Value {
    let body = json!({"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "force_refresh": force});
    emu.http
        .post(emu.url("/cgi-bin/stable_token"))
        .json(&body)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn stable_token_reuse_rotation_and_force() {
    let emu = start_default().await;
    // The steps below span about 2.5 hours of the emulator's clock, and the
    // 20 forced refreshes are a day's: start just after a Beijing midnight,
    // or a run late in the day sees the count reset halfway.
    let now = emu.admin_get("/_emulator/clock").await["now"]
        .as_i64()
        .expect("now");
    emu.advance(86_400 - (now + 8 * 3600).rem_euclid(86_400) + 60)
        .await;
    let first = stable(&emu, false).await;
    let again = stable(&emu, false).await;
    assert_eq!(
        first["access_token"], again["access_token"],
        "same token while valid"
    );
    // Isolated from classic tokens.
    let classic = emu.token().await;
    assert_ne!(first["access_token"].as_str(), Some(classic.as_str()));
    let t1 = first["access_token"].as_str().expect("token").to_owned();
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t1)]).await,
        0,
    );

    // In the last five minutes a new one comes; both work until the old expires.
    emu.advance(7200 - 299).await;
    let rotated = stable(&emu, false).await;
    let t2 = rotated["access_token"].as_str().expect("token").to_owned();
    assert_ne!(t1, t2);
    assert!(rotated["expires_in"].as_i64().expect("n") > 7000);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t1)]).await,
        0,
    );
    emu.advance(300).await;
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t1)]).await,
        42001,
    );

    // Force refresh: the previous token dies at once; within 30 s no new one.
    let forced = stable(&emu, true).await;
    let t3 = forced["access_token"].as_str().expect("token").to_owned();
    assert_ne!(t2, t3);
    assert_code(
        &emu.get("/cgi-bin/tags/get", &[("access_token", &t2)]).await,
        40001,
    );
    let too_soon = stable(&emu, true).await;
    assert_eq!(too_soon["access_token"].as_str(), Some(t3.as_str()));
    // 20 forced refreshes a day, then 45009.
    for _ in 0..19 {
        emu.advance(31).await;
        assert_code(&stable(&emu, true).await, 0);
    }
    emu.advance(31).await;
    assert_code(&stable(&emu, true).await, 45009);
    let stats = emu.admin_get("/_emulator/stats").await;
    assert_eq!(stats["token_fetches"]["stable_forced"], 20);
}

#[tokio::test]
async fn stable_token_body_errors() {
    let emu = start_default().await;
    let post = |body: &'static str| {
        let emu = &emu;
        async move {
            emu.http
                .post(emu.url("/cgi-bin/stable_token"))
                .body(body)
                .send()
                .await
                .expect("request")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    assert_code(&post("").await, 44002);
    assert_code(&post("{not json").await, 47001);
    assert_code(&post(r#"{"grant_type":"x"}"#).await, 40002);
    assert_code(
        &post(r#"{"grant_type":"client_credential","secret":"s"}"#).await,
        41002,
    );
}

#[tokio::test]
async fn token_daily_quota_resets_the_next_day() {
    let emu = start_default().await;
    emu.align(86_400).await;
    for _ in 0..2000 {
        emu.token().await;
    }
    let v = emu
        .get(
            "/cgi-bin/token",
            &[
                ("grant_type", "client_credential"),
                ("appid", DEFAULT_APPID),
                ("secret", DEFAULT_SECRET),
            ],
        )
        .await;
    assert_code(&v, 45009);
    emu.advance(86_400).await;
    emu.token().await;
}
