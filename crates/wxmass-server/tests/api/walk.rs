//! Every operation in the OpenAPI document, called by nobody, by a wrong
//! token, and by each role's token and browser session: 401 without
//! credentials, 403 for a role too weak for it, neither for one that has
//! it. The document's `security` is the one table of each operation's
//! permission; this walk holds the extractors to it.

use serde_json::{Value, json};

use crate::helpers::{PASSWORD, Session, TestApp};

/// Whether `role` has `permission` (the roles' rule, read from outside).
fn grants(role: &str, permission: &str) -> bool {
    match role.trim_end_matches(SCOPED) {
        "admin" => true,
        "editor" => matches!(permission, "read" | "edit"),
        "approver" => matches!(permission, "read" | "send"),
        _ => permission == "read",
    }
}

/// The label of a caller scoped to one account: its role's permissions,
/// but a 403 for what spans every account (saying so).
const SCOPED: &str = " (scoped)";

/// Whether `answer` is a scoped caller's refusal of what spans every
/// account.
fn refused_as_scoped(role: &str, status: u16, answer: &Value) -> bool {
    role.ends_with(SCOPED)
        && status == 403
        && answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("scoped to some accounts"))
}

#[tokio::test]
async fn every_operation_refuses_the_anonymous_and_the_roles_too_weak_for_it() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let mut tokens = vec![("admin".to_owned(), admin.clone())];
    for role in ["editor", "approver", "viewer"] {
        let name = format!("{role}1");
        let (status, user) = app
            .call(
                "POST",
                "/api/v1/users",
                Some(&admin),
                Some(json!({"name": name, "role": role, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, 201, "{user}");
        let (status, token) = app
            .call(
                "POST",
                "/api/v1/tokens",
                Some(&admin),
                Some(json!({"user": name, "role": role, "label": "test"})),
            )
            .await;
        assert_eq!(status, 201, "{token}");
        tokens.push((
            role.to_owned(),
            token["token"].as_str().expect("token").to_owned(),
        ));
    }
    // A caller scoped to one account has its role's permissions, no more
    // and no fewer (what it sees is tested in scopes.rs).
    let (status, user) = app
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(
                json!({"name": "scoped1", "role": "editor", "password": PASSWORD,
                        "accounts": ["wx0000000000000001"]}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{user}");
    let (status, token) = app
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"user": "scoped1", "role": "editor", "label": "test"})),
        )
        .await;
    assert_eq!(status, 201, "{token}");
    tokens.push((
        format!("editor{SCOPED}"),
        token["token"].as_str().expect("token").to_owned(),
    ));
    let (status, doc) = app.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let mut sessions = Vec::new();
    for (role, name) in [
        ("admin", "alice"),
        ("editor", "editor1"),
        ("approver", "approver1"),
        ("viewer", "viewer1"),
        ("editor (scoped)", "scoped1"),
    ] {
        sessions.push((role, Session::sign_in(&app, name).await));
    }
    let mut walked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let needs: Vec<&str> = op["security"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|req| req["token"].as_array())
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let method = method.to_uppercase();
            let body = (method != "GET").then(|| json!({}));
            if needs.is_empty() {
                let (status, _) = app.call(&method, path, None, body.clone()).await;
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{method} {path} is public but answered {status}"
                );
                continue;
            }
            walked += 1;
            assert_eq!(
                needs.len(),
                1,
                "{method} {path}: one permission per operation"
            );
            // The document names the refusals: 401 for every secured
            // operation, 403 wherever one can come (a role without the
            // permission, or a session without its CSRF token).
            assert!(
                op["responses"]["401"].is_object(),
                "{method} {path} does not document 401"
            );
            let refusable = method != "GET"
                || ["editor", "approver", "viewer"]
                    .iter()
                    .any(|role| !grants(role, needs[0]));
            assert!(
                !refusable || op["responses"]["403"].is_object(),
                "{method} {path} can answer 403 but does not document it"
            );
            let (status, _) = app.call(&method, path, None, body.clone()).await;
            assert_eq!(status, 401, "{method} {path} without credentials");
            let (status, _) = app
                .call(&method, path, Some("wxm_0000"), body.clone())
                .await;
            assert_eq!(status, 401, "{method} {path} with an unknown token");
            for (role, token) in &tokens {
                let (status, answer) = app.call(&method, path, Some(token), body.clone()).await;
                if grants(role, needs[0]) {
                    assert!(
                        status != 401
                            && (status != 403 || refused_as_scoped(role, status, &answer))
                            && status < 500,
                        "{method} {path} as {role}: {status} {answer}"
                    );
                } else {
                    assert_eq!(status, 403, "{method} {path} as {role}: {answer}");
                }
            }
            // The same through each role's browser session; what changes
            // something also needs the session's CSRF token.
            for (role, session) in &sessions {
                if method == "DELETE" && path == "/api/v1/session" {
                    continue; // signing out would end the walk's session
                }
                let (status, _, answer) = app
                    .call_with(&method, path, &session.headers(false), body.clone())
                    .await;
                if method != "GET" {
                    assert_eq!(
                        status, 403,
                        "{method} {path} as {role}'s session without CSRF: {answer}"
                    );
                }
                let (status, _, answer) = app
                    .call_with(&method, path, &session.headers(true), body.clone())
                    .await;
                if grants(role, needs[0]) {
                    assert!(
                        status != 401
                            && (status != 403 || refused_as_scoped(role, status, &answer))
                            && status < 500,
                        "{method} {path} as {role}'s session: {status} {answer}"
                    );
                } else {
                    assert_eq!(status, 403, "{method} {path} as {role}'s session: {answer}");
                }
            }
        }
    }
    assert!(walked >= 7, "walked {walked} operations");
}
