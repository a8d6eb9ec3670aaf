//! Recording WeChat's pushes in the store before WeChat is answered, for
//! any number of accounts: each account's receiver (wxmass-callback's
//! hardened router) hands every accepted request to one writer, which takes
//! every push that is waiting, writes each account's in one transaction
//! (one fsync), and only then lets each request answer `success`. A push
//! that arrives alone costs one fsync; a burst shares them.
//!
//! The writer runs on a thread of its own with its own small runtime: a
//! SQLite commit waits there, not on a thread that answers WeChat. Used by
//! `wxmass serve` (one account) and by the server's `/callback/{appid}`;
//! it is the engine's (feature `receiver`), so neither face owns it.

use std::io::Write as _;

use crate::notices::{Learnt, NoticeReport, ReachEvent, Reported, WindowKind};
use crate::publishes::PublishReport;
use crate::store::prelude::*;
use crate::{JobReport, Recorded, Report, beijing};
use tokio::sync::{mpsc, oneshot};
use wxmass_callback::{
    MassSendJobFinish, PublishJobFinish, Push, PushRecorder, RecordError, RecordFuture,
    SeenRequest, SubscriptionEvent, SubscriptionKind, TemplateSendJobFinish, WindowTrigger,
};

/// Most requests written in one group.
const GROUP_MAX: usize = 1024;

/// What an accepted request leaves in the store: the report it carried,
/// if any, and the replay guard's entry for it.
type Received = (Option<JobReport>, crate::SeenRequest);

/// One request waiting for the writer.
struct Pending {
    appid: String,
    received: Received,
    /// A free publish's report (PUBLISHJOBFINISH).
    publish: Option<PublishReport>,
    /// A template message's report (TEMPLATESENDJOBFINISH).
    notice: Option<NoticeReport>,
    /// What the push says of reaching its follower (a window opened, an
    /// unfollow).
    learnt: Vec<Learnt>,
    done: oneshot::Sender<Result<(), RecordError>>,
}

/// The journal's form of a publish report.
fn publish_report(job: &PublishJobFinish) -> PublishReport {
    PublishReport {
        publish_id: job.publish_id,
        status: job.status.code(),
        article_id: job.article_id.clone(),
        article_urls: job.articles.iter().map(|a| a.article_url.clone()).collect(),
        fail_idx: job.fail_idx.clone(),
        // Serializing parsed strings and numbers cannot fail.
        event: serde_json::to_string(job).unwrap_or_default(),
    }
}

/// The store's form of a template message's report.
fn notice_report(t: &TemplateSendJobFinish) -> NoticeReport {
    NoticeReport {
        openid: t.recipient.clone(),
        msg_id: t.msg_id,
        created_at: t.create_time,
        reported: Reported::of_status(t.status.as_wechat()),
    }
}

/// What a push says of reaching its follower: a message, a menu click, a
/// follow or a QR scan opens a customer-service window (a follow is also
/// a follow); an unsubscribe is an unfollow; a subscription pop-up's
/// accept or reject, or a withdrawal, gives or withholds consent to each
/// template it names. Dated by the push's CreateTime (never later than
/// `now`).
fn reach_learnt(push: &Push, now: i64) -> Vec<Learnt> {
    if let Push::Subscription(event) = push {
        return consents_learnt(event, now);
    }
    let Push::Other(generic) = push else {
        return Vec::new();
    };
    let at = generic
        .field("CreateTime")
        .and_then(|t| t.trim().parse::<i64>().ok())
        .map_or(now, |t| t.min(now));
    let mut learnt = Vec::new();
    if let Some((openid, trigger)) = generic.window_opened() {
        let kind = match trigger {
            WindowTrigger::Message => WindowKind::Message,
            _ => WindowKind::Short,
        };
        learnt.push(Learnt {
            openid: openid.to_owned(),
            at,
            event: ReachEvent::WindowOpened(kind),
        });
        if trigger == WindowTrigger::Follow {
            learnt.push(Learnt {
                openid: openid.to_owned(),
                at,
                event: ReachEvent::Followed,
            });
        }
    }
    let unsubscribed = generic
        .event()
        .is_some_and(|e| e.trim().eq_ignore_ascii_case("unsubscribe"));
    if let Some(openid) = generic
        .field("FromUserName")
        .map(str::trim)
        .filter(|o| unsubscribed && !o.is_empty())
    {
        learnt.push(Learnt {
            openid: openid.to_owned(),
            at,
            event: ReachEvent::Unfollowed,
        });
    }
    learnt
}

/// The consents a subscription pop-up or change event gives or withholds.
fn consents_learnt(event: &SubscriptionEvent, now: i64) -> Vec<Learnt> {
    if event.kind == SubscriptionKind::Sent || event.openid.is_empty() {
        return Vec::new();
    }
    let at = if event.create_time > 0 {
        event.create_time.min(now)
    } else {
        now
    };
    event
        .items
        .iter()
        .filter(|i| !i.template_id.is_empty())
        .filter_map(|i| {
            let granted = match i.status.to_ascii_lowercase().as_str() {
                "accept" => true,
                "reject" => false,
                _ => return None,
            };
            Some(Learnt {
                openid: event.openid.clone(),
                at,
                event: ReachEvent::Consent {
                    template_id: i.template_id.clone(),
                    granted,
                },
            })
        })
        .collect()
}

/// The journal's form of a report: its counts, and the whole event (to
/// tell WeChat's retry from a contradiction).
fn job_report(job: &MassSendJobFinish) -> JobReport {
    let urls = job
        .article_url_result
        .iter()
        .flat_map(|r| r.items.iter().map(|i| i.article_url.clone()))
        .collect();
    JobReport {
        msg_id: job.msg_id,
        report: Report {
            status: job.status.to_string(),
            total_count: job.total_count.into(),
            filter_count: job.filter_count.into(),
            sent_count: job.sent_count.into(),
            error_count: job.error_count.into(),
            check_state: job
                .copyright_check_result
                .as_ref()
                .map(|c| c.check_state.code()),
            article_urls: urls,
        },
        // Serializing parsed strings and numbers cannot fail.
        event: serde_json::to_string(job).unwrap_or_default(),
    }
}

/// The writer's door: cheap to clone; the writer ends when the last one
/// (and every recorder made from it) is dropped.
#[derive(Clone, Debug)]
pub struct PushWriter(mpsc::Sender<Pending>);

impl PushWriter {
    /// Starts the writer on `journal` (anything that holds one).
    pub fn start(
        journal: std::sync::Arc<dyn Store>,
    ) -> std::io::Result<(PushWriter, std::thread::JoinHandle<()>)> {
        let (writer, queue) = mpsc::channel(GROUP_MAX * 4);
        let thread = std::thread::Builder::new()
            .name("push-writer".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime.block_on(write_groups(&*journal, queue)),
                    // Dropping the queue fails every push, which WeChat retries.
                    Err(error) => tracing::error!(%error, "cannot start the push writer"),
                }
            })?;
        Ok((PushWriter(writer), thread))
    }

    /// A recorder of `appid`'s pushes; `seen` are the requests already used
    /// (from [`PushStore::seen_requests`]), so that a restart opens no replay.
    pub fn recorder(&self, appid: &str, seen: &[crate::SeenRequest]) -> JournalRecorder {
        JournalRecorder {
            writer: self.0.clone(),
            appid: appid.to_owned(),
            seen: seen.to_vec(),
        }
    }
}

/// Hands each accepted request of one account to the writer and waits for
/// its commit.
#[derive(Debug)]
pub struct JournalRecorder {
    writer: mpsc::Sender<Pending>,
    appid: String,
    seen: Vec<SeenRequest>,
}

impl JournalRecorder {
    fn submit(&self, push: Option<&Push>, request: &SeenRequest) -> RecordFuture {
        let writer = self.writer.clone();
        let appid = self.appid.clone();
        let (mut job, mut publish, mut notice) = (None, None, None);
        match push {
            Some(Push::MassSendJobFinish(j)) => job = Some(job_report(j)),
            Some(Push::PublishJobFinish(p)) => publish = Some(publish_report(p)),
            Some(Push::TemplateSendJobFinish(t)) => notice = Some(notice_report(t)),
            // Subscription events and the platform's are kept as requests
            // only (the replay guard), until what they feed exists.
            _ => {}
        }
        let learnt = push
            .map(|p| reach_learnt(p, beijing::now()))
            .unwrap_or_default();
        let received = (job, request.clone());
        Box::pin(async move {
            let (done, outcome) = oneshot::channel();
            writer
                .send(Pending {
                    appid,
                    received,
                    publish,
                    notice,
                    learnt,
                    done,
                })
                .await
                .map_err(|_| RecordError::Stopped)?;
            outcome.await.map_err(|_| RecordError::Stopped)?
        })
    }
}

impl PushRecorder for JournalRecorder {
    fn record(&self, push: Push, request: SeenRequest) -> RecordFuture {
        self.submit(Some(&push), &request)
    }

    fn record_request(&self, request: SeenRequest) -> RecordFuture {
        self.submit(None, &request)
    }

    fn seen_requests(&self) -> Vec<SeenRequest> {
        self.seen.clone()
    }
}

/// The writer: waits for one request, takes all that are waiting with it,
/// commits them together, then answers each.
async fn write_groups(journal: &dyn Store, mut queue: mpsc::Receiver<Pending>) {
    let mut last_prune = beijing::now();
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        // Each account's publish and template reports and what its pushes
        // say of reaching followers (few), then every request of the group
        // in one transaction: one commit however many accounts it serves
        // (a platform's pushes go round thousands).
        let recorded = async {
            let mut published = Vec::new();
            let mut appids: Vec<&str> = group.iter().map(|p| p.appid.as_str()).collect();
            appids.sort_unstable();
            appids.dedup();
            for appid in appids {
                let mine = || group.iter().filter(move |p| p.appid == appid);
                let publishes: Vec<PublishReport> =
                    mine().filter_map(|p| p.publish.clone()).collect();
                let notices: Vec<NoticeReport> = mine().filter_map(|p| p.notice.clone()).collect();
                let learnt: Vec<Learnt> = mine().flat_map(|p| p.learnt.clone()).collect();
                // Publish reports first: a crash between the two leaves a
                // request not marked seen, whose retry is then a duplicate.
                if !publishes.is_empty() {
                    let outcomes = journal
                        .record_publish_reports(appid, &publishes, beijing::now())
                        .await?;
                    published.push((publishes, outcomes));
                }
                if !notices.is_empty() {
                    journal
                        .record_notice_reports(appid, &notices, beijing::now())
                        .await?;
                }
                journal.record_reach(appid, &learnt).await?;
            }
            let received: Vec<(&str, Option<JobReport>, crate::SeenRequest)> = group
                .iter()
                .map(|p| (p.appid.as_str(), p.received.0.clone(), p.received.1.clone()))
                .collect();
            let outcomes = journal.record_received(&received).await?;
            Ok::<_, crate::Error>((published, outcomes))
        }
        .await;
        let (received, waiting): (Vec<Received>, Vec<_>) =
            group.into_iter().map(|p| (p.received, p.done)).unzip();
        match recorded {
            Ok((published, outcomes)) => {
                metrics::counter!("wxmass_pushes_recorded_total").increment(outcomes.len() as u64);
                log_reports(&received, &outcomes);
                for (publishes, outcomes) in &published {
                    log_publishes(publishes, outcomes);
                }
                for done in waiting {
                    let _ = done.send(Ok(()));
                }
            }
            Err(error) => {
                let reason = format!("{error:#}");
                tracing::error!(error = %reason, "pushes not recorded; WeChat will retry them");
                for done in waiting {
                    let _ = done.send(Err(RecordError::Store(reason.clone())));
                }
            }
        }
        let now = beijing::now();
        if now - last_prune >= 60 {
            if let Err(error) = journal.prune_seen_requests(now).await {
                tracing::warn!(error = %format!("{error:#}"), "could not prune old callback requests");
            }
            // A template report no recipient claimed in a week belongs to
            // no campaign of this store (another tool's send).
            if let Err(error) = journal.prune_notice_reports(now - 7 * 86_400).await {
                tracing::warn!(error = %format!("{error:#}"), "could not prune old template reports");
            }
            last_prune = now;
        }
    }
}

/// One line per recorded publish report.
fn log_publishes(reports: &[PublishReport], outcomes: &[Recorded]) {
    let mut lines = String::new();
    for (r, outcome) in reports.iter().zip(outcomes) {
        let note = match outcome {
            Recorded::New { known: true } | Recorded::NoReport => "",
            Recorded::New { known: false } => " (not submitted from this journal)",
            Recorded::Duplicate => " (already recorded)",
            Recorded::Conflict => {
                " (CONFLICT: differs from the report recorded first, which is kept)"
            }
        };
        let status = wxmass_callback::PublishStatus::from_code(r.status);
        lines.push_str(&format!(
            "publish {} finished: {}{note}\n",
            r.publish_id,
            status.meaning()
        ));
    }
    if !lines.is_empty() {
        let _ = std::io::stderr().lock().write_all(lines.as_bytes());
    }
}

/// One line per recorded report, written at once for the group. Every value
/// from the push is escaped: it cannot split a line or drive the terminal.
fn log_reports(received: &[Received], outcomes: &[Recorded]) {
    let mut lines = String::new();
    for ((job, _), outcome) in received.iter().zip(outcomes) {
        let Some(job) = job else { continue };
        let note = match outcome {
            Recorded::New { known: true } => "",
            Recorded::New { known: false } => {
                " (no campaign has this job yet: see `wxmass status --unknown`)"
            }
            Recorded::Duplicate => " (already recorded)",
            Recorded::Conflict => {
                " (CONFLICT: differs from the report recorded first, which is kept; see `wxmass status --unknown`)"
            }
            Recorded::NoReport => continue,
        };
        lines.push_str(&format!(
            "job {} finished: {} ({} of {} sent){note}\n",
            job.msg_id,
            job.report.status.escape_debug(),
            job.report.sent_count,
            job.report.total_count,
        ));
    }
    if !lines.is_empty() {
        let _ = std::io::stderr().lock().write_all(lines.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(xml: &str) -> Push {
        let doc = wxmass_callback::xml::Document::parse(xml).expect("xml");
        Push::from_document(&doc).expect("push")
    }

    #[test]
    fn a_message_opens_a_window_and_an_unsubscribe_is_an_unfollow() {
        let wrote = push(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>oA</FromUserName><CreateTime>1700000000</CreateTime>\
             <MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId></xml>",
        );
        assert_eq!(
            reach_learnt(&wrote, 1_800_000_000),
            vec![Learnt {
                openid: "oA".into(),
                at: 1_700_000_000,
                event: ReachEvent::WindowOpened(WindowKind::Message),
            }]
        );
        let left = push(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>oB</FromUserName><CreateTime>1700000000</CreateTime>\
             <MsgType>event</MsgType><Event>unsubscribe</Event></xml>",
        );
        assert_eq!(
            reach_learnt(&left, 1_800_000_000)[0].event,
            ReachEvent::Unfollowed
        );
        // A time from the future is taken as now.
        let future = push(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>oC</FromUserName><CreateTime>1900000000</CreateTime>\
             <MsgType>event</MsgType><Event>subscribe</Event></xml>",
        );
        let learnt = reach_learnt(&future, 1_800_000_000);
        assert_eq!(learnt.len(), 2);
        assert!(learnt.iter().all(|l| l.at == 1_800_000_000));
        assert_eq!(learnt[1].event, ReachEvent::Followed);
    }

    #[test]
    fn a_pop_ups_choices_give_and_withhold_consent() {
        let xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>\
             <CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>\
             <List><TemplateId><![CDATA[t1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
             <List><TemplateId><![CDATA[t2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List>\
             </SubscribeMsgPopupEvent></xml>";
        let push = Push::parse(xml).expect("a pop-up");
        let learnt = reach_learnt(&push, 1_800_000_000);
        let consents: Vec<(&str, bool, i64)> = learnt
            .iter()
            .map(|l| match &l.event {
                ReachEvent::Consent {
                    template_id,
                    granted,
                } => (template_id.as_str(), *granted, l.at),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            consents,
            [("t1", true, 1_700_000_000), ("t2", false, 1_700_000_000)]
        );
        assert!(learnt.iter().all(|l| l.openid == "o1"));
    }
}
