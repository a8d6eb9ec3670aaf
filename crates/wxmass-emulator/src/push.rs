//! Finishing jobs and reporting them: the MASSSENDJOBFINISH (and, for free
//! publishing, PUBLISHJOBFINISH) push to the
//! configured callback URL, plain, compatible or safe, signed and encrypted
//! with `wxmass-callback`'s crypto, answered `success` (or empty) within 5 s,
//! three attempts in all, as WeChat does (wechat-api.md §15–§16).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use wxmass_callback::crypto::{AesKey, MessageCrypto};
use wxmass_callback::signature;
use wxmass_callback::xml::write_cdata_element;

use crate::Emulator;
use crate::clock::wall_ms;
use crate::config::{CallbackMode, CallbackTarget};
use crate::state::{Job, JobStatus};

/// Attempts per push, the first included.
pub const ATTEMPTS: u32 = 3;
/// How long the receiver has to answer.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// The sender WeChat's pushes carry (an openid-like id in real payloads).
pub const MASS_HELPER: &str = "oV5CrjpxgaGXNHIQigzNlgLTnwic";

/// One push attempt and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct PushAttempt {
    /// `MASSSENDJOBFINISH`, `PUBLISHJOBFINISH`, `TEMPLATESENDJOBFINISH`,
    /// or a subscription event.
    pub event: &'static str,
    /// The job reported (its `msg_id`, or a publish's `publish_id`).
    pub msg_id: i64,
    /// 1, 2 or 3.
    pub attempt: u32,
    /// plain, compat or safe.
    pub mode: CallbackMode,
    /// The HTTP status, if the receiver answered.
    pub status: Option<u16>,
    /// The start of the answer's body.
    pub reply: String,
    /// A transport error, if any.
    pub error: Option<String>,
    /// Whether WeChat would count it delivered (200 with `success` or empty).
    pub accepted: bool,
    /// Wall-clock milliseconds.
    pub at_ms: i64,
}

/// The MASSSENDJOBFINISH XML for a finished job.
pub fn job_xml(job: &Job, original_id: &str) -> String {
    let mut xml = String::with_capacity(1024);
    xml.push_str("<xml>");
    write_cdata_element(&mut xml, "ToUserName", original_id);
    write_cdata_element(&mut xml, "FromUserName", MASS_HELPER);
    let create_time = job.finished_at.unwrap_or(job.created_at);
    xml.push_str(&format!("<CreateTime>{create_time}</CreateTime>"));
    write_cdata_element(&mut xml, "MsgType", "event");
    write_cdata_element(&mut xml, "Event", "MASSSENDJOBFINISH");
    xml.push_str(&format!("<MsgID>{}</MsgID>", job.msg_id));
    let status = if job.status == JobStatus::SendFail {
        "send fail"
    } else {
        "send success"
    };
    write_cdata_element(&mut xml, "Status", status);
    xml.push_str(&format!(
        "<TotalCount>{}</TotalCount><FilterCount>{}</FilterCount><SentCount>{}</SentCount><ErrorCount>{}</ErrorCount>",
        job.total_count, job.filter_count, job.sent_count, job.error_count
    ));
    // The emulator's originality check finds nothing: not a reprint (1) for
    // news, not checked (0) for anything else.
    let check_state = if job.msgtype == "mpnews" { 1 } else { 0 };
    xml.push_str(&format!(
        "<CopyrightCheckResult><Count>0</Count><ResultList></ResultList><CheckState>{check_state}</CheckState></CopyrightCheckResult>"
    ));
    if !job.article_urls.is_empty() {
        xml.push_str(&format!(
            "<ArticleUrlResult><Count>{}</Count><ResultList>",
            job.article_urls.len()
        ));
        for (i, url) in job.article_urls.iter().enumerate() {
            xml.push_str(&format!("<item><ArticleIdx>{}</ArticleIdx>", i + 1));
            write_cdata_element(&mut xml, "ArticleUrl", url);
            xml.push_str("</item>");
        }
        xml.push_str("</ResultList></ArticleUrlResult>");
    }
    xml.push_str("</xml>");
    xml
}

/// A push ready to send: its query parameters and body.
#[derive(Debug, Clone)]
pub struct SealedPush {
    /// signature, timestamp, nonce, openid, and in encrypted modes
    /// encrypt_type and msg_signature.
    pub query: Vec<(&'static str, String)>,
    /// The XML body.
    pub body: String,
}

/// The query and body of a push in the target's mode. Timestamps are wall
/// time (not the emulated clock), so that receivers' timestamp windows hold
/// even after a test has moved the clock days ahead.
pub fn seal(
    target: &CallbackTarget,
    appid: &str,
    original_id: &str,
    xml: &str,
) -> Result<SealedPush, String> {
    let timestamp = (wall_ms() / 1000).to_string();
    let nonce = crate::ids::nonce();
    let mut query = vec![
        (
            "signature",
            signature::url_signature(&target.token, &timestamp, &nonce),
        ),
        ("timestamp", timestamp.clone()),
        ("nonce", nonce.clone()),
        ("openid", MASS_HELPER.to_owned()),
    ];
    if target.mode == CallbackMode::Plain {
        return Ok(SealedPush {
            query,
            body: xml.to_owned(),
        });
    }
    let key = target
        .aes_key
        .as_deref()
        .ok_or("compat and safe mode need --callback-aes-key")?;
    let key = AesKey::from_encoding_aes_key(key).map_err(|e| e.to_string())?;
    let crypto = MessageCrypto::new(appid, key);
    let sealed = crypto.seal(&target.token, xml, &timestamp, &nonce);
    query.push(("encrypt_type", "aes".to_owned()));
    query.push(("msg_signature", sealed.msg_signature.clone()));
    let body = match target.mode {
        CallbackMode::Safe => sealed.to_push_xml(original_id),
        _ => {
            // Compatible mode: the plaintext fields and the Encrypt element.
            let inner = xml.strip_suffix("</xml>").unwrap_or(xml);
            let mut body = inner.to_owned();
            write_cdata_element(&mut body, "Encrypt", &sealed.encrypt);
            body.push_str("</xml>");
            body
        }
    };
    Ok(SealedPush { query, body })
}

/// The PUBLISHJOBFINISH XML for an ended publish.
pub fn publish_xml(p: &crate::state::Publish, original_id: &str) -> String {
    let mut xml = String::with_capacity(512);
    xml.push_str("<xml>");
    write_cdata_element(&mut xml, "ToUserName", original_id);
    write_cdata_element(&mut xml, "FromUserName", MASS_HELPER);
    xml.push_str(&format!(
        "<CreateTime>{}</CreateTime>",
        p.finishes_at_ms.div_euclid(1000)
    ));
    write_cdata_element(&mut xml, "MsgType", "event");
    write_cdata_element(&mut xml, "Event", "PUBLISHJOBFINISH");
    xml.push_str("<PublishEventInfo>");
    xml.push_str(&format!(
        "<publish_id>{}</publish_id><publish_status>{}</publish_status>",
        p.publish_id, p.status
    ));
    if let Some(id) = &p.article_id {
        write_cdata_element(&mut xml, "article_id", id);
        xml.push_str(&format!("<article_detail><count>{}</count>", p.urls.len()));
        for (i, url) in p.urls.iter().enumerate() {
            xml.push_str(&format!("<item><idx>{}</idx>", i + 1));
            write_cdata_element(&mut xml, "article_url", url);
            xml.push_str("</item>");
        }
        xml.push_str("</article_detail>");
    } else {
        for i in &p.outcome.fail_idx {
            xml.push_str(&format!("<fail_idx>{i}</fail_idx>"));
        }
    }
    xml.push_str("</PublishEventInfo></xml>");
    xml
}

/// Pushes a finished job's report, retrying as WeChat does.
pub async fn deliver(emulator: Arc<Emulator>, msg_id: i64) {
    let original_id = emulator.config.original_id();
    let Some(xml) = emulator
        .account()
        .job(msg_id)
        .map(|job| job_xml(job, &original_id))
    else {
        return;
    };
    push_with_retries(emulator, "MASSSENDJOBFINISH", msg_id, xml).await;
}

/// Pushes an ended publish's report, retrying as WeChat does.
pub async fn deliver_publish(emulator: Arc<Emulator>, publish_id: i64) {
    let original_id = emulator.config.original_id();
    let Some(xml) = emulator
        .account()
        .publishes
        .iter()
        .find(|p| p.publish_id == publish_id)
        .map(|p| publish_xml(p, &original_id))
    else {
        return;
    };
    push_with_retries(emulator, "PUBLISHJOBFINISH", publish_id, xml).await;
}

/// Pushes a delivered template message's report, retrying as WeChat does.
pub async fn deliver_template(emulator: Arc<Emulator>, msg_id: i64) {
    let original_id = emulator.config.original_id();
    let Some(xml) = emulator
        .templates()
        .message(msg_id)
        .map(|m| crate::api::templates::finish_xml(m, &original_id))
    else {
        return;
    };
    push_with_retries(emulator, "TEMPLATESENDJOBFINISH", msg_id, xml).await;
}

/// Pushes `xml` to the callback, three attempts at most, as WeChat does.
async fn push_with_retries(emulator: Arc<Emulator>, event: &'static str, msg_id: i64, xml: String) {
    let Some(target) = emulator.callback() else {
        return;
    };
    let original_id = emulator.config.original_id();
    let appid = emulator
        .config
        .sealed_for
        .clone()
        .unwrap_or_else(|| emulator.config.appid.clone());
    let sealing = || seal(&target, &appid, &original_id, &xml);
    // WeChat counts an empty answer as delivered too.
    let accepts = |reply: &str| matches!(reply, "success" | "");
    post_with_retries(
        &emulator,
        (event, msg_id),
        target.mode,
        &target.url,
        sealing,
        accepts,
    )
    .await;
}

/// Posts a push to `url`, sealed afresh by `sealing` for each attempt,
/// three attempts at most, 500 ms apart, as WeChat does; each attempt is
/// recorded as `what` (event and msg_id), delivered when the answer is 200
/// and `accepts` its trimmed body.
pub(crate) async fn post_with_retries(
    emulator: &Emulator,
    what: (&'static str, i64),
    mode: CallbackMode,
    url: &str,
    sealing: impl Fn() -> Result<SealedPush, String>,
    accepts: impl Fn(&str) -> bool,
) {
    let (event, msg_id) = what;
    for attempt in 1..=ATTEMPTS {
        let mut record = PushAttempt {
            event,
            msg_id,
            attempt,
            mode,
            status: None,
            reply: String::new(),
            error: None,
            accepted: false,
            at_ms: wall_ms(),
        };
        // A slot for the attempt (not for the wait before a retry).
        let slot = emulator.push_slots.acquire().await;
        match sealing() {
            Err(e) => record.error = Some(e),
            Ok(push) => {
                let sent = emulator
                    .http
                    .post(url)
                    .query(&push.query)
                    .header("content-type", "text/xml")
                    .timeout(REPLY_TIMEOUT)
                    .body(push.body)
                    .send()
                    .await;
                match sent {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let reply = response.text().await.unwrap_or_default();
                        record.accepted = status == 200 && accepts(reply.trim());
                        record.status = Some(status);
                        record.reply = reply.chars().take(200).collect();
                    }
                    Err(e) => record.error = Some(e.to_string()),
                }
            }
        }
        drop(slot);
        let accepted = record.accepted;
        tracing::debug!(event, msg_id, attempt, accepted, "pushed");
        emulator.record_push(record);
        if accepted {
            return;
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// Finishes due jobs as the clock reaches them, and pushes their reports.
pub async fn run_jobs(emulator: Arc<Emulator>) {
    loop {
        let (finished, published, templated, next_due) = {
            let mut account = emulator.account();
            let mut templates = emulator.templates();
            let now_ms = emulator.clock.now_ms();
            let finished = account.finish_due_jobs(&emulator.clock);
            let published = crate::api::publish::finish_due(&mut account, now_ms);
            let templated =
                templates.finish_due(now_ms, emulator.reports_queued.available_permits());
            let next = [
                account.next_job_due(),
                crate::api::publish::next_due(&account),
                templates.next_due(),
            ]
            .into_iter()
            .flatten()
            .min();
            (finished, published, templated, next)
        };
        for msg_id in finished {
            tokio::spawn(deliver(emulator.clone(), msg_id));
        }
        for publish_id in published {
            tokio::spawn(deliver_publish(emulator.clone(), publish_id));
        }
        for msg_id in templated {
            // As many were taken as there was room for: a permit each, at
            // once.
            let queued = emulator.reports_queued.clone().acquire_owned().await.ok();
            let emulator = emulator.clone();
            tokio::spawn(async move {
                deliver_template(emulator, msg_id).await;
                drop(queued);
            });
        }
        let events = emulator.subscriptions().take_outbox();
        for (event, id, xml) in events {
            tokio::spawn(push_with_retries(emulator.clone(), event, id, xml));
        }
        let wait = next_due
            .map(|due| (due - emulator.clock.now_ms()).clamp(1, 1000) as u64)
            .unwrap_or(1000);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = emulator.jobs_notify.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Publish, PublishOutcome};
    use wxmass_callback::{PublishStatus, Push};

    fn publish(status: i64, fail_idx: Vec<u32>) -> Publish {
        Publish {
            publish_id: 2_247_503_051,
            msg_data_id: 7,
            media_id: "m".into(),
            articles: Vec::new(),
            status,
            article_id: (status == 0).then(|| "art-1".to_owned()),
            urls: if status == 0 {
                vec![
                    "https://mp.weixin.qq.com/s/a".into(),
                    "https://mp.weixin.qq.com/s/b".into(),
                ]
            } else {
                Vec::new()
            },
            deleted: Vec::new(),
            outcome: PublishOutcome { status, fail_idx },
            finishes_at_ms: 1_700_000_000_000,
            submitted_at: 1_700_000_000,
        }
    }

    /// The emulator's PUBLISHJOBFINISH reads back through the receiver's
    /// parser: the two are written apart and must agree.
    #[test]
    fn publish_reports_read_back_through_the_receiver() {
        let Ok(Push::PublishJobFinish(ok)) = Push::parse(&publish_xml(&publish(0, vec![]), "gh_1"))
        else {
            panic!("not a publish report");
        };
        assert_eq!(
            (ok.publish_id, ok.status),
            (2_247_503_051, PublishStatus::Success)
        );
        assert_eq!(ok.article_id.as_deref(), Some("art-1"));
        assert_eq!(
            ok.articles.iter().map(|a| a.idx).collect::<Vec<_>>(),
            [1, 2]
        );
        let Ok(Push::PublishJobFinish(failed)) =
            Push::parse(&publish_xml(&publish(4, vec![1, 2]), "gh_1"))
        else {
            panic!("not a publish report");
        };
        assert_eq!(failed.status, PublishStatus::Rejected);
        assert_eq!(failed.fail_idx, [1, 2]);
    }
}
