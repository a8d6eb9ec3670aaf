//! What a campaign's batches add up to: the one count the CLI, the API and
//! the dashboard show.
//!
//! Delivery figures come only from WeChat's MASSSENDJOBFINISH reports, so
//! they are confirmed; a batch WeChat took whose report never came (the
//! receiver was down when WeChat gave up pushing, or the job was settled by
//! `mass/get`, which names a status but no counts) is counted apart as
//! "sent, no report", never folded into the delivered figure.

use serde::Serialize;

use crate::spec::{Batch, BatchState};

/// A campaign's batches, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Batches planned.
    pub batches: u64,
    /// Of those, submitted to WeChat (named or not).
    pub submitted: u64,
    /// Submitted batches with a report: the figures below are theirs.
    pub reported: u64,
    /// Followers the reports say were addressed (`TotalCount`).
    pub addressed: u64,
    /// Left after WeChat's filtering (`FilterCount`).
    pub after_filtering: u64,
    /// Followers the reports say received it (`SentCount`): confirmed.
    pub delivered: u64,
    /// Followers the reports say it failed for (`ErrorCount`).
    pub errors: u64,
    /// Submitted batches with no report: sent, counts unknown.
    pub unreported: u64,
    /// Openids in those batches (batches to a list only: WeChat alone
    /// knows how many a tag or every follower was).
    pub unreported_openids: u64,
    /// Of the unreported batches, those `mass/get` calls ended: their
    /// report will not come.
    pub unreported_settled: u64,
}

impl Summary {
    /// Counts `batches`.
    pub fn of(batches: &[Batch]) -> Summary {
        let mut s = Summary {
            batches: batches.len() as u64,
            ..Summary::default()
        };
        for b in batches {
            if b.state != BatchState::Submitted {
                continue;
            }
            s.submitted += 1;
            match &b.report {
                Some(r) => {
                    s.reported += 1;
                    s.addressed += r.total_count.max(0) as u64;
                    s.after_filtering += r.filter_count.max(0) as u64;
                    s.delivered += r.sent_count.max(0) as u64;
                    s.errors += r.error_count.max(0) as u64;
                }
                None => {
                    s.unreported += 1;
                    s.unreported_openids += b.size;
                    if b.status.as_deref().is_some_and(|s| s != "SENDING") {
                        s.unreported_settled += 1;
                    }
                }
            }
        }
        s
    }

    /// One line for people: `5,040 of 5,040 delivered, 1 batch (960
    /// openids) sent with no report`, or `no report yet`.
    pub fn delivery(&self) -> String {
        if self.reported == 0 && self.unreported_settled == 0 {
            return "no report yet".to_owned();
        }
        let mut out = format!(
            "{} of {} delivered",
            thousands(self.delivered),
            thousands(self.addressed)
        );
        if self.unreported > 0 {
            out.push_str(&format!(
                ", {} batch{} {}sent with no report",
                self.unreported,
                if self.unreported == 1 { "" } else { "es" },
                if self.unreported_openids > 0 {
                    format!("({} openids) ", thousands(self.unreported_openids))
                } else {
                    String::new()
                }
            ));
        }
        out
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Report;

    fn batch(index: u32, size: u64, status: Option<&str>, sent: Option<i64>) -> Batch {
        Batch {
            index,
            clientmsgid: format!("c{index}"),
            size,
            state: BatchState::Submitted,
            msg_id: Some(1000 + i64::from(index)),
            msg_data_id: None,
            submitted_at: Some(0),
            status: status.map(str::to_owned),
            report: sent.map(|sent| Report {
                status: "send success".into(),
                total_count: sent,
                filter_count: sent,
                sent_count: sent,
                error_count: 0,
                check_state: None,
                article_urls: vec![],
            }),
            sent_by: None,
            takeovers: 0,
        }
    }

    #[test]
    fn a_batch_settled_without_a_report_is_not_counted_delivered() {
        let mut batches: Vec<Batch> = (0..5)
            .map(|i| batch(i, 1008, Some("SEND_SUCCESS"), Some(1008)))
            .collect();
        batches.push(batch(5, 960, Some("SEND_SUCCESS"), None));
        let mut planned = batch(6, 10, None, None);
        planned.state = BatchState::Planned;
        batches.push(planned);
        let s = Summary::of(&batches);
        assert_eq!(
            (s.batches, s.submitted, s.reported, s.delivered, s.addressed),
            (7, 6, 5, 5040, 5040)
        );
        assert_eq!(
            (s.unreported, s.unreported_openids, s.unreported_settled),
            (1, 960, 1)
        );
        assert_eq!(
            s.delivery(),
            "5,040 of 5,040 delivered, 1 batch (960 openids) sent with no report"
        );
    }

    #[test]
    fn a_job_still_sending_is_awaiting_its_report() {
        let s = Summary::of(&[batch(0, 0, Some("SENDING"), None)]);
        assert_eq!((s.unreported, s.unreported_settled), (1, 0));
        assert_eq!(s.delivery(), "no report yet");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
    }
}
