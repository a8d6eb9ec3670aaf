//! Free publishing (发布能力, wechat-analytics.md §2): a draft published
//! without notifying anyone and without mass-send quota. `submit` only
//! accepts the job; it ends after the configured job delay, successfully
//! unless `POST /_emulator/publish_outcome` queued another ending, and is
//! reported by a PUBLISHJOBFINISH push. A published draft leaves the draft
//! box. Articles are numbered from 1 here, as in datacube.
//!
//! Which errcode WeChat gives an unknown `publish_id` or `article_id` is
//! not in the reference: 47001 here (unsure).

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, int_field, opt_int, str_field};
use crate::error::{WxError, WxResult, ok};
use crate::state::{Account, Publish, PublishOutcome};

/// `publish_status` while publishing.
pub const PUBLISHING: i64 = 1;

/// `POST /cgi-bin/freepublish/submit` with `{"media_id": DRAFT}`.
pub fn submit(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let media_id = str_field(&body, "media_id", 40007)?;
    let now_ms = emulator.clock.now_ms();
    let mut account = emulator.account();
    let articles = match account.news(media_id) {
        Some(news) if news.draft => news.articles.clone(),
        // Only drafts are published; a failing draft check is 53503.
        Some(_) => return Err(WxError::new(53503)),
        None => return Err(WxError::new(40007)),
    };
    let outcome = account
        .publish_outcomes
        .pop_front()
        .unwrap_or(PublishOutcome {
            status: 0,
            fail_idx: Vec::new(),
        });
    let msg_data_id = account.take_msg_data_id();
    let publish_id = 2_247_503_051 + account.publishes.len() as i64;
    account.publishes.push(Publish {
        publish_id,
        msg_data_id,
        media_id: media_id.to_owned(),
        articles,
        status: PUBLISHING,
        article_id: None,
        urls: Vec::new(),
        deleted: Vec::new(),
        outcome,
        finishes_at_ms: now_ms + emulator.config.job_delay.as_millis() as i64,
        submitted_at: now_ms.div_euclid(1000),
    });
    drop(account);
    emulator.jobs_changed();
    Ok(
        json!({"errcode": 0, "errmsg": "ok", "publish_id": publish_id.to_string(),
              "msg_data_id": msg_data_id}),
    )
}

/// Ends the publishes due at the clock's time; their ids, to push.
pub fn finish_due(account: &mut Account, now_ms: i64) -> Vec<i64> {
    let mut finished = Vec::new();
    let mut published_drafts = Vec::new();
    for p in account
        .publishes
        .iter_mut()
        .filter(|p| p.status == PUBLISHING && p.finishes_at_ms <= now_ms)
    {
        p.status = p.outcome.status;
        if p.status == 0 {
            p.article_id = Some(crate::ids::random_id(43));
            p.urls = p
                .articles
                .iter()
                .map(|_| format!("https://mp.weixin.qq.com/s/{}", crate::ids::random_id(22)))
                .collect();
            published_drafts.push(p.media_id.clone());
        }
        finished.push(p.publish_id);
    }
    for media_id in published_drafts {
        account.remove_draft(&media_id);
    }
    finished
}

/// When the next publish ends (emulated milliseconds).
pub fn next_due(account: &Account) -> Option<i64> {
    account
        .publishes
        .iter()
        .filter(|p| p.status == PUBLISHING)
        .map(|p| p.finishes_at_ms)
        .min()
}

fn publish_id(body: &Value) -> WxResult<i64> {
    // WeChat gives it as a string; take a number too.
    match body.get("publish_id") {
        Some(Value::String(s)) => s.trim().parse().map_err(|_| WxError::new(47001)),
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| WxError::new(47001)),
        _ => Err(WxError::new(47001)),
    }
}

/// The status answer of a publish (also what its push reports).
pub fn status_of(p: &Publish) -> Value {
    let items: Vec<Value> = p
        .urls
        .iter()
        .enumerate()
        .map(|(i, url)| json!({"idx": i + 1, "article_url": url}))
        .collect();
    json!({
        "publish_id": p.publish_id.to_string(),
        "publish_status": p.status,
        "article_id": p.article_id.clone().unwrap_or_default(),
        "article_detail": {"count": items.len(), "item": items},
        "fail_idx": p.outcome.fail_idx.iter().filter(|_| p.status != 0 && p.status != PUBLISHING).collect::<Vec<_>>(),
    })
}

/// `POST /cgi-bin/freepublish/get` with `{"publish_id": "..."}`.
pub fn get(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let id = publish_id(&call.json()?)?;
    let account = emulator.account();
    let p = account
        .publishes
        .iter()
        .find(|p| p.publish_id == id)
        .ok_or_else(|| WxError::new(47001))?;
    let mut answer = status_of(p);
    answer["errcode"] = json!(0);
    answer["errmsg"] = json!("ok");
    Ok(answer)
}

fn published_mut<'a>(account: &'a mut Account, article_id: &str) -> WxResult<&'a mut Publish> {
    account
        .publishes
        .iter_mut()
        .find(|p| p.article_id.as_deref() == Some(article_id))
        .ok_or_else(|| WxError::new(47001))
}

/// `POST /cgi-bin/freepublish/delete` with `{"article_id", "index"}`:
/// index 1-based, 0 or absent for every article.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let article_id = str_field(&body, "article_id", 47001)?;
    let index = opt_int(&body, "index")?.unwrap_or(0);
    let mut account = emulator.account();
    let p = published_mut(&mut account, article_id)?;
    let count = p.articles.len() as i64;
    match index {
        0 => p.deleted = (1..=count as u32).collect(),
        i if (1..=count).contains(&i) => p.deleted.push(i as u32),
        _ => return Err(WxError::new(40060)),
    }
    if p.deleted.len() as i64 >= count {
        p.status = 5;
    }
    Ok(ok())
}

fn news_items(p: &Publish, with_content: bool) -> Vec<Value> {
    p.articles
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut item = json!({"title": a.title, "author": a.author, "digest": a.digest,
                "content_source_url": a.content_source_url, "thumb_media_id": a.thumb_media_id,
                "url": p.urls.get(i).cloned().unwrap_or_default(),
                "is_deleted": p.deleted.contains(&(i as u32 + 1))});
            if with_content {
                item["content"] = json!(a.content);
            }
            item
        })
        .collect()
}

/// `POST /cgi-bin/freepublish/getarticle` with `{"article_id"}`.
pub fn get_article(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let article_id = str_field(&body, "article_id", 47001)?;
    let mut account = emulator.account();
    let p = published_mut(&mut account, article_id)?;
    Ok(json!({"news_item": news_items(p, true)}))
}

/// `POST /cgi-bin/freepublish/batchget` with `{"offset", "count" (1 to
/// 20), "no_content"}`: what was published, newest first.
pub fn batchget(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let offset = int_field(&body, "offset", 47001)?;
    let count = int_field(&body, "count", 47001)?;
    let no_content = opt_int(&body, "no_content")?.unwrap_or(0) == 1;
    if offset < 0 || !(1..=20).contains(&count) {
        return Err(WxError::new(40035));
    }
    let account = emulator.account();
    let published: Vec<&Publish> = account
        .publishes
        .iter()
        .rev()
        .filter(|p| p.status == 0)
        .collect();
    let items: Vec<Value> = published
        .iter()
        .skip(offset as usize)
        .take(count as usize)
        .map(|p| {
            json!({"article_id": p.article_id, "content": {"news_item": news_items(p, !no_content)},
                   "update_time": p.submitted_at})
        })
        .collect();
    Ok(json!({"total_count": published.len(), "item_count": items.len(), "item": items}))
}
