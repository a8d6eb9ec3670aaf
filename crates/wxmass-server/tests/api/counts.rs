//! Counts that do not overclaim: a batch WeChat took whose report never
//! came is shown as "sent, no report", never as delivered.

use std::time::Duration;

use wxmass_campaign::Campaign;
use wxmass_campaign::lifecycle::CampaignState;
use wxmass_campaign::{Audience, Content, Files, JobReport, PlannedBatch, Report, SeenRequest};

use crate::helpers::TestApp;

const APPID: &str = "wx5e1f0c2a9b84d37e";

fn report(sent: i64) -> Report {
    Report {
        status: "send success".into(),
        total_count: sent,
        filter_count: sent,
        sent_count: sent,
        error_count: 0,
        check_state: None,
        article_urls: vec![],
    }
}

#[tokio::test]
async fn a_batch_settled_by_mass_get_without_a_report_is_not_counted_delivered() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let store = app.state.journal();
    let now = wxmass_campaign::beijing::now();
    let content = Content::Text { text: "hi".into() };
    store
        .create_campaign(&Campaign {
            id: "news".into(),
            appid: APPID.into(),
            name: "news".into(),
            content: content.clone(),
            audience: Audience::Openids,
            list: Some("readers".into()),
            batch_size: Some(2),
            state: CampaignState::Running,
            send_at: Some(now),
            created_by: Some("alice".into()),
            approved_by: Some("alice".into()),
            note: String::new(),
            created_at: now,
            updated_at: now,
            audience_size: 0,
            accounts: None,
            part_of: None,
        })
        .await
        .expect("campaign");
    // Three batches of two: the first two reported, the third settled by
    // mass/get after the receiver missed WeChat's pushes.
    let campaign = Campaign::sent_now(
        "news".into(),
        APPID.into(),
        content,
        Audience::Openids,
        6,
        now,
    );
    let mut batches = (0..3u32).map(|i| {
        Ok(PlannedBatch {
            clientmsgid: wxmass_campaign::batch_clientmsgid("news", i),
            openids: vec![format!("o{i}a"), format!("o{i}b")],
        })
    });
    store
        .plan(&campaign, &Files::default(), &mut batches)
        .await
        .expect("plan");
    store.set_prepared("news", "{}").await.expect("prepared");
    let claims = store
        .claim("news", "w", 3, Duration::from_secs(60), false)
        .await
        .expect("claim");
    let done: Vec<_> = claims
        .into_iter()
        .map(|c| {
            let msg_id = 9000 + i64::from(c.index);
            (c, Some(msg_id), None)
        })
        .collect();
    assert_eq!(store.record_submitted("w", &done).await.expect("record"), 3);
    store
        .set_statuses(
            "news",
            &[
                (0, "SEND_SUCCESS"),
                (1, "SEND_SUCCESS"),
                (2, "SEND_SUCCESS"),
            ],
        )
        .await
        .expect("statuses");
    let received: Vec<_> = (0..2)
        .map(|i| {
            (
                APPID,
                Some(JobReport {
                    msg_id: 9000 + i,
                    report: report(2),
                    event: format!("{{\"msg_id\":{i}}}"),
                }),
                SeenRequest {
                    timestamp: now,
                    nonce: format!("n{i}"),
                    content: [i as u8; 20],
                    expires_at: now + 600,
                },
            )
        })
        .collect();
    store.record_received(&received).await.expect("reports");

    let (status, c) = app
        .call("GET", "/api/v1/campaigns/news", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{c}");
    assert_eq!(c["submitted"], 3, "{c}");
    assert_eq!(c["reported"], 2, "{c}");
    assert_eq!(c["delivered"], 4, "only reports count as delivered: {c}");
    assert_eq!(c["addressed"], 4, "{c}");
    assert_eq!(c["unreported"], 1, "{c}");
    assert_eq!(c["unreported_openids"], 2, "{c}");
    assert_eq!(c["unreported_settled"], 1, "{c}");
}

/// One campaign table: a campaign the CLI planned in the same store is
/// listed and shown by the API, with no creator, and the server does not
/// move it (it is its sender's to run).
#[tokio::test]
async fn a_campaign_sent_with_the_cli_is_listed_and_left_alone() {
    let app = TestApp::new();
    let admin = app.first_admin().await;
    let store = app.state.journal();
    let now = wxmass_campaign::beijing::now();
    let campaign = Campaign::sent_now(
        "from-cli".into(),
        APPID.into(),
        Content::Text { text: "hi".into() },
        Audience::Tag { tag_id: 100 },
        40,
        now,
    );
    let mut batches = std::iter::once(Ok(PlannedBatch {
        clientmsgid: wxmass_campaign::batch_clientmsgid("from-cli", 0),
        openids: vec![],
    }));
    store
        .plan(&campaign, &Files::default(), &mut batches)
        .await
        .expect("plan");
    let (status, list) = app
        .call("GET", "/api/v1/campaigns", Some(&admin), None)
        .await;
    assert_eq!(status, 200, "{list}");
    let listed = list
        .as_array()
        .and_then(|l| l.iter().find(|c| c["id"] == "from-cli"))
        .unwrap_or_else(|| panic!("the CLI's campaign is listed: {list}"));
    assert_eq!(listed["state"], "running", "{listed}");
    assert_eq!(listed["created_by"], serde_json::Value::Null, "{listed}");
    assert_eq!(listed["audience_size"], 40, "{listed}");
    assert_eq!(listed["batches"], 1, "{listed}");
    for step in ["pause", "cancel"] {
        let (status, answer) = app
            .call(
                "POST",
                &format!("/api/v1/campaigns/from-cli/{step}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(status, 409, "{step}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap_or("")
                .contains("CLI"),
            "{answer}"
        );
    }
    // The server does not pick it up to send.
    let due = store.due_campaigns(now + 60).await.expect("due");
    assert!(due.iter().all(|c| c.id != "from-cli"));
}
