//! Uploads belong to the account that made them: WeChat knows a media id
//! only for its own account (another answers 40007), so the same picture
//! sent by two accounts is uploaded by each, once.

use wxmass_api::{Audience, Client};
use wxmass_campaign::prepare::{self, Silent};
use wxmass_campaign::store;
use wxmass_campaign::{Content, FileRef};
use wxmass_emulator::config::EmulatorConfig;

/// A 1x1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// An emulated account with a few followers, and a client of it.
async fn account(appid: &str) -> (wxmass_emulator::RunningEmulator, Client) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = EmulatorConfig {
        appid: appid.into(),
        followers: 5,
        ..EmulatorConfig::default()
    };
    let secret = config.secret.clone();
    let emulator = wxmass_emulator::start(config, listener).expect("emulator");
    let client = Client::builder(appid, secret)
        .base_url(emulator.base_url())
        .build()
        .expect("client");
    (emulator, client)
}

#[tokio::test]
async fn each_account_uploads_its_own_picture_once() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store::open_sqlite(&dir.path().join("j.db")).expect("store");
    let sha256 = store.store_blob(PNG).await.expect("blob");
    let content = Content::Images {
        files: vec![FileRef {
            path: "red.png".into(),
            sha256,
        }],
    };
    let (_a, first) = account("wx1111111111111111").await;
    let (_b, second) = account("wx2222222222222222").await;

    let for_first = prepare::message(&first, &*store, &content, &Silent)
        .await
        .expect("first account");
    let for_second = prepare::message(&second, &*store, &content, &Silent)
        .await
        .expect("second account");
    // Each sends its own: before, the second was given the first's id and
    // WeChat answered 40007.
    first
        .mass()
        .send(&for_first, &Audience::All)
        .await
        .expect("the first account sends its picture");
    second
        .mass()
        .send(&for_second, &Audience::All)
        .await
        .expect("the second account sends the same picture");
    // And each uploaded once: preparing again reuses its own.
    let again = prepare::message(&second, &*store, &content, &Silent)
        .await
        .expect("again");
    assert_eq!(again, for_second, "the second account's upload is reused");
}

/// A batch WeChat refuses for good (here a media id this account never
/// uploaded: 40007) ends the run with WeChat's answer and what to do, even
/// for a worker that carries on past other failures: sending it again
/// every few seconds could never succeed.
#[tokio::test]
async fn a_batch_refused_for_good_ends_the_run_with_the_errcode() {
    use std::sync::Arc;
    use std::time::Duration;
    use wxmass_campaign::engine::{self, WorkOptions};
    use wxmass_campaign::{Audience as Everyone, Campaign, Files, PlannedBatch};

    let dir = tempfile::tempdir().expect("dir");
    let store = store::open_sqlite(&dir.path().join("j.db")).expect("store");
    let (_emulator, client) = account("wx1111111111111111").await;
    let campaign = Campaign::sent_now(
        "refused".into(),
        "wx1111111111111111".into(),
        Content::Text { text: "-".into() },
        Everyone::All,
        5,
        wxmass_campaign::beijing::now(),
    );
    let mut batches = std::iter::once(Ok(PlannedBatch {
        clientmsgid: wxmass_campaign::batch_clientmsgid("refused", 0),
        openids: vec![],
    }));
    store
        .plan(&campaign, &Files::default(), &mut batches)
        .await
        .expect("plan");
    let message = engine::keep_prepared(
        &*store,
        "refused",
        &wxmass_api::Message::image("never-uploaded-here"),
    )
    .await
    .expect("prepared");
    let mut options = WorkOptions::new("worker");
    options.stop_on_error = false;
    options.sends_per_minute = None;
    let worked = tokio::time::timeout(
        Duration::from_secs(60),
        engine::work(
            &*store,
            &client,
            &campaign,
            &message,
            &options,
            Arc::new(Quiet),
            std::future::pending(),
        ),
    )
    .await
    .expect("the run ended instead of resending for ever");
    let Err(wxmass_campaign::Error::Send { batch, source }) = worked else {
        panic!("not a refusal: {worked:?}");
    };
    assert_eq!(batch, 1);
    assert_eq!(source.errcode(), Some(wxmass_api::Errcode::InvalidMediaId));
    assert!(
        source.advice().is_some_and(|a| a.contains("upload")),
        "{:?}",
        source.advice()
    );
}

struct Quiet;

impl wxmass_campaign::engine::Observer for Quiet {}
impl wxmass_campaign::fanout::FanoutObserver for Quiet {}
