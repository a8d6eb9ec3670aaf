//! Nobody outside can lock anyone out: failed sign-ins are limited by the
//! client's address (the connection's), never for everyone, and each is in
//! the audit log with its address.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use serde_json::json;
use tower::ServiceExt as _;

use crate::helpers::{PASSWORD, TestApp};

/// A sign-in from `from`, as the listener hands it over: the status.
async fn sign_in_from(app: &TestApp, from: &str, name: &str, password: &str) -> u16 {
    let mut request = Request::builder()
        .method("POST")
        .uri("/api/v1/session")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"name": name, "password": password}).to_string(),
        ))
        .expect("request");
    let peer: SocketAddr = format!("{from}:40000").parse().expect("address");
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = app.app.clone().oneshot(request).await.expect("answer");
    response.status().as_u16()
}

#[tokio::test]
async fn strangers_cannot_lock_anyone_out_and_failures_are_audited() {
    let app = TestApp::new();
    let admin = app.first_admin().await;

    // Made-up names from one address: that address is made to wait.
    let mut waiting = 0;
    for i in 0..40 {
        let status = sign_in_from(
            &app,
            "203.0.113.7",
            &format!("nobody{i}"),
            "not the password",
        )
        .await;
        assert!(status == 401 || status == 429, "{status}");
        if status == 429 {
            waiting += 1;
        }
    }
    assert!(
        waiting > 0,
        "the address that guesses names is made to wait"
    );
    // Everyone else still signs in, the right password first time.
    assert_eq!(
        sign_in_from(&app, "198.51.100.2", "alice", PASSWORD).await,
        200
    );

    // Five wrong passwords for alice from one address: that address waits
    // for alice, even with the right one; alice elsewhere does not.
    for _ in 0..5 {
        assert_eq!(
            sign_in_from(&app, "203.0.113.9", "alice", "not the password").await,
            401
        );
    }
    assert_eq!(
        sign_in_from(&app, "203.0.113.9", "alice", PASSWORD).await,
        429
    );
    assert_eq!(
        sign_in_from(&app, "198.51.100.3", "alice", PASSWORD).await,
        200
    );

    // Each failure is audited with where it came from.
    let (_, log) = app
        .call("GET", "/api/v1/audit?limit=200", Some(&admin), None)
        .await;
    let failed: Vec<&str> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "session.failed")
        .filter_map(|e| e["detail"].as_str())
        .collect();
    assert!(
        failed.iter().any(|d| d.contains("203.0.113.9")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|d| d.contains("203.0.113.7")),
        "{failed:?}"
    );
}
