//! Fan-out campaigns' recipients, in chunks under leases, in SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

use super::SqliteStore;
use crate::error::Result;
use crate::notices::{
    ApiLimits, Granted, Learnt, NoticeReport, Reach, Records, Reported, StateCounts,
};
use crate::openids;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl RecipientStore for SqliteStore {
    async fn plan_recipients(
        &self,
        campaign: &Campaign,
        chunks: &mut (dyn Iterator<Item = Result<Vec<String>>> + Send),
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        super::campaigns::insert_planned(&tx, campaign)?;
        {
            let mut insert = tx.prepare(
                "INSERT INTO wxmass_recipient_chunks
                 (campaign, idx, openids, records, planned, sending, sent, failed, unknown, delivered, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, 0, 0, ?6)",
            )?;
            for (index, chunk) in chunks.enumerate() {
                let chunk = chunk?;
                insert.execute(params![
                    campaign.id,
                    index as u32,
                    openids::encode(&chunk),
                    Records::planned(chunk.len()).encode(),
                    chunk.len() as i64,
                    campaign.created_at
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn claim_chunk(
        &self,
        campaign: &str,
        worker: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<Option<StoredChunk>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found: Option<(u32, Vec<u8>, Vec<u8>, Option<String>)> = tx
            .prepare_cached(
                "SELECT idx, openids, records, lease_owner FROM wxmass_recipient_chunks
                 WHERE campaign = ?1 AND planned + sending > 0
                   AND (lease_owner IS NULL OR lease_owner = ?2 OR lease_expires_at < ?3)
                 ORDER BY idx LIMIT 1",
            )?
            .query_row(params![campaign, worker, now], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((index, openids, records, owner)) = found else {
            return Ok(None);
        };
        let takeover = owner.as_deref().is_some_and(|o| o != worker);
        tx.prepare_cached(
            "UPDATE wxmass_recipient_chunks SET lease_owner = ?3, lease_expires_at = ?4,
             takeovers = takeovers + ?5, updated_at = ?6 WHERE campaign = ?1 AND idx = ?2",
        )?
        .execute(params![
            campaign,
            index,
            worker,
            now + ttl.as_secs() as i64,
            i64::from(takeover),
            now
        ])?;
        tx.commit()?;
        Ok(Some(StoredChunk {
            index,
            openids,
            records,
            takeover,
        }))
    }

    async fn write_records(
        &self,
        campaign: &str,
        index: u32,
        worker: &str,
        records: &[u8],
        counts: &StateCounts,
        ttl: Duration,
        now: i64,
    ) -> Result<bool> {
        let conn = self.conn();
        let [planned, sending, sent, failed, unknown] = counts.by_state.map(|n| n as i64);
        let written = conn
            .prepare_cached(
                "UPDATE wxmass_recipient_chunks SET records = ?4, planned = ?5, sending = ?6,
                 sent = ?7, failed = ?8, unknown = ?9, delivered = ?10, lease_expires_at = ?11,
                 updated_at = ?12
                 WHERE campaign = ?1 AND idx = ?2 AND lease_owner = ?3",
            )?
            .execute(params![
                campaign,
                index,
                worker,
                records,
                planned,
                sending,
                sent,
                failed,
                unknown,
                counts.delivered as i64,
                now + ttl.as_secs() as i64,
                now
            ])?;
        Ok(written == 1)
    }

    async fn release_chunk(&self, campaign: &str, index: u32, worker: &str) -> Result<()> {
        self.conn()
            .prepare_cached(
                "UPDATE wxmass_recipient_chunks SET lease_owner = NULL, lease_expires_at = NULL
                 WHERE campaign = ?1 AND idx = ?2 AND lease_owner = ?3",
            )?
            .execute(params![campaign, index, worker])?;
        Ok(())
    }

    async fn chunk_page(
        &self,
        campaign: &str,
        after: Option<u32>,
        limit: u32,
    ) -> Result<Vec<StoredChunk>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT idx, openids, records FROM wxmass_recipient_chunks
             WHERE campaign = ?1 AND idx > ?2 ORDER BY idx LIMIT ?3",
        )?;
        let after = after.map_or(-1, i64::from);
        let rows = stmt.query_map(params![campaign, after, limit], |r| {
            Ok(StoredChunk {
                index: r.get(0)?,
                openids: r.get(1)?,
                records: r.get(2)?,
                takeover: false,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    async fn recipient_counts(&self, campaign: &str) -> Result<StateCounts> {
        let sums: [i64; 6] = self.conn().query_row(
            "SELECT coalesce(SUM(planned), 0), coalesce(SUM(sending), 0), coalesce(SUM(sent), 0),
                    coalesce(SUM(failed), 0), coalesce(SUM(unknown), 0), coalesce(SUM(delivered), 0)
             FROM wxmass_recipient_chunks WHERE campaign = ?1",
            params![campaign],
            |r| {
                Ok([
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ])
            },
        )?;
        let [a, b, c, d, e, delivered] = sums.map(count);
        Ok(StateCounts {
            by_state: [a, b, c, d, e],
            delivered,
        })
    }

    async fn replace_records(
        &self,
        campaign: &str,
        index: u32,
        old: &[u8],
        records: &[u8],
        counts: &StateCounts,
        now: i64,
    ) -> Result<bool> {
        let [a, b, c, d, e] = counts.by_state.map(|n| n as i64);
        let written = self
            .conn()
            .prepare_cached(
                "UPDATE wxmass_recipient_chunks SET records = ?3, planned = ?4, sending = ?5,
                 sent = ?6, failed = ?7, unknown = ?8, delivered = ?9, updated_at = ?10
                 WHERE campaign = ?1 AND idx = ?2 AND records = ?11
                   AND (lease_owner IS NULL OR lease_expires_at < ?10)",
            )?
            .execute(params![
                campaign,
                index,
                records,
                a,
                b,
                c,
                d,
                e,
                counts.delivered as i64,
                now,
                old
            ])?;
        Ok(written == 1)
    }

    async fn record_notice_reports(
        &self,
        appid: &str,
        reports: &[NoticeReport],
        at: i64,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO wxmass_notice_reports
                 (appid, openid, msg_id, created_at, status, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in reports {
                insert.execute(params![
                    appid,
                    r.openid,
                    r.msg_id,
                    r.created_at,
                    r.reported.code(),
                    at
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn notice_reports(&self, appid: &str, openids: &[String]) -> Result<Vec<NoticeReport>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT openid, msg_id, created_at, status FROM wxmass_notice_reports
             WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut out = Vec::new();
        for openid in openids {
            let rows = stmt.query_map(params![appid, openid], |r| {
                Ok(NoticeReport {
                    openid: r.get(0)?,
                    msg_id: r.get(1)?,
                    created_at: r.get(2)?,
                    reported: Reported::from_code(r.get(3)?),
                })
            })?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    async fn forget_notice_reports(&self, appid: &str, reports: &[NoticeReport]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut delete = tx.prepare_cached(
                "DELETE FROM wxmass_notice_reports
                 WHERE appid = ?1 AND openid = ?2 AND msg_id = ?3 AND created_at = ?4",
            )?;
            for r in reports {
                delete.execute(params![appid, r.openid, r.msg_id, r.created_at])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn prune_notice_reports(&self, before: i64) -> Result<u64> {
        let n = self.conn().execute(
            "DELETE FROM wxmass_notice_reports WHERE received_at < ?1",
            params![before],
        )?;
        Ok(n as u64)
    }

    async fn record_reach(&self, appid: &str, learnt: &[Learnt]) -> Result<()> {
        if learnt.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare_cached(&record_reach_sql(false))?;
            let mut consent = tx.prepare_cached(RECORD_CONSENT_SQL)?;
            for l in learnt {
                if let Some((a, b, c, d, e)) = reach_columns(l) {
                    upsert.execute(params![appid, l.openid, a, b, c, d, e])?;
                }
                if let Some((template_id, granted)) = consent_of(l) {
                    consent.execute(params![appid, l.openid, template_id, granted, l.at])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    async fn reach(
        &self,
        appid: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, Reach>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT window_opened_at, window_kind, window_closed_at, unfollowed_at, followed_at
             FROM wxmass_reach WHERE appid = ?1 AND openid = ?2",
        )?;
        let mut out = std::collections::HashMap::new();
        for openid in openids {
            let row = stmt
                .query_row(params![appid, openid], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            if let Some(row) = row {
                out.insert(openid.clone(), reach_of(row));
            }
        }
        Ok(out)
    }

    async fn consents(
        &self,
        appid: &str,
        template_id: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, bool>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT granted FROM wxmass_consents
             WHERE appid = ?1 AND openid = ?2 AND template_id = ?3",
        )?;
        let mut out = std::collections::HashMap::new();
        for openid in openids {
            let granted: Option<bool> = stmt
                .query_row(params![appid, openid, template_id], |r| r.get(0))
                .optional()?;
            if let Some(granted) = granted {
                out.insert(openid.clone(), granted);
            }
        }
        Ok(out)
    }

    async fn api_limits(&self, appid: &str, api: &str, day: i64) -> Result<Option<ApiLimits>> {
        let row: Option<(Option<i64>, Option<i64>, Option<i64>)> = self
            .conn()
            .prepare_cached(
                "SELECT daily_limit, rate_calls, rate_seconds FROM wxmass_api_days
                 WHERE appid = ?1 AND api = ?2 AND day = ?3 AND asked = 1",
            )?
            .query_row(params![appid, api, day], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        Ok(row.map(|(daily, calls, seconds)| limits_of(daily, calls, seconds)))
    }

    async fn note_api_limits(
        &self,
        appid: &str,
        api: &str,
        day: i64,
        limits: &ApiLimits,
        used: u64,
    ) -> Result<()> {
        let (daily, calls, seconds) = limit_columns(limits);
        self.conn()
            .prepare_cached(
                "INSERT INTO wxmass_api_days (appid, api, day, used, asked, daily_limit, rate_calls, rate_seconds)
                 VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7)
                 ON CONFLICT (appid, api, day) DO UPDATE SET used = max(used, excluded.used), asked = 1,
                     daily_limit = excluded.daily_limit, rate_calls = excluded.rate_calls,
                     rate_seconds = excluded.rate_seconds",
            )?
            .execute(params![appid, api, day, used as i64, daily, calls, seconds])?;
        Ok(())
    }

    async fn take_api_calls(&self, appid: &str, api: &str, want: u32, now: i64) -> Result<Granted> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let day = crate::beijing::day_number(now);
        let (used, daily, calls, seconds): (i64, Option<i64>, Option<i64>, Option<i64>) = tx
            .prepare_cached(
                "SELECT used, daily_limit, rate_calls, rate_seconds FROM wxmass_api_days
                 WHERE appid = ?1 AND api = ?2 AND day = ?3",
            )?
            .query_row(params![appid, api, day], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?
            .unwrap_or((0, None, None, None));
        let limits = limits_of(daily, calls, seconds);
        let period_used = match limits.rate {
            Some((_, seconds)) => tx
                .prepare_cached(
                    "SELECT used FROM wxmass_api_periods WHERE appid = ?1 AND api = ?2 AND period = ?3",
                )?
                .query_row(params![appid, api, now.div_euclid(seconds as i64)], |r| {
                    r.get::<_, i64>(0)
                })
                .optional()?
                .unwrap_or(0),
            None => 0,
        };
        let granted = grant(&limits, want, count(used), count(period_used), now);
        if let Granted::Calls(n) = granted {
            tx.prepare_cached(
                "INSERT INTO wxmass_api_days (appid, api, day, used) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (appid, api, day) DO UPDATE SET used = used + excluded.used",
            )?
            .execute(params![appid, api, day, n])?;
            if let Some((_, seconds)) = limits.rate {
                let period = now.div_euclid(seconds as i64);
                tx.prepare_cached(
                    "INSERT INTO wxmass_api_periods (appid, api, period, used) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (appid, api, period) DO UPDATE SET used = used + excluded.used",
                )?
                .execute(params![appid, api, period, n])?;
                tx.prepare_cached(
                    "DELETE FROM wxmass_api_periods WHERE appid = ?1 AND api = ?2 AND period < ?3",
                )?
                .execute(params![appid, api, period - 1])?;
            }
        }
        tx.commit()?;
        Ok(granted)
    }

    async fn give_back_api_calls(
        &self,
        appid: &str,
        api: &str,
        n: u32,
        taken_at: i64,
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let day = crate::beijing::day_number(taken_at);
        let seconds: Option<i64> = tx
            .query_row(
                "UPDATE wxmass_api_days SET used = max(used - ?4, 0)
                 WHERE appid = ?1 AND api = ?2 AND day = ?3 RETURNING rate_seconds",
                params![appid, api, day, n],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        if let Some(seconds) = seconds.filter(|s| *s > 0) {
            tx.execute(
                "UPDATE wxmass_api_periods SET used = max(used - ?4, 0)
                 WHERE appid = ?1 AND api = ?2 AND period = ?3",
                params![appid, api, taken_at.div_euclid(seconds), n],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    async fn rewrite_chunks(
        &self,
        campaign: &str,
        now: i64,
        f: &mut (dyn for<'a> FnMut(&'a mut Vec<u8>) -> Option<StateCounts> + Send),
    ) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let chunks: Vec<(u32, Vec<u8>)> = tx
            .prepare(
                "SELECT idx, records FROM wxmass_recipient_chunks
                 WHERE campaign = ?1 AND (lease_owner IS NULL OR lease_expires_at < ?2)
                 ORDER BY idx",
            )?
            .query_map(params![campaign, now], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut changed = 0;
        {
            let mut update = tx.prepare(
                "UPDATE wxmass_recipient_chunks SET records = ?3, planned = ?4, sending = ?5,
                 sent = ?6, failed = ?7, unknown = ?8, delivered = ?9, updated_at = ?10
                 WHERE campaign = ?1 AND idx = ?2",
            )?;
            for (index, mut records) in chunks {
                if let Some(counts) = f(&mut records) {
                    let [a, b, c, d, e] = counts.by_state.map(|n| n as i64);
                    let delivered = counts.delivered as i64;
                    update.execute(params![
                        campaign, index, records, a, b, c, d, e, delivered, now
                    ])?;
                    changed += 1;
                }
            }
        }
        tx.commit()?;
        Ok(changed)
    }
}
