//! Failover, and which failures are retried.

mod common;

use common::*;
use serde_json::json;
use wxmass_api::{Audience, Client, ClientMsgId, Error, Message};
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};

#[tokio::test]
async fn an_unreachable_host_fails_over_to_the_next() {
    let emu = default_emulator().await;
    // Port 1 on loopback refuses connections.
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_urls(["http://127.0.0.1:1", &emu.url()])
        .retry(fast_retry())
        .build()
        .expect("client");
    let speed = client
        .mass()
        .speed()
        .await
        .expect("served by the second host");
    assert_eq!(speed.speed, 0);
}

#[tokio::test]
async fn every_host_down_is_a_transport_error() {
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_urls(["http://127.0.0.1:1", "http://127.0.0.1:2"])
        .retry(fast_retry())
        .build()
        .expect("client");
    let err = client.mass().speed().await.expect_err("nothing listens");
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(!err.to_string().contains(DEFAULT_SECRET));
}

#[tokio::test]
async fn safe_calls_retry_5xx_and_system_busy() {
    let emu = default_emulator().await;
    // 16 retries: at these rates a call fails them all once in ten million.
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(emu.url())
        .retry(wxmass_api::RetryPolicy {
            max_retries: 16,
            ..fast_retry()
        })
        .build()
        .expect("client");
    client.mass().speed().await.expect("warm");
    emu.admin_post("/_emulator/faults", json!({"paths": {"/cgi-bin/message/mass/speed/get": {"http_5xx_rate": 0.2, "errcode_rate": 0.2}}}))
        .await;
    for _ in 0..30 {
        client
            .mass()
            .speed()
            .await
            .expect("retried until it worked");
    }
}

#[tokio::test]
async fn a_send_without_clientmsgid_is_never_repeated_after_a_drop() {
    let emu = default_emulator().await;
    let client = emu.client();
    client.mass().speed().await.expect("warm");
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/message/mass/sendall": {"drop_rate": 1.0}}}),
    )
    .await;
    let err = client
        .mass()
        .send_with(&Message::text("once"), &Audience::All, ClientMsgId::Omit)
        .await
        .expect_err("the answer was lost");
    assert!(matches!(err, Error::AnswerLost { .. }), "{err:?}");
    let calls = emu.stats().await["calls"]["/cgi-bin/message/mass/sendall"].as_u64();
    assert_eq!(calls, Some(1), "not retried");
    // With a clientmsgid the retry is safe, and recognised.
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/message/mass/sendall": {"drop_rate": 0.5}}}),
    )
    .await;
    // Half the answers are dropped: 24 retries lose them all once in 30 million.
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(emu.url())
        .retry(wxmass_api::RetryPolicy {
            max_retries: 24,
            ..fast_retry()
        })
        .build()
        .expect("client");
    let sent = client
        .mass()
        .send(&Message::text("twice?"), &Audience::All)
        .await
        .expect("submitted");
    assert!(sent.msg_id().is_some() || matches!(sent, wxmass_api::Sent::AlreadySubmitted { .. }));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(emu.stats().await["duplicate_deliveries"], 0);
}

/// A request whose answer is lost carries its access token in its URL;
/// the error says what happened and where, never the URL's query.
#[tokio::test]
async fn a_lost_answer_never_shows_the_token_or_the_secret() {
    let emu = default_emulator().await;
    let client = emu.client();
    let token = client.access_token().await.expect("token");
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/tags/get": {"drop_rate": 1.0}}}),
    )
    .await;
    let err = client.tags().list().await.expect_err("the answer was lost");
    assert!(matches!(err, Error::AnswerLost { .. }), "{err:?}");
    let shown = format!("{err} {err:?}");
    assert!(shown.contains("/cgi-bin/tags/get"), "{shown}");
    assert!(!shown.contains(token.expose()), "the token leaked: {shown}");
    assert!(!shown.contains("access_token"), "the URL leaked: {shown}");
    assert!(
        !shown.contains(DEFAULT_SECRET),
        "the secret leaked: {shown}"
    );
}

/// A repeat that did nothing (WeChat busy) does not hide an earlier
/// attempt that may have acted (its answer lost): the caller learns that
/// an answer was lost, not that nothing was done, or it would count the
/// send as never made and make it again after its key ran out.
#[tokio::test]
async fn a_lost_answer_then_a_busy_repeat_is_still_a_lost_answer() {
    let emu = default_emulator().await;
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(emu.url())
        .retry(wxmass_api::RetryPolicy {
            max_retries: 1,
            base_delay: std::time::Duration::from_secs(3),
            max_delay: std::time::Duration::from_secs(3),
        })
        .build()
        .expect("client");
    client.mass().speed().await.expect("warm");
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/message/mass/sendall": {"drop_rate": 1.0}}}),
    )
    .await;
    let sending = tokio::spawn(async move {
        client
            .mass()
            .send(&Message::text("once"), &Audience::All)
            .await
    });
    // Once the first attempt reached WeChat, WeChat is busy for the repeat.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while emu.stats().await["calls"]["/cgi-bin/message/mass/sendall"].as_u64() < Some(1) {
        assert!(std::time::Instant::now() < deadline, "never sent");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/message/mass/sendall": {"errcode_rate": 1.0}}}),
    )
    .await;
    let err = sending
        .await
        .expect("task")
        .expect_err("the first answer was lost, the repeat refused");
    assert!(matches!(err, Error::AnswerLost { .. }), "{err:?}");
    assert_eq!(emu.stats().await["jobs"], 1, "the first attempt acted");
}
