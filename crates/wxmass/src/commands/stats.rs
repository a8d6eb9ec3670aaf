//! `wxmass stats CAMPAIGN`: how a campaign's articles were read, from
//! WeChat's datacube (`getarticletotal` for each day its jobs went out):
//! per article, followers reached, readers, the read rate, shares and
//! favourites; readers day by day and by where they came from. As a table
//! for people, `--csv` for a spreadsheet (UTF-8 with a byte-order mark, so
//! that Excel reads the Chinese titles), or `--json`.
//!
//! `wxmass stats account`: the account's followers and reads by day.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use unicode_width::UnicodeWidthChar as _;
use wxmass_api::Client;
use wxmass_api::api::datacube::{ArticleTotal, Date, UserSource};
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::summary::thousands;

/// Where readers came from, in the order shown.
const SOURCES: [UserSource; 7] = [
    UserSource::Conversation,
    UserSource::Moments,
    UserSource::Friends,
    UserSource::History,
    UserSource::Kanyikan,
    UserSource::Souyisou,
    UserSource::Other,
];

/// One article of the campaign, over all its jobs.
#[derive(Debug, Default)]
struct ArticleStats {
    title: String,
    delivered: u64,
    readers: u64,
    reads: u64,
    sharers: u64,
    shares: u64,
    favouriters: u64,
    /// Readers on each day (not cumulative).
    by_day: BTreeMap<Date, u64>,
    /// Readers by source, so far.
    by_source: BTreeMap<UserSource, u64>,
}

impl ArticleStats {
    fn read_rate(&self) -> f64 {
        if self.delivered == 0 {
            0.0
        } else {
            self.readers as f64 / self.delivered as f64
        }
    }

    /// Adds one job's row of getarticletotal.
    fn add(&mut self, row: &ArticleTotal) {
        if self.title.is_empty() {
            self.title = row.title.clone();
        }
        let Some(last) = row.details.last() else {
            return;
        };
        self.delivered += last.target_user;
        self.readers += last.figures.readers;
        self.reads += last.figures.reads;
        self.sharers += last.figures.sharers;
        self.shares += last.figures.shares;
        self.favouriters += last.figures.favouriters;
        let mut before = 0;
        for day in &row.details {
            let so_far = day.figures.readers;
            *self.by_day.entry(day.stat_date).or_default() += so_far.saturating_sub(before);
            before = so_far;
        }
        for source in SOURCES {
            *self.by_source.entry(source).or_default() += last.readers_from(source);
        }
    }
}

/// `wxmass stats CAMPAIGN`.
pub async fn stats(
    client: &Client,
    journal: &dyn Store,
    campaign: &str,
    today: Option<&str>,
    csv: bool,
    json_out: bool,
) -> Result<()> {
    let today = wechat_today(today)?;
    let rows = wxmass_campaign::reads::article_totals(client, journal, campaign, today)
        .await
        .context("cannot read the campaign's figures (getarticletotal)")?;
    let mut articles: BTreeMap<u32, ArticleStats> = BTreeMap::new();
    for row in &rows {
        articles.entry(row.msgid.index.get()).or_default().add(row);
    }
    let days: BTreeSet<Date> = rows.iter().map(|r| r.ref_date).collect();
    if articles.is_empty() {
        bail!(
            "WeChat has no figures for campaign {campaign} yet: datacube leaves out articles nobody read"
        );
    }
    let up_to = articles
        .values()
        .flat_map(|a| a.by_day.keys())
        .max()
        .copied()
        .unwrap_or(today);
    if csv {
        super::emit_bytes(to_csv(&articles).as_bytes());
        return Ok(());
    }
    let sent: Vec<String> = days.iter().map(Date::to_string).collect();
    let value = to_json(campaign, &sent, up_to, &articles);
    super::print(json_out, &value, || {
        to_table(campaign, &sent, up_to, &articles)
    });
    Ok(())
}

fn to_json(
    campaign: &str,
    sent: &[String],
    up_to: Date,
    articles: &BTreeMap<u32, ArticleStats>,
) -> Value {
    let list: Vec<Value> = articles
        .iter()
        .map(|(index, a)| {
            json!({
                "index": index, "title": a.title, "delivered": a.delivered, "readers": a.readers,
                "reads": a.reads, "read_rate": (a.read_rate() * 10_000.0).round() / 10_000.0,
                "sharers": a.sharers, "shares": a.shares, "favourites": a.favouriters,
                "by_day": a.by_day.iter().map(|(d, n)| json!({"date": d.to_string(), "readers": n})).collect::<Vec<_>>(),
                "by_source": a.by_source.iter().map(|(s, n)| (s.label(), json!(n))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    json!({"campaign": campaign, "sent": sent, "up_to": up_to.to_string(), "articles": list})
}

/// `text` cut to `width` columns (CJK characters take two) and padded.
fn cell(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out + &" ".repeat(width - used)
}

fn to_table(
    campaign: &str,
    sent: &[String],
    up_to: Date,
    articles: &BTreeMap<u32, ArticleStats>,
) -> String {
    let reached = articles.values().map(|a| a.delivered).max().unwrap_or(0);
    let mut out = format!(
        "Campaign {campaign}: {} article(s), sent {} to {} followers; figures up to {up_to} (WeChat's datacube)\n\n",
        articles.len(),
        sent.join(", "),
        thousands(reached)
    );
    out.push_str(&format!(
        "{}  {:>9}  {:>7}  {:>9}  {:>6}  {:>10}\n",
        cell("ARTICLE", 30),
        "DELIVERED",
        "READERS",
        "READ RATE",
        "SHARES",
        "FAVOURITES"
    ));
    for (index, a) in articles {
        out.push_str(&format!(
            "{}  {:>9}  {:>7}  {:>8.1}%  {:>6}  {:>10}\n",
            cell(&format!("{index} {}", a.title), 30),
            thousands(a.delivered),
            thousands(a.readers),
            a.read_rate() * 100.0,
            thousands(a.shares),
            thousands(a.favouriters)
        ));
    }
    let days: BTreeSet<Date> = articles
        .values()
        .flat_map(|a| a.by_day.keys().copied())
        .collect();
    out.push_str("\nReaders by day\n");
    out.push_str(&cell("DAY", 12));
    for index in articles.keys() {
        out.push_str(&format!("  {:>9}", format!("article {index}")));
    }
    for day in &days {
        out.push('\n');
        out.push_str(&cell(&day.to_string(), 12));
        for a in articles.values() {
            out.push_str(&format!(
                "  {:>9}",
                thousands(a.by_day.get(day).copied().unwrap_or(0))
            ));
        }
    }
    out.push_str("\n\nReaders by where they came from\n");
    out.push_str(&cell("SOURCE", 12));
    for index in articles.keys() {
        out.push_str(&format!("  {:>9}", format!("article {index}")));
    }
    for source in SOURCES {
        out.push('\n');
        out.push_str(&cell(&source.label(), 12));
        for a in articles.values() {
            out.push_str(&format!(
                "  {:>9}",
                thousands(a.by_source.get(&source).copied().unwrap_or(0))
            ));
        }
    }
    out
}

/// A CSV field, quoted when it needs to be.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// One row per article and day, with the totals and sources repeated on
/// each, so that a pivot table needs nothing else. UTF-8 with a BOM.
fn to_csv(articles: &BTreeMap<u32, ArticleStats>) -> String {
    let mut out = String::from(
        "\u{feff}article,title,date,readers_that_day,delivered,readers,read_rate,shares,favourites",
    );
    for source in SOURCES {
        out.push_str(&format!(",from_{}", source.label()));
    }
    out.push_str("\r\n");
    for (index, a) in articles {
        for (day, readers) in &a.by_day {
            out.push_str(&format!(
                "{index},{},{day},{readers},{},{},{:.4},{},{}",
                field(&a.title),
                a.delivered,
                a.readers,
                a.read_rate(),
                a.shares,
                a.favouriters
            ));
            for source in SOURCES {
                out.push_str(&format!(
                    ",{}",
                    a.by_source.get(&source).copied().unwrap_or(0)
                ));
            }
            out.push_str("\r\n");
        }
    }
    out
}

/// WeChat's day: `--today`, else this machine's.
fn wechat_today(today: Option<&str>) -> Result<Date> {
    Ok(match today {
        Some(t) => Date::parse(t).context("--today")?,
        None => Date::today(),
    })
}

/// One day of the account: followers and what they read.
#[derive(Debug, Default, Clone, Copy)]
struct AccountDay {
    /// At the end of the day.
    followers: u64,
    new: u64,
    left: u64,
    readers: u64,
    reads: u64,
    shares: u64,
    favourites: u64,
}

/// `wxmass stats account --from --to`: follower growth and reads, day by
/// day, from getusercumulate, getusersummary and getuserread, each walked
/// in the spans WeChat allows (7, 7 and 3 days).
pub async fn account(
    client: &Client,
    from: Option<&str>,
    to: Option<&str>,
    today: Option<&str>,
    csv: bool,
    json_out: bool,
) -> Result<()> {
    use wxmass_api::api::datacube::{DateRange, Endpoint, walk};
    let today = wechat_today(today)?;
    let to = match to {
        Some(t) => Date::parse(t).context("--to")?,
        // Yesterday's figures come at 08:00 Beijing time: before, the day
        // before is the last there is.
        None if today == Date::today() && wxmass_campaign::beijing::now() < today.unix_at(8) => {
            today.plus(-2)
        }
        None => today.plus(-1),
    };
    let from = match from {
        Some(f) => Date::parse(f).context("--from")?,
        None => to.plus(-6),
    };
    if to >= today {
        bail!(
            "--to {to}: WeChat has an account's figures up to yesterday ({}), from 08:00 Beijing time the day after",
            today.plus(-1)
        );
    }
    let range = DateRange::new(from, to).context("--from and --to")?;
    let datacube = client.datacube().as_of(today);
    let mut days: BTreeMap<Date, AccountDay> = (0..range.days())
        .map(|i| (from.plus(i), AccountDay::default()))
        .collect();
    let followers = walk(range, Endpoint::UserCumulate.max_span(), |part| {
        datacube.user_cumulate(part)
    })
    .await
    .context("cannot read the followers (getusercumulate)")?;
    for row in followers {
        if let Some(day) = days.get_mut(&row.ref_date) {
            day.followers = row.cumulate_user;
        }
    }
    let growth = walk(range, Endpoint::UserSummary.max_span(), |part| {
        datacube.user_summary(part)
    })
    .await
    .context("cannot read the follower growth (getusersummary)")?;
    for row in growth {
        if let Some(day) = days.get_mut(&row.ref_date) {
            day.new += row.new_user;
            day.left += row.cancel_user;
        }
    }
    let reads = walk(range, Endpoint::UserRead.max_span(), |part| {
        datacube.user_read(part)
    })
    .await
    .context("cannot read the reads (getuserread)")?;
    // The row of every source together; days under WeChat's threshold
    // have none and stay at 0.
    for row in reads.iter().filter(|r| r.user_source == UserSource::All) {
        if let Some(day) = days.get_mut(&row.ref_date) {
            day.readers = row.figures.readers;
            day.reads = row.figures.reads;
            day.shares = row.figures.shares;
            day.favourites = row.figures.favourites;
        }
    }
    if csv {
        let mut out =
            String::from("\u{feff}date,followers,new,left,net,readers,reads,shares,favourites\r\n");
        for (date, d) in &days {
            out.push_str(&format!(
                "{date},{},{},{},{},{},{},{},{}\r\n",
                d.followers,
                d.new,
                d.left,
                d.new as i64 - d.left as i64,
                d.readers,
                d.reads,
                d.shares,
                d.favourites
            ));
        }
        super::emit_bytes(out.as_bytes());
        return Ok(());
    }
    let total = |f: fn(&AccountDay) -> u64| days.values().map(f).sum::<u64>();
    let (new, left) = (total(|d| d.new), total(|d| d.left));
    let first = days.values().next().copied().unwrap_or_default();
    let last = days.values().last().copied().unwrap_or_default();
    let value = json!({
        "from": from.to_string(), "to": to.to_string(),
        "followers": {"start": first.followers.saturating_sub(first.new).saturating_add(first.left),
                      "end": last.followers, "new": new, "left": left},
        "readers": total(|d| d.readers), "reads": total(|d| d.reads),
        "shares": total(|d| d.shares), "favourites": total(|d| d.favourites),
        "days": days.iter().map(|(date, d)| json!({
            "date": date.to_string(), "followers": d.followers, "new": d.new, "left": d.left,
            "readers": d.readers, "reads": d.reads, "shares": d.shares, "favourites": d.favourites,
        })).collect::<Vec<_>>(),
    });
    super::print(json_out, &value, || {
        let mut out = format!(
            "Account, {from} to {to} (WeChat's datacube): {} followers at the end, {} new, {} left; {} reads by {} readers\n\n",
            thousands(last.followers),
            thousands(new),
            thousands(left),
            thousands(total(|d| d.reads)),
            thousands(total(|d| d.readers)),
        );
        out.push_str(&format!(
            "{}  {:>9}  {:>5}  {:>5}  {:>6}  {:>7}  {:>7}  {:>6}  {:>10}",
            cell("DAY", 10),
            "FOLLOWERS",
            "NEW",
            "LEFT",
            "NET",
            "READERS",
            "READS",
            "SHARES",
            "FAVOURITES"
        ));
        for (date, d) in &days {
            out.push_str(&format!(
                "\n{}  {:>9}  {:>5}  {:>5}  {:>+6}  {:>7}  {:>7}  {:>6}  {:>10}",
                cell(&date.to_string(), 10),
                thousands(d.followers),
                thousands(d.new),
                thousands(d.left),
                d.new as i64 - d.left as i64,
                thousands(d.readers),
                thousands(d.reads),
                thousands(d.shares),
                thousands(d.favourites)
            ));
        }
        out
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_width::UnicodeWidthStr as _;

    #[test]
    fn cells_count_chinese_as_two_columns() {
        assert_eq!(cell("第一篇", 8).width(), 8);
        assert_eq!(cell("第一篇文章很长很长", 8), "第一篇文");
        assert_eq!(cell("ab", 4), "ab  ");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
