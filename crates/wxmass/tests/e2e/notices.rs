//! Fan-out campaigns under chaos, on one PostgreSQL: a notice to every
//! follower sent by the `notify` that planned it and three `wxmass
//! worker`s, while WeChat drops 5% of answers after acting and senders
//! are killed with SIGKILL ten times.
//!
//! - Template messages, restarts within WeChat's 10 minutes: every follower
//!   gets it exactly once (the `client_msg_id` makes every resend safe).
//! - The same with the clocks (WeChat's and wxmass's) moved 11 minutes
//!   before each restart: nobody gets it twice, and once the reports a
//!   `serve` on the same database received are joined, the followers who
//!   got nothing are exactly those reported `unknown`.
//! - Customer-service messages, which WeChat cannot tell a repeat of:
//!   nobody gets it twice, and everyone who got nothing is `unknown`.

use crate::common;
use crate::crash::shipped_template;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{admin, emulator, follower_list, wxmass_std};
use serde_json::Value;

const CALLBACK_TOKEN: &str = "notices";
const CALLBACK_AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Killed {
    fn running(&mut self) -> bool {
        self.0.try_wait().ok().flatten().is_none()
    }
}

/// How the senders are stopped and started again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chaos {
    /// One sender killed at a time, the others sending on.
    OneAtATime,
    /// Every sender killed at once, then WeChat's clock and wxmass's moved
    /// 11 minutes on before they start again.
    ElevenMinutesLater,
}

/// What the notice is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Channel {
    Template,
    CustomerService,
}

struct Run {
    home: tempfile::TempDir,
    url: String,
    db: String,
    _emu: common::Proc,
    _serve: common::Proc,
    _postgres: wxmass_testkit::PostgresServer,
}

impl Run {
    fn start(followers: u32) -> Option<Run> {
        let postgres = wxmass_testkit::start_postgres()?;
        let home = tempfile::tempdir().expect("home");
        let db = postgres.url.clone();
        let (serve, serve_url) = common::spawn(
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
                // The emulator stands for WeChat's many push servers from
                // one address, and pushes every due report at once when its
                // clock moves 11 minutes: under the per-address cap some
                // would be refused three times and given up (as WeChat
                // gives up), leaving their recipients unknown for good.
                "--max-connections-per-address",
                "100000",
            ],
        );
        let (emu, url) = emulator(
            followers,
            &[
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
        Some(Run {
            home,
            url,
            db,
            _emu: emu,
            _serve: serve,
            _postgres: postgres,
        })
    }

    fn wxmass(&self, clock_offset: i64) -> std::process::Command {
        let mut cmd = wxmass_std(self.home.path(), &self.url);
        cmd.env("WXMASS_CLOCK_OFFSET", clock_offset.to_string())
            .args(["--database", &self.db]);
        cmd
    }

    /// `status shipped --json` (with `--refresh`: reports joined first).
    fn status(&self, refresh: bool) -> Value {
        let mut cmd = self.wxmass(0);
        cmd.args(["status", "shipped", "--json"]);
        if refresh {
            cmd.arg("--refresh");
        }
        let out = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .expect("status");
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// The openids `status --unknown` lists.
    fn unknown(&self) -> BTreeSet<String> {
        let out = self
            .wxmass(0)
            .args(["status", "shipped", "--unknown"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .expect("status --unknown");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').next())
            .map(str::to_owned)
            .collect()
    }

    fn worker(&self, n: usize, clock_offset: i64) -> Killed {
        self.worker_with_lease(n, clock_offset, 2)
    }

    /// A worker whose claims last `lease` seconds (short, for takeovers
    /// soon after a kill).
    fn worker_with_lease(&self, n: usize, clock_offset: i64, lease: u32) -> Killed {
        let log =
            std::fs::File::create(self.home.path().join(format!("worker-{n}.log"))).expect("log");
        let lease = lease.to_string();
        Killed(
            self.wxmass(clock_offset)
                .args([
                    "worker",
                    "--once",
                    "--campaign",
                    "shipped",
                    "--lease",
                    &lease,
                ])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("worker"),
        )
    }

    fn logs(&self, workers: usize) -> String {
        (1..=workers)
            .map(|n| {
                std::fs::read_to_string(self.home.path().join(format!("worker-{n}.log")))
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Each follower's count of messages on `channel`, from WeChat's ledger.
    fn ledger(&self, channel: &str, followers: u32) -> BTreeMap<String, u64> {
        let mut got = BTreeMap::new();
        if channel == "template" {
            let messages = admin(&self.url, "GET", "/_emulator/messages", "");
            for m in messages["template"].as_array().expect("messages") {
                *got.entry(m["openid"].as_str().expect("openid").to_owned())
                    .or_default() += 1;
            }
            return got;
        }
        for openid in self.openids(followers) {
            let received = admin(
                &self.url,
                "GET",
                &format!("/_emulator/received/{openid}"),
                "",
            );
            if let Some(n) = received["channels"][channel].as_u64() {
                got.insert(openid, n);
            }
        }
        got
    }

    fn openids(&self, followers: u32) -> Vec<String> {
        let list = std::fs::read_to_string(self.home.path().join("followers.txt"))
            .expect("the follower list");
        let openids: Vec<String> = list.lines().map(str::to_owned).collect();
        assert_eq!(openids.len(), followers as usize);
        openids
    }
}

/// Sends a notice to `followers` under `chaos`; returns the run (to look
/// at) and the number of kills.
fn chaos_run(followers: u32, channel: Channel, chaos: Chaos) -> Option<(Run, u32)> {
    let run = Run::start(followers)?;
    let list = follower_list(run.home.path(), &run.url);
    let notice: Vec<String> = match channel {
        Channel::Template => {
            let template = shipped_template(run.home.path(), &run.url);
            admin(
                &run.url,
                "POST",
                "/_emulator/templates/settings",
                r#"{"per_minute": 100000000}"#,
            );
            [
                "--template",
                &template,
                "--data",
                "thing1=钢笔",
                "--data",
                "thing2=顺丰速运",
                "--data",
                "character_string3=SF1234567890",
                "--data",
                "time4=2026-12-06 10:00",
            ]
            .map(str::to_owned)
            .to_vec()
        }
        Channel::CustomerService => {
            // Every follower wrote to the account lately.
            for openid in run.openids(followers) {
                admin(
                    &run.url,
                    "POST",
                    "/_emulator/interactions",
                    &format!(r#"{{"openid": "{openid}", "kind": "message"}}"#),
                );
            }
            ["--text", "您的订单已发货"].map(str::to_owned).to_vec()
        }
    };
    let path = match channel {
        Channel::Template => "/cgi-bin/message/template/send",
        Channel::CustomerService => "/cgi-bin/message/custom/send",
    };
    admin(
        &run.url,
        "POST",
        "/_emulator/faults",
        &format!(r#"{{"paths": {{"{path}": {{"latency_ms": 2, "drop_rate": 0.05}}}}}}"#),
    );
    // The planner records the recipients and sends beside the workers.
    let mut senders = vec![Killed(
        run.wxmass(0)
            .arg("notify")
            .args(&notice)
            .arg("--openids")
            .arg(&list)
            .args(["--campaign", "shipped", "--yes"])
            .stdout(Stdio::null())
            // Kept, for a failure to say what the planner said.
            .stderr(std::fs::File::create(run.home.path().join("notify.log")).expect("notify.log"))
            .spawn()
            .expect("notify"),
    )];
    let mut started = 0;
    let mut offset = 0i64;
    for _ in 0..3 {
        started += 1;
        senders.push(run.worker(started, offset));
    }
    let done = |v: &Value| {
        v["recipients"].as_u64() == Some(u64::from(followers))
            && v["by_state"]["planned"] == 0
            && v["by_state"]["sending"] == 0
    };
    let handled = |v: &Value| {
        ["sent", "failed", "unknown"]
            .iter()
            .map(|s| v["by_state"][s].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut kills = 0u32;
    let mut pick = 11u64;
    loop {
        let now = run.status(false);
        if done(&now) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the notice never completed: {now}\n{}\nnotify: {}",
            run.logs(started),
            std::fs::read_to_string(run.home.path().join("notify.log")).unwrap_or_default()
        );
        let step = u64::from(followers) / 14;
        if kills < 10 && handled(&now) >= step * (u64::from(kills) + 1) {
            match chaos {
                Chaos::OneAtATime => {
                    pick = pick.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let live: Vec<usize> = (0..senders.len())
                        .filter(|&i| senders[i].running())
                        .collect();
                    if let Some(&victim) = live.get((pick >> 33) as usize % live.len().max(1)) {
                        let _ = senders[victim].0.kill(); // SIGKILL
                        let _ = senders[victim].0.wait();
                        started += 1;
                        senders[victim] = run.worker(started, offset);
                        kills += 1;
                    }
                }
                Chaos::ElevenMinutesLater => {
                    for s in &mut senders {
                        let _ = s.0.kill(); // SIGKILL
                        let _ = s.0.wait();
                    }
                    admin(
                        &run.url,
                        "POST",
                        "/_emulator/clock",
                        r#"{"advance_seconds": 660}"#,
                    );
                    offset += 660;
                    senders.clear();
                    for _ in 0..3 {
                        started += 1;
                        senders.push(run.worker(started, offset));
                    }
                    kills += 1;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(kills >= 8, "the notice finished after {kills} kills");
    let by = Instant::now() + Duration::from_secs(60);
    for s in &mut senders {
        while s.running() {
            assert!(
                Instant::now() < by,
                "a sender never ended\n{}",
                run.logs(started)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    eprintln!(
        "{kills} kills, {started} workers started: {}",
        run.status(false)
    );
    Some((run, kills))
}

#[cfg(unix)]
#[test]
fn a_template_notice_to_50000_through_ten_kills_reaches_each_follower_once() {
    const FOLLOWERS: u32 = 50_000;
    let Some((run, _)) = chaos_run(FOLLOWERS, Channel::Template, Chaos::OneAtATime) else {
        return;
    };
    let got = run.ledger("template", FOLLOWERS);
    assert_eq!(got.len(), FOLLOWERS as usize, "every follower got it");
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(twice.is_empty(), "some got it twice: {twice:?}");
    let status = run.status(false);
    assert_eq!(status["by_state"]["sent"], FOLLOWERS, "{status}");
}

#[cfg(unix)]
#[test]
fn a_template_notice_restarted_eleven_minutes_later_reports_exactly_who_got_nothing() {
    const FOLLOWERS: u32 = 50_000;
    let Some((run, _)) = chaos_run(FOLLOWERS, Channel::Template, Chaos::ElevenMinutesLater) else {
        return;
    };
    let got = run.ledger("template", FOLLOWERS);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(twice.is_empty(), "some got it twice: {twice:?}");
    let nothing: BTreeSet<String> = run
        .openids(FOLLOWERS)
        .into_iter()
        .filter(|o| !got.contains_key(o))
        .collect();
    // Every message WeChat took reports back (to `serve`, on the
    // emulator's clock: moved on so that every report is due); joined, the
    // reports settle the unknown whose request did arrive.
    admin(
        &run.url,
        "POST",
        "/_emulator/clock",
        r#"{"advance_seconds": 61}"#,
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut status = run.status(true);
    loop {
        let unknown = status["by_state"]["unknown"].as_u64().unwrap_or(0);
        if unknown == nothing.len() as u64 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
        status = run.status(true);
    }
    eprintln!("{} followers got nothing: {status}", nothing.len());
    let unknown = run.unknown();
    if unknown != nothing {
        let pushes = admin(&run.url, "GET", "/_emulator/pushes", "");
        let pushes = pushes["pushes"].as_array().cloned().unwrap_or_default();
        let given_up: Vec<&Value> = pushes
            .iter()
            .filter(|p| {
                p["event"] == "TEMPLATESENDJOBFINISH" && p["attempt"] == 3 && p["accepted"] == false
            })
            .collect();
        eprintln!(
            "{} template pushes, {} given up after 3 attempts, e.g. {:?}",
            pushes
                .iter()
                .filter(|p| p["event"] == "TEMPLATESENDJOBFINISH")
                .count(),
            given_up.len(),
            given_up.first()
        );
        let extra: Vec<_> = unknown.difference(&nothing).take(3).collect();
        let missing: Vec<_> = nothing.difference(&unknown).take(3).collect();
        eprintln!("unknown but got it: {extra:?}; got nothing but not unknown: {missing:?}");
    }
    assert_eq!(unknown, nothing, "unknown is exactly who got nothing");
    assert_eq!(
        status["by_state"]["sent"].as_u64().unwrap_or(0),
        got.len() as u64,
        "sent is exactly who got it: {status}"
    );
}

#[cfg(unix)]
#[test]
fn a_customer_service_notice_through_ten_kills_is_never_sent_twice() {
    const FOLLOWERS: u32 = 10_000;
    let Some((run, _)) = chaos_run(FOLLOWERS, Channel::CustomerService, Chaos::OneAtATime) else {
        return;
    };
    let got = run.ledger("custom", FOLLOWERS);
    let twice: Vec<_> = got.iter().filter(|(_, n)| **n > 1).take(5).collect();
    assert!(twice.is_empty(), "some got it twice: {twice:?}");
    let unknown = run.unknown();
    let nothing: BTreeSet<String> = run
        .openids(FOLLOWERS)
        .into_iter()
        .filter(|o| !got.contains_key(o))
        .collect();
    let unreported: Vec<_> = nothing.difference(&unknown).take(5).collect();
    assert!(
        unreported.is_empty(),
        "followers who got nothing and are not reported unknown: {unreported:?}"
    );
    let status = run.status(false);
    // WeChat reports nothing back for customer-service messages: an
    // unknown recipient whose request arrived stays unknown.
    eprintln!(
        "{} got nothing, {} unknown (the rest of them got it): {status}",
        nothing.len(),
        unknown.len()
    );
    assert_eq!(
        status["by_state"]["sent"].as_u64().unwrap_or(0) + unknown.len() as u64,
        u64::from(FOLLOWERS),
        "{status}"
    );
}

/// Three workers and the planner on one PostgreSQL stop together at a
/// daily quota of 30,000: WeChat's ledger shows 30,000 and not one call
/// more, since every worker takes its calls from the count the store keeps.
#[cfg(unix)]
#[test]
fn three_workers_stop_together_at_the_daily_quota() {
    const FOLLOWERS: u32 = 40_000;
    const DAILY: u64 = 30_000;
    let Some(run) = Run::start(FOLLOWERS) else {
        return;
    };
    let list = follower_list(run.home.path(), &run.url);
    let template = shipped_template(run.home.path(), &run.url);
    admin(
        &run.url,
        "POST",
        "/_emulator/templates/settings",
        &format!(r#"{{"per_minute": 100000000, "daily_limit": {DAILY}}}"#),
    );
    let planner = run
        .wxmass(0)
        .args(["notify", "--template", &template])
        .args(["--data", "thing1=钢笔", "--data", "thing2=顺丰速运"])
        .args([
            "--data",
            "character_string3=SF1234567890",
            "--data",
            "time4=2026-12-06 10:00",
        ])
        .arg("--openids")
        .arg(&list)
        .args(["--campaign", "shipped", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("notify");
    // Nobody is killed here: a lease long enough that no worker takes a
    // chunk from a live one (a takeover resends with the key, which WeChat
    // answers without delivering, but counts as a call).
    let mut workers: Vec<Killed> = (1..=3).map(|n| run.worker_with_lease(n, 0, 60)).collect();
    let out = planner.wait_with_output().expect("notify");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "notify cannot finish today: {said}");
    assert!(said.contains("daily quota"), "{said}");
    assert!(said.contains("rerun the same command after"), "{said}");
    let by = Instant::now() + Duration::from_secs(120);
    for w in &mut workers {
        while w.running() {
            assert!(Instant::now() < by, "a worker went on\n{}", run.logs(3));
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let stats = admin(&run.url, "GET", "/_emulator/stats", "");
    assert_eq!(
        stats["calls"]["/cgi-bin/message/template/send"], DAILY,
        "{stats}"
    );
    assert_eq!(run.ledger("template", FOLLOWERS).len() as u64, DAILY);
    let status = run.status(false);
    assert_eq!(status["by_state"]["sent"], DAILY, "{status}");
    assert_eq!(
        status["by_state"]["planned"],
        u64::from(FOLLOWERS) - DAILY,
        "{status}"
    );
}
