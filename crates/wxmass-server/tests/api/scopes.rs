//! Users and tokens scoped to accounts: an agency gives a team its own
//! accounts. A scoped caller sees and acts only on those: another
//! account's campaigns are not there for it, its accounts are not listed,
//! a campaign for it is refused, and figures that span every account are
//! forbidden. A token narrows its user's scope, never widens it; an admin
//! is never scoped.

use serde_json::{Value, json};
use wxmass_campaign::people::{Account, AccountType};

use crate::helpers::{APPID, PASSWORD, TestApp};

const OTHER: &str = "wx2222222222222222";

async fn token(app: &TestApp, admin: &str, body: Value) -> (u16, Value) {
    app.call("POST", "/api/v1/tokens", Some(admin), Some(body))
        .await
}

#[tokio::test]
async fn a_scoped_caller_sees_and_acts_only_on_its_accounts() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    app.account(&admin, APPID).await;
    // A second account (its credentials are another WeChat's: stored as is).
    app.state
        .journal()
        .create_account(&Account {
            appid: OTHER.into(),
            name: "Other brand".into(),
            account_type: Some(AccountType::Service),
            sealed: "not opened here".into(),
            api_base: None,
            created_at: 0,
            authorised: None,
        })
        .await
        .expect("the other account");
    for (id, appid) in [("mine", APPID), ("theirs", OTHER)] {
        let (status, answer) = app
            .call(
                "POST",
                "/api/v1/campaigns",
                Some(&admin),
                Some(json!({"id": id, "appid": appid, "name": id,
                            "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})),
            )
            .await;
        assert_eq!(status, 201, "{answer}");
    }
    let (status, erin) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": "erin", "role": "editor", "password": PASSWORD, "accounts": [APPID]})),
        )
        .await;
    assert_eq!(status, 201, "{erin}");
    assert_eq!(erin["accounts"], json!([APPID]));
    let (status, made) = token(
        &app,
        &admin,
        json!({"user": "erin", "role": "editor", "label": "team"}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let erin = made["token"].as_str().expect("token").to_owned();

    let (_, listed) = app
        .call("GET", "/api/v1/campaigns", Some(&erin), None)
        .await;
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, ["mine"]);
    for path in [
        "/api/v1/campaigns/theirs",
        "/api/v1/campaigns/theirs/batches",
        "/api/v1/campaigns/theirs/message",
        "/api/v1/campaigns/theirs/reads",
        &format!("/api/v1/accounts/{OTHER}/quota"),
        &format!("/api/v1/accounts/{OTHER}/testers"),
    ] {
        let (status, answer) = app.call("GET", path, Some(&erin), None).await;
        assert_eq!(status, 404, "{path}: {answer}");
    }
    for (method, path, body) in [
        ("POST", "/api/v1/campaigns/theirs/submit", None),
        (
            "POST",
            "/api/v1/campaigns/theirs/clone",
            Some(json!({"id": "copy"})),
        ),
        ("DELETE", "/api/v1/campaigns/theirs", None),
    ] {
        let (status, answer) = app.call(method, path, Some(&erin), body).await;
        assert_eq!(status, 404, "{method} {path}: {answer}");
    }
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/campaigns",
            Some(&erin),
            Some(json!({"id": "sneaky", "appid": OTHER, "name": "sneaky",
                        "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}})),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (403, Some("appid")),
        "{answer}"
    );
    let (_, accounts) = app.call("GET", "/api/v1/accounts", Some(&erin), None).await;
    assert_eq!(accounts.as_array().map(Vec::len), Some(1), "{accounts}");
    assert_eq!(accounts[0]["appid"], APPID);
    let (status, _) = app.call("GET", "/metrics", Some(&erin), None).await;
    assert_eq!(status, 403, "figures of every account");
    let (status, _) = app
        .call("POST", "/api/v1/campaigns/mine/submit", Some(&erin), None)
        .await;
    assert_eq!(status, 200, "its own account's campaign");

    // A token narrows its user's scope, never widens it.
    let (status, answer) = token(
        &app,
        &admin,
        json!({"user": "erin", "role": "viewer", "label": "wider", "accounts": [OTHER]}),
    )
    .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("accounts")),
        "{answer}"
    );
    app.call(
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(json!({"name": "vic", "role": "viewer", "password": PASSWORD})),
    )
    .await;
    let (status, made) = token(
        &app,
        &admin,
        json!({"user": "vic", "role": "viewer", "label": "other only", "accounts": [OTHER]}),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let vic = made["token"].as_str().expect("token").to_owned();
    let (_, listed) = app.call("GET", "/api/v1/campaigns", Some(&vic), None).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], "theirs");

    // An admin is never scoped; a scope is lifted with null.
    let (status, answer) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(
                json!({"name": "ada", "role": "admin", "password": PASSWORD, "accounts": [APPID]}),
            ),
        )
        .await;
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("accounts")),
        "{answer}"
    );
    let (status, answer) = app
        .call(
            "PUT",
            "/api/v1/users/erin/accounts",
            Some(&admin),
            Some(json!({"accounts": null})),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (_, listed) = app
        .call("GET", "/api/v1/campaigns", Some(&erin), None)
        .await;
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(2),
        "every account now: {listed}"
    );
}
