//! `wxmass send` on the campaign engine (`wxmass-campaign`): plan (the
//! content read and checked, the journal written first, files kept by
//! content), prepare (uploads, journalled by content hash), send (each batch
//! `submitting` before its request, `submitted` after, with a clientmsgid
//! derived from campaign and batch), track (`mass/get` until final).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wxmass_api::{Client, Message};
use wxmass_campaign::audience::Spool;
use wxmass_campaign::checks;
use wxmass_campaign::engine::{self, Observer, WorkOptions};
use wxmass_campaign::pipeline::{self, Sent, Told};
use wxmass_campaign::plan::{self, CampaignSpec, NewCampaign, Proposal};
use wxmass_campaign::prepare::{self, UploadObserver};
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{
    AccountType, Audience, Batch, Claim, Content, Files, MediaType, OpenIdList, quota,
};

use crate::article::Planned;
use crate::cli::{ContentArgs, PreviewArgs, SendArgs};
use crate::config::Settings;

/// Audiences above this many followers ask for confirmation.
pub const CONFIRM_ABOVE: u64 = 1_000;

/// Reads what `c` asks to send, with the bytes of every file it names,
/// and checks it with the engine's checker, as a server checks a campaign:
/// every problem at once, each said with its file or its flag.
pub async fn read_checked(
    c: &ContentArgs,
    media_type: Option<&str>,
    ignore_reprint: bool,
) -> Result<Planned> {
    let (planned, mut problems) = read_content(c, media_type, ignore_reprint)?;
    let found = checks::check(&planned.files, &planned.content).await?;
    // A file named but missing here is one this run could not read: that
    // is among `problems` already, said with the reason.
    problems.extend(
        found
            .iter()
            .filter(|p| p.kind != checks::Kind::Missing)
            .map(|p| said(p, &planned.content)),
    );
    match problems.len() {
        0 => Ok(planned),
        1 => bail!("{}", problems[0]),
        n => bail!("{n} problems to fix first:\n  {}", problems.join("\n  ")),
    }
}

/// A checker's problem for people at a terminal: the file at fault, or
/// the flag that gave the field.
fn said(problem: &checks::Problem, content: &Content) -> String {
    if problem.at.is_some() {
        return problem.in_file();
    }
    let root = problem.field.split(['.', '[']).nth(1).unwrap_or_default();
    let flag = match (root, content) {
        ("text", _) => "--text",
        ("files", _) => "--image",
        ("file", Content::Voice { .. }) => "--voice",
        ("file", _) => "--video",
        ("title", _) => "--title",
        ("media_id", _) => "--media-id",
        ("card_id", _) => "--card",
        ("articles", _) => "--article",
        ("theme", _) => "--theme",
        ("fetch_remote_images", _) => "--fetch-remote-images",
        _ => return problem.in_file(),
    };
    format!("{flag}: {}", problem.message)
}

/// What `c` asks to send and the bytes of its files, read; and what could
/// not be read (said, to be reported beside the checker's problems).
fn read_content(
    c: &ContentArgs,
    media_type: Option<&str>,
    ignore_reprint: bool,
) -> Result<(Planned, Vec<String>)> {
    let mut files = Files::default();
    let content = if let Some(text) = &c.text {
        Content::Text { text: text.clone() }
    } else if !c.image.is_empty() {
        let mut refs = Vec::new();
        for path in &c.image {
            refs.push(files.add(path, local_file(path)?));
        }
        Content::Images { files: refs }
    } else if let Some(path) = &c.voice {
        Content::Voice {
            file: files.add(path, local_file(path)?),
        }
    } else if let Some(path) = &c.video {
        Content::Video {
            file: files.add(path, local_file(path)?),
            title: c.title.clone().unwrap_or_default(),
            description: c.description.clone().unwrap_or_default(),
        }
    } else if !c.article.is_empty() {
        return crate::article::plan(c, ignore_reprint);
    } else if let Some(id) = &c.media_id {
        let kind = media_type.context("--media-id needs --type")?;
        let media_type = MediaType::parse(kind).with_context(|| {
            format!("--type {kind:?} is not a kind of media id: give mpnews, image, voice or video")
        })?;
        Content::Uploaded {
            media_type,
            media_id: id.clone(),
            ignore_reprint,
        }
    } else if let Some(card) = &c.card {
        Content::Card {
            card_id: card.clone(),
        }
    } else {
        bail!(
            "nothing to send: give --text, --image, --voice, --video, --article, --media-id or --card"
        );
    };
    Ok((Planned { content, files }, Vec::new()))
}

/// Reads a file the message needs (checked with the content, before
/// anything is planned or sent).
fn local_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// An openid list. Standard input is first copied to a private file,
/// removed when this is dropped, since the list is read more than once.
pub(crate) struct ListFile {
    pub list: OpenIdList,
    _spool: Option<Spool>,
}

impl ListFile {
    /// The list in `spool` (the followers of all or a tag, listed now).
    pub fn of_spool(spool: Spool) -> Result<ListFile> {
        Ok(ListFile {
            list: OpenIdList::read(spool.path())?,
            _spool: Some(spool),
        })
    }

    pub fn read(path: &Path, spool_dir: &Path) -> Result<ListFile> {
        if path.as_os_str() != "-" {
            return Ok(ListFile {
                list: OpenIdList::read(path)?,
                _spool: None,
            });
        }
        let mut spool = Spool::new_in(Some(spool_dir))?;
        std::io::copy(&mut std::io::stdin().lock(), spool.file())
            .context("cannot read the openids from standard input")?;
        Ok(ListFile {
            list: OpenIdList::read(spool.path())?,
            _spool: Some(spool),
        })
    }
}

fn confirm(size: u64, what: &str, yes: bool) -> Result<()> {
    crate::output::confirm(
        &format!("Send to {what} ({size} followers)?"),
        &format!("refusing to send to {what} ({size} followers)"),
        yes,
    )
}

/// The message a preview sends (files uploaded once, as for `send`, and
/// journalled in the same journal).
pub async fn preview_message(
    client: &Client,
    journal: &dyn Store,
    args: &PreviewArgs,
) -> Result<Message> {
    let planned = read_checked(&args.content, args.media_type.as_deref(), false).await?;
    // A preview plans no campaign: its uploads read the files where they
    // are (checked against the hashes just taken).
    Ok(prepare::message(client, journal, &planned.content, &CliUploads::default()).await?)
}

/// The account type from the profile.
fn account_type(settings: &Settings) -> Option<AccountType> {
    settings
        .account_type
        .as_deref()
        .and_then(AccountType::parse)
}

/// `wxmass send`.
///
/// `report`: `Some(json)` prints the outcome (as JSON or for people); `None`
/// stays quiet (the demo prints its own report).
pub async fn send(
    settings: &Settings,
    journal: &dyn Store,
    args: &SendArgs,
    report: Option<bool>,
) -> Result<()> {
    let json_out = report.unwrap_or(false);
    let quiet = report.is_none();
    args.content.check()?;
    if args.batch_size.is_some() && args.audience.openids.is_none() {
        bail!(
            "--batch-size goes with --openids only: a send to a tag or to all is one job; remove it"
        );
    }
    let client = settings.client()?;
    let planned = read_checked(
        &args.content,
        args.media_type.as_deref(),
        args.ignore_reprint,
    )
    .await?;
    let a = &args.audience;
    let (audience, mut list) = if a.all {
        (Audience::All, None)
    } else if let Some(tag_id) = a.tag {
        (Audience::Tag { tag_id }, None)
    } else if let Some(path) = &a.openids {
        (
            Audience::Openids,
            Some(ListFile::read(path, &settings.paths.data)?),
        )
    } else {
        bail!("no audience: give --all, --tag ID or --openids FILE");
    };
    let batch_size = args.batch_size();
    let campaign_id = args.campaign.clone().unwrap_or_else(|| {
        plan::default_id(
            &settings.appid,
            &planned.content,
            &audience,
            list.as_ref().map(|l| &l.list),
            batch_size,
        )
    });
    let spec = CampaignSpec {
        id: campaign_id.clone(),
        appid: settings.appid.clone(),
        account: account_type(settings),
        content: planned.content,
        files: planned.files,
        audience,
        batch_size,
    };
    let proposal = plan::propose(journal, &client, spec, list.as_mut().map(|l| &mut l.list))
        .await
        .map_err(engine_error)?;
    let existing = matches!(proposal, Proposal::Existing(_));
    if let Proposal::New(new) = &proposal {
        let list = list.as_ref().map(|l| &l.list);
        if let Some(list) = list.filter(|_| new.capped > 0) {
            eprintln!(
                "warning: {} of the list's {} followers have had {} mass messages from this account this month; WeChat will filter them out",
                new.capped,
                list.distinct(),
                quota::PER_MONTH
            );
        }
        if args.dry_run {
            return dry_run(journal, new, list, json_out, quiet).await;
        }
        let (size, audience) = (new.campaign.audience_size, &new.campaign.audience);
        if *audience == Audience::All || size > CONFIRM_ABOVE {
            let what = match audience {
                Audience::All => "every follower".to_owned(),
                Audience::Tag { tag_id } => format!("tag {tag_id}"),
                Audience::Openids => "the openid list".to_owned(),
            };
            confirm(size, &what, args.yes)?;
        }
        plan::commit(journal, new, list).await?;
        if let Some(list) = list.filter(|l| l.count() > l.distinct()) {
            eprintln!(
                "{} repeated openid(s) in the list skipped",
                list.count() - list.distinct()
            );
        }
    }
    drop(list);

    let batches = journal.batches(&campaign_id).await?;
    let pending = batches.iter().filter(|b| b.pending()).count();
    if existing && pending == 0 {
        let value =
            json!({"campaign": campaign_id, "already_sent": true, "batches": batches.len()});
        crate::output::print(json_out, &value, || {
            format!(
                "campaign {campaign_id} was already sent ({} batch(es)); nothing sent. See `wxmass status {campaign_id}`",
                batches.len()
            )
        });
        return Ok(());
    }
    if existing {
        eprintln!(
            "resuming campaign {campaign_id}: {pending} of {} batch(es) to send",
            batches.len()
        );
    }
    if args.dry_run {
        eprintln!("dry run: nothing sent");
        return Ok(());
    }
    let total = batches.len();
    let progress = Arc::new(CliObserver::new(pending as u64));
    // Ctrl-C (or SIGTERM) lets the batches in flight finish and be
    // recorded (at most a few seconds; a wait for WeChat's minute is cut
    // short), then stops. A batch cut off mid-request stays `submitting`
    // and is resent with its clientmsgid by the rerun, which WeChat
    // refuses as a duplicate.
    let interrupt = crate::stop::Stop::listen();
    let mut options = work_options(journal, args.sends_per_minute);
    // With --no-wait, batches WeChat took without naming the job are left
    // to `status --refresh` or a worker instead of waited for, and the
    // jobs are not followed.
    options.wait_to_name = !args.no_wait;
    let uploads = CliUploads::default();
    let sent = tokio::select! {
        sent = pipeline::send_campaign(journal, &client, &campaign_id, &options, !args.no_wait,
                                       Told { batches: progress.clone(), uploads: &uploads },
                                       interrupt.wait()) => Some(sent),
        () = async {
            interrupt.wait().await;
            tokio::time::sleep(IN_FLIGHT_GRACE).await;
        } => None,
    };
    match sent {
        Some(Ok(Sent::Done)) => {}
        Some(Ok(Sent::StoppedTracking)) => {
            eprintln!(
                "interrupted while waiting for WeChat's results: every batch was submitted; `wxmass status {campaign_id} --refresh` asks again"
            );
            return Err(Interrupted {
                what: "batches",
                done: total,
                total,
            }
            .into());
        }
        Some(Ok(Sent::QuotaSpent { resume_at })) => {
            bail!(
                "WeChat's daily quota is spent: rerun the same command after {}; it resumes and sends nothing twice",
                wxmass_campaign::beijing::shown(resume_at)
            );
        }
        Some(Ok(Sent::Stopped)) | None => {
            let done = submitted_count(journal, &campaign_id).await?;
            return Err(Interrupted {
                what: "batches",
                done,
                total,
            }
            .into());
        }
        Some(Err(wxmass_campaign::Error::Send { batch, source })) => {
            return Err(anyhow::Error::new(source).context(format!(
                "batch {batch} of {total} was not sent; rerun the same command to resume"
            )));
        }
        Some(Err(e)) => return Err(engine_error(e)),
    }
    if !quiet {
        crate::campaign_view::print_campaign(journal, &campaign_id, json_out).await?;
    }
    failed_batches(journal, &campaign_id).await
}

/// The engine's error for the CLI: WeChat's own error unwrapped, so that
/// its advice and exit status apply.
pub fn engine_error(error: wxmass_campaign::Error) -> anyhow::Error {
    match error {
        wxmass_campaign::Error::Api(e) => e.into(),
        e => e.into(),
    }
}

/// How long batches in flight may take to finish after Ctrl-C.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(5);

/// How this process sends: on a shared database under a name of its own
/// and with the minute's sends counted for every worker; on a SQLite file
/// under one name (a rerun takes back at once what a killed run held) and
/// waiting out WeChat's 45011 instead.
pub fn work_options(journal: &dyn Store, sends_per_minute: Option<u32>) -> WorkOptions {
    let mut options = WorkOptions::new("cli");
    if journal.is_shared() {
        options.worker = worker_name();
        options.sends_per_minute =
            Some(sends_per_minute.unwrap_or(engine::WECHAT_SENDS_PER_MINUTE));
    } else {
        options.sends_per_minute = sends_per_minute;
    }
    options
}

/// `host:pid`, a worker's name in the journal's leases.
pub fn worker_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    format!("{host}:{}", std::process::id())
}

async fn submitted_count(journal: &dyn Store, campaign: &str) -> Result<usize> {
    Ok(journal
        .batches(campaign)
        .await?
        .iter()
        .filter(|b| !b.pending())
        .count())
}

/// The batch bar, and the one line about WeChat's pace.
struct CliObserver {
    progress: std::sync::Mutex<Option<crate::progress::Progress>>,
    waited: AtomicBool,
    naming: AtomicBool,
}

impl CliObserver {
    fn new(total: u64) -> CliObserver {
        CliObserver {
            progress: std::sync::Mutex::new(Some(crate::progress::Progress::new(
                "batches submitted",
                total,
            ))),
            waited: AtomicBool::new(false),
            naming: AtomicBool::new(false),
        }
    }

    fn finish(&self) {
        if let Some(p) = self.progress.lock().ok().and_then(|mut p| p.take()) {
            p.finish();
        }
    }
}

// `send` plans mass messages only; a notice's progress is `notify`'s.
impl wxmass_campaign::fanout::FanoutObserver for CliObserver {}

impl Observer for CliObserver {
    fn all_submitted(&self) {
        self.finish();
    }

    fn submitted(&self, claim: &Claim, msg_id: Option<i64>) {
        tracing::debug!(campaign = %claim.campaign, batch = claim.index + 1, ?msg_id, "batch submitted");
        if let Some(p) = self.progress.lock().ok().as_mut().and_then(|p| p.as_mut()) {
            p.inc(1);
        }
    }

    fn waiting_for_pace(&self) {
        if !self.waited.swap(true, Ordering::Relaxed) {
            eprintln!("WeChat takes 60 mass sends a minute: waiting for the next minute");
        }
    }

    fn failed(&self, claim: &Claim, error: &wxmass_api::Error) {
        eprintln!(
            "batch {} not sent ({error}); it is tried again",
            claim.index + 1
        );
    }

    fn waiting_to_name(&self, unnamed: u64, ready_in: Duration) {
        if !self.naming.swap(true, Ordering::Relaxed) {
            eprintln!(
                "WeChat took {unnamed} batch(es) without naming the job (an answer was lost, and the retry came within its minute): sending them again in {}s to learn it; nothing is delivered twice (Ctrl-C leaves this to `wxmass status --refresh`)",
                ready_in.as_secs().max(1)
            );
        }
    }

    fn named(&self, claim: &Claim, msg_id: Option<i64>) {
        tracing::debug!(campaign = %claim.campaign, batch = claim.index + 1, ?msg_id, "batch sent again to learn its job");
    }
}

/// WeChat takes this many mass sends a minute (§17).
const SENDS_PER_MINUTE: u64 = engine::WECHAT_SENDS_PER_MINUTE as u64;

/// `send --dry-run`: the plan `send` would record (the same dedup and
/// batches, by the same code), the uploads it would make, and how long
/// WeChat's pace will take. Nothing is recorded or sent.
async fn dry_run(
    journal: &dyn Store,
    new: &NewCampaign,
    list: Option<&OpenIdList>,
    json_out: bool,
    quiet: bool,
) -> Result<()> {
    let (campaign, capped) = (&new.campaign, new.capped);
    let uploads = prepare::planned_uploads(journal, &campaign.appid, &campaign.content).await?;
    let sizes = new.batch_sizes(list);
    let (campaign_id, kind, tag_id) = (
        &campaign.id,
        campaign.audience.kind(),
        campaign.audience.tag_id(),
    );
    let followers = campaign.audience_size;
    let repeated = list.map_or(0, |l| l.count() - l.distinct());
    let batches = sizes.len() as u64;
    // The first 60 go at once; each further 60 waits for the next minute.
    let minutes = (batches.saturating_sub(1)) / SENDS_PER_MINUTE;
    let plan = json!({"campaign": campaign_id, "audience": kind, "tag_id": tag_id,
                      "audience_size": followers, "repeated_openids": repeated,
                      "followers_at_monthly_cap": capped,
                      "batches": batches, "batch_sizes": sizes, "uploads": uploads,
                      "pace_minutes": minutes, "content": campaign.content, "dry_run": true});
    if quiet {
        return Ok(());
    }
    crate::output::print(json_out, &plan, || {
        let mut out = format!(
            "dry run: campaign {campaign_id} would send {} to {followers} followers ({}) in {batches} batch(es); nothing sent",
            campaign.content.msgtype(),
            match tag_id {
                Some(t) => format!("tag {t}"),
                None => kind.to_owned(),
            }
        );
        if repeated > 0 {
            out.push_str(&format!(
                "\n  {repeated} repeated openid(s) in the list would be skipped"
            ));
        }
        if list.is_some() {
            let shown: Vec<String> = sizes.iter().take(5).map(u64::to_string).collect();
            let more = if sizes.len() > 5 { ", ..." } else { "" };
            out.push_str(&format!("\n  batch sizes: {}{more}", shown.join(", ")));
        }
        if uploads.is_empty() {
            out.push_str("\n  uploads: none (everything is in the journal already)");
        } else {
            out.push_str(&format!("\n  uploads: {}", uploads.join("; ")));
        }
        out.push_str(&match minutes {
            0 => "\n  pace: every batch goes within the first minute (WeChat takes 60 mass sends a minute)".to_owned(),
            m => format!("\n  pace: about {m} minute(s) at WeChat's 60 mass sends a minute"),
        });
        out
    });
    Ok(())
}

/// Uploads on the terminal: a spinner while one runs, a line once it is
/// journalled.
#[derive(Default)]
pub struct CliUploads(std::sync::Mutex<Option<crate::progress::Working>>);

impl UploadObserver for CliUploads {
    fn uploading(&self, what: &str) {
        let working = crate::progress::Working::new(format!("uploading {what}"));
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(working);
    }

    fn uploaded(&self, what: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        eprintln!("uploaded {what}");
    }
}

/// `send` stopped by Ctrl-C; `main` says so and exits 130.
#[derive(Debug, thiserror::Error)]
#[error("interrupted after {done} of {total} {what}; rerun the same command to resume")]
pub struct Interrupted {
    /// What was counted: `batches`, `recipients`.
    pub what: &'static str,
    /// Batches submitted.
    pub done: usize,
    /// Batches in the campaign.
    pub total: usize,
}

/// An error when WeChat reports that every batch failed (a job sent to
/// nobody is no success), a warning when some did.
async fn failed_batches(journal: &dyn Store, campaign: &str) -> Result<()> {
    let batches = journal.batches(campaign).await?;
    let failed: Vec<&Batch> = batches
        .iter()
        .filter(|b| {
            b.status.as_deref() == Some("SEND_FAIL")
                || b.report
                    .as_ref()
                    .is_some_and(|r| r.sent_count == 0 && r.total_count > 0)
        })
        .collect();
    if failed.is_empty() {
        return Ok(());
    }
    let why = "WeChat delivers at most 4 mass messages a month to each follower of a service account (counting sends from the web page), and filters followers who blocked the account; see `wxmass status` for each job's counts";
    if failed.len() == batches.len() {
        bail!(
            "campaign {campaign}: every batch failed (SEND_FAIL: no follower received it). {why}"
        );
    }
    eprintln!(
        "warning: campaign {campaign}: {} of {} batch(es) failed (SEND_FAIL). {why}",
        failed.len(),
        batches.len()
    );
    Ok(())
}
