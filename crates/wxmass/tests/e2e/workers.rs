//! Many workers, one delivery: a 200-batch campaign to 20,000 openids in
//! PostgreSQL, sent by three `wxmass worker`s and the `send` that planned
//! it, while WeChat fails 20% of sends and drops 5% of answers after
//! acting on them, and a random worker is killed with SIGKILL ten times
//! (and restarted). Every follower gets the message exactly once; the
//! store names the worker that recorded each batch and, once the workers
//! have learnt the jobs WeChat took without naming them, every batch's
//! job, its final status and its report, received by a `serve` on the same
//! database; the delivered count is WeChat's.

use crate::common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{admin, emulator, follower_list, wxmass_std};
use serde_json::Value;

const FOLLOWERS: u32 = 20_000;

/// The callback token and EncodingAESKey `serve` and the emulator share.
const CALLBACK_TOKEN: &str = "workers";
const CALLBACK_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[cfg(unix)]
#[test]
fn three_workers_killed_ten_times_deliver_each_openid_once() {
    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let db = postgres.url.clone();
    // WeChat's reports go to a `serve` recording into the same database.
    let (_serve, serve_url) = common::spawn(
        Some(home.path()),
        &[
            "--database",
            &db,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token",
            CALLBACK_TOKEN,
            "--aes-key",
            CALLBACK_AES_KEY,
        ],
    );
    let (_emu, url) = emulator(
        FOLLOWERS,
        &[
            "--no-quotas",
            "--mass-sends-per-minute",
            "100000",
            "--callback-url",
            &serve_url,
            "--callback-token",
            CALLBACK_TOKEN,
            "--callback-aes-key",
            CALLBACK_AES_KEY,
            "--callback-mode",
            "safe",
        ],
    );
    let list = follower_list(home.path(), &url);
    admin(
        &url,
        "POST",
        "/_emulator/faults",
        r#"{"paths": {"/cgi-bin/message/mass/send": {"latency_ms": 30, "errcode_rate": 0.2, "drop_rate": 0.05}}}"#,
    );
    // Each worker's stderr is kept, to be shown if the test fails.
    let started_workers = std::cell::Cell::new(0);
    let worker = || {
        let n = started_workers.get() + 1;
        started_workers.set(n);
        let log = std::fs::File::create(home.path().join(format!("worker-{n}.log"))).expect("log");
        let child = wxmass_std(home.path(), &url)
            .args([
                "--database",
                &db,
                "worker",
                "--once",
                "--campaign",
                "multi",
                "--lease",
                "2",
                "--window",
                "1",
            ])
            .args(["--sends-per-minute", "100000"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("worker");
        Killed(child)
    };
    // The planner prepares the message and sends beside the workers.
    let mut send = Killed(
        wxmass_std(home.path(), &url)
            .args([
                "--database",
                &db,
                "send",
                "--text",
                "exactly once, many hosts",
                "--openids",
            ])
            .arg(&list)
            .args([
                "--batch-size",
                "100",
                "--campaign",
                "multi",
                "--yes",
                "--no-wait",
            ])
            .args(["--sends-per-minute", "100000"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("send"),
    );
    let mut workers: Vec<Killed> = (0..3).map(|_| worker()).collect();
    let mut kills = 0;
    let mut pick = 7u64;
    let started = Instant::now();
    let status = || -> Value {
        let out = wxmass_std(home.path(), &url)
            .args(["--database", &db, "status", "multi", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .expect("status");
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    };
    let submitted = |v: &Value| {
        v["batches"].as_array().map_or(0, |b| {
            b.iter().filter(|b| b["state"] == "submitted").count()
        })
    };
    loop {
        let now = status();
        if submitted(&now) == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the campaign never completed: {} of 200 batches",
            submitted(&now)
        );
        if kills < 10 && submitted(&now) >= 10 + kills * 15 {
            pick = pick.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let victim = (pick >> 33) as usize % workers.len();
            let _ = workers[victim].0.kill(); // SIGKILL
            let _ = workers[victim].0.wait();
            workers[victim] = worker();
            kills += 1;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(kills, 10, "the campaign finished before ten kills");
    let _ = send.0.wait();
    // The workers end once every batch's job is learnt: a batch WeChat took
    // without naming it (a lost answer, then a retry within its minute) is
    // sent again after the minute, and WeChat names it (45065).
    let worker_logs = || {
        (1..=started_workers.get())
            .map(|n| {
                std::fs::read_to_string(home.path().join(format!("worker-{n}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let named_by = Instant::now() + Duration::from_secs(300);
    for w in &mut workers {
        while w.0.try_wait().expect("worker").is_none() {
            assert!(
                Instant::now() < named_by,
                "a worker never finished naming the jobs\n{}",
                worker_logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // WeChat's ledger: one job per batch, every follower once.
    std::thread::sleep(Duration::from_millis(300));
    let jobs = admin(&url, "GET", "/_emulator/jobs", "");
    let jobs = jobs["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 200, "one job per batch, never two");
    let stats = admin(&url, "GET", "/_emulator/stats", "");
    assert_eq!(stats["deliveries"], FOLLOWERS, "{stats}");
    assert_eq!(stats["duplicate_deliveries"], 0, "{stats}");

    // The store: every batch with its job, every report joined to its
    // batch, the delivered count WeChat's own.
    let reported = |v: &Value| {
        v["batches"].as_array().map_or(0, |b| {
            b.iter()
                .filter(|b| b["report"]["sent_count"].is_i64())
                .count()
        })
    };
    let reports_by = Instant::now() + Duration::from_secs(60);
    let mut done = status();
    while reported(&done) < 200 && Instant::now() < reports_by {
        std::thread::sleep(Duration::from_millis(200));
        done = status();
    }
    let batches = done["batches"].as_array().expect("batches");
    let unnamed: Vec<u64> = batches
        .iter()
        .filter(|b| !b["msg_id"].is_i64())
        .filter_map(|b| b["index"].as_u64())
        .collect();
    assert!(
        unnamed.is_empty(),
        "batches without their job: {unnamed:?}\n{}",
        worker_logs()
    );
    assert_eq!(reported(&done), 200, "every batch has its report: {done}");
    let delivered: i64 = batches
        .iter()
        .filter_map(|b| b["report"]["sent_count"].as_i64())
        .sum();
    assert_eq!(
        delivered,
        i64::from(FOLLOWERS),
        "delivered as WeChat's ledger says"
    );
    let refreshed = wxmass_std(home.path(), &url)
        .args(["--database", &db, "status", "multi", "--refresh", "--json"])
        .output()
        .expect("status --refresh");
    let refreshed: Value = serde_json::from_slice(&refreshed.stdout).unwrap_or(Value::Null);
    let statuses = refreshed["batches"].as_array().map_or(0, |b| {
        b.iter().filter(|b| b["status"] == "SEND_SUCCESS").count()
    });
    assert_eq!(statuses, 200, "every batch's job is final: {refreshed}");
    let strays = wxmass_std(home.path(), &url)
        .args(["--database", &db, "status", "--unknown", "--json"])
        .output()
        .expect("status --unknown");
    assert_eq!(
        serde_json::from_slice::<Value>(&strays.stdout).unwrap_or(Value::Null),
        serde_json::json!([]),
        "every report is joined to its batch"
    );

    // The journal: each batch recorded by one worker, takeovers counted.
    let batches = done["batches"].as_array().expect("batches");
    assert!(
        batches
            .iter()
            .all(|b| b["sent_by"].as_str().is_some_and(|w| w.contains(':'))),
        "every batch names its worker"
    );
    let takeovers: u64 = batches.iter().filter_map(|b| b["takeovers"].as_u64()).sum();
    let mut by_worker = std::collections::BTreeMap::<&str, usize>::new();
    for b in batches {
        *by_worker
            .entry(b["sent_by"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    eprintln!(
        "200 batches by {} worker processes, {takeovers} taken over after a kill: {by_worker:?}",
        by_worker.len()
    );
    // How many processes get a share depends on the machine's load (a
    // restarted worker needs a moment to connect); that the planner was
    // not alone, and that kills caught batches in flight, does not.
    let logs = worker_logs;
    assert!(
        by_worker.len() >= 2,
        "the work was shared: {by_worker:?}\n{}",
        logs()
    );
    assert!(
        takeovers >= 1,
        "no kill caught a batch in flight\n{}",
        logs()
    );
}

/// A database URL that is not one, a database that cannot be reached, a
/// user who may not create the tables, a schema from a newer wxmass: each
/// is said plainly, without the URL (it may hold a password).
#[test]
fn database_problems_are_explained() {
    let home = tempfile::tempdir().expect("home");
    let run = |url: &str| {
        let out = wxmass_std(home.path(), "http://127.0.0.1:9")
            .args(["--database", url, "campaigns"])
            .output()
            .expect("run");
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = run("mysql://somewhere");
    assert!(e.contains("not a PostgreSQL URL"), "{e}");
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let e = run(&format!("postgres://u:s3cret@127.0.0.1:{free}/db"));
    assert!(e.contains("cannot reach the PostgreSQL database"), "{e}");
    assert!(!e.contains("s3cret"), "the password leaked: {e}");

    let Some(postgres) = wxmass_testkit::start_postgres() else {
        return;
    };
    let psql = |sql: &str| {
        let port = postgres
            .url
            .rsplit(':')
            .next()
            .and_then(|p| p.split('/').next())
            .expect("port");
        let status = std::process::Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                port,
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
                "-c",
                sql,
            ])
            .stdout(Stdio::null())
            .status()
            .expect("psql");
        assert!(status.success(), "{sql}");
        port.to_owned()
    };
    // PostgreSQL 15 lets only the owner create in `public`.
    let port = psql("CREATE ROLE visitor LOGIN");
    let e = run(&format!("postgres://visitor@127.0.0.1:{port}/postgres"));
    assert!(e.contains("may not create"), "{e}");
    // Made by a newer wxmass.
    wxmass_std(home.path(), "http://127.0.0.1:9")
        .args(["--database", &postgres.url, "campaigns"])
        .output()
        .expect("tables made");
    psql("UPDATE wxmass_schema SET version = 99");
    let e = run(&postgres.url);
    assert!(e.contains("newer wxmass"), "{e}");
}
