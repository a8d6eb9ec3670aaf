//! Counts that do not overclaim: a batch WeChat took whose report never
//! came is shown as "sent, no report", never as delivered.

use std::time::Duration;

use wxmass_campaign::lifecycle::{CampaignState, ServerCampaign};
use wxmass_campaign::{
    Audience, Campaign, Content, Files, JobReport, PlannedBatch, Report, SeenRequest,
};

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
        .create_server_campaign(&ServerCampaign {
            id: "news".into(),
            appid: APPID.into(),
            name: "news".into(),
            content: content.clone(),
            audience: Audience::Openids,
            list: Some("readers".into()),
            batch_size: Some(2),
            state: CampaignState::Finished,
            send_at: Some(now),
            created_by: "alice".into(),
            approved_by: Some("alice".into()),
            note: String::new(),
            created_at: now,
            updated_at: now,
        })
        .await
        .expect("campaign");
    // Three batches of two: the first two reported, the third settled by
    // mass/get after the receiver missed WeChat's pushes.
    let campaign = Campaign {
        id: "news".into(),
        appid: APPID.into(),
        content,
        audience: Audience::Openids,
        audience_size: 6,
        created_at: now,
    };
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
    store
        .record_received(APPID, &received)
        .await
        .expect("reports");

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
