//! The journal's rules, the same on both backends: each test runs on a
//! SQLite file and on a throwaway PostgreSQL cluster.

use std::time::Duration;

use wxmass_campaign::store::{self, prelude::*};
use wxmass_campaign::{
    Audience, BatchState, Campaign, Content, Files, PlannedBatch, batch_clientmsgid,
};

fn campaign(id: &str) -> Campaign {
    Campaign::sent_now(
        id.into(),
        "wxA".into(),
        Content::Text { text: "hi".into() },
        Audience::Openids,
        6,
        1_700_000_000,
    )
}

fn batches(id: &str) -> Vec<wxmass_campaign::Result<PlannedBatch>> {
    (0..3)
        .map(|i| {
            Ok(PlannedBatch {
                clientmsgid: batch_clientmsgid(id, i),
                openids: vec![format!("o{i}a"), format!("o{i}b")],
            })
        })
        .collect()
}

/// Plans, claims under leases, takes over an expired lease, records.
async fn leases_and_takeovers(journal: &dyn Store) {
    let mut files = Files::default();
    let file = files.add("pic.png", b"picture".to_vec());
    let mut planned = batches("c").into_iter();
    journal
        .plan(&campaign("c"), &files, &mut planned)
        .await
        .expect("plan");
    assert_eq!(journal.file(&file).await.expect("file"), b"picture");
    assert_eq!(
        journal.openids("c", 2).await.expect("openids"),
        ["o2a", "o2b"]
    );
    // Nothing is claimed before the message is prepared.
    let lease = Duration::from_secs(1);
    assert!(
        journal
            .claim("c", "w1", 8, lease, false)
            .await
            .expect("claim")
            .is_empty()
    );
    journal
        .set_prepared("c", "{\"text\":\"hi\"}")
        .await
        .expect("prepare");
    // The first prepared message stays.
    assert_eq!(
        journal
            .set_prepared("c", "{\"text\":\"other\"}")
            .await
            .expect("again"),
        "{\"text\":\"hi\"}"
    );
    let w1 = journal
        .claim("c", "w1", 2, lease, false)
        .await
        .expect("claim");
    assert_eq!(w1.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1]);
    // w2 gets only what w1 does not hold.
    let w2 = journal
        .claim("c", "w2", 8, lease, false)
        .await
        .expect("claim");
    assert_eq!(w2.iter().map(|c| c.index).collect::<Vec<_>>(), [2]);
    let states: Vec<BatchState> = journal
        .batches("c")
        .await
        .expect("b")
        .iter()
        .map(|b| b.state)
        .collect();
    assert_eq!(
        states,
        [BatchState::Submitting; 3],
        "claimed means submitting"
    );
    // w2 records its batch; w1 dies holding two.
    let done = [(w2[0].clone(), Some(1001), None)];
    assert_eq!(
        journal.record_submitted("w2", &done).await.expect("record"),
        1
    );
    assert_eq!(journal.unsent("c").await.expect("unsent"), 2);
    assert!(
        journal
            .claim("c", "w2", 8, lease, false)
            .await
            .expect("claim")
            .is_empty()
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let taken = journal
        .claim("c", "w2", 8, lease, false)
        .await
        .expect("takeover");
    assert_eq!(taken.len(), 2);
    assert!(taken.iter().all(|c| c.takeover), "{taken:?}");
    // w1 comes back too late: its record is refused, w2's stands.
    let late = [(w1[0].clone(), Some(999), None)];
    assert_eq!(
        journal.record_submitted("w1", &late).await.expect("late"),
        0
    );
    let done: Vec<_> = taken
        .iter()
        .map(|c| (c.clone(), Some(2000 + i64::from(c.index)), None))
        .collect();
    assert_eq!(
        journal.record_submitted("w2", &done).await.expect("record"),
        2
    );
    let all = journal.batches("c").await.expect("batches");
    assert_eq!(
        all.iter().map(|b| b.msg_id).collect::<Vec<_>>(),
        [Some(2000), Some(2001), Some(1001)]
    );
    assert!(all.iter().all(|b| b.sent_by.as_deref() == Some("w2")));
    assert_eq!(all.iter().map(|b| b.takeovers).sum::<u32>(), 2);
    assert_eq!(journal.unsent("c").await.expect("unsent"), 0);
    // A plan that fails midway leaves nothing.
    let mut broken = vec![
        batches("d").remove(0),
        Err(wxmass_campaign::Error::Invalid("cut".into())),
    ]
    .into_iter();
    assert!(
        journal
            .plan(&campaign("d"), &Files::default(), &mut broken)
            .await
            .is_err()
    );
    assert!(
        journal
            .planned_campaign("d")
            .await
            .expect("query")
            .is_none()
    );
}

/// The minute's sends, shared by every worker of the account. A run that
/// straddles a minute is done again for another account.
async fn pace(journal: &dyn Store) {
    for attempt in 0..3 {
        let (a, b) = (format!("wxP{attempt}"), format!("wxQ{attempt}"));
        let minute = wxmass_campaign::beijing::now() / 60;
        let got = [
            journal.take_send_slots(&a, 8, 10).await.expect("slots"),
            journal.take_send_slots(&a, 8, 10).await.expect("slots"),
            journal.take_send_slots(&a, 8, 10).await.expect("slots"),
            journal
                .take_send_slots(&b, 3, 10)
                .await
                .expect("other account"),
        ];
        if wxmass_campaign::beijing::now() / 60 == minute {
            assert_eq!(got, [8, 2, 0, 3]);
            return;
        }
    }
    panic!("three runs straddled a minute");
}

async fn both(test: impl AsyncFn(&dyn Store)) {
    let dir = tempfile::tempdir().expect("dir");
    test(&*store::open_sqlite(&dir.path().join("j.db")).expect("sqlite")).await;
    if let Some(postgres) = wxmass_testkit::start_postgres() {
        test(
            &*store::open(&postgres.url, wxmass_campaign::store::DEFAULT_CONNECTIONS)
                .await
                .expect("postgres"),
        )
        .await;
    }
}

#[tokio::test]
async fn leases_and_takeovers_on_both_backends() {
    both(leases_and_takeovers).await;
}

#[tokio::test]
async fn the_pace_is_shared_on_both_backends() {
    both(pace).await;
}

/// Free publishing's records: a submission, its report joining it, WeChat's
/// retry recognised, a contradicting report kept apart, a report no
/// submission knows.
async fn publishes(journal: &dyn Store) {
    use wxmass_campaign::Recorded;
    use wxmass_campaign::publishes::PublishReport;
    let report = |id: i64, status: i64| PublishReport {
        publish_id: id,
        status,
        article_id: (status == 0).then(|| format!("art-{id}")),
        article_urls: if status == 0 {
            vec!["https://mp.weixin.qq.com/s/a".into()]
        } else {
            vec![]
        },
        fail_idx: if status == 0 { vec![] } else { vec![1] },
        event: format!("{{\"publish_id\":{id},\"status\":{status}}}"),
    };
    journal
        .record_publish_submitted("wx1", 10, "draft-1", Some(77), Some("c1"), 1_000)
        .await
        .expect("submitted");
    let outcomes = journal
        .record_publish_reports("wx1", &[report(10, 0), report(11, 2)], 2_000)
        .await
        .expect("reports");
    assert_eq!(
        outcomes,
        [
            Recorded::New { known: true },
            Recorded::New { known: false }
        ]
    );
    let again = journal
        .record_publish_reports("wx1", &[report(10, 0), report(11, 3)], 3_000)
        .await
        .expect("again");
    assert_eq!(again, [Recorded::Duplicate, Recorded::Conflict]);
    let all = journal.publishes().await.expect("publishes");
    let ours = all.iter().find(|p| p.publish_id == 10).expect("10");
    assert_eq!(
        (
            ours.campaign.as_deref(),
            ours.msg_data_id,
            ours.status,
            ours.article_id.as_deref()
        ),
        (Some("c1"), Some(77), Some(0), Some("art-10"))
    );
    assert_eq!(ours.article_urls.len(), 1);
    let stray = all.iter().find(|p| p.publish_id == 11).expect("11");
    assert_eq!(
        (stray.media_id.as_deref(), stray.status, stray.conflicting),
        (None, Some(2), true)
    );
    assert_eq!(stray.fail_idx, [1], "the first report stays");
}

#[tokio::test]
async fn publishes_on_both_backends() {
    both(publishes).await;
}

/// The series of reads: a pull kept, a later pull replacing the same days
/// and adding the next, read back in order.
async fn read_series(journal: &dyn Store) {
    use wxmass_campaign::reads::ReadPoint;
    let point = |article: u32, date: &str, readers: u64| ReadPoint {
        article,
        title: format!("文章 {article}"),
        date: date.into(),
        delivered: 100,
        readers,
        reads: readers * 2,
        sharers: 1,
        shares: 2,
        favouriters: 3,
    };
    let empty = journal.read_series("c1").await.expect("series");
    assert_eq!((empty.pulled_on, empty.points.len()), (None, 0));
    journal
        .record_read_series(
            "c1",
            "2026-12-02",
            &[point(2, "2026-12-01", 5), point(1, "2026-12-01", 9)],
            10,
        )
        .await
        .expect("first pull");
    journal
        .record_read_series(
            "c1",
            "2026-12-03",
            &[point(1, "2026-12-01", 9), point(1, "2026-12-02", 14)],
            20,
        )
        .await
        .expect("second pull");
    let series = journal.read_series("c1").await.expect("series");
    assert_eq!(series.pulled_on.as_deref(), Some("2026-12-03"));
    assert_eq!(
        series
            .points
            .iter()
            .map(|p| (p.article, p.date.as_str(), p.readers))
            .collect::<Vec<_>>(),
        [
            (1, "2026-12-01", 9),
            (1, "2026-12-02", 14),
            (2, "2026-12-01", 5)
        ]
    );
    assert_eq!(series.points[0].title, "文章 1");
    assert_eq!(
        journal.read_series("c2").await.expect("other").points.len(),
        0
    );
}

#[tokio::test]
async fn read_series_on_both_backends() {
    both(read_series).await;
}

/// A batch sent without WeChat naming its job is sent again to learn the
/// job from 45065 only once its clientmsgid's minute has passed (within
/// it WeChat answers 45066 again), and only while WeChat still knows its
/// clientmsgid: within 20 hours of its send, never after (a resend then
/// would deliver twice).
#[tokio::test]
async fn an_unnamed_batch_is_resent_only_within_20_hours() {
    use wxmass_campaign::spec::{NAME_AFTER, NAME_BY_RESENDING_WITHIN};
    use wxmass_campaign::store::SqliteStore;
    let dir = tempfile::tempdir().expect("dir");
    let journal = SqliteStore::open(&dir.path().join("j.db")).expect("journal");
    journal
        .plan(
            &campaign("c"),
            &Files::default(),
            &mut batches("c").into_iter(),
        )
        .await
        .expect("plan");
    journal
        .set_prepared("c", "{\"text\":\"hi\"}")
        .await
        .expect("prepare");
    let sent = 1_800_000_000;
    let lease = Duration::from_secs(30);
    let claims = journal
        .claim_at("c", "w1", 8, lease, false, sent)
        .expect("claim");
    assert_eq!(claims.len(), 3);
    let unnamed: Vec<_> = claims.into_iter().map(|c| (c, None, None)).collect();
    journal
        .record_submitted_at("w1", &unnamed, sent)
        .expect("record");
    let within_the_minute = journal
        .claim_at("c", "w2", 8, lease, true, sent + 30)
        .expect("claim");
    assert!(
        within_the_minute.is_empty(),
        "within its clientmsgid's minute WeChat answers 45066 again: {within_the_minute:?}"
    );
    let soon = journal
        .claim_at("c", "w2", 8, lease, true, sent + NAME_AFTER)
        .expect("claim");
    assert_eq!(soon.len(), 3, "a minute on, resending learns the job");
    journal.release("w2", &soon).await.expect("release");
    let late = journal
        .claim_at(
            "c",
            "w2",
            8,
            lease,
            true,
            sent + NAME_BY_RESENDING_WITHIN + 1,
        )
        .expect("claim");
    assert!(late.is_empty(), "past 20 hours, never resent: {late:?}");
}

/// User names are the same whatever their case: `Alice` is `alice` when
/// signing in, and a second `ALICE` is refused.
async fn names_in_any_case(store: &dyn Store) {
    use wxmass_campaign::people::Role;
    store
        .create_user("Alice", Role::Admin, "hash-1", 1)
        .await
        .expect("alice");
    let error = store
        .create_user("ALICE", Role::Viewer, "hash-2", 2)
        .await
        .expect_err("the same name in another case");
    assert!(error.to_string().contains("exists already"), "{error}");
    for asked in ["alice", "ALICE", "Alice"] {
        let (user, hash) = store
            .user_by_name(asked)
            .await
            .expect("read")
            .unwrap_or_else(|| panic!("{asked} finds Alice"));
        assert_eq!((user.name.as_str(), hash.as_str()), ("Alice", "hash-1"));
    }
    assert!(store.user_by_name("bob").await.expect("read").is_none());
}

#[tokio::test]
async fn user_names_are_the_same_in_any_case_on_both_backends() {
    both(names_in_any_case).await;
}

/// A fan-out campaign's store: chunks claimed under leases, records and
/// their counts, reports kept and forgotten, the reach record, the
/// shared limits.
async fn fan_out(store: &dyn Store) {
    use wxmass_campaign::notices::*;
    let id = "fan";
    let campaign = Campaign {
        content: wxmass_campaign::Content::Notice {
            via: vec![Channel::CustomerService, Channel::Template],
            template: None,
            subscription: None,
            custom_text: Some("hi".into()),
        },
        ..campaign(id)
    };
    let openids: Vec<String> = (0..1500)
        .map(|i| format!("oABCDEFGHIJKLMNOPQRSTUV{i:05}"))
        .collect();
    let mut chunks = openids.chunks(CHUNK).map(|c| Ok(c.to_vec()));
    store
        .plan_recipients(&campaign, &mut chunks)
        .await
        .expect("planned");
    assert_eq!(store.recipients_pending(id).await.expect("pending"), 1500);
    let now = wxmass_campaign::beijing::now();
    let ttl = std::time::Duration::from_secs(30);
    let first = store
        .claim_chunk(id, "w1", ttl, now)
        .await
        .expect("claim")
        .expect("a chunk");
    let second = store
        .claim_chunk(id, "w2", ttl, now)
        .await
        .expect("claim")
        .expect("another");
    assert_ne!(first.index, second.index, "each worker its own chunk");
    assert!(
        store
            .claim_chunk(id, "w3", ttl, now)
            .await
            .expect("claim")
            .is_none()
    );
    let mut records = Records::decode(&first.records).expect("records");
    records.0[0].state = RecipientState::Sent;
    records.0[0].reported = Reported::Delivered;
    records.0[1].state = RecipientState::Unknown;
    assert!(
        !store
            .write_records(
                id,
                first.index,
                "w2",
                &records.encode(),
                &records.counts(),
                ttl,
                now
            )
            .await
            .expect("write"),
        "only the lease holder writes"
    );
    assert!(
        store
            .write_records(
                id,
                first.index,
                "w1",
                &records.encode(),
                &records.counts(),
                ttl,
                now
            )
            .await
            .expect("write")
    );
    let counts = store.recipient_counts(id).await.expect("counts");
    assert_eq!((counts.of(RecipientState::Sent), counts.delivered), (1, 1));
    assert_eq!(counts.of(RecipientState::Unknown), 1);
    assert_eq!(counts.total(), 1500);
    // Replaced only while nobody holds it and it is as read.
    store
        .release_chunk(id, first.index, "w1")
        .await
        .expect("release");
    let old = records.encode();
    records.0[2].state = RecipientState::Failed;
    assert!(
        !store
            .replace_records(
                id,
                first.index,
                b"not what was read",
                &records.encode(),
                &records.counts(),
                now
            )
            .await
            .expect("replace")
    );
    assert!(
        store
            .replace_records(
                id,
                first.index,
                &old,
                &records.encode(),
                &records.counts(),
                now
            )
            .await
            .expect("replace")
    );
    let page = store.chunk_page(id, None, 10).await.expect("page");
    assert_eq!(page.len(), 2);
    // Reports: kept once, found by follower, forgotten.
    let report = NoticeReport {
        openid: openids[0].clone(),
        msg_id: 7,
        created_at: now,
        reported: Reported::UserBlock,
    };
    for _ in 0..2 {
        store
            .record_notice_reports("wxapp", std::slice::from_ref(&report), now)
            .await
            .expect("kept");
    }
    let found = store
        .notice_reports("wxapp", &openids[..2])
        .await
        .expect("found");
    assert_eq!(found, vec![report.clone()]);
    store
        .forget_notice_reports("wxapp", &found)
        .await
        .expect("forgot");
    assert!(
        store
            .notice_reports("wxapp", &openids[..2])
            .await
            .expect("none")
            .is_empty()
    );
    // The reach record: each field moves forward only.
    let learnt = |at, event| Learnt {
        openid: openids[0].clone(),
        at,
        event,
    };
    store
        .record_reach(
            "wxapp",
            &[
                learnt(now - 100, ReachEvent::WindowOpened(WindowKind::Message)),
                learnt(now - 200, ReachEvent::WindowOpened(WindowKind::Short)),
                learnt(now - 50, ReachEvent::Unfollowed),
            ],
        )
        .await
        .expect("reach");
    let reach = store.reach("wxapp", &openids[..2]).await.expect("reach");
    assert_eq!(reach.len(), 1);
    let r = reach[&openids[0]];
    assert_eq!(r.window_opened, Some((now - 100, WindowKind::Message)));
    assert_eq!(r.window_open(now), Some(true));
    assert!(r.unfollowed());
    store
        .record_reach("wxapp", &[learnt(now - 10, ReachEvent::WindowClosed)])
        .await
        .expect("closed");
    let r = store.reach("wxapp", &openids[..1]).await.expect("reach")[&openids[0]];
    assert_eq!(r.window_open(now), Some(false));
    // Consents, by template: the later word wins, whatever order it comes in.
    let consent = |at, granted| {
        learnt(
            at,
            ReachEvent::Consent {
                template_id: "notice-1".into(),
                granted,
            },
        )
    };
    store
        .record_reach("wxapp", &[consent(now - 5, true), consent(now - 30, false)])
        .await
        .expect("consents");
    let known = store
        .consents("wxapp", "notice-1", &openids[..2])
        .await
        .expect("consents");
    assert_eq!(known.len(), 1);
    assert_eq!(known.get(&openids[0]), Some(&true));
    store
        .record_reach("wxapp", &[consent(now - 1, false)])
        .await
        .expect("withdrawn");
    let known = store
        .consents("wxapp", "notice-1", &openids[..1])
        .await
        .expect("consents");
    assert_eq!(known.get(&openids[0]), Some(&false));
    assert!(
        store
            .consents("wxapp", "notice-2", &openids[..1])
            .await
            .expect("none")
            .is_empty()
    );
    // The shared limits: a day of 5 calls, 3 a minute.
    let api = "/cgi-bin/message/template/send";
    let day = wxmass_campaign::beijing::day_number(now);
    assert_eq!(
        store.api_limits("wxapp", api, day).await.expect("limits"),
        None
    );
    let limits = ApiLimits {
        daily: Some(5),
        rate: Some((3, 60)),
    };
    store
        .note_api_limits("wxapp", api, day, &limits, 1)
        .await
        .expect("noted");
    assert_eq!(
        store.api_limits("wxapp", api, day).await.expect("limits"),
        Some(limits)
    );
    let minute = now - now.rem_euclid(60);
    assert_eq!(
        store
            .take_api_calls("wxapp", api, 10, minute)
            .await
            .expect("take"),
        Granted::Calls(3)
    );
    assert!(matches!(
        store
            .take_api_calls("wxapp", api, 1, minute + 1)
            .await
            .expect("take"),
        Granted::PeriodSpent(59)
    ));
    assert_eq!(
        store
            .take_api_calls("wxapp", api, 10, minute + 60)
            .await
            .expect("take"),
        Granted::Calls(1)
    );
    assert_eq!(
        store
            .take_api_calls("wxapp", api, 1, minute + 120)
            .await
            .expect("take"),
        Granted::DaySpent
    );
    // Calls taken and not made are given back.
    store
        .give_back_api_calls("wxapp", api, 2, minute + 120)
        .await
        .expect("given back");
    assert_eq!(
        store
            .take_api_calls("wxapp", api, 5, minute + 120)
            .await
            .expect("take"),
        Granted::Calls(2)
    );
}

#[tokio::test]
async fn fan_out_on_both_backends() {
    both(fan_out).await;
}

/// Accounts a platform acts for: authorised, renewed, withdrawn; each
/// authorization code claimed once; an account with its own AppSecret
/// never taken over by an authorisation.
async fn platform_accounts(store: &dyn Store) {
    use wxmass_campaign::AccountType;
    use wxmass_campaign::people::{Account, Authorised};
    let grant = |sets: Vec<u32>| Authorised {
        component_appid: "wx3c1f0e2d9a8b7c6d".into(),
        permission_sets: sets,
        user_name: "gh_0123456789ab".into(),
        withdrawn_at: None,
    };
    let account = Account {
        appid: "wx9f0b21e321ff2258".into(),
        name: "Brand".into(),
        account_type: Some(AccountType::Service),
        sealed: "sealed-1".into(),
        api_base: None,
        created_at: 10,
        authorised: Some(grant(vec![1, 7])),
    };
    store.authorise_account(&account).await.expect("authorise");
    let found = |accounts: Vec<Account>| {
        accounts
            .into_iter()
            .find(|a| a.appid == "wx9f0b21e321ff2258")
            .expect("listed")
    };
    assert_eq!(found(store.accounts().await.expect("accounts")), account);
    assert_eq!(
        store.account(&account.appid).await.expect("account"),
        Some(account.clone())
    );
    assert_eq!(
        store.account("wx0000000000000000").await.expect("none"),
        None
    );
    assert!(
        store
            .withdraw_account(&account.appid, 20)
            .await
            .expect("withdraw")
    );
    assert!(
        !store
            .withdraw_account(&account.appid, 30)
            .await
            .expect("again")
    );
    let withdrawn = found(store.accounts().await.expect("accounts"));
    assert_eq!(withdrawn.authorised.and_then(|a| a.withdrawn_at), Some(20));
    // Authorised again, with more: enabled, the grant replaced.
    let renewed = Account {
        sealed: "sealed-2".into(),
        authorised: Some(grant(vec![1, 2, 7, 89])),
        ..account.clone()
    };
    store.authorise_account(&renewed).await.expect("renew");
    assert_eq!(found(store.accounts().await.expect("accounts")), renewed);
    store
        .set_sealed(&account.appid, "sealed-3")
        .await
        .expect("seal");
    assert_eq!(
        found(store.accounts().await.expect("accounts")).sealed,
        "sealed-3"
    );
    // Its own AppSecret: not taken over.
    let own = Account {
        appid: "wx1111111111111111".into(),
        authorised: None,
        ..account.clone()
    };
    store.create_account(&own).await.expect("own");
    let taken = Account {
        authorised: Some(grant(vec![7])),
        ..own.clone()
    };
    assert!(store.authorise_account(&taken).await.is_err());
    assert!(
        !store
            .withdraw_account(&own.appid, 5)
            .await
            .expect("not a platform's")
    );
    // Each code once, until given back.
    assert!(
        store
            .claim_authorization_code("queryauthcode@@@a", "wxA", 1)
            .await
            .expect("claim")
    );
    assert!(
        !store
            .claim_authorization_code("queryauthcode@@@a", "wxA", 2)
            .await
            .expect("again")
    );
    store
        .release_authorization_code("queryauthcode@@@a")
        .await
        .expect("release");
    assert!(
        store
            .claim_authorization_code("queryauthcode@@@a", "wxA", 3)
            .await
            .expect("reclaim")
    );
}

#[tokio::test]
async fn platform_accounts_on_both_backends() {
    both(platform_accounts).await;
}

/// A campaign across accounts is spread into its parts once, however many
/// servers start it; the parts are read back with it; account tags kept.
async fn across_accounts(store: &dyn Store) {
    use wxmass_campaign::across::{self, AccountSet, Member};
    use wxmass_campaign::lifecycle::{CampaignState, Which};
    let whole = Campaign {
        name: "whole".into(),
        created_by: Some("alice".into()),
        accounts: Some(AccountSet::Tagged { tag: "east".into() }),
        ..Campaign::sent_now(
            "whole".into(),
            String::new(),
            Content::Text { text: "hi".into() },
            Audience::All,
            0,
            1_700_000_000,
        )
    };
    store.create_campaign(&whole).await.expect("whole");
    let members = ["wxA", "wxB"].map(|appid| Member {
        appid: appid.into(),
        unavailable: None,
    });
    let parts = across::parts(&whole, &members, 1_700_000_001);
    // Two servers start it: the second's parts are not written.
    assert!(
        store
            .spread_campaign("whole", &parts, 1_700_000_001)
            .await
            .expect("spread")
    );
    let other = across::parts(&whole, &members[..1], 1_700_000_002);
    assert!(
        !store
            .spread_campaign("whole", &other, 1_700_000_002)
            .await
            .expect("again")
    );
    let read = store.parts_of("whole").await.expect("parts");
    assert_eq!(read.len(), 2);
    assert!(
        read.iter()
            .all(|p| p.part_of.as_deref() == Some("whole") && p.state == CampaignState::Running)
    );
    let kept = store.campaign("whole").await.expect("read").expect("there");
    assert_eq!(kept.accounts, whole.accounts);
    // The whole has no batches of its own: never planned for the engine.
    assert!(
        store
            .planned_campaign("whole")
            .await
            .expect("planned")
            .is_none()
    );
    // A part planned as any campaign is; its batches are the whole's.
    let mut one = vec![Ok(PlannedBatch {
        clientmsgid: batch_clientmsgid(&read[0].id, 0),
        openids: vec![],
    })]
    .into_iter();
    store
        .plan(&read[0], &Files::default(), &mut one)
        .await
        .expect("a part planned");
    let of_parts = store.batches_of_parts("whole").await.expect("batches");
    assert_eq!(of_parts.len(), 1);
    assert_eq!(of_parts[0].0, read[0].id);
    assert!(store.batches("whole").await.expect("none").is_empty());
    let due = store
        .campaigns_of(Which::Due(1_700_000_003))
        .await
        .expect("due");
    assert_eq!(due.len(), 3, "the whole and its two parts");
    store
        .set_account_tags("wxB", &["east".into(), "华东".into()])
        .await
        .expect("tags");
    store
        .set_account_tags("wxA", &["west".into()])
        .await
        .expect("tags");
    store
        .set_account_tags("wxA", &["east".into()])
        .await
        .expect("replaced");
    assert_eq!(
        store.account_tags().await.expect("tags"),
        [("wxA", "east"), ("wxB", "east"), ("wxB", "华东")]
            .map(|(a, t)| (a.to_owned(), t.to_owned()))
    );
}

#[tokio::test]
async fn across_accounts_on_both_backends() {
    both(across_accounts).await;
}
