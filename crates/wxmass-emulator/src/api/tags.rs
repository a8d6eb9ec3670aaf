//! Tags and the legacy groups (wechat-api.md §7). Groups are served from the
//! same store as tags, which is what a field report says WeChat does.

use serde_json::{Value, json};

use crate::Emulator;
use crate::call::{Call, int_field, str_field};
use crate::error::{WxError, WxResult, ok};

/// Most openids in one batch (un)tagging call.
pub const MAX_BATCH: usize = 50;

fn tag_object(body: &Value) -> WxResult<&Value> {
    body.get("tag").ok_or_else(|| WxError::new(47001))
}

fn tag_id(v: &Value) -> WxResult<u32> {
    let id = int_field(v, "id", 45159)?;
    u32::try_from(id).map_err(|_| WxError::new(45159))
}

/// `POST /cgi-bin/tags/create` with `{"tag":{"name":"..."}}`.
pub fn create(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let name = str_field(tag_object(&body)?, "name", 45157)?;
    let mut account = emulator.account();
    account.use_quota("tags", &emulator.clock)?;
    let id = account.create_tag(name)?;
    Ok(json!({"tag": {"id": id, "name": name}}))
}

/// `GET /cgi-bin/tags/get`.
pub fn list(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let account = emulator.account();
    let tags: Vec<Value> = account
        .tags()
        .map(|t| json!({"id": t.id, "name": t.name, "count": t.count}))
        .collect();
    Ok(json!({"tags": tags}))
}

/// `POST /cgi-bin/tags/update` with `{"tag":{"id":134,"name":"..."}}`.
pub fn update(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let tag = tag_object(&body)?;
    let id = tag_id(tag)?;
    let name = str_field(tag, "name", 45157)?;
    emulator.account().rename_tag(id, name)?;
    Ok(ok())
}

/// `POST /cgi-bin/tags/delete` with `{"tag":{"id":134}}`.
pub fn delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let id = tag_id(tag_object(&body)?)?;
    emulator.account().delete_tag(id)?;
    Ok(ok())
}

fn openid_list(body: &Value) -> WxResult<Vec<String>> {
    let list = match body.get("openid_list") {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => return Err(WxError::new(40032)),
        Some(_) => return Err(WxError::new(47001)),
    };
    if list.is_empty() || list.len() > MAX_BATCH {
        return Err(WxError::new(40032));
    }
    list.iter()
        .map(|o| {
            o.as_str()
                .map(str::to_owned)
                .ok_or_else(|| WxError::new(40003))
        })
        .collect()
}

/// The follower indices of `openids`; 40003 if any is not a follower.
fn indices_of(account: &crate::state::Account, openids: &[String]) -> WxResult<Vec<u32>> {
    openids
        .iter()
        .map(|o| account.index_of(o).ok_or_else(|| WxError::new(40003)))
        .collect()
}

fn batch(emulator: &Emulator, call: &Call, tagging: bool) -> WxResult<Value> {
    let body = call.json()?;
    let openids = openid_list(&body)?;
    let tag = u32::try_from(int_field(&body, "tagid", 45159)?).map_err(|_| WxError::new(45159))?;
    let mut account = emulator.account();
    if account.tag(tag).is_none() {
        return Err(WxError::new(45159));
    }
    // Check every openid first, so a bad one changes nothing.
    let indices = indices_of(&account, &openids)?;
    if tagging
        && indices.iter().any(|&i| {
            account.follower(i).is_some_and(|f| {
                !f.tags.contains(&tag) && f.tags.len() >= crate::state::MAX_TAGS_PER_USER
            })
        })
    {
        return Err(WxError::new(45059));
    }
    for i in indices {
        if tagging {
            account.tag_follower(i, tag)?;
        } else {
            account.untag_follower(i, tag)?;
        }
    }
    Ok(ok())
}

/// `POST /cgi-bin/tags/members/batchtagging` with `{"openid_list":[...],"tagid":134}`.
pub fn batch_tag(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    batch(emulator, call, true)
}

/// `POST /cgi-bin/tags/members/batchuntagging`.
pub fn batch_untag(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    batch(emulator, call, false)
}

/// `POST /cgi-bin/tags/getidlist` with `{"openid":"..."}`.
pub fn tags_of_user(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let tags = follower_tags(emulator, call)?;
    Ok(json!({"tagid_list": tags}))
}

/// The tags of the follower named by the body's `openid`.
fn follower_tags(emulator: &Emulator, call: &Call) -> WxResult<Vec<u32>> {
    let body = call.json()?;
    let openid = str_field(&body, "openid", 41009)?;
    let account = emulator.account();
    let index = account
        .index_of(openid)
        .ok_or_else(|| WxError::new(40003))?;
    Ok(account
        .follower(index)
        .map(|f| f.tags.clone())
        .unwrap_or_default())
}

/// `POST /cgi-bin/user/tag/get` with `{"tagid":134,"next_openid":""}`.
pub fn members(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let tag = u32::try_from(int_field(&body, "tagid", 45159)?).map_err(|_| WxError::new(45159))?;
    let next = crate::call::opt_str(&body, "next_openid")?.unwrap_or("");
    let account = emulator.account();
    if account.tag(tag).is_none() {
        return Err(WxError::new(45159));
    }
    let (page, next_openid) = account.follower_page(next, Some(tag))?;
    Ok(page_body(None, page, next_openid))
}

/// The body of a follower page: no `data` once the list is exhausted.
pub fn page_body(total: Option<u64>, page: Vec<String>, next_openid: String) -> Value {
    let mut body = json!({"count": page.len(), "next_openid": next_openid});
    if let Some(total) = total {
        body["total"] = json!(total);
    }
    if !page.is_empty() {
        body["data"] = json!({"openid": page});
    }
    body
}

// ----- legacy groups -----------------------------------------------------

/// `GET /cgi-bin/groups/get`: tags shown as groups, with the reserved ones.
pub fn groups_list(emulator: &Emulator, _call: &Call) -> WxResult<Value> {
    let account = emulator.account();
    let untagged = account
        .subscribed_count()
        .saturating_sub(account.tags().map(|t| t.count).sum::<u64>());
    let mut groups = vec![
        json!({"id": 0, "name": "未分组", "count": untagged}),
        json!({"id": 1, "name": "黑名单", "count": 0}),
    ];
    groups.extend(
        account
            .tags()
            .map(|t| json!({"id": t.id, "name": t.name, "count": t.count})),
    );
    Ok(json!({"groups": groups}))
}

fn group_object(body: &Value) -> WxResult<&Value> {
    body.get("group").ok_or_else(|| WxError::new(47001))
}

fn group_error(e: WxError) -> WxError {
    // The old API has its own codes for the same failures.
    match e.code {
        45058 => WxError::new(45016),
        45158 => WxError::new(45017),
        45056 => WxError::new(45018),
        45157 => WxError::new(40051),
        45159 => WxError::new(40050),
        _ => e,
    }
}

/// `POST /cgi-bin/groups/create` with `{"group":{"name":"test"}}`.
pub fn groups_create(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let name = str_field(group_object(&body)?, "name", 40051)?;
    let id = emulator.account().create_tag(name).map_err(group_error)?;
    Ok(json!({"group": {"id": id, "name": name}}))
}

/// `POST /cgi-bin/groups/update` with `{"group":{"id":108,"name":"x"}}`.
pub fn groups_update(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let group = group_object(&body)?;
    let id = u32::try_from(int_field(group, "id", 40050)?).map_err(|_| WxError::new(40050))?;
    let name = str_field(group, "name", 40051)?;
    emulator
        .account()
        .rename_tag(id, name)
        .map_err(group_error)?;
    Ok(ok())
}

/// `POST /cgi-bin/groups/delete` with `{"group":{"id":108}}`.
pub fn groups_delete(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let id = u32::try_from(int_field(group_object(&body)?, "id", 40050)?)
        .map_err(|_| WxError::new(40050))?;
    emulator.account().delete_tag(id).map_err(group_error)?;
    Ok(ok())
}

/// `POST /cgi-bin/groups/getid` with `{"openid":"..."}`: the first tag, or 0.
pub fn groups_of_user(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let group = follower_tags(emulator, call)?.first().copied().unwrap_or(0);
    Ok(json!({"groupid": group}))
}

fn move_to_group(emulator: &Emulator, openids: &[String], group: i64) -> WxResult<Value> {
    let group = u32::try_from(group).map_err(|_| WxError::new(40050))?;
    let mut account = emulator.account();
    if group != 0 && account.tag(group).is_none() {
        return Err(WxError::new(40050));
    }
    let indices = indices_of(&account, openids)?;
    for i in indices {
        let current = account
            .follower(i)
            .map(|f| f.tags.clone())
            .unwrap_or_default();
        for t in current {
            account.untag_follower(i, t)?;
        }
        if group != 0 {
            account.tag_follower(i, group)?;
        }
    }
    Ok(ok())
}

/// `POST /cgi-bin/groups/members/update` with `{"openid":"...","to_groupid":108}`.
pub fn groups_move(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let openid = str_field(&body, "openid", 41009)?.to_owned();
    let group = int_field(&body, "to_groupid", 40050)?;
    move_to_group(emulator, &[openid], group)
}

/// `POST /cgi-bin/groups/members/batchupdate` with `{"openid_list":[...],"to_groupid":108}`.
pub fn groups_batch_move(emulator: &Emulator, call: &Call) -> WxResult<Value> {
    let body = call.json()?;
    let openids = openid_list(&body)?;
    let group = int_field(&body, "to_groupid", 40050)?;
    move_to_group(emulator, &openids, group)
}
