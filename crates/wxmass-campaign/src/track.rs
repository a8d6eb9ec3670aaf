//! Tracking: after its batches are submitted, a campaign's jobs are
//! followed until WeChat calls each final, through the two ways WeChat
//! tells: the MASSSENDJOBFINISH push (recorded in the journal by the
//! receiver, `wxmass serve`) and `mass/get`.

use std::time::Duration;

use wxmass_api::Client;

use crate::error::Result;
use crate::spec::Batch;
use crate::store::prelude::*;

/// Waits until every job is final or a minute has passed. A report pushed
/// by WeChat settles a batch the moment `wxmass serve` records it in this
/// journal (read every few milliseconds, a local query): its status is the
/// report's, with no request. The batches without one are asked with
/// `mass/get`, a few at a time, first once a job could have ended and then
/// less often (a real job takes seconds to minutes, and each ask counts
/// against the daily API quota).
pub async fn track(client: &Client, journal: &dyn Store, campaign: &str) -> Result<()> {
    const JOURNAL_EVERY: Duration = Duration::from_millis(10);
    // No job ends as it is submitted: the first ask waits a little.
    const FIRST_ASK: Duration = Duration::from_millis(250);
    const ASK_AT_MOST_EVERY: Duration = Duration::from_secs(5);
    let start = tokio::time::Instant::now();
    let deadline = start + Duration::from_secs(60);
    let (mut next_ask, mut ask_gap) = (start + FIRST_ASK, FIRST_ASK);
    loop {
        let open: Vec<Batch> = journal
            .batches(campaign)
            .await?
            .into_iter()
            .filter(|b| b.msg_id.is_some() && b.status.as_deref().is_none_or(|s| s == "SENDING"))
            .collect();
        if open.is_empty() {
            return Ok(());
        }
        let reported: Vec<(u32, &str)> = open
            .iter()
            .filter_map(|b| Some((b.index, b.report.as_ref()?.job_status())))
            .collect();
        journal.set_statuses(campaign, &reported).await?;
        let now = tokio::time::Instant::now();
        if now > deadline {
            return Ok(());
        }
        if now >= next_ask {
            let unreported: Vec<&Batch> = open.iter().filter(|b| b.report.is_none()).collect();
            ask_statuses(client, journal, campaign, &unreported).await?;
            next_ask = tokio::time::Instant::now() + ask_gap;
            ask_gap = (ask_gap * 2).min(ASK_AT_MOST_EVERY);
        } else if reported.is_empty() {
            tokio::time::sleep(JOURNAL_EVERY.min(next_ask - now)).await;
        }
    }
}

/// Asks once about each job of `campaign` that has no report and no final
/// status, a few at a time: the follow-up, after [`track`] gave up, for
/// jobs that outlast it and reports lost on the way (or a server that
/// restarted). Returns how many are still not final.
pub async fn ask_open(client: &Client, journal: &dyn Store, campaign: &str) -> Result<usize> {
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
    ask_statuses(
        client,
        journal,
        campaign,
        &asking.iter().collect::<Vec<_>>(),
    )
    .await?;
    Ok(open(journal.batches(campaign).await?).len())
}

/// Asks WeChat for these batches' job statuses, a few at a time (a named
/// future per ask keeps the whole `Send` for servers that spawn it), and
/// keeps those that are news in one write (and one fsync).
pub async fn ask_statuses(
    client: &Client,
    journal: &dyn Store,
    campaign: &str,
    batches: &[&Batch],
) -> Result<()> {
    const ASKS_IN_FLIGHT: usize = 8;
    let mut changed = Vec::new();
    for some in batches.chunks(ASKS_IN_FLIGHT) {
        let asked = futures_util::future::join_all(some.iter().filter_map(|b| {
            let msg_id = b.msg_id?;
            Some(async move { (b, client.mass().get(msg_id).await) })
        }))
        .await;
        for (b, status) in asked {
            let status = status?;
            if b.status.as_deref() != Some(status.as_str()) {
                changed.push((b.index, status));
            }
        }
    }
    let changed: Vec<(u32, &str)> = changed.iter().map(|(i, s)| (*i, s.as_str())).collect();
    journal.set_statuses(campaign, &changed).await
}
