//! The `wxmass-emulator` binary: its first line, its flags, its errors.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Emulator(Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Emulator, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wxmass-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the emulator");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    (Emulator(child), line.trim_end().to_owned())
}

#[tokio::test]
async fn prints_its_address_and_serves() {
    let (_emu, line) = spawn(&[
        "--listen",
        "127.0.0.1:0",
        "--followers",
        "1234",
        "--tags",
        "2",
        "--appid",
        "wx1111222233334444",
        "--secret",
        "0123456789abcdef0123456789abcdef",
    ]);
    let base = line
        .strip_prefix("wxmass-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    assert!(base.starts_with("http://127.0.0.1:"));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .get(format!("{base}/cgi-bin/token"))
        .query(&[
            ("grant_type", "client_credential"),
            ("appid", "wx1111222233334444"),
            ("secret", "0123456789abcdef0123456789abcdef"),
        ])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let token = token["access_token"].as_str().expect("token");
    let users: serde_json::Value = http
        .get(format!("{base}/cgi-bin/user/get"))
        .query(&[("access_token", token)])
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(users["total"], 1234);
}

#[test]
fn bad_flags_are_explained() {
    let out = Command::new(env!("CARGO_BIN_EXE_wxmass-emulator"))
        .args([
            "--callback-mode",
            "safe",
            "--callback-url",
            "http://127.0.0.1:9/",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--callback-aes-key"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_wxmass-emulator"))
        .args(["--callback-aes-key", "short"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let help = Command::new(env!("CARGO_BIN_EXE_wxmass-emulator"))
        .arg("--help")
        .output()
        .expect("run");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Example:") && help.contains("--job-delay-ms"));
}
