//! The campaign engine behind `wxmass send`: plan (journal first), prepare
//! (uploads, journalled by content hash), send (each batch `submitting`
//! before its request, `submitted` after, with a clientmsgid derived from
//! campaign and batch), track (`mass/get` until final).

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wxmass_api::{Audience, Client, ClientMsgId, Errcode, MediaKind, Message, Sent};

use crate::cli::{ContentArgs, PreviewArgs, SendArgs};
use crate::config::Settings;
use crate::journal::{Batch, Campaign, Journal, now};

/// Audiences above this many followers ask for confirmation.
pub const CONFIRM_ABOVE: u64 = 1_000;

fn hex(bytes: &[u8], n: usize) -> String {
    bytes.iter().take(n).map(|b| format!("{b:02x}")).collect()
}

/// The clientmsgid of a batch: the same for every run of the campaign.
pub fn batch_clientmsgid(campaign: &str, index: u32) -> String {
    let digest = Sha256::digest(format!("{campaign}:{index}").as_bytes());
    format!("wxm{}", hex(&digest, 12))
}

/// What the user asked to send, before any upload.
struct Content {
    /// Recorded in the journal and hashed into the campaign id.
    json: Value,
}

fn read_content(
    c: &ContentArgs,
    media_type: Option<&str>,
    ignore_reprint: bool,
) -> Result<Content> {
    let json = if let Some(text) = &c.text {
        if text.trim().is_empty() {
            bail!("--text is empty");
        }
        // The same check the send makes, before anything is planned.
        Message::text(text.as_str())
            .validate()
            .context("--text cannot be sent")?;
        json!({"type": "text", "text": text})
    } else if !c.image.is_empty() {
        let files = c
            .image
            .iter()
            .map(|path| local_file(path, MediaKind::Image, true))
            .collect::<Result<Vec<_>>>()?;
        json!({"type": "image", "files": files})
    } else if let Some(path) = &c.voice {
        json!({"type": "voice", "file": local_file(path, MediaKind::Voice, true)?})
    } else if let Some(path) = &c.video {
        let title = c.title.as_deref().unwrap_or_default();
        if title.trim().is_empty() {
            bail!("--video needs a --title that is not empty");
        }
        json!({"type": "mpvideo", "file": local_file(path, MediaKind::Video, false)?,
               "title": title, "description": c.description.as_deref().unwrap_or_default()})
    } else if !c.article.is_empty() {
        crate::article::plan(c, ignore_reprint)?
    } else if let Some(id) = &c.media_id {
        // `video` is what `media upload --type` calls it; WeChat's msgtype
        // is mpvideo.
        let kind = match media_type.context("--media-id needs --type")? {
            "video" => "mpvideo",
            kind => kind,
        };
        if id.trim().is_empty() {
            bail!("--media-id is empty: give the id `wxmass media upload` printed");
        }
        json!({"type": kind, "media_id": id, "ignore_reprint": ignore_reprint})
    } else if let Some(card) = &c.card {
        Message::WxCard(card.clone())
            .validate()
            .context("--card cannot be sent")?;
        json!({"type": "wxcard", "card_id": card})
    } else {
        bail!(
            "nothing to send: give --text, --image, --voice, --video, --article, --media-id or --card"
        );
    };
    Ok(Content { json })
}

/// Reads and checks a file the message needs, before anything is planned or
/// sent; the journal keeps its path and hash.
fn local_file(path: &Path, kind: MediaKind, permanent: bool) -> Result<Value> {
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    wxmass_api::api::media::check_file(kind, permanent, &data).with_context(|| {
        format!(
            "{} cannot be sent as the message's {}",
            path.display(),
            kind.as_str()
        )
    })?;
    Ok(json!({"path": path, "sha256": sha256_hex(&data)}))
}

/// How long a temporary upload (3 days at WeChat) is reused: long enough
/// for any rerun, short enough that the message is sent before it expires.
pub const TEMPORARY_REUSE_SECONDS: i64 = 2 * 86_400;

/// The id (and URL) the journal has for bytes hashing to `hash` under
/// `key`, or the result of `upload`, journalled at once. `temporary`: reuse
/// only a recent upload. `label` names the upload in the log.
pub async fn upload_once(
    journal: &Journal,
    hash: &str,
    key: &str,
    temporary: bool,
    label: &str,
    upload: impl AsyncFnOnce() -> Result<(String, Option<String>)>,
) -> Result<String> {
    let after = if temporary {
        now() - TEMPORARY_REUSE_SECONDS
    } else {
        0
    };
    if let Some(id) = journal.media(hash, key, after)? {
        return Ok(id);
    }
    let working = crate::progress::Working::new(format!("uploading {label}"));
    let (id, url) = upload().await?;
    drop(working);
    journal.record_media(hash, key, &id, url.as_deref())?;
    eprintln!("uploaded {label}");
    Ok(id)
}

/// [`upload_once`] for a file planned by [`local_file`]: its bytes must
/// still be those planned.
async fn upload_planned(
    journal: &Journal,
    file: &Value,
    key: &str,
    upload: impl AsyncFnOnce(&str, Vec<u8>) -> Result<(String, Option<String>)>,
) -> Result<String> {
    let hash = file["sha256"].as_str().unwrap_or_default();
    let path = Path::new(file["path"].as_str().unwrap_or_default());
    let label = path.display().to_string();
    upload_once(journal, hash, key, false, &label, async || {
        let data =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        if sha256_hex(&data) != hash {
            bail!(
                "{} changed since the campaign was planned; use a new --campaign",
                path.display()
            );
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("media");
        upload(name, data).await
    })
    .await
}

/// The hex SHA-256 of some bytes: the journal's content key.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data), 32)
}

/// Calls `f` with each openid of a list file (one per line; blank lines
/// skipped), refusing any line that is not an openid, with its number.
pub fn each_openid(path: &Path, mut f: impl FnMut(&str) -> Result<()>) -> Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let mut line = String::new();
    let mut n = 0u64;
    loop {
        line.clear();
        n += 1;
        let read = reader
            .read_line(&mut line)
            .with_context(|| format!("{}: line {n}", path.display()))?;
        if read == 0 {
            return Ok(());
        }
        let openid = line.trim();
        if openid.is_empty() {
            continue;
        }
        if openid.len() > 64 || openid.chars().any(char::is_whitespace) {
            bail!("{}: line {n} is not an openid: {openid:?}", path.display());
        }
        f(openid)?;
    }
}

/// An openid list, read once to check and fingerprint it; the journal
/// reads it again when the campaign is planned, so memory stays flat
/// however long it is. Standard input is first copied to a private file,
/// removed when this is dropped.
struct OpenIdList {
    path: PathBuf,
    /// Openids, repeats included.
    count: u64,
    /// Hex SHA-256 of the openids in order: part of the campaign's id.
    digest: String,
    spooled: bool,
}

impl OpenIdList {
    fn read(path: &Path, spool_dir: &Path) -> Result<OpenIdList> {
        let (path, spooled) = if path.as_os_str() == "-" {
            std::fs::create_dir_all(spool_dir)
                .with_context(|| format!("cannot create {}", spool_dir.display()))?;
            let spool = spool_dir.join(format!("stdin-{}.openids", std::process::id()));
            crate::config::write_private(&spool, b"")?;
            let mut file = std::fs::OpenOptions::new().append(true).open(&spool)?;
            std::io::copy(&mut std::io::stdin().lock(), &mut file)
                .context("cannot read the openids from standard input")?;
            (spool, true)
        } else {
            (path.to_owned(), false)
        };
        let mut list = OpenIdList {
            path,
            count: 0,
            digest: String::new(),
            spooled,
        };
        let mut hasher = Sha256::new();
        let mut count = 0u64;
        each_openid(&list.path, |openid| {
            hasher.update(openid.as_bytes());
            hasher.update(b"\n");
            count += 1;
            Ok(())
        })?;
        list.count = count;
        list.digest = hex(&hasher.finalize(), 32);
        if list.count < 2 {
            bail!(
                "mass/send needs at least 2 openids; {} has {}",
                list.path.display(),
                list.count
            );
        }
        Ok(list)
    }
}

impl Drop for OpenIdList {
    fn drop(&mut self) {
        if self.spooled {
            let _ = std::fs::remove_file(&self.path);
        }
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
    format!(
        "mpvideo:{}",
        hex(&Sha256::digest(format!("{title}\n{description}")), 8)
    )
}

/// The message to send, uploading its files once (reused by content hash).
async fn message(client: &Client, journal: &Journal, content: &Value) -> Result<Message> {
    let kind = content["type"].as_str().unwrap_or_default();
    let str_of = |field: &str| content[field].as_str().unwrap_or_default().to_owned();
    let media = client.media();
    let permanent = |kind: MediaKind| {
        let media = &media;
        async move |name: &str, data: Vec<u8>| -> Result<(String, Option<String>)> {
            Ok(media.add_material(kind, name, data, None).await?)
        }
    };
    Ok(match kind {
        "text" => Message::text(content["text"].as_str().unwrap_or_default()),
        "image" => {
            let mut ids = Vec::new();
            for file in content["files"].as_array().into_iter().flatten() {
                ids.push(
                    upload_planned(
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
        "mpnews" if content.get("articles").is_some() => Message::MpNews {
            media_id: crate::article::prepare(client, journal, content).await?,
            send_ignore_reprint: content["ignore_reprint"].as_bool().unwrap_or(false),
        },
        "mpnews" => Message::MpNews {
            media_id: str_of("media_id"),
            send_ignore_reprint: content["ignore_reprint"].as_bool().unwrap_or(false),
        },
        "voice" if content.get("file").is_some() => Message::Voice(
            upload_planned(
                journal,
                &content["file"],
                "voice_permanent",
                permanent(MediaKind::Voice),
            )
            .await?,
        ),
        "voice" => Message::Voice(str_of("media_id")),
        "mpvideo" if content.get("file").is_some() => {
            let (title, description) = (str_of("title"), str_of("description"));
            let key = mpvideo_key(&title, &description);
            let media_id = upload_planned(journal, &content["file"], &key, async |name, data| {
                let video = media.upload(MediaKind::Video, name, data).await?;
                let id = media
                    .upload_video(&video.media_id, &title, &description)
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
        "mpvideo" => Message::MpVideo {
            media_id: str_of("media_id"),
            title: None,
            description: None,
        },
        "wxcard" => Message::WxCard(str_of("card_id")),
        other => bail!("the journal holds an unknown message type {other:?}"),
    })
}

/// The message a preview sends (pictures uploaded once, as for `send`).
pub async fn preview_message(
    client: &Client,
    settings: &Settings,
    args: &PreviewArgs,
) -> Result<Message> {
    let content = read_content(&args.content, args.media_type.as_deref(), false)?;
    let journal = Journal::open(&settings.paths.data.join("journal.db"))?;
    message(client, &journal, &content.json).await
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
    let content = read_content(
        &args.content,
        args.media_type.as_deref(),
        args.ignore_reprint,
    )?;
    let a = &args.audience;
    let (kind, tag_id, openids) = if a.all {
        ("all", None, None)
    } else if let Some(tag) = a.tag {
        ("tag", Some(tag), None)
    } else if let Some(path) = &a.openids {
        (
            "openids",
            None,
            Some(OpenIdList::read(path, &settings.paths.data)?),
        )
    } else {
        bail!("no audience: give --all, --tag ID or --openids FILE");
    };
    let audience_digest = match &openids {
        Some(list) => list.digest[..16].to_owned(),
        None => format!(
            "{kind}{}",
            tag_id.map(|t| t.to_string()).unwrap_or_default()
        ),
    };
    let campaign_id = args.campaign.clone().unwrap_or_else(|| {
        let digest = Sha256::digest(
            format!(
                "{}|{}|{audience_digest}|{}",
                settings.appid,
                content.json,
                args.batch_size()
            )
            .as_bytes(),
        );
        format!("c-{}", hex(&digest, 6))
    });
    let mut journal = Journal::open(journal_path)?;

    let existing = journal.campaign(&campaign_id)?;
    if let Some(existing) = &existing {
        if existing.content != content.json {
            bail!(
                "campaign {campaign_id:?} already exists with other content; choose another --campaign"
            );
        }
    } else {
        // Plan: sizes, confirmation, then the journal, before any send.
        let size = match kind {
            "all" => client
                .users()
                .followers_page(None)
                .await?
                .total
                .unwrap_or(0),
            "tag" => {
                let tags = client.tags().list().await?;
                let tag = tags
                    .iter()
                    .find(|t| Some(t.id) == tag_id)
                    .with_context(|| {
                        format!(
                            "no tag {} on this account; see `wxmass tags list`",
                            tag_id.unwrap_or(0)
                        )
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
            _ => openids.as_ref().map_or(0, |l| l.count),
        };
        if kind == "all" && size == 0 {
            bail!("the account has no followers: nothing to send");
        }
        crate::quota::check(
            &journal,
            &settings.appid,
            settings.account_type.as_deref(),
            kind,
            tag_id,
        )?;
        let campaign = Campaign {
            id: campaign_id.clone(),
            appid: settings.appid.clone(),
            content: content.json.clone(),
            audience_kind: kind.to_owned(),
            tag_id,
            audience_size: size as i64,
            created_at: now(),
        };
        if args.dry_run {
            return dry_run(
                &mut journal,
                settings,
                &campaign,
                openids.as_ref(),
                args,
                json_out,
                quiet,
            );
        }
        if kind == "all" || size > CONFIRM_ABOVE {
            let what = match kind {
                "all" => "every follower".to_owned(),
                "tag" => format!("tag {}", tag_id.unwrap_or(0)),
                _ => "the openid list".to_owned(),
            };
            confirm(size, &what, args.yes)?;
        }
        let (planner, _) = start_plan(&mut journal, settings, &campaign, openids.as_ref())?;
        let planned = planner.finish(u64::from(args.batch_size()), |i| {
            batch_clientmsgid(&campaign_id, i)
        })?;
        if let Some(list) = openids.as_ref().filter(|l| l.count > planned) {
            eprintln!(
                "{} repeated openid(s) in the list skipped",
                list.count - planned
            );
        }
    }

    let batches = journal.batches(&campaign_id)?;
    let pending: Vec<&Batch> = batches
        .iter()
        .filter(|b| b.state != "submitted" || b.msg_id.is_none())
        .collect();
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
        let audience = match campaign.audience_kind.as_str() {
            "all" => Audience::All,
            "tag" => Audience::Tag(campaign.tag_id.unwrap_or(0)),
            _ => Audience::OpenIds(journal.members(&campaign_id, batch.index)?),
        };
        journal.mark_submitting(&campaign_id, batch.index)?;
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
        journal.mark_submitted(&campaign_id, batch.index, msg_id, data_id)?;
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

/// `send --dry-run`: the plan `send` would record, made by the journal's own
/// planner and thrown away (the same dedup and batches), the uploads it
/// would make, and how long WeChat's pace will take. Nothing is recorded or
/// sent.
fn dry_run(
    journal: &mut Journal,
    settings: &Settings,
    campaign: &Campaign,
    openids: Option<&OpenIdList>,
    args: &SendArgs,
    json_out: bool,
    quiet: bool,
) -> Result<()> {
    let uploads = planned_uploads(journal, &campaign.content)?;
    let (planner, capped) = start_plan(journal, settings, campaign, openids)?;
    let (distinct, sizes) = planner.rehearse(u64::from(args.batch_size()))?;
    let (campaign_id, kind, tag_id) = (
        &campaign.id,
        campaign.audience_kind.as_str(),
        campaign.tag_id,
    );
    let followers = if openids.is_some() {
        distinct
    } else {
        campaign.audience_size as u64
    };
    let repeated = openids.map_or(0, |l| l.count.saturating_sub(distinct));
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
            campaign.content["type"].as_str().unwrap_or("?"),
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
        if openids.is_some() {
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

/// Starts recording `campaign`: its row, its openids streamed from the list,
/// and the per-follower quota check of a service account. The caller
/// finishes the plan, or rehearses it. Also returns how many of the list's
/// followers are at the monthly cap.
fn start_plan<'j>(
    journal: &'j mut Journal,
    settings: &Settings,
    campaign: &Campaign,
    openids: Option<&OpenIdList>,
) -> Result<(crate::journal::Planner<'j>, u64)> {
    let guard = crate::quota::ListGuard::new(
        journal,
        &settings.appid,
        settings.account_type.as_deref(),
        &campaign.audience_kind,
    )?;
    let mut planner = journal.plan(campaign)?;
    if let Some(list) = openids {
        each_openid(&list.path, |openid| planner.add(openid))?;
    }
    let capped = match &guard {
        Some(guard) => guard.check(&planner)?,
        None => 0,
    };
    Ok((planner, capped))
}

/// The uploads a send of `content` would make: files the journal has no
/// media id for yet.
fn planned_uploads(journal: &Journal, content: &Value) -> Result<Vec<String>> {
    let mut uploads = Vec::new();
    let mut check = |file: &Value, key: &str, what: &str| -> Result<()> {
        let hash = file["sha256"].as_str().unwrap_or_default();
        if journal.media(hash, key, 0)?.is_none() {
            uploads.push(format!("{what} {}", file["path"].as_str().unwrap_or("?")));
        }
        Ok(())
    };
    match content["type"].as_str().unwrap_or_default() {
        "image" => {
            for file in content["files"].as_array().into_iter().flatten() {
                check(file, "image_permanent", "image")?;
            }
        }
        "voice" if content.get("file").is_some() => {
            check(&content["file"], "voice_permanent", "voice")?;
        }
        "mpvideo" if content.get("file").is_some() => {
            let key = mpvideo_key(
                content["title"].as_str().unwrap_or_default(),
                content["description"].as_str().unwrap_or_default(),
            );
            check(&content["file"], &key, "video (then uploadvideo)")?;
        }
        "mpnews" if content.get("articles").is_some() => {
            uploads.extend(crate::article::planned_uploads(journal, content)?);
        }
        _ => {}
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
fn failed_batches(journal: &Journal, campaign: &str) -> Result<()> {
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
    audience: &Audience,
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
async fn track(client: &Client, journal: &Journal, campaign: &str) -> Result<()> {
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
            journal.set_status(campaign, batch.index, name)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clientmsgids_are_stable_and_short() {
        let a = batch_clientmsgid("c-1", 0);
        assert_eq!(a, batch_clientmsgid("c-1", 0));
        assert_ne!(a, batch_clientmsgid("c-1", 1));
        assert!(a.len() <= 32);
    }
}
