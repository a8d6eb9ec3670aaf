//! The datacube handler against the emulator: limits refused before any
//! request (the emulator's call counts say none was made), 61503 before
//! 08:00 and figures after, a 30-day range walked in allowed spans, and
//! figures that add up across endpoints and repeat at the same seed.

mod common;

use std::time::Duration;

use common::*;
use wxmass_api::api::datacube::{self, Date, DateRange, Endpoint, UserSource};
use wxmass_api::{Client, Error};
use wxmass_emulator::EmulatorConfig;

/// An emulator of 1,000 followers at `seed`.
async fn emulator_at(seed: u64) -> Emu {
    emulator(EmulatorConfig {
        followers: 1_000,
        job_delay: Duration::from_millis(20),
        seed,
        ..EmulatorConfig::default()
    })
    .await
}

/// Sends two articles ("One", "Two") to every follower; the msg_data_id.
async fn send_two_articles(client: &Client) -> i64 {
    send_articles(client, &["One", "Two"]).await.1
}

impl Emu {
    /// The emulator's Beijing day now.
    async fn today(&self) -> Date {
        let now = self.admin_get("/_emulator/clock").await["now"]
            .as_i64()
            .expect("now");
        Date::of_unix(now)
    }

    /// Moves the emulator's clock to `hour`:00 Beijing time of `day`.
    async fn move_to(&self, day: Date, hour: i64) {
        let now = self.admin_get("/_emulator/clock").await["now"]
            .as_i64()
            .expect("now");
        self.advance(day.unix_at(hour) - now).await;
    }

    async fn calls_to(&self, endpoint: Endpoint) -> u64 {
        self.stats().await["calls"][endpoint.path()]
            .as_u64()
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn limits_are_refused_before_any_request() {
    let emu = emulator_at(1).await;
    let client = emu.client();
    let today = emu.today().await;
    let dc = client.datacube().as_of(today);
    let yesterday = today.plus(-1);
    let four_days = DateRange::new(yesterday.plus(-3), yesterday).expect("range");
    let err = dc.user_read(four_days).await.expect_err("3 days at most");
    assert!(matches!(err, Error::Invalid(_)), "{err}");
    assert!(err.to_string().contains("at most 3 day"), "{err}");
    let err = dc
        .user_summary(DateRange::day(today))
        .await
        .expect_err("today is not over");
    assert!(err.to_string().contains("up to yesterday"), "{err}");
    let early = DateRange::day(Date::parse("2014-11-30").expect("day"));
    assert!(dc.user_cumulate(early).await.is_err());
    for endpoint in [
        Endpoint::UserRead,
        Endpoint::UserSummary,
        Endpoint::UserCumulate,
    ] {
        assert_eq!(emu.calls_to(endpoint).await, 0, "{endpoint:?} was asked");
    }
    // The emulator refuses the same on its own (for other clients).
    let raw = reqwest::Client::new();
    let token = client.access_token().await.expect("token");
    let answer: serde_json::Value = raw
        .post(format!("{}/datacube/getuserread?access_token={}", emu.url(), token.expose()))
        .json(&serde_json::json!({"begin_date": four_days.begin.to_string(), "end_date": four_days.end.to_string()}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(answer["errcode"], 61501, "{answer}");
}

#[tokio::test]
async fn figures_come_after_eight_and_not_before() {
    let emu = emulator_at(1).await;
    let client = emu.client();
    let data_id = send_two_articles(&client).await;
    let sent = emu.today().await;
    let next = sent.plus(1);
    emu.move_to(next, 7).await;
    // A day on, the token has expired in WeChat's time: a new one first,
    // so that the counts below are the datacube calls alone.
    client.refresh_token().await.expect("token");
    let dc = client.datacube().as_of(next);
    match dc.article_summary(sent).await {
        Err(Error::NotReady { retry_at, .. }) => assert_eq!(retry_at, next.unix_at(8)),
        other => panic!("61503 expected before 08:00: {other:?}"),
    }
    let asked = emu.calls_to(Endpoint::ArticleSummary).await;
    assert_eq!(asked, 1, "the 61503 came from WeChat");
    emu.move_to(next, 8).await;
    let rows = dc.article_summary(sent).await.expect("after 08:00");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        (rows[0].msgid.msg_data_id, rows[0].msgid.index.get()),
        (data_id, 1)
    );
    assert_eq!(
        (rows[0].title.as_str(), rows[1].title.as_str()),
        ("One", "Two")
    );
    assert!(rows[0].figures.readers > 100, "{rows:?}");
    assert!(
        rows[1].figures.readers < rows[0].figures.readers,
        "the second article is read less"
    );
}

#[tokio::test]
async fn a_month_is_walked_in_allowed_spans_and_adds_up() {
    let emu = emulator_at(7).await;
    let client = emu.client();
    send_two_articles(&client).await;
    let sent = emu.today().await;
    let today = sent.plus(20);
    emu.move_to(today, 9).await;
    client.refresh_token().await.expect("token");
    let dc = client.datacube().as_of(today);
    let month = DateRange::new(today.plus(-30), today.plus(-1)).expect("range");
    let reads = datacube::walk(month, Endpoint::UserRead.max_span(), |part| {
        dc.user_read(part)
    })
    .await
    .expect("walked");
    assert_eq!(
        emu.calls_to(Endpoint::UserRead).await,
        10,
        "30 days, 3 a call"
    );
    let read_days: Vec<Date> = reads
        .iter()
        .filter(|r| r.user_source == UserSource::All)
        .map(|r| r.ref_date)
        .collect();
    assert_eq!(read_days.first(), Some(&sent), "nothing before the send");
    assert_eq!(read_days.len(), 7, "a week of reads after it");
    let readers: u64 = reads
        .iter()
        .filter(|r| r.user_source == UserSource::All)
        .map(|r| r.figures.readers)
        .sum();
    // The same readers, counted by getarticletotal's last cumulative day.
    let totals = dc.article_total(sent).await.expect("total");
    let cumulative: u64 = totals
        .iter()
        .map(|a| a.details.last().expect("days").figures.readers)
        .sum();
    assert_eq!(readers, cumulative);
    assert!(readers > 200, "{readers}");
    let by_source: u64 = reads
        .iter()
        .filter(|r| r.user_source != UserSource::All)
        .map(|r| r.figures.readers)
        .sum();
    assert!(
        by_source <= readers && by_source > readers * 9 / 10,
        "{by_source} of {readers}"
    );
    let growth = datacube::walk(month, Endpoint::UserCumulate.max_span(), |part| {
        dc.user_cumulate(part)
    })
    .await
    .expect("followers");
    assert_eq!(growth.len(), 30);
    assert_eq!(
        emu.calls_to(Endpoint::UserCumulate).await,
        5,
        "30 days, 7 a call"
    );

    // The same seed, the same actions: the same figures.
    let again = emulator_at(7).await;
    let again_client = again.client();
    send_two_articles(&again_client).await;
    again.move_to(today, 9).await;
    let totals_again = again_client
        .datacube()
        .as_of(today)
        .article_total(sent)
        .await
        .expect("total");
    let figures = |t: &[datacube::ArticleTotal]| -> Vec<u64> {
        t.iter()
            .flat_map(|a| a.details.iter().map(|d| d.figures.readers))
            .collect()
    };
    assert_eq!(figures(&totals), figures(&totals_again));
}
