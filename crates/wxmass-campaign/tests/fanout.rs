//! Fan-out campaigns against the emulator: each follower reached once by
//! template message, whatever answers are lost and whoever is cut off
//! mid-send within WeChat's 10 minutes; `unknown` (and never sent again)
//! where a repeat cannot be told apart; the customer-service window and
//! the next channel; a refused message stops the campaign.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wxmass_api::Client;
use wxmass_campaign::audience::spool_followers;
use wxmass_campaign::fanout::{self, Fanned, FanoutOptions, Unobserved};
use wxmass_campaign::notices::{
    Channel, Learnt, ReachEvent, RecipientState, Records, TemplateNotice, WindowKind,
};
use wxmass_campaign::store::{self, Store};
use wxmass_campaign::{Audience, Campaign, Content, OpenIdList, beijing, plan};
use wxmass_emulator::config::EmulatorConfig;
use wxmass_emulator::http::{Faults, PathFault};

const TEMPLATE_SEND: &str = "/cgi-bin/message/template/send";
const CUSTOM_SEND: &str = "/cgi-bin/message/custom/send";

struct Setup {
    followers: u32,
    emulator: wxmass_emulator::RunningEmulator,
    client: Client,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// An emulated account with `followers`, a client, a SQLite store.
async fn setup(followers: u32) -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let config = EmulatorConfig {
        followers,
        ..EmulatorConfig::default()
    };
    let (appid, secret) = (config.appid.clone(), config.secret.clone());
    let emulator = wxmass_emulator::start(config, listener).expect("emulator");
    let client = Client::builder(appid, secret)
        .base_url(emulator.base_url())
        .build()
        .expect("client");
    let dir = tempfile::tempdir().expect("dir");
    let store = store::open_sqlite(&dir.path().join("j.db")).expect("store");
    Setup {
        followers,
        emulator,
        client,
        store,
        _dir: dir,
    }
}

/// The account's template for the library's order-shipped notice.
async fn template(client: &Client) -> TemplateNotice {
    client
        .templates()
        .set_industry(1, 2)
        .await
        .expect("industry");
    let id = client
        .templates()
        .add("47123", &["商品名称", "快递公司", "快递单号", "发货时间"])
        .await
        .expect("template");
    let t = client
        .templates()
        .list()
        .await
        .expect("list")
        .into_iter()
        .find(|t| t.template_id == id)
        .expect("listed");
    let values = ["钢笔", "顺丰速运", "SF1234567890", "2026-12-06 10:00"];
    TemplateNotice {
        template_id: id,
        data: t
            .keys()
            .into_iter()
            .zip(values.iter().map(|v| (*v).to_owned()))
            .collect(),
        url: None,
        miniprogram: None,
    }
}

/// Plans `content` to every follower as campaign `id`.
async fn plan_to_all(s: &Setup, id: &str, content: Content) -> Campaign {
    let spool = spool_followers(&s.client, None, None)
        .await
        .expect("followers");
    let list = OpenIdList::read(spool.path()).expect("list");
    let campaign = Campaign::sent_now(
        id.into(),
        s.client.appid().into(),
        content,
        Audience::All,
        list.distinct(),
        beijing::now(),
    );
    plan::commit_notice(&*s.store, &campaign, &list)
        .await
        .expect("planned");
    campaign
}

fn template_content(t: TemplateNotice) -> Content {
    Content::Notice {
        via: vec![Channel::Template],
        template: Some(t),
        subscription: None,
        custom_text: None,
    }
}

/// Each follower's count of messages on `channel` (`template`, `custom`).
fn received(s: &Setup, channel: &str) -> BTreeMap<String, u32> {
    let account = s.emulator.emulator.account();
    (0..s.followers)
        .filter_map(|i| {
            let n = account.received(i).get(channel).copied().unwrap_or(0);
            (n > 0).then(|| (account.openid_of(i), n))
        })
        .collect()
}

/// `openid` wrote to the account: their customer-service window opens.
fn open_window(s: &Setup, openid: &str) {
    let e = &s.emulator.emulator;
    let follower = e.account().index_of(openid).expect("follower");
    let now = e.clock.now_ms();
    e.windows().open(
        follower,
        wxmass_emulator::api::custom::Interaction::Message,
        now,
    );
}

/// Each recipient's state.
async fn states(s: &Setup, campaign: &str) -> BTreeMap<String, RecipientState> {
    let mut out = BTreeMap::new();
    fanout::each_recipient(&*s.store, campaign, |openid, r| {
        out.insert(openid.to_owned(), r.state);
    })
    .await
    .expect("recipients");
    out
}

async fn run(s: &Setup, campaign: &Campaign, worker: &str) -> Fanned {
    fanout::work(
        &*s.store,
        &s.client,
        campaign,
        &FanoutOptions::new(worker),
        &Unobserved,
        std::future::pending(),
    )
    .await
    .expect("sent")
}

fn drop_answers(s: &Setup, path: &str, rate: f64) {
    let mut faults = Faults::default();
    faults.paths.insert(
        path.into(),
        PathFault {
            drop_rate: rate,
            ..PathFault::default()
        },
    );
    s.emulator.emulator.set_faults(faults);
}

#[tokio::test]
async fn every_follower_gets_the_template_once_though_answers_are_lost() {
    let s = setup(1500).await;
    let t = template(&s.client).await;
    let campaign = plan_to_all(&s, "n-1", template_content(t)).await;
    // WeChat acts, then a fifth of its answers never arrive: each is sent
    // again with its client_msg_id, which WeChat sends to nobody.
    drop_answers(&s, TEMPLATE_SEND, 0.2);
    assert_eq!(run(&s, &campaign, "w1").await, Fanned::Done);
    let got = received(&s, "template");
    assert_eq!(got.len(), 1500, "every follower got it");
    assert!(got.values().all(|&n| n == 1), "nobody got it twice");
    let tally = fanout::tally(&*s.store, "n-1").await.expect("tally");
    assert_eq!(tally.count(RecipientState::Sent), 1500);
    assert_eq!(tally.pending(), 0);
    let c = s.store.campaign("n-1").await.expect("read").expect("there");
    assert_eq!(c.state.as_str(), "finished");
    // A rerun sends nothing.
    s.emulator.emulator.set_faults(Faults::default());
    assert_eq!(run(&s, &campaign, "w1").await, Fanned::Done);
    assert_eq!(received(&s, "template").values().sum::<u32>(), 1500);
}

/// Writes `records` as a dead worker left them: its lease run out.
async fn cut_off(
    s: &Setup,
    campaign: &str,
    f: impl Fn(usize, &mut wxmass_campaign::notices::Record),
) {
    let chunk = s
        .store
        .claim_chunk(campaign, "dead", Duration::ZERO, beijing::now() - 60)
        .await
        .expect("claim")
        .expect("a chunk");
    let mut records = Records::decode(&chunk.records).expect("records");
    for (i, r) in records.0.iter_mut().enumerate() {
        f(i, r);
    }
    let written = s
        .store
        .write_records(
            campaign,
            chunk.index,
            "dead",
            &records.encode(),
            &records.counts(),
            Duration::ZERO,
            beijing::now() - 60,
        )
        .await
        .expect("write");
    assert!(written);
}

#[tokio::test]
async fn cut_off_templates_are_resent_with_their_key_only_within_ten_minutes() {
    let s = setup(40).await;
    let t = template(&s.client).await;
    let campaign = plan_to_all(&s, "n-2", template_content(t.clone())).await;
    let openids: Vec<String> = states(&s, "n-2").await.into_keys().collect();
    let now = beijing::now();
    // A worker died mid-send: recipients 0..20 were `sending` (the first
    // ten reached WeChat, the next ten did not), 0..10 of them 11 minutes
    // ago, 10..20 a minute ago.
    for openid in &openids[..10] {
        let message = wxmass_api::TemplateMessage {
            touser: openid.clone(),
            template_id: t.template_id.clone(),
            client_msg_id: Some(wxmass_campaign::notices::notice_client_msg_id(
                "n-2", openid,
            )),
            data: t.data.clone().into_iter().collect(),
            ..wxmass_api::TemplateMessage::default()
        };
        s.client
            .templates()
            .send(&message)
            .await
            .expect("sent before the crash");
    }
    let order: Vec<String> = {
        let mut order = Vec::new();
        fanout::each_recipient(&*s.store, "n-2", |o, _| order.push(o.to_owned()))
            .await
            .expect("order");
        order
    };
    let position = |o: &str| order.iter().position(|x| x == o).expect("listed");
    let early: Vec<usize> = openids[..5].iter().map(|o| position(o)).collect();
    let recent: Vec<usize> = openids[5..20].iter().map(|o| position(o)).collect();
    cut_off(&s, "n-2", |i, r| {
        let at = if early.contains(&i) {
            now - 11 * 60
        } else if recent.contains(&i) {
            now - 60
        } else {
            return;
        };
        r.state = RecipientState::Sending;
        r.channel = Some(Channel::Template);
        r.first_at = at as u32;
    })
    .await;
    assert_eq!(run(&s, &campaign, "w2").await, Fanned::Done);
    let got = received(&s, "template");
    let st = states(&s, "n-2").await;
    for openid in &openids {
        let n = got.get(openid).copied().unwrap_or(0);
        assert!(n <= 1, "{openid} got it {n} times");
    }
    // The early five reached WeChat before the crash but are past the
    // key's 10 minutes: unknown, not sent again.
    for openid in &openids[..5] {
        assert_eq!(st[openid], RecipientState::Unknown);
        assert_eq!(got.get(openid), Some(&1));
    }
    // The recent ones were sent again with their key: once each.
    for openid in &openids[5..] {
        assert_eq!(st[openid], RecipientState::Sent, "{openid}");
        assert_eq!(got.get(openid), Some(&1), "{openid}");
    }
    // `unknown` stays until an operator asks: then each is sent again.
    assert_eq!(run(&s, &campaign, "w2").await, Fanned::Done);
    assert_eq!(received(&s, "template").values().sum::<u32>(), 40);
    assert_eq!(
        fanout::resend_unknown(&*s.store, "n-2", beijing::now())
            .await
            .expect("resend"),
        5
    );
    assert_eq!(run(&s, &campaign, "w2").await, Fanned::Done);
    let tally = fanout::tally(&*s.store, "n-2").await.expect("tally");
    assert_eq!(tally.count(RecipientState::Sent), 40);
}

#[tokio::test]
async fn customer_service_goes_to_open_windows_and_the_rest_by_template() {
    let s = setup(30).await;
    let t = template(&s.client).await;
    let openids: Vec<String> = {
        let account = s.emulator.emulator.account();
        (0..30).map(|i| account.openid_of(i)).collect()
    };
    // Ten followers wrote lately: their window is open, and the receiver
    // recorded it.
    let now = beijing::now();
    let mut learnt = Vec::new();
    for openid in &openids[..10] {
        open_window(&s, openid);
        learnt.push(Learnt {
            openid: openid.clone(),
            at: now,
            event: ReachEvent::WindowOpened(WindowKind::Message),
        });
    }
    s.store
        .record_reach(s.client.appid(), &learnt)
        .await
        .expect("reach recorded");
    let content = Content::Notice {
        via: Channel::AUTO.to_vec(),
        template: Some(t),
        subscription: None,
        custom_text: Some("您的订单已发货".into()),
    };
    let campaign = plan_to_all(&s, "n-3", content).await;
    assert_eq!(run(&s, &campaign, "w3").await, Fanned::Done);
    let custom = received(&s, "custom");
    let template = received(&s, "template");
    for openid in &openids[..10] {
        assert_eq!(custom.get(openid), Some(&1), "{openid} by customer service");
        assert!(!template.contains_key(openid), "{openid} got both");
    }
    for openid in &openids[10..] {
        assert_eq!(template.get(openid), Some(&1), "{openid} by template");
        assert!(!custom.contains_key(openid));
    }
    let tally = fanout::tally(&*s.store, "n-3").await.expect("tally");
    assert_eq!(
        tally.sent_by_channel.get(&Channel::CustomerService),
        Some(&10)
    );
    assert_eq!(tally.sent_by_channel.get(&Channel::Template), Some(&20));
    // Customer service was tried only where the window is known open: no
    // call spent on a closed one.
    assert_eq!(s.emulator.emulator.calls().get(CUSTOM_SEND), Some(&10));
}

#[tokio::test]
async fn a_closed_window_is_learnt_from_wechats_refusal_and_not_tried_again() {
    let s = setup(8).await;
    let t = template(&s.client).await;
    let custom_only = Content::Notice {
        via: vec![Channel::CustomerService],
        template: None,
        subscription: None,
        custom_text: Some("您的订单已发货".into()),
    };
    // Nothing is known of their windows: customer service alone is tried,
    // and WeChat refuses every one (45015).
    let first = plan_to_all(&s, "n-7", custom_only).await;
    assert_eq!(run(&s, &first, "w7").await, Fanned::Done);
    let tally = fanout::tally(&*s.store, "n-7").await.expect("tally");
    assert_eq!(tally.failed_by_errcode.get(&45015), Some(&8));
    assert_eq!(s.emulator.emulator.calls().get(CUSTOM_SEND), Some(&8));
    // The next notice by customer service, then template, goes straight to
    // the template: the windows are known closed.
    let auto = Content::Notice {
        via: Channel::AUTO.to_vec(),
        template: Some(t),
        subscription: None,
        custom_text: Some("您的订单已发货".into()),
    };
    let second = plan_to_all(&s, "n-8", auto).await;
    assert_eq!(run(&s, &second, "w8").await, Fanned::Done);
    assert_eq!(
        s.emulator.emulator.calls().get(CUSTOM_SEND),
        Some(&8),
        "no call to a closed window"
    );
    let tally = fanout::tally(&*s.store, "n-8").await.expect("tally");
    assert_eq!(tally.sent_by_channel.get(&Channel::Template), Some(&8));
}

#[tokio::test]
async fn a_lost_customer_service_answer_is_unknown_and_never_sent_again() {
    let s = setup(200).await;
    let openids: Vec<String> = {
        let account = s.emulator.emulator.account();
        (0..200).map(|i| account.openid_of(i)).collect()
    };
    for openid in &openids {
        open_window(&s, openid);
    }
    let content = Content::Notice {
        via: vec![Channel::CustomerService],
        template: None,
        subscription: None,
        custom_text: Some("您的订单已发货".into()),
    };
    let campaign = plan_to_all(&s, "n-4", content).await;
    drop_answers(&s, CUSTOM_SEND, 0.1);
    assert_eq!(run(&s, &campaign, "w4").await, Fanned::Done);
    let got = received(&s, "custom");
    let st = states(&s, "n-4").await;
    assert!(got.values().all(|&n| n == 1), "nobody got it twice");
    let unknown = st
        .values()
        .filter(|s| **s == RecipientState::Unknown)
        .count();
    assert!(unknown > 0, "some answers were lost");
    for openid in &openids {
        match st[openid] {
            RecipientState::Sent => assert_eq!(got.get(openid), Some(&1)),
            // WeChat acted before the answer was lost: it arrived, but
            // nothing here can know.
            RecipientState::Unknown => {}
            other => panic!("{openid} is {other:?}"),
        }
    }
    // Every follower missing is reported unknown.
    for openid in openids.iter().filter(|o| !got.contains_key(*o)) {
        assert_eq!(st[openid], RecipientState::Unknown);
    }
}

#[tokio::test]
async fn a_template_not_the_accounts_stops_the_campaign_before_more_calls() {
    let s = setup(500).await;
    let mut t = template(&s.client).await;
    t.template_id = "not-this-accounts-template".into();
    let campaign = plan_to_all(&s, "n-5", template_content(t)).await;
    let error = fanout::work(
        &*s.store,
        &s.client,
        &campaign,
        &FanoutOptions::new("w5"),
        &Unobserved,
        std::future::pending(),
    )
    .await
    .expect_err("refused");
    assert!(
        matches!(&error, wxmass_campaign::Error::Refused { channel: "template", source }
            if source.errcode().map(|c| c.code()) == Some(40037)),
        "{error:?}"
    );
    let calls = s
        .emulator
        .emulator
        .calls()
        .get(TEMPLATE_SEND)
        .copied()
        .unwrap_or(0);
    assert!(calls <= 256, "one window at most was spent: {calls}");
    let tally = fanout::tally(&*s.store, "n-5").await.expect("tally");
    assert_eq!(
        tally.count(RecipientState::Planned),
        500,
        "nobody is marked"
    );
}

/// What the receiver would record from the emulator's reports so far.
fn reports_so_far(s: &Setup) -> Vec<wxmass_campaign::notices::NoticeReport> {
    s.emulator
        .emulator
        .templates()
        .messages()
        .iter()
        .map(|m| wxmass_campaign::notices::NoticeReport {
            openid: m.openid.clone(),
            msg_id: m.msg_id,
            created_at: m.finishes_at_ms / 1000,
            reported: wxmass_campaign::notices::Reported::of_status(m.status),
        })
        .collect()
}

#[tokio::test]
async fn reports_turn_sent_into_delivered_or_failed_and_settle_the_unknown() {
    use wxmass_campaign::notices::Reported;
    let s = setup(30).await;
    let t = template(&s.client).await;
    let openids: Vec<String> = {
        let account = s.emulator.emulator.account();
        (0..30).map(|i| account.openid_of(i)).collect()
    };
    // Two followers refuse the account's messages: WeChat takes the
    // message and reports `failed:user block`.
    s.emulator
        .emulator
        .templates()
        .blocked
        .extend(openids[..2].iter().cloned());
    let campaign = plan_to_all(&s, "n-6", template_content(t.clone())).await;
    // A recipient whose request reached WeChat but whose worker died is
    // unknown once its 10 minutes have passed...
    let victim = openids[29].clone();
    let message = wxmass_api::TemplateMessage {
        touser: victim.clone(),
        template_id: t.template_id.clone(),
        client_msg_id: Some(wxmass_campaign::notices::notice_client_msg_id(
            "n-6", &victim,
        )),
        data: t.data.clone().into_iter().collect(),
        ..wxmass_api::TemplateMessage::default()
    };
    s.client
        .templates()
        .send(&message)
        .await
        .expect("sent before the crash");
    let mut order = Vec::new();
    fanout::each_recipient(&*s.store, "n-6", |o, _| order.push(o.to_owned()))
        .await
        .expect("order");
    let at = order.iter().position(|o| *o == victim).expect("listed");
    let long_ago = beijing::now() - 11 * 60;
    cut_off(&s, "n-6", |i, r| {
        if i == at {
            r.state = RecipientState::Sending;
            r.channel = Some(Channel::Template);
            r.first_at = long_ago as u32;
        }
    })
    .await;
    assert_eq!(run(&s, &campaign, "w6").await, Fanned::Done);
    assert_eq!(states(&s, "n-6").await[&victim], RecipientState::Unknown);
    // ...until its report comes: it did arrive.
    s.store
        .record_notice_reports(s.client.appid(), &reports_so_far(&s), beijing::now())
        .await
        .expect("reports kept");
    let joined = fanout::join_reports(&*s.store, &campaign)
        .await
        .expect("joined");
    assert_eq!(joined.delivered, 28);
    assert_eq!(joined.failed, 2);
    assert_eq!(joined.were_unknown, 1);
    let st = states(&s, "n-6").await;
    assert_eq!(st[&victim], RecipientState::Sent);
    assert_eq!(st[&openids[0]], RecipientState::Failed);
    let tally = fanout::tally(&*s.store, "n-6").await.expect("tally");
    assert_eq!(tally.reported.get(&Reported::Delivered), Some(&28));
    assert_eq!(tally.reported.get(&Reported::UserBlock), Some(&2));
    assert_eq!(tally.count(RecipientState::Unknown), 0);
    let counts = s.store.recipient_counts("n-6").await.expect("counts");
    assert_eq!(counts.delivered, 28);
    assert_eq!(counts.of(RecipientState::Failed), 2);
    // Joined reports are forgotten; joining again changes nothing.
    assert_eq!(
        fanout::join_reports(&*s.store, &campaign)
            .await
            .expect("again"),
        fanout::Joined::default()
    );
    assert!(
        s.store
            .notice_reports(s.client.appid(), &openids)
            .await
            .expect("left")
            .is_empty()
    );
}

/// A one-time subscription notice of the emulator's library, added to the
/// account.
async fn subscription(client: &Client) -> wxmass_campaign::notices::SubscriptionNotice {
    let id = client
        .subscribe()
        .add(1001, &[1, 2, 3], "缴费提醒")
        .await
        .expect("notice template");
    let t = client
        .subscribe()
        .templates()
        .await
        .expect("templates")
        .into_iter()
        .find(|t| t.pri_tmpl_id == id)
        .expect("listed");
    let values = ["物业费", "120.00元", "2026-12-06 10:00"];
    wxmass_campaign::notices::SubscriptionNotice {
        template_id: id,
        data: t
            .keys()
            .into_iter()
            .zip(values.iter().map(|v| (*v).to_owned()))
            .collect(),
        page: None,
        miniprogram: None,
    }
}

#[tokio::test]
async fn a_withheld_consent_goes_to_the_next_channel_without_a_call() {
    const BIZSEND: &str = "/cgi-bin/message/subscribe/bizsend";
    let s = setup(10).await;
    let t = template(&s.client).await;
    let n = subscription(&s.client).await;
    let openids: Vec<String> = {
        let account = s.emulator.emulator.account();
        (0..10).map(|i| account.openid_of(i)).collect()
    };
    // 0-4 consented (at WeChat); 5-7 said no in a pop-up (the receiver
    // kept it); of 8 and 9 nothing is known, and they never consented.
    {
        let original_id = s.emulator.emulator.config.original_id();
        let now = beijing::now();
        let mut subscriptions = s.emulator.emulator.subscriptions();
        for openid in &openids[..5] {
            subscriptions.consent(openid, &n.template_id, None, &original_id, now);
        }
    }
    let withheld: Vec<Learnt> = openids[5..8]
        .iter()
        .map(|openid| Learnt {
            openid: openid.clone(),
            at: beijing::now(),
            event: ReachEvent::Consent {
                template_id: n.template_id.clone(),
                granted: false,
            },
        })
        .collect();
    s.store
        .record_reach(s.client.appid(), &withheld)
        .await
        .expect("consents kept");
    let content = Content::Notice {
        via: vec![Channel::Subscription, Channel::Template],
        template: Some(t),
        subscription: Some(n.clone()),
        custom_text: None,
    };
    let first = plan_to_all(&s, "n-9", content.clone()).await;
    assert_eq!(run(&s, &first, "w9").await, Fanned::Done);
    let notices = received(&s, "subscribe");
    let templates = received(&s, "template");
    for (i, openid) in openids.iter().enumerate() {
        let (by_notice, by_template) = (notices.get(openid), templates.get(openid));
        match i {
            0..5 => assert_eq!((by_notice, by_template), (Some(&1), None), "{i}"),
            _ => assert_eq!((by_notice, by_template), (None, Some(&1)), "{i}"),
        }
    }
    // No call for those known to have said no; WeChat's 43101 taught the
    // same of 8 and 9.
    assert_eq!(s.emulator.emulator.calls().get(BIZSEND), Some(&7));
    let known = s
        .store
        .consents(s.client.appid(), &n.template_id, &openids)
        .await
        .expect("consents");
    for openid in &openids[5..] {
        assert_eq!(known.get(openid), Some(&false), "{openid}");
    }
    // The next notice skips all five without a call; 0-4 spent their
    // one-time consents, and WeChat refuses them.
    let second = plan_to_all(&s, "n-10", content).await;
    assert_eq!(run(&s, &second, "w10").await, Fanned::Done);
    assert_eq!(s.emulator.emulator.calls().get(BIZSEND), Some(&12));
    let tally = fanout::tally(&*s.store, "n-10").await.expect("tally");
    assert_eq!(tally.sent_by_channel.get(&Channel::Template), Some(&10));
}
