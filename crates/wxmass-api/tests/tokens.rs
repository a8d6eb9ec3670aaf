//! Token sharing and refresh, counted by the emulator.

mod common;

use std::sync::Arc;

use common::*;
use serde_json::json;
use wxmass_api::{Client, Errcode, Error, TokenMode};
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};

#[tokio::test]
async fn a_thousand_concurrent_calls_fetch_one_token() {
    let emu = default_emulator().await;
    for mode in [TokenMode::Stable, TokenMode::Classic] {
        let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
            .base_url(emu.url())
            .token_mode(mode)
            .build()
            .expect("client");
        let before = emu.token_fetches().await;
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.mass().speed().await })
            })
            .collect();
        for task in tasks {
            task.await.expect("task").expect("call");
        }
        assert_eq!(emu.token_fetches().await - before, 1, "{mode:?}");
    }
}

#[tokio::test]
async fn invalidation_every_100_calls_costs_one_refresh_each_and_no_failure() {
    let emu = default_emulator().await;
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(emu.url())
        .token_mode(TokenMode::Classic)
        .build()
        .expect("client");
    client.mass().speed().await.expect("warm");
    emu.admin_post("/_emulator/faults", json!({"invalidate_token_every": 100}))
        .await;
    let before = emu.token_fetches().await;
    let client = Arc::new(client);
    for chunk in 0..100 {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.mass().speed().await })
            })
            .collect();
        for task in tasks {
            task.await
                .expect("task")
                .unwrap_or_else(|e| panic!("chunk {chunk}: {e}"));
        }
    }
    let refreshes = emu.token_fetches().await - before;
    // 10,000 calls plus the retries of rejected ones: about 100 invalidations.
    assert!((95..=105).contains(&refreshes), "{refreshes} refreshes");
}

#[tokio::test]
async fn a_bad_secret_fails_fast_with_a_clear_error() {
    let emu = default_emulator().await;
    let client = Client::builder(DEFAULT_APPID, "00000000000000000000000000000000")
        .base_url(emu.url())
        .build()
        .expect("client");
    let err = client.mass().speed().await.expect_err("bad secret");
    assert!(
        matches!(
            err,
            Error::Api {
                code: Errcode::InvalidCredential,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("stable_token"), "{err}");
    assert!(
        !err.to_string().contains("00000000000000000000000000000000"),
        "the secret never shows"
    );
    assert!(emu.token_fetches().await <= 2);
    let calls = emu.stats().await["calls"]["/cgi-bin/stable_token"]
        .as_u64()
        .unwrap_or(0);
    assert!(calls <= 2, "{calls} token calls");
}

#[tokio::test]
async fn expired_tokens_are_replaced_ahead_of_time() {
    let emu = default_emulator().await;
    let client = emu.client();
    client.mass().speed().await.expect("first");
    let first = client.access_token().await.expect("token");
    emu.advance(7200 - 200).await;
    // The client's own clock has not moved, so it still trusts its token; the
    // emulator rotates stable tokens in the last 5 minutes but the old one
    // still works, so nothing fails.
    client.mass().speed().await.expect("still fine");
    emu.advance(400).await;
    // Now expired at the emulator: 42001, one refresh, the call succeeds.
    client.mass().speed().await.expect("after refresh");
    let second = client.access_token().await.expect("token");
    assert_ne!(first, second);
}

#[test]
fn secrets_never_print() {
    let builder = Client::builder(DEFAULT_APPID, "my-very-secret");
    assert!(!format!("{builder:?}").contains("my-very-secret"));
}
