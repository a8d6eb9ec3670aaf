//! A campaign across accounts: one message, one approval and one schedule
//! for several accounts (named, or every account with a tag), sent as one
//! part per account. A part is an ordinary campaign of its account, with
//! that account's quota, leases, clientmsgids and reports, so the engine
//! sends it as it sends any other and exactly once per account; the whole
//! is never sent itself. What is here: the set of accounts, the parts made
//! from the whole when it starts, and how the parts' ends make the whole's.
//!
//! The parts are written together with the mark that the whole was
//! started ([`crate::store::LifecycleStore::spread_campaign`]), so however
//! many servers start it at once, one set of parts exists, made from the
//! accounts as they were at that moment.

use serde::{Deserialize, Serialize};

use crate::Campaign;
use crate::lifecycle::{CampaignState, Step};
use crate::people::Account;

/// The most accounts a campaign names one by one (a tag covers more).
pub const MAX_LISTED: usize = 1000;

/// The most characters of an account tag.
pub const TAG_MAX_CHARS: usize = 32;

/// The accounts a campaign across accounts is for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum AccountSet {
    /// These accounts (AppIDs), each once: 1 to 1,000.
    Listed {
        /// Their AppIDs.
        #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 1000))]
        appids: Vec<String>,
    },
    /// Every account with this tag when the campaign starts, but those that
    /// withdrew their authorisation of the platform.
    Tagged {
        /// The tag (PUT /api/v1/accounts/{appid}/tags).
        #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32))]
        tag: String,
    },
}

/// An account a campaign across accounts reaches, and, when it cannot be
/// sent for, why (its part is then recorded failed, with that note).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Its AppID.
    pub appid: String,
    /// Why nothing can be sent for it.
    pub unavailable: Option<String>,
}

/// Whether `tag` is an account tag: 1 to 32 letters (any script), digits,
/// `-`, `_` or `.`.
pub fn is_tag(tag: &str) -> bool {
    let n = tag.chars().count();
    (1..=TAG_MAX_CHARS).contains(&n)
        && tag
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl AccountSet {
    /// The form kept in the store.
    pub fn to_json(&self) -> String {
        // A derived Serialize of strings cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// What is wrong with it, said for people; `None`: nothing.
    pub fn problem(&self) -> Option<String> {
        match self {
            AccountSet::Listed { appids } => {
                if appids.is_empty() || appids.len() > MAX_LISTED {
                    return Some(format!(
                        "{} accounts: name 1 to {MAX_LISTED} (or every account with a tag: {{\"kind\": \"tagged\", \"tag\": ...}})",
                        appids.len()
                    ));
                }
                if let Some(bad) = appids.iter().find(|a| !wxmass_api::is_appid(a)) {
                    return Some(format!(
                        "{:?} is not an AppID (wx and 16 letters or digits)",
                        bad.escape_debug().to_string()
                    ));
                }
                let mut seen = std::collections::HashSet::new();
                appids
                    .iter()
                    .find(|a| !seen.insert(a.as_str()))
                    .map(|a| format!("{a} is named twice: each account gets the campaign once"))
            }
            AccountSet::Tagged { tag } => (!is_tag(tag)).then(|| {
                format!(
                    "{:?} is not a tag: 1 to {TAG_MAX_CHARS} letters, digits, '-', '_' or '.'",
                    tag.escape_debug().to_string()
                )
            }),
        }
    }

    /// The AppIDs it names by themselves (none for a tag).
    pub fn listed(&self) -> &[String] {
        match self {
            AccountSet::Listed { appids } => appids,
            AccountSet::Tagged { .. } => &[],
        }
    }

    /// The accounts it reaches now, among `accounts` (every account in the
    /// store) tagged as `tags` says ((appid, tag) pairs): a listed set in
    /// its order, each with why it cannot be sent for, if so; a tag's in
    /// AppID order, without the accounts that withdrew.
    pub fn members(&self, accounts: &[Account], tags: &[(String, String)]) -> Vec<Member> {
        let withdrew =
            "the account withdrew its authorisation of the platform before the campaign started";
        match self {
            AccountSet::Listed { appids } => appids
                .iter()
                .map(|appid| {
                    let account = accounts.iter().find(|a| &a.appid == appid);
                    let unavailable = match account {
                        None => Some(
                            "no such account: it was removed before the campaign started"
                                .to_owned(),
                        ),
                        Some(a) if a.is_withdrawn() => Some(withdrew.to_owned()),
                        Some(_) => None,
                    };
                    Member {
                        appid: appid.clone(),
                        unavailable,
                    }
                })
                .collect(),
            AccountSet::Tagged { tag } => {
                let mut appids: Vec<&str> = tags
                    .iter()
                    .filter(|(_, t)| t == tag)
                    .map(|(appid, _)| appid.as_str())
                    .filter(|appid| {
                        accounts
                            .iter()
                            .any(|a| a.appid == *appid && !a.is_withdrawn())
                    })
                    .collect();
                appids.sort_unstable();
                appids.dedup();
                appids
                    .into_iter()
                    .map(|appid| Member {
                        appid: appid.to_owned(),
                        unavailable: None,
                    })
                    .collect()
            }
        }
    }
}

/// The id of `whole`'s part for `appid`. `@` is in no id the API or the
/// CLI gives a campaign, so a part's id is never one taken already.
pub fn part_id(whole: &str, appid: &str) -> String {
    format!("{whole}@{appid}")
}

/// The parts of `whole`, started at `now`: one per member, running (or,
/// for a member that cannot be sent for, failed with why), each an
/// ordinary campaign of its account with the whole's message, audience,
/// approval and time.
pub fn parts(whole: &Campaign, members: &[Member], now: i64) -> Vec<Campaign> {
    members
        .iter()
        .map(|m| Campaign {
            id: part_id(&whole.id, &m.appid),
            appid: m.appid.clone(),
            name: whole.name.clone(),
            content: whole.content.clone(),
            audience: whole.audience.clone(),
            list: None,
            batch_size: None,
            state: match m.unavailable {
                None => CampaignState::Running,
                Some(_) => CampaignState::Failed,
            },
            send_at: whole.send_at,
            created_by: whole.created_by.clone(),
            approved_by: whole.approved_by.clone(),
            note: m.unavailable.clone().unwrap_or_default(),
            created_at: now,
            updated_at: now,
            audience_size: 0,
            accounts: None,
            part_of: Some(whole.id.clone()),
        })
        .collect()
}

/// How a running whole ends once every part has (`None` before): finished
/// when any part finished, its note counting the others; failed when none
/// did.
pub fn ending(parts: &[Campaign]) -> Option<(Step, String)> {
    if parts.is_empty() || parts.iter().any(|p| !p.state.is_final()) {
        return None;
    }
    let count = |s: CampaignState| parts.iter().filter(|p| p.state == s).count();
    let (finished, failed, cancelled) = (
        count(CampaignState::Finished),
        count(CampaignState::Failed),
        count(CampaignState::Cancelled),
    );
    let total = parts.len();
    if finished == 0 {
        return Some((
            Step::Fail,
            format!(
                "sent for none of its {total} accounts ({failed} failed, {cancelled} cancelled): each account's note says why (GET /api/v1/campaigns/{{id}}/accounts)"
            ),
        ));
    }
    let note = match failed + cancelled {
        0 => format!("sent for all {total} accounts"),
        _ => format!(
            "sent for {finished} of {total} accounts; {failed} failed, {cancelled} cancelled: each account's note says why (GET /api/v1/campaigns/{{id}}/accounts)"
        ),
    };
    Some((Step::Finish, note))
}

/// What a part still sending does while its whole is in `whole`: paused
/// with it, cancelled with it; `None`: it goes its own way (a part paused
/// by itself, when its account withdrew, stays so while the whole runs).
pub fn follows(whole: CampaignState) -> Option<Step> {
    match whole {
        CampaignState::Paused => Some(Step::Pause),
        CampaignState::Cancelled => Some(Step::Cancel),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Audience, Content};

    fn account(appid: &str, withdrawn: bool) -> Account {
        Account {
            appid: appid.into(),
            name: appid.into(),
            account_type: None,
            sealed: String::new(),
            api_base: None,
            created_at: 0,
            authorised: Some(crate::people::Authorised {
                component_appid: "wx0000000000000000".into(),
                permission_sets: vec![7],
                user_name: "gh_x".into(),
                withdrawn_at: withdrawn.then_some(1),
            }),
        }
    }

    const A: &str = "wx000000000000000a";
    const B: &str = "wx000000000000000b";
    const C: &str = "wx000000000000000c";

    #[test]
    fn a_set_names_each_account_once() {
        let listed = |a: &[&str]| AccountSet::Listed {
            appids: a.iter().map(|s| s.to_string()).collect(),
        };
        assert_eq!(listed(&[A, B]).problem(), None);
        assert!(listed(&[]).problem().is_some());
        assert!(listed(&[A, A]).problem().expect("twice").contains("twice"));
        assert!(listed(&["wx1"]).problem().is_some());
        let tagged = |t: &str| AccountSet::Tagged { tag: t.into() };
        assert_eq!(tagged("华东-brands").problem(), None);
        assert!(tagged("").problem().is_some());
        assert!(tagged("a b").problem().is_some());
        assert!(tagged(&"x".repeat(33)).problem().is_some());
        let json = listed(&[A]).to_json();
        assert_eq!(
            serde_json::from_str::<AccountSet>(&json).ok(),
            Some(listed(&[A]))
        );
        assert!(
            serde_json::from_str::<AccountSet>(r#"{"kind":"tagged","tag":"x","appids":[]}"#)
                .is_err()
        );
    }

    #[test]
    fn members_leave_out_or_explain_the_accounts_that_cannot_be_sent_for() {
        let accounts = [account(A, false), account(B, true), account(C, false)];
        let tags = [
            (C.to_owned(), "east".to_owned()),
            (B.to_owned(), "east".to_owned()),
            (A.to_owned(), "east".to_owned()),
            (A.to_owned(), "west".to_owned()),
        ];
        let east = AccountSet::Tagged { tag: "east".into() }.members(&accounts, &tags);
        let appids: Vec<&str> = east.iter().map(|m| m.appid.as_str()).collect();
        assert_eq!(appids, [A, C], "the withdrawn account is left out");
        let listed = AccountSet::Listed {
            appids: vec![B.into(), "wx00000000000000ff".into(), A.into()],
        }
        .members(&accounts, &tags);
        assert!(
            listed[0]
                .unavailable
                .as_deref()
                .is_some_and(|w| w.contains("withdrew"))
        );
        assert!(
            listed[1]
                .unavailable
                .as_deref()
                .is_some_and(|w| w.contains("no such account"))
        );
        assert_eq!(listed[2].unavailable, None);
    }

    #[test]
    fn the_whole_ends_when_every_part_has() {
        let whole = Campaign {
            accounts: Some(AccountSet::Tagged { tag: "east".into() }),
            ..Campaign::sent_now(
                "w".into(),
                String::new(),
                Content::Text { text: "hi".into() },
                Audience::All,
                0,
                10,
            )
        };
        let members = [A, B, C].map(|appid| Member {
            appid: appid.into(),
            unavailable: (appid == C).then(|| "gone".to_owned()),
        });
        let mut parts = parts(&whole, &members, 20);
        assert_eq!(parts[0].id, format!("w@{A}"));
        assert_eq!(parts[0].part_of.as_deref(), Some("w"));
        assert_eq!(
            (parts[2].state, parts[2].note.as_str()),
            (CampaignState::Failed, "gone")
        );
        assert_eq!(ending(&parts), None, "two still running");
        parts[0].state = CampaignState::Finished;
        parts[1].state = CampaignState::Cancelled;
        let (step, note) = ending(&parts).expect("ended");
        assert_eq!(step, Step::Finish);
        assert!(
            note.starts_with("sent for 1 of 3 accounts; 1 failed, 1 cancelled"),
            "{note}"
        );
        parts[0].state = CampaignState::Failed;
        assert_eq!(ending(&parts).map(|e| e.0), Some(Step::Fail));
        assert_eq!(follows(CampaignState::Paused), Some(Step::Pause));
        assert_eq!(follows(CampaignState::Running), None);
    }
}
