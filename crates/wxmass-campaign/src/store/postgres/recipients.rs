//! Fan-out campaigns' recipients, in chunks under leases, in PostgreSQL.
//! Leases run on the caller's clock (`now`), as the recipients' first
//! attempts do, so that one clock judges both.

use async_trait::async_trait;

use super::PgStore;
use crate::error::Result;
use crate::notices::{
    ApiLimits, Granted, Learnt, NoticeReport, Reach, Records, Reported, StateCounts,
};
use crate::openids;
use crate::spec::*;
use crate::store::rows::*;
use crate::store::*;

#[async_trait]
impl RecipientStore for PgStore {
    async fn plan_recipients(
        &self,
        campaign: &Campaign,
        chunks: &mut (dyn Iterator<Item = Result<Vec<String>>> + Send),
    ) -> Result<()> {
        // The chunks come from a file and may fail midway: the transaction
        // is rolled back then.
        let mut failed = None;
        self.with(async |c| {
            let tx = c.transaction().await?;
            if !super::campaigns::insert_planned(&tx, campaign).await? {
                failed = Some(taken(&campaign.id));
                return tx.rollback().await;
            }
            let insert = tx
                .prepare(
                    "INSERT INTO wxmass_recipient_chunks
                     (campaign, idx, openids, records, planned, sending, sent, failed, unknown, delivered, updated_at)
                     VALUES ($1, $2, $3, $4, $5, 0, 0, 0, 0, 0, $6)",
                )
                .await?;
            for (index, chunk) in chunks.enumerate() {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        failed = Some(e);
                        return tx.rollback().await;
                    }
                };
                tx.execute(
                    &insert,
                    &[
                        &campaign.id,
                        &(index as i32),
                        &openids::encode(&chunk),
                        &Records::planned(chunk.len()).encode(),
                        &(chunk.len() as i32),
                        &campaign.created_at,
                    ],
                )
                .await?;
            }
            tx.commit().await
        })
        .await?;
        match failed {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// As on SQLite, with chunks other workers are claiming skipped (`SKIP
    /// LOCKED`) instead of waited for.
    async fn claim_chunk(
        &self,
        campaign: &str,
        worker: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<Option<StoredChunk>> {
        let expires = now + ttl.as_secs() as i64;
        let row = self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "WITH picked AS (
                             SELECT campaign, idx, lease_owner AS old_owner FROM wxmass_recipient_chunks
                             WHERE campaign = $1 AND planned + sending > 0
                               AND (lease_owner IS NULL OR lease_owner = $2 OR lease_expires_at < $3)
                             ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED)
                         UPDATE wxmass_recipient_chunks r SET lease_owner = $2, lease_expires_at = $4,
                             updated_at = $3,
                             takeovers = r.takeovers + CASE WHEN p.old_owner IS NOT NULL
                                 AND p.old_owner != $2 THEN 1 ELSE 0 END
                         FROM picked p WHERE r.campaign = p.campaign AND r.idx = p.idx
                         RETURNING r.idx, r.openids, r.records,
                             coalesce(p.old_owner IS NOT NULL AND p.old_owner != $2, false)",
                    )
                    .await?,
                    &[&campaign, &worker, &now, &expires],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| StoredChunk {
            index: r.get::<_, i32>(0) as u32,
            openids: r.get(1),
            records: r.get(2),
            takeover: r.get(3),
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
        let idx = index as i32;
        let [a, b, c2, d, e] = counts.by_state.map(|n| n as i32);
        let delivered = counts.delivered as i32;
        let expires = now + ttl.as_secs() as i64;
        let written = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached(
                        "UPDATE wxmass_recipient_chunks SET records = $4, planned = $5, sending = $6,
                         sent = $7, failed = $8, unknown = $9, delivered = $10, lease_expires_at = $11,
                         updated_at = $12
                         WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                    )
                    .await?,
                    &[&campaign, &idx, &worker, &records, &a, &b, &c2, &d, &e, &delivered, &expires, &now],
                )
                .await
            })
            .await?;
        Ok(written == 1)
    }

    async fn release_chunk(&self, campaign: &str, index: u32, worker: &str) -> Result<()> {
        let idx = index as i32;
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "UPDATE wxmass_recipient_chunks SET lease_owner = NULL, lease_expires_at = NULL
                     WHERE campaign = $1 AND idx = $2 AND lease_owner = $3",
                )
                .await?,
                &[&campaign, &idx, &worker],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn chunk_page(
        &self,
        campaign: &str,
        after: Option<u32>,
        limit: u32,
    ) -> Result<Vec<StoredChunk>> {
        let after = after.map_or(-1, |a| a as i32);
        let limit = i64::from(limit);
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT idx, openids, records FROM wxmass_recipient_chunks
                         WHERE campaign = $1 AND idx > $2 ORDER BY idx LIMIT $3",
                    )
                    .await?,
                    &[&campaign, &after, &limit],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| StoredChunk {
                index: r.get::<_, i32>(0) as u32,
                openids: r.get(1),
                records: r.get(2),
                takeover: false,
            })
            .collect())
    }

    async fn recipient_counts(&self, campaign: &str) -> Result<StateCounts> {
        let row = self
            .with(async |c| {
                c.query_one(
                    &c.prepare_cached(
                        "SELECT coalesce(SUM(planned), 0)::bigint, coalesce(SUM(sending), 0)::bigint,
                                coalesce(SUM(sent), 0)::bigint, coalesce(SUM(failed), 0)::bigint,
                                coalesce(SUM(unknown), 0)::bigint, coalesce(SUM(delivered), 0)::bigint
                         FROM wxmass_recipient_chunks WHERE campaign = $1",
                    )
                    .await?,
                    &[&campaign],
                )
                .await
            })
            .await?;
        Ok(StateCounts {
            by_state: [0, 1, 2, 3, 4].map(|i| count(row.get::<_, i64>(i))),
            delivered: count(row.get::<_, i64>(5)),
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
        let idx = index as i32;
        let [a, b, c2, d, e] = counts.by_state.map(|n| n as i32);
        let delivered = counts.delivered as i32;
        let written = self
            .with(async |c| {
                c.execute(
                    &c.prepare_cached(
                        "UPDATE wxmass_recipient_chunks SET records = $3, planned = $4, sending = $5,
                         sent = $6, failed = $7, unknown = $8, delivered = $9, updated_at = $10
                         WHERE campaign = $1 AND idx = $2 AND records = $11
                           AND (lease_owner IS NULL OR lease_expires_at < $10)",
                    )
                    .await?,
                    &[&campaign, &idx, &records, &a, &b, &c2, &d, &e, &delivered, &now, &old],
                )
                .await
            })
            .await?;
        Ok(written == 1)
    }

    async fn record_notice_reports(
        &self,
        appid: &str,
        reports: &[NoticeReport],
        at: i64,
    ) -> Result<()> {
        let openids: Vec<&str> = reports.iter().map(|r| r.openid.as_str()).collect();
        let msg_ids: Vec<i64> = reports.iter().map(|r| r.msg_id).collect();
        let created: Vec<i64> = reports.iter().map(|r| r.created_at).collect();
        let status: Vec<i32> = reports
            .iter()
            .map(|r| i32::from(r.reported.code()))
            .collect();
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "INSERT INTO wxmass_notice_reports (appid, openid, msg_id, created_at, status, received_at)
                     SELECT $1, u.openid, u.msg_id, u.created_at, u.status, $6
                     FROM unnest($2::text[], $3::int8[], $4::int8[], $5::int4[])
                          AS u(openid, msg_id, created_at, status)
                     ON CONFLICT DO NOTHING",
                )
                .await?,
                &[&appid, &openids, &msg_ids, &created, &status, &at],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn notice_reports(&self, appid: &str, openids: &[String]) -> Result<Vec<NoticeReport>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT openid, msg_id, created_at, status FROM wxmass_notice_reports
                         WHERE appid = $1 AND openid = ANY($2)",
                    )
                    .await?,
                    &[&appid, &openids],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| NoticeReport {
                openid: r.get(0),
                msg_id: r.get(1),
                created_at: r.get(2),
                reported: Reported::from_code(r.get::<_, i32>(3) as u8),
            })
            .collect())
    }

    async fn forget_notice_reports(&self, appid: &str, reports: &[NoticeReport]) -> Result<()> {
        let openids: Vec<&str> = reports.iter().map(|r| r.openid.as_str()).collect();
        let msg_ids: Vec<i64> = reports.iter().map(|r| r.msg_id).collect();
        let created: Vec<i64> = reports.iter().map(|r| r.created_at).collect();
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "DELETE FROM wxmass_notice_reports r
                     USING unnest($2::text[], $3::int8[], $4::int8[]) AS u(openid, msg_id, created_at)
                     WHERE r.appid = $1 AND r.openid = u.openid AND r.msg_id = u.msg_id
                       AND r.created_at = u.created_at",
                )
                .await?,
                &[&appid, &openids, &msg_ids, &created],
            )
            .await
        })
        .await?;
        Ok(())
    }

    async fn prune_notice_reports(&self, before: i64) -> Result<u64> {
        self.with(async |c| {
            c.execute(
                "DELETE FROM wxmass_notice_reports WHERE received_at < $1",
                &[&before],
            )
            .await
        })
        .await
    }

    async fn record_reach(&self, appid: &str, learnt: &[Learnt]) -> Result<()> {
        if learnt.is_empty() {
            return Ok(());
        }
        self.with(async |c| {
            let tx = c.transaction().await?;
            let upsert = tx.prepare(&record_reach_sql(true)).await?;
            let consent = tx.prepare(&RECORD_CONSENT_SQL.replace('?', "$")).await?;
            for l in learnt {
                if let Some((a, b, c2, d, e)) = reach_columns(l) {
                    let b = b.map(|kind| kind as i32);
                    tx.execute(&upsert, &[&appid, &l.openid, &a, &b, &c2, &d, &e])
                        .await?;
                }
                if let Some((template_id, granted)) = consent_of(l) {
                    let granted = i32::from(granted);
                    tx.execute(
                        &consent,
                        &[&appid, &l.openid, &template_id, &granted, &l.at],
                    )
                    .await?;
                }
            }
            tx.commit().await
        })
        .await
    }

    async fn reach(
        &self,
        appid: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, Reach>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT openid, window_opened_at, window_kind, window_closed_at, unfollowed_at,
                                followed_at
                         FROM wxmass_reach WHERE appid = $1 AND openid = ANY($2)",
                    )
                    .await?,
                    &[&appid, &openids],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let kind: Option<i32> = r.get(2);
                (
                    r.get::<_, String>(0),
                    reach_of((r.get(1), kind.map(i64::from), r.get(3), r.get(4), r.get(5))),
                )
            })
            .collect())
    }

    async fn consents(
        &self,
        appid: &str,
        template_id: &str,
        openids: &[String],
    ) -> Result<std::collections::HashMap<String, bool>> {
        let rows = self
            .with(async |c| {
                c.query(
                    &c.prepare_cached(
                        "SELECT openid, granted FROM wxmass_consents
                         WHERE appid = $1 AND template_id = $2 AND openid = ANY($3)",
                    )
                    .await?,
                    &[&appid, &template_id, &openids],
                )
                .await
            })
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i32>(1) != 0))
            .collect())
    }

    async fn api_limits(&self, appid: &str, api: &str, day: i64) -> Result<Option<ApiLimits>> {
        let row = self
            .with(async |c| {
                c.query_opt(
                    &c.prepare_cached(
                        "SELECT daily_limit, rate_calls, rate_seconds FROM wxmass_api_days
                         WHERE appid = $1 AND api = $2 AND day = $3 AND asked = 1",
                    )
                    .await?,
                    &[&appid, &api, &day],
                )
                .await
            })
            .await?;
        Ok(row.map(|r| limits_of(r.get(0), r.get(1), r.get(2))))
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
        let used = used as i64;
        self.with(async |c| {
            c.execute(
                &c.prepare_cached(
                    "INSERT INTO wxmass_api_days (appid, api, day, used, asked, daily_limit, rate_calls, rate_seconds)
                     VALUES ($1, $2, $3, $4, 1, $5, $6, $7)
                     ON CONFLICT (appid, api, day) DO UPDATE SET
                         used = GREATEST(wxmass_api_days.used, excluded.used), asked = 1,
                         daily_limit = excluded.daily_limit, rate_calls = excluded.rate_calls,
                         rate_seconds = excluded.rate_seconds",
                )
                .await?,
                &[&appid, &api, &day, &used, &daily, &calls, &seconds],
            )
            .await
        })
        .await?;
        Ok(())
    }

    /// As on SQLite: the day's row locked (`FOR UPDATE`) while the calls
    /// are counted, so that workers on every host take from one count.
    async fn take_api_calls(&self, appid: &str, api: &str, want: u32, now: i64) -> Result<Granted> {
        let day = crate::beijing::day_number(now);
        self.with(async |c| {
            let tx = c.transaction().await?;
            tx.execute(
                "INSERT INTO wxmass_api_days (appid, api, day, used) VALUES ($1, $2, $3, 0)
                 ON CONFLICT DO NOTHING",
                &[&appid, &api, &day],
            )
            .await?;
            let row = tx
                .query_one(
                    "SELECT used, daily_limit, rate_calls, rate_seconds FROM wxmass_api_days
                     WHERE appid = $1 AND api = $2 AND day = $3 FOR UPDATE",
                    &[&appid, &api, &day],
                )
                .await?;
            let limits = limits_of(row.get(1), row.get(2), row.get(3));
            let used: i64 = row.get(0);
            let period_used: i64 = match limits.rate {
                Some((_, seconds)) => tx
                    .query_opt(
                        "SELECT used FROM wxmass_api_periods WHERE appid = $1 AND api = $2 AND period = $3",
                        &[&appid, &api, &now.div_euclid(seconds as i64)],
                    )
                    .await?
                    .map_or(0, |r| r.get(0)),
                None => 0,
            };
            let granted = grant(&limits, want, count(used), count(period_used), now);
            if let Granted::Calls(n) = granted {
                let n = i64::from(n);
                tx.execute(
                    "UPDATE wxmass_api_days SET used = used + $4 WHERE appid = $1 AND api = $2 AND day = $3",
                    &[&appid, &api, &day, &n],
                )
                .await?;
                if let Some((_, seconds)) = limits.rate {
                    let period = now.div_euclid(seconds as i64);
                    tx.execute(
                        "INSERT INTO wxmass_api_periods (appid, api, period, used) VALUES ($1, $2, $3, $4)
                         ON CONFLICT (appid, api, period) DO UPDATE SET used = wxmass_api_periods.used + excluded.used",
                        &[&appid, &api, &period, &n],
                    )
                    .await?;
                    tx.execute(
                        "DELETE FROM wxmass_api_periods WHERE appid = $1 AND api = $2 AND period < $3",
                        &[&appid, &api, &(period - 1)],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(granted)
        })
        .await
    }

    async fn give_back_api_calls(
        &self,
        appid: &str,
        api: &str,
        n: u32,
        taken_at: i64,
    ) -> Result<()> {
        let day = crate::beijing::day_number(taken_at);
        let n = i64::from(n);
        self.with(async |c| {
            let tx = c.transaction().await?;
            let row = tx
                .query_opt(
                    "UPDATE wxmass_api_days SET used = GREATEST(used - $4, 0)
                     WHERE appid = $1 AND api = $2 AND day = $3 RETURNING rate_seconds",
                    &[&appid, &api, &day, &n],
                )
                .await?;
            let seconds: Option<i64> = row.and_then(|r| r.get(0));
            if let Some(seconds) = seconds.filter(|s| *s > 0) {
                tx.execute(
                    "UPDATE wxmass_api_periods SET used = GREATEST(used - $4, 0)
                     WHERE appid = $1 AND api = $2 AND period = $3",
                    &[&appid, &api, &taken_at.div_euclid(seconds), &n],
                )
                .await?;
            }
            tx.commit().await
        })
        .await
    }

    async fn rewrite_chunks(
        &self,
        campaign: &str,
        now: i64,
        f: &mut (dyn for<'a> FnMut(&'a mut Vec<u8>) -> Option<StateCounts> + Send),
    ) -> Result<u64> {
        self.with(async |c| {
            let tx = c.transaction().await?;
            let rows = tx
                .query(
                    "SELECT idx, records FROM wxmass_recipient_chunks
                     WHERE campaign = $1 AND (lease_owner IS NULL OR lease_expires_at < $2)
                     ORDER BY idx FOR UPDATE",
                    &[&campaign, &now],
                )
                .await?;
            let mut changed = 0;
            for row in rows {
                let idx: i32 = row.get(0);
                let mut records: Vec<u8> = row.get(1);
                if let Some(counts) = f(&mut records) {
                    let [a, b, c2, d, e] = counts.by_state.map(|n| n as i32);
                    let delivered = counts.delivered as i32;
                    tx.execute(
                        "UPDATE wxmass_recipient_chunks SET records = $3, planned = $4, sending = $5,
                         sent = $6, failed = $7, unknown = $8, delivered = $9, updated_at = $10
                         WHERE campaign = $1 AND idx = $2",
                        &[&campaign, &idx, &records, &a, &b, &c2, &d, &e, &delivered, &now],
                    )
                    .await?;
                    changed += 1;
                }
            }
            tx.commit().await?;
            Ok(changed)
        })
        .await
    }
}
