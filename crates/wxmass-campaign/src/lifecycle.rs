//! A campaign's life in a server, before and around the engine's work:
//! written as a draft, submitted, approved with a time to send, run, and
//! finished (or paused, cancelled, failed). The rules of which step may
//! follow which are here ([`CampaignState::after`]); the store only moves a
//! row from the state the caller saw to the next one, so that two people
//! (or two servers) acting at once cannot both win.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where a campaign is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// A person has a finished notice's `unknown` recipients sent again:
    /// it is paused while they are set back to planned, then resumed.
    ResendUnknown,
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
            (S::Finished, Step::ResendUnknown) => S::Paused,
            _ => return None,
        })
    }

    /// Whether it is over: finished, cancelled or failed.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CampaignState::Finished | CampaignState::Cancelled | CampaignState::Failed
        )
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

    pub(crate) fn parse(s: &str) -> Result<CampaignState> {
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

/// Which campaigns to read.
#[derive(Debug, Clone, Copy)]
pub enum Which<'a> {
    /// The one with this id.
    Id(&'a str),
    /// Every one.
    All,
    /// The one with this id, if it is planned (its batches recorded).
    PlannedId(&'a str),
    /// Every planned one.
    Planned,
    /// Those a server should be sending at this time (Unix seconds).
    Due(i64),
    /// The parts of the campaign across accounts with this id.
    PartsOf(&'a str),
}

/// What a [`crate::store::LifecycleStore::move_campaign`] also changes.
#[derive(Debug, Clone, Default)]
pub struct Change {
    /// A new time to send.
    pub send_at: Option<i64>,
    /// The approver.
    pub approved_by: Option<String>,
    /// A new note.
    pub note: Option<String>,
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
