//! The CLI says what happened: each test drives the real `wxmass` binary
//! against `wxmass emulator` and checks that its words and exit status
//! match what the emulator saw.

use crate::common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{admin, emulator, success_json, wxmass, wxmass_std};

/// Starts `wxmass ARGS` with stdout piped, reads one line, closes the pipe
/// (as `| head -1` does), and returns the exit status and stderr.
fn first_line_then_close(cmd: &mut std::process::Command) -> (std::process::ExitStatus, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a first line");
    assert!(!line.is_empty(), "no output at all");
    drop(stdout);
    let output = child.wait_with_output().expect("wait");
    (
        output.status,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_the_command_quietly_with_success() {
    let home = tempfile::tempdir().expect("home");
    // More than a pipe holds, so the writes meet the closed pipe.
    let (_emu, url) = emulator(20_000, &[]);
    let (status, stderr) =
        first_line_then_close(wxmass_std(home.path(), &url).args(["completions", "bash"]));
    assert!(
        status.success(),
        "completions | head -1: {status}: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let (status, stderr) = first_line_then_close(wxmass_std(home.path(), &url).arg("followers"));
    assert!(status.success(), "followers | head -1: {status}: {stderr}");
    assert!(stderr.is_empty() || !stderr.contains("error"), "{stderr}");
}

#[test]
fn token_refresh_has_wechat_issue_a_new_token_and_says_when_it_did_not() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    let first = success_json(wxmass(home.path(), &url).args(["token", "--json"]));
    let forced = |url: &str| {
        admin(url, "GET", "/_emulator/stats", "")["token_fetches"]["stable_forced"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(forced(&url), 0);

    let refreshed = success_json(wxmass(home.path(), &url).args(["token", "--refresh", "--json"]));
    assert_eq!(forced(&url), 1, "a forced stable_token fetch");
    assert_eq!(refreshed["refreshed"], true);
    assert_ne!(refreshed["token"], first["token"], "a new token");

    // Within 30 s WeChat gives the current token back: not called new.
    let again = wxmass(home.path(), &url)
        .args(["token", "--refresh"])
        .assert()
        .success();
    let text = String::from_utf8_lossy(&again.get_output().stdout).into_owned();
    assert!(text.contains("returned the current token"), "{text}");
}

/// Jobs the emulator has accepted.
fn jobs(url: &str) -> usize {
    admin(url, "GET", "/_emulator/jobs", "")["jobs"]
        .as_array()
        .map_or(0, Vec::len)
}

#[test]
fn a_tag_without_followers_is_refused_before_any_job() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    let created = success_json(wxmass(home.path(), &url).args(["tags", "create", "空", "--json"]));
    let id = created["id"].to_string();
    let out = wxmass(home.path(), &url)
        .args(["send", "--text", "hello", "--tag", &id])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("has no followers"), "{stderr}");
    assert_eq!(jobs(&url), 0, "no job was submitted");
}

#[test]
fn the_fifth_send_to_a_tag_in_a_month_is_refused_or_fails_loudly() {
    let (_emu, url) = emulator(12, &["--mass-sends-per-minute", "100"]);
    // Without an account type the guard is off: the fifth job reaches nobody
    // (each follower gets 4 a month), and that is an error, not a success.
    let home = tempfile::tempdir().expect("home");
    for n in 1..=4 {
        wxmass(home.path(), &url)
            .args(["send", "--text", &format!("message {n}"), "--tag", "100"])
            .assert()
            .success();
    }
    let fifth = wxmass(home.path(), &url)
        .args(["send", "--text", "message 5", "--tag", "100"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&fifth.get_output().stderr).into_owned();
    assert!(stderr.contains("every batch failed"), "{stderr}");
    assert!(stderr.contains("4 mass messages a month"), "{stderr}");
    assert_eq!(jobs(&url), 5);

    // With the profile saying "service", the guard refuses it before sending.
    let guarded = tempfile::tempdir().expect("home");
    wxmass(guarded.path(), &url)
        .args([
            "init",
            "--appid",
            common::APPID,
            "--api-base",
            &url,
            "--account-type",
            "service",
        ])
        .assert()
        .success();
    for n in 1..=4 {
        wxmass(guarded.path(), &url)
            .args(["send", "--text", &format!("guarded {n}"), "--tag", "101"])
            .assert()
            .success();
    }
    let refused = wxmass(guarded.path(), &url)
        .args(["send", "--text", "guarded 5", "--tag", "101"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("quota:") && stderr.contains("at most 4 a month"),
        "{stderr}"
    );
    assert_eq!(jobs(&url), 9, "the fifth was never submitted");
}

#[test]
fn ctrl_c_says_where_it_stopped_exits_130_and_the_rerun_finishes_once() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(400, &["--mass-sends-per-minute", "1000"]);
    // Each send takes a while, so that the interrupt lands mid-campaign.
    admin(
        &url,
        "POST",
        "/_emulator/faults",
        r#"{"paths":{"/cgi-bin/message/mass/send":{"latency_ms":150}}}"#,
    );
    let list = common::follower_list(home.path(), &url);
    let args = [
        "send",
        "--text",
        "interrupted",
        "--batch-size",
        "20",
        "--yes",
        "--campaign",
        "ctrl-c",
    ];
    let child = wxmass_std(home.path(), &url)
        .args(args)
        .arg("--openids")
        .arg(&list)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("send");
    while jobs(&url) < 3 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pid = rustix::process::Pid::from_child(&child);
    rustix::process::kill_process(pid, rustix::process::Signal::INT).expect("SIGINT");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("interrupted after"))
        .unwrap_or_else(|| panic!("no interruption line: {stderr}"));
    assert!(
        line.ends_with("of 20 batches; rerun the same command to resume"),
        "{line}"
    );
    let done: usize = line
        .split(' ')
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("a count");
    assert!((3..20).contains(&done), "{line}");

    wxmass(home.path(), &url)
        .args(args)
        .arg("--openids")
        .arg(&list)
        .assert()
        .success();
    assert_eq!(jobs(&url), 20, "each batch once");
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["duplicate_deliveries"], 0);
}

#[test]
fn status_follows_a_deleted_job_and_refresh_asks_wechat() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(30, &[]);
    let article = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-article.md");
    let sent = success_json(wxmass(home.path(), &url).args([
        "send",
        "--article",
        article,
        "--tag",
        "100",
        "--campaign",
        "art",
        "--json",
    ]));
    let msg_id = sent["batches"][0]["msg_id"]
        .as_i64()
        .expect("msg_id")
        .to_string();
    assert_eq!(sent["batches"][0]["status"], "SEND_SUCCESS");
    wxmass(home.path(), &url)
        .args(["mass", "delete", &msg_id])
        .assert()
        .failure()
        .stderr(predicates::str::contains("without --yes"));
    wxmass(home.path(), &url)
        .args(["mass", "delete", &msg_id, "--yes"])
        .assert()
        .success();
    let status = success_json(wxmass(home.path(), &url).args(["status", "art", "--json"]));
    assert_eq!(status["batches"][0]["status"], "DELETE");

    // --no-wait: no status yet; --refresh asks mass/get.
    wxmass(home.path(), &url)
        .args([
            "send",
            "--text",
            "later",
            "--tag",
            "100",
            "--campaign",
            "nw",
            "--no-wait",
        ])
        .assert()
        .success();
    let before = success_json(wxmass(home.path(), &url).args(["status", "nw", "--json"]));
    assert!(before["batches"][0]["status"].is_null(), "{before}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let after =
        success_json(wxmass(home.path(), &url).args(["status", "nw", "--refresh", "--json"]));
    assert_eq!(after["batches"][0]["status"], "SEND_SUCCESS", "{after}");
}

#[test]
fn flags_that_do_not_apply_and_bad_paths_are_explained() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    for (flags, says) in [
        (
            &["--text", "hi", "--draft", "--tag", "100"][..],
            "--draft goes with --article only",
        ),
        (
            &["--text", "hi", "--theme", "t.toml", "--tag", "100"],
            "--theme goes with --article only",
        ),
        (
            &["--text", "hi", "--title", "T", "--tag", "100"],
            "--title goes with --video only",
        ),
        (
            &["--text", "hi", "--batch-size", "5", "--tag", "100"],
            "--batch-size goes with --openids only",
        ),
    ] {
        wxmass(home.path(), &url)
            .arg("send")
            .args(flags)
            .assert()
            .failure()
            .stderr(predicates::str::contains(says));
    }
    assert_eq!(jobs(&url), 0);

    // A PNG as a voice message: the formats by name, and the file's.
    let png = home.path().join("a.png");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-cover.png"),
        &png,
    )
    .expect("png");
    let out = wxmass(home.path(), &url)
        .args(["media", "upload"])
        .arg(&png)
        .args(["--type", "voice"])
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        stderr.contains("a voice message must be") && stderr.contains("this file is PNG"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('[') && !stderr.contains("a image"),
        "{stderr}"
    );

    wxmass(home.path(), "notaurl")
        .arg("token")
        .assert()
        .failure()
        .stderr(predicates::str::contains("is not a URL"))
        .stderr(predicates::str::contains("https://api.weixin.qq.com"));
    // A full disk: the error names the file.
    if std::path::Path::new("/dev/full").exists() {
        wxmass(home.path(), &url)
            .args(["followers", "--out", "/dev/full"])
            .assert()
            .failure()
            .stderr(predicates::str::contains(
                "cannot write the openids to /dev/full",
            ));
    }
    let folder = home.path().join("folder");
    std::fs::create_dir(&folder).expect("dir");
    wxmass(home.path(), &url)
        .arg("--journal")
        .arg(&folder)
        .arg("status")
        .assert()
        .failure()
        .stderr(predicates::str::contains("is a folder"));
}

#[test]
fn the_emulator_says_which_account_it_emulates() {
    let home = tempfile::tempdir().expect("home");
    let mut child = wxmass_std(home.path(), "http://127.0.0.1:1")
        .args(["emulator", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("emulator");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    let second = lines.next().and_then(Result::ok).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("wxmass-emulator listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        second.contains(common::APPID) && second.contains(common::SECRET),
        "{second}"
    );
    let help = wxmass_std(home.path(), "http://127.0.0.1:1")
        .args(["emulator", "--help"])
        .output()
        .expect("help");
    assert!(String::from_utf8_lossy(&help.stdout).contains(common::SECRET));
}

#[test]
fn a_dry_run_is_the_real_plan_and_records_nothing() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(300, &[]);
    // Three distinct openids, each twice.
    let followers =
        std::fs::read_to_string(common::follower_list(home.path(), &url)).expect("list");
    let three: Vec<&str> = followers.lines().take(3).collect();
    let list = home.path().join("six.txt");
    std::fs::write(&list, [&three[..], &three[..]].concat().join("\n")).expect("write");
    let plan = success_json(
        wxmass(home.path(), &url)
            .args(["send", "--text", "hi", "--dry-run", "--json", "--openids"])
            .arg(&list),
    );
    assert_eq!(plan["audience_size"], 3, "{plan}");
    assert_eq!(plan["repeated_openids"], 3);
    assert_eq!(plan["batch_sizes"], serde_json::json!([3]));
    assert_eq!(plan["pace_minutes"], 0);

    // The whole list in batches of 2: 150 batches, 2 more minutes of pace.
    let all = common::follower_list(home.path(), &url);
    let plan = success_json(
        wxmass(home.path(), &url)
            .args([
                "send",
                "--text",
                "hi",
                "--dry-run",
                "--json",
                "--batch-size",
                "2",
                "--openids",
            ])
            .arg(&all),
    );
    assert_eq!(plan["batches"], 150);
    assert_eq!(plan["pace_minutes"], 2);

    // The same limit as the send: a 15,000-byte text is refused at once.
    let long = "字".repeat(5000);
    wxmass(home.path(), &url)
        .args(["send", "--text", &long, "--tag", "100", "--dry-run"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("2048"));
    // Uploads it would make; then none once the journal has them.
    let picture = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-chart.png");
    let plan = success_json(wxmass(home.path(), &url).args([
        "send",
        "--image",
        picture,
        "--tag",
        "100",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(plan["uploads"].as_array().map(Vec::len), Some(1), "{plan}");
    wxmass(home.path(), &url)
        .args(["send", "--image", picture, "--tag", "100"])
        .assert()
        .success();
    let plan = success_json(wxmass(home.path(), &url).args([
        "send",
        "--image",
        picture,
        "--tag",
        "101",
        "--dry-run",
        "--json",
    ]));
    assert_eq!(plan["uploads"], serde_json::json!([]), "{plan}");

    // Nothing of the dry runs is in the journal: only the one real send.
    let campaigns = success_json(wxmass(home.path(), &url).args(["campaigns", "--json"]));
    assert_eq!(campaigns.as_array().map(Vec::len), Some(1), "{campaigns}");
    assert_eq!(jobs(&url), 1);
}

#[test]
fn a_journal_that_cannot_be_used_is_explained_and_never_thrown_away() {
    let home = tempfile::tempdir().expect("home");
    let run = |journal: &std::path::Path| {
        let out = wxmass_std(home.path(), "http://127.0.0.1:1")
            .arg("--journal")
            .arg(journal)
            .arg("campaigns")
            .output()
            .expect("run");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stderr.contains("aside"),
            "never advise moving a journal aside: {stderr}"
        );
        stderr
    };
    // Not a journal at all: said so, and the file is left as it was.
    let text = home.path().join("notes.txt");
    std::fs::write(&text, "my notes\n").expect("write");
    let stderr = run(&text);
    assert!(stderr.contains("is not a wxmass journal"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&text).expect("read"), "my notes\n");

    // Written by a newer wxmass.
    let newer = home.path().join("newer.db");
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.pragma_update(None, "user_version", 99))
        .expect("newer");
    let stderr = run(&newer);
    assert!(
        stderr.contains("newer wxmass") && stderr.contains("upgrade wxmass"),
        "{stderr}"
    );

    // An old journal that cannot be written to (immutable: even root cannot).
    let old = home.path().join("old.db");
    rusqlite::Connection::open(&old)
        .and_then(|c| c.execute_batch("CREATE TABLE campaigns (id TEXT PRIMARY KEY);"))
        .expect("old");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let immutable = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&old)
        .status();
    if immutable.is_ok_and(|s| s.success()) {
        let stderr = run(&old);
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&old)
            .status();
        assert!(
            stderr.contains("read-only") && stderr.contains("intact"),
            "{stderr}"
        );
    } else {
        eprintln!("chattr +i is not available here: the read-only case was not exercised");
    }
}

#[test]
fn debug_logs_say_what_was_called_and_never_a_secret() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    for var in ["WXMASS_LOG", "RUST_LOG"] {
        let out = wxmass(home.path(), &url)
            .env(var, "debug")
            .args([
                "send",
                "--text",
                &format!("logged via {var}"),
                "--tag",
                "100",
            ])
            .assert()
            .success();
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            stderr.contains("called WeChat")
                && stderr.contains("path=\"/cgi-bin/message/mass/sendall\""),
            "{var}: {stderr}"
        );
        assert!(stderr.contains("batch submitted"), "{stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "no colours off a terminal: {stderr:?}"
        );
        assert!(
            !stderr.contains(common::SECRET) && !stderr.contains("access_token="),
            "{stderr}"
        );
    }
}

#[test]
fn init_checks_the_credentials_and_tags_come_from_a_file() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(120, &[]);
    wxmass(home.path(), &url)
        .env("WXMASS_SECRET", "0000000000000000000000000000dead")
        .args(["init", "--appid", common::APPID])
        .assert()
        .failure()
        .stderr(predicates::str::contains("were not accepted"));
    assert!(!home.path().join("config.toml").exists(), "nothing written");
    wxmass(home.path(), &url)
        .args(["init", "--appid", common::APPID])
        .assert()
        .success()
        .stdout(predicates::str::contains("accepted the credentials"));

    // 120 followers onto a new tag: 3 requests of at most 50, then off again.
    let list = common::follower_list(home.path(), &url);
    let tag = success_json(wxmass(home.path(), &url).args(["tags", "create", "all120", "--json"]))
        ["id"]
        .to_string();
    let before =
        admin(&url, "GET", "/_emulator/stats", "")["calls"]["/cgi-bin/tags/members/batchtagging"]
            .as_u64()
            .unwrap_or(0);
    let added = success_json(
        wxmass(home.path(), &url)
            .args(["tags", "add", "--tag", &tag, "--json", "--openids"])
            .arg(&list),
    );
    assert_eq!(added["tagged"], 120);
    let calls =
        admin(&url, "GET", "/_emulator/stats", "")["calls"]["/cgi-bin/tags/members/batchtagging"]
            .as_u64()
            .unwrap_or(0);
    assert_eq!(calls - before, 3);
    let count = success_json(wxmass(home.path(), &url).args([
        "followers",
        "--tag",
        &tag,
        "--count",
        "--json",
    ]));
    assert_eq!(count["count"], 120);

    // A bad line anywhere: nothing is sent.
    let bad = home.path().join("bad.txt");
    let mut text = std::fs::read_to_string(&list).expect("list");
    text.push_str("not an openid\n");
    std::fs::write(&bad, text).expect("write");
    wxmass(home.path(), &url)
        .args(["tags", "remove", "--tag", &tag, "--openids"])
        .arg(&bad)
        .assert()
        .failure()
        .stderr(predicates::str::contains("line 121"));
    let count = success_json(wxmass(home.path(), &url).args([
        "followers",
        "--tag",
        &tag,
        "--count",
        "--json",
    ]));
    assert_eq!(count["count"], 120, "nothing was removed");
    wxmass(home.path(), &url)
        .args(["tags", "remove", "--tag", &tag, "--openids"])
        .arg(&list)
        .assert()
        .success();
    let count = success_json(wxmass(home.path(), &url).args([
        "followers",
        "--tag",
        &tag,
        "--count",
        "--json",
    ]));
    assert_eq!(count["count"], 0);
}

#[test]
fn an_article_with_three_problems_reports_all_three() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    let article = home.path().join("post.md");
    std::fs::write(
        &article,
        format!(
            "---\ntitle: {}\ncover: missing-cover.png\n---\n# Hi\n\n![gone](gone.png)\n",
            "长".repeat(40)
        ),
    )
    .expect("write");
    let out = wxmass(home.path(), &url)
        .args(["send", "--tag", "100", "--article"])
        .arg(&article)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("3 problems to fix first"), "{stderr}");
    for needle in ["title has 40 characters", "missing-cover.png", "gone.png"] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }
    assert_eq!(jobs(&url), 0);

    // Neither that nor a text over WeChat's limit leaves a campaign behind
    // that looks unfinished: both are refused before the journal is written.
    wxmass(home.path(), &url)
        .args(["send", "--text", &"字".repeat(5000), "--tag", "100"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("2048"));
    let campaigns = success_json(wxmass(home.path(), &url).args(["campaigns", "--json"]));
    assert_eq!(campaigns, serde_json::json!([]));
}

#[test]
fn the_quota_guard_counts_each_follower_of_an_openid_list() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(20, &["--mass-sends-per-minute", "100"]);
    wxmass(home.path(), &url)
        .args([
            "init",
            "--appid",
            common::APPID,
            "--account-type",
            "service",
        ])
        .assert()
        .success();
    let all = std::fs::read_to_string(common::follower_list(home.path(), &url)).expect("list");
    let openids: Vec<&str> = all.lines().collect();
    let six = home.path().join("six.txt");
    std::fs::write(&six, openids[..6].join("\n")).expect("six");
    let ten = home.path().join("ten.txt");
    std::fs::write(&ten, openids[..10].join("\n")).expect("ten");
    for n in 1..=4 {
        wxmass(home.path(), &url)
            .args(["send", "--text", &format!("list {n}"), "--openids"])
            .arg(&six)
            .assert()
            .success();
    }
    for dry in [true, false] {
        let mut cmd = wxmass(home.path(), &url);
        cmd.args(["send", "--text", "list 5", "--openids"])
            .arg(&six);
        if dry {
            cmd.arg("--dry-run");
        }
        cmd.assert().failure().stderr(predicates::str::contains(
            "every one of the list's 6 followers",
        ));
    }
    assert_eq!(jobs(&url), 4);
    let out = wxmass(home.path(), &url)
        .args(["send", "--text", "list 6", "--openids"])
        .arg(&ten)
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("6 of the list's 10 followers"), "{stderr}");
}

#[test]
fn drafts_and_permanent_material_are_listed_and_deleted() {
    let home = tempfile::tempdir().expect("home");
    let (_emu, url) = emulator(10, &[]);
    let article = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-article.md");
    wxmass(home.path(), &url)
        .args(["send", "--article", article, "--draft", "--tag", "100"])
        .assert()
        .success();
    let drafts = success_json(wxmass(home.path(), &url).args(["drafts", "list", "--json"]));
    let drafts = drafts.as_array().cloned().unwrap_or_default();
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    assert!(
        drafts[0]["titles"][0]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let id = drafts[0]["media_id"].as_str().expect("id").to_owned();
    wxmass(home.path(), &url)
        .args(["drafts", "delete", &id])
        .assert()
        .failure()
        .stderr(predicates::str::contains("without --yes"));
    wxmass(home.path(), &url)
        .args(["drafts", "delete", &id, "-y"])
        .assert()
        .success();
    let drafts = success_json(wxmass(home.path(), &url).args(["drafts", "list", "--json"]));
    assert_eq!(drafts, serde_json::json!([]));
    wxmass(home.path(), &url)
        .args(["drafts", "delete", &id, "--yes"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("40007"));

    let picture = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo-chart.png");
    let uploaded = success_json(wxmass(home.path(), &url).args([
        "media",
        "upload",
        picture,
        "--type",
        "image",
        "--permanent",
        "--json",
    ]));
    let id = uploaded["media_id"].as_str().expect("id").to_owned();
    let list = success_json(
        wxmass(home.path(), &url).args(["media", "list", "--type", "image", "--json"]),
    );
    assert!(
        list.as_array()
            .is_some_and(|l| l.iter().any(|m| m["media_id"] == id.as_str())),
        "{list}"
    );
    wxmass(home.path(), &url)
        .args(["media", "delete", &id, "--yes"])
        .assert()
        .success();
    let list = success_json(
        wxmass(home.path(), &url).args(["media", "list", "--type", "image", "--json"]),
    );
    assert!(
        !list
            .as_array()
            .is_some_and(|l| l.iter().any(|m| m["media_id"] == id.as_str())),
        "{list}"
    );
}
