//! `wxmass demo`, and `wxmass serve` recording the emulator's reports into
//! the journal that `send` writes.

mod common;

use common::spawn;

use assert_cmd::Command;
use serde_json::Value;

#[test]
fn demo_runs_a_whole_campaign_offline() {
    let out = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["demo", "--json"])
        .env_clear()
        .assert()
        .success();
    let report: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
    let campaigns = report.as_array().expect("campaigns");
    assert_eq!(campaigns.len(), 3);
    let batches: Vec<&Value> = campaigns
        .iter()
        .flat_map(|c| c["batches"].as_array().expect("batches"))
        .collect();
    assert_eq!(batches.len(), 5, "image, text, and a list in three batches");
    for b in batches {
        assert_eq!(b["status"], "SEND_SUCCESS");
        assert!(
            b["sent_count"].as_i64().is_some_and(|n| n > 0),
            "every report recorded: {b}"
        );
    }
    let text = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .arg("demo")
        .env_clear()
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&text.get_output().stdout).contains("DELIVERED"));
}

#[test]
fn serve_records_reports_against_their_batches() {
    let home = tempfile::tempdir().expect("home");
    let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    let (_serve, serve_url) = spawn(
        Some(home.path()),
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--token",
            "servetest",
            "--aes-key",
            key,
        ],
    );
    let (_emu, emu_url) = spawn(
        Some(home.path()),
        &[
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--followers",
            "50",
            "--tags",
            "1",
            "--job-delay-ms",
            "50",
            "--callback-url",
            &serve_url,
            "--callback-token",
            "servetest",
            "--callback-aes-key",
            key,
            "--callback-mode",
            "safe",
        ],
    );
    let wxmass = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
        cmd.env_clear()
            .env("WXMASS_HOME", home.path())
            .env("WXMASS_APPID", "wx5e1f0c2a9b84d37e")
            .env("WXMASS_SECRET", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")
            .env("WXMASS_API_BASE", &emu_url);
        cmd
    };
    wxmass()
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
        let out = wxmass().args(["status", "r1", "--json"]).assert().success();
        let status: Value = serde_json::from_slice(&out.get_output().stdout).expect("json");
        if status["batches"][0]["sent_count"].as_i64() == Some(50) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the report never reached the journal");
}
