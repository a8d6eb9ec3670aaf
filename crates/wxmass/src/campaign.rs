//! `wxmass send` on the campaign engine (`wxmass-campaign`): plan (the
//! content read and checked, the journal written first, files kept by
//! content), prepare (uploads, journalled by content hash), send (each batch
//! `submitting` before its request, `submitted` after, with a clientmsgid
//! derived from campaign and batch), track (`mass/get` until final).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use sha2::{Digest, Sha256};
use wxmass_api::{Client, ClientMsgId, Errcode, MediaKind, Message, Sent};
use wxmass_campaign::{
    AccountType, Audience, Batch, Campaign, Content, Files, MediaType, OpenIdList, PlannedBatch,
    SqliteJournal, batch_clientmsgid, beijing, legacy, quota,
};

use crate::cli::{ContentArgs, PreviewArgs, SendArgs};
use crate::config::Settings;
use crate::uploads::upload_file;

/// Audiences above this many followers ask for confirmation.
pub const CONFIRM_ABOVE: u64 = 1_000;

/// What the user asked to send, read and checked, with the bytes of every
/// file it needs (kept in the journal with the campaign).
pub struct Planned {
    /// The message.
    pub content: Content,
    /// Its files.
    pub files: Files,
}

fn read_content(
    c: &ContentArgs,
    media_type: Option<&str>,
    ignore_reprint: bool,
) -> Result<Planned> {
    let mut files = Files::default();
    let content = if let Some(text) = &c.text {
        if text.trim().is_empty() {
            bail!("--text is empty");
        }
        // The same check the send makes, before anything is planned.
        Message::text(text.as_str())
            .validate()
            .context("--text cannot be sent")?;
        Content::Text { text: text.clone() }
    } else if !c.image.is_empty() {
        let mut refs = Vec::new();
        for path in &c.image {
            refs.push(files.add(path, local_file(path, MediaKind::Image, true)?));
        }
        Content::Images { files: refs }
    } else if let Some(path) = &c.voice {
        Content::Voice {
            file: files.add(path, local_file(path, MediaKind::Voice, true)?),
        }
    } else if let Some(path) = &c.video {
        let title = c.title.as_deref().unwrap_or_default();
        if title.trim().is_empty() {
            bail!("--video needs a --title that is not empty");
        }
        Content::Video {
            file: files.add(path, local_file(path, MediaKind::Video, false)?),
            title: title.to_owned(),
            description: c.description.clone().unwrap_or_default(),
        }
    } else if !c.article.is_empty() {
        return crate::article::plan(c, ignore_reprint);
    } else if let Some(id) = &c.media_id {
        let kind = media_type.context("--media-id needs --type")?;
        let media_type = MediaType::parse(kind).with_context(|| {
            format!("--type {kind:?} is not a kind of media id: give mpnews, image, voice or video")
        })?;
        if id.trim().is_empty() {
            bail!("--media-id is empty: give the id `wxmass media upload` printed");
        }
        Content::Uploaded {
            media_type,
            media_id: id.clone(),
            ignore_reprint,
        }
    } else if let Some(card) = &c.card {
        Message::WxCard(card.clone())
            .validate()
            .context("--card cannot be sent")?;
        Content::Card {
            card_id: card.clone(),
        }
    } else {
        bail!(
            "nothing to send: give --text, --image, --voice, --video, --article, --media-id or --card"
        );
    };
    Ok(Planned { content, files })
}

/// Reads and checks a file the message needs, before anything is planned or
/// sent.
fn local_file(path: &Path, kind: MediaKind, permanent: bool) -> Result<Vec<u8>> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    wxmass_api::api::media::check_file(kind, permanent, &data).with_context(|| {
        format!(
            "{} cannot be sent as the message's {}",
            path.display(),
            kind.as_str()
        )
    })?;
    Ok(data)
}

/// An openid list. Standard input is first copied to a private file,
/// removed when this is dropped, since the list is read more than once.
struct ListFile {
    list: OpenIdList,
    _spool: Option<Spool>,
}

/// A file removed when dropped.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl ListFile {
    fn read(path: &Path, spool_dir: &Path) -> Result<ListFile> {
        if path.as_os_str() != "-" {
            return Ok(ListFile {
                list: OpenIdList::read(path)?,
                _spool: None,
            });
        }
        std::fs::create_dir_all(spool_dir)
            .with_context(|| format!("cannot create {}", spool_dir.display()))?;
        let spool = Spool(spool_dir.join(format!("stdin-{}.openids", std::process::id())));
        crate::config::write_private(&spool.0, b"")?;
        let mut file = std::fs::OpenOptions::new().append(true).open(&spool.0)?;
        std::io::copy(&mut std::io::stdin().lock(), &mut file)
            .context("cannot read the openids from standard input")?;
        Ok(ListFile {
            list: OpenIdList::read(&spool.0)?,
            _spool: Some(spool),
        })
    }
}

fn confirm(size: u64, what: &str, yes: bool) -> Result<()> {
    crate::commands::confirm(
        &format!("Send to {what} ({size} followers)?"),
        &format!("refusing to send to {what} ({size} followers)"),
        yes,
    )
}

/// The journal key of an mpvideo upload: its id depends on the title and
/// description as well as the bytes, so they are part of the key.
fn mpvideo_key(title: &str, description: &str) -> String {
    let digest = Sha256::digest(format!("{title}\n{description}"));
    format!("mpvideo:{}", hex::encode(&digest[..8]))
}

/// The message to send, uploading its files once (reused by content hash).
async fn message(client: &Client, journal: &SqliteJournal, content: &Content) -> Result<Message> {
    let media = client.media();
    let permanent = |kind: MediaKind| {
        let media = &media;
        async move |name: &str, data: Vec<u8>| -> Result<(String, Option<String>)> {
            Ok(media.add_material(kind, name, data, None).await?)
        }
    };
    Ok(match content {
        Content::Text { text } => Message::text(text.as_str()),
        Content::Images { files } => {
            let mut ids = Vec::new();
            for file in files {
                ids.push(
                    upload_file(
                        journal,
                        file,
                        "image_permanent",
                        permanent(MediaKind::Image),
                    )
                    .await?,
                );
            }
            Message::Images {
                media_ids: ids,
                recommend: None,
                need_open_comment: false,
                only_fans_can_comment: false,
            }
        }
        Content::Articles { ignore_reprint, .. } => Message::MpNews {
            media_id: crate::article::prepare(client, journal, content).await?,
            send_ignore_reprint: *ignore_reprint,
        },
        Content::Voice { file } => Message::Voice(
            upload_file(
                journal,
                file,
                "voice_permanent",
                permanent(MediaKind::Voice),
            )
            .await?,
        ),
        Content::Video {
            file,
            title,
            description,
        } => {
            let key = mpvideo_key(title, description);
            let media_id = upload_file(journal, file, &key, async |name, data| {
                let video = media.upload(MediaKind::Video, name, data).await?;
                let id = media
                    .upload_video(&video.media_id, title, description)
                    .await?;
                Ok((id, None))
            })
            .await?;
            Message::MpVideo {
                media_id,
                title: Some(title.clone()),
                description: Some(description.clone()),
            }
        }
        Content::Uploaded {
            media_type,
            media_id,
            ignore_reprint,
        } => match media_type {
            MediaType::Mpnews => Message::MpNews {
                media_id: media_id.clone(),
                send_ignore_reprint: *ignore_reprint,
            },
            MediaType::Image => Message::Images {
                media_ids: vec![media_id.clone()],
                recommend: None,
                need_open_comment: false,
                only_fans_can_comment: false,
            },
            MediaType::Voice => Message::Voice(media_id.clone()),
            MediaType::Mpvideo => Message::MpVideo {
                media_id: media_id.clone(),
                title: None,
                description: None,
            },
        },
        Content::Card { card_id } => Message::WxCard(card_id.clone()),
    })
}

/// The message a preview sends (files uploaded once, as for `send`, and
/// journalled in the same journal).
pub async fn preview_message(
    client: &Client,
    journal_path: &Path,
    args: &PreviewArgs,
) -> Result<Message> {
    let planned = read_content(&args.content, args.media_type.as_deref(), false)?;
    // A preview plans no campaign: its uploads read the files where they
    // are (checked against the hashes just taken).
    let journal = SqliteJournal::open(journal_path)?;
    message(client, &journal, &planned.content).await
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
    journal_path: &Path,
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
    let planned = read_content(
        &args.content,
        args.media_type.as_deref(),
        args.ignore_reprint,
    )?;
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
    let audience_digest = match &list {
        Some(l) => l.list.digest()[..16].to_owned(),
        None => format!(
            "{}{}",
            audience.kind(),
            audience.tag_id().map(|t| t.to_string()).unwrap_or_default()
        ),
    };
    // Named as the first releases named it, so the command that planned a
    // campaign before an upgrade finds it after.
    let campaign_id = args.campaign.clone().unwrap_or_else(|| {
        let digest = Sha256::digest(
            format!(
                "{}|{}|{audience_digest}|{}",
                settings.appid,
                legacy::id_json(&planned.content),
                args.batch_size()
            )
            .as_bytes(),
        );
        format!("c-{}", hex::encode(&digest[..6]))
    });
    let mut journal = SqliteJournal::open(journal_path)?;

    let existing = journal.campaign(&campaign_id)?;
    if let Some(existing) = &existing {
        if legacy::id_json(&existing.content) != legacy::id_json(&planned.content) {
            return Err(wxmass_campaign::Error::ContentChanged(campaign_id).into());
        }
    } else {
        // Plan: sizes, quotas, confirmation, then the journal, before any send.
        let size = match &audience {
            Audience::All => client
                .users()
                .followers_page(None)
                .await?
                .total
                .unwrap_or(0),
            Audience::Tag { tag_id } => {
                let tags = client.tags().list().await?;
                let tag = tags.iter().find(|t| t.id == *tag_id).with_context(|| {
                    format!("no tag {tag_id} on this account; see `wxmass tags list`")
                })?;
                if tag.count == 0 {
                    bail!(
                        "tag {} ({}) has no followers: nothing to send (a job would still count against the account's quota; on a subscription account it is the day's one mass message)",
                        tag.id,
                        tag.name.escape_debug()
                    );
                }
                tag.count
            }
            Audience::Openids => list.as_ref().map_or(0, |l| l.list.distinct()),
        };
        if audience == Audience::All && size == 0 {
            bail!("the account has no followers: nothing to send");
        }
        let now = beijing::now();
        let account = account_type(settings);
        quota::check(&journal, &settings.appid, account, &audience, now)?;
        let capped = match list.as_mut() {
            Some(l) => {
                let capped = quota::followers_at_cap(
                    &journal,
                    &settings.appid,
                    account,
                    &l.list,
                    &campaign_id,
                    now,
                )?;
                l.list.forget_hashes();
                if capped > 0 {
                    eprintln!(
                        "warning: {capped} of the list's {} followers have had {} mass messages from this account this month; WeChat will filter them out",
                        l.list.distinct(),
                        quota::PER_MONTH
                    );
                }
                capped
            }
            None => 0,
        };
        let campaign = Campaign {
            id: campaign_id.clone(),
            appid: settings.appid.clone(),
            content: planned.content.clone(),
            audience: audience.clone(),
            audience_size: size,
            created_at: now,
        };
        let list = list.as_ref().map(|l| &l.list);
        if args.dry_run {
            return dry_run(&journal, &campaign, list, capped, args, json_out, quiet);
        }
        if audience == Audience::All || size > CONFIRM_ABOVE {
            let what = match &audience {
                Audience::All => "every follower".to_owned(),
                Audience::Tag { tag_id } => format!("tag {tag_id}"),
                Audience::Openids => "the openid list".to_owned(),
            };
            confirm(size, &what, args.yes)?;
        }
        match list {
            Some(list) => {
                let mut batches =
                    list.batches(args.batch_size(), |i| batch_clientmsgid(&campaign_id, i))?;
                journal.plan(&campaign, &planned.files, &mut batches)?;
                if list.count() > list.distinct() {
                    eprintln!(
                        "{} repeated openid(s) in the list skipped",
                        list.count() - list.distinct()
                    );
                }
            }
            None => {
                let one = PlannedBatch {
                    clientmsgid: batch_clientmsgid(&campaign_id, 0),
                    openids: Vec::new(),
                };
                journal.plan(&campaign, &planned.files, &mut std::iter::once(Ok(one)))?;
            }
        }
    }
    drop(list);

    let batches = journal.batches(&campaign_id)?;
    let pending: Vec<&Batch> = batches.iter().filter(|b| b.pending()).collect();
    if existing.is_some() && pending.is_empty() {
        let value =
            json!({"campaign": campaign_id, "already_sent": true, "batches": batches.len()});
        crate::commands::print(json_out, &value, || {
            format!(
                "campaign {campaign_id} was already sent ({} batch(es)); nothing sent. See `wxmass status {campaign_id}`",
                batches.len()
            )
        });
        return Ok(());
    }
    if existing.is_some() {
        eprintln!(
            "resuming campaign {campaign_id}: {} of {} batch(es) to send",
            pending.len(),
            batches.len()
        );
    }
    if args.dry_run {
        eprintln!("dry run: nothing sent");
        return Ok(());
    }
    let campaign = journal
        .campaign(&campaign_id)?
        .context("campaign vanished from the journal")?;
    let message = message(&client, &journal, &campaign.content).await?;
    let mut progress = crate::progress::Progress::new("batches submitted", pending.len() as u64);
    // Ctrl-C stops between batches, or during a wait for WeChat; a batch
    // cut off mid-request stays `submitting` and is resent with its
    // clientmsgid by the rerun, which WeChat refuses as a duplicate.
    let interrupt = Interrupt::listen();
    let total = batches.len();
    let already = total - pending.len();
    for (n, batch) in pending.iter().enumerate() {
        if interrupt.happened() {
            return Err(Interrupted {
                done: already + n,
                total,
            }
            .into());
        }
        let audience = match campaign.audience {
            Audience::All => wxmass_api::Audience::All,
            Audience::Tag { tag_id } => wxmass_api::Audience::Tag(tag_id),
            Audience::Openids => {
                wxmass_api::Audience::OpenIds(journal.openids(&campaign_id, batch.index)?)
            }
        };
        journal.mark_submitting(&campaign_id, batch.index, beijing::now())?;
        let sent = tokio::select! {
            sent = send_batch(&client, &message, &audience, &batch.clientmsgid) => sent?,
            () = interrupt.wait() => {
                return Err(Interrupted { done: already + n, total }.into());
            }
        };
        let (msg_id, data_id) = match sent {
            Sent::Submitted {
                msg_id,
                msg_data_id,
                ..
            } => (Some(msg_id), msg_data_id),
            Sent::AlreadySubmitted { msg_id, .. } => (msg_id, None),
        };
        journal.mark_submitted(&campaign_id, batch.index, msg_id, data_id, beijing::now())?;
        tracing::debug!(campaign = %campaign_id, batch = batch.index + 1, ?msg_id, "batch submitted");
        progress.inc(1);
    }
    progress.finish();
    if !args.no_wait {
        tokio::select! {
            tracked = track(&client, &journal, &campaign_id) => tracked?,
            () = interrupt.wait() => {
                eprintln!(
                    "interrupted while waiting for WeChat's results: every batch was submitted; `wxmass status {campaign_id} --refresh` asks again"
                );
                return Err(Interrupted { done: total, total }.into());
            }
        }
    }
    if !quiet {
        crate::commands::status::print_campaign(&journal, &campaign_id, json_out)?;
    }
    failed_batches(&journal, &campaign_id)
}

/// WeChat takes this many mass sends a minute (§17).
const SENDS_PER_MINUTE: u64 = 60;

/// `send --dry-run`: the plan `send` would record (the same dedup and
/// batches, by the same code), the uploads it would make, and how long
/// WeChat's pace will take. Nothing is recorded or sent.
fn dry_run(
    journal: &SqliteJournal,
    campaign: &Campaign,
    list: Option<&OpenIdList>,
    capped: u64,
    args: &SendArgs,
    json_out: bool,
    quiet: bool,
) -> Result<()> {
    let uploads = planned_uploads(journal, &campaign.content)?;
    let sizes = match list {
        Some(list) => list.batch_sizes(args.batch_size()),
        None => vec![0],
    };
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
    crate::commands::print(json_out, &plan, || {
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

/// The uploads a send of `content` would make: files the journal has no
/// media id for yet.
fn planned_uploads(journal: &SqliteJournal, content: &Content) -> Result<Vec<String>> {
    let mut uploads = Vec::new();
    let mut check = |file: &wxmass_campaign::FileRef, key: &str, what: &str| -> Result<()> {
        if journal.media(&file.sha256, key, 0)?.is_none() {
            uploads.push(format!("{what} {}", file.path.display()));
        }
        Ok(())
    };
    match content {
        Content::Images { files } => {
            for file in files {
                check(file, "image_permanent", "image")?;
            }
        }
        Content::Voice { file } => check(file, "voice_permanent", "voice")?,
        Content::Video {
            file,
            title,
            description,
        } => check(
            file,
            &mpvideo_key(title, description),
            "video (then uploadvideo)",
        )?,
        Content::Articles { .. } => {
            uploads.extend(crate::article::planned_uploads(journal, content)?);
        }
        Content::Text { .. } | Content::Uploaded { .. } | Content::Card { .. } => {}
    }
    Ok(uploads)
}

/// `send` stopped by Ctrl-C; `main` says so and exits 130.
#[derive(Debug, thiserror::Error)]
#[error("interrupted after {done} of {total} batches; rerun the same command to resume")]
pub struct Interrupted {
    /// Batches submitted.
    pub done: usize,
    /// Batches in the campaign.
    pub total: usize,
}

/// Ctrl-C, noticed from the moment `listen` is called.
struct Interrupt(tokio::sync::watch::Receiver<bool>);

impl Interrupt {
    fn listen() -> Interrupt {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(true);
            }
        });
        Interrupt(rx)
    }

    fn happened(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves on Ctrl-C.
    async fn wait(&self) {
        let mut rx = self.0.clone();
        let _ = rx.wait_for(|&pressed| pressed).await;
        if !*rx.borrow() {
            // The listener is gone (no signal support): never resolve.
            std::future::pending::<()>().await;
        }
    }
}

/// An error when WeChat reports that every batch failed (a job sent to
/// nobody is no success), a warning when some did.
fn failed_batches(journal: &SqliteJournal, campaign: &str) -> Result<()> {
    let batches = journal.batches(campaign)?;
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

/// How often a batch refused for the per-minute limit is tried again.
const MINUTE_QUOTA_RETRY: Duration = Duration::from_secs(3);
/// How long to keep trying before giving up (the command can be rerun).
const MINUTE_QUOTA_PATIENCE: Duration = Duration::from_secs(180);

/// Sends one batch, waiting out WeChat's limit of 60 mass sends a minute
/// (45011). WeChat refuses such a request before creating a job, so sending
/// it again with the same clientmsgid cannot deliver twice.
async fn send_batch(
    client: &Client,
    message: &Message,
    audience: &wxmass_api::Audience,
    clientmsgid: &str,
) -> Result<Sent> {
    let give_up = tokio::time::Instant::now() + MINUTE_QUOTA_PATIENCE;
    let mut waiting = false;
    loop {
        let id = ClientMsgId::Given(clientmsgid.to_owned());
        match client.mass().send_with(message, audience, id).await {
            Err(e)
                if e.errcode() == Some(Errcode::ApiMinuteQuota)
                    && tokio::time::Instant::now() < give_up =>
            {
                if !waiting {
                    eprintln!("WeChat takes 60 mass sends a minute: waiting for the next minute");
                    waiting = true;
                }
                tracing::debug!(
                    clientmsgid,
                    "45011: the minute's sends are used; trying again"
                );
                tokio::time::sleep(MINUTE_QUOTA_RETRY).await;
            }
            sent => return Ok(sent?),
        }
    }
}

/// Polls `mass/get` until every job is final (or a minute has passed).
async fn track(client: &Client, journal: &SqliteJournal, campaign: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let mut open = 0;
        for batch in journal.batches(campaign)? {
            let Some(msg_id) = batch.msg_id else { continue };
            if batch.status.as_deref().is_some_and(|s| s != "SENDING") {
                continue;
            }
            let status = client.mass().get(msg_id).await?;
            let name = status.as_str();
            journal.set_status(campaign, batch.index, name, beijing::now())?;
            if !status.is_final() {
                open += 1;
            }
        }
        if open == 0 || tokio::time::Instant::now() > deadline {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
