//! People can leave: tokens listed and revoked, users disabled, enabled
//! and removed (their tokens and sessions ended), passwords reset by an
//! admin and changed by their owner.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp};

/// Signs `name` in with `password`: the status and the session cookie.
async fn sign_in(app: &TestApp, name: &str, password: &str) -> (u16, Option<String>) {
    let (status, headers, _) = app
        .call_with(
            "POST",
            "/api/v1/session",
            &[],
            Some(json!({"name": name, "password": password})),
        )
        .await;
    let cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .map(str::to_owned);
    (status, cookie)
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> u16 {
    app.call_with("GET", "/api/v1/me", &[("cookie", cookie)], None)
        .await
        .0
}

#[tokio::test]
async fn tokens_revoked_users_disabled_removed_and_passwords_reset() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": "bob", "role": "editor", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201);
    let token = |label: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let (status, t) = app
                .call(
                    "POST",
                    "/api/v1/tokens",
                    Some(&admin),
                    Some(json!({"user": "bob", "role": "editor", "label": label})),
                )
                .await;
            assert_eq!(status, 201, "{t}");
            (
                t["id"].as_i64().expect("id"),
                t["token"].as_str().expect("token").to_owned(),
            )
        }
    };

    // A token listed (never its secret), revoked, then refused.
    let (id, secret) = token("deploy bot").await;
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
        200
    );
    let (status, listed) = app.call("GET", "/api/v1/tokens", Some(&admin), None).await;
    assert_eq!(status, 200);
    assert!(
        listed
            .as_array()
            .expect("tokens")
            .iter()
            .any(|t| t["id"] == id && t["label"] == "deploy bot")
    );
    assert!(!listed.to_string().contains(&secret), "a secret listed");
    assert_eq!(
        app.call("GET", &format!("/api/v1/tokens/{id}"), Some(&admin), None)
            .await
            .0,
        200
    );
    assert_eq!(
        app.call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
        401
    );
    assert_eq!(
        app.call("GET", &format!("/api/v1/tokens/{id}"), Some(&admin), None)
            .await
            .0,
        404
    );

    // Disabled: its session and tokens end, and it cannot sign in.
    let (_, secret) = token("laptop").await;
    let (status, cookie) = sign_in(&app, "bob", PASSWORD).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("cookie");
    assert_eq!(me_with_cookie(&app, &cookie).await, 200);
    let (status, bob) = app
        .call("POST", "/api/v1/users/bob/disable", Some(&admin), None)
        .await;
    assert_eq!(
        (status, bob["disabled"].as_bool()),
        (200, Some(true)),
        "{bob}"
    );
    assert_eq!(
        me_with_cookie(&app, &cookie).await,
        401,
        "the session ended"
    );
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&secret), None).await.0,
        401,
        "the token ended"
    );
    assert_eq!(
        sign_in(&app, "bob", PASSWORD).await.0,
        401,
        "no sign-in while disabled"
    );
    assert_eq!(
        app.call("POST", "/api/v1/users/bob/enable", Some(&admin), None)
            .await
            .0,
        200
    );
    assert_eq!(sign_in(&app, "bob", PASSWORD).await.0, 200);

    // Reset by an admin: the old password and sessions stop.
    let (_, cookie) = sign_in(&app, "bob", PASSWORD).await;
    let cookie = cookie.expect("cookie");
    let reset = "a new long password for bob";
    let (status, _) = app
        .call(
            "PUT",
            "/api/v1/users/bob/password",
            Some(&admin),
            Some(json!({"password": reset})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(me_with_cookie(&app, &cookie).await, 401);
    assert_eq!(sign_in(&app, "bob", PASSWORD).await.0, 401);
    assert_eq!(sign_in(&app, "bob", reset).await.0, 200);

    // Changed by its owner, who gives the current one.
    let (_, own) = token("own").await;
    let (status, answer) = app
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&own),
            Some(json!({"current": "not it at all", "password": "bob's own new password"})),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("current")),
        "{answer}"
    );
    let (status, _) = app
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&own),
            Some(json!({"current": reset, "password": "bob's own new password"})),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(sign_in(&app, "bob", "bob's own new password").await.0, 200);

    // An admin does not disable itself; removing bob ends it for good.
    assert_eq!(
        app.call("POST", "/api/v1/users/alice/disable", Some(&admin), None)
            .await
            .0,
        409
    );
    assert_eq!(
        app.call("DELETE", "/api/v1/users/bob", Some(&admin), None)
            .await
            .0,
        204
    );
    assert_eq!(app.call("GET", "/api/v1/me", Some(&own), None).await.0, 401);
    let (_, users) = app.call("GET", "/api/v1/users", Some(&admin), None).await;
    assert!(!users.to_string().contains("\"bob\""), "{users}");
    let (_, log) = app
        .call("GET", "/api/v1/audit?limit=50", Some(&admin), None)
        .await;
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for wanted in [
        "token.revoke",
        "user.disable",
        "user.enable",
        "user.password_reset",
        "user.password_change",
        "user.remove",
    ] {
        assert!(actions.contains(&wanted), "no {wanted} in {actions:?}");
    }
}

/// `wxmass server reset-password` (the same call): an admin locked out of
/// the web, even disabled, signs in again, and its old credentials end.
#[tokio::test]
async fn a_locked_out_admin_is_let_back_in_from_the_servers_machine() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let (status, _) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": "carol", "role": "admin", "password": PASSWORD})),
        )
        .await;
    assert_eq!(status, 201);
    // Carol disables alice; alice forgot her password anyway.
    let (_, carol) = sign_in(&app, "carol", PASSWORD).await;
    let (status, _, _) = app
        .call_with(
            "POST",
            "/api/v1/users/alice/disable",
            &[("cookie", carol.as_deref().expect("cookie"))],
            None,
        )
        .await;
    assert_eq!(status, 403, "a session needs its CSRF token");
    assert_eq!(
        app.call("POST", "/api/v1/users/alice/enable", Some(&admin), None)
            .await
            .0,
        200
    );
    let ended =
        wxmass_server::reset_password(app.state.journal(), "alice", "alice is back in again")
            .await
            .expect("reset");
    assert_eq!(ended, 1, "alice's first token");
    assert_eq!(
        app.call("GET", "/api/v1/me", Some(&admin), None).await.0,
        401
    );
    assert_eq!(
        sign_in(&app, "alice", "alice is back in again").await.0,
        200
    );
    assert!(
        wxmass_server::reset_password(app.state.journal(), "alice", "short")
            .await
            .is_err(),
        "a short password is refused"
    );
}
