//! Free publishing in the journal: each publish this journal's owner
//! submitted (`freepublish/submit`: its draft, `publish_id` and
//! `msg_data_id`), and each PUBLISHJOBFINISH report `wxmass serve` or the
//! server received, in one table keyed by account and `publish_id`. A
//! report is recorded before WeChat is answered; WeChat's retry of it is
//! recognised; a report that contradicts the first is kept beside it.

use serde::Serialize;

/// A PUBLISHJOBFINISH report, to be recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishReport {
    /// The publish.
    pub publish_id: i64,
    /// `publish_status` (0 success, 2 to 6 the ways it fails or ends).
    pub status: i64,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address, in order.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// The whole event, as JSON (to tell a retry from a contradiction).
    pub event: String,
}

/// A publish as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishRecord {
    /// The account.
    pub appid: String,
    /// The publish.
    pub publish_id: i64,
    /// The campaign that submitted it, if one of ours did.
    pub campaign: Option<String>,
    /// The draft it was made from, if ours.
    pub media_id: Option<String>,
    /// The content's id (datacube, comments), if ours.
    pub msg_data_id: Option<i64>,
    /// Unix seconds it was submitted, if ours.
    pub submitted_at: Option<i64>,
    /// `publish_status`, once reported.
    pub status: Option<i64>,
    /// On success.
    pub article_id: Option<String>,
    /// Each article's address.
    pub article_urls: Vec<String>,
    /// The 1-based indexes of the articles that failed.
    pub fail_idx: Vec<u32>,
    /// Unix seconds the report came.
    pub reported_at: Option<i64>,
    /// A later report that contradicted the first (kept apart).
    pub conflicting: bool,
}
