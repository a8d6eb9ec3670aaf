//! `wxmass serve`: the wxmass-callback receiver on the internet, recording
//! each MASSSENDJOBFINISH (and each request, for the replay guard) in the
//! journal before answering WeChat.
//!
//! Recording is a group commit: one writer thread owns the journal, takes
//! every push that is waiting, writes them in one transaction (one fsync),
//! and only then lets each request answer `success`. A push that arrives
//! alone costs one fsync, as before; a burst shares them. The journal is the
//! SQLite file or the PostgreSQL database the senders share (the thread
//! runs its own small runtime: a SQLite commit waits there, not on a thread
//! that answers WeChat).

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::sync::{mpsc, oneshot};

use wxmass_callback::{
    CallbackConfig, MassSendJobFinish, Push, PushRecorder, RecordError, RecordFuture, SeenRequest,
    ServeLimits,
};
use wxmass_campaign::{JobReport, Journal, Recorded, Report, beijing};

use crate::cli::ServeArgs;

/// Most requests written in one transaction.
const GROUP_MAX: usize = 1024;

/// The receiver's configuration from flags and the account's AppID.
pub fn config(args: &ServeArgs, appid: &str) -> Result<CallbackConfig> {
    let mut builder = CallbackConfig::builder(args.token.clone(), appid)
        .allow_plaintext(args.allow_plaintext)
        .timestamp_window(Duration::from_secs(args.timestamp_window.into()))
        .body_timeout(Duration::from_secs_f64(args.body_timeout));
    if let Some(key) = &args.aes_key {
        builder = builder.aes_key(key.clone());
    }
    if let Some(key) = &args.previous_aes_key {
        builder = builder.previous_aes_key(key.clone());
    }
    Ok(builder.build()?)
}

/// The accept loop's limits from flags.
pub fn limits(args: &ServeArgs) -> ServeLimits {
    ServeLimits {
        header_timeout: Duration::from_secs_f64(args.header_timeout),
        idle_timeout: Duration::from_secs_f64(args.idle_timeout),
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        ..ServeLimits::default()
    }
}

/// What an accepted request leaves in the journal: the report it
/// carried, if any, and the replay guard's entry for it.
type Received = (Option<JobReport>, wxmass_campaign::SeenRequest);

/// One request waiting for the writer.
struct Pending {
    received: Received,
    done: oneshot::Sender<Result<(), RecordError>>,
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

/// The journal's form of a replay-guard entry.
fn seen(request: &SeenRequest) -> wxmass_campaign::SeenRequest {
    wxmass_campaign::SeenRequest {
        timestamp: request.timestamp,
        nonce: request.nonce.clone(),
        content: request.content,
        expires_at: request.expires_at,
    }
}

/// Hands each accepted request to the writer thread and waits for its
/// commit.
struct JournalRecorder {
    writer: mpsc::Sender<Pending>,
    seen: Vec<SeenRequest>,
}

impl JournalRecorder {
    fn submit(&self, job: Option<&MassSendJobFinish>, request: &SeenRequest) -> RecordFuture {
        let writer = self.writer.clone();
        let received = (job.map(job_report), seen(request));
        Box::pin(async move {
            let (done, outcome) = oneshot::channel();
            writer
                .send(Pending { received, done })
                .await
                .map_err(|_| RecordError::Stopped)?;
            outcome.await.map_err(|_| RecordError::Stopped)?
        })
    }
}

impl PushRecorder for JournalRecorder {
    fn record(&self, push: Push, request: SeenRequest) -> RecordFuture {
        let job = match &push {
            Push::MassSendJobFinish(job) => Some(job),
            Push::Other(_) => None,
        };
        self.submit(job, &request)
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
async fn write_groups(journal: Journal, appid: String, mut queue: mpsc::Receiver<Pending>) {
    let mut last_prune = beijing::now();
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let (received, waiting): (Vec<Received>, Vec<_>) =
            group.into_iter().map(|p| (p.received, p.done)).unzip();
        match journal.record_received(&appid, &received).await {
            Ok(outcomes) => {
                log_reports(&received, &outcomes);
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
            last_prune = now;
        }
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

/// Serves until `shutdown` resolves.
pub async fn serve(
    config: CallbackConfig,
    limits: ServeLimits,
    listener: tokio::net::TcpListener,
    journal: Journal,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let seen = journal
        .seen_requests(beijing::now())
        .await
        .context("cannot read the callback requests already used")?
        .into_iter()
        .map(|q| SeenRequest {
            timestamp: q.timestamp,
            nonce: q.nonce,
            content: q.content,
            expires_at: q.expires_at,
        })
        .collect();
    let (writer, queue) = mpsc::channel(GROUP_MAX * 4);
    let appid = config.appid().to_owned();
    let thread = std::thread::Builder::new()
        .name("journal-writer".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(write_groups(journal, appid, queue)),
                // Dropping the queue fails every push, which WeChat retries.
                Err(error) => tracing::error!(%error, "cannot start the journal writer"),
            }
        })
        .context("cannot start the journal writer")?;
    let router = wxmass_callback::router_with_recorder(config, JournalRecorder { writer, seen });
    wxmass_callback::serve(listener, router, limits, shutdown).await;
    // The router, and with it the last sender, is gone: the writer ends.
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .ok();
    Ok(())
}
