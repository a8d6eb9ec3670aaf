//! `wxmass notify`: a notice sent follower by follower on the fan-out
//! engine (`wxmass_campaign::fanout`): the flags become a checked notice,
//! the audience becomes recipients recorded before anything is sent, and
//! the engine sends each once where WeChat can tell a repeat and reports
//! `unknown` where it cannot. Ctrl-C and a rerun of the same command work
//! as for `send`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::json;
use wxmass_api::Client;
use wxmass_campaign::audience::spool_followers;
use wxmass_campaign::fanout::{self, Fanned, FanoutObserver, FanoutOptions};
use wxmass_campaign::notices::{
    Channel, MiniProgramPage, SubscriptionNotice, Tally, TemplateNotice,
};
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{Audience, Campaign, Content, Files, beijing, checks, plan};

use crate::campaign::{CONFIRM_ABOVE, ListFile, worker_name};
use crate::cli::NotifyArgs;
use crate::config::Settings;

/// The notice the flags describe, checked by the engine's checker (every
/// problem at once, each with its flag).
pub async fn notice_of(args: &NotifyArgs) -> Result<Content> {
    let data = keywords(&args.data)?;
    let miniprogram = args.miniprogram.as_deref().map(miniprogram).transpose()?;
    let via: Vec<Channel> = match args.via.as_deref() {
        Some("template") => vec![Channel::Template],
        Some("subscribe") => vec![Channel::Subscription],
        Some("custom") => vec![Channel::CustomerService],
        Some("auto") => Channel::AUTO.to_vec(),
        Some(other) => bail!("--via {other:?}: give template, subscribe, custom or auto"),
        None => match (&args.template, &args.subscription, &args.text) {
            (Some(_), None, Some(_)) => Channel::AUTO.to_vec(),
            (Some(_), None, None) => vec![Channel::Template],
            (None, Some(_), None) => vec![Channel::Subscription],
            (None, None, Some(_)) => vec![Channel::CustomerService],
            _ => bail!(
                "nothing to send: give --template ID with --data, --subscription ID with --data, or --text (with --template, --via auto sends the text where the follower's window is open)"
            ),
        },
    };
    let needs = |channel: Channel| via.contains(&channel);
    for (given, flag, channel) in [
        (args.template.is_some(), "--template", Channel::Template),
        (
            args.subscription.is_some(),
            "--subscription",
            Channel::Subscription,
        ),
        (args.text.is_some(), "--text", Channel::CustomerService),
    ] {
        match (given, needs(channel)) {
            (false, true) => bail!("--via sends by {} but {flag} is missing", channel.as_str()),
            (true, false) => bail!(
                "{flag} is given but --via does not send by {}: remove it, or choose --via auto",
                channel.as_str()
            ),
            _ => {}
        }
    }
    if !data.is_empty() && args.template.is_none() && args.subscription.is_none() {
        bail!("--data goes with --template or --subscription");
    }
    if args.url.is_some() && args.template.is_none() && args.subscription.is_none() {
        bail!("--url goes with --template or --subscription");
    }
    let content = Content::Notice {
        via,
        template: args.template.as_ref().map(|id| TemplateNotice {
            template_id: id.clone(),
            data: data.clone(),
            url: args.url.clone(),
            miniprogram: miniprogram.clone(),
        }),
        subscription: args.subscription.as_ref().map(|id| SubscriptionNotice {
            template_id: id.clone(),
            data: data.clone(),
            page: args.url.clone(),
            miniprogram: miniprogram.clone(),
        }),
        custom_text: args.text.clone(),
    };
    let problems = checks::check(&Files::default(), &content).await?;
    let said: Vec<String> = problems
        .iter()
        .map(|p| {
            let flag = match p.field.split(['.', '[']).nth(1).unwrap_or_default() {
                "template" => "--template/--data",
                "subscription" => "--subscription/--data",
                "custom_text" => "--text",
                _ => "--via",
            };
            format!("{flag}: {}", p.message)
        })
        .collect();
    match said.len() {
        0 => Ok(content),
        1 => bail!("{}", said[0]),
        n => bail!("{n} problems to fix first:\n  {}", said.join("\n  ")),
    }
}

/// `--data KEY=VALUE`s, each key once.
fn keywords(given: &[String]) -> Result<BTreeMap<String, String>> {
    let mut data = BTreeMap::new();
    for pair in given {
        let (key, value) = pair.split_once('=').with_context(|| {
            format!("--data {pair:?}: give KEY=VALUE, e.g. --data thing1=钢笔 (`wxmass templates list` shows the keys)")
        })?;
        if data
            .insert(key.trim().to_owned(), value.to_owned())
            .is_some()
        {
            bail!("--data {key}: given twice");
        }
    }
    Ok(data)
}

/// `--miniprogram APPID:PAGEPATH`.
fn miniprogram(given: &str) -> Result<MiniProgramPage> {
    let (appid, pagepath) = given.split_once(':').with_context(|| {
        format!(
            "--miniprogram {given:?}: give APPID:PAGEPATH, e.g. wx0123456789abcdef:pages/order?id=7"
        )
    })?;
    Ok(MiniProgramPage {
        appid: appid.to_owned(),
        pagepath: pagepath.to_owned(),
    })
}

/// `wxmass notify`.
pub async fn notify(
    settings: &Settings,
    store: &dyn Store,
    args: &NotifyArgs,
    json_out: bool,
) -> Result<()> {
    let client = settings.client()?;
    let content = notice_of(args).await?;
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
    let id = args.campaign.clone().unwrap_or_else(|| {
        plan::default_id(
            &settings.appid,
            &content,
            &audience,
            list.as_ref().map(|l| &l.list),
            wxmass_campaign::notices::CHUNK as u32,
        )
    });
    let campaign = match store.planned_campaign(&id).await? {
        Some(existing) => {
            if existing.content != content {
                return Err(wxmass_campaign::Error::ContentChanged(id).into());
            }
            if args.dry_run {
                let tally = fanout::tally(store, &id).await?;
                return print_dry_run(&client, &existing, tally.pending(), true, json_out).await;
            }
            eprintln!(
                "resuming campaign {id}: {} of {} recipient(s) to send",
                fanout::tally(store, &id).await?.pending(),
                existing.audience_size
            );
            existing
        }
        None => {
            // The template and its keywords, against the account's own,
            // before a follower is recorded.
            if args.template.is_some() {
                let library = client.templates().list().await?;
                if let Some(p) = checks::check_template_keys(&content, &library).first() {
                    bail!("--template/--data: {}", p.message);
                }
            }
            // All or a tag: the followers of this moment, kept in a private
            // file while they are recorded.
            let spooled = match (&audience, &list) {
                (Audience::Openids, _) => None,
                (audience, _) => {
                    let working = crate::progress::Working::new("listing the followers");
                    let spool =
                        spool_followers(&client, audience.tag_id(), Some(&settings.paths.data))
                            .await?;
                    drop(working);
                    Some(spool)
                }
            };
            if let Some(spool) = spooled {
                list = Some(ListFile::of_spool(spool)?);
            }
            let list = list.as_ref().map(|l| &l.list).context("no recipients")?;
            if list.distinct() == 0 {
                bail!("no followers to send to: nothing planned");
            }
            let campaign = Campaign::sent_now(
                id.clone(),
                settings.appid.clone(),
                content,
                audience.clone(),
                list.distinct(),
                beijing::now(),
            );
            if args.dry_run {
                return print_dry_run(&client, &campaign, list.distinct(), false, json_out).await;
            }
            if audience == Audience::All || list.distinct() > CONFIRM_ABOVE {
                crate::output::confirm(
                    &format!("Send to {} followers?", list.distinct()),
                    &format!("refusing to send to {} followers", list.distinct()),
                    args.yes,
                )?;
            }
            plan::commit_notice(store, &campaign, list).await?;
            if list.count() > list.distinct() {
                eprintln!(
                    "{} repeated openid(s) in the list skipped",
                    list.count() - list.distinct()
                );
            }
            campaign
        }
    };
    drop(list);
    if args.resend_unknown {
        let again = fanout::resend_unknown(store, &id, beijing::now()).await?;
        eprintln!(
            "{again} recipient(s) reported unknown will be sent again (some may have the notice already)"
        );
    }
    let pending = fanout::tally(store, &id).await?.pending();
    let progress = CliProgress(Mutex::new(Some(crate::progress::Progress::new(
        "recipients",
        pending,
    ))));
    let options = FanoutOptions::new(if store.is_shared() {
        worker_name()
    } else {
        // One name on a file: a rerun takes back at once what a killed
        // run held.
        "cli".to_owned()
    });
    let mut options = options;
    if let Some(w) = std::env::var("WXMASS_FANOUT_WINDOW")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.window = w;
    }
    if let Some(w) = std::env::var("WXMASS_FANOUT_IN_FLIGHT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        options.in_flight = w;
    }
    let interrupt = crate::stop::Stop::listen();
    let fanned = tokio::select! {
        fanned = fanout::work(store, &client, &campaign, &options, &progress, interrupt.wait()) => Some(fanned),
        () = async {
            interrupt.wait().await;
            tokio::time::sleep(Duration::from_secs(5)).await;
        } => None,
    };
    if let Some(p) = progress.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
        p.finish();
    }
    let tally = fanout::tally(store, &id).await?;
    match fanned {
        Some(Ok(Fanned::Done)) => {}
        Some(Ok(Fanned::Stopped)) | None => {
            return Err(crate::campaign::Interrupted {
                what: "recipients",
                done: (tally.recipients - tally.pending()) as usize,
                total: tally.recipients as usize,
            }
            .into());
        }
        Some(Ok(Fanned::QuotaSpent { resume_at })) => {
            print_tally(&id, &tally, json_out);
            bail!(
                "WeChat's daily quota for this channel is spent: {} recipient(s) wait; rerun the same command after {}, which sends nothing twice",
                tally.pending(),
                beijing::shown(resume_at)
            );
        }
        Some(Err(wxmass_campaign::Error::Refused { channel, source })) => {
            return Err(anyhow::Error::new(source).context(format!(
                "WeChat refused the campaign's {channel} message: nothing more was sent ({} recipient(s) wait); fix it and send as a new --campaign",
                tally.pending()
            )));
        }
        Some(Err(e)) => return Err(crate::campaign::engine_error(e)),
    }
    print_tally(&id, &tally, json_out);
    Ok(())
}

/// The recipients' counts, for people or as JSON.
fn print_tally(id: &str, tally: &Tally, json_out: bool) {
    let value = json!({"campaign": id, "recipients": tally.recipients, "by_state": crate::campaign_view::state_counts(tally),
                       "sent_by_channel": tally.sent_by_channel, "failed_by_errcode": tally.failed_by_errcode,
                       "reported": tally.reported});
    crate::output::print(json_out, &value, || {
        crate::campaign_view::tally_text(id, tally)
    });
}

/// `notify --dry-run`: the recipients, the channels, the quota WeChat
/// reports and the time its rate will take. Nothing recorded or sent.
async fn print_dry_run(
    client: &Client,
    campaign: &Campaign,
    to_send: u64,
    existing: bool,
    json_out: bool,
) -> Result<()> {
    let Content::Notice { via, .. } = &campaign.content else {
        bail!("campaign {} is not a notice", campaign.id);
    };
    let first = via[0];
    let path = match first {
        Channel::Template => "/cgi-bin/message/template/send",
        Channel::Subscription => "/cgi-bin/message/subscribe/bizsend",
        Channel::CustomerService => "/cgi-bin/message/custom/send",
    };
    // The quota and rate are WeChat's to say; an account without the
    // permission to ask is told so, and the rest still shown.
    let quota = client.quota().get(path).await;
    let (quota_json, quota_text) = match &quota {
        Ok(q) => {
            let rate = q.rate_limit.filter(|r| r.call_count > 0);
            let seconds = rate.map(|r| to_send * r.refresh_second / r.call_count);
            let mut text = format!(
                "\n  {}: {} of {} calls left today",
                path, q.quota.remain, q.quota.daily_limit
            );
            if q.quota.remain < to_send {
                text.push_str(&format!(
                    " (fewer than the {to_send} recipients: the rest wait for midnight, Beijing time)"
                ));
            }
            match (rate, seconds) {
                (Some(r), Some(s)) => text.push_str(&format!(
                    "\n  WeChat's rate, {} calls per {} s, takes about {}",
                    r.call_count,
                    r.refresh_second,
                    duration(s)
                )),
                _ => text.push_str("\n  WeChat reports no rate for it"),
            }
            (
                json!({"quota": q.quota, "rate_limit": q.rate_limit, "seconds_at_rate": seconds}),
                text,
            )
        }
        Err(e) => (
            json!({"error": e.to_string()}),
            format!("\n  WeChat's quota could not be read: {e}"),
        ),
    };
    let via_names: Vec<&str> = via.iter().map(|c| c.as_str()).collect();
    let value = json!({"campaign": campaign.id, "audience": campaign.audience.kind(),
                       "recipients": campaign.audience_size, "to_send": to_send, "existing": existing,
                       "via": via_names, "quota": quota_json, "content": campaign.content, "dry_run": true});
    crate::output::print(json_out, &value, || {
        format!(
            "dry run: campaign {} would send a notice to {to_send} of {} recipient(s) by {}; nothing sent{quota_text}",
            campaign.id,
            campaign.audience_size,
            via_names.join(", then ")
        )
    });
    Ok(())
}

/// `1 h 5 min`, `3 min`, `40 s`.
fn duration(seconds: u64) -> String {
    match seconds {
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s.div_ceil(60)),
        s => format!("{s} s"),
    }
}

/// The recipients' bar (with its ETA), and the lines worth a person's eye.
struct CliProgress(Mutex<Option<crate::progress::Progress>>);

impl FanoutObserver for CliProgress {
    fn recorded(&self, sent: u64, failed: u64, unknown: u64) {
        if let Some(p) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            p.inc(sent + failed + unknown);
        }
    }

    fn waiting_for_minute(&self) {
        eprintln!("WeChat's minute is used (45011): waiting for the next one");
    }

    fn took_over(&self, chunk: u32, resent: u64, unknown: u64) {
        eprintln!(
            "chunk {}: {resent} recipient(s) cut off mid-send are sent again with their key; {unknown} cannot be (reported unknown)",
            chunk + 1
        );
    }
}
