//! The open platform's pushes, received by wxmass-callback configured as a
//! platform is (its token, key and component appid): the ticket and the
//! authorisation changes to the event URL, and an authorised account's
//! job report to the message URL with `$APPID$` replaced.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use wxmass_callback::{CallbackConfig, PlatformInfo, Push, PushReceiver};
use wxmass_emulator::platform::{PlatformConfig, account_appid};
use wxmass_emulator::{EmulatorConfig, PLATFORM_AES_KEY, PLATFORM_APPID, PLATFORM_SECRET};

const TOKEN: &str = "platformToken7";

fn receiver() -> (axum::Router, PushReceiver) {
    let config = CallbackConfig::builder(TOKEN, PLATFORM_APPID)
        .aes_key(PLATFORM_AES_KEY)
        .build()
        .expect("config");
    wxmass_callback::router(config)
}

async fn next(rx: &mut PushReceiver) -> Push {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a push within 10 s")
        .expect("a push")
}

async fn post(emu: &Emu, path: &str, query: &str, body: Value) -> Value {
    emu.http
        .post(format!("{}{path}?{query}", emu.base))
        .json(&body)
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn tickets_authorisations_and_an_accounts_report_reach_the_platform() {
    let appid = account_appid(PLATFORM_APPID, 0);
    let (events, mut event_rx) = receiver();
    let (messages, mut message_rx) = receiver();
    let app = axum::Router::new()
        .nest("/events", events)
        .nest(&format!("/m/{appid}"), messages);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let host = format!("http://{}", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let emu = start(EmulatorConfig {
        platform: Some(PlatformConfig {
            component_appid: PLATFORM_APPID.into(),
            component_secret: PLATFORM_SECRET.into(),
            token: TOKEN.into(),
            aes_key: PLATFORM_AES_KEY.into(),
            event_url: Some(format!("{host}/events")),
            message_url: Some(format!("{host}/m/$APPID$")),
            accounts: 2,
            followers: 5,
        }),
        job_delay: Duration::from_millis(30),
        ..EmulatorConfig::default()
    })
    .await;

    // The ticket, pushed at start, with AppId where ToUserName would be.
    let Push::Platform(event) = next(&mut event_rx).await else {
        panic!("expected the ticket")
    };
    assert_eq!(event.component_appid, PLATFORM_APPID);
    let PlatformInfo::Ticket { ticket } = event.info else {
        panic!("expected the ticket, got {:?}", event.info)
    };
    assert!(ticket.starts_with("ticket@@@"));
    // A wrong ticket is 61006; the pushed one gives the platform's token.
    let token = |ticket: &str| {
        json!({"component_appid": PLATFORM_APPID, "component_appsecret": PLATFORM_SECRET,
               "component_verify_ticket": ticket})
    };
    let wrong = post(
        &emu,
        "/cgi-bin/component/api_component_token",
        "",
        token("x"),
    )
    .await;
    assert_code(&wrong, 61006);
    let empty = post(
        &emu,
        "/cgi-bin/component/api_component_token",
        "",
        token(""),
    )
    .await;
    assert_code(&empty, 61006);
    let got = post(
        &emu,
        "/cgi-bin/component/api_component_token",
        "",
        token(&ticket),
    )
    .await;
    let component_token = got["component_access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(got["expires_in"], 7200);

    // The admin's scan: `authorized`, with the code, to the event URL.
    emu.http
        .post(emu.url("/_emulator/platform/authorize"))
        .json(&json!({"appid": appid, "permission_sets": [1, 2, 7]}))
        .send()
        .await
        .expect("authorize");
    let Push::Platform(event) = next(&mut event_rx).await else {
        panic!("expected authorized")
    };
    let PlatformInfo::Authorized(change) = event.info else {
        panic!("expected authorized, got {:?}", event.info)
    };
    assert_eq!(change.authorizer_appid, appid);
    let expires = change
        .authorization_code_expired_time
        .expect("a Unix timestamp");
    assert!(expires > 1_700_000_000, "{expires}");

    let query = format!("component_access_token={component_token}");
    let auth = post(
        &emu,
        "/cgi-bin/component/api_query_auth",
        &query,
        json!({"component_appid": PLATFORM_APPID, "authorization_code": change.authorization_code}),
    )
    .await;
    let info = &auth["authorization_info"];
    assert_eq!(info["authorizer_appid"], appid.as_str());
    assert_eq!(
        info["func_info"],
        json!([{"funcscope_category": {"id": 1}}, {"funcscope_category": {"id": 2}}, {"funcscope_category": {"id": 7}}])
    );
    let account_token = info["authorizer_access_token"].as_str().expect("token");

    // A text to every follower: its report goes to the message URL of
    // that account, sealed with the platform's appid.
    let sent = post(
        &emu,
        "/cgi-bin/message/mass/sendall",
        &format!("access_token={account_token}"),
        json!({"filter": {"is_to_all": true}, "text": {"content": "hi"}, "msgtype": "text"}),
    )
    .await;
    let msg_id = sent["msg_id"].as_i64().expect("msg_id");
    let Push::MassSendJobFinish(job) = next(&mut message_rx).await else {
        panic!("expected the job's report")
    };
    assert_eq!(job.msg_id, msg_id);
    assert_eq!(job.sent_count, 5);
    let account = emu
        .http
        .get(emu.url(&format!("/_emulator/platform/accounts/{appid}/account")))
        .send()
        .await
        .expect("account")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(
        job.to_user_name,
        account["original_id"].as_str().expect("gh")
    );

    // The account's own admin API shows its own ledger only.
    let stats = emu
        .http
        .get(emu.url(&format!("/_emulator/platform/accounts/{appid}/stats")))
        .send()
        .await
        .expect("stats")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(stats["followers"], 5, "{stats}");

    // Withdrawn: `unauthorized`, and the token dies.
    emu.http
        .post(emu.url("/_emulator/platform/revoke"))
        .json(&json!({"appid": appid}))
        .send()
        .await
        .expect("revoke");
    let Push::Platform(event) = next(&mut event_rx).await else {
        panic!("expected unauthorized")
    };
    assert!(
        matches!(event.info, PlatformInfo::Unauthorized { ref authorizer_appid } if *authorizer_appid == appid),
        "{event:?}"
    );
    let refused = emu
        .get("/cgi-bin/tags/get", &[("access_token", account_token)])
        .await;
    assert_code(&refused, 40001);
    server.abort();
}
