//! A campaign's life in a server, before and around the engine's work:
//! written as a draft, submitted, approved with a time to send, run, and
//! finished (or paused, cancelled, failed). The rules of which step may
//! follow which are here ([`CampaignState::after`]); the store only moves a
//! row from the state the caller saw to the next one, so that two people
//! (or two servers) acting at once cannot both win.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::postgres::PgJournal;
use crate::spec::{Audience, Content};
use crate::sqlite::SqliteJournal;

/// Where a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Being written.
    Draft,
    /// Written; an approver's turn.
    AwaitingApproval,
    /// Approved, waiting for its time.
    Scheduled,
    /// Sending.
    Running,
    /// Stopped by a person; resuming schedules it again.
    Paused,
    /// Every batch submitted.
    Finished,
    /// Stopped for good before every batch went.
    Cancelled,
    /// Stopped by an error (the note says which).
    Failed,
}

/// What moves a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// An editor hands it to the approvers.
    Submit,
    /// An approver approves it (and gives its time).
    Approve,
    /// A server starts sending it (its time has come).
    Start,
    /// A person pauses it.
    Pause,
    /// A person resumes it.
    Resume,
    /// A person cancels it.
    Cancel,
    /// The last batch went.
    Finish,
    /// An error stopped it.
    Fail,
}

impl CampaignState {
    /// Every state.
    pub const ALL: [CampaignState; 8] = [
        CampaignState::Draft,
        CampaignState::AwaitingApproval,
        CampaignState::Scheduled,
        CampaignState::Running,
        CampaignState::Paused,
        CampaignState::Finished,
        CampaignState::Cancelled,
        CampaignState::Failed,
    ];

    /// The state `step` leads to from this one, if it may be taken.
    pub fn after(self, step: Step) -> Option<CampaignState> {
        use CampaignState as S;
        Some(match (self, step) {
            (S::Draft, Step::Submit) => S::AwaitingApproval,
            (S::AwaitingApproval, Step::Approve) => S::Scheduled,
            (S::Scheduled, Step::Start) => S::Running,
            (S::Scheduled | S::Running, Step::Pause) => S::Paused,
            (S::Paused, Step::Resume) => S::Scheduled,
            (
                S::Draft | S::AwaitingApproval | S::Scheduled | S::Paused | S::Running,
                Step::Cancel,
            ) => S::Cancelled,
            (S::Running, Step::Finish) => S::Finished,
            (S::Running, Step::Fail) => S::Failed,
            _ => return None,
        })
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::AwaitingApproval => "awaiting_approval",
            CampaignState::Scheduled => "scheduled",
            CampaignState::Running => "running",
            CampaignState::Paused => "paused",
            CampaignState::Finished => "finished",
            CampaignState::Cancelled => "cancelled",
            CampaignState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Result<CampaignState> {
        CampaignState::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| Error::Store {
                advice: format!(
                    "the store holds a campaign state this build does not know ({}): was it written by a newer wxmass?",
                    s.escape_debug()
                ),
                source: None,
            })
    }
}

/// A campaign as a server keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCampaign {
    /// Its id (the engine's campaign id once it runs).
    pub id: String,
    /// The account it is sent for.
    pub appid: String,
    /// A name for people.
    pub name: String,
    /// What it sends.
    pub content: Content,
    /// To whom.
    pub audience: Audience,
    /// The saved list, for an [`Audience::Openids`] campaign.
    pub list: Option<String>,
    /// Openids a batch, for a list.
    pub batch_size: Option<u32>,
    /// Where it is.
    pub state: CampaignState,
    /// When to send it (Unix seconds), once approved.
    pub send_at: Option<i64>,
    /// Who wrote it.
    pub created_by: String,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last thing that happened to it, for people (an error, "ran late").
    pub note: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, appid, name, content, audience, list, batch_size, state, send_at, created_by, approved_by, note, created_at, updated_at";

/// A row's columns, as read by either backend.
type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    String,
    Option<i64>,
    String,
    Option<String>,
    String,
    i64,
    i64,
);

fn from_row(r: Row) -> Result<ServerCampaign> {
    let bad = |what: &str| Error::Store {
        advice: format!(
            "campaign {:?} in the store has {what} this build cannot read: was it written by a newer wxmass?",
            r.0
        ),
        source: None,
    };
    Ok(ServerCampaign {
        content: serde_json::from_str(&r.3).map_err(|_| bad("content"))?,
        audience: serde_json::from_str(&r.4).map_err(|_| bad("an audience"))?,
        state: CampaignState::parse(&r.7)?,
        id: r.0,
        appid: r.1,
        name: r.2,
        list: r.5,
        batch_size: r.6.and_then(|n| u32::try_from(n).ok()),
        send_at: r.8,
        created_by: r.9,
        approved_by: r.10,
        note: r.11,
        created_at: r.12,
        updated_at: r.13,
    })
}

fn json<T: Serialize>(value: &T) -> String {
    // Serializing these types cannot fail.
    serde_json::to_string(value).unwrap_or_default()
}

/// Which campaigns to read.
#[derive(Debug, Clone, Copy)]
enum Which<'a> {
    Id(&'a str),
    All,
    Due(i64),
}

impl Which<'_> {
    /// The condition, with `?1` for its one parameter (none for `All`).
    fn condition(self) -> &'static str {
        match self {
            Which::Id(_) => "id = ?1",
            Which::All => "TRUE",
            Which::Due(_) => "(state = 'scheduled' AND send_at <= ?1) OR state = 'running'",
        }
    }
}

/// What a [`Journal::move_campaign`] also changes.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new time to send.
    pub send_at: Option<i64>,
    /// The approver.
    pub approved_by: Option<String>,
    /// A new note.
    pub note: Option<String>,
}

impl Journal {
    /// Keeps a new campaign (a draft); [`Error::Exists`] if the id is taken.
    pub async fn create_server_campaign(&self, c: &ServerCampaign) -> Result<()> {
        let created = match self {
            Journal::Sqlite(j) => crate::journal::lock(j).create_server_campaign(c),
            Journal::Postgres(p) => p.create_server_campaign(c).await,
        }?;
        if !created {
            return Err(Error::Exists(format!(
                "a campaign {:?} exists already",
                c.id
            )));
        }
        Ok(())
    }

    /// A campaign by id.
    pub async fn server_campaign(&self, id: &str) -> Result<Option<ServerCampaign>> {
        Ok(self
            .server_campaigns_of(Which::Id(id))
            .await?
            .into_iter()
            .next())
    }

    /// Every campaign, newest first.
    pub async fn server_campaigns(&self) -> Result<Vec<ServerCampaign>> {
        self.server_campaigns_of(Which::All).await
    }

    /// The campaigns a server should be sending at `now`: scheduled ones
    /// whose time has come, and running ones (another server may have died
    /// while sending them).
    pub async fn due_campaigns(&self, now: i64) -> Result<Vec<ServerCampaign>> {
        self.server_campaigns_of(Which::Due(now)).await
    }

    async fn server_campaigns_of(&self, which: Which<'_>) -> Result<Vec<ServerCampaign>> {
        let rows = match self {
            Journal::Sqlite(j) => crate::journal::lock(j).server_campaigns_of(which),
            Journal::Postgres(p) => p.server_campaigns_of(which).await,
        }?;
        rows.into_iter().map(from_row).collect()
    }

    /// Takes `step` on campaign `id` if it is still in the state `from`:
    /// the new state, or [`Error::WrongState`] with the state it is in (or
    /// `Invalid` if the step cannot be taken from `from` at all).
    pub async fn move_campaign(
        &self,
        id: &str,
        from: CampaignState,
        step: Step,
        change: &Change,
        now: i64,
    ) -> Result<CampaignState> {
        let to = from.after(step).ok_or(Error::WrongState {
            id: id.to_owned(),
            state: from.as_str(),
        })?;
        let moved = match self {
            Journal::Sqlite(j) => crate::journal::lock(j).move_campaign(id, from, to, change, now),
            Journal::Postgres(p) => p.move_campaign(id, from, to, change, now).await,
        }?;
        if moved {
            return Ok(to);
        }
        let state = self
            .server_campaign(id)
            .await?
            .map_or("gone", |c| c.state.as_str());
        Err(Error::WrongState {
            id: id.to_owned(),
            state,
        })
    }
}

impl SqliteJournal {
    fn create_server_campaign(&self, c: &ServerCampaign) -> Result<bool> {
        let n = self.conn().execute(
            &format!("INSERT OR IGNORE INTO wxmass_server_campaigns ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"),
            rusqlite::params![
                c.id,
                c.appid,
                c.name,
                json(&c.content),
                json(&c.audience),
                c.list,
                c.batch_size.map(i64::from),
                c.state.as_str(),
                c.send_at,
                c.created_by,
                c.approved_by,
                c.note,
                c.created_at,
                c.updated_at
            ],
        )?;
        Ok(n == 1)
    }

    fn server_campaigns_of(&self, which: Which<'_>) -> Result<Vec<Row>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM wxmass_server_campaigns WHERE {} ORDER BY created_at DESC, id",
            which.condition()
        ))?;
        let read = |r: &rusqlite::Row<'_>| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
            ))
        };
        let rows = match which {
            Which::Id(id) => stmt.query_map(rusqlite::params![id], read)?,
            Which::All => stmt.query_map([], read)?,
            Which::Due(now) => stmt.query_map(rusqlite::params![now], read)?,
        };
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn move_campaign(
        &self,
        id: &str,
        from: CampaignState,
        to: CampaignState,
        change: &Change,
        now: i64,
    ) -> Result<bool> {
        let n = self.conn().execute(
            "UPDATE wxmass_server_campaigns SET state = ?3, send_at = coalesce(?4, send_at),
                 approved_by = coalesce(?5, approved_by), note = coalesce(?6, note), updated_at = ?7
             WHERE id = ?1 AND state = ?2",
            rusqlite::params![
                id,
                from.as_str(),
                to.as_str(),
                change.send_at,
                change.approved_by,
                change.note,
                now
            ],
        )?;
        Ok(n == 1)
    }
}

impl PgJournal {
    async fn create_server_campaign(&self, c: &ServerCampaign) -> Result<bool> {
        let (content, audience) = (json(&c.content), json(&c.audience));
        let batch_size = c.batch_size.map(i64::from);
        let n = self
            .with(async |db| {
                db.execute(
                    &format!("INSERT INTO wxmass_server_campaigns ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT (id) DO NOTHING"),
                    &[
                        &c.id,
                        &c.appid,
                        &c.name,
                        &content,
                        &audience,
                        &c.list,
                        &batch_size,
                        &c.state.as_str(),
                        &c.send_at,
                        &c.created_by,
                        &c.approved_by,
                        &c.note,
                        &c.created_at,
                        &c.updated_at,
                    ],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }

    async fn server_campaigns_of(&self, which: Which<'_>) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM wxmass_server_campaigns WHERE {} ORDER BY created_at DESC, id",
            which.condition().replace("?1", "$1")
        );
        let rows = self
            .with(async |db| match which {
                Which::Id(id) => db.query(&sql, &[&id]).await,
                Which::All => db.query(&sql, &[]).await,
                Which::Due(now) => db.query(&sql, &[&now]).await,
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    r.get(1),
                    r.get(2),
                    r.get(3),
                    r.get(4),
                    r.get(5),
                    r.get(6),
                    r.get(7),
                    r.get(8),
                    r.get(9),
                    r.get(10),
                    r.get(11),
                    r.get(12),
                    r.get(13),
                )
            })
            .collect())
    }

    async fn move_campaign(
        &self,
        id: &str,
        from: CampaignState,
        to: CampaignState,
        change: &Change,
        now: i64,
    ) -> Result<bool> {
        let n = self
            .with(async |db| {
                db.execute(
                    "UPDATE wxmass_server_campaigns SET state = $3, send_at = coalesce($4, send_at),
                         approved_by = coalesce($5, approved_by), note = coalesce($6, note), updated_at = $7
                     WHERE id = $1 AND state = $2",
                    &[
                        &id,
                        &from.as_str(),
                        &to.as_str(),
                        &change.send_at,
                        &change.approved_by,
                        &change.note,
                        &now,
                    ],
                )
                .await
            })
            .await?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_lifecycle_steps_are_taken() {
        use CampaignState as S;
        let mut state = S::Draft;
        for (step, next) in [
            (Step::Submit, S::AwaitingApproval),
            (Step::Approve, S::Scheduled),
            (Step::Start, S::Running),
            (Step::Pause, S::Paused),
            (Step::Resume, S::Scheduled),
            (Step::Start, S::Running),
            (Step::Finish, S::Finished),
        ] {
            state = state.after(step).expect("legal");
            assert_eq!(state, next);
        }
        for end in [S::Finished, S::Cancelled, S::Failed] {
            for step in [
                Step::Submit,
                Step::Approve,
                Step::Start,
                Step::Pause,
                Step::Resume,
                Step::Cancel,
                Step::Finish,
                Step::Fail,
            ] {
                assert_eq!(end.after(step), None, "{end:?} is final");
            }
        }
        assert_eq!(
            S::Draft.after(Step::Approve),
            None,
            "approval needs a submission"
        );
        assert_eq!(S::Draft.after(Step::Start), None);
        assert_eq!(S::Running.after(Step::Cancel), Some(S::Cancelled));
    }
}
