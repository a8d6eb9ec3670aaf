//! One campaign shown with its batches, as `wxmass status` and `send`
//! print it (its own module: `send` prints it without reaching into the
//! commands).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use serde_json::json;
use wxmass_campaign::notices::{RecipientState, Reported, Tally};
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{Audience, Summary};

/// Prints one campaign with its batches.
pub async fn print_campaign(journal: &dyn Store, id: &str, json_out: bool) -> Result<()> {
    let campaign = journal
        .planned_campaign(id)
        .await?
        .with_context(|| format!("no campaign {id:?} in the journal; see `wxmass campaigns`"))?;
    if campaign.content.is_notice() {
        return print_notice(journal, &campaign, json_out).await;
    }
    let batches = journal.batches(id).await?;
    let summary = Summary::of(&batches);
    let value = json!({"campaign": campaign, "batches": batches, "submitted": summary.submitted,
                       "total_batches": summary.batches, "summary": summary});
    crate::output::print(json_out, &value, || {
        let mut out = format!(
            "campaign {}: {} to {} ({} followers), {}/{} batch(es) submitted; {}",
            campaign.id,
            campaign.content.msgtype(),
            audience(&campaign.audience),
            campaign.audience_size,
            summary.submitted,
            summary.batches,
            summary.delivery()
        );
        out.push_str(&format!(
            "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  DELIVERED",
            "BATCH", "SIZE", "MSG_ID", "STATE", "STATUS"
        ));
        for b in &batches {
            out.push_str(&format!(
                "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  {}",
                b.index + 1,
                // Tag and all-follower jobs have no list of their own.
                if campaign.audience == Audience::Openids {
                    b.size.to_string()
                } else {
                    "-".to_owned()
                },
                b.msg_id.map_or("-".into(), |m| m.to_string()),
                b.state.as_str(),
                shown_status(b),
                b.report.as_ref().map_or("-".into(), |r| format!(
                    "{} of {} ({})",
                    r.sent_count, r.total_count, r.status
                ))
            ));
        }
        out
    });
    Ok(())
}

/// A notice's recipients, counted by state, channel and errcode.
async fn print_notice(
    journal: &dyn Store,
    campaign: &wxmass_campaign::Campaign,
    json_out: bool,
) -> Result<()> {
    let tally = wxmass_campaign::fanout::tally(journal, &campaign.id).await?;
    let value = json!({"campaign": campaign, "recipients": tally.recipients,
                       "by_state": state_counts(&tally),
                       "sent_by_channel": tally.sent_by_channel,
                       "failed_by_errcode": tally.failed_by_errcode,
                       "reported": tally.reported});
    crate::output::print(json_out, &value, || {
        let text = tally_text(&campaign.id, &tally);
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        format!(
            "{first}, a notice to {}, {}\n{rest}",
            audience(&campaign.audience),
            campaign.state.as_str()
        )
    });
    Ok(())
}

/// Every state's count, zeros included, by name.
pub fn state_counts(tally: &Tally) -> BTreeMap<&'static str, u64> {
    RecipientState::ALL
        .iter()
        .map(|s| (s.as_str(), tally.count(*s)))
        .collect()
}

/// The tally as lines for people.
pub fn tally_text(id: &str, tally: &Tally) -> String {
    let mut out = format!("campaign {id}: {} recipient(s)", tally.recipients);
    for state in RecipientState::ALL {
        let n = tally.count(state);
        if n > 0 {
            out.push_str(&format!("\n  {:<8} {n}", state.as_str()));
        }
    }
    for (channel, n) in &tally.sent_by_channel {
        out.push_str(&format!("\n  sent by {}: {n}", channel.as_str()));
    }
    for (errcode, n) in tally.failed_by_errcode.iter().filter(|(e, _)| **e != 0) {
        let meaning = wxmass_api::Errcode::from_code(i64::from(*errcode)).meaning();
        out.push_str(&format!("\n  failed {errcode} ({meaning}): {n}"));
    }
    for (reported, n) in &tally.reported {
        match reported {
            Reported::None => out.push_str(&format!(
                "\n  template messages with no report yet: {n} (`wxmass status {id} --refresh` joins those `serve` received)"
            )),
            Reported::Delivered => out.push_str(&format!("\n  reported delivered: {n}")),
            other => out.push_str(&format!("\n  reported {}: {n}", other.as_wechat())),
        }
    }
    let unknown = tally.count(RecipientState::Unknown);
    if unknown > 0 {
        out.push_str(&format!(
            "\n  {unknown} unknown: their request left but its answer was lost where WeChat cannot tell a repeat; `wxmass status {id} --unknown` lists them, `--resend-unknown` sends them again"
        ));
    }
    out
}

/// Prints the recipients of notice `id` in `state` as CSV (openid,
/// channel, errcode, meaning, msgid, first attempt): `status --failed`
/// and `--unknown`.
pub async fn print_recipients(
    journal: &dyn Store,
    id: &str,
    state: wxmass_campaign::notices::RecipientState,
) -> Result<()> {
    let campaign = journal
        .planned_campaign(id)
        .await?
        .with_context(|| format!("no campaign {id:?} in the journal; see `wxmass campaigns`"))?;
    if !campaign.content.is_notice() {
        anyhow::bail!(
            "campaign {id} is a mass message: it has batches, not recipients (`wxmass status {id}` shows them)"
        );
    }
    let mut out = String::from(wxmass_campaign::notices::CSV_HEADER);
    let mut lines = 0u64;
    wxmass_campaign::fanout::each_recipient(journal, id, |openid, r| {
        if r.state != state {
            return;
        }
        r.csv_line(openid, &mut out);
        lines += 1;
        if out.len() > 1 << 16 {
            crate::output::emit_bytes(out.as_bytes());
            out.clear();
        }
    })
    .await?;
    crate::output::emit_bytes(out.as_bytes());
    eprintln!("{lines} recipient(s) {}", state.as_str());
    Ok(())
}

/// A batch's status: what mass/get said last, else what the report says
/// (a campaign sent with --no-wait has a report before any mass/get).
fn shown_status(b: &wxmass_campaign::Batch) -> &str {
    match (&b.status, &b.report) {
        (Some(status), _) => status,
        (None, Some(r)) if r.status == "send success" => "SEND_SUCCESS",
        (None, Some(_)) => "SEND_FAIL",
        (None, None) => "-",
    }
}

/// `tag N`, `all` or `openids`.
pub(crate) fn audience(audience: &Audience) -> String {
    match audience {
        Audience::Tag { tag_id } => format!("tag {tag_id}"),
        other => other.kind().to_owned(),
    }
}
