//! Planning, on both backends, against the in-process emulator: a list is
//! deduplicated and cut into batches in one commit, and only at commit; a
//! tag is sized by WeChat; a rerun finds its campaign; other content under
//! the same id, and a tag the account does not have, are refused before
//! anything is written.

use wxmass_api::Client;
use wxmass_campaign::plan::{self, CampaignSpec, Proposal};
use wxmass_campaign::store::{self, Store};
use wxmass_campaign::{AccountType, Audience, Content, Error, Files, OpenIdList};
use wxmass_emulator::EmulatorConfig;
use wxmass_emulator::config::{DEFAULT_APPID, DEFAULT_SECRET};

fn spec(id: &str, text: &str, audience: Audience) -> CampaignSpec {
    CampaignSpec {
        id: id.into(),
        appid: DEFAULT_APPID.into(),
        account: Some(AccountType::Service),
        content: Content::Text { text: text.into() },
        files: Files::default(),
        audience,
        batch_size: 2,
    }
}

async fn planning(journal: &dyn Store) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = EmulatorConfig {
        followers: 40,
        tags: 2,
        ..EmulatorConfig::default()
    };
    let emulator = wxmass_emulator::start(config, listener).expect("emulator");
    let client = Client::builder(DEFAULT_APPID, DEFAULT_SECRET)
        .base_url(emulator.base_url())
        .build()
        .expect("client");

    // Five followers, one of them twice.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("list.txt");
    let openids: Vec<String> = (0..5).map(|i| format!("oPlanTest{i:019}")).collect();
    let mut lines = openids.clone();
    lines.push(openids[1].clone());
    std::fs::write(&path, lines.join("\n")).expect("write list");
    let mut list = OpenIdList::read(&path).expect("list");

    let proposal = plan::propose(
        journal,
        &client,
        spec("p1", "hi", Audience::Openids),
        Some(&mut list),
    )
    .await
    .expect("propose");
    let Proposal::New(new) = proposal else {
        panic!("a new campaign")
    };
    assert_eq!(new.campaign.audience_size, 5);
    assert_eq!(new.capped, 0);
    let sizes = new.batch_sizes(Some(&list));
    assert_eq!(sizes.iter().sum::<u64>(), 5);
    assert!(sizes.iter().all(|&s| s >= 2), "{sizes:?}");
    assert!(
        journal
            .planned_campaign("p1")
            .await
            .expect("read")
            .is_none(),
        "nothing is written before commit"
    );
    plan::commit(journal, &new, Some(&list))
        .await
        .expect("commit");
    let batches = journal.batches("p1").await.expect("batches");
    assert_eq!(batches.len(), sizes.len());
    let mut planned = Vec::new();
    for b in &batches {
        planned.extend(journal.openids("p1", b.index).await.expect("openids"));
    }
    assert_eq!(planned, openids, "each openid once, in the list's order");

    // The same again is a rerun; other content under the id is refused.
    let again = plan::propose(
        journal,
        &client,
        spec("p1", "hi", Audience::Openids),
        Some(&mut OpenIdList::read(&path).expect("list")),
    )
    .await
    .expect("propose again");
    assert!(matches!(again, Proposal::Existing(c) if c.id == "p1"));
    let changed = plan::propose(
        journal,
        &client,
        spec("p1", "other", Audience::Openids),
        Some(&mut OpenIdList::read(&path).expect("list")),
    )
    .await;
    assert!(
        matches!(changed, Err(Error::ContentChanged(_))),
        "{changed:?}"
    );

    // A tag is sized by WeChat; one the account lacks is refused.
    let tag = plan::propose(
        journal,
        &client,
        spec("t1", "hi", Audience::Tag { tag_id: 100 }),
        None,
    )
    .await
    .expect("tag");
    let Proposal::New(tag) = tag else {
        panic!("a new campaign")
    };
    assert!(tag.campaign.audience_size > 0);
    assert_eq!(tag.batch_sizes(None), vec![0]);
    let missing = plan::propose(
        journal,
        &client,
        spec("t2", "hi", Audience::Tag { tag_id: 999 }),
        None,
    )
    .await;
    assert!(
        matches!(&missing, Err(Error::Invalid(why)) if why.contains("no tag 999")),
        "{missing:?}"
    );
    assert!(
        journal
            .planned_campaign("t2")
            .await
            .expect("read")
            .is_none()
    );
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_on_both_backends() {
    let dir = tempfile::tempdir().expect("dir");
    planning(&*store::open_sqlite(&dir.path().join("j.db")).expect("sqlite")).await;
    if let Some(postgres) = wxmass_testkit::start_postgres() {
        planning(
            &*store::open(&postgres.url, wxmass_campaign::store::DEFAULT_CONNECTIONS)
                .await
                .expect("postgres"),
        )
        .await;
    }
}
