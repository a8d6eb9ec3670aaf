//! `wxmass demo`, and `wxmass serve` recording the emulator's reports into
//! the journal that `send` writes.

use crate::common;

use common::{admin, follower_list, spawn, success_json, wxmass, wxmass_std};

use assert_cmd::Command;
use serde_json::Value;

/// The callback token and EncodingAESKey `serve` and the emulator share.
const TOKEN: &str = "servetest";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// `wxmass serve` on `listen`, recording into `home`'s journal.
fn serve(home: &std::path::Path, listen: &str) -> (common::Proc, String) {
    serve_with(home, &["serve", "--listen", listen])
}

/// `wxmass ARGS --token .. --aes-key ..` (ARGS end with `serve`'s own).
fn serve_with(home: &std::path::Path, args: &[&str]) -> (common::Proc, String) {
    spawn(
        Some(home),
        &[args, &["--token", TOKEN, "--aes-key", AES_KEY]].concat(),
    )
}

/// `wxmass emulator` with `followers` in one tag, pushing every report to
/// `serve_url` in safe mode; `extra` flags appended.
fn emulator_pushing_to(
    home: &std::path::Path,
    serve_url: &str,
    followers: u32,
    extra: &[&str],
) -> (common::Proc, String) {
    let callback = [
        "--callback-url",
        serve_url,
        "--callback-token",
        TOKEN,
        "--callback-aes-key",
        AES_KEY,
        "--callback-mode",
        "safe",
    ];
    common::emulator_with(Some(home), followers, 1, &[&callback, extra].concat())
}

#[test]
fn demo_runs_a_whole_campaign_offline() {
    let report = success_json(
        Command::new(env!("CARGO_BIN_EXE_wxmass"))
            .args(["demo", "--json"])
            .env_clear(),
    );
    let campaigns = report.as_array().expect("campaigns");
    assert_eq!(campaigns.len(), 4);
    let batches: Vec<&Value> = campaigns
        .iter()
        .flat_map(|c| c["batches"].as_array().expect("batches"))
        .collect();
    assert_eq!(
        batches.len(),
        6,
        "article, image, text, and a list in three batches"
    );
    for b in batches {
        assert_eq!(b["status"], "SEND_SUCCESS");
        assert!(
            b["report"]["sent_count"].as_i64().is_some_and(|n| n > 0),
            "every report recorded: {b}"
        );
    }
    // The table ends with how the article was read two days on: the
    // emulator's seeded followers read the same way every run.
    let stats = || {
        let text = Command::new(env!("CARGO_BIN_EXE_wxmass"))
            .arg("demo")
            .env_clear()
            .assert()
            .success();
        let out = String::from_utf8_lossy(&text.get_output().stdout).into_owned();
        assert!(out.contains("DELIVERED"), "{out}");
        let at = out
            .find("Campaign demo-article: 1 article(s)")
            .unwrap_or_else(|| panic!("no stats in\n{out}"));
        out[at..].to_owned()
    };
    let first = stats();
    for expected in ["READ RATE", "Readers by day", "conversation"] {
        assert!(first.contains(expected), "{expected:?} not in\n{first}");
    }
    assert_eq!(first, stats(), "the same figures at the same seed");
}

#[test]
fn serve_records_reports_against_their_batches() {
    let home = tempfile::tempdir().expect("home");
    let (_serve, serve_url) = serve(home.path(), "127.0.0.1:0");
    let (_emu, emu_url) =
        emulator_pushing_to(home.path(), &serve_url, 50, &["--job-delay-ms", "50"]);
    wxmass(home.path(), &emu_url)
        .args([
            "send",
            "--text",
            "reported",
            "--tag",
            "100",
            "--campaign",
            "r1",
        ])
        .assert()
        .success();
    for _ in 0..100 {
        let status = success_json(wxmass(home.path(), &emu_url).args(["status", "r1", "--json"]));
        if status["batches"][0]["report"]["sent_count"].as_i64() == Some(50) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the report never reached the journal");
}

/// `serve --database` records into the PostgreSQL journal the senders
/// share: the report joins its batch there, and `status --unknown` reads
/// the same database.
#[test]
fn serve_records_reports_into_postgres() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let db = postgres.url.as_str();
    let (_serve, serve_url) = serve_with(
        home.path(),
        &["--database", db, "serve", "--listen", "127.0.0.1:0"],
    );
    let (_emu, emu_url) =
        emulator_pushing_to(home.path(), &serve_url, 30, &["--job-delay-ms", "50"]);
    let list = follower_list(home.path(), &emu_url);
    wxmass(home.path(), &emu_url)
        .args(["--database", db, "send", "--text", "to pg", "--openids"])
        .arg(&list)
        .args(["--batch-size", "10", "--campaign", "pg1", "--yes"])
        .assert()
        .success();
    let mut reported = 0;
    for _ in 0..100 {
        let status = success_json(wxmass(home.path(), &emu_url).args([
            "--database",
            db,
            "status",
            "pg1",
            "--json",
        ]));
        let batches = status["batches"].as_array().expect("batches").clone();
        reported = batches
            .iter()
            .filter(|b| b["report"]["sent_count"].as_i64() == Some(10))
            .count();
        if reported == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(reported, 3, "every batch's report in PostgreSQL");
    let strays = success_json(wxmass(home.path(), &emu_url).args([
        "--database",
        db,
        "status",
        "--unknown",
        "--json",
    ]));
    assert_eq!(strays, serde_json::json!([]), "no report outside a batch");
    assert!(
        !home.path().join("data/journal.db").exists(),
        "nothing went to a SQLite file"
    );
}

/// `serve` is killed (SIGKILL) at random moments while the emulator pushes a
/// report per batch, and restarted on the same address. Every report it
/// acknowledged is in the journal, reports retried after a restart are
/// recorded once, and each batch's counts are the job's own.
#[test]
fn serve_killed_while_pushes_arrive_loses_nothing_and_counts_nothing_twice() {
    use rand::RngExt;
    use std::collections::{HashMap, HashSet};
    use std::time::{Duration, Instant};

    let home = tempfile::tempdir().expect("home");
    let (first, serve_url) = serve(home.path(), "127.0.0.1:0");
    let mut receiver = Some(first);
    let listen = serve_url.trim_start_matches("http://").to_owned();
    let (_emu, emu_url) = emulator_pushing_to(
        home.path(),
        &serve_url,
        1800,
        &["--job-delay-ms", "100", "--mass-sends-per-minute", "1000"],
    );
    // Each send takes 50 to 550 ms, eight at once, so the 90 reports arrive
    // over three seconds or more, spread rather than in bursts of eight,
    // and each of a dozen kills meets some (at a steady 10 ms a busy CI
    // machine sent everything between two kills; at a steady 300 ms the
    // bursts could fall between the kills).
    admin(
        &emu_url,
        "POST",
        "/_emulator/faults",
        r#"{"paths":{"/cgi-bin/message/mass/send":{"latency_ms":50,"latency_jitter_ms":500}}}"#,
    );
    let list = follower_list(home.path(), &emu_url);
    let mut send = wxmass_std(home.path(), &emu_url)
        .args(["send", "--text", "kill serve", "--openids"])
        .arg(&list)
        .args(["--batch-size", "20", "--yes", "--campaign", "k"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(home.path().join("send.log")).expect("log"))
        .spawn()
        .expect("send");

    let mut rng = rand::rng();
    let mut kills = 0;
    let mut sent_at = None;
    loop {
        std::thread::sleep(Duration::from_millis(rng.random_range(80..300)));
        if sent_at.is_none() && send.try_wait().expect("wait").is_some() {
            sent_at = Some(Instant::now());
        }
        if sent_at.is_some_and(|t| t.elapsed() > Duration::from_millis(500)) {
            break;
        }
        drop(receiver.take()); // SIGKILL
        std::thread::sleep(Duration::from_millis(rng.random_range(10..120)));
        receiver = Some(serve(home.path(), &listen).0);
        kills += 1;
    }
    assert!(
        send.wait().expect("send").success(),
        "send failed: {}",
        std::fs::read_to_string(home.path().join("send.log")).unwrap_or_default()
    );

    // Wait until every job's report has settled: accepted, or three attempts.
    let jobs = admin(&emu_url, "GET", "/_emulator/jobs", "")["jobs"].clone();
    let jobs = jobs.as_array().expect("jobs").clone();
    assert_eq!(jobs.len(), 90);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (accepted, attempts) = loop {
        let pushes = admin(&emu_url, "GET", "/_emulator/pushes", "")["pushes"].clone();
        let pushes = pushes.as_array().expect("pushes").clone();
        let mut accepted = HashSet::new();
        let mut tries: HashMap<i64, u64> = HashMap::new();
        for p in &pushes {
            let id = p["msg_id"].as_i64().expect("msg_id");
            *tries.entry(id).or_default() += 1;
            if p["accepted"] == true {
                accepted.insert(id);
            }
        }
        let settled = jobs.iter().all(|j| {
            let id = j["msg_id"].as_i64().expect("msg_id");
            accepted.contains(&id) || tries.get(&id) == Some(&3)
        });
        if settled {
            break (accepted, pushes);
        }
        assert!(Instant::now() < deadline, "reports never settled");
        std::thread::sleep(Duration::from_millis(100));
    };
    let retried_then_accepted = attempts
        .iter()
        .filter(|p| p["accepted"] == true && p["attempt"].as_u64() > Some(1))
        .count();
    assert!(kills >= 6, "only {kills} kills");
    assert!(
        retried_then_accepted > 0,
        "no push was interrupted by the {kills} kills; nothing was tested"
    );

    // Every acknowledged report is in the journal, once, with the job's counts.
    let status = success_json(wxmass(home.path(), &emu_url).args(["status", "k", "--json"]));
    let sent_by_job: HashMap<i64, i64> = jobs
        .iter()
        .map(|j| {
            (
                j["msg_id"].as_i64().expect("id"),
                j["sent_count"].as_i64().expect("sent"),
            )
        })
        .collect();
    let mut recorded = HashSet::new();
    for b in status["batches"].as_array().expect("batches") {
        let id = b["msg_id"].as_i64().expect("every batch submitted");
        if let Some(sent) = b["report"]["sent_count"].as_i64() {
            assert_eq!(sent, sent_by_job[&id], "batch {b}");
            assert!(recorded.insert(id), "job {id} recorded twice");
        }
    }
    let lost: Vec<&i64> = accepted.difference(&recorded).collect();
    assert!(lost.is_empty(), "acknowledged but not recorded: {lost:?}");
    eprintln!(
        "{kills} kills; {} of 90 reports acknowledged, {retried_then_accepted} after a retry",
        accepted.len()
    );
}

/// msg_ids are numbered per account: two accounts' jobs with the same
/// msg_id in one journal. A report `serve` receives for one account's job is
/// joined to that account's campaign only.
#[test]
fn reports_belong_to_the_account_whose_job_it_was() {
    const OTHER: &str = "wxbbbbbbbbbbbbbbbb";
    let home = tempfile::tempdir().expect("home");
    let (_serve, serve_url) = serve(home.path(), "127.0.0.1:0");
    let (_a, a_url) = emulator_pushing_to(home.path(), &serve_url, 20, &["--job-delay-ms", "50"]);
    let (_b, b_url) = common::emulator_with(Some(home.path()), 20, 1, &["--appid", OTHER]);
    let sent_b = success_json(
        wxmass(home.path(), &b_url)
            .env("WXMASS_APPID", OTHER)
            .args([
                "send",
                "--text",
                "from B",
                "--tag",
                "100",
                "--campaign",
                "b1",
                "--json",
            ]),
    );
    let sent_a = success_json(wxmass(home.path(), &a_url).args([
        "send",
        "--text",
        "from A",
        "--tag",
        "100",
        "--campaign",
        "a1",
        "--json",
    ]));
    let id = |v: &Value| v["batches"][0]["msg_id"].as_i64().expect("msg_id");
    assert_eq!(
        id(&sent_a),
        id(&sent_b),
        "both accounts numbered the job alike"
    );

    for _ in 0..100 {
        let a = success_json(wxmass(home.path(), &a_url).args(["status", "a1", "--json"]));
        if a["batches"][0]["report"]["sent_count"].is_i64() {
            let b = success_json(wxmass(home.path(), &a_url).args(["status", "b1", "--json"]));
            assert!(
                b["batches"][0]["report"].is_null(),
                "A's report on B's campaign: {b}"
            );
            let strays =
                success_json(wxmass(home.path(), &a_url).args(["status", "--unknown", "--json"]));
            assert_eq!(strays, serde_json::json!([]));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("A's report never reached the journal");
}

/// PUBLISHJOBFINISH through `serve`: a publish that succeeds and one that
/// fails (the emulator told so) are both recorded, with their status,
/// article id or failed articles, and listed by `status --unknown` (this
/// journal did not submit them).
#[test]
fn serve_records_publish_reports_success_and_failure() {
    let home = tempfile::tempdir().expect("home");
    let (_serve, serve_url) = serve(home.path(), "127.0.0.1:0");
    let (_emu, emu_url) =
        emulator_pushing_to(home.path(), &serve_url, 5, &["--job-delay-ms", "50"]);
    admin(
        &emu_url,
        "POST",
        "/_emulator/publish_outcome",
        r#"{"status": 0}"#,
    );
    admin(
        &emu_url,
        "POST",
        "/_emulator/publish_outcome",
        r#"{"status": 2, "fail_idx": [1]}"#,
    );
    let ok = common::publish_a_draft(&emu_url, "Published");
    let failed = common::publish_a_draft(&emu_url, "Copied");
    for _ in 0..100 {
        let listed =
            success_json(wxmass(home.path(), &emu_url).args(["status", "--unknown", "--json"]));
        let of = |id: i64| {
            listed
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["publish_id"] == id)
                .cloned()
        };
        if let (Some(ok), Some(failed)) = (of(ok), of(failed)) {
            assert_eq!(
                (ok["kind"].as_str(), ok["publish_status"].as_i64()),
                (Some("unknown publish"), Some(0)),
                "{ok}"
            );
            assert!(
                ok["article_id"].as_str().is_some_and(|a| !a.is_empty()),
                "{ok}"
            );
            assert_eq!(ok["articles"], 1);
            assert_eq!(failed["publish_status"], 2, "{failed}");
            assert_eq!(failed["status"], "the originality check failed");
            assert_eq!(failed["fail_idx"], serde_json::json!([1]));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the publish reports never reached the journal");
}

/// `wxmass publish` beside `serve`: the PUBLISHJOBFINISH report `serve`
/// records is what a rerun reads (no second submit, no freepublish/get).
#[test]
fn publish_is_followed_to_the_report_serve_records() {
    let home = tempfile::tempdir().expect("home");
    let (_serve, serve_url) = serve(home.path(), "127.0.0.1:0");
    let (_emu, emu_url) =
        emulator_pushing_to(home.path(), &serve_url, 5, &["--job-delay-ms", "50"]);
    common::picture(&home.path().join("cover.png"), [30, 90, 200]);
    std::fs::write(
        home.path().join("post.md"),
        "---\ntitle: 发布测试\ncover: cover.png\n---\nPublished, not sent.\n",
    )
    .expect("post.md");
    let publish = || {
        let mut cmd = wxmass(home.path(), &emu_url);
        cmd.args(["publish", "--yes", "--json", "--article"])
            .arg(home.path().join("post.md"));
        success_json(&mut cmd)
    };
    let first = publish();
    assert_eq!(first["status"], "published", "{first}");
    for _ in 0..100 {
        let gets =
            admin(&emu_url, "GET", "/_emulator/stats", "")["calls"]["/cgi-bin/freepublish/get"]
                .as_u64()
                .unwrap_or(0);
        let again = publish();
        assert_eq!(again["publish_id"], first["publish_id"], "{again}");
        if again["told_by"] == "PUBLISHJOBFINISH" {
            assert_eq!(again["article_id"], first["article_id"], "{again}");
            let calls = admin(&emu_url, "GET", "/_emulator/stats", "")["calls"].clone();
            assert_eq!(calls["/cgi-bin/freepublish/submit"], 1, "{calls}");
            assert_eq!(
                calls["/cgi-bin/freepublish/get"].as_u64(),
                Some(gets),
                "the recorded report was enough: {calls}"
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("serve never recorded the publish's report");
}
