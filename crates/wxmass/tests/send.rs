//! `wxmass send`, `status` and `campaigns` against the emulator: journalled
//! campaigns, confirmation, resume, nothing delivered twice.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command as StdCommand, Stdio};

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

struct Emulator {
    child: Child,
    url: String,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator(followers: u32) -> Emulator {
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_wxmass"))
        .args([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--tags",
            "2",
            "--job-delay-ms",
            "20",
        ])
        .args(["--followers", &followers.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the emulator");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().rsplit(' ').next().expect("url").to_owned();
    Emulator { child, url }
}

/// A blocking admin call to the emulator (curl-free: std TCP).
fn admin(emu: &Emulator, method: &str, path: &str, body: &str) -> Value {
    use std::io::{Read, Write};
    let addr = emu.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    // Chunked or not, the JSON object is between the first '{' and the last '}'.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    serde_json::from_str(&body[start..end]).unwrap_or(Value::Null)
}

fn wxmass(emu: &Emulator, home: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
    cmd.env_clear()
        .env("WXMASS_HOME", home)
        .env("WXMASS_APPID", "wx5e1f0c2a9b84d37e")
        .env("WXMASS_SECRET", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")
        .env("WXMASS_API_BASE", &emu.url);
    cmd
}

fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

#[test]
fn large_audiences_need_yes_without_a_terminal() {
    let emu = emulator(3_000);
    let home = tempfile::tempdir().expect("home");
    wxmass(&emu, home.path())
        .args(["send", "--text", "hi", "--tag", "100"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("without --yes"));
    wxmass(&emu, home.path())
        .args(["send", "--text", "hi", "--all"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("every follower"));
    let calls = admin(&emu, "GET", "/_emulator/stats", "")["calls"].clone();
    assert!(
        calls.get("/cgi-bin/message/mass/sendall").is_none(),
        "nothing was sent: {calls}"
    );
    // A dry run plans and sends nothing, and writes no campaign.
    let plan = json(
        &wxmass(&emu, home.path())
            .args(["send", "--text", "hi", "--all", "--dry-run", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["audience_size"], 3000);
    wxmass(&emu, home.path())
        .args(["campaigns", "--json"])
        .assert()
        .success()
        .stdout("[]\n");
}

#[test]
fn a_campaign_runs_once_and_a_rerun_sends_nothing() {
    let emu = emulator(100);
    let home = tempfile::tempdir().expect("home");
    let out = json(
        &wxmass(&emu, home.path())
            .args(["send", "--text", "hello", "--tag", "100", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(out["submitted"], 1);
    assert_eq!(out["batches"][0]["status"], "SEND_SUCCESS");
    wxmass(&emu, home.path())
        .args(["send", "--text", "hello", "--tag", "100"])
        .assert()
        .success()
        .stdout(predicate::str::contains("already sent"));
    let stats = admin(&emu, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 1);
    assert_eq!(stats["duplicate_deliveries"], 0);
    wxmass(&emu, home.path())
        .args(["status"])
        .assert()
        .success()
        .stdout(predicate::str::contains("SEND_SUCCESS"));
    let list = json(
        &wxmass(&emu, home.path())
            .args(["campaigns", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    wxmass(&emu, home.path())
        .args(["status", "nope"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no campaign"));
}

#[test]
fn openid_lists_go_in_batches_and_resume_after_a_failure() {
    let emu = emulator(300);
    let home = tempfile::tempdir().expect("home");
    let list = home.path().join("list.txt");
    wxmass(&emu, home.path())
        .args(["followers", "--out"])
        .arg(&list)
        .assert()
        .success();
    // Batch 1 goes out; then WeChat fails every send until the faults clear.
    let first = json(
        &wxmass(&emu, home.path())
            .args(["send", "--text", "batched", "--openids"])
            .arg(&list)
            .args([
                "--batch-size",
                "100",
                "--campaign",
                "b1",
                "--no-wait",
                "--json",
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(first["submitted"], 3);
    admin(
        &emu,
        "POST",
        "/_emulator/faults",
        r#"{"paths":{"/cgi-bin/message/mass/send":{"errcode_rate":1.0}}}"#,
    );
    wxmass(&emu, home.path())
        .args(["send", "--text", "second", "--openids"])
        .arg(&list)
        .args(["--batch-size", "100", "--campaign", "b2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("-1"));
    let status = json(
        &wxmass(&emu, home.path())
            .args(["status", "b2", "--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(status["submitted"], 0);
    assert_eq!(status["batches"][0]["state"], "submitting");
    admin(&emu, "POST", "/_emulator/faults", "{}");
    wxmass(&emu, home.path())
        .args(["send", "--text", "second", "--openids"])
        .arg(&list)
        .args(["--batch-size", "100", "--campaign", "b2"])
        .assert()
        .success()
        .stderr(predicate::str::contains("resuming campaign b2"));
    let stats = admin(&emu, "GET", "/_emulator/stats", "");
    assert_eq!(stats["jobs"], 6);
    assert_eq!(stats["deliveries"], 600);
    assert_eq!(stats["duplicate_deliveries"], 0);
    // Reusing a name for other content is refused.
    wxmass(&emu, home.path())
        .args(["send", "--text", "different", "--openids"])
        .arg(&list)
        .args(["--campaign", "b2"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("other content"));
}

#[test]
fn pictures_are_uploaded_once() {
    let emu = emulator(10);
    let home = tempfile::tempdir().expect("home");
    let picture = home.path().join("p.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    for campaign in ["p1", "p2"] {
        wxmass(&emu, home.path())
            .args(["send", "--image"])
            .arg(&picture)
            .args(["--tag", "101", "--campaign", campaign])
            .assert()
            .success();
    }
    let stats = admin(&emu, "GET", "/_emulator/stats", "");
    assert_eq!(
        stats["calls"]["/cgi-bin/material/add_material"], 1,
        "{stats}"
    );
    assert_eq!(stats["jobs"], 2);
    let not_an_image = home.path().join("x.txt");
    std::fs::write(&not_an_image, b"hello").expect("write");
    wxmass(&emu, home.path())
        .args(["send", "--image"])
        .arg(&not_an_image)
        .args(["--tag", "101"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot be sent as an image"));
}

#[test]
fn the_quota_guard_refuses_before_any_request() {
    let emu = emulator(20);
    let home = tempfile::tempdir().expect("home");
    wxmass(&emu, home.path())
        .args([
            "init",
            "--appid",
            "wx5e1f0c2a9b84d37e",
            "--account-type",
            "subscription",
        ])
        .assert()
        .success();
    wxmass(&emu, home.path())
        .args(["send", "--text", "today", "--tag", "100"])
        .assert()
        .success();
    let before = admin(&emu, "GET", "/_emulator/stats", "")["calls"].clone();
    wxmass(&emu, home.path())
        .args(["send", "--text", "again", "--tag", "101"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("one mass message a day"))
        .stderr(predicate::str::contains("Beijing time"));
    let list = home.path().join("l.txt");
    std::fs::write(&list, "oA\noB\n").expect("write");
    wxmass(&emu, home.path())
        .args(["send", "--text", "list", "--openids"])
        .arg(&list)
        .assert()
        .failure()
        .stderr(predicate::str::contains("service account"));
    let after = admin(&emu, "GET", "/_emulator/stats", "")["calls"].clone();
    assert_eq!(
        before["/cgi-bin/message/mass/sendall"],
        after["/cgi-bin/message/mass/sendall"]
    );
    assert!(after.get("/cgi-bin/message/mass/send").is_none());
}
