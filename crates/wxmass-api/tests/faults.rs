//! Mass sends under injected faults: every send submitted once, nobody
//! receives anything twice.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use serde_json::json;
use wxmass_api::{Audience, ClientMsgId, Message, Sent};
use wxmass_emulator::EmulatorConfig;

#[tokio::test]
async fn a_thousand_sends_through_faults_deliver_once() {
    let emu = emulator(EmulatorConfig {
        followers: 2000,
        job_delay: Duration::from_millis(5),
        ..EmulatorConfig::default()
    })
    .await;
    let users = {
        let v = emu
            .admin_post("/_emulator/followers", json!({"count": 0}))
            .await;
        assert_eq!(v["total"], 2000);
        // Page the followers through the API itself.
        let client = emu.client();
        client
            .users()
            .followers_page(None)
            .await
            .expect("page")
            .openids
    };
    assert_eq!(users.len(), 2000);
    emu.admin_post(
        "/_emulator/faults",
        json!({"paths": {"/cgi-bin/message/mass/send": {"errcode_rate": 0.2, "drop_rate": 0.05, "latency_jitter_ms": 5}}}),
    )
    .await;
    // 24% of attempts fail (-1 or a drop): with 12 retries a send gives up
    // once in ten million, so the test cannot flake on bad luck.
    let client = Arc::new(
        wxmass_api::Client::builder(
            wxmass_emulator::config::DEFAULT_APPID,
            wxmass_emulator::config::DEFAULT_SECRET,
        )
        .base_url(emu.url())
        .retry(wxmass_api::RetryPolicy {
            max_retries: 12,
            ..fast_retry()
        })
        .build()
        .expect("client"),
    );
    let mut submitted = 0;
    let mut already = 0;
    // WeChat takes 60 sends a minute and 100 a day: send in rounds of 50 and
    // move the emulator's clock a day between rounds.
    for round in 0..20 {
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let batch = round * 50 + i;
                let audience = Audience::OpenIds(users[batch * 2..batch * 2 + 2].to_vec());
                let client = client.clone();
                tokio::spawn(async move {
                    client
                        .mass()
                        .send_with(
                            &Message::text(format!("batch {batch}")),
                            &audience,
                            ClientMsgId::Given(format!("fault-{batch}")),
                        )
                        .await
                })
            })
            .collect();
        for task in tasks {
            match task.await.expect("task").expect("every send is submitted") {
                Sent::Submitted { .. } => submitted += 1,
                Sent::AlreadySubmitted { .. } => already += 1,
            }
        }
        emu.advance(86_400).await;
    }
    assert_eq!(submitted + already, 1000);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let jobs = emu.admin_get("/_emulator/jobs").await;
    assert_eq!(
        jobs["jobs"].as_array().expect("jobs").len(),
        1000,
        "one job per batch"
    );
    let stats = emu.stats().await;
    assert_eq!(stats["duplicate_deliveries"], 0);
    assert_eq!(stats["deliveries"], 2000);
    assert!(
        already > 0,
        "drops happened and were recognised ({already})"
    );
}
