//! `wxmass --server URL --token T campaigns` and `... status [CAMPAIGN]`:
//! a server's campaigns, read through its API (`GET /api/v1/campaigns`,
//! `/api/v1/campaigns/{id}` and `/batches`), shown as the local commands
//! show the journal's, from the API's own types (`CampaignView`,
//! `BatchView`). `--json` prints what the API answered.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use wxmass_campaign::across::AccountSet;
use wxmass_campaign::{Audience, Summary, beijing};
use wxmass_server::api::campaigns::{BatchView, CampaignView};

use super::clean;
use crate::server_client::{ServerClient, campaign_path};

/// `wxmass --server URL campaigns`.
pub async fn campaigns(server: &ServerClient, json_out: bool) -> Result<()> {
    // The server answers a page at a time: every page, in order.
    const PAGE: usize = 1000;
    let mut all = Vec::new();
    loop {
        let page = server
            .get(&format!(
                "/api/v1/campaigns?limit={PAGE}&offset={}",
                all.len()
            ))
            .await?;
        let rows = page.as_array().cloned().unwrap_or_default();
        let last = rows.len() < PAGE;
        all.extend(rows);
        if last {
            break;
        }
    }
    let list = Value::Array(all);
    if json_out {
        super::print(true, &list, String::new);
        return Ok(());
    }
    let rows: Vec<CampaignView> = typed(server, list)?;
    super::print(false, &Value::Null, || {
        if rows.is_empty() {
            return format!("no campaigns on {}", server.base());
        }
        let mut out = format!(
            "{:<20}  {:<17}  {:<18}  {:<8}  {:<10}  {:<16}  {:<7}  {:>19}  NAME",
            "CAMPAIGN",
            "STATE",
            "ACCOUNT",
            "TYPE",
            "AUDIENCE",
            "SEND AT (BEIJING)",
            "BATCHES",
            "DELIVERED"
        );
        for c in &rows {
            out.push_str(&format!(
                "\n{:<20}  {:<17}  {:<18}  {:<8}  {:<10}  {:<16}  {:<7}  {:>19}  {}",
                clean(&c.id),
                c.state.as_str(),
                account(c),
                c.content.msgtype(),
                audience(&c.audience),
                minute(c.send_at.as_deref()),
                format!("{}/{}", c.submitted, c.batches),
                delivered(&c.summary()),
                clean(&c.name),
            ));
        }
        out
    });
    Ok(())
}

/// What the server answered, as the types it answers with; a server of
/// another version that answers otherwise is said so.
fn typed<T: serde::de::DeserializeOwned>(server: &ServerClient, value: Value) -> Result<T> {
    serde_json::from_value(value).with_context(|| {
        format!(
            "{} answered in a form this wxmass does not read: is it another version? (`--json` prints the answer as it is)",
            server.base()
        )
    })
}

/// `wxmass --server URL status [CAMPAIGN]` (default: the newest).
pub async fn status(server: &ServerClient, id: Option<&str>, json_out: bool) -> Result<()> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => server
            .get("/api/v1/campaigns?limit=1")
            .await?
            .get(0)
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("{} has no campaigns yet", server.base()))?,
    };
    let campaign = server.get(&campaign_path(&id, "")).await.with_context(|| {
        format!(
            "cannot read campaign {id:?} from {} (`wxmass --server {} campaigns` lists them)",
            server.base(),
            server.base()
        )
    })?;
    if campaign["accounts"].is_object() {
        return across(server, &id, campaign, json_out).await;
    }
    let batches = server.get(&campaign_path(&id, "/batches")).await?;
    if json_out {
        super::print(
            true,
            &json!({"campaign": campaign, "batches": batches}),
            String::new,
        );
        return Ok(());
    }
    let c: CampaignView = typed(server, campaign)?;
    let rows: Vec<BatchView> = typed(server, batches)?;
    super::print(false, &Value::Null, || {
        let mut out = heading(&c);
        out.push_str(&format!(
            "\n{}/{} batch(es) submitted, {} reported: {}",
            c.submitted,
            c.batches,
            c.reported,
            c.summary().delivery()
        ));
        if !c.note.is_empty() {
            out.push_str(&format!("\n{}", clean(&c.note)));
        }
        if !rows.is_empty() {
            out.push_str(&format!(
                "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  {:<28}  SENT BY",
                "BATCH", "SIZE", "MSG_ID", "STATE", "STATUS", "DELIVERED"
            ));
        }
        for b in &rows {
            out.push_str(&format!(
                "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  {:<28}  {}",
                b.index + 1,
                // Tag and all-follower jobs have no list of their own.
                if b.openids > 0 {
                    b.openids.to_string()
                } else {
                    "-".into()
                },
                b.msg_id.map_or("-".into(), |m| m.to_string()),
                clean(&b.state),
                b.status.as_deref().map_or("-".into(), clean),
                b.report.as_ref().map_or("-".to_owned(), |r| format!(
                    "{} of {} ({})",
                    r.sent,
                    r.total,
                    clean(&r.status)
                )),
                b.sent_by.as_deref().map_or("-".into(), clean),
            ));
        }
        out
    });
    Ok(())
}

/// `status` of a campaign across accounts: the whole, then each
/// account's part (`GET /api/v1/campaigns/{id}/accounts`).
async fn across(server: &ServerClient, id: &str, campaign: Value, json_out: bool) -> Result<()> {
    let parts = server.get(&campaign_path(id, "/accounts")).await?;
    if json_out {
        super::print(
            true,
            &json!({"campaign": campaign, "accounts": parts}),
            String::new,
        );
        return Ok(());
    }
    let c: CampaignView = typed(server, campaign)?;
    let parts: Vec<CampaignView> = typed(server, parts)?;
    super::print(false, &Value::Null, || {
        let mut out = heading(&c);
        out.push_str(&format!(
            "\n{} account(s), {}/{} batch(es) submitted, {} reported: {}",
            parts.len(),
            c.submitted,
            c.batches,
            c.reported,
            c.summary().delivery()
        ));
        if !c.note.is_empty() {
            out.push_str(&format!("\n{}", clean(&c.note)));
        }
        if parts.is_empty() {
            out.push_str("\nnot started: its accounts' parts are made when it starts");
            return out;
        }
        out.push_str(&format!(
            "\n{:<18}  {:<10}  {:>8}  {:<7}  {:>19}  NOTE",
            "ACCOUNT", "STATE", "AUDIENCE", "BATCHES", "DELIVERED"
        ));
        for p in &parts {
            out.push_str(&format!(
                "\n{:<18}  {:<10}  {:>8}  {:<7}  {:>19}  {}",
                clean(&p.appid),
                p.state.as_str(),
                p.audience_size,
                format!("{}/{}", p.submitted, p.batches),
                delivered(&p.summary()),
                clean(&p.note),
            ));
        }
        out
    });
    Ok(())
}

/// `campaign ID (NAME): STATE; TYPE to AUDIENCE` (across accounts, `of`
/// which), and when it sends.
fn heading(c: &CampaignView) -> String {
    let mut out = format!(
        "campaign {} ({}): {}; {} to {}",
        clean(&c.id),
        clean(&c.name),
        c.state.as_str(),
        c.content.msgtype(),
        audience(&c.audience),
    );
    if c.accounts.is_some() {
        out.push_str(&format!(" of {}", account(c)));
    }
    if let Some(at) = &c.send_at {
        out.push_str(&format!("; sends {} Beijing time", minute(Some(at))));
    }
    out
}

/// The account a campaign is for; for one across accounts, how many it
/// names or its tag.
fn account(c: &CampaignView) -> String {
    match &c.accounts {
        None => clean(&c.appid),
        Some(AccountSet::Listed { appids }) => format!("{} accounts", appids.len()),
        Some(AccountSet::Tagged { tag }) => format!("tag {}", clean(tag)),
    }
}

/// `all`, `tag N` or `openids`.
fn audience(a: &Audience) -> String {
    match a {
        Audience::Tag { tag_id } => format!("tag {tag_id}"),
        other => other.kind().to_owned(),
    }
}

/// `2026-12-08 10:00` from the API's RFC 3339 time, in Beijing.
fn minute(at: Option<&str>) -> String {
    at.and_then(beijing::parse_rfc3339)
        .map_or("-".into(), beijing::minute)
}

/// `delivered of addressed`, once any report came, and the batches sent
/// with no report apart (they are not in `delivered`).
fn delivered(s: &Summary) -> String {
    let unreported = match s.unreported {
        0 => String::new(),
        n => format!(" +{n} unreported"),
    };
    match (s.reported, unreported.is_empty()) {
        (0, true) => "-".into(),
        _ => format!("{} of {}{unreported}", s.delivered, s.addressed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_do_not_reach_the_terminal() {
        assert_eq!(clean("a\x1b[2Jb\n"), "a [2Jb ");
    }

    #[test]
    fn fields_are_shown_briefly_and_safely() {
        assert_eq!(
            minute(Some("2026-12-08T10:00:00+08:00")),
            "2026-12-08 10:00"
        );
        assert_eq!(minute(Some("2026-12-08T02:00:00Z")), "2026-12-08 10:00");
        assert_eq!(minute(None), "-");
        assert_eq!(audience(&Audience::Tag { tag_id: 100 }), "tag 100");
        assert_eq!(audience(&Audience::All), "all");
        let figures = |reported, delivered, addressed, unreported| Summary {
            reported,
            delivered,
            addressed,
            unreported,
            ..Summary::default()
        };
        assert_eq!(delivered(&figures(2, 1990, 2000, 0)), "1990 of 2000");
        assert_eq!(delivered(&figures(0, 0, 0, 0)), "-");
        assert_eq!(
            delivered(&figures(5, 5040, 5040, 1)),
            "5040 of 5040 +1 unreported"
        );
    }
}
