//! `wxmass server`, the real binary: the first admin, people and tokens,
//! accounts with sealed secrets, bad input answered 4xx with the field,
//! the audit log. (The walk of every operation's permission is in process,
//! in crates/wxmass-server/tests/api.)

use crate::common;

use std::process::Stdio;

use serde_json::{Value, json};

use common::{AES_KEY, PASSWORD, call, call_with, first_admin, init_admin};

const SECRET: &str = common::SECRET;

/// Adds the emulator's account (its calls going to `emulator_url`) as
/// `name` of `kind`, which must succeed.
fn add_emulated_account(base: &str, admin: &str, name: &str, kind: &str, emulator_url: &str) {
    add_account(base, admin, common::APPID, name, kind, emulator_url);
}

/// Adds the account `appid` of an emulator started with it.
fn add_account(base: &str, admin: &str, appid: &str, name: &str, kind: &str, emulator_url: &str) {
    let (status, answer) = call(
        base,
        "POST",
        "/api/v1/accounts",
        Some(admin),
        Some(json!({"appid": appid, "name": name, "account_type": kind,
                    "secret": common::SECRET, "callback_token": common::CALLBACK_TOKEN, "aes_key": AES_KEY,
                    "api_base": emulator_url})),
    );
    assert_eq!(status, 201, "{answer}");
}

/// Access tokens the emulator has handed out.
fn tokens_fetched(stats: &Value) -> u64 {
    ["/cgi-bin/token", "/cgi-bin/stable_token"]
        .iter()
        .map(|p| stats["calls"][p].as_u64().unwrap_or(0))
        .sum()
}

/// The emulator's stats once it has delivered `n` messages (jobs end a
/// moment after they are taken), or after 5 s, whichever comes first.
fn wait_for_deliveries(emulator_url: &str, n: u64) -> Value {
    let mut stats = Value::Null;
    for _ in 0..100 {
        stats = common::admin(emulator_url, "GET", "/_emulator/stats", "");
        if stats["deliveries"] == n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stats
}

/// A signed-in browser's cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

impl Session {
    /// Signs `name` in, which must succeed.
    fn sign_in(base: &str, name: &str, password: &str) -> Session {
        let (status, headers, answer) = call_with(
            base,
            "POST",
            "/api/v1/session",
            &[],
            Some(json!({"name": name, "password": password})),
        );
        assert_eq!(status, 200, "{answer}");
        let set = headers
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .expect("a cookie");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
            "{set}"
        );
        Session {
            cookie: set.split(';').next().expect("name=value").to_owned(),
            csrf: answer["csrf_token"].as_str().expect("csrf").to_owned(),
        }
    }

    /// The request headers, with the CSRF token or not.
    fn headers(&self, csrf: bool) -> Vec<(&str, &str)> {
        let mut headers = vec![("cookie", self.cookie.as_str())];
        if csrf {
            headers.push(("x-csrf-token", self.csrf.as_str()));
        }
        headers
    }
}

#[test]
fn server_people_and_accounts_with_secrets_sealed() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    assert!(admin.starts_with("wxm_"), "{admin}");
    let again = init_admin(home.path(), "bob");
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("has users already"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    let (status, health) = call(&base, "GET", "/api/v1/health", None, None);
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, me) = call(&base, "GET", "/api/v1/me", Some(&admin), None);
    assert_eq!(
        (status, me["name"].as_str(), me["role"].as_str()),
        (200, Some("alice"), Some("admin"))
    );

    // A user and a token for each role.
    let mut tokens = vec![("admin".to_owned(), admin.clone())];
    for role in ["editor", "approver", "viewer"] {
        let name = format!("{role}1");
        let (status, user) = call(
            &base,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": name, "role": role, "password": PASSWORD})),
        );
        assert_eq!(status, 201, "{user}");
        let (status, token) = call(
            &base,
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"user": name, "role": role, "label": "test"})),
        );
        assert_eq!(status, 201, "{token}");
        tokens.push((
            role.to_owned(),
            token["token"].as_str().expect("token").to_owned(),
        ));
    }
    let viewer = tokens[3].1.clone();

    // Bad input: 4xx naming the field, nothing stored.
    let bad = [
        (
            json!({"name": "x", "role": "viewer", "password": PASSWORD, "extra": 1}),
            400,
            None,
        ),
        (
            json!({"name": "no spaces", "role": "viewer", "password": PASSWORD}),
            400,
            Some("name"),
        ),
        (
            json!({"name": "carol", "role": "king", "password": PASSWORD}),
            400,
            Some("role"),
        ),
        (
            json!({"name": "carol", "role": "viewer", "password": "short"}),
            400,
            Some("password"),
        ),
        (json!({"name": "carol", "role": "viewer"}), 400, None),
        (
            json!({"name": "editor1", "role": "viewer", "password": PASSWORD}),
            409,
            None,
        ),
    ];
    for (body, want, field) in bad {
        let (status, answer) = call(
            &base,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(body.clone()),
        );
        assert_eq!(status, want, "{body} -> {answer}");
        if let Some(field) = field {
            assert_eq!(answer["error"]["field"], field, "{answer}");
        }
    }
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/tokens",
        Some(&admin),
        Some(json!({"user": "viewer1", "role": "admin", "label": "too much"})),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("role")),
        "{answer}"
    );

    // An account: its credentials tried at an emulated WeChat, its secrets
    // sealed, never shown.
    let (_emulator, emulator_url) = common::emulator(5, &[]);
    let account = json!({"appid": "wx5e1f0c2a9b84d37e", "name": "Newsroom", "account_type": "service",
                         "secret": SECRET, "callback_token": common::CALLBACK_TOKEN, "aes_key": AES_KEY,
                         "api_base": emulator_url});
    let mut short_key = account.clone();
    short_key["aes_key"] = json!("short");
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(short_key),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("aes_key")),
        "{answer}"
    );
    let (status, created) = call(
        &base,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(account.clone()),
    );
    assert_eq!(status, 201, "{created}");
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/accounts",
        Some(&admin),
        Some(account),
    );
    assert_eq!(status, 409);
    let (status, listed) = call(&base, "GET", "/api/v1/accounts", Some(&viewer), None);
    assert_eq!(status, 200);
    assert_eq!(listed[0]["callback_path"], "/callback/wx5e1f0c2a9b84d37e");
    for shown in [created.to_string(), listed.to_string()] {
        assert!(
            !shown.contains(SECRET)
                && !shown.contains(AES_KEY)
                && !shown.contains(common::CALLBACK_TOKEN)
        );
    }
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(home.path()).expect("home") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().contains("journal.db") {
            stored.extend(std::fs::read(&path).expect("journal"));
        }
    }
    assert!(!stored.is_empty());
    let stored = String::from_utf8_lossy(&stored);
    assert!(
        !stored.contains(SECRET) && !stored.contains(AES_KEY),
        "a secret is stored in the clear"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let key = std::fs::metadata(home.path().join("server.key")).expect("key");
        assert_eq!(key.permissions().mode() & 0o777, 0o600);
    }

    // The audit log, newest first.
    let (status, log) = call(&base, "GET", "/api/v1/audit?limit=50", Some(&admin), None);
    assert_eq!(status, 200);
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions.first(), Some(&"account.create"), "{actions:?}");
    assert_eq!(actions.iter().filter(|a| **a == "user.create").count(), 4);
    assert_eq!(actions.iter().filter(|a| **a == "token.create").count(), 3);
    let (status, _) = call(&base, "GET", "/api/v1/audit?limit=0", Some(&admin), None);
    assert_eq!(status, 400);

    // Every operation's permission is walked in process, by
    // crates/wxmass-server/tests/api/walk.rs; here the binary serves the
    // document.
    let (status, doc) = call(&base, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(status, 200);
    assert!(doc["paths"].as_object().is_some_and(|p| !p.is_empty()));
}

/// Browser sessions: signing in sets an HttpOnly, SameSite=Strict cookie
/// (Secure behind HTTPS), a wrong password and an unknown name are refused
/// alike, five failures make the name wait (429, Retry-After) while other
/// names still sign in, and signing out ends the session on the server.
#[test]
fn browser_sessions_sign_in_out_and_are_rate_limited() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(json!({"name": "bob", "role": "viewer", "password": PASSWORD})),
    );
    assert_eq!(status, 201);
    let sign_in = |name: &str, password: &str, extra: &[(&str, &str)]| {
        call_with(
            &base,
            "POST",
            "/api/v1/session",
            extra,
            Some(json!({"name": name, "password": password})),
        )
    };
    let (status, headers, _) = sign_in("alice", PASSWORD, &[("x-forwarded-proto", "https")]);
    assert_eq!(status, 200);
    let set = headers["set-cookie"].to_str().expect("cookie");
    assert!(
        set.contains("; Secure") && set.contains("HttpOnly"),
        "{set}"
    );

    let (_, _, wrong) = sign_in("alice", "not the password at all", &[]);
    let (_, _, unknown) = sign_in("nobody", PASSWORD, &[]);
    assert_eq!(
        wrong["error"]["message"], unknown["error"]["message"],
        "{wrong} / {unknown}"
    );
    for _ in 0..4 {
        let (status, _, _) = sign_in("alice", "not the password at all", &[]);
        assert_eq!(status, 401);
    }
    let (status, headers, answer) = sign_in("alice", PASSWORD, &[]);
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (429, Some("too_many")),
        "{answer}"
    );
    let retry: u64 = headers["retry-after"]
        .to_str()
        .ok()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=300).contains(&retry), "{retry}");

    let bob = Session::sign_in(&base, "bob", PASSWORD);
    let (status, _, me) = call_with(&base, "GET", "/api/v1/me", &bob.headers(false), None);
    assert_eq!(
        (status, me["name"].as_str(), me["role"].as_str()),
        (200, Some("bob"), Some("viewer")),
        "{me}"
    );
    let (status, _, session) =
        call_with(&base, "GET", "/api/v1/session", &bob.headers(false), None);
    assert_eq!(status, 200);
    assert_eq!(session["csrf_token"].as_str(), Some(bob.csrf.as_str()));
    assert!(
        session["expires_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{session}"
    );
    let (status, _, _) = call_with(
        &base,
        "DELETE",
        "/api/v1/session",
        &bob.headers(false),
        None,
    );
    assert_eq!(
        status, 403,
        "signing out is a change: it needs the CSRF token"
    );
    let (status, headers, _) =
        call_with(&base, "DELETE", "/api/v1/session", &bob.headers(true), None);
    assert_eq!(status, 204);
    assert!(
        headers["set-cookie"]
            .to_str()
            .is_ok_and(|c| c.contains("Max-Age=0"))
    );
    let (status, _, _) = call_with(&base, "GET", "/api/v1/me", &bob.headers(false), None);
    assert_eq!(
        status, 401,
        "the session is over on the server, cookie or not"
    );

    let (_, log) = call(&base, "GET", "/api/v1/audit", Some(&admin), None);
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.contains(&"session.create") && actions.contains(&"session.delete"),
        "{actions:?}"
    );
}

/// The same store on PostgreSQL (`--database postgres://...`).
#[test]
fn server_on_postgres() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let out = common::wxmass_std(home.path(), "http://127.0.0.1:9")
        .args([
            "--database",
            &postgres.url,
            "server",
            "init-admin",
            "--name",
            "alice",
        ])
        .env("WXMASS_ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("init-admin");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let admin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let server_args = [
        "--database",
        &postgres.url,
        "server",
        "--listen",
        "127.0.0.1:0",
    ];
    let (_server, base) = common::spawn(Some(home.path()), &server_args);
    let (status, created) = call(
        &base,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(json!({"name": "ed", "role": "editor", "password": PASSWORD})),
    );
    assert_eq!(status, 201, "{created}");
    let (status, users) = call(&base, "GET", "/api/v1/users", Some(&admin), None);
    assert_eq!(status, 200);
    let names: Vec<&str> = users
        .as_array()
        .expect("users")
        .iter()
        .filter_map(|u| u["name"].as_str())
        .collect();
    assert_eq!(names, ["alice", "ed"]);

    // Two servers on the store count the same failed sign-ins: three
    // wrong passwords at one and two at the other make the name wait at
    // both (a load balancer does not multiply the tries).
    let (_other, other) = common::spawn(Some(home.path()), &server_args);
    let sign_in = |base: &str, password: &str| {
        call_with(
            base,
            "POST",
            "/api/v1/session",
            &[],
            Some(json!({"name": "Ed", "password": password})),
        )
    };
    for base in [&base, &base, &base, &other, &other] {
        let (status, _, answer) = sign_in(base, "not the password at all");
        assert_eq!(status, 401, "{answer}");
    }
    for base in [&base, &other] {
        let (status, _, answer) = sign_in(base, PASSWORD);
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (429, Some("too_many")),
            "{answer}"
        );
    }
}

/// Waits (up to 20 s) until campaign `id` is in `state`; returns it.
fn wait_for_state(base: &str, token: &str, id: &str, state: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (status, c) = call(
            base,
            "GET",
            &format!("/api/v1/campaigns/{id}"),
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{c}");
        if c["state"] == state {
            return c;
        }
        last = c;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("campaign {id} never became {state}: {last}");
}

/// A campaign through its whole life on the real binary and the emulator:
/// written by an editor, refused approval before it is submitted, approved
/// by an approver, sent by the server when due, finished, every follower
/// reached once; another scheduled for later, paused, resumed, cancelled.
#[test]
fn a_campaign_from_draft_to_finished() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    // The emulator pushes every report to the server, in safe mode.
    let callback = format!("{base}/callback/{}", common::APPID);
    let (_emulator, emulator_url) = common::emulator_pushing(&callback, 50, &[]);
    let (status, _) = call(
        &base,
        "GET",
        "/callback/wx0000000000000000?echostr=x",
        None,
        None,
    );
    assert_eq!(status, 404, "no such account");
    let mut tokens = std::collections::HashMap::new();
    for role in ["editor", "approver"] {
        let (status, _) = call(
            &base,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(json!({"name": role, "role": role, "password": PASSWORD})),
        );
        assert_eq!(status, 201);
        let (_, token) = call(
            &base,
            "POST",
            "/api/v1/tokens",
            Some(&admin),
            Some(json!({"user": role, "role": role, "label": "test"})),
        );
        tokens.insert(role, token["token"].as_str().expect("token").to_owned());
    }
    let (editor, approver) = (&tokens["editor"], &tokens["approver"]);
    add_emulated_account(&base, &admin, "Emulated", "service", &emulator_url);

    let draft = |id: &str| {
        json!({"id": id, "appid": common::APPID, "name": "Friday news",
               "content": {"type": "text", "text": "hello from the server"}, "audience": {"kind": "all"}})
    };
    let (status, created) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(editor),
        Some(draft("c1")),
    );
    assert_eq!(
        (status, created["state"].as_str()),
        (201, Some("draft")),
        "{created}"
    );
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(editor),
        Some(draft("c1")),
    );
    assert_eq!(status, 409, "the id is taken");
    // Test sends, to a follower and to a WeChat ID, while it is a draft.
    let followers = common::follower_list(home.path(), &emulator_url);
    let openid = std::fs::read_to_string(&followers)
        .expect("followers")
        .lines()
        .next()
        .expect("a follower")
        .to_owned();
    // Test sends go to the account's testers, whom an admin names.
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/c1/test",
        Some(editor),
        Some(json!({"openid": openid})),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (403, Some("openid")),
        "not a tester yet: {answer}"
    );
    let testers = json!({"openids": [openid], "wechat_ids": ["tester-1"]});
    let (status, answer) = call(
        &base,
        "PUT",
        &format!("/api/v1/accounts/{}/testers", common::APPID),
        Some(editor),
        Some(testers.clone()),
    );
    assert_eq!(status, 403, "an admin names testers: {answer}");
    let (status, answer) = call(
        &base,
        "PUT",
        &format!("/api/v1/accounts/{}/testers", common::APPID),
        Some(&admin),
        Some(testers),
    );
    assert_eq!(status, 200, "{answer}");
    for to in [json!({"openid": openid}), json!({"wechat_id": "tester-1"})] {
        let (status, sent) = call(
            &base,
            "POST",
            "/api/v1/campaigns/c1/test",
            Some(editor),
            Some(to.clone()),
        );
        assert_eq!(status, 200, "{to}: {sent}");
    }
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/c1/test",
        Some(editor),
        Some(json!({"openid": openid, "wechat_id": "both"})),
    );
    assert_eq!(status, 400, "{answer}");
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    assert_eq!(
        (stats["previews"].as_u64(), stats["jobs"].as_u64()),
        (Some(2), Some(0)),
        "{stats}"
    );
    let mut long = draft("c9");
    long["content"]["text"] = json!("字".repeat(700));
    let (status, answer) = call(&base, "POST", "/api/v1/campaigns", Some(editor), Some(long));
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("content.text")),
        "{answer}"
    );

    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let approve = |id: &str, at: &str| {
        call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/{id}/approve"),
            Some(approver),
            Some(json!({"send_at": at})),
        )
    };
    let (status, answer) = approve("c1", &now);
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("wrong_state")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("draft")),
        "{answer}"
    );
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/campaigns/c1/submit",
        Some(editor),
        None,
    );
    assert_eq!(status, 200);
    let (status, answer) = approve("c1", "tomorrow at nine");
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("send_at")),
        "{answer}"
    );
    let (status, approved) = approve("c1", &now);
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["approved_by"], "approver");
    assert!(
        approved["send_at"]
            .as_str()
            .is_some_and(|t| t.ends_with("+08:00")),
        "{approved}"
    );

    let done = wait_for_state(&base, approver, "c1", "finished");
    assert_eq!(
        (done["batches"].as_u64(), done["submitted"].as_u64()),
        (Some(1), Some(1)),
        "{done}"
    );
    // WeChat's report reaches /callback/{appid} and joins its batch.
    let mut reported = Value::Null;
    for _ in 0..100 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/c1", Some(approver), None);
        if c["reported"] == 1 {
            reported = c;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(reported["reported"], 1, "the push was not recorded");
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 1, "{stats}");
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/c1/pause",
        Some(approver),
        None,
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("wrong_state")),
        "{answer}"
    );

    // Later: scheduled, paused, resumed, cancelled; it never sends.
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(editor),
        Some(draft("c2")),
    );
    assert_eq!(status, 201);
    call(
        &base,
        "POST",
        "/api/v1/campaigns/c2/submit",
        Some(editor),
        None,
    );
    let later = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + 3600);
    let (status, scheduled) = approve("c2", &later);
    assert_eq!(
        (status, scheduled["state"].as_str()),
        (200, Some("scheduled")),
        "{scheduled}"
    );
    for (step, state) in [
        ("pause", "paused"),
        ("resume", "scheduled"),
        ("cancel", "cancelled"),
    ] {
        let (status, c) = call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/c2/{step}"),
            Some(approver),
            None,
        );
        assert_eq!(
            (status, c["state"].as_str()),
            (200, Some(state)),
            "{step}: {c}"
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    assert_eq!(
        (
            stats["jobs"].as_u64(),
            stats["deliveries"].as_u64(),
            stats["duplicate_deliveries"].as_u64()
        ),
        (Some(1), Some(50), Some(0)),
        "{stats}"
    );
    let (_, log) = call(&base, "GET", "/api/v1/audit", Some(&admin), None);
    let actions: Vec<&str> = log
        .as_array()
        .expect("log")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "campaign.create",
        "campaign.submit",
        "campaign.approve",
        "campaign.pause",
        "campaign.resume",
        "campaign.cancel",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}

/// An emulator for `appid` of `kind` with `followers`, pushing its
/// reports to the server at `base` in safe mode.
fn emulator_pushing_to(
    base: &str,
    appid: &str,
    kind: &str,
    followers: u32,
) -> (common::Proc, String) {
    let callback = format!("{base}/callback/{appid}");
    common::emulator_pushing(
        &callback,
        followers,
        &["--appid", appid, "--account-type", kind],
    )
}

/// Waits until every batch of campaign `id` has its pushed report.
fn wait_for_reports(base: &str, token: &str, id: &str) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        let (_, c) = call(
            base,
            "GET",
            &format!("/api/v1/campaigns/{id}"),
            Some(token),
            None,
        );
        if c["batches"].as_u64().is_some_and(|n| n > 0) && c["reported"] == c["batches"] {
            return c;
        }
        last = c;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("campaign {id}'s reports never all came: {last}");
}

/// Two accounts in one server, each with a campaign approved for tomorrow:
/// nothing is sent today; once the server's clock and the emulators' move
/// a day on, both run, on time, each to its own followers once, and each
/// account's pushes report its own campaign. Moving the clock is an
/// admin's, audited, and refused by a server without --movable-clock.
#[test]
fn campaigns_for_tomorrow_on_two_accounts_run_when_the_clocks_move() {
    const OTHER: &str = "wx2222222222222222";
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(
        Some(home.path()),
        &["server", "--listen", "127.0.0.1:0", "--movable-clock"],
    );
    let (_service, service_url) = emulator_pushing_to(&base, common::APPID, "service", 30);
    let (_subscription, subscription_url) = emulator_pushing_to(&base, OTHER, "subscription", 20);
    add_account(
        &base,
        &admin,
        common::APPID,
        "Service",
        "service",
        &service_url,
    );
    add_account(
        &base,
        &admin,
        OTHER,
        "Subscription",
        "subscription",
        &subscription_url,
    );

    let (_, clock) = call(&base, "GET", "/api/v1/clock", Some(&admin), None);
    assert_eq!(
        (clock["movable"].as_bool(), clock["offset_seconds"].as_i64()),
        (Some(true), Some(0)),
        "{clock}"
    );
    let tomorrow = wxmass_campaign::beijing::now() + 86_400;
    let send_at = wxmass_campaign::beijing::rfc3339(tomorrow);
    for (id, appid) in [
        ("service-news", common::APPID),
        ("subscription-news", OTHER),
    ] {
        let (status, c) = call(
            &base,
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": id, "appid": appid, "name": id,
                        "content": {"type": "text", "text": format!("news for {appid}")},
                        "audience": {"kind": "all"}})),
        );
        assert_eq!(status, 201, "{c}");
        let (status, c) = call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/{id}/submit"),
            Some(&admin),
            None,
        );
        assert_eq!(status, 200, "{c}");
        let (status, c) = call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/{id}/approve"),
            Some(&admin),
            Some(json!({"send_at": send_at})),
        );
        assert_eq!(
            (status, c["state"].as_str()),
            (200, Some("scheduled")),
            "{c}"
        );
    }
    // Several of the runner's rounds: still tomorrow's.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    for (id, url) in [
        ("service-news", &service_url),
        ("subscription-news", &subscription_url),
    ] {
        let (_, c) = call(
            &base,
            "GET",
            &format!("/api/v1/campaigns/{id}"),
            Some(&admin),
            None,
        );
        assert_eq!(c["state"], "scheduled", "{c}");
        assert_eq!(common::admin(url, "GET", "/_emulator/stats", "")["jobs"], 0);
    }

    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/clock",
        Some(&admin),
        Some(json!({"advance_seconds": -60})),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("advance_seconds")),
        "{answer}"
    );
    // A day on (and a second), for the server and for WeChat.
    let advance = tomorrow - wxmass_campaign::beijing::now() + 1;
    let (status, clock) = call(
        &base,
        "POST",
        "/api/v1/clock",
        Some(&admin),
        Some(json!({"advance_seconds": advance})),
    );
    assert_eq!(status, 200, "{clock}");
    assert!(
        clock["offset_seconds"]
            .as_i64()
            .is_some_and(|o| o >= advance),
        "{clock}"
    );
    for url in [&service_url, &subscription_url] {
        common::admin(
            url,
            "POST",
            "/_emulator/clock",
            &json!({"advance_seconds": advance}).to_string(),
        );
    }
    for (id, url, followers) in [
        ("service-news", &service_url, 30),
        ("subscription-news", &subscription_url, 20),
    ] {
        let done = wait_for_state(&base, &admin, id, "finished");
        assert!(
            !done["note"].as_str().unwrap_or_default().contains("late"),
            "it ran on time: {done}"
        );
        let reported = wait_for_reports(&base, &admin, id);
        assert_eq!(reported["reported"], 1, "{reported}");
        let stats = common::admin(url, "GET", "/_emulator/stats", "");
        assert_eq!(
            (
                stats["jobs"].as_u64(),
                stats["deliveries"].as_u64(),
                stats["duplicate_deliveries"].as_u64()
            ),
            (Some(1), Some(followers), Some(0)),
            "{id}: {stats}"
        );
    }
    let (_, log) = call(&base, "GET", "/api/v1/audit", Some(&admin), None);
    assert!(
        log.as_array()
            .is_some_and(|l| l.iter().any(|e| e["action"] == "clock.move")),
        "{log}"
    );

    // A server on the machine's time refuses to move it.
    let other = tempfile::tempdir().expect("home");
    let other_admin = first_admin(other.path());
    let (_fixed, fixed) = common::spawn(Some(other.path()), &["server", "--listen", "127.0.0.1:0"]);
    let (status, answer) = call(
        &fixed,
        "POST",
        "/api/v1/clock",
        Some(&other_admin),
        Some(json!({"advance_seconds": 60})),
    );
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("wrong_state")),
        "{answer}"
    );
}

/// Paused mid-run, a campaign stops sending once its batches in flight are
/// recorded; resumed, it sends the rest, every follower once.
#[test]
fn a_running_campaign_paused_and_resumed() {
    const FOLLOWERS: u32 = 2_000;
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(
        Some(home.path()),
        &[
            "server",
            "--listen",
            "127.0.0.1:0",
            "--window",
            "1",
            "--sends-per-minute",
            "100000",
        ],
    );
    let (_emulator, emulator_url) = common::emulator(
        FOLLOWERS,
        &["--no-quotas", "--mass-sends-per-minute", "100000"],
    );
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/faults",
        r#"{"paths": {"/cgi-bin/message/mass/send": {"latency_ms": 150}}}"#,
    );
    add_emulated_account(&base, &admin, "Paused", "service", &emulator_url);
    let list =
        std::fs::read_to_string(common::follower_list(home.path(), &emulator_url)).expect("list");
    let (status, saved) = put_text(&base, "/api/v1/lists/everyone", &admin, list);
    assert_eq!(status, 201, "{saved}");
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(
            json!({"id": "paused", "appid": common::APPID, "name": "Paused",
                    "content": {"type": "text", "text": "paused, then resumed"},
                    "audience": {"kind": "openids"}, "list": "everyone", "batch_size": 100}),
        ),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/paused/submit",
        Some(&admin),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/paused/approve",
        Some(&admin),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    let mut submitted = 0;
    for _ in 0..300 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/paused", Some(&admin), None);
        submitted = c["submitted"].as_u64().unwrap_or(0);
        if submitted >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(submitted >= 3, "the campaign never got going");
    let (status, c) = call(
        &base,
        "POST",
        "/api/v1/campaigns/paused/pause",
        Some(&admin),
        None,
    );
    assert_eq!((status, c["state"].as_str()), (200, Some("paused")), "{c}");
    // The batch in flight is recorded; then nothing more goes.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let jobs = || {
        common::admin(&emulator_url, "GET", "/_emulator/stats", "")["jobs"]
            .as_u64()
            .expect("jobs")
    };
    let stopped_at = jobs();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(jobs(), stopped_at, "a paused campaign sent more");
    assert!(
        stopped_at < 20,
        "it was paused mid-run, at {stopped_at} of 20"
    );
    let (_, c) = call(&base, "GET", "/api/v1/campaigns/paused", Some(&admin), None);
    assert_eq!(
        (c["state"].as_str(), c["submitted"].as_u64()),
        (Some("paused"), Some(stopped_at)),
        "{c}"
    );

    let (status, c) = call(
        &base,
        "POST",
        "/api/v1/campaigns/paused/resume",
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{c}");
    let done = wait_for_state(&base, &admin, "paused", "finished");
    assert_eq!(done["submitted"], 20, "{done}");
    let stats = wait_for_deliveries(&emulator_url, u64::from(FOLLOWERS));
    assert_eq!(
        (
            stats["jobs"].as_u64(),
            stats["deliveries"].as_u64(),
            stats["duplicate_deliveries"].as_u64()
        ),
        (Some(20), Some(u64::from(FOLLOWERS)), Some(0)),
        "{stats}"
    );
}

/// A lost push: no report comes, and the server that sent the campaign
/// dies before WeChat finishes the job. The server started again asks
/// `mass/get` about it, and the job ends in its status.
#[test]
fn a_lost_report_is_followed_up_after_a_restart() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let args = ["server", "--listen", "127.0.0.1:0"];
    let (mut first, base) = common::spawn(Some(home.path()), &args);
    // No callback: the emulator pushes no report. Its job takes 3 s.
    let (_emulator, emulator_url) = common::emulator_with(None, 30, 2, &["--job-delay-ms", "3000"]);
    add_emulated_account(&base, &admin, "Lost", "service", &emulator_url);
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(json!({"id": "lost", "appid": common::APPID, "name": "Lost",
                    "content": {"type": "text", "text": "its report is lost"},
                    "audience": {"kind": "all"}})),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/lost/submit",
        Some(&admin),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/lost/approve",
        Some(&admin),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    wait_for_state(&base, &admin, "lost", "finished");
    first.0.kill().expect("kill -9");
    let _ = first.0.wait();
    // WeChat finishes the job while no server runs.
    std::thread::sleep(std::time::Duration::from_millis(3500));

    let (_second, base) = common::spawn(Some(home.path()), &args);
    let status_of = || {
        let (status, batches) = call(
            &base,
            "GET",
            "/api/v1/campaigns/lost/batches",
            Some(&admin),
            None,
        );
        assert_eq!(status, 200, "{batches}");
        assert!(batches[0]["msg_id"].as_i64().is_some(), "{batches}");
        assert!(batches[0]["report"].is_null(), "no push came: {batches}");
        batches[0]["status"].as_str().map(str::to_owned)
    };
    assert_ne!(
        status_of().as_deref(),
        Some("SEND_SUCCESS"),
        "not known before the follow-up"
    );
    let mut last = None;
    for _ in 0..100 {
        last = status_of();
        if last.as_deref() == Some("SEND_SUCCESS") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        last.as_deref(),
        Some("SEND_SUCCESS"),
        "the follow-up never asked"
    );
}

/// A campaign whose time passed while no server looked (here: the clock
/// jumps two hours past it at once) runs once, and its note says how late.
#[test]
fn a_campaign_past_its_time_runs_once_and_says_late() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(
        Some(home.path()),
        &["server", "--listen", "127.0.0.1:0", "--movable-clock"],
    );
    let (_emulator, emulator_url) = common::emulator(10, &[]);
    add_emulated_account(&base, &admin, "Late", "service", &emulator_url);
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(json!({"id": "late", "appid": common::APPID, "name": "Late",
                    "content": {"type": "text", "text": "an hour late"},
                    "audience": {"kind": "all"}})),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/late/submit",
        Some(&admin),
        None,
    );
    let in_an_hour = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + 3600);
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/late/approve",
        Some(&admin),
        Some(json!({"send_at": in_an_hour})),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, _) = call(
        &base,
        "POST",
        "/api/v1/clock",
        Some(&admin),
        Some(json!({"advance_seconds": 7200})),
    );
    assert_eq!(status, 200);
    let done = wait_for_state(&base, &admin, "late", "finished");
    assert!(
        done["note"]
            .as_str()
            .is_some_and(|n| n.contains("ran late")),
        "{done}"
    );
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    assert_eq!(
        (stats["jobs"].as_u64(), stats["deliveries"].as_u64()),
        (Some(1), Some(10)),
        "once: {stats}"
    );
}

/// PUBLISHJOBFINISH through the server's `/callback/{appid}`: a publish
/// that succeeds and one the emulator fails, both recorded and shown by
/// `GET /api/v1/publishes`.
#[test]
fn the_server_records_publish_reports() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    let (_emulator, emulator_url) = emulator_pushing_to(&base, common::APPID, "service", 5);
    add_account(
        &base,
        &admin,
        common::APPID,
        "Publisher",
        "service",
        &emulator_url,
    );
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/publish_outcome",
        r#"{"status": 0}"#,
    );
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/publish_outcome",
        r#"{"status": 4, "fail_idx": [1]}"#,
    );
    let ok = common::publish_a_draft(&emulator_url, "Published");
    let rejected = common::publish_a_draft(&emulator_url, "Rejected");
    let mut last = Value::Null;
    for _ in 0..100 {
        let (status, listed) = call(&base, "GET", "/api/v1/publishes", Some(&admin), None);
        assert_eq!(status, 200, "{listed}");
        let of = |id: i64| {
            listed
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["publish_id"] == id)
                .cloned()
        };
        if let (Some(ok), Some(rejected)) = (of(ok), of(rejected)) {
            assert_eq!(
                (ok["publish_status"].as_i64(), ok["status"].as_str()),
                (Some(0), Some("published")),
                "{ok}"
            );
            assert_eq!(ok["article_urls"].as_array().map(Vec::len), Some(1));
            assert_eq!(rejected["publish_status"], 4, "{rejected}");
            assert_eq!(rejected["fail_idx"], json!([1]));
            assert!(
                rejected["reported_at"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("+08:00"))
            );
            return;
        }
        last = listed;
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the publish reports never reached the server: {last}");
}

/// SIGTERM drains: the server stops claiming, lets its batches in flight
/// be recorded (or released), and exits 0 mid-campaign; a server started
/// again on the same store finishes the campaign at once (nothing left
/// under a lease: it is 60 s here), every follower reached once.
#[test]
fn sigterm_drains_and_a_restart_finishes() {
    const FOLLOWERS: u32 = 2_000;
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let args = [
        "server",
        "--listen",
        "127.0.0.1:0",
        "--window",
        "2",
        "--lease",
        "60",
        "--sends-per-minute",
        "100000",
    ];
    let (mut first, base) = common::spawn(Some(home.path()), &args);
    let (_emulator, emulator_url) = common::emulator(
        FOLLOWERS,
        &["--no-quotas", "--mass-sends-per-minute", "100000"],
    );
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/faults",
        r#"{"paths": {"/cgi-bin/message/mass/send": {"latency_ms": 150}}}"#,
    );
    add_emulated_account(&base, &admin, "Drained", "service", &emulator_url);
    let list =
        std::fs::read_to_string(common::follower_list(home.path(), &emulator_url)).expect("list");
    let (status, saved) = put_text(&base, "/api/v1/lists/everyone", &admin, list);
    assert_eq!(status, 201, "{saved}");
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(
            json!({"id": "drain", "appid": common::APPID, "name": "Drained",
                    "content": {"type": "text", "text": "drained, then finished"},
                    "audience": {"kind": "openids"}, "list": "everyone", "batch_size": 100}),
        ),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/drain/submit",
        Some(&admin),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/drain/approve",
        Some(&admin),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    let mut submitted = 0;
    for _ in 0..300 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/drain", Some(&admin), None);
        submitted = c["submitted"].as_u64().unwrap_or(0);
        if submitted >= 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(submitted >= 4, "the campaign never got going");
    let term = std::process::Command::new("kill")
        .args(["-TERM", &first.0.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let began = std::time::Instant::now();
    let status = loop {
        if let Some(status) = first.0.try_wait().expect("wait") {
            break status;
        }
        assert!(
            began.elapsed().as_secs() < 15,
            "SIGTERM did not stop the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    let sent_before = stats["jobs"].as_u64().expect("jobs");
    assert!(sent_before < 20, "it stopped mid-campaign: {stats}");

    let (_second, base) = common::spawn(Some(home.path()), &args);
    let (_, c) = call(&base, "GET", "/api/v1/campaigns/drain", Some(&admin), None);
    assert_eq!(c["state"], "running", "{c}");
    assert_eq!(
        c["submitted"].as_u64(),
        Some(sent_before),
        "every job sent was recorded: {c}"
    );
    let restarted = std::time::Instant::now();
    let done = wait_for_state(&base, &admin, "drain", "finished");
    assert_eq!(done["submitted"], 20, "{done}");
    assert!(
        restarted.elapsed().as_secs() < 30,
        "no batch waited for its 60 s lease"
    );
    let stats = wait_for_deliveries(&emulator_url, u64::from(FOLLOWERS));
    assert_eq!(
        (
            stats["jobs"].as_u64(),
            stats["deliveries"].as_u64(),
            stats["duplicate_deliveries"].as_u64()
        ),
        (Some(20), Some(u64::from(FOLLOWERS)), Some(0)),
        "{stats}"
    );
}

/// A subscription account sends one mass message a day: once today's has
/// gone, approving another for today is refused, saying when it frees.
#[test]
fn approval_is_refused_when_the_days_quota_is_spent() {
    let (_emulator, emulator_url) = common::emulator(20, &["--account-type", "subscription"]);
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    add_emulated_account(&base, &admin, "Daily", "subscription", &emulator_url);
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    for id in ["q1", "q2"] {
        let (status, answer) = call(
            &base,
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(json!({"id": id, "appid": common::APPID, "name": "Today",
                        "content": {"type": "text", "text": "today's news"}, "audience": {"kind": "all"}})),
        );
        assert_eq!(status, 201, "{answer}");
        let (status, _) = call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/{id}/submit"),
            Some(&admin),
            None,
        );
        assert_eq!(status, 200);
    }
    let approve = |id: &str| {
        call(
            &base,
            "POST",
            &format!("/api/v1/campaigns/{id}/approve"),
            Some(&admin),
            Some(json!({"send_at": now})),
        )
    };
    let (status, answer) = approve("q1");
    assert_eq!(status, 200, "{answer}");
    wait_for_state(&base, &admin, "q1", "finished");
    let (status, answer) = approve("q2");
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (409, Some("quota")),
        "{answer}"
    );
    let message = answer["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("one mass message a day") && message.contains("Beijing time"),
        "{message}"
    );
    let (_, q2) = call(&base, "GET", "/api/v1/campaigns/q2", Some(&admin), None);
    assert_eq!(q2["state"], "awaiting_approval", "nothing changed");
}

/// PUT a text body; (status, JSON answer).
fn put_text(base: &str, path: &str, token: &str, body: String) -> (u16, Value) {
    send_bytes(base, "PUT", path, token, "text/plain", body.into_bytes())
}

/// A request whose body is `body` of `content_type`: (status, JSON or Null).
fn send_bytes(
    base: &str,
    method: &str,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client")
            .request(method, format!("{base}{path}"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    })
}

/// Uploads `data` as `name`; its `{"path", "sha256"}` for a campaign.
fn upload(base: &str, token: &str, name: &str, data: Vec<u8>) -> Value {
    let (status, file) = send_bytes(
        base,
        "POST",
        &format!("/api/v1/files?name={name}"),
        token,
        "application/octet-stream",
        data,
    );
    assert_eq!(status, 201, "{name}: {file}");
    json!({"path": file["path"], "sha256": file["sha256"]})
}

/// A small PNG of one colour.
fn png(rgb: [u8; 3]) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb(rgb));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("encode");
    out
}

/// Markdown articles through the server: the article, its cover and its
/// picture uploaded first; a campaign naming them is checked as the CLI
/// checks (a title too long, a picture not uploaded, a file never
/// uploaded: each a 400 naming the field, nothing stored); a test send and
/// the campaign upload each picture once, and every follower gets it.
#[test]
fn articles_with_pictures_through_the_server() {
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(
        Some(home.path()),
        &["server", "--listen", "127.0.0.1:0", "--movable-clock"],
    );
    let (_emulator, emulator_url) = common::emulator(20, &["--seed", "3"]);
    add_emulated_account(&base, &admin, "Articles", "service", &emulator_url);
    let (status, answer) = send_bytes(
        &base,
        "POST",
        "/api/v1/files?name=../etc/passwd",
        &admin,
        "application/octet-stream",
        b"x".to_vec(),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("name")),
        "{answer}"
    );
    let cover = upload(&base, &admin, "cover.png", png([200, 40, 40]));
    let photo = upload(&base, &admin, "photo.png", png([10, 200, 10]));
    let post = upload(
        &base,
        &admin,
        "post.md",
        b"---
title: From the server
author: Team
cover: cover.png
---
# Hello

![a photo](photo.png)
"
        .to_vec(),
    );
    let long = upload(
        &base,
        &admin,
        "long.md",
        format!(
            "---
title: {}
cover: cover.png
---
body
",
            "长".repeat(40)
        )
        .into_bytes(),
    );
    let campaign = |id: &str, article: Value| {
        json!({"id": id, "appid": common::APPID, "name": id,
               "content": {"type": "articles", "articles": [article], "draft": false, "theme": null,
                           "fetch_remote_images": false, "ignore_reprint": false},
               "audience": {"kind": "all"}})
    };
    let good =
        json!({"file": post, "cover": cover, "pictures": [{"src": "photo.png", "file": photo}]});
    let mut unknown = good.clone();
    unknown["file"]["sha256"] = json!("0".repeat(64));
    let bad = [
        (
            json!({"file": long, "cover": cover}),
            "content.articles[0]",
            "title",
        ),
        (
            json!({"file": post, "cover": cover}),
            "content.articles[0].pictures",
            "photo.png",
        ),
        (
            json!({"file": post, "pictures": [{"src": "photo.png", "file": photo}]}),
            "content.articles[0].cover",
            "cover",
        ),
        (
            unknown,
            "content.articles[0].file.sha256",
            "POST /api/v1/files",
        ),
    ];
    for (article, field, says) in bad {
        let (status, answer) = call(
            &base,
            "POST",
            "/api/v1/campaigns",
            Some(&admin),
            Some(campaign("bad", article)),
        );
        assert_eq!(
            (status, answer["error"]["field"].as_str()),
            (400, Some(field)),
            "{answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(says)),
            "{answer}"
        );
    }
    let (status, answer) = call(&base, "GET", "/api/v1/campaigns/bad", Some(&admin), None);
    assert_eq!(status, 404, "nothing stored: {answer}");

    let (status, created) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(campaign("news", good)),
    );
    assert_eq!(status, 201, "{created}");
    let followers = common::follower_list(home.path(), &emulator_url);
    let openid = std::fs::read_to_string(&followers)
        .expect("followers")
        .lines()
        .next()
        .expect("one")
        .to_owned();
    call(
        &base,
        "PUT",
        &format!("/api/v1/accounts/{}/testers", common::APPID),
        Some(&admin),
        Some(json!({"openids": [openid], "wechat_ids": []})),
    );
    let (status, sent) = call(
        &base,
        "POST",
        "/api/v1/campaigns/news/test",
        Some(&admin),
        Some(json!({"openid": openid})),
    );
    assert_eq!(status, 200, "{sent}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/news/submit",
        Some(&admin),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/news/approve",
        Some(&admin),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    wait_for_state(&base, &admin, "news", "finished");
    let stats = wait_for_deliveries(&emulator_url, 20);
    assert_eq!(
        (
            stats["jobs"].as_u64(),
            stats["deliveries"].as_u64(),
            stats["previews"].as_u64()
        ),
        (Some(1), Some(20), Some(1)),
        "{stats}"
    );
    assert_eq!(
        stats["calls"]["/cgi-bin/media/uploadimg"], 1,
        "the picture once: {stats}"
    );

    // How it was read: nothing before WeChat has the day; two days later,
    // after 08:00, the series the server pulled on its own.
    let (status, reads) = call(
        &base,
        "GET",
        "/api/v1/campaigns/news/reads",
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{reads}");
    assert_eq!(
        (
            reads["pulled_on"].is_null(),
            reads["articles"].as_array().map(Vec::len)
        ),
        (true, Some(0)),
        "{reads}"
    );
    use wxmass_api::api::datacube::Date;
    let now = wxmass_campaign::beijing::now();
    let sent = Date::of_unix(now);
    let advance = sent.plus(2).unix_at(9) - now;
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/clock",
        &json!({"advance_seconds": advance}).to_string(),
    );
    let (status, clock) = call(
        &base,
        "POST",
        "/api/v1/clock",
        Some(&admin),
        Some(json!({"advance_seconds": advance})),
    );
    assert_eq!(status, 200, "{clock}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let reads = loop {
        let (_, reads) = call(
            &base,
            "GET",
            "/api/v1/campaigns/news/reads",
            Some(&admin),
            None,
        );
        if !reads["pulled_on"].is_null() {
            break reads;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never pulled: {reads}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(reads["pulled_on"], sent.plus(2).to_string(), "{reads}");
    let article = &reads["articles"][0];
    assert_eq!(article["title"], "From the server", "{reads}");
    let days = article["days"].as_array().expect("days");
    assert_eq!(days.len(), 2, "the send day and the next: {reads}");
    assert_eq!(days[0]["date"], sent.to_string());
    assert_eq!(days[0]["delivered"], 20, "{reads}");
    assert!(
        days[1]["readers"].as_u64() >= days[0]["readers"].as_u64()
            && days[1]["readers"].as_u64() > Some(0),
        "readers so far grow: {reads}"
    );
    let (status, missing) = call(
        &base,
        "GET",
        "/api/v1/campaigns/nope/reads",
        Some(&admin),
        None,
    );
    assert_eq!(status, 404, "{missing}");
}

/// A list saved by name (checked, repeats counted), a campaign to it in
/// batches, every openid reached once.
#[test]
fn a_campaign_to_a_saved_list() {
    let (_emulator, emulator_url) = common::emulator(300, &[]);
    let home = tempfile::tempdir().expect("home");
    let admin = first_admin(home.path());
    let (_server, base) = common::spawn(Some(home.path()), &["server", "--listen", "127.0.0.1:0"]);
    add_emulated_account(&base, &admin, "Lists", "service", &emulator_url);
    let followers =
        std::fs::read_to_string(common::follower_list(home.path(), &emulator_url)).expect("list");
    let mut lines: Vec<&str> = followers.lines().collect();
    let repeated = lines[0];
    lines.push(repeated);
    let (status, saved) = put_text(&base, "/api/v1/lists/crm-segment", &admin, lines.join("\n"));
    assert_eq!(status, 201, "{saved}");
    assert_eq!(
        (saved["count"].as_u64(), saved["distinct"].as_u64()),
        (Some(301), Some(300)),
        "{saved}"
    );
    let (status, _) = put_text(&base, "/api/v1/lists/crm-segment", &admin, lines.join("\n"));
    assert_eq!(status, 409, "a list does not change");
    let (status, bad) = put_text(
        &base,
        "/api/v1/lists/bad",
        &admin,
        "not an openid\nalso not".into(),
    );
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (400, Some("body")),
        "{bad}"
    );
    let (_, all) = call(&base, "GET", "/api/v1/lists", Some(&admin), None);
    assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");

    let new = |list: Option<&str>| {
        json!({"id": "l1", "appid": common::APPID, "name": "Segment",
               "content": {"type": "text", "text": "for the segment"}, "audience": {"kind": "openids"}, "list": list})
    };
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(new(None)),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("list")),
        "{answer}"
    );
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(new(Some("nope"))),
    );
    assert_eq!(
        (status, answer["error"]["field"].as_str()),
        (400, Some("list")),
        "{answer}"
    );
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(new(Some("crm-segment"))),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/l1/submit",
        Some(&admin),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/l1/approve",
        Some(&admin),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    let done = wait_for_state(&base, &admin, "l1", "finished");
    assert_eq!(done["batches"], done["submitted"], "{done}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let stats = common::admin(&emulator_url, "GET", "/_emulator/stats", "");
    assert_eq!(
        (
            stats["deliveries"].as_u64(),
            stats["duplicate_deliveries"].as_u64()
        ),
        (Some(300), Some(0)),
        "{stats}"
    );
}

/// Two servers on one PostgreSQL send a 200-batch campaign together; one is
/// killed with SIGKILL mid-run and the other finishes it (taking over its
/// batches when their lease runs out): every openid is delivered exactly
/// once, and every job's report, pushed to the survivor, is recorded once.
#[cfg(unix)]
#[test]
fn two_servers_one_killed_every_openid_once() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    const FOLLOWERS: u32 = 20_000;
    let home = tempfile::tempdir().expect("home");
    let db = postgres.url.as_str();
    let admin = common::first_admin_on(home.path(), Some(db));
    // Both share the store and the server key (the same key file).
    let server = || {
        common::spawn(
            Some(home.path()),
            &[
                "--database",
                db,
                "server",
                "--listen",
                "127.0.0.1:0",
                "--window",
                "1",
                "--lease",
                "2",
                "--sends-per-minute",
                "100000",
            ],
        )
    };
    let (mut doomed, doomed_url) = server();
    let (_survivor, base) = server();
    let callback = format!("{base}/callback/{}", common::APPID);
    let (_emulator, emulator_url) = common::emulator_pushing(
        &callback,
        FOLLOWERS,
        &["--no-quotas", "--mass-sends-per-minute", "100000"],
    );
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/faults",
        r#"{"paths": {"/cgi-bin/message/mass/send": {"latency_ms": 30}}}"#,
    );
    // Adding the account tries its credentials: the servers' one token,
    // kept in the database for both.
    add_emulated_account(&doomed_url, &admin, "Two hosts", "service", &emulator_url);
    let before_the_cli =
        tokens_fetched(&common::admin(&emulator_url, "GET", "/_emulator/stats", ""));
    let list =
        std::fs::read_to_string(common::follower_list(home.path(), &emulator_url)).expect("list");
    let fetched_by_the_cli =
        tokens_fetched(&common::admin(&emulator_url, "GET", "/_emulator/stats", ""))
            - before_the_cli;
    let (status, saved) = put_text(&base, "/api/v1/lists/everyone", &admin, list);
    assert_eq!(
        (status, saved["distinct"].as_u64()),
        (201, Some(u64::from(FOLLOWERS))),
        "{saved}"
    );
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&admin),
        Some(
            json!({"id": "two", "appid": common::APPID, "name": "Two hosts",
                    "content": {"type": "text", "text": "exactly once, two servers"},
                    "audience": {"kind": "openids"}, "list": "everyone", "batch_size": 100}),
        ),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/two/submit",
        Some(&admin),
        None,
    );
    let soon = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + 1);
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/two/approve",
        Some(&admin),
        Some(json!({"send_at": soon})),
    );
    assert_eq!(status, 200, "{answer}");

    // Kill one server once a fifth of the batches are in.
    let mut killed = false;
    for _ in 0..600 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/two", Some(&admin), None);
        if c["submitted"].as_u64().unwrap_or(0) >= 40 {
            doomed.0.kill().expect("kill -9");
            let _ = doomed.0.wait();
            killed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(killed, "the campaign never got going");
    // A batch WeChat took just before the kill, unnamed, is named only
    // by sending it again once its clientmsgid's minute has passed (45065):
    // the wait covers that minute with room for a loaded machine.
    let mut done = Value::Null;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(240);
    while std::time::Instant::now() < deadline {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/two", Some(&admin), None);
        done = c;
        if done["state"] == "finished" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        (
            done["state"].as_str(),
            done["batches"].as_u64(),
            done["submitted"].as_u64()
        ),
        (Some("finished"), Some(200), Some(200)),
        "{done}"
    );
    // The last jobs finish (and deliver) a moment after they are taken.
    let stats = wait_for_deliveries(&emulator_url, u64::from(FOLLOWERS));
    assert_eq!(stats["deliveries"], FOLLOWERS, "{stats}");
    assert_eq!(stats["duplicate_deliveries"], 0, "{stats}");
    // One access token between the two servers: kept in the database.
    assert_eq!(
        tokens_fetched(&stats) - fetched_by_the_cli,
        1,
        "{}",
        stats["calls"]
    );
    // Every job's report recorded once: against its batch, or (a batch the
    // killed server had sent but not recorded, which the survivor learned
    // was sent from WeChat's duplicate answer, without its job's id) kept
    // as a report of a job no batch names; never a conflict.
    let jobs = stats["jobs"].as_u64().expect("jobs");
    let strays = || {
        let out = common::wxmass_std(home.path(), "http://127.0.0.1:9")
            .args(["--database", db, "status", "--unknown", "--json"])
            .output()
            .expect("status --unknown");
        common::json(&out.stdout)
    };
    let mut seen = (0, Value::Null);
    for _ in 0..300 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/two", Some(&admin), None);
        let unknown = strays();
        let recorded =
            c["reported"].as_u64().unwrap_or(0) + unknown.as_array().map_or(0, |a| a.len() as u64);
        seen = (recorded, unknown);
        if recorded >= jobs {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(seen.0, jobs, "reports recorded vs jobs: {}", seen.1);
    assert!(
        seen.1
            .as_array()
            .is_some_and(|a| a.iter().all(|s| s["kind"] == "unknown job")),
        "a conflicting report: {}",
        seen.1
    );
}

/// `wxmass server --demo`: no account, no network; the token it prints
/// runs a campaign to the built-in emulator through to its pushed report.
#[test]
fn the_server_demo_runs_a_campaign() {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["server", "--demo", "--listen", "127.0.0.1:0"])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("server --demo");
    // Read stderr to its end on a thread of its own (a pipe closed early
    // would make the server's next line fail); the token comes through a
    // channel.
    let stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if let Some((_, t)) = line.split_once("admin token (this run only): ") {
                let _ = tx.send(t.trim().to_owned());
            }
        }
    });
    let token = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the demo prints a token");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let base = line.trim().rsplit(' ').next().expect("url").to_owned();
    let _server = common::Proc(child);
    let (status, accounts) = call(&base, "GET", "/api/v1/accounts", Some(&token), None);
    assert_eq!(status, 200, "{accounts}");
    let appid = accounts[0]["appid"]
        .as_str()
        .expect("the emulator's account")
        .to_owned();
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns",
        Some(&token),
        Some(json!({"id": "hello", "appid": appid, "name": "Hello",
                    "content": {"type": "text", "text": "Hello"}, "audience": {"kind": "all"}})),
    );
    assert_eq!(status, 201, "{answer}");
    call(
        &base,
        "POST",
        "/api/v1/campaigns/hello/submit",
        Some(&token),
        None,
    );
    let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
    let (status, answer) = call(
        &base,
        "POST",
        "/api/v1/campaigns/hello/approve",
        Some(&token),
        Some(json!({"send_at": now})),
    );
    assert_eq!(status, 200, "{answer}");
    wait_for_state(&base, &token, "hello", "finished");
    let mut reported = Value::Null;
    for _ in 0..100 {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/hello", Some(&token), None);
        reported = c["reported"].clone();
        if reported == 1 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(reported, 1, "the emulator's report reached the server");

    // The history it starts with, for the dashboard.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let (_, all) = call(&base, "GET", "/api/v1/campaigns", Some(&token), None);
        let state = |id: &str| {
            all.as_array()
                .into_iter()
                .flatten()
                .find(|c| c["id"] == id)
                .map(|c| c["state"].clone())
        };
        let (_, reads) = call(
            &base,
            "GET",
            "/api/v1/campaigns/autumn-news/reads",
            Some(&token),
            None,
        );
        if state("autumn-news") == Some(json!("finished"))
            && state("weekend-offer") == Some(json!("scheduled"))
            && state("winter-preview") == Some(json!("awaiting_approval"))
            && reads["articles"][0]["days"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no demo history: {all} {reads}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // The CLI reads the same campaigns through the API.
    let home = tempfile::tempdir().expect("home");
    let cli = |args: &[&str], token: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_wxmass"));
        command
            .env_clear()
            .env("HOME", home.path())
            .args(["--server", &base]);
        if let Some(token) = token {
            command.env("WXMASS_SERVER_TOKEN", token);
        }
        let out = command.args(args).output().expect("wxmass --server");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, listed, err) = cli(&["--json", "campaigns"], Some(&token));
    assert!(ok, "{err}");
    let (_, all) = call(&base, "GET", "/api/v1/campaigns", Some(&token), None);
    assert_eq!(
        serde_json::from_str::<Value>(&listed).expect("json"),
        all,
        "--json is what the API answers"
    );
    let (ok, table, err) = cli(&["campaigns"], Some(&token));
    assert!(ok, "{err}");
    let (_, news) = call(
        &base,
        "GET",
        "/api/v1/campaigns/autumn-news",
        Some(&token),
        None,
    );
    let delivered = format!("{} of {}", news["delivered"], news["addressed"]);
    assert!(
        table.lines().any(|l| l.starts_with("autumn-news")
            && l.contains("finished")
            && l.contains(&delivered)),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("winter-preview") && l.contains("awaiting_approval")),
        "{table}"
    );
    let (_, batches) = call(
        &base,
        "GET",
        "/api/v1/campaigns/autumn-news/batches",
        Some(&token),
        None,
    );
    let (ok, shown, err) = cli(&["status", "autumn-news"], Some(&token));
    assert!(ok, "{err}");
    let msg_id = batches[0]["msg_id"].to_string();
    assert!(
        shown
            .lines()
            .any(|l| l.contains(&msg_id) && l.contains("SEND_SUCCESS")),
        "{shown}"
    );
    // A wrong token, a campaign that is not there, a command that works on
    // the local journal: each said, the token never shown.
    let (ok, _, err) = cli(&["campaigns"], Some("wxm_not_a_token"));
    assert!(
        !ok && err.contains("401") && err.contains("WXMASS_SERVER_TOKEN"),
        "{err}"
    );
    assert!(!err.contains("wxm_not_a_token"), "the token leaked: {err}");
    let (ok, _, err) = cli(&["status", "no-such"], Some(&token));
    assert!(
        !ok && err.contains("404") && err.contains("campaigns` lists them"),
        "{err}"
    );
    let (ok, _, err) = cli(&["send", "--text", "hi", "--all"], Some(&token));
    assert!(
        !ok && err.contains("--server works with `campaigns` and `status`"),
        "{err}"
    );
    let (ok, _, err) = cli(&["campaigns"], None);
    assert!(!ok && err.contains("needs an API token"), "{err}");
    assert!(!err.contains(&token));
}
