//! Tracking: after its batches are submitted, a campaign's jobs are
//! followed until WeChat calls each final, through the two ways WeChat
//! tells: the MASSSENDJOBFINISH push (recorded in the journal by the
//! receiver, `wxmass serve`) and `mass/get`.

use std::time::Duration;

use wxmass_api::Client;

use crate::error::Result;
use crate::journal::Journal;
use crate::spec::Batch;

/// Waits until every job is final or a minute has passed. A report pushed
/// by WeChat settles a batch the moment `wxmass serve` records it in this
/// journal (read every few milliseconds, a local query), and its status is
/// then asked once; the batches without one are asked with `mass/get`, a
/// few at a time, soon at first and then less often (a real job takes
/// seconds to minutes, and each ask counts against the daily API quota).
pub async fn track(client: &Client, journal: &Journal, campaign: &str) -> Result<()> {
    const JOURNAL_EVERY: Duration = Duration::from_millis(10);
    const FIRST_ASK: Duration = Duration::from_millis(100);
    const ASK_AT_MOST_EVERY: Duration = Duration::from_secs(5);
    const ASKS_IN_FLIGHT: usize = 8;
    let start = tokio::time::Instant::now();
    let deadline = start + Duration::from_secs(60);
    let (mut next_ask, mut ask_gap) = (start, FIRST_ASK);
    // Batches with a report whose status was asked after it came.
    let mut settled = std::collections::HashSet::new();
    loop {
        let open: Vec<Batch> = journal
            .batches(campaign)
            .await?
            .into_iter()
            .filter(|b| {
                b.msg_id.is_some()
                    && !settled.contains(&b.index)
                    && b.status.as_deref().is_none_or(|s| s == "SENDING")
            })
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        let now = tokio::time::Instant::now();
        if now > deadline {
            return Ok(());
        }
        let due = now >= next_ask;
        let ask: Vec<&Batch> = open.iter().filter(|b| due || b.report.is_some()).collect();
        if ask.is_empty() {
            tokio::time::sleep(JOURNAL_EVERY.min(next_ask - now)).await;
            continue;
        }
        // A few at a time (a named future per ask keeps the whole `Send`
        // for servers that spawn it).
        for some in ask.chunks(ASKS_IN_FLIGHT) {
            let asked = futures_util::future::join_all(
                some.iter()
                    .map(|b| ask_status(client, journal, campaign, b)),
            )
            .await;
            asked.into_iter().collect::<Result<()>>()?;
        }
        settled.extend(open.iter().filter(|b| b.report.is_some()).map(|b| b.index));
        if due {
            next_ask = tokio::time::Instant::now() + ask_gap;
            ask_gap = (ask_gap * 2).min(ASK_AT_MOST_EVERY);
        }
    }
}

/// Asks once about each job of `campaign` that has no report and no final
/// status, a few at a time: the follow-up, after [`track`] gave up, for
/// jobs that outlast it and reports lost on the way (or a server that
/// restarted). Returns how many are still not final.
pub async fn ask_open(client: &Client, journal: &Journal, campaign: &str) -> Result<usize> {
    const ASKS_IN_FLIGHT: usize = 8;
    let open = |batches: Vec<Batch>| -> Vec<Batch> {
        batches
            .into_iter()
            .filter(|b| {
                b.msg_id.is_some()
                    && b.report.is_none()
                    && b.status.as_deref().is_none_or(|s| s == "SENDING")
            })
            .collect()
    };
    let asking = open(journal.batches(campaign).await?);
    for some in asking.chunks(ASKS_IN_FLIGHT) {
        let asked = futures_util::future::join_all(
            some.iter()
                .map(|b| ask_status(client, journal, campaign, b)),
        )
        .await;
        asked.into_iter().collect::<Result<()>>()?;
    }
    Ok(open(journal.batches(campaign).await?).len())
}

/// Asks WeChat for one batch's job status and keeps it when it is news
/// (a write, and its fsync, only then).
async fn ask_status(client: &Client, journal: &Journal, campaign: &str, b: &Batch) -> Result<()> {
    let Some(msg_id) = b.msg_id else {
        return Ok(());
    };
    let status = client.mass().get(msg_id).await?;
    if b.status.as_deref() != Some(status.as_str()) {
        journal
            .set_status(campaign, b.index, status.as_str())
            .await?;
    }
    Ok(())
}
