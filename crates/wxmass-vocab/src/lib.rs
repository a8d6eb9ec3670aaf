//! WeChat's words that more than one wxmass crate reads, each with one
//! owner: what `freepublish/get` answers and what a PUBLISHJOBFINISH push
//! says are the same `publish_status`, so the client (wxmass-api), the
//! receiver (wxmass-callback) and the faces read it from here; the replay
//! guard's entry is the receiver's and the store keeps it as it is. Each
//! crate re-exports what it uses at its old path.
//!
//! Kept to plain types (serde only): the receiver's fuzz targets and the
//! client both build it without pulling the other in.

use serde::{Deserialize, Serialize};

/// `publish_status` (wechat-analytics.md §2): 0 success, 1 publishing,
/// 2..=6 the ways it ends otherwise; the same in `freepublish/get`'s
/// answer and in the push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i64", from = "i64")]
pub enum PublishStatus {
    /// 0: published.
    Success,
    /// 1: still publishing.
    Publishing,
    /// 2: the originality check failed.
    OriginalityFailed,
    /// 3: a general failure.
    Failed,
    /// 4: rejected by review.
    Rejected,
    /// 5: deleted by the user after it succeeded.
    DeletedByUser,
    /// 6: banned by the system after it succeeded.
    Banned,
    /// A value the reference does not list.
    Other(i64),
}

impl PublishStatus {
    /// From WeChat's number.
    pub fn from_code(code: i64) -> PublishStatus {
        match code {
            0 => PublishStatus::Success,
            1 => PublishStatus::Publishing,
            2 => PublishStatus::OriginalityFailed,
            3 => PublishStatus::Failed,
            4 => PublishStatus::Rejected,
            5 => PublishStatus::DeletedByUser,
            6 => PublishStatus::Banned,
            other => PublishStatus::Other(other),
        }
    }

    /// WeChat's number.
    pub fn code(self) -> i64 {
        match self {
            PublishStatus::Success => 0,
            PublishStatus::Publishing => 1,
            PublishStatus::OriginalityFailed => 2,
            PublishStatus::Failed => 3,
            PublishStatus::Rejected => 4,
            PublishStatus::DeletedByUser => 5,
            PublishStatus::Banned => 6,
            PublishStatus::Other(n) => n,
        }
    }

    /// For people.
    pub fn meaning(self) -> &'static str {
        match self {
            PublishStatus::Success => "published",
            PublishStatus::Publishing => "publishing",
            PublishStatus::OriginalityFailed => "the originality check failed",
            PublishStatus::Failed => "publishing failed",
            PublishStatus::Rejected => "rejected by review",
            PublishStatus::DeletedByUser => "deleted by the account after it was published",
            PublishStatus::Banned => "banned by WeChat after it was published",
            PublishStatus::Other(_) => "undocumented publish_status",
        }
    }

    /// Whether WeChat is done with it.
    pub fn is_final(self) -> bool {
        self != PublishStatus::Publishing
    }
}

impl From<PublishStatus> for i64 {
    fn from(s: PublishStatus) -> i64 {
        s.code()
    }
}

impl From<i64> for PublishStatus {
    fn from(code: i64) -> PublishStatus {
        PublishStatus::from_code(code)
    }
}

/// A callback request the receiver accepted, remembered until its
/// timestamp window closes so that it can never be replayed, even across a
/// restart: the replay guard's entry, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The request's timestamp (Unix seconds).
    pub timestamp: i64,
    /// Its nonce.
    pub nonce: String,
    /// A SHA-1 digest of what it carried.
    pub content: [u8; 20],
    /// Unix seconds after which the timestamp is refused anyway, so the
    /// entry can be forgotten.
    pub expires_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_reads_as_a_number() {
        for code in -1..=7 {
            assert_eq!(PublishStatus::from_code(code).code(), code);
        }
        assert!(PublishStatus::Rejected.is_final());
        assert!(!PublishStatus::Publishing.is_final());
        let read: PublishStatus = serde_json::from_str("4").expect("a number");
        assert_eq!(read, PublishStatus::Rejected);
        assert_eq!(serde_json::to_string(&read).expect("json"), "4");
    }
}
