//! Datacube (数据统计, wechat-analytics.md §1): what followers did with the
//! articles of delivered jobs, as WeChat reports it a day later.
//!
//! The rules are WeChat's: dates are `YYYY-MM-DD` (else 61500); the end
//! date is at most yesterday, Beijing time, and a range is at most the
//! endpoint's span (else 61501); a day's figures exist from 08:00 Beijing
//! time of the next day (61503 before). Daily summary rows whose reads,
//! shares and favourites add up to under 3 are left out.
//!
//! The figures come from a deterministic model, so that a test or a demo
//! run again at the same `--seed` reads the same numbers: each article of
//! an mpnews job is read by a share of the followers it was delivered to
//! (less for later articles), over the seven days from its send, most on
//! the first and decaying after; split by where the reader came from
//! (conversation, Moments, friends, history, 看一看, 搜一搜); with shares
//! and favourites a fraction of the readers. Followers WeChat filtered out
//! received nothing, so read nothing: the model starts from `sent_count`.
//!
//! The date arithmetic here is written apart from the client's on purpose:
//! the emulator checks the client, and must not share its mistakes.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, str_field};
use crate::clock::{Clock, civil_from_days, days_from_civil};
use crate::error::{WxError, WxResult};
use crate::state::{Job, JobStatus};

/// The first day WeChat has data for: 2014-12-01.
const FIRST_DAY: i64 = 16_405;

/// Days of reads after a send, and each day's share of them (percent).
const DECAY: [u64; 7] = [50, 20, 12, 8, 5, 3, 2];

/// Where readers come from (`user_source`) and each one's share (percent):
/// 0 conversation, 2 Moments, 1 friends, 4 history page, 6 看一看, 7 搜一搜.
const SOURCES: [(i64, u64); 6] = [(0, 60), (2, 20), (1, 8), (4, 6), (6, 3), (7, 3)];

/// `user_source` of the all-sources rows.
const ALL_SOURCES: i64 = 99_999_999;

/// Share scenes and their shares (percent): 1 friends, 2 Moments, 255 other.
const SCENES: [(i64, u64); 3] = [(1, 70), (2, 25), (255, 5)];

/// Each hour's share of a day's reads and shares (percent): (`ref_hour`
/// as WeChat writes it, 1300 for 13:00 to 14:00; share).
const HOURS: [(i64, u64); 24] = [
    (0, 1),
    (100, 1),
    (200, 0),
    (300, 0),
    (400, 0),
    (500, 1),
    (600, 2),
    (700, 4),
    (800, 7),
    (900, 8),
    (1000, 6),
    (1100, 5),
    (1200, 7),
    (1300, 5),
    (1400, 4),
    (1500, 4),
    (1600, 4),
    (1700, 5),
    (1800, 6),
    (1900, 7),
    (2000, 8),
    (2100, 7),
    (2200, 5),
    (2300, 3),
];

/// A day number (days since 1970-01-01) from `YYYY-MM-DD`, strictly.
pub fn parse_date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// `YYYY-MM-DD` of a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The days a call asks about, checked against WeChat's rules for an
/// endpoint whose range is at most `span` days.
fn range(emulator: &Emulator, call: &Call, span: i64) -> WxResult<(i64, i64)> {
    let body = call.json()?;
    let begin = parse_date(str_field(&body, "begin_date", 61500)?);
    let end = parse_date(str_field(&body, "end_date", 61500)?);
    let (Some(begin), Some(end)) = (begin, end) else {
        return Err(WxError::new(61500));
    };
    let now = emulator.clock.now();
    let today = Clock::day_of(now);
    if end < begin || end - begin + 1 > span || end >= today || begin < FIRST_DAY {
        return Err(WxError::new(61501));
    }
    // Yesterday's figures are ready at 08:00 today, Beijing time.
    let seconds_into_today = (now + 8 * 3600).rem_euclid(86_400);
    if end == today - 1 && seconds_into_today < 8 * 3600 {
        return Err(WxError::new(61503));
    }
    Ok((begin, end))
}

/// 64 well-mixed bits of `parts` and the seed (splitmix64 over FNV-1a).
fn mix(seed: u64, parts: &[i64]) -> u64 {
    let mut h = crate::ids::fnv1a(&seed.to_le_bytes());
    for p in parts {
        h ^= *p as u64;
        h = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
        h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        h ^= h >> 31;
    }
    h
}

/// Splits `total` by `shares` (percent, adding up to 100): each its part
/// rounded down, what rounding left one each to the largest shares.
fn split<const N: usize>(total: u64, shares: &[(i64, u64); N]) -> [(i64, u64); N] {
    let mut out = shares.map(|(key, pct)| (key, total * pct / 100));
    let given: u64 = out.iter().map(|(_, n)| n).sum();
    let mut largest: Vec<usize> = (0..N).collect();
    largest.sort_by_key(|&i| std::cmp::Reverse(shares[i].1));
    for &i in largest.iter().cycle().take((total - given) as usize) {
        out[i].1 += 1;
    }
    out
}

/// One article's figures for one day.
#[derive(Debug, Clone, Copy, Default)]
struct Day {
    readers: u64,
    reads: u64,
    original_readers: u64,
    original_reads: u64,
    sharers: u64,
    shares: u64,
    favouriters: u64,
    favourites: u64,
}

impl Day {
    fn add(&mut self, o: &Day) {
        self.readers += o.readers;
        self.reads += o.reads;
        self.original_readers += o.original_readers;
        self.original_reads += o.original_reads;
        self.sharers += o.sharers;
        self.shares += o.shares;
        self.favouriters += o.favouriters;
        self.favourites += o.favourites;
    }

    /// What the daily summaries weigh against their threshold of 3.
    fn weight(&self) -> u64 {
        self.reads + self.shares + self.favourites
    }

    fn only(&self, readers: u64) -> Day {
        // A source's or an hour's part: the same proportions as the whole.
        let part = |n: u64| {
            n.checked_mul(readers)
                .map_or(0, |x| x / self.readers.max(1))
        };
        Day {
            readers,
            reads: part(self.reads),
            original_readers: part(self.original_readers),
            original_reads: part(self.original_reads),
            sharers: part(self.sharers),
            shares: part(self.shares),
            favouriters: part(self.favouriters),
            favourites: part(self.favourites),
        }
    }

    fn read_fields(&self) -> Value {
        json!({
            "int_page_read_user": self.readers,
            "int_page_read_count": self.reads,
            "ori_page_read_user": self.original_readers,
            "ori_page_read_count": self.original_reads,
            "share_user": self.sharers,
            "share_count": self.shares,
            "add_to_fav_user": self.favouriters,
            "add_to_fav_count": self.favourites,
        })
    }
}

/// An article of a delivered job: its id, title and send day.
struct Sent {
    msg_data_id: i64,
    /// 1-based, as datacube numbers them.
    index: i64,
    title: String,
    url: String,
    day: i64,
    delivered: u64,
}

impl Sent {
    fn msgid(&self) -> String {
        format!("{}_{}", self.msg_data_id, self.index)
    }

    /// Its figures `k` days after the send day (0 on the day).
    fn on(&self, seed: u64, k: i64) -> Day {
        let Some(&pct) = usize::try_from(k).ok().and_then(|k| DECAY.get(k)) else {
            return Day::default();
        };
        // Over its life, 15 to 35 % of those who got it read the first
        // article, less the later ones.
        let jitter = mix(seed, &[self.msg_data_id, self.index]) % 21;
        let reach = (35 - 5 * (self.index - 1).min(5)) as u64 - 10 + jitter / 2;
        let readers = self.delivered * reach / 100 * pct / 100;
        let sharers = readers * 6 / 100;
        let favouriters = readers * 3 / 100;
        Day {
            readers,
            reads: readers + readers / 4,
            original_readers: readers / 20,
            original_reads: readers / 20 + readers / 80,
            sharers,
            shares: sharers + sharers / 5,
            favouriters,
            favourites: favouriters,
        }
    }
}

/// Every article of every delivered mpnews job.
fn sent_articles(emulator: &Emulator) -> Vec<Sent> {
    let account = emulator.account();
    let mut out = Vec::new();
    for job in account.jobs() {
        let Job {
            msg_data_id: Some(msg_data_id),
            status: JobStatus::SendSuccess,
            finished_at: Some(finished_at),
            ..
        } = job
        else {
            continue;
        };
        for (i, url) in job.article_urls.iter().enumerate() {
            out.push(Sent {
                msg_data_id: *msg_data_id,
                index: i as i64 + 1,
                title: job.article_titles.get(i).cloned().unwrap_or_default(),
                url: url.clone(),
                day: Clock::day_of(*finished_at),
                delivered: job.sent_count,
            });
        }
    }
    out
}

fn seed(emulator: &Emulator) -> u64 {
    emulator.config.seed
}

/// The sum over every article of each source's part of `day`.
fn by_source(emulator: &Emulator, day: i64) -> Vec<(i64, Day)> {
    let seed = seed(emulator);
    let mut all = Day::default();
    let mut sources: Vec<(i64, Day)> = SOURCES.iter().map(|(s, _)| (*s, Day::default())).collect();
    for a in sent_articles(emulator) {
        let whole = a.on(seed, day - a.day);
        all.add(&whole);
        for (i, (_, readers)) in split(whole.readers, &SOURCES).iter().enumerate() {
            sources[i].1.add(&whole.only(*readers));
        }
    }
    let mut rows = vec![(ALL_SOURCES, all)];
    rows.extend(sources);
    rows
}

/// `POST /datacube/getuserread` (3 days): reads by day and source.
pub fn user_read(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (begin, end) = range(emulator, call, 3)?;
    let mut list = Vec::new();
    for day in begin..=end {
        for (source, figures) in by_source(emulator, day) {
            if figures.weight() < 3 {
                continue;
            }
            let mut row = figures.read_fields();
            row["ref_date"] = json!(format_date(day));
            row["user_source"] = json!(source);
            list.push(row);
        }
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getuserreadhour` (1 day): reads by hour and source.
pub fn user_read_hour(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let mut list = Vec::new();
    for (source, figures) in by_source(emulator, day) {
        for (hour, readers) in split(figures.readers, &HOURS) {
            let part = figures.only(readers);
            if part.weight() < 1 {
                continue;
            }
            let mut row = part.read_fields();
            row["ref_date"] = json!(format_date(day));
            row["ref_hour"] = json!(hour);
            row["user_source"] = json!(source);
            list.push(row);
        }
    }
    Ok(json!({"list": list}))
}

/// Every article's figures on `day`.
fn all_on(emulator: &Emulator, day: i64) -> Day {
    let seed = seed(emulator);
    let mut all = Day::default();
    for a in sent_articles(emulator) {
        all.add(&a.on(seed, day - a.day));
    }
    all
}

/// `POST /datacube/getusershare` (7 days): shares by day and scene.
pub fn user_share(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (begin, end) = range(emulator, call, 7)?;
    let mut list = Vec::new();
    for day in begin..=end {
        let all = all_on(emulator, day);
        let users = split(all.sharers, &SCENES);
        for ((scene, count), (_, user)) in split(all.shares, &SCENES).iter().zip(users) {
            if *count == 0 {
                continue;
            }
            list.push(json!({"ref_date": format_date(day), "share_scene": scene,
                             "share_count": count, "share_user": user}));
        }
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getusersharehour` (1 day): shares by hour and scene.
pub fn user_share_hour(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let all = all_on(emulator, day);
    let mut list = Vec::new();
    let hourly_users = split(all.sharers, &HOURS);
    for ((hour, count), (_, user)) in split(all.shares, &HOURS).into_iter().zip(hourly_users) {
        let users = split(user, &SCENES);
        for ((scene, count), (_, user)) in split(count, &SCENES).iter().zip(users) {
            if *count == 0 {
                continue;
            }
            list.push(json!({"ref_date": format_date(day), "ref_hour": hour,
                             "share_scene": scene, "share_count": count, "share_user": user}));
        }
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getarticlesummary` (1 day): each article sent that
/// day, its figures of the day.
pub fn article_summary(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let seed = seed(emulator);
    let mut list = Vec::new();
    for a in sent_articles(emulator).into_iter().filter(|a| a.day == day) {
        let figures = a.on(seed, 0);
        if figures.weight() < 3 {
            continue;
        }
        let mut row = figures.read_fields();
        row["ref_date"] = json!(format_date(day));
        row["msgid"] = json!(a.msgid());
        row["title"] = json!(a.title);
        list.push(row);
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getarticletotal` (1 day, the send date): each article
/// sent that day with its cumulative figures for each day since, up to 7.
pub fn article_total(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let seed = seed(emulator);
    let yesterday = emulator.clock.day() - 1;
    let mut list = Vec::new();
    for a in sent_articles(emulator).into_iter().filter(|a| a.day == day) {
        let mut total = Day::default();
        let mut by_source = [0u64; SOURCES.len()];
        let mut details = Vec::new();
        for k in 0..DECAY.len() as i64 {
            if day + k > yesterday {
                break;
            }
            let figures = a.on(seed, k);
            total.add(&figures);
            for (i, (_, n)) in split(figures.readers, &SOURCES).iter().enumerate() {
                by_source[i] += n;
            }
            let mut detail = total.read_fields();
            detail["stat_date"] = json!(format_date(day + k));
            detail["target_user"] = json!(a.delivered);
            for (i, name) in [
                "session", "feed", "friends", "hist_msg", "kanyikan", "souyisou",
            ]
            .iter()
            .enumerate()
            {
                detail[format!("int_page_from_{name}_read_user")] = json!(by_source[i]);
                detail[format!("int_page_from_{name}_read_count")] =
                    json!(by_source[i] + by_source[i] / 4);
            }
            detail["int_page_from_other_read_user"] = json!(0);
            detail["int_page_from_other_read_count"] = json!(0);
            detail["feed_share_from_session_user"] = json!(total.sharers / 2);
            detail["feed_share_from_session_cnt"] = json!(total.shares / 2);
            details.push(detail);
        }
        list.push(
            json!({"ref_date": format_date(day), "msgid": a.msgid(), "title": a.title,
                         "url": a.url, "details": details}),
        );
    }
    Ok(json!({"list": list}))
}

/// Followers who came and went on `day` (a few a day, from the seed).
fn growth(emulator: &Emulator, day: i64) -> (u64, u64) {
    let h = mix(seed(emulator), &[day, 7]);
    (h % 12, (h >> 16) % 4)
}

/// `POST /datacube/getusersummary` (7 days): new and cancelled followers
/// by day and source (0 other, 1 search, 17 business card, 30 QR code).
pub fn user_summary(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (begin, end) = range(emulator, call, 7)?;
    let mut list = Vec::new();
    for day in begin..=end {
        let (new, cancelled) = growth(emulator, day);
        let by = [(30, new / 2), (1, new / 4), (17, new / 8)];
        let rest = new - by.iter().map(|(_, n)| n).sum::<u64>();
        list.push(json!({"ref_date": format_date(day), "user_source": 0,
                         "new_user": rest, "cancel_user": cancelled}));
        for (source, n) in by {
            if n > 0 {
                list.push(json!({"ref_date": format_date(day), "user_source": source,
                                 "new_user": n, "cancel_user": 0}));
            }
        }
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getusercumulate` (7 days): followers at the end of each
/// day (today's count, less the growth since).
pub fn user_cumulate(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (begin, end) = range(emulator, call, 7)?;
    let today = emulator.clock.day();
    let now = emulator.account().subscribed_count() as i64;
    let mut list = Vec::new();
    for day in begin..=end {
        let later: i64 = (day + 1..today)
            .map(|d| {
                let (new, cancelled) = growth(emulator, d);
                new as i64 - cancelled as i64
            })
            .sum();
        list.push(json!({"ref_date": format_date(day), "cumulate_user": (now - later).max(0)}));
    }
    Ok(json!({"list": list}))
}

/// `POST /datacube/getarticleread` (1 day; the span is not in the copies
/// of the doc read: unsure): each article's readers that day by source.
pub fn article_read(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let seed = seed(emulator);
    let mut list = Vec::new();
    for a in sent_articles(emulator) {
        let figures = a.on(seed, day - a.day);
        if figures.readers == 0 {
            continue;
        }
        let sources: Vec<Value> = split(figures.readers, &SOURCES)
            .iter()
            .map(|(s, n)| json!({"user_source": s, "read_user": n}))
            .collect();
        list.push(
            json!({"ref_date": format_date(day), "msgid": a.msgid(), "title": a.title,
                         "detail": {"read_user": figures.readers, "read_user_source": sources}}),
        );
    }
    Ok(json!({"list": list, "is_delay": false}))
}

/// `POST /datacube/getarticleshare` (1 day; data from 2025-11-01): each
/// article's sharers that day.
pub fn article_share(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    if day < parse_date("2025-11-01").unwrap_or(0) {
        return Err(WxError::new(61501));
    }
    let seed = seed(emulator);
    let mut list = Vec::new();
    for a in sent_articles(emulator) {
        let figures = a.on(seed, day - a.day);
        if figures.sharers > 0 {
            list.push(json!({"ref_date": format_date(day), "msgid": a.msgid(),
                             "share_user": figures.sharers}));
        }
    }
    Ok(json!({"list": list, "is_delay": false}))
}

/// `POST /datacube/getbizsummary` (7 days, unsure): the account's totals
/// by day.
pub fn biz_summary(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (begin, end) = range(emulator, call, 7)?;
    let list: Vec<Value> = (begin..=end)
        .map(|day| {
            let all = all_on(emulator, day);
            json!({"ref_date": format_date(day), "read_user": all.readers,
                   "share_user": all.sharers, "zaikan_user": all.readers / 50,
                   "like_user": all.readers / 25, "comment_count": all.readers / 100})
        })
        .collect();
    Ok(json!({"list": list, "is_delay": false}))
}

/// `POST /datacube/getarticletotaldetail` (1 day, unsure): articles
/// published that day, with cumulative figures for each day since (up to
/// 30; the model's reads end after 7).
pub fn article_total_detail(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let (day, _) = range(emulator, call, 1)?;
    let seed = seed(emulator);
    let yesterday = emulator.clock.day() - 1;
    let mut list = Vec::new();
    for a in sent_articles(emulator).into_iter().filter(|a| a.day == day) {
        let mut total = Day::default();
        let mut details = Vec::new();
        for k in 0..30 {
            if day + k > yesterday {
                break;
            }
            total.add(&a.on(seed, k));
            details.push(
                json!({"stat_date": format_date(day + k), "read_user": total.readers,
                                "share_user": total.sharers, "add_to_fav_user": total.favouriters}),
            );
        }
        list.push(
            json!({"ref_date": format_date(day), "msgid": a.msgid(), "title": a.title,
                         "publish_type": 0, "detail_list": details}),
        );
    }
    Ok(json!({"list": list, "is_delay": false}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(parse_date("2014-12-01"), Some(FIRST_DAY));
        assert_eq!(parse_date("1970-01-01"), Some(0));
        for day in [0, FIRST_DAY, 19_782, 20_454, 20_513] {
            assert_eq!(parse_date(&format_date(day)), Some(day));
        }
        assert_eq!(format_date(20_454), "2026-01-01");
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "2026-01-0a",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert_eq!(
            parse_date("2024-02-29").map(format_date).as_deref(),
            Some("2024-02-29")
        );
    }

    #[test]
    fn splits_keep_the_total() {
        for total in [0, 1, 7, 99, 12_345] {
            let parts = split(total, &SOURCES);
            assert_eq!(parts.iter().map(|(_, n)| n).sum::<u64>(), total);
        }
        assert_eq!(HOURS.iter().map(|(_, p)| p).sum::<u64>(), 100);
        assert_eq!(split(3, &HOURS).iter().filter(|(_, n)| *n > 0).count(), 3);
        assert_eq!(DECAY.iter().sum::<u64>(), 100);
    }
}
