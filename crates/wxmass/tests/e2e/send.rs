//! `wxmass send`, `status` and `campaigns` against the emulator: journalled
//! campaigns, confirmation, resume, nothing delivered twice.

use crate::common;

use common::{admin, emulator, follower_list, json, success_json, wxmass, wxmass_std};
use predicates::prelude::*;

#[test]
fn large_audiences_need_yes_without_a_terminal() {
    let (_emu, url) = emulator(3_000, &[]);
    let home = tempfile::tempdir().expect("home");
    wxmass(home.path(), &url)
        .args(["send", "--text", "hi", "--tag", "100"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("without --yes"));
    wxmass(home.path(), &url)
        .args(["send", "--text", "hi", "--all"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("every follower"));
    let calls = admin(&url, "GET", "/_emulator/stats", "")["calls"].clone();
    assert!(
        calls.get("/cgi-bin/message/mass/sendall").is_none(),
        "nothing was sent: {calls}"
    );
    // A dry run plans and sends nothing, and writes no campaign.
    let plan = success_json(wxmass(home.path(), &url).args([
        "send",
        "--text",
        "hi",
        "--all",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["audience_size"], 3000);
    wxmass(home.path(), &url)
        .args(["campaigns", "--json"])
        .assert()
        .success()
        .stdout("[]\n");
}

#[test]
fn a_campaign_runs_once_and_a_rerun_sends_nothing() {
    let (_emu, url) = emulator(100, &[]);
    let home = tempfile::tempdir().expect("home");
    let out = success_json(
        wxmass(home.path(), &url).args(["send", "--text", "hello", "--tag", "100", "--json"]),
    );
    assert_eq!(out["submitted"], 1);
    assert_eq!(out["batches"][0]["status"], "SEND_SUCCESS");
    wxmass(home.path(), &url)
        .args(["send", "--text", "hello", "--tag", "100"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already sent"));
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 1);
    assert_eq!(stats["duplicate_deliveries"], 0);
    wxmass(home.path(), &url)
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SEND_SUCCESS"));
    let list = success_json(wxmass(home.path(), &url).args(["campaigns", "--json"]));
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["batches"], 1);
    assert_eq!(list[0]["summary"], "hello");
    assert_eq!(list[0]["appid"], common::APPID);
    wxmass(home.path(), &url)
        .args(["campaigns"])
        .assert()
        .success()
        .stdout(predicate::str::contains("CAMPAIGN"))
        .stdout(predicate::str::contains("CREATED"))
        .stdout(predicate::str::contains(common::APPID))
        .stdout(predicate::str::contains("1/1"))
        .stdout(predicate::str::contains("hello"));
    let status = success_json(wxmass(home.path(), &url).args(["status", "--json"]));
    assert_eq!(status["batches"][0]["status"], "SEND_SUCCESS");
    wxmass(home.path(), &url)
        .args(["status", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no campaign"));
}

#[test]
fn openid_lists_go_in_batches_and_resume_after_a_failure() {
    let (_emu, url) = emulator(300, &[]);
    let home = tempfile::tempdir().expect("home");
    let list = follower_list(home.path(), &url);
    // Batch 1 goes out; then WeChat fails every send until the faults clear.
    let first = success_json(
        wxmass(home.path(), &url)
            .args(["send", "--text", "batched", "--openids"])
            .arg(&list)
            .args([
                "--batch-size",
                "100",
                "--campaign",
                "b1",
                "--no-wait",
                "--json",
            ]),
    );
    assert_eq!(first["submitted"], 3);
    admin(
        &url,
        "POST",
        "/_emulator/faults",
        r#"{"paths":{"/cgi-bin/message/mass/send":{"errcode_rate":1.0}}}"#,
    );
    wxmass(home.path(), &url)
        .args(["send", "--text", "second", "--openids"])
        .arg(&list)
        .args(["--batch-size", "100", "--campaign", "b2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("-1"));
    let status = success_json(wxmass(home.path(), &url).args(["status", "b2", "--json"]));
    assert_eq!(status["submitted"], 0);
    assert_eq!(status["batches"][0]["state"], "submitting");
    admin(&url, "POST", "/_emulator/faults", "{}");
    wxmass(home.path(), &url)
        .args(["send", "--text", "second", "--openids"])
        .arg(&list)
        .args(["--batch-size", "100", "--campaign", "b2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming campaign b2"));
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 6);
    assert_eq!(stats["deliveries"], 600);
    assert_eq!(stats["duplicate_deliveries"], 0);
    // Reusing a name for other content is refused.
    wxmass(home.path(), &url)
        .args(["send", "--text", "different", "--openids"])
        .arg(&list)
        .args(["--campaign", "b2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("other content"));
}

#[test]
fn pictures_are_uploaded_once() {
    let (_emu, url) = emulator(10, &[]);
    let home = tempfile::tempdir().expect("home");
    let picture = home.path().join("p.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    for campaign in ["p1", "p2"] {
        wxmass(home.path(), &url)
            .args(["send", "--image"])
            .arg(&picture)
            .args(["--tag", "101", "--campaign", campaign])
            .assert()
            .success();
    }
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(
        stats["calls"]["/cgi-bin/material/add_material"], 1,
        "{stats}"
    );
    assert_eq!(stats["jobs"], 2);
    let not_an_image = home.path().join("x.txt");
    std::fs::write(&not_an_image, b"hello").expect("write");
    wxmass(home.path(), &url)
        .args(["send", "--image"])
        .arg(&not_an_image)
        .args(["--tag", "101"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot be sent as the message's image",
        ));
}

#[test]
fn voice_and_video_are_uploaded_then_sent() {
    let (_emu, url) = emulator(10, &[]);
    let home = tempfile::tempdir().expect("home");
    let voice = home.path().join("hello.amr");
    std::fs::write(&voice, b"#!AMR\n\x3c\x48\xf5\x1f").expect("write");
    let video = home.path().join("talk.mp4");
    std::fs::write(&video, b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom").expect("write");
    for campaign in ["v1", "v2"] {
        wxmass(home.path(), &url)
            .args(["send", "--voice"])
            .arg(&voice)
            .args(["--tag", "100", "--campaign", campaign])
            .assert()
            .success();
    }
    let out = success_json(
        wxmass(home.path(), &url)
            .args(["send", "--video"])
            .arg(&video)
            .args(["--title", "Our talk", "--description", "12 minutes"])
            .args(["--tag", "100", "--json"]),
    );
    assert_eq!(out["batches"][0]["status"], "SEND_SUCCESS", "{out}");
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    let calls = &stats["calls"];
    // One permanent voice for both campaigns; the video once, then uploadvideo.
    assert_eq!(calls["/cgi-bin/material/add_material"], 1, "{stats}");
    assert_eq!(calls["/cgi-bin/media/upload"], 1, "{stats}");
    assert_eq!(calls["/cgi-bin/media/uploadvideo"], 1, "{stats}");
    let jobs = admin(&url, "GET", "/_emulator/jobs", "")["jobs"].clone();
    let types: Vec<&str> = jobs
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["msgtype"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, ["voice", "voice", "mpvideo"]);

    // A video without a title, or a voice that is not audio, is refused
    // before any request.
    wxmass(home.path(), &url)
        .args(["send", "--video"])
        .arg(&video)
        .args(["--tag", "100"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--title"));
    wxmass(home.path(), &url)
        .args(["send", "--voice"])
        .arg(&video)
        .args(["--tag", "100"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "cannot be sent as the message's voice",
        ));
    let after = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(after["jobs"], 3);
}

#[test]
fn sends_wait_out_the_minute_limit() {
    use std::io::BufRead;
    let (_emu, url) = emulator(140, &[]);
    let home = tempfile::tempdir().expect("home");
    let list = follower_list(home.path(), &url);
    // 70 batches: WeChat takes 60 a minute.
    let mut send = wxmass_std(home.path(), &url)
        .args(["send", "--text", "paced", "--openids"])
        .arg(&list)
        .args(["--batch-size", "2", "--no-wait", "--campaign", "paced"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("send");
    let stderr = std::io::BufReader::new(send.stderr.take().expect("stderr"));
    let mut lines = stderr.lines();
    let waiting = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("waiting for the next minute"));
    assert!(waiting, "send never waited");
    assert_eq!(admin(&url, "GET", "/_emulator/stats", "")["jobs"], 60);
    admin(
        &url,
        "POST",
        "/_emulator/clock",
        r#"{"advance_seconds": 60}"#,
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(send.wait().expect("send").success(), "{rest:?}");
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 70);
    assert_eq!(stats["duplicate_deliveries"], 0);
}

#[test]
fn openids_from_stdin_with_repeats_are_sent_once_each() {
    let (_emu, url) = emulator(30, &[]);
    let home = tempfile::tempdir().expect("home");
    let list = follower_list(home.path(), &url);
    let text = std::fs::read_to_string(&list).expect("list");
    let openids: Vec<&str> = text.lines().collect();
    // Every openid, then the first ten again, with a blank line between.
    let input = format!("{}\n\n{}\n", openids.join("\n"), openids[..10].join("\n"));
    let out = json(
        &wxmass(home.path(), &url)
            .args([
                "send",
                "--text",
                "stdin",
                "--openids",
                "-",
                "--batch-size",
                "29",
                "--json",
            ])
            .write_stdin(input)
            .assert()
            .success()
            .stderr(predicate::str::contains(
                "10 repeated openid(s) in the list skipped",
            ))
            .get_output()
            .stdout,
    );
    // 30 different openids in batches of 29: 28 and 2, never 29 and 1.
    let sizes: Vec<i64> = out["batches"]
        .as_array()
        .expect("batches")
        .iter()
        .map(|b| b["size"].as_i64().expect("size"))
        .collect();
    assert_eq!(sizes, [28, 2]);
    assert_eq!(out["campaign"]["audience_size"], 30);
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["deliveries"], 30, "{stats}");
    assert_eq!(stats["duplicate_deliveries"], 0);
    // The copy of standard input is gone.
    let leftovers: Vec<_> = std::fs::read_dir(home.path())
        .expect("home")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".openids"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_quota_guard_refuses_before_any_request() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    wxmass(home.path(), &url)
        .args([
            "init",
            "--appid",
            "wx5e1f0c2a9b84d37e",
            "--account-type",
            "subscription",
        ])
        .assert()
        .success();
    wxmass(home.path(), &url)
        .args(["send", "--text", "today", "--tag", "100"])
        .assert()
        .success();
    let before = admin(&url, "GET", "/_emulator/stats", "")["calls"].clone();
    wxmass(home.path(), &url)
        .args(["send", "--text", "again", "--tag", "101"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("one mass message a day"))
        .stderr(predicate::str::contains("Beijing time"));
    let list = home.path().join("l.txt");
    std::fs::write(&list, "oA\noB\n").expect("write");
    wxmass(home.path(), &url)
        .args(["send", "--text", "list", "--openids"])
        .arg(&list)
        .assert()
        .failure()
        .stderr(predicate::str::contains("service account"));
    let after = admin(&url, "GET", "/_emulator/stats", "")["calls"].clone();
    assert_eq!(
        before["/cgi-bin/message/mass/sendall"],
        after["/cgi-bin/message/mass/sendall"]
    );
    assert!(after.get("/cgi-bin/message/mass/send").is_none());
}

/// Runs a command expected to fail with `--json`: the error is one JSON
/// document on stdout, and the same advice is on stderr.
fn refused(home: &std::path::Path, url: &str, args: &[&str]) -> serde_json::Value {
    let out = wxmass(home, url)
        .args(args)
        .arg("--json")
        .assert()
        .failure()
        .get_output()
        .clone();
    let value = json(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if let Some(advice) = value["what_to_do"].as_str() {
        assert!(stderr.contains(advice), "{stderr}");
    }
    value
}

#[test]
fn wechat_refusals_say_what_to_do() {
    // 40164: the caller's IP, named, and where to whitelist it.
    let (_emu, url) = emulator(10, &["--ip-whitelist", "10.1.2.3"]);
    let home = tempfile::tempdir().expect("home");
    let error = refused(home.path(), &url, &["token", "--refresh"]);
    assert_eq!(error["errcode"], 40164, "{error}");
    let advice = error["what_to_do"].as_str().expect("advice");
    assert!(
        advice.contains("add 127.0.0.1 to the API IP whitelist"),
        "{advice}"
    );
    assert!(advice.contains("Basic Configuration"), "{advice}");

    // 48001: openid lists need a verified service account.
    let (_emu, url) = emulator(10, &["--account-type", "subscription"]);
    let home = tempfile::tempdir().expect("home");
    let list = follower_list(home.path(), &url);
    let list = list.to_str().expect("utf-8 path");
    let error = refused(
        home.path(),
        &url,
        &["send", "--text", "hi", "--openids", list],
    );
    assert_eq!(error["errcode"], 48001, "{error}");
    assert!(
        error["what_to_do"]
            .as_str()
            .is_some_and(|a| a.contains("verified service account")),
        "{error}"
    );

    // 45028: a subscription account's one send a day is spent (no
    // account_type in the profile, so the local guard did not know).
    wxmass(home.path(), &url)
        .args(["send", "--text", "first", "--tag", "100"])
        .assert()
        .success();
    let error = refused(
        home.path(),
        &url,
        &["send", "--text", "second", "--tag", "100"],
    );
    assert_eq!(error["errcode"], 45028, "{error}");
    let advice = error["what_to_do"].as_str().expect("advice");
    assert!(advice.contains("quota is spent"), "{advice}");
    assert!(advice.contains("midnight, Beijing time"), "{advice}");

    // Local refusals are JSON too, with no errcode.
    let error = refused(home.path(), &url, &["send", "--text", "x", "--all"]);
    assert_eq!(error["errcode"], serde_json::Value::Null);
    assert!(
        error["error"]
            .as_str()
            .is_some_and(|e| e.contains("without --yes")),
        "{error}"
    );
}

/// One campaign table: a server's draft in the same store is listed by
/// `wxmass campaigns` beside what the CLI sent, each with its state, and
/// the CLI cannot send the server's campaign past its approval.
#[test]
fn the_cli_lists_a_servers_campaigns_and_cannot_send_them() {
    let (_emu, url) = emulator(100, &[]);
    let home = tempfile::tempdir().expect("home");
    let journal = home.path().join("shared.db");
    let with_journal = || {
        let mut cmd = wxmass(home.path(), &url);
        cmd.arg("--journal").arg(&journal);
        cmd
    };
    success_json(with_journal().args([
        "send",
        "--text",
        "from the CLI",
        "--tag",
        "100",
        "--json",
        "--campaign",
        "cli",
    ]));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = wxmass_campaign::store::open_sqlite(&journal).expect("store");
        let now = wxmass_campaign::beijing::now();
        store
            .create_campaign(&wxmass_campaign::Campaign {
                id: "draft".into(),
                appid: common::APPID.into(),
                name: "A server's draft".into(),
                content: wxmass_campaign::Content::Text {
                    text: "from the server".into(),
                },
                audience: wxmass_campaign::Audience::Tag { tag_id: 100 },
                list: None,
                batch_size: None,
                state: wxmass_campaign::lifecycle::CampaignState::Draft,
                send_at: None,
                created_by: Some("bob".into()),
                approved_by: None,
                note: String::new(),
                created_at: now + 1,
                updated_at: now + 1,
                audience_size: 0,
                accounts: None,
                part_of: None,
            })
            .await
            .expect("a server's draft");
    });
    let list = success_json(with_journal().args(["campaigns", "--json"]));
    let states: Vec<(&str, &str)> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or(""),
                c["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(states, [("draft", "draft"), ("cli", "finished")], "{list}");
    assert_eq!(list[1]["created_by"], serde_json::Value::Null, "{list}");
    assert_eq!(list[0]["created_by"], "bob", "{list}");
    with_journal()
        .args(["campaigns"])
        .assert()
        .success()
        .stdout(predicate::str::contains("STATE"))
        .stdout(predicate::str::contains("draft"));
    // The draft is the server's: the CLI does not send it.
    with_journal()
        .args([
            "send",
            "--text",
            "from the server",
            "--tag",
            "100",
            "--campaign",
            "draft",
            "--yes",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains("exists already"));
    assert_eq!(admin(&url, "GET", "/_emulator/stats", "")["jobs"], 1);
}
