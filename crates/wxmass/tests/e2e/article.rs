//! `--article`: Markdown files to a sent mpnews message against the
//! emulator, each picture uploaded once; `article render` in a real browser.

use crate::common;

use std::path::Path;

use common::{admin, emulator, follower_list, picture, success_json, wxmass};
use predicates::prelude::*;
use serde_json::Value;

fn two_articles(dir: &Path) {
    std::fs::create_dir_all(dir.join("pics")).expect("dir");
    picture(&dir.join("a.png"), [200, 40, 40]);
    picture(&dir.join("b.png"), [40, 40, 200]);
    picture(&dir.join("pics/one.png"), [10, 200, 10]);
    picture(&dir.join("pics/shared.png"), [200, 200, 10]);
    picture(&dir.join("pics/three.jpg"), [10, 200, 200]);
    std::fs::write(
        dir.join("a.md"),
        "---\ntitle: First article\nauthor: Team\ncover: a.png\n---\n# One\n\n![one](pics/one.png)\n\nText with a [link](https://example.com).\n\n![shared](pics/shared.png)\n",
    )
    .expect("a.md");
    std::fs::write(
        dir.join("b.md"),
        "---\ntitle: Second article\ncover: b.png\ndigest: The second one\n---\n![shared again](pics/shared.png)\n\n![three](pics/three.jpg)\n",
    )
    .expect("b.md");
}

fn calls(url: &str) -> Value {
    admin(url, "GET", "/_emulator/stats", "")["calls"].clone()
}

fn count(calls: &Value, path: &str) -> u64 {
    calls[path].as_u64().unwrap_or(0)
}

#[test]
fn two_articles_upload_each_picture_once_and_a_rerun_uploads_nothing() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let a = dir.join("a.md");
    let b = dir.join("b.md");
    let send = |campaign: &str| {
        let mut cmd = wxmass(home.path(), &url);
        cmd.args(["send", "--article"])
            .arg(&a)
            .arg("--article")
            .arg(&b)
            .args(["--tag", "100", "--campaign", campaign, "--json"]);
        cmd
    };
    let out = success_json(&mut send("news-1"));
    assert_eq!(out["batches"][0]["status"], "SEND_SUCCESS", "{out}");
    let after_first = calls(&url);
    assert_eq!(
        count(&after_first, "/cgi-bin/media/upload"),
        2,
        "two thumbs: {after_first}"
    );
    assert_eq!(
        count(&after_first, "/cgi-bin/media/uploadimg"),
        3,
        "three pictures: {after_first}"
    );
    assert_eq!(count(&after_first, "/cgi-bin/media/uploadnews"), 1);

    // Every picture URL was rewritten to an uploaded one.
    let jobs = admin(&url, "GET", "/_emulator/jobs", "")["jobs"].clone();
    let media_id = jobs[0]["media_id"].as_str().expect("media_id").to_owned();
    let news = admin(&url, "GET", &format!("/_emulator/news/{media_id}"), "");
    let articles = news["articles"].as_array().expect("articles");
    assert_eq!(articles.len(), 2);
    assert_eq!(articles[0]["title"], "First article");
    assert_eq!(articles[1]["digest"], "The second one");
    let mut sources = Vec::new();
    for article in articles {
        assert_eq!(
            article["filtered_images"],
            serde_json::json!([]),
            "{article}"
        );
        let html = article["content"].as_str().expect("content");
        assert!(!html.contains("<script") && !html.contains("<a "), "{html}");
        sources.extend(
            html.split("<img src=\"")
                .skip(1)
                .map(|s| s.split('"').next().unwrap_or_default().to_owned()),
        );
    }
    assert_eq!(sources.len(), 4, "{sources:?}");
    assert!(
        sources
            .iter()
            .all(|s| s.starts_with("http://mmbiz.qpic.cn/")),
        "{sources:?}"
    );
    assert_eq!(sources[1], sources[2], "the shared picture has one URL");

    // The same command again: already sent, nothing uploaded.
    send("news-1")
        .assert()
        .success()
        .stdout(predicate::str::contains("already_sent"));
    // Another campaign with the same articles: sent, still nothing uploaded.
    send("news-2").assert().success();
    let after = calls(&url);
    for path in [
        "/cgi-bin/media/upload",
        "/cgi-bin/media/uploadimg",
        "/cgi-bin/media/uploadnews",
    ] {
        assert_eq!(
            count(&after, path),
            count(&after_first, path),
            "{path}: {after}"
        );
    }
    assert_eq!(admin(&url, "GET", "/_emulator/stats", "")["jobs"], 2);
}

#[test]
fn drafts_and_previews() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let a = dir.join("a.md");
    wxmass(home.path(), &url)
        .args(["send", "--draft", "--article"])
        .arg(&a)
        .args(["--tag", "100"])
        .assert()
        .success();
    let after = calls(&url);
    assert_eq!(count(&after, "/cgi-bin/draft/add"), 1, "{after}");
    assert_eq!(
        count(&after, "/cgi-bin/material/add_material"),
        1,
        "a permanent thumb: {after}"
    );
    assert_eq!(count(&after, "/cgi-bin/media/uploadnews"), 0);

    let openid = admin(&url, "GET", "/_emulator/jobs", "")["jobs"][0].clone();
    assert_eq!(openid["msgtype"], "mpnews");
    let list = follower_list(home.path(), &url);
    let to = std::fs::read_to_string(&list).expect("list");
    let to = to.lines().next().expect("a follower");
    wxmass(home.path(), &url)
        .args(["preview", "--article"])
        .arg(&a)
        .args(["--to", to])
        .assert()
        .success()
        .stdout(predicate::str::contains("preview sent"));
    // The preview reused the pictures and uploaded a temporary thumb.
    let after_preview = calls(&url);
    assert_eq!(count(&after_preview, "/cgi-bin/media/uploadimg"), 2);
    assert_eq!(count(&after_preview, "/cgi-bin/media/upload"), 1);
    assert_eq!(count(&after_preview, "/cgi-bin/message/mass/preview"), 1);
}

#[test]
fn bad_articles_are_refused_before_any_upload() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let refuse = |file: &str, text: &str, expected: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).expect("write");
        wxmass(home.path(), &url)
            .args(["send", "--article"])
            .arg(&path)
            .args(["--tag", "100"])
            .assert()
            .failure()
            .stderr(predicate::str::contains(expected));
    };
    refuse(
        "long.md",
        &format!("---\ncover: a.png\ntitle: {}\n---\nbody\n", "长".repeat(40)),
        "long.md:3: title has 40 characters; WeChat takes 32",
    );
    refuse(
        "remote.md",
        "---\ntitle: t\ncover: a.png\n---\nok\n\n![web](https://example.com/x.png)\n",
        "remote.md:7: https://example.com/x.png",
    );
    refuse(
        "remote.md",
        "---\ntitle: t\ncover: a.png\n---\n![web](https://example.com/x.png)\n",
        "--fetch-remote-images",
    );
    refuse(
        "missing.md",
        "---\ntitle: t\ncover: a.png\n---\n\n![gone](pics/gone.png)\n",
        "missing.md:6: cannot read the picture",
    );
    refuse(
        "nocover.md",
        "---\ntitle: t\n---\nbody\n",
        "add `cover: cover.jpg`",
    );
    refuse(
        "badcover.md",
        "---\ntitle: t\ncover: a.md\n---\nbody\n",
        "badcover.md:3: the cover a.md must be a JPEG or PNG",
    );
    let nine: Vec<String> = (0..9).map(|_| "--article".to_owned()).collect();
    let mut cmd = wxmass(home.path(), &url);
    cmd.arg("send");
    for flag in &nine {
        cmd.arg(flag).arg(dir.join("a.md"));
    }
    cmd.args(["--tag", "100"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("1 to 8 articles; 9 given"));
    let after = calls(&url);
    for path in [
        "/cgi-bin/media/upload",
        "/cgi-bin/media/uploadimg",
        "/cgi-bin/media/uploadnews",
    ] {
        assert_eq!(count(&after, path), 0, "{path}: {after}");
    }
}

/// Serves one file over HTTP on loopback, for `--fetch-remote-images`.
fn serve_once(body: Vec<u8>) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 2048];
            let _ = stream.read(&mut request);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/remote.png")
}

#[test]
fn remote_pictures_are_fetched_only_when_asked() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let remote = dir.join("remote.png");
    picture(&remote, [1, 2, 3]);
    let picture_url = serve_once(std::fs::read(&remote).expect("read"));
    let post = dir.join("web.md");
    std::fs::write(
        &post,
        format!("---\ntitle: From the web\ncover: a.png\n---\n![web]({picture_url})\n"),
    )
    .expect("write");
    wxmass(home.path(), &url)
        .args(["send", "--article"])
        .arg(&post)
        .args(["--tag", "100", "--fetch-remote-images"])
        .assert()
        .success();
    assert_eq!(count(&calls(&url), "/cgi-bin/media/uploadimg"), 1);
}

/// Finds Debian's Chromium (installed by .ci/run).
fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .map(str::to_owned)
}

#[test]
fn the_rendered_page_loads_every_picture_in_a_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("WXMASS_REQUIRE_CHROMIUM").is_none(),
            "WXMASS_REQUIRE_CHROMIUM is set but no chromium was found"
        );
        eprintln!("skipped: no chromium on this machine");
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let page = home.path().join("page.html");
    let out = success_json(
        wxmass(home.path(), "http://127.0.0.1:9")
            .args(["article", "render"])
            .arg(dir.join("a.md"))
            .arg("--out")
            .arg(&page)
            .arg("--json"),
    );
    assert_eq!(out["pictures"], 2);

    // A checker page loads the article in a phone-wide frame and reports
    // what the browser saw.
    let check = home.path().join("check.html");
    std::fs::write(
        &check,
        r#"<!DOCTYPE html><html><body><pre id="result">pending</pre>
<iframe id="f" src="page.html" style="width:390px;height:1600px;border:0"></iframe>
<script>
window.addEventListener('load', () => {
  const doc = document.getElementById('f').contentDocument;
  const images = [...doc.images];
  const title = doc.getElementById('title');
  document.getElementById('result').textContent = JSON.stringify({
    images: images.length,
    loaded: images.filter(i => i.complete && i.naturalWidth > 0).length,
    title: title ? title.textContent : null,
    title_height: title ? title.getBoundingClientRect().height : 0,
    width: doc.documentElement.scrollWidth,
  });
});
</script></body></html>"#,
    )
    .expect("check page");
    let run = |args: &[&str], target: &Path| {
        let output = std::process::Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .args([
                "--allow-file-access-from-files",
                "--virtual-time-budget=10000",
            ])
            .args(args)
            .arg(format!("file://{}", target.display()))
            .output()
            .expect("run chromium");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let dom = run(&["--dump-dom"], &check);
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .expect("result");
    let seen: Value = serde_json::from_str(&result.replace("&amp;", "&"))
        .unwrap_or_else(|e| panic!("{e}: {result}"));
    // The cover and the two pictures of the body, all loaded.
    assert_eq!(seen["images"], 3, "{seen}");
    assert_eq!(seen["loaded"], 3, "{seen}");
    assert_eq!(seen["title"], "First article", "{seen}");
    assert!(
        seen["title_height"].as_f64().is_some_and(|h| h > 10.0),
        "{seen}"
    );
    assert!(
        seen["width"].as_f64().is_some_and(|w| w <= 390.0),
        "no sideways scrolling: {seen}"
    );

    // A screenshot at phone width (docs/article-preview.png is one).
    let shot = home.path().join("shot.png");
    run(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=390,1400",
        ],
        &page,
    );
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let decoded = image::load_from_memory(&png).expect("decodes");
    assert_eq!(decoded.width(), 390);
    if let Some(target) = std::env::var_os("WXMASS_UPDATE_SCREENSHOT") {
        std::fs::copy(&shot, target).expect("copy screenshot");
    }
}

/// `wxmass stats`: a campaign of two articles, three days on, as a table a
/// marketer reads (the same twice over), as CSV a spreadsheet opens (a BOM,
/// a row per article and day) and as JSON; a text campaign is refused.
#[test]
fn stats_show_how_the_articles_were_read() {
    use wxmass_api::api::datacube::Date;
    let (_emu, url) = emulator(300, &["--seed", "5"]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let mut send = wxmass(home.path(), &url);
    send.args(["send", "--article"])
        .arg(dir.join("a.md"))
        .arg("--article")
        .arg(dir.join("b.md"))
        .args(["--tag", "100", "--campaign", "news", "--json"]);
    let sent = success_json(&mut send);
    let delivered = sent["batches"][0]["report"]["sent_count"].as_u64();
    let now = admin(&url, "GET", "/_emulator/clock", "")["now"]
        .as_i64()
        .expect("now");
    let day = Date::of_unix(now);
    let later = day.plus(3);
    let advance = format!(r#"{{"advance_seconds": {}}}"#, later.unix_at(9) - now);
    admin(&url, "POST", "/_emulator/clock", &advance);
    let today = later.to_string();
    let stats = |extra: &[&str]| {
        let out = wxmass(home.path(), &url)
            .args(["stats", "news", "--today", &today])
            .args(extra)
            .output()
            .expect("stats");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8")
    };
    let table = stats(&[]);
    assert_eq!(table, stats(&[]), "the same figures twice");
    for expected in [
        "Campaign news: 2 article(s)",
        "1 First article",
        "2 Second article",
        "READ RATE",
        "Readers by day",
        &day.to_string(),
        "conversation",
    ] {
        assert!(table.contains(expected), "{expected:?} not in\n{table}");
    }
    let csv = stats(&["--csv"]);
    assert!(
        csv.starts_with("\u{feff}article,title,date,readers_that_day"),
        "{csv}"
    );
    let rows: Vec<&str> = csv.trim_end().split("\r\n").collect();
    assert_eq!(rows.len(), 1 + 2 * 3, "two articles, three days: {csv}");
    assert!(
        rows[1].starts_with(&format!("1,First article,{day},")),
        "{csv}"
    );
    let json: Value = serde_json::from_str(&stats(&["--json"])).expect("json");
    let first = &json["articles"][0];
    assert!(first["readers"].as_u64().is_some_and(|n| n > 0), "{json}");
    if let Some(delivered) = delivered {
        assert_eq!(first["delivered"].as_u64(), Some(delivered), "{json}");
    }
    assert!(
        first["read_rate"]
            .as_f64()
            .is_some_and(|r| r > 0.0 && r < 1.0)
    );

    // The account over 23 days: walked in WeChat's spans (getuserread 3
    // days a call, the follower endpoints 7), the send day's readers in it.
    let from = day.plus(-20).to_string();
    let to = later.plus(-1).to_string();
    let account = |extra: &[&str]| {
        let mut cmd = wxmass(home.path(), &url);
        cmd.args(["stats", "account", "--from", &from, "--to", &to])
            .args(["--today", &today])
            .args(extra);
        cmd
    };
    let json = success_json(&mut account(&["--json"]));
    let days = json["days"].as_array().expect("days");
    assert_eq!(days.len(), 23, "{json}");
    let sent_day = days
        .iter()
        .find(|d| d["date"] == day.to_string())
        .expect("the send day");
    assert!(
        sent_day["readers"].as_u64().is_some_and(|n| n > 0),
        "{json}"
    );
    assert!(
        days[22]["followers"].as_u64().is_some_and(|n| n >= 300),
        "{json}"
    );
    let calls = admin(&url, "GET", "/_emulator/stats", "")["calls"].clone();
    assert_eq!(calls["/datacube/getuserread"], 8, "{calls}");
    assert_eq!(calls["/datacube/getusercumulate"], 4, "{calls}");
    assert_eq!(calls["/datacube/getusersummary"], 4, "{calls}");
    let table = account(&[]).output().expect("stats account");
    let table = String::from_utf8(table.stdout).expect("UTF-8");
    assert!(
        table.contains("FOLLOWERS") && table.contains(&to),
        "{table}"
    );
    let csv = account(&["--csv"]).output().expect("stats account --csv");
    let csv = String::from_utf8(csv.stdout).expect("UTF-8");
    assert!(csv.starts_with("\u{feff}date,followers,new,left"), "{csv}");
    assert_eq!(csv.trim_end().split("\r\n").count(), 24, "{csv}");
    wxmass(home.path(), &url)
        .args(["stats", "account", "--to", &today, "--today", &today])
        .assert()
        .failure()
        .stderr(predicate::str::contains("up to yesterday"));

    let mut text = wxmass(home.path(), &url);
    text.args([
        "send",
        "--text",
        "hello",
        "--tag",
        "100",
        "--campaign",
        "hello",
        "--json",
    ]);
    success_json(&mut text);
    wxmass(home.path(), &url)
        .args(["stats", "hello", "--today", &today])
        .assert()
        .failure()
        .stderr(predicate::str::contains("articles only"));
}

/// `wxmass comments`: opened on the second article, followers' comments
/// listed, one replied to and featured, one deleted; the article is named
/// from 1 and acting on a campaign of two needs `--article`.
#[test]
fn comments_are_listed_replied_featured_and_deleted() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let mut send = wxmass(home.path(), &url);
    send.args(["send", "--article"])
        .arg(dir.join("a.md"))
        .arg("--article")
        .arg(dir.join("b.md"))
        .args(["--tag", "100", "--campaign", "news", "--json"]);
    let sent = success_json(&mut send);
    let data_id = sent["batches"][0]["msg_data_id"].as_i64();
    let status = success_json(wxmass(home.path(), &url).args(["status", "news", "--json"]));
    let data_id = data_id
        .or_else(|| status["batches"][0]["msg_data_id"].as_i64())
        .expect("msg_data_id");
    let comments = |args: &[&str]| {
        let mut cmd = wxmass(home.path(), &url);
        cmd.args(["comments", "news"]).args(args);
        cmd
    };
    comments(&["--open"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("--article N"));
    comments(&["--article", "2", "--open"]).assert().success();
    for text in ["好文章", "second thoughts"] {
        let body = format!(r#"{{"msg_data_id": {data_id}, "index": 1, "content": "{text}"}}"#);
        assert!(admin(&url, "POST", "/_emulator/comments", &body)["user_comment_id"].is_i64());
    }
    let listed = success_json(comments(&["--json"]).arg("--article").arg("2"));
    let ids: Vec<i64> = listed
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert_eq!(listed[0]["content"], "好文章");
    assert_eq!(listed[0]["article"], 2);
    let first = ids[0].to_string();
    let second = ids[1].to_string();
    comments(&["--article", "2", "--reply", &first, "谢谢！"])
        .assert()
        .success();
    comments(&["--article", "2", "--elect", &first])
        .assert()
        .success();
    comments(&["--article", "2", "--delete", &second])
        .assert()
        .success();
    let table = comments(&["--article", "2"]).output().expect("list");
    let table = String::from_utf8(table.stdout).expect("UTF-8");
    assert!(
        table.contains("好文章") && table.contains("↳ 谢谢！") && table.contains("yes"),
        "{table}"
    );
    assert!(!table.contains("second thoughts"), "{table}");
    comments(&["--article", "3", "--open"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("1 to 2"));
}

/// `wxmass publish`: two articles saved as a draft, submitted once and
/// followed to the end; a rerun follows the same publish; a run whose
/// submit went through unrecorded (the journal's row removed, as a kill
/// between WeChat's answer and the record would leave it) submits nothing
/// again; a rejected publish fails with the reason.
#[test]
fn publish_submits_once_and_follows_to_the_end() {
    let (_emu, url) = emulator(20, &[]);
    let home = tempfile::tempdir().expect("home");
    let dir = home.path().join("posts");
    two_articles(&dir);
    let publish = |extra: &[&str]| {
        let mut cmd = wxmass(home.path(), &url);
        cmd.args(["publish", "--article"])
            .arg(dir.join("a.md"))
            .arg("--article")
            .arg(dir.join("b.md"))
            .args(["--yes", "--json"])
            .args(extra);
        cmd
    };
    let first = success_json(&mut publish(&[]));
    assert_eq!(first["status"], "published", "{first}");
    assert_eq!(first["told_by"], "freepublish/get", "{first}");
    assert_eq!(first["article_urls"].as_array().map(Vec::len), Some(2));
    assert!(first["msg_data_id"].as_i64().is_some(), "{first}");
    let again = success_json(&mut publish(&[]));
    assert_eq!(again["publish_id"], first["publish_id"], "{again}");
    assert_eq!(count(&calls(&url), "/cgi-bin/freepublish/submit"), 1);
    assert_eq!(count(&calls(&url), "/cgi-bin/draft/add"), 1);

    // The submit went through, its record did not.
    let journal = rusqlite::Connection::open(home.path().join("journal.db")).expect("db");
    journal
        .execute("DELETE FROM wxmass_publishes", [])
        .expect("forget the publish");
    drop(journal);
    publish(&[])
        .assert()
        .failure()
        .stderr(predicate::str::contains("were published already"));
    assert_eq!(count(&calls(&url), "/cgi-bin/freepublish/submit"), 1);

    // New words, and review says no.
    admin(
        &url,
        "POST",
        "/_emulator/publish_outcome",
        r#"{"status": 4}"#,
    );
    std::fs::write(
        dir.join("b.md"),
        "---\ntitle: Second article, again\ncover: b.png\n---\nOther words.\n",
    )
    .expect("b.md");
    publish(&[])
        .assert()
        .failure()
        .stderr(predicate::str::contains("rejected by review"));
    assert_eq!(count(&calls(&url), "/cgi-bin/freepublish/submit"), 2);
    let submitted = success_json(&mut publish(&["--no-wait"]));
    assert_eq!(count(&calls(&url), "/cgi-bin/freepublish/submit"), 2);
    assert!(submitted["publish_id"].as_i64().is_some(), "{submitted}");
}
