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
