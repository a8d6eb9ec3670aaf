//! A third-party platform against the emulator's open platform: the
//! ticket, the platform's token, an authorisation exchanged once, an
//! authorised account's client, and each credential fetched once however
//! many callers and processes want it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wxmass_api::api::component::{AuthorizationPage, Offered, authorization_url};
use wxmass_api::{Client, Component, Errcode, Error, SqliteStore, TokenStore};
use wxmass_emulator::platform::PlatformConfig;
use wxmass_emulator::{EmulatorConfig, PLATFORM_AES_KEY, PLATFORM_APPID, PLATFORM_SECRET};

async fn platform_emulator(accounts: u32) -> Emu {
    emulator(EmulatorConfig {
        platform: Some(PlatformConfig {
            component_appid: PLATFORM_APPID.into(),
            component_secret: PLATFORM_SECRET.into(),
            token: "platformtoken".into(),
            aes_key: PLATFORM_AES_KEY.into(),
            event_url: None,
            message_url: None,
            accounts,
            followers: 12,
        }),
        job_delay: Duration::from_millis(30),
        ..EmulatorConfig::default()
    })
    .await
}

fn platform(emu: &Emu, store: Option<Arc<dyn TokenStore>>) -> Component {
    let builder = Client::builder(PLATFORM_APPID, PLATFORM_SECRET)
        .base_url(emu.url())
        .retry(fast_retry());
    match store {
        Some(store) => builder.token_store(store),
        None => builder,
    }
    .build_component()
    .expect("component")
}

impl Emu {
    async fn platform(&self) -> Value {
        self.admin_get("/_emulator/platform").await
    }

    /// The latest ticket the emulator pushed, waited for.
    async fn latest_ticket(&self) -> (String, i64) {
        for _ in 0..400 {
            let summary = self.platform().await;
            if let Some(t) = summary["latest_ticket"]["ticket"].as_str() {
                return (
                    t.to_owned(),
                    summary["latest_ticket"]["create_time"]
                        .as_i64()
                        .unwrap_or(0),
                );
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("no ticket pushed");
    }

    fn account_appid(&self, index: u32) -> String {
        wxmass_emulator::platform::account_appid(PLATFORM_APPID, index)
    }

    /// The admin scans the page of `pre_auth_code`, granting `sets`.
    async fn scan(&self, appid: &str, pre_auth_code: &str, sets: &[u32]) -> String {
        let done = self
            .admin_post(
                "/_emulator/platform/authorize",
                json!({"appid": appid, "pre_auth_code": pre_auth_code, "permission_sets": sets,
                       "redirect_uri": "https://launch.example.com/back"}),
            )
            .await;
        let redirect = done["redirect"].as_str().expect("redirect").to_owned();
        let query = redirect.split_once('?').expect("query").1;
        wxmass_api::api::component::AuthorizationRedirect::parse(query)
            .expect("redirect")
            .auth_code
    }
}

fn code_of(e: &Error) -> Option<i64> {
    e.errcode().map(Errcode::code)
}

#[tokio::test]
async fn an_account_authorises_and_its_client_works_unchanged() {
    let emu = platform_emulator(3).await;
    let component = platform(&emu, None);
    let appid = emu.account_appid(0);

    // Nothing without a ticket: said before anything leaves.
    let no_ticket = component.access_token().await.expect_err("no ticket yet");
    assert!(
        no_ticket.to_string().contains("component_verify_ticket"),
        "{no_ticket}"
    );

    let (ticket, at) = emu.latest_ticket().await;
    component.save_ticket(&ticket, at).await.expect("ticket");
    let pre = component.create_preauthcode().await.expect("preauthcode");
    assert!(pre.code.starts_with("preauthcode@@@"));
    let url = authorization_url(
        PLATFORM_APPID,
        &pre.code,
        "https://launch.example.com/back",
        AuthorizationPage::Pc,
        &Offered::OfficialAccounts,
    )
    .expect("url");
    assert!(url.contains("pre_auth_code=preauthcode%40%40%40"));

    let code = emu.scan(&appid, &pre.code, &[1, 2, 7]).await;
    let granted = component.query_auth(&code).await.expect("query_auth");
    assert_eq!(granted.authorizer_appid, appid);
    assert_eq!(granted.permission_sets, vec![1, 2, 7]);
    assert!(granted.grants(7) && !granted.grants(89));
    // Each code once.
    let again = component.query_auth(&code).await.expect_err("used");
    assert_eq!(code_of(&again), Some(61009), "{again}");
    // A pre-auth code too.
    let reused = emu
        .admin
        .post(format!("{}/_emulator/platform/authorize", emu.url()))
        .json(&json!({"appid": appid, "pre_auth_code": pre.code}))
        .send()
        .await
        .expect("admin");
    assert_eq!(reused.status(), 400);

    // The account's client: the handlers work as for an account's own.
    let account = component.authorizer(&appid).expect("authorizer");
    assert_eq!(account.appid(), appid);
    let followers = account
        .users()
        .followers_page(None)
        .await
        .expect("followers");
    assert_eq!(followers.total, Some(12));
    let info = component.authorizer_info(&appid).await.expect("info");
    assert!(info.is_verified_service(), "{info:?}");
    assert!(info.user_name.starts_with("gh_"));
    assert_eq!(info.permission_sets, vec![1, 2, 7]);
    // query_auth's token was kept: no refresh yet.
    let summary = emu.platform().await;
    assert_eq!(summary["stats"]["authorizer_token_fetches"], json!({}));
    assert_eq!(summary["stats"]["component_token_fetches"], 1);

    // Set 89 was not granted: subscription notices are 61007, with advice.
    let refused = account
        .subscribe()
        .templates()
        .await
        .expect_err("set 89 not granted");
    assert_eq!(code_of(&refused), Some(61007), "{refused}");
    assert!(
        refused
            .advice()
            .is_some_and(|a| a.contains("re-authorises"))
    );

    // The platform's token is no account's, and an account's no platform's.
    let token = component.access_token().await.expect("token");
    let wrong = reqwest::get(format!(
        "{}/cgi-bin/user/get?access_token={}",
        emu.url(),
        token.expose()
    ))
    .await
    .expect("get")
    .json::<Value>()
    .await
    .expect("json");
    assert_eq!(wrong["errcode"], 61015, "{wrong}");
}

#[tokio::test]
async fn two_processes_and_a_hundred_callers_fetch_each_token_once_per_expiry() {
    let emu = platform_emulator(4).await;
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("tokens.db");
    // Two "processes": two clients, each with its own connection to one
    // store file.
    let first = platform(
        &emu,
        Some(Arc::new(SqliteStore::open(&path).expect("store"))),
    );
    let second = platform(
        &emu,
        Some(Arc::new(SqliteStore::open(&path).expect("store"))),
    );
    let (ticket, at) = emu.latest_ticket().await;
    first.save_ticket(&ticket, at).await.expect("ticket");
    let mut appids = Vec::new();
    for i in 0..4 {
        let appid = emu.account_appid(i);
        let pre = first.create_preauthcode().await.expect("pre");
        let code = emu.scan(&appid, &pre.code, &[1, 2, 7]).await;
        first.query_auth(&code).await.expect("exchange");
        appids.push(appid);
    }
    // Two hours on: every token expired, the ticket still good.
    for round in 0..2 {
        emu.advance(7_200).await;
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..100 {
            let component = if n % 2 == 0 { &first } else { &second };
            let account = component
                .authorizer(&appids[n % appids.len()])
                .expect("authorizer");
            calls.spawn(async move { account.tags().list().await });
        }
        while let Some(done) = calls.join_next().await {
            done.expect("task").expect("tags");
        }
        let summary = emu.platform().await;
        // The platform's token: the first, and one per expiry since. (The
        // store's clock is real time: the emulator's moved one expired
        // them, which WeChat answers 42001 and the client refreshes once.)
        assert_eq!(
            summary["stats"]["component_token_fetches"],
            2 + round,
            "{summary}"
        );
        for appid in &appids {
            assert_eq!(
                summary["stats"]["authorizer_token_fetches"][appid],
                1 + round,
                "{appid}: {summary}"
            );
        }
        assert_eq!(summary["errors"].get("40001"), None, "{summary}");
        assert_eq!(summary["errors"].get("61023"), None, "{summary}");
    }
}

#[tokio::test]
async fn a_replaced_refresh_token_is_found_again_and_a_withdrawal_stops_the_account() {
    let emu = platform_emulator(2).await;
    let component = platform(&emu, None);
    let (ticket, at) = emu.latest_ticket().await;
    component.save_ticket(&ticket, at).await.expect("ticket");
    let appid = emu.account_appid(1);
    let pre = component.create_preauthcode().await.expect("pre");
    let code = emu.scan(&appid, &pre.code, &[2, 7]).await;
    component.query_auth(&code).await.expect("exchange");
    let account = component.authorizer(&appid).expect("authorizer");
    account.tags().list().await.expect("tags");

    // The admin authorises again, and nobody exchanges the new code: the
    // stored refresh token is dead (61023), and WeChat's list has the new
    // one.
    let done = emu
        .admin_post(
            "/_emulator/platform/authorize",
            json!({"appid": appid, "permission_sets": [2, 7]}),
        )
        .await;
    assert_eq!(done["info_type"], "updateauthorized");
    emu.advance(7_200).await;
    account
        .tags()
        .list()
        .await
        .expect("recovered from the list");
    let listed = component.reconcile().await.expect("reconcile");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].authorizer_appid, appid);

    // Withdrawn: the account's calls stop with 61003 once its token ends.
    emu.admin_post("/_emulator/platform/revoke", json!({"appid": appid}))
        .await;
    emu.advance(7_200).await;
    let stopped = account.tags().list().await.expect_err("withdrawn");
    assert_eq!(code_of(&stopped), Some(61003), "{stopped}");
    assert!(component.reconcile().await.expect("reconcile").is_empty());

    // A ticket over 12 hours old is 61005, with what to do.
    emu.advance(13 * 3_600).await;
    let other = Client::builder(PLATFORM_APPID, PLATFORM_SECRET)
        .base_url(emu.url())
        .build_component()
        .expect("component");
    other.save_ticket(&ticket, at).await.expect("old ticket");
    let expired = other.access_token().await.expect_err("expired ticket");
    assert_eq!(code_of(&expired), Some(61005), "{expired}");
    assert!(
        expired
            .advice()
            .is_some_and(|a| a.contains("api_start_push_ticket"))
    );
}
