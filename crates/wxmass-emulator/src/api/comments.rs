//! Comments on sent articles (wechat-analytics.md §3): opened or closed per
//! article, listed in pages, featured (精选), deleted, replied to. Every
//! call names the content's `msg_data_id` and the article's `index`,
//! counted from 0 here (from 1 in datacube and free publishing).
//! Followers' comments come from `POST /_emulator/comments`.
//!
//! The errcodes are the official doc's 88xxx (the reference lists none):
//! 88000 comments not open, 88001 no such content, 88005 replied already,
//! 88007 an empty or too long reply, 88008 no such comment, 88010 a count
//! out of range.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, int_field, opt_int, str_field};
use crate::error::{WxError, WxResult, ok};

/// Most comments `list` returns a call (`count` must be under this).
pub const PAGE_LIMIT: i64 = 50;

/// Longest reply, in characters.
pub const REPLY_MAX_CHARS: usize = 600;

/// A follower's comment.
#[derive(Debug, Clone)]
pub struct Comment {
    /// Its id, unique within its article.
    pub user_comment_id: i64,
    /// Who wrote it.
    pub openid: String,
    /// Unix seconds.
    pub create_time: i64,
    /// The text.
    pub content: String,
    /// Featured (精选).
    pub featured: bool,
    /// The account's reply: (text, Unix seconds).
    pub reply: Option<(String, i64)>,
}

/// One article's comments.
#[derive(Debug, Clone, Default)]
pub struct Thread {
    /// The content it belongs to.
    pub msg_data_id: i64,
    /// 0-based.
    pub index: i64,
    /// Whether followers may comment.
    pub open: bool,
    /// Oldest first.
    pub comments: Vec<Comment>,
}

/// The article a call names: `msg_data_id` and its 0-based `index`, which
/// must be an article of a delivered mpnews job or of a publish.
fn article(emulator: &Emulator, body: &Value) -> WxResult<(i64, i64)> {
    let msg_data_id = int_field(body, "msg_data_id", 47001)?;
    let index = opt_int(body, "index")?.unwrap_or(0);
    let account = emulator.account();
    let articles = account
        .jobs()
        .iter()
        .filter(|j| j.msg_data_id == Some(msg_data_id))
        .map(|j| j.article_urls.len())
        .chain(
            account
                .publishes
                .iter()
                .filter(|p| p.msg_data_id == msg_data_id)
                .map(|p| p.articles.len()),
        )
        .max()
        .ok_or_else(|| WxError::new(88001))?;
    if index < 0 || index as usize >= articles {
        return Err(WxError::new(88001));
    }
    Ok((msg_data_id, index))
}

/// Runs `f` on the article's thread, made if new.
fn with_thread<T>(
    emulator: &Emulator,
    (msg_data_id, index): (i64, i64),
    f: impl FnOnce(&mut Thread) -> WxResult<T>,
) -> WxResult<T> {
    let mut threads = emulator.comments();
    let thread = match threads
        .iter()
        .position(|t| t.msg_data_id == msg_data_id && t.index == index)
    {
        Some(i) => &mut threads[i],
        None => {
            threads.push(Thread {
                msg_data_id,
                index,
                ..Thread::default()
            });
            let last = threads.len() - 1;
            &mut threads[last]
        }
    };
    f(thread)
}

fn comment<'t>(thread: &'t mut Thread, body: &Value) -> WxResult<&'t mut Comment> {
    let id = int_field(body, "user_comment_id", 47001)?;
    thread
        .comments
        .iter_mut()
        .find(|c| c.user_comment_id == id)
        .ok_or_else(|| WxError::new(88008))
}

/// `POST /cgi-bin/comment/open`.
pub fn open(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    with_thread(emulator, at, |t| {
        t.open = true;
        Ok(ok())
    })
}

/// `POST /cgi-bin/comment/close`.
pub fn close(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    with_thread(emulator, at, |t| {
        t.open = false;
        Ok(ok())
    })
}

/// `POST /cgi-bin/comment/list` with `begin`, `count` (under 50) and
/// `type` (0 all, 1 not featured, 2 featured).
pub fn list(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    let begin = int_field(&body, "begin", 47001)?;
    let count = int_field(&body, "count", 47001)?;
    let kind = opt_int(&body, "type")?.unwrap_or(0);
    if begin < 0 || !(1..PAGE_LIMIT).contains(&count) || !(0..=2).contains(&kind) {
        return Err(WxError::new(88010));
    }
    with_thread(emulator, at, |t| {
        let chosen: Vec<&Comment> = t
            .comments
            .iter()
            .filter(|c| match kind {
                1 => !c.featured,
                2 => c.featured,
                _ => true,
            })
            .collect();
        let page: Vec<Value> = chosen
            .iter()
            .skip(begin as usize)
            .take(count as usize)
            .map(|c| {
                let mut v = json!({"user_comment_id": c.user_comment_id, "openid": c.openid,
                    "create_time": c.create_time, "content": c.content,
                    "comment_type": u8::from(c.featured)});
                if let Some((text, at)) = &c.reply {
                    v["reply"] = json!({"content": text, "create_time": at});
                }
                v
            })
            .collect();
        Ok(json!({"errcode": 0, "errmsg": "ok", "total": chosen.len(), "comment": page}))
    })
}

/// `POST /cgi-bin/comment/markelect`.
pub fn mark_elect(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    set_featured(emulator, call, true)
}

/// `POST /cgi-bin/comment/unmarkelect`.
pub fn unmark_elect(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    set_featured(emulator, call, false)
}

fn set_featured(emulator: &Emulator, call: &Call, featured: bool) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    with_thread(emulator, at, |t| {
        comment(t, &body)?.featured = featured;
        Ok(ok())
    })
}

/// `POST /cgi-bin/comment/delete`.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    with_thread(emulator, at, |t| {
        let id = comment(t, &body)?.user_comment_id;
        t.comments.retain(|c| c.user_comment_id != id);
        Ok(ok())
    })
}

/// `POST /cgi-bin/comment/reply/add` with `content`.
pub fn reply_add(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    let content = str_field(&body, "content", 88007)?;
    let n = content.chars().count();
    if n == 0 || n > REPLY_MAX_CHARS {
        return Err(WxError::new(88007));
    }
    let now = emulator.clock.now();
    with_thread(emulator, at, |t| {
        let c = comment(t, &body)?;
        if c.reply.is_some() {
            return Err(WxError::new(88005));
        }
        c.reply = Some((content.to_owned(), now));
        Ok(ok())
    })
}

/// `POST /cgi-bin/comment/reply/delete`.
pub fn reply_delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let at = article(emulator, &body)?;
    with_thread(emulator, at, |t| {
        comment(t, &body)?.reply = None;
        Ok(ok())
    })
}

/// A follower comments (the admin API): refused when comments are closed.
pub fn add(
    emulator: &Emulator,
    msg_data_id: i64,
    index: i64,
    openid: &str,
    content: &str,
) -> WxResult<i64> {
    let body = json!({"msg_data_id": msg_data_id, "index": index});
    let at = article(emulator, &body)?;
    let now = emulator.clock.now();
    with_thread(emulator, at, |t| {
        if !t.open {
            return Err(WxError::new(88000));
        }
        let id = t.comments.last().map_or(1, |c| c.user_comment_id + 1);
        t.comments.push(Comment {
            user_comment_id: id,
            openid: openid.to_owned(),
            create_time: now,
            content: content.to_owned(),
            featured: false,
            reply: None,
        });
        Ok(id)
    })
}
