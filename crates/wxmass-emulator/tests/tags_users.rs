//! Tags, groups and followers over HTTP.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use wxmass_emulator::EmulatorConfig;

#[tokio::test]
async fn tag_lifecycle_and_errors() {
    let emu = start_default().await;
    let t = emu.token().await;
    let created = emu
        .post("/cgi-bin/tags/create", &t, json!({"tag": {"name": "广东"}}))
        .await;
    assert_code(&created, 0);
    let id = created["tag"]["id"].as_i64().expect("id");
    assert!(id > 2);
    assert_eq!(created["tag"]["name"], "广东");
    emu.post_expect(
        "/cgi-bin/tags/create",
        &t,
        json!({"tag": {"name": "广东"}}),
        45157,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/create",
        &t,
        json!({"tag": {"name": "标签名字太长了超过三十字节"}}),
        45158,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/update",
        &t,
        json!({"tag": {"id": id, "name": "广东人"}}),
        0,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/update",
        &t,
        json!({"tag": {"id": 2, "name": "x"}}),
        45058,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/update",
        &t,
        json!({"tag": {"id": 9999, "name": "x"}}),
        45159,
    )
    .await;
    let list = emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await;
    let names: Vec<_> = list["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert!(names.contains(&json!("广东人")));
    assert!(list["tags"][0]["count"].is_u64());
    emu.post_expect("/cgi-bin/tags/delete", &t, json!({"tag": {"id": 1}}), 45058)
        .await;
    emu.post_expect("/cgi-bin/tags/delete", &t, json!({"tag": {"id": id}}), 0)
        .await;
    emu.post_expect(
        "/cgi-bin/tags/delete",
        &t,
        json!({"tag": {"id": id}}),
        45159,
    )
    .await;
    // At most 100 tags (2 seeded + the reserved one exist).
    for i in 0..97 {
        emu.post_expect(
            "/cgi-bin/tags/create",
            &t,
            json!({"tag": {"name": format!("t{i}")}}),
            0,
        )
        .await;
    }
    emu.post_expect(
        "/cgi-bin/tags/create",
        &t,
        json!({"tag": {"name": "one more"}}),
        45056,
    )
    .await;
}

#[tokio::test]
async fn tagging_members_and_tags_of_a_user() {
    let emu = start_default().await;
    let t = emu.token().await;
    let id = emu
        .post("/cgi-bin/tags/create", &t, json!({"tag": {"name": "vip"}}))
        .await["tag"]["id"]
        .as_i64()
        .expect("id");
    let users = emu.openids(&t, 3).await;
    emu.post_expect(
        "/cgi-bin/tags/members/batchtagging",
        &t,
        json!({"openid_list": users, "tagid": id}),
        0,
    )
    .await;
    let members = emu
        .post(
            "/cgi-bin/user/tag/get",
            &t,
            json!({"tagid": id, "next_openid": ""}),
        )
        .await;
    assert_eq!(members["count"], 3);
    assert_eq!(members["data"]["openid"].as_array().expect("list").len(), 3);
    let last = members["next_openid"].as_str().expect("next").to_owned();
    let after = emu
        .post(
            "/cgi-bin/user/tag/get",
            &t,
            json!({"tagid": id, "next_openid": last}),
        )
        .await;
    assert_eq!(after["count"], 0);
    assert!(after.get("data").is_none(), "an exhausted list has no data");
    let ids = emu
        .post("/cgi-bin/tags/getidlist", &t, json!({"openid": users[0]}))
        .await;
    assert!(
        ids["tagid_list"]
            .as_array()
            .expect("list")
            .contains(&json!(id))
    );
    emu.post_expect(
        "/cgi-bin/tags/members/batchuntagging",
        &t,
        json!({"openid_list": [users[0]], "tagid": id}),
        0,
    )
    .await;
    let tags = emu.get("/cgi-bin/tags/get", &[("access_token", &t)]).await;
    let vip = tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .expect("vip");
    assert_eq!(vip["count"], 2);

    let fifty_one: Vec<String> = (0..51).map(|_| users[0].clone()).collect();
    emu.post_expect(
        "/cgi-bin/tags/members/batchtagging",
        &t,
        json!({"openid_list": fifty_one, "tagid": id}),
        40032,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/members/batchtagging",
        &t,
        json!({"openid_list": ["nobody"], "tagid": id}),
        40003,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/tags/members/batchtagging",
        &t,
        json!({"openid_list": [users[0]], "tagid": 4242}),
        45159,
    )
    .await;
    emu.post_expect("/cgi-bin/user/tag/get", &t, json!({"tagid": 4242}), 45159)
        .await;
    // A follower carries at most 20 tags (this one has its seeded tag and vip).
    for i in 0..18 {
        let tag = emu
            .post(
                "/cgi-bin/tags/create",
                &t,
                json!({"tag": {"name": format!("x{i}")}}),
            )
            .await["tag"]["id"]
            .clone();
        emu.post_expect(
            "/cgi-bin/tags/members/batchtagging",
            &t,
            json!({"openid_list": [users[1]], "tagid": tag}),
            0,
        )
        .await;
    }
    let one_more = emu
        .post("/cgi-bin/tags/create", &t, json!({"tag": {"name": "x18"}}))
        .await["tag"]["id"]
        .clone();
    emu.post_expect(
        "/cgi-bin/tags/members/batchtagging",
        &t,
        json!({"openid_list": [users[1]], "tagid": one_more}),
        45059,
    )
    .await;
}

#[tokio::test]
async fn legacy_groups() {
    let emu = start_default().await;
    let t = emu.token().await;
    let groups = emu
        .get("/cgi-bin/groups/get", &[("access_token", &t)])
        .await;
    assert_eq!(groups["groups"][0]["id"], 0);
    assert_eq!(groups["groups"][0]["name"], "未分组");
    let g = emu
        .post(
            "/cgi-bin/groups/create",
            &t,
            json!({"group": {"name": "test"}}),
        )
        .await;
    let gid = g["group"]["id"].as_i64().expect("id");
    emu.post_expect(
        "/cgi-bin/groups/update",
        &t,
        json!({"group": {"id": gid, "name": "renamed"}}),
        0,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/groups/update",
        &t,
        json!({"group": {"id": 2, "name": "x"}}),
        45016,
    )
    .await;
    let users = emu.openids(&t, 2).await;
    emu.post_expect(
        "/cgi-bin/groups/members/update",
        &t,
        json!({"openid": users[0], "to_groupid": gid}),
        0,
    )
    .await;
    assert_eq!(
        emu.post("/cgi-bin/groups/getid", &t, json!({"openid": users[0]}))
            .await["groupid"],
        gid
    );
    emu.post_expect(
        "/cgi-bin/groups/members/batchupdate",
        &t,
        json!({"openid_list": users, "to_groupid": gid}),
        0,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/groups/members/update",
        &t,
        json!({"openid": users[0], "to_groupid": 777}),
        40050,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/groups/delete",
        &t,
        json!({"group": {"id": gid}}),
        0,
    )
    .await;
    assert_eq!(
        emu.post("/cgi-bin/groups/getid", &t, json!({"openid": users[0]}))
            .await["groupid"],
        0
    );
}

#[tokio::test]
async fn followers_page_10000_at_a_time() {
    let emu = start(EmulatorConfig {
        followers: 25_000,
        job_delay: Duration::from_millis(10),
        ..EmulatorConfig::default()
    })
    .await;
    let t = emu.token().await;
    let mut next = String::new();
    let mut seen = std::collections::HashSet::new();
    let mut pages = 0;
    loop {
        let v = emu
            .get(
                "/cgi-bin/user/get",
                &[("access_token", &t), ("next_openid", &next)],
            )
            .await;
        assert_eq!(v["total"], 25_000);
        let Some(list) = v["data"]["openid"].as_array() else {
            assert_eq!(v["count"], 0);
            break;
        };
        pages += 1;
        assert!(list.len() <= 10_000);
        for o in list {
            let o = o.as_str().expect("str");
            assert_eq!(o.len(), 28);
            assert!(seen.insert(o.to_owned()), "openid {o} twice");
        }
        next = v["next_openid"].as_str().expect("next").to_owned();
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 25_000);
    assert_code(
        &emu.get(
            "/cgi-bin/user/get",
            &[("access_token", &t), ("next_openid", "bogus")],
        )
        .await,
        40003,
    );
}

#[tokio::test]
async fn user_info_and_batch() {
    let emu = start_default().await;
    let t = emu.token().await;
    let users = emu.openids(&t, 2).await;
    let info = emu
        .get(
            "/cgi-bin/user/info",
            &[
                ("access_token", &t),
                ("openid", &users[0]),
                ("lang", "zh_CN"),
            ],
        )
        .await;
    assert_eq!(info["subscribe"], 1);
    assert_eq!(info["openid"], users[0].as_str());
    for field in [
        "subscribe_time",
        "tagid_list",
        "groupid",
        "subscribe_scene",
        "remark",
    ] {
        assert!(info.get(field).is_some(), "{field} missing");
    }
    assert!(info.get("nickname").is_none(), "no nickname since 2021");
    assert_code(
        &emu.get(
            "/cgi-bin/user/info",
            &[("access_token", &t), ("openid", "nope")],
        )
        .await,
        40003,
    );
    assert_code(
        &emu.get("/cgi-bin/user/info", &[("access_token", &t)]).await,
        41009,
    );
    let batch = emu
        .post(
            "/cgi-bin/user/info/batchget",
            &t,
            json!({"user_list": [{"openid": users[0], "lang": "zh_CN"}, {"openid": users[1]}]}),
        )
        .await;
    assert_eq!(batch["user_info_list"].as_array().expect("list").len(), 2);
    let too_many: Vec<_> = (0..101).map(|_| json!({"openid": users[0]})).collect();
    emu.post_expect(
        "/cgi-bin/user/info/batchget",
        &t,
        json!({"user_list": too_many}),
        40032,
    )
    .await;
    emu.post_expect(
        "/cgi-bin/user/info/batchget",
        &t,
        json!({"user_list": []}),
        40032,
    )
    .await;
}
