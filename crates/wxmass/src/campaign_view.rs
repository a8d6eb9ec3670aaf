//! One campaign shown with its batches, as `wxmass status` and `send`
//! print it (its own module: `send` prints it without reaching into the
//! commands).

use anyhow::{Context, Result};
use serde_json::json;
use wxmass_campaign::store::prelude::*;
use wxmass_campaign::{Audience, Summary};

/// Prints one campaign with its batches.
pub async fn print_campaign(journal: &dyn Store, id: &str, json_out: bool) -> Result<()> {
    let campaign = journal
        .planned_campaign(id)
        .await?
        .with_context(|| format!("no campaign {id:?} in the journal; see `wxmass campaigns`"))?;
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
