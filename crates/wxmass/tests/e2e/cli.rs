//! The `wxmass` binary against an emulator started with `wxmass emulator`:
//! real processes on loopback, a private WXMASS_HOME per test.

use crate::common;

use common::{APPID, SECRET, admin, emulator, json, success_json};

use assert_cmd::Command;
use predicates::prelude::*;

struct Home {
    dir: tempfile::TempDir,
    url: String,
}

impl Home {
    fn new(url: &str) -> Home {
        Home {
            dir: tempfile::tempdir().expect("home"),
            url: url.to_owned(),
        }
    }

    /// `wxmass` with this home and the emulator's account in the environment.
    fn cmd(&self) -> Command {
        common::wxmass(self.dir.path(), &self.url)
    }

    /// `wxmass` with only WXMASS_HOME: settings must come from the profile.
    fn bare(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
        cmd.env_clear().env("WXMASS_HOME", self.dir.path());
        cmd
    }
}

#[test]
fn init_writes_a_private_profile_that_later_commands_use() {
    let (_emu, url) = emulator(10, &[]);
    let home = Home::new(&url);
    home.bare()
        .env("WXMASS_SECRET", SECRET)
        .args([
            "init",
            "--appid",
            APPID,
            "--api-base",
            &url,
            "--account-type",
            "service",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("mode 600"));
    // A second profile, with --json.
    let second = success_json(home.bare().env("WXMASS_SECRET", SECRET).args([
        "init",
        "--appid",
        APPID,
        "--name",
        "other",
        "--json",
        "--no-check",
    ]));
    assert_eq!(second["profile"], "other");
    assert!(!second.to_string().contains(SECRET), "no secret in --json");
    let config = home.dir.path().join("config.toml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&config)
                .expect("config")
                .permissions()
                .mode()
                & 0o777,
            0o600
        );
    }
    let out = home
        .bare()
        .args(["token", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v = json(&out);
    assert_eq!(v["appid"], APPID);
    assert!(v["token"].as_str().expect("masked").contains('…'));
    assert!(
        !String::from_utf8_lossy(&out).contains(SECRET),
        "no secret in --json"
    );
    // A config others can read gets a warning.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        home.bare()
            .args(["token"])
            .assert()
            .success()
            .stderr(predicate::str::contains("chmod 600"));
    }
    home.bare()
        .args(["--profile", "nope", "token"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no profile \"nope\""));
}

#[test]
fn missing_account_settings_are_explained() {
    let (_emu, url) = emulator(0, &[]);
    let home = Home::new(&url);
    home.bare()
        .arg("token")
        .assert()
        .failure()
        .stderr(predicate::str::contains("no AppID"));
    home.bare()
        .env("WXMASS_APPID", APPID)
        .arg("token")
        .assert()
        .failure()
        .stderr(predicate::str::contains("no AppSecret"));
    home.cmd()
        .env("WXMASS_SECRET", "00000000000000000000000000000000")
        .arg("token")
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "what to do: the AppSecret does not match",
        ))
        .stderr(predicate::str::contains("00000000000000000000000000000000").not());
}

#[test]
fn token_status_and_refresh() {
    let (_emu, url) = emulator(0, &[]);
    let home = Home::new(&url);
    home.cmd()
        .arg("token")
        .assert()
        .success()
        .stdout(predicate::str::contains("valid for"));
    let first = success_json(home.cmd().args(["token", "--json"]));
    let again = success_json(home.cmd().args(["token", "--json"]));
    assert_eq!(
        first["token"], again["token"],
        "the cached token is shared between runs"
    );
    let refreshed = success_json(home.cmd().args(["token", "--refresh", "--json"]));
    assert_eq!(refreshed["refreshed"], true);
}

#[test]
fn tags_commands() {
    let (_emu, url) = emulator(20, &[]);
    let home = Home::new(&url);
    home.cmd()
        .args(["tags", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("FOLLOWERS"));
    let created = success_json(home.cmd().args(["tags", "create", "北京", "--json"]));
    let id = created["id"].as_u64().expect("id").to_string();
    home.cmd()
        .args(["tags", "rename", &id, "上海"])
        .assert()
        .success()
        .stdout(predicate::str::contains("renamed"));
    let list = success_json(home.cmd().args(["tags", "list", "--json"]));
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .any(|t| t["name"] == "上海")
    );
    // Not undoable: asked first, refused without a terminal or --yes.
    home.cmd()
        .args(["tags", "delete", &id])
        .assert()
        .failure()
        .stderr(predicate::str::contains("without --yes"));
    home.cmd()
        .args(["tags", "delete", &id, "-y"])
        .assert()
        .success();
    home.cmd()
        .args(["tags", "delete", "2", "--yes"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("45058"));
    home.cmd()
        .args(["tags", "create", &"长".repeat(11)])
        .assert()
        .failure()
        .stderr(predicate::str::contains("30 bytes"));
}

#[test]
fn followers_count_list_and_file() {
    let (_emu, url) = emulator(25_000, &[]);
    let home = Home::new(&url);
    home.cmd()
        .args(["followers", "--count"])
        .assert()
        .success()
        .stdout("25000\n");
    let tagged = success_json(
        home.cmd()
            .args(["followers", "--tag", "100", "--count", "--json"]),
    );
    assert_eq!(tagged["count"], 12_500);
    let out = home.dir.path().join("all.txt");
    home.cmd()
        .args(["followers", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("wrote 25000 openids"));
    let text = std::fs::read_to_string(&out).expect("file");
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 25_000);
    assert!(lines.iter().all(|l| l.len() == 28));
    let listed = home
        .cmd()
        .args(["followers", "--tag", "101"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8_lossy(&listed).lines().count(), 12_500);
    let listed = success_json(home.cmd().args(["followers", "--tag", "101", "--json"]));
    assert_eq!(listed["count"], 12_500);
    assert_eq!(listed["openids"].as_array().map(Vec::len), Some(12_500));
}

#[test]
fn help_shows_examples_and_completions_work() {
    for args in [
        vec!["init", "--help"],
        vec!["followers", "--help"],
        vec!["tags", "create", "--help"],
        vec!["emulator", "--help"],
    ] {
        Command::new(env!("CARGO_BIN_EXE_wxmass"))
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Example"));
    }
    Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("_wxmass"));
}

#[test]
fn media_preview_mass_and_speed() {
    let (_emu, url) = emulator(30, &[]);
    let home = Home::new(&url);
    let picture = home.dir.path().join("a.png");
    std::fs::write(&picture, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").expect("write");
    let temp = success_json(
        home.cmd()
            .args(["media", "upload"])
            .arg(&picture)
            .args(["--type", "image", "--json"]),
    );
    assert!(temp["media_id"].as_str().is_some_and(|m| m.len() > 20));
    let perm = success_json(home.cmd().args(["media", "upload"]).arg(&picture).args([
        "--type",
        "image",
        "--permanent",
        "--json",
    ]));
    assert!(perm["url"].is_string());
    home.cmd()
        .args(["media", "upload"])
        .arg(&picture)
        .args(["--type", "thumb"])
        .assert()
        .failure()
        .stderr(predicate::str::contains(
            "a thumb (cover picture) must be JPEG; this file is PNG",
        ));

    let list = home.dir.path().join("f.txt");
    home.cmd()
        .args(["followers", "--out"])
        .arg(&list)
        .assert()
        .success();
    let openid = std::fs::read_to_string(&list)
        .expect("list")
        .lines()
        .next()
        .expect("one")
        .to_owned();
    home.cmd()
        .args(["preview", "--text", "hi", "--to", &openid])
        .assert()
        .success()
        .stdout(predicate::str::contains("preview sent"));
    let preview = success_json(
        home.cmd()
            .args(["preview", "--text", "hi", "--to", &openid, "--json"]),
    );
    assert_eq!(preview["previewed"], true);
    assert_eq!(preview["to"], openid.as_str());
    home.cmd()
        .args(["preview", "--image"])
        .arg(&picture)
        .args(["--wxname", "someone"])
        .assert()
        .success();
    // `--journal` holds a preview's uploads too: the second one reuses it.
    let other = home.dir.path().join("other.db");
    let uploads = || {
        admin(&url, "GET", "/_emulator/stats", "")["calls"]["/cgi-bin/material/add_material"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = uploads();
    for _ in 0..2 {
        home.cmd()
            .arg("--journal")
            .arg(&other)
            .args(["preview", "--image"])
            .arg(&picture)
            .args(["--wxname", "someone"])
            .assert()
            .success();
    }
    assert!(other.exists(), "the preview used the journal it was given");
    assert_eq!(
        uploads(),
        before + 1,
        "the second preview reused the upload"
    );
    home.cmd()
        .args(["preview", "--text", "hi", "--to", "stranger"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("40003"));

    let sent = success_json(
        home.cmd()
            .args(["send", "--text", "job", "--tag", "100", "--json"]),
    );
    let msg_id = sent["batches"][0]["msg_id"]
        .as_i64()
        .expect("msg_id")
        .to_string();
    home.cmd()
        .args(["mass", "get", &msg_id])
        .assert()
        .success()
        .stdout(predicate::str::contains("SEND_SUCCESS"));
    let status = success_json(home.cmd().args(["mass", "get", &msg_id, "--json"]));
    assert_eq!(status["status"], "SEND_SUCCESS");
    home.cmd()
        .args(["mass", "delete", &msg_id, "--yes"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("40008"))
        .stderr(predicate::str::contains(
            "only article (mpnews) and video jobs",
        ));
    home.cmd()
        .args(["mass", "get", "1"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("40059"));

    home.cmd()
        .args(["speed", "set", "3"])
        .assert()
        .success()
        .stdout(predicate::str::contains("speed 3"));
    let speed = success_json(home.cmd().args(["speed", "--json"]));
    assert_eq!(speed["realspeed"], 30);
    home.cmd().args(["speed", "set", "9"]).assert().failure();
}

/// The README's command table is `wxmass --help`'s list, word for word.
#[test]
fn the_readme_lists_the_commands_as_help_does() {
    let help = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let commands: Vec<(&str, &str)> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.trim().split_once(char::is_whitespace))
        .filter(|(name, _)| *name != "help")
        .collect();
    assert!(commands.len() > 10, "{help}");
    for (name, about) in &commands {
        let row = format!("| `{name}` | {} |", about.trim());
        assert!(readme.contains(&row), "README lacks {row}");
    }
    let rows = readme
        .lines()
        .filter(|l| l.starts_with("| `") && !l.contains("_emulator"))
        .count();
    let table_rows = readme
        .split("| command | what it does |")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .skip(2)
                .take_while(|l| l.starts_with('|'))
                .count()
        })
        .unwrap_or(0);
    assert_eq!(
        table_rows,
        commands.len(),
        "the README table has other rows ({rows} code rows in all)"
    );
}

/// `demo` and `emulator` read none of the account and journal flags, so
/// their --help does not offer them.
#[test]
fn demo_and_emulator_help_list_only_their_own_flags() {
    for (command, absent) in [
        (
            "demo",
            &[
                "--profile",
                "--appid",
                "--secret",
                "--api-base",
                "--journal",
            ][..],
        ),
        (
            "emulator",
            &["--profile", "--api-base", "--journal", "--json"][..],
        ),
    ] {
        let help = Command::new(env!("CARGO_BIN_EXE_wxmass"))
            .args([command, "--help"])
            .output()
            .expect("help");
        let help = String::from_utf8_lossy(&help.stdout).into_owned();
        for flag in absent {
            assert!(
                !help.contains(flag),
                "{command} --help offers {flag}: {help}"
            );
        }
    }
    let send = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["send", "--help"])
        .output()
        .expect("help");
    assert!(String::from_utf8_lossy(&send.stdout).contains("--api-base"));
}

#[test]
fn notify_checks_the_templates_keywords_before_recording_anyone() {
    let (_emu, url) = emulator(10, &[]);
    let home = Home::new(&url);
    let template = crate::crash::shipped_template(home.dir.path(), &url);
    let template = template.as_str();
    let keys: Vec<String> = success_json(home.cmd().args(["templates", "list", "--json"]))
        .as_array()
        .expect("templates")
        .iter()
        .find(|t| t["template_id"] == template)
        .expect("listed")["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k.as_str().expect("key").to_owned())
        .collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    home.cmd()
        .args([
            "notify",
            "--template",
            template,
            "--data",
            &format!("{}=钢笔", keys[0]),
            "--data",
            "thing9=顺丰",
            "--all",
            "--yes",
            "--campaign",
            "wrong-keys",
        ])
        .assert()
        .failure()
        .stderr(predicate::str::contains(format!(
            "--template/--data: data: {} missing and thing9 not in the template",
            keys[1..].join(", ")
        )));
    // Nothing was recorded: the campaign is not in the journal.
    home.cmd()
        .args(["status", "wrong-keys"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("no campaign"));
}
