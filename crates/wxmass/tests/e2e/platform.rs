//! `wxmass server --platform`: three servers on one PostgreSQL acting for
//! a thousand accounts of the emulator's open platform through a day of
//! its clock, one of them killed with SIGKILL and started again midway.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wxmass_emulator::PLATFORM_APPID;
use wxmass_emulator::platform::account_appid;

use crate::common::{self, Proc, call};

const ACCOUNTS: u32 = 1_000;
/// The day, in steps of half an hour.
const STEP: i64 = 1_800;
const STEPS: u32 = 48;
/// Tokens live two hours: four steps.
const STEPS_A_TOKEN: u32 = 4;

/// Waits, on a deadline, for the emulator's platform summary to satisfy
/// `done`; returns it.
fn wait_for_platform(emulator: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let summary = common::admin(emulator, "GET", "/_emulator/platform", "");
        if done(&summary) {
            return summary;
        }
        assert!(
            Instant::now() < deadline,
            "never {what}: component token fetched {} times; {} accounts' tokens fetched; errors {}",
            summary["stats"]["component_token_fetches"],
            summary["stats"]["authorizer_token_fetches"]
                .as_object()
                .map_or(0, |f| f.len()),
            summary["errors"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Each account's token fetches, by appid.
fn fetches(summary: &Value, appid: &str) -> u64 {
    summary["stats"]["authorizer_token_fetches"][appid]
        .as_u64()
        .unwrap_or(0)
}

#[cfg(unix)]
#[test]
fn a_thousand_accounts_three_servers_a_day_each_token_once_per_expiry() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let db = postgres.url.as_str();
    let admin = common::first_admin_on(home.path(), Some(db));
    let accounts = ACCOUNTS.to_string();
    let (_emulator, emulator) =
        common::emulator(0, &["--platform", &accounts, "--platform-followers", "1"]);
    let env = common::platform_env(&emulator);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = || -> (Proc, String) {
        common::spawn_env(
            Some(home.path()),
            &[
                "--database",
                db,
                "server",
                "--listen",
                "127.0.0.1:0",
                "--movable-clock",
                "--platform",
                PLATFORM_APPID,
            ],
            &env,
        )
    };
    let (_a, a) = server();
    let (_b, b) = server();
    let (mut c_proc, c) = server();
    // WeChat pushes to one address (a load balancer's, in production).
    common::point_platform_at(&emulator, &a);
    let authorised = common::admin(
        &emulator,
        "POST",
        "/_emulator/platform/authorize_all",
        &json!({"count": ACCOUNTS}).to_string(),
    );
    assert_eq!(
        authorised["authorized"].as_array().map(Vec::len),
        Some(ACCOUNTS as usize)
    );
    let (status, listed) = call(&a, "GET", "/api/v1/accounts", Some(&admin), None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(ACCOUNTS as usize));
    let appids: Vec<String> = (0..ACCOUNTS)
        .map(|i| account_appid(PLATFORM_APPID, i))
        .collect();
    let revoked = appids[7].clone();

    let mut offset = 0i64;
    let mut live = vec![a.clone(), b.clone(), c.clone()];
    let mut restarted: Option<Proc> = None;
    for step in 1..=STEPS {
        if step == 21 {
            // Killed between two refreshes, with nothing of its own in
            // flight; the other two go on.
            let _ = c_proc.0.kill();
            let _ = c_proc.0.wait();
            live.retain(|s| *s != c);
        }
        if step == 23 {
            let (proc, url) = server();
            restarted = Some(proc);
            // Its clock starts at the machine's: moved to where the others are.
            let (status, answer) = call(
                &url,
                "POST",
                "/api/v1/clock",
                Some(&admin),
                Some(json!({"advance_seconds": offset})),
            );
            assert_eq!(status, 200, "{answer}");
            live.push(url);
        }
        offset += STEP;
        common::admin(
            &emulator,
            "POST",
            "/_emulator/clock",
            &json!({"advance_seconds": STEP}).to_string(),
        );
        for server in &live {
            let (status, answer) = call(
                server,
                "POST",
                "/api/v1/clock",
                Some(&admin),
                Some(json!({"advance_seconds": STEP})),
            );
            assert_eq!(status, 200, "{answer}");
        }
        if step == 10 {
            // A campaign for tomorrow, then the account withdraws: the
            // campaign is paused by the time WeChat has its answer.
            let tomorrow = wxmass_campaign::beijing::rfc3339(
                wxmass_campaign::beijing::now() + offset + 86_400,
            );
            for (path, body) in [
                (
                    "/api/v1/campaigns".to_owned(),
                    Some(
                        json!({"id": "tomorrow", "appid": revoked, "name": "Tomorrow",
                                "content": {"type": "text", "text": "hi"}, "audience": {"kind": "all"}}),
                    ),
                ),
                ("/api/v1/campaigns/tomorrow/submit".to_owned(), None),
                (
                    "/api/v1/campaigns/tomorrow/approve".to_owned(),
                    Some(json!({"send_at": tomorrow})),
                ),
            ] {
                let (status, answer) = call(&b, "POST", &path, Some(&admin), body);
                assert!(status == 200 || status == 201, "{path}: {answer}");
            }
            common::admin(
                &emulator,
                "POST",
                "/_emulator/platform/revoke",
                &json!({"appid": revoked}).to_string(),
            );
            let (_, campaign) = call(&b, "GET", "/api/v1/campaigns/tomorrow", Some(&admin), None);
            assert_eq!(campaign["state"], "paused", "{campaign}");
        }
        if step % STEPS_A_TOKEN == 0 {
            // Each token ends every four steps: refreshed by one of the
            // servers before the next step.
            let expected = u64::from(step / STEPS_A_TOKEN);
            wait_for_platform(&emulator, &format!("refreshed at step {step}"), |s| {
                appids
                    .iter()
                    .filter(|a| **a != revoked)
                    .all(|a| fetches(s, a) >= expected)
            });
        }
    }
    let summary = common::admin(&emulator, "GET", "/_emulator/platform", "");
    let per_day = u64::from(STEPS / STEPS_A_TOKEN);
    for appid in &appids {
        let want = if *appid == revoked { 2 } else { per_day };
        assert_eq!(fetches(&summary, appid), want, "{appid}");
    }
    // The platform's own: the first, then one per expiry, not one per server.
    assert_eq!(summary["stats"]["component_token_fetches"], per_day + 1);
    assert!(
        summary["errors"].get("40001").is_none(),
        "{}",
        summary["errors"]
    );
    assert!(
        summary["errors"].get("61023").is_none(),
        "{}",
        summary["errors"]
    );
    drop(restarted);
}

/// The worker that sent one of campaign `wave`'s parts.
fn sender_of_a_part(base: &str, admin: &str) -> String {
    let (_, parts) = call(
        base,
        "GET",
        "/api/v1/campaigns/wave/accounts",
        Some(admin),
        None,
    );
    for part in parts.as_array().into_iter().flatten() {
        let id = part["id"].as_str().expect("id");
        let (_, batches) = call(
            base,
            "GET",
            &format!("/api/v1/campaigns/{id}/batches"),
            Some(admin),
            None,
        );
        if let Some(by) = batches[0]["sent_by"].as_str() {
            return by.to_owned();
        }
    }
    panic!("no part sent yet: {parts}");
}

/// The accounts of the campaign across accounts below.
const ACROSS: u32 = 50;
/// Each account's followers.
const FOLLOWERS_EACH: u32 = 20;

/// One campaign to the followers of 50 authorised accounts (every account
/// with a tag), sent by two servers on one PostgreSQL, one killed with
/// SIGKILL while the accounts' sends are under way: every follower of
/// every account gets it once (the emulator's ledger), each account sends
/// one mass message of its quota, and the per-account breakdown (API and
/// CLI) is the ledger's.
#[cfg(unix)]
#[test]
fn one_campaign_across_fifty_accounts_a_server_killed_every_follower_once() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let db = postgres.url.as_str();
    let admin = common::first_admin_on(home.path(), Some(db));
    let (accounts, followers) = (ACROSS.to_string(), FOLLOWERS_EACH.to_string());
    let (_emulator, emulator) = common::emulator(
        0,
        &["--platform", &accounts, "--platform-followers", &followers],
    );
    let env = common::platform_env(&emulator);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = || -> (Proc, String) {
        common::spawn_env(
            Some(home.path()),
            &[
                "--database",
                db,
                "server",
                "--listen",
                "127.0.0.1:0",
                "--lease",
                "2",
                "--platform",
                PLATFORM_APPID,
            ],
            &env,
        )
    };
    let mut servers = [server(), server()];
    // WeChat pushes to both through a balancer.
    let pushed_to = common::balancer(&[&servers[0].1, &servers[1].1]);
    common::point_platform_at(&emulator, &pushed_to);
    let base = servers[0].1.clone();
    let authorised = common::admin(
        &emulator,
        "POST",
        "/_emulator/platform/authorize_all",
        &json!({"count": ACROSS}).to_string(),
    );
    assert_eq!(
        authorised["authorized"].as_array().map(Vec::len),
        Some(ACROSS as usize)
    );
    let appids: Vec<String> = (0..ACROSS)
        .map(|i| account_appid(PLATFORM_APPID, i))
        .collect();
    for appid in &appids {
        let (status, answer) = call(
            &base,
            "PUT",
            &format!("/api/v1/accounts/{appid}/tags"),
            Some(&admin),
            Some(json!({"tags": ["wave"]})),
        );
        assert_eq!(status, 200, "{answer}");
        // Each account's send takes a moment, so that the kill finds some
        // sent, some in flight and some not begun.
        common::admin(
            &emulator,
            "POST",
            &format!("/_emulator/platform/accounts/{appid}/faults"),
            r#"{"paths": {"/cgi-bin/message/mass/sendall": {"latency_ms": 500, "latency_jitter_ms": 2500}}}"#,
        );
    }
    for (path, body) in [
        (
            "/api/v1/campaigns".to_owned(),
            Some(
                json!({"id": "wave", "name": "A wave", "accounts": {"kind": "tagged", "tag": "wave"},
                        "content": {"type": "text", "text": "to every follower of every account"},
                        "audience": {"kind": "all"}}),
            ),
        ),
        ("/api/v1/campaigns/wave/submit".to_owned(), None),
        (
            "/api/v1/campaigns/wave/approve".to_owned(),
            Some(
                json!({"send_at": wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now())}),
            ),
        ),
    ] {
        let (status, answer) = call(&base, "POST", &path, Some(&admin), body);
        assert!(status == 200 || status == 201, "{path}: {answer}");
    }

    // The server sending is killed once some accounts' sends are in,
    // before all are.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (submitted_at_kill, sender) = loop {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/wave", Some(&admin), None);
        let submitted = c["submitted"].as_u64().unwrap_or(0);
        if submitted >= 5 {
            break (submitted, sender_of_a_part(&base, &admin));
        }
        assert!(
            Instant::now() < deadline,
            "the campaign never got going: {c}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let victim = servers
        .iter()
        .position(|(p, _)| sender.ends_with(&format!(":{}", p.0.id())))
        .unwrap_or_else(|| panic!("{sender} is neither server"));
    let _ = servers[victim].0.0.kill(); // SIGKILL
    let _ = servers[victim].0.0.wait();
    let base = servers[1 - victim].1.clone();
    assert!(
        submitted_at_kill < u64::from(ACROSS),
        "every account had sent before the kill: not mid-run"
    );
    for appid in &appids {
        common::admin(
            &emulator,
            "POST",
            &format!("/_emulator/platform/accounts/{appid}/faults"),
            "{}",
        );
    }
    // A send WeChat took just before the kill is named only by sending it
    // again once its clientmsgid's minute has passed (45065): the wait
    // covers that minute with room for a loaded machine.
    let deadline = Instant::now() + Duration::from_secs(300);
    let whole = loop {
        let (_, c) = call(&base, "GET", "/api/v1/campaigns/wave", Some(&admin), None);
        if c["state"] == "finished" && c["reported"] == ACROSS {
            break c;
        }
        assert!(
            Instant::now() < deadline,
            "never finished with every report: {c}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let everyone = u64::from(ACROSS * FOLLOWERS_EACH);
    assert_eq!(
        (whole["delivered"].as_u64(), whole["note"].as_str()),
        (Some(everyone), Some("sent for all 50 accounts")),
        "{whole}"
    );

    // The breakdown, account by account, against the ledger.
    let (status, parts) = call(
        &base,
        "GET",
        "/api/v1/campaigns/wave/accounts",
        Some(&admin),
        None,
    );
    assert_eq!(status, 200, "{parts}");
    let parts = parts.as_array().cloned().unwrap_or_default();
    assert_eq!(parts.len(), ACROSS as usize);
    let mut takeovers = 0;
    let mut senders = std::collections::BTreeMap::new();
    for part in &parts {
        let appid = part["appid"].as_str().expect("appid");
        let stats = common::admin(
            &emulator,
            "GET",
            &format!("/_emulator/platform/accounts/{appid}/stats"),
            "",
        );
        assert_eq!(
            (
                stats["jobs"].as_u64(),
                stats["deliveries"].as_u64(),
                stats["duplicate_deliveries"].as_u64()
            ),
            (Some(1), Some(u64::from(FOLLOWERS_EACH)), Some(0)),
            "{appid}: {stats}"
        );
        assert_eq!(
            (part["state"].as_str(), part["delivered"].as_u64()),
            (Some("finished"), stats["deliveries"].as_u64()),
            "{part}"
        );
        for quota_code in ["45009", "45028"] {
            assert!(
                stats["errors"].get(quota_code).is_none(),
                "{appid}: {stats}"
            );
        }
        // One of its four sends to all this month, by the server's count.
        let (_, quota) = call(
            &base,
            "GET",
            &format!("/api/v1/accounts/{appid}/quota"),
            Some(&admin),
            None,
        );
        assert_eq!(
            (quota["sent"].as_u64(), quota["left"].as_u64()),
            (Some(1), Some(3)),
            "{quota}"
        );
        let (_, batches) = call(
            &base,
            "GET",
            &format!(
                "/api/v1/campaigns/{}/batches",
                part["id"].as_str().expect("id")
            ),
            Some(&admin),
            None,
        );
        takeovers += batches[0]["takeovers"].as_u64().unwrap_or(0);
        *senders
            .entry(batches[0]["sent_by"].to_string())
            .or_insert(0) += 1;
    }
    eprintln!(
        "{submitted_at_kill} of {ACROSS} accounts had sent at the kill; {takeovers} sends taken over; sent by {senders:?}"
    );

    // The CLI's breakdown: one line per account.
    let out = common::wxmass_std(home.path(), "http://127.0.0.1:9")
        .args(["--server", &base, "status", "wave"])
        .env("WXMASS_SERVER_TOKEN", &admin)
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("50 account(s), 50/50 batch(es) submitted, 50 reported"),
        "{text}"
    );
    for appid in &appids {
        let line = text
            .lines()
            .find(|l| l.starts_with(appid.as_str()))
            .unwrap_or_else(|| panic!("{appid} in {text}"));
        assert!(
            line.contains("finished") && line.contains("20 of 20"),
            "{line}"
        );
    }
}
