//! `wxmass --server URL --token T campaigns` and `... status [CAMPAIGN]`:
//! a server's campaigns, read through its API (`GET /api/v1/campaigns`,
//! `/api/v1/campaigns/{id}` and `/batches`), shown as the local commands
//! show the journal's. `--json` prints what the API answered.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use wxmass_campaign::beijing;

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
    let rows = list.as_array().map_or(&[][..], Vec::as_slice);
    super::print(json_out, &list, || {
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
        for c in rows {
            out.push_str(&format!(
                "\n{:<20}  {:<17}  {:<18}  {:<8}  {:<10}  {:<16}  {:<7}  {:>19}  {}",
                text(&c["id"]),
                text(&c["state"]),
                text(&c["appid"]),
                text(&c["content"]["type"]),
                audience(&c["audience"]),
                minute(&c["send_at"]),
                format!("{}/{}", number(&c["submitted"]), number(&c["batches"])),
                delivered(c),
                text(&c["name"]),
            ));
        }
        out
    });
    Ok(())
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
    let batches = server.get(&campaign_path(&id, "/batches")).await?;
    let value = json!({"campaign": campaign, "batches": batches});
    super::print(json_out, &value, || {
        let c = &campaign;
        let mut out = format!(
            "campaign {} ({}): {}; {} to {}",
            text(&c["id"]),
            text(&c["name"]),
            text(&c["state"]),
            text(&c["content"]["type"]),
            audience(&c["audience"]),
        );
        if !c["send_at"].is_null() {
            out.push_str(&format!("; sends {} Beijing time", minute(&c["send_at"])));
        }
        out.push_str(&format!(
            "\n{}/{} batch(es) submitted, {} reported, {} delivered",
            number(&c["submitted"]),
            number(&c["batches"]),
            number(&c["reported"]),
            delivered(c)
        ));
        let note = text(&c["note"]);
        if !note.is_empty() {
            out.push_str(&format!("\n{note}"));
        }
        let rows = batches.as_array().map_or(&[][..], Vec::as_slice);
        if !rows.is_empty() {
            out.push_str(&format!(
                "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  {:<28}  SENT BY",
                "BATCH", "SIZE", "MSG_ID", "STATE", "STATUS", "DELIVERED"
            ));
        }
        for b in rows {
            let report = &b["report"];
            out.push_str(&format!(
                "\n{:>6}  {:>7}  {:>12}  {:<12}  {:<14}  {:<28}  {}",
                b["index"]
                    .as_u64()
                    .map_or("-".into(), |i| (i + 1).to_string()),
                // Tag and all-follower jobs have no list of their own.
                match b["openids"].as_u64() {
                    Some(n) if n > 0 => n.to_string(),
                    _ => "-".into(),
                },
                b["msg_id"].as_i64().map_or("-".into(), |m| m.to_string()),
                text(&b["state"]),
                or_dash(text(&b["status"])),
                if report.is_null() {
                    "-".to_owned()
                } else {
                    format!(
                        "{} of {} ({})",
                        number(&report["sent"]),
                        number(&report["total"]),
                        text(&report["status"])
                    )
                },
                or_dash(text(&b["sent_by"])),
            ));
        }
        out
    });
    Ok(())
}

/// A string field, fit for a terminal ("" when absent).
fn text(v: &Value) -> String {
    v.as_str().map(clean).unwrap_or_default()
}

fn or_dash(s: String) -> String {
    if s.is_empty() { "-".into() } else { s }
}

fn number(v: &Value) -> u64 {
    v.as_u64().unwrap_or(0)
}

/// `all`, `tag N` or `openids`.
fn audience(a: &Value) -> String {
    match (a["kind"].as_str(), a["tag_id"].as_u64()) {
        (Some("tag"), Some(tag)) => format!("tag {tag}"),
        (kind, _) => clean(kind.unwrap_or("-")),
    }
}

/// `2026-12-08 10:00` from the API's RFC 3339 time, in Beijing.
fn minute(v: &Value) -> String {
    v.as_str()
        .and_then(beijing::parse_rfc3339)
        .map_or("-".into(), beijing::minute)
}

/// `delivered of addressed`, once any report came, and the batches sent
/// with no report apart (they are not in `delivered`).
fn delivered(c: &Value) -> String {
    let unreported = match number(&c["unreported"]) {
        0 => String::new(),
        n => format!(" +{n} unreported"),
    };
    match (number(&c["reported"]), unreported.is_empty()) {
        (0, true) => "-".into(),
        _ => format!(
            "{} of {}{unreported}",
            number(&c["delivered"]),
            number(&c["addressed"])
        ),
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
            minute(&json!("2026-12-08T10:00:00+08:00")),
            "2026-12-08 10:00"
        );
        assert_eq!(minute(&json!("2026-12-08T02:00:00Z")), "2026-12-08 10:00");
        assert_eq!(minute(&Value::Null), "-");
        assert_eq!(audience(&json!({"kind": "tag", "tag_id": 100})), "tag 100");
        assert_eq!(audience(&json!({"kind": "all"})), "all");
        assert_eq!(text(&json!("a\u{1b}]0;x\u{7}")), "a ]0;x ");
        assert_eq!(
            delivered(&json!({"reported": 2, "delivered": 1990, "addressed": 2000})),
            "1990 of 2000"
        );
        assert_eq!(delivered(&json!({"reported": 0})), "-");
        assert_eq!(
            delivered(
                &json!({"reported": 5, "delivered": 5040, "addressed": 5040, "unreported": 1})
            ),
            "5040 of 5040 +1 unreported"
        );
    }
}
