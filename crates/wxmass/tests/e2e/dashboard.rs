//! The dashboard in a real browser: Debian's headless Chromium driven
//! through chromedriver (WebDriver), against the real `wxmass server` and
//! the emulator. Skipped with a notice when chromium or chromedriver is
//! missing, unless WXMASS_REQUIRE_CHROMIUM=1 (CI), when that fails.
//!
//! With WXMASS_SCREENSHOTS=DIR the pages are also saved there as PNG
//! (`docs/` holds the ones the README shows).

use crate::common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use common::{AES_KEY, CALLBACK_TOKEN, PASSWORD};

/// The server's API, as an admin token sees it.
struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, answer) = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    async fn upload(&self, name: &str, data: Vec<u8>) -> Value {
        let response = self
            .http
            .post(format!("{}/api/v1/files?name={name}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(data)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status().as_u16(), 201, "upload {name}");
        let kept: Value = response.json().await.expect("file");
        json!({"path": kept["path"], "sha256": kept["sha256"]})
    }

    /// Waits until `check` holds for campaign `id`'s `what` (`""`, `/reads`).
    async fn wait(&self, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, v) = self
                .call("GET", &format!("/api/v1/campaigns/{id}{what}"), None)
                .await;
            if check(&v) {
                return v;
            }
            assert!(Instant::now() < deadline, "campaign {id}{what}: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn png(rgb: [u8; 3]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("p.png");
    common::picture(&path, rgb);
    std::fs::read(path).expect("png")
}

/// chromedriver on a free loopback port in a process group of its own,
/// which is killed when dropped: the Chromium it started goes too, even
/// when a test fails before closing its session.
struct Driver {
    proc: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.proc.id())])
            .status();
        let _ = self.proc.kill();
        let _ = self.proc.wait();
    }
}

fn chromedriver() -> Option<Driver> {
    let required = std::env::var("WXMASS_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
    let found = ["chromium", "chromedriver"].iter().all(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        assert!(
            !required,
            "WXMASS_REQUIRE_CHROMIUM=1 but chromium or chromedriver is missing (apt install chromium chromium-driver)"
        );
        eprintln!(
            "skipped: chromium and chromedriver are needed (apt install chromium chromium-driver)"
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let proc = {
        use std::os::unix::process::CommandExt as _;
        Command::new("chromedriver")
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver")
    };
    let driver = Driver {
        proc,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(driver)
}

async fn browser(driver: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--window-size=1280,900", "--lang=en-US", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update"]}),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.expect("screenshot");
    if let Ok(dir) = std::env::var("WXMASS_SCREENSHOTS") {
        std::fs::write(std::path::Path::new(&dir).join(name), &png).expect("write screenshot");
    }
}

async fn sign_in(client: &Client, base: &str, name: &str) {
    client.goto(&format!("{base}/")).await.expect("goto");
    let form = client
        .wait()
        .for_element(Locator::Css("#sign-in"))
        .await
        .expect("the sign-in form");
    form.find(Locator::Css("#name"))
        .await
        .expect("name")
        .send_keys(name)
        .await
        .expect("type");
    form.find(Locator::Css("#password"))
        .await
        .expect("password")
        .send_keys(PASSWORD)
        .await
        .expect("type");
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("click");
    // The campaigns page (its filters show when there are none yet).
    client
        .wait()
        .for_element(Locator::Css("#filter-state"))
        .await
        .expect("the campaigns after signing in");
}

/// Fails unless every control of the page has a label (a `<label for>`,
/// or `aria-label`) and can take the keyboard's focus.
async fn unlabelled(client: &Client, page: &str) {
    let missing = client
        .execute(
            "return [...document.querySelectorAll('input, select, textarea, button')]
               .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                            && !(e.tagName === 'BUTTON' && e.textContent.trim()))
               .concat([...document.querySelectorAll('input, select, textarea, button, a[href]')]
                 .filter(e => e.tabIndex < 0))
               .map(e => e.outerHTML.slice(0, 80));",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        missing,
        json!([]),
        "{page}: controls without a label or the keyboard"
    );
}

/// Fails unless everything this page loaded since it was opened (its
/// resources, its calls, itself) came from the server at `base`. Checked
/// before each sign-out, which opens the page afresh.
async fn only_the_server(client: &Client, base: &str) {
    let requests: Value = client
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href]);",
            vec![],
        )
        .await
        .expect("requests");
    let requests = requests.as_array().expect("list").clone();
    assert!(
        requests.len() > 3,
        "the page's requests were recorded: {requests:?}"
    );
    for r in &requests {
        let url = r.as_str().unwrap_or_default();
        assert!(
            url.starts_with(&format!("{base}/")),
            "a request off the server: {url}"
        );
    }
}

/// Clicks the element `css` finds.
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Signs out, back to the sign-in form.
async fn sign_out(client: &Client) {
    click(client, "#sign-out").await;
    client
        .wait()
        .for_element(Locator::Css("#sign-in"))
        .await
        .expect("signed out");
}

/// The page scrolls sideways: its content is wider than the window.
async fn scrolls_sideways(client: &Client) -> bool {
    client
        .execute(
            "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("script")
        .as_bool()
        .unwrap_or(true)
}

/// `wxmass server` (clock movable, admin alice) and an emulator of 30
/// followers pushing to it, each killed when dropped (before the server's
/// home is removed: fields drop in order).
struct Started {
    _server: common::Proc,
    _emulator: common::Proc,
    home: tempfile::TempDir,
    base: String,
    emulator_url: String,
    token: String,
}

impl Started {
    fn new() -> Started {
        let home = tempfile::tempdir().expect("home");
        let token = common::first_admin(home.path());
        let (server, base) = common::spawn(
            Some(home.path()),
            &["server", "--listen", "127.0.0.1:0", "--movable-clock"],
        );
        let callback = format!("{base}/callback/{}", common::APPID);
        let (emulator, emulator_url) = common::emulator_pushing(&callback, 30, &["--seed", "7"]);
        Started {
            home,
            _server: server,
            _emulator: emulator,
            base,
            emulator_url,
            token,
        }
    }

    /// The API as alice's token, with the emulator's account added.
    async fn api(&self) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let api = Api {
            base: self.base.clone(),
            token: self.token.clone(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client"),
        };
        api.ok(
            "POST",
            "/api/v1/accounts",
            Some(json!({"appid": common::APPID, "name": "Demo",
            "account_type": "service", "secret": common::SECRET, "callback_token": CALLBACK_TOKEN,
            "aes_key": AES_KEY, "api_base": self.emulator_url})),
        )
        .await;
        api
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Sign in; the campaigns; a finished campaign's funnel and reads chart;
/// an approver's button for the admin and none for a viewer, whose API
/// call is refused 403; an approver scheduling for tomorrow, the clocks
/// moved, and the page filling in the delivered count by itself; the main pages at 390 px with no sideways
/// scrolling; and not one request off the machine.
#[test]
fn the_dashboard_in_chromium() {
    let Some(driver) = chromedriver() else {
        return;
    };
    let started = Started::new();
    let (base, emulator_url, home) = (
        started.base.clone(),
        started.emulator_url.clone(),
        &started.home,
    );
    let runtime = runtime();
    runtime.block_on(async {
        let api = started.api().await;
        for (name, role) in [("victor", "viewer"), ("bob", "approver")] {
            api.ok("POST", "/api/v1/users", Some(json!({"name": name, "role": role, "password": PASSWORD}))).await;
        }

        // A finished article campaign, read for two days.
        let cover = api.upload("cover.png", png([7, 193, 96])).await;
        let post = api
            .upload("post.md", "---\ntitle: 秋季更新\ncover: cover.png\n---\nHello.\n".as_bytes().to_vec())
            .await;
        let article = json!({"file": post, "cover": cover, "pictures": []});
        api.ok("POST", "/api/v1/campaigns", Some(json!({"id": "autumn", "appid": common::APPID,
            "name": "Autumn update", "content": {"type": "articles", "articles": [article], "draft": false,
            "theme": null, "fetch_remote_images": false, "ignore_reprint": false},
            "audience": {"kind": "all"}}))).await;
        api.ok("POST", "/api/v1/campaigns/autumn/submit", None).await;
        let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now());
        api.ok("POST", "/api/v1/campaigns/autumn/approve", Some(json!({"send_at": now}))).await;
        api.wait("autumn", "", |c| c["state"] == "finished" && c["reported"] == 1).await;
        use wxmass_api::api::datacube::Date;
        let now = wxmass_campaign::beijing::now();
        let advance = Date::of_unix(now).plus(2).unix_at(9) - now;
        let moved = api
            .http
            .post(format!("{emulator_url}/_emulator/clock"))
            .json(&json!({"advance_seconds": advance}))
            .send()
            .await
            .expect("emulator clock");
        assert!(moved.status().is_success());
        api.ok("POST", "/api/v1/clock", Some(json!({"advance_seconds": advance}))).await;
        api.wait("autumn", "/reads", |r| !r["pulled_on"].is_null()).await;
        // One waiting for approval.
        api.ok("POST", "/api/v1/campaigns", Some(json!({"id": "weekend", "appid": common::APPID,
            "name": "Weekend offer", "content": {"type": "text", "text": "周末见"},
            "audience": {"kind": "tag", "tag_id": 100}}))).await;
        api.ok("POST", "/api/v1/campaigns/weekend/submit", None).await;

        let client = browser(&driver).await;
        sign_in(&client, &base, "alice").await;
        let rows = client.find_all(Locator::Css("#campaigns tbody tr")).await.expect("rows");
        assert_eq!(rows.len(), 2);
        let list = client.find(Locator::Css("#campaigns")).await.expect("list").text().await.expect("text");
        assert!(list.contains("Autumn update") && list.contains("awaiting approval"), "{list}");
        // The reads column fills in from the pulled series.
        client
            .wait()
            .for_element(Locator::XPath("//tr[@data-campaign='autumn']/td[7][not(contains(., '–'))]"))
            .await
            .expect("readers in the list");
        screenshot(&client, "dashboard-campaigns.png").await;
        unlabelled(&client, "the campaigns").await;
        // In Chinese, and back.
        click(&client, "#lang").await;
        client
            .wait()
            .for_element(Locator::XPath("//h1[. = '群发活动']"))
            .await
            .expect("the campaigns in Chinese");
        let state = client.find(Locator::Css("tr[data-campaign=weekend] .state")).await.expect("state").text().await.expect("text");
        assert_eq!(state, "待审核");
        click(&client, "#lang").await;
        client
            .wait()
            .for_element(Locator::XPath("//h1[. = 'Campaigns']"))
            .await
            .expect("back in English");

        client
            .find(Locator::LinkText("Autumn update"))
            .await
            .expect("link")
            .click()
            .await
            .expect("click");
        client
            .wait()
            .for_element(Locator::Css("#reads-chart polyline"))
            .await
            .expect("the reads chart");
        let sent = client.find(Locator::Css("#funnel-sent")).await.expect("funnel").text().await.expect("text");
        assert_eq!(sent, "30");
        let points: Value = client
            .execute("return document.querySelectorAll('#reads-chart circle').length;", vec![])
            .await
            .expect("script");
        assert!(points.as_u64() >= Some(4), "two days of readers and shares: {points}");
        screenshot(&client, "dashboard-campaign.png").await;
        unlabelled(&client, "a campaign").await;
        // Its articles published without notifying, once however often
        // the button is pressed; WeChat's report shows once it is pushed.
        click(&client, "#publish").await;
        client
            .wait()
            .for_element(Locator::XPath("//ul[@id='publishes']/li[contains(., ': published')]"))
            .await
            .expect("the publish and its report");
        click(&client, "#publish").await;
        client
            .wait()
            .for_element(Locator::XPath("//p[@id='action-message'][contains(., 'not again')]"))
            .await
            .expect("pressed again: the same publish");
        let shown = client.find_all(Locator::Css("#publishes li")).await.expect("publishes");
        assert_eq!(shown.len(), 1, "one publish");
        let all = api.ok("GET", "/api/v1/publishes", None).await;
        assert_eq!(all.as_array().map(Vec::len), Some(1), "{all}");

        client.goto(&format!("{base}/ui/#/campaigns/weekend")).await.expect("goto");
        client.wait().for_element(Locator::Css("#approve")).await.expect("the admin may approve");

        // Compose an article with a cover and a picture: the preview is the
        // rendered article; a title too long is said as the CLI says it.
        let pictures = home.path().join("pictures");
        std::fs::create_dir_all(&pictures).expect("dir");
        common::picture(&pictures.join("cover.png"), [7, 193, 96]);
        common::picture(&pictures.join("photo.png"), [31, 111, 235]);
        client.goto(&format!("{base}/ui/#/compose")).await.expect("goto");
        client.wait().for_element(Locator::Css("#compose")).await.expect("the compose page");
        let set = |id: &'static str, value: String| {
            let client = client.clone();
            async move {
                client
                    .execute(
                        "const e = document.getElementById(arguments[0]); e.value = arguments[1];
                         e.dispatchEvent(new Event('input', {bubbles: true}));",
                        vec![json!(id), json!(value)],
                    )
                    .await
                    .expect("type");
            }
        };
        set("campaign-id", "spring".into()).await;
        set("campaign-name", "Spring news".into()).await;
        for (input, file) in [("#cover", "cover.png"), ("#pictures", "photo.png")] {
            client
                .find(Locator::Css(input))
                .await
                .expect("file input")
                .send_keys(&pictures.join(file).to_string_lossy())
                .await
                .expect("choose the file");
        }
        client
            .wait()
            .for_element(Locator::XPath("//p[@id='uploaded'][contains(., 'photo.png')][contains(., 'cover.png')]"))
            .await
            .expect("both uploaded");
        set("markdown", format!("---\ntitle: {}\ncover: cover.png\n---\n# Spring\n\n![a photo](photo.png)\n", "长".repeat(40))).await;
        client
            .wait()
            .for_element(Locator::XPath("//ul[@id='problems']/li[contains(., 'title')]"))
            .await
            .expect("the title's length is a problem");
        set("markdown", "---\ntitle: 春季新品\ncover: cover.png\n---\n# Spring\n\n![a photo](photo.png)\n".into()).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let state: Value = client
                .execute(
                    "const f = document.getElementById('preview');
                     return [document.querySelectorAll('#problems li').length, f.srcdoc.includes('春季新品'),
                             f.srcdoc.includes('src=\"data:image/png;base64,')];",
                    vec![],
                )
                .await
                .expect("preview");
            if state == json!([0, true, true]) {
                break;
            }
            assert!(Instant::now() < deadline, "no preview: {state}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        screenshot(&client, "dashboard-compose.png").await;
        // A text too long, said as creating the campaign (and the CLI) says
        // it; a list uploaded from the page.
        client
            .execute("const k = document.getElementById('kind'); k.value = 'text'; k.dispatchEvent(new Event('change'));", vec![])
            .await
            .expect("text");
        set("text", "长".repeat(1000)).await;
        let said = client
            .wait()
            .for_element(Locator::XPath("//p[@id='text-info'][contains(., 'content.text')]"))
            .await
            .expect("the text's problem")
            .text()
            .await
            .expect("text");
        assert!(said.contains("2048") || said.contains("2,048"), "{said}");
        client
            .execute("const k = document.getElementById('kind'); k.value = 'images'; k.dispatchEvent(new Event('change'));", vec![])
            .await
            .expect("a picture");
        let not_a_picture = home.path().join("notes.txt");
        std::fs::write(&not_a_picture, "not a picture").expect("notes");
        client
            .find(Locator::Css("#image"))
            .await
            .expect("image input")
            .send_keys(&not_a_picture.to_string_lossy())
            .await
            .expect("choose");
        client
            .wait()
            .for_element(Locator::XPath("//p[@id='image-info'][contains(., 'content.files[0]')]"))
            .await
            .expect("the picture's problem");
        client
            .execute("const a = document.getElementById('audience'); a.value = 'openids'; a.dispatchEvent(new Event('change'));", vec![])
            .await
            .expect("audience");
        set("new-list-name", "crm".into()).await;
        let followers = common::follower_list(home.path(), &emulator_url);
        client
            .find(Locator::Css("#new-list"))
            .await
            .expect("list input")
            .send_keys(&followers.to_string_lossy())
            .await
            .expect("choose the list");
        client
            .wait()
            .for_element(Locator::XPath("//p[@id='list-info'][contains(., 'crm: 30 openids')]"))
            .await
            .expect("the list saved");
        unlabelled(&client, "compose, a text to a list").await;
        for (id, value) in [("kind", "articles"), ("audience", "all")] {
            client
                .execute(
                    "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('change'));",
                    vec![json!(id), json!(value)],
                )
                .await
                .expect("back to the article");
        }
        click(&client, "#create").await;
        client.wait().for_element(Locator::Css("#test-send")).await.expect("the new campaign");
        let openid = std::fs::read_to_string(common::follower_list(home.path(), &emulator_url))
            .expect("followers")
            .lines()
            .next()
            .expect("a follower")
            .to_owned();
        api.ok(
            "PUT",
            &format!("/api/v1/accounts/{}/testers", common::APPID),
            Some(json!({"openids": [openid.clone()], "wechat_ids": []})),
        )
        .await;
        set("test-openid", openid).await;
        click(&client, "#test-send").await;
        let said = client
            .wait()
            .for_element(Locator::XPath("//p[@id='action-message'][string-length(.) > 0]"))
            .await
            .expect("the test send's outcome")
            .text()
            .await
            .expect("text");
        assert!(said.ends_with("Done."), "{said}");
        unlabelled(&client, "the compose page and a draft").await;
        click(&client, "#submit").await;
        client
            .wait()
            .for_element(Locator::XPath("//span[@id='campaign-state'][contains(@class, 'awaiting_approval')]"))
            .await
            .expect("submitted for approval");
        let previews = api
            .http
            .get(format!("{emulator_url}/_emulator/stats"))
            .send()
            .await
            .expect("stats")
            .json::<Value>()
            .await
            .expect("json")["previews"]
            .clone();
        assert_eq!(previews, 1, "one preview on the tester's phone");

        // The account's quota as the API tells it; a token made once; the
        // audit trail.
        client.goto(&format!("{base}/ui/#/accounts")).await.expect("goto");
        let left = client
            .wait()
            .for_element(Locator::Css(".account .left"))
            .await
            .expect("the quota")
            .text()
            .await
            .expect("text");
        let quota = api.ok("GET", &format!("/api/v1/accounts/{}/quota", common::APPID), None).await;
        assert_eq!(left, quota["left"].to_string(), "{quota}");
        let days = client.find_all(Locator::Css(".calendar li")).await.expect("days");
        assert_eq!(days.len(), quota["days"].as_array().map_or(0, Vec::len));
        screenshot(&client, "dashboard-accounts.png").await;
        client.goto(&format!("{base}/ui/#/people")).await.expect("goto");
        client.wait().for_element(Locator::Css("#new-token")).await.expect("the people page");
        set("token-label", "crm".into()).await;
        client
            .execute("document.getElementById('token-user').value = 'victor'; document.getElementById('token-role').value = 'viewer';", vec![])
            .await
            .expect("choose");
        click(&client, "#new-token button").await;
        let made = client
            .wait()
            .for_element(Locator::Css("#new-token-value"))
            .await
            .expect("the token, once")
            .text()
            .await
            .expect("text");
        assert!(made.starts_with("wxm_"), "{made}");
        unlabelled(&client, "people").await;
        client.goto(&format!("{base}/ui/#/audit")).await.expect("goto");
        let log = client
            .wait()
            .for_element(Locator::Css("#audit-log"))
            .await
            .expect("the audit log")
            .text()
            .await
            .expect("text");
        assert!(log.contains("campaign.approve") && log.contains("token.create"), "{log}");

        only_the_server(&client, &base).await;
        // A viewer: no approve button, and the API says no.
        sign_out(&client).await;
        sign_in(&client, &base, "victor").await;
        client.goto(&format!("{base}/ui/#/campaigns/weekend")).await.expect("goto");
        client.wait().for_element(Locator::Css("#campaign-state")).await.expect("the campaign");
        assert!(
            client.find_all(Locator::Css("#approve, #pause, #cancel, #test-send")).await.expect("find").is_empty(),
            "a viewer is offered no action"
        );
        let refused = client
            .execute_async(
                "const done = arguments[0];
                 fetch('/api/v1/session').then(r => r.json()).then(s =>
                   fetch('/api/v1/campaigns/weekend/approve', {method: 'POST', credentials: 'same-origin',
                     headers: {'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token},
                     body: JSON.stringify({send_at: '2030-01-01T09:00:00+08:00'})}))
                   .then(r => done(r.status));",
                vec![],
            )
            .await
            .expect("fetch");
        assert_eq!(refused, json!(403));

        only_the_server(&client, &base).await;
        // An approver schedules the composed article for tomorrow in the browser; the clocks
        // move; the page shows it run and fills in what was delivered,
        // with nobody reloading it.
        sign_out(&client).await;
        sign_in(&client, &base, "bob").await;
        client.goto(&format!("{base}/ui/#/campaigns/spring")).await.expect("goto");
        client.wait().for_element(Locator::Css("#approve")).await.expect("the approver may approve");
        // What they approve is on the page: the article as it will be sent.
        let shown = client
            .find(Locator::Css("#message-article-1"))
            .await
            .expect("the article on the campaign's page")
            .attr("srcdoc")
            .await
            .expect("srcdoc")
            .unwrap_or_default();
        assert!(shown.contains("Spring") && shown.contains("data:image/png;base64,"), "the article with its picture");
        let clock = api.ok("GET", "/api/v1/clock", None).await;
        let offset = clock["offset_seconds"].as_i64().expect("offset");
        let tomorrow = wxmass_campaign::beijing::now() + offset + 86_400;
        let local = wxmass_campaign::beijing::rfc3339(tomorrow)[..16].to_owned();
        client
            .execute("document.getElementById('send-at').value = arguments[0];", vec![json!(local)])
            .await
            .expect("set the time");
        click(&client, "#approve").await;
        client
            .wait()
            .for_element(Locator::XPath("//span[@id='campaign-state'][contains(@class, 'scheduled')]"))
            .await
            .expect("scheduled");
        let moved = api
            .http
            .post(format!("{emulator_url}/_emulator/clock"))
            .json(&json!({"advance_seconds": 86_460}))
            .send()
            .await
            .expect("emulator clock");
        assert!(moved.status().is_success());
        api.ok("POST", "/api/v1/clock", Some(json!({"advance_seconds": 86_460}))).await;
        client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath("//dd[@id='funnel-sent'][. != '0']"))
            .await
            .expect("the delivered count fills in by itself");
        let state = client.find(Locator::Css("#campaign-state")).await.expect("state").text().await.expect("text");
        assert_eq!(state, "finished");

        // Phone width.
        client.set_window_size(390, 844).await.expect("resize");
        for (page, ready, shot) in [
            ("#/campaigns", "#campaigns", "dashboard-phone-campaigns.png"),
            ("#/campaigns/autumn", "#reads-chart", "dashboard-phone-campaign.png"),
            ("#/compose", "#compose", "dashboard-phone-compose.png"),
            ("#/accounts", ".calendar", "dashboard-phone-accounts.png"),
        ] {
            client.goto(&format!("{base}/ui/{page}")).await.expect("goto");
            client.wait().for_element(Locator::Css(ready)).await.expect("the page");
            let width: Value = client.execute("return window.innerWidth;", vec![]).await.expect("width");
            assert!(width.as_u64() <= Some(400), "the window is phone-wide: {width}");
            assert!(!scrolls_sideways(&client).await, "{page} scrolls sideways at 390 px");
            screenshot(&client, shot).await;
        }
        // An admin's pages at phone width: the audit trail (long targets and
        // details wrap, and nothing stray such as `null` is drawn), people
        // with their tokens and actions, and one's own password.
        sign_out(&client).await;
        sign_in(&client, &base, "alice").await;
        for (page, ready) in [("#/audit", "#audit-log"), ("#/people", "#tokens"), ("#/me", "#change-password")] {
            client.goto(&format!("{base}/ui/{page}")).await.expect("goto");
            client.wait().for_element(Locator::Css(ready)).await.expect("the page");
            assert!(!scrolls_sideways(&client).await, "{page} scrolls sideways at 390 px");
            let text = client.find(Locator::Css("main")).await.expect("main").text().await.expect("text");
            assert!(!text.trim_end().ends_with("null"), "{page} ends with null: {text}");
        }
        let header = client.find(Locator::Css("#audit-log thead")).await;
        assert!(header.is_err(), "the audit trail is not the open page any more");
        client.goto(&format!("{base}/ui/#/audit")).await.expect("goto");
        let headers = client
            .wait()
            .for_element(Locator::Css("#audit-log thead"))
            .await
            .expect("the header")
            .text()
            .await
            .expect("text");
        assert!(!headers.contains("Campaigns"), "the target column is not headed Campaigns: {headers}");

        only_the_server(&client, &base).await;
        client.close().await.expect("close");
    });
    drop(driver);
}

/// A template message composed in the browser: the account's template
/// picked, a keyword too long said in the CLI's words while typing, the
/// card drawn as WeChat shows it; submitted, approved and sent follower by
/// follower; the recipients by state and channel with WeChat's reports
/// joined (two followers refuse the account's messages), and the failures
/// downloaded as CSV with the browser's session.
#[test]
fn a_template_notice_composed_and_sent_in_chromium() {
    let Some(driver) = chromedriver() else {
        return;
    };
    let started = Started::new();
    let (base, emulator_url) = (started.base.clone(), started.emulator_url.clone());
    runtime().block_on(async {
        let api = started.api().await;
        let wechat = wxmass_api::Client::builder(common::APPID, common::SECRET)
            .base_url(&emulator_url)
            .build()
            .expect("client");
        wechat.templates().set_industry(1, 2).await.expect("industry");
        let template_id = wechat
            .templates()
            .add("47123", &["商品名称", "快递公司", "快递单号", "发货时间"])
            .await
            .expect("template");
        let listed = api
            .ok("GET", &format!("/api/v1/accounts/{}/templates", common::APPID), None)
            .await;
        let keys: Vec<String> = listed
            .as_array()
            .expect("templates")
            .iter()
            .find(|t| t["template_id"] == template_id.as_str())
            .expect("listed")["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k.as_str().expect("key").to_owned())
            .collect();
        let values = ["钢笔", "顺丰速运", "SF1234567890", "2026-12-06 10:00"];
        assert_eq!(keys.len(), values.len(), "{keys:?}");
        // Two followers refuse the account's messages: WeChat takes theirs
        // and reports `failed:user block`.
        let followers = wechat.users().followers_page(None).await.expect("followers").openids;
        let blocked = &followers[..2];
        let refused = api
            .http
            .post(format!("{emulator_url}/_emulator/blocked"))
            .json(&json!({"openids": blocked, "blocked": true}))
            .send()
            .await
            .expect("block");
        assert!(refused.status().is_success());

        let client = browser(&driver).await;
        sign_in(&client, &base, "alice").await;
        client.goto(&format!("{base}/ui/#/compose")).await.expect("goto");
        client.wait().for_element(Locator::Css("#compose")).await.expect("the compose page");
        client
            .execute("const k = document.getElementById('kind'); k.value = 'notice'; k.dispatchEvent(new Event('change'));", vec![])
            .await
            .expect("a template message");
        let first = format!("#kw-{}", keys[0]);
        let input = client.wait().for_element(Locator::Css(&first)).await.expect("the template's keywords");
        // Too long for a `thing` keyword: said while typing, as the CLI says it.
        input.send_keys("一支笔尖是十四K金的黑色钢笔和一瓶蓝黑墨水").await.expect("type");
        client
            .wait()
            .for_element(Locator::XPath(&format!("//p[@id='notice-info'][contains(@class, 'error')][contains(., '{}')]", keys[0])))
            .await
            .expect("the keyword's problem");
        input.clear().await.expect("clear");
        for (key, value) in keys.iter().zip(values) {
            client
                .find(Locator::Css(&format!("#kw-{key}")))
                .await
                .expect("keyword")
                .send_keys(value)
                .await
                .expect("type");
        }
        client
            .wait()
            .for_element(Locator::XPath("//p[@id='notice-info'][. = '✓']"))
            .await
            .expect("no problem left");
        // The card as WeChat draws it, the values in place.
        for (key, value) in keys.iter().zip(values) {
            let shown = client
                .find(Locator::Css(&format!("#template-card .card-value[data-key='{key}']")))
                .await
                .expect("the keyword on the card")
                .text()
                .await
                .expect("text");
            assert_eq!(shown, value);
        }
        screenshot(&client, "dashboard-notice-compose.png").await;
        unlabelled(&client, "compose, a template message").await;
        client.find(Locator::Css("#campaign-id")).await.expect("id").send_keys("shipped").await.expect("type");
        client.find(Locator::Css("#campaign-name")).await.expect("name").send_keys("Order shipped").await.expect("type");
        click(&client, "#create").await;
        client.wait().for_element(Locator::Css("#submit")).await.expect("the draft's page");
        click(&client, "#submit").await;
        client.wait().for_element(Locator::Css("#approve")).await.expect("awaiting approval");
        let clock = api.ok("GET", "/api/v1/clock", None).await;
        let offset = clock["offset_seconds"].as_i64().expect("offset");
        let now = wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now() + offset)[..16].to_owned();
        client
            .execute("document.getElementById('send-at').value = arguments[0];", vec![json!(now)])
            .await
            .expect("set the time");
        click(&client, "#approve").await;
        // Sent to all 30, one by one; once WeChat's reports are in, the two
        // who refuse are failures. (A minute on the server's clock brings
        // its next look at the reports forward.)
        api.wait("shipped", "", |c| c["state"] == "finished").await;
        api.ok("POST", "/api/v1/clock", Some(json!({"advance_seconds": 60}))).await;
        client
            .wait()
            .at_most(Duration::from_secs(60))
            .for_element(Locator::XPath("//dd[@id='recipients-failed'][. = '2']"))
            .await
            .expect("the reports joined, by themselves");
        let figure = |id: &'static str| {
            let client = client.clone();
            async move { client.find(Locator::Css(id)).await.expect(id).text().await.expect("text") }
        };
        assert_eq!(figure("#recipients-sent").await, "28");
        assert_eq!(figure("#recipients-unknown").await, "0");
        let reports = figure("#reports").await;
        assert!(reports.contains("delivered 28") && reports.contains("refused by the follower 2"), "{reports}");
        assert!(figure("#by-channel").await.contains("template message 28"));
        // The card is on the approver's page too.
        assert!(figure("#template-card").await.contains("SF1234567890"));
        screenshot(&client, "dashboard-notice.png").await;
        unlabelled(&client, "a template message's page").await;
        // The failures, downloaded with the browser's session.
        let csv: Value = client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch(document.getElementById('download-failed').href, {credentials: 'same-origin'})
                   .then(r => r.text()).then(done, e => done(String(e)));",
                vec![],
            )
            .await
            .expect("download");
        let csv = csv.as_str().expect("text");
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert!(lines[0].starts_with("openid,channel,errcode"), "{csv}");
        for line in &lines[1..] {
            assert!(line.contains(",template,0,") && line.contains("failed:user block"), "{line}");
            assert!(blocked.iter().any(|o| line.starts_with(&format!("{o},"))), "{line}");
        }
        // The list says 28 of 30 sent.
        client.goto(&format!("{base}/ui/#/campaigns")).await.expect("goto");
        client
            .wait()
            .for_element(Locator::XPath("//tr[@data-campaign='shipped']/td[contains(@class, 'delivered')][. = '28 of 30']"))
            .await
            .expect("the notice in the list");
        only_the_server(&client, &base).await;
        client.close().await.expect("close");
    });
}

/// A server running as a third-party platform: the accounts page shows
/// an authorised account's grant and what its missing permission set
/// prevents, and makes an authorisation link to WeChat's page (not
/// followed: it is off the machine); the accounts are tagged on their
/// cards, and a campaign to every account with the tag is listed as one
/// and broken down by account on its page, each row the API's figures.
#[test]
fn the_platform_and_a_campaign_across_accounts_in_chromium() {
    use wxmass_emulator::PLATFORM_APPID;
    let Some(driver) = chromedriver() else {
        return;
    };
    let home = tempfile::tempdir().expect("home");
    let admin = common::first_admin(home.path());
    let (_emulator, emulator_url) = common::emulator(0, &["--platform", "2"]);
    let env = common::platform_env(&emulator_url);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_server, base) = common::spawn_env(
        Some(home.path()),
        &[
            "server",
            "--listen",
            "127.0.0.1:0",
            "--platform",
            PLATFORM_APPID,
        ],
        &env,
    );
    common::point_platform_at(&emulator_url, &base);
    let appid = wxmass_emulator::platform::account_appid(PLATFORM_APPID, 0);
    common::admin(
        &emulator_url,
        "POST",
        "/_emulator/platform/authorize",
        &json!({"appid": appid, "permission_sets": [1, 2, 7]}).to_string(),
    );
    runtime().block_on(async {
        let client = browser(&driver).await;
        sign_in(&client, &base, "alice").await;
        client.goto(&format!("{base}/ui/#/accounts")).await.expect("goto");
        let card = client
            .wait()
            .for_element(Locator::Css(&format!("section.account[data-appid='{appid}']")))
            .await
            .expect("the authorised account's card");
        let text = card.text().await.expect("text");
        assert!(text.contains("through the platform, sets 1, 2, 7"), "{text}");
        assert!(text.contains("89"), "the missing set is said: {text}");
        unlabelled(&client, "accounts").await;
        click(&client, "section.authorise button").await;
        let link = client
            .wait()
            .for_element(Locator::Css("#authorise-link"))
            .await
            .expect("the authorisation link");
        let href = link.attr("href").await.expect("href").unwrap_or_default();
        assert!(
            href.starts_with(&format!(
                "https://mp.weixin.qq.com/cgi-bin/componentloginpage?component_appid={PLATFORM_APPID}&pre_auth_code="
            )),
            "{href}"
        );
        // Back to this server's /platform/authorized, encoded.
        let back = base.replace(':', "%3A").replace('/', "%2F");
        assert!(
            href.contains(&format!("redirect_uri={back}%2Fplatform%2Fauthorized")),
            "{href}"
        );
        screenshot(&client, "platform-accounts").await;
        only_the_server(&client, &base).await;

        // Both accounts tagged on their cards, then one campaign to every
        // account with the tag: its page breaks it down by account.
        let second = wxmass_emulator::platform::account_appid(PLATFORM_APPID, 1);
        common::admin(
            &emulator_url,
            "POST",
            "/_emulator/platform/authorize",
            &json!({"appid": second}).to_string(),
        );
        client.refresh().await.expect("refresh");
        for tagged in [&appid, &second] {
            let card = format!("section.account[data-appid='{tagged}']");
            client
                .wait()
                .for_element(Locator::Css(&format!("{card} form.tags textarea")))
                .await
                .expect("the tags field")
                .send_keys("wave")
                .await
                .expect("type");
            click(&client, &format!("{card} form.tags button")).await;
            let said = client
                .wait()
                .for_element(Locator::Css(&format!("{card} form.tags p.message")))
                .await
                .expect("said");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            while said.text().await.unwrap_or_default() != "Done." {
                assert!(std::time::Instant::now() < deadline, "the tags were never saved");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
        client.close().await.expect("close");
    });
    for (path, body) in [
        (
            "/api/v1/campaigns",
            Some(
                json!({"id": "wave", "name": "A wave", "accounts": {"kind": "tagged", "tag": "wave"},
                        "content": {"type": "text", "text": "hello"}, "audience": {"kind": "all"}}),
            ),
        ),
        ("/api/v1/campaigns/wave/submit", None),
        (
            "/api/v1/campaigns/wave/approve",
            Some(
                json!({"send_at": wxmass_campaign::beijing::rfc3339(wxmass_campaign::beijing::now())}),
            ),
        ),
    ] {
        let (status, answer) = common::call(&base, "POST", path, Some(&admin), body);
        assert!(status == 200 || status == 201, "{path}: {answer}");
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let parts = loop {
        let (_, c) = common::call(&base, "GET", "/api/v1/campaigns/wave", Some(&admin), None);
        if c["state"] == "finished" && c["reported"] == 2 {
            let (_, parts) = common::call(
                &base,
                "GET",
                "/api/v1/campaigns/wave/accounts",
                Some(&admin),
                None,
            );
            break parts;
        }
        assert!(std::time::Instant::now() < deadline, "never finished: {c}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    runtime().block_on(async {
        let client = browser(&driver).await;
        sign_in(&client, &base, "alice").await;
        client
            .goto(&format!("{base}/ui/#/campaigns"))
            .await
            .expect("goto");
        let row = client
            .wait()
            .for_element(Locator::Css("tr[data-campaign='wave']"))
            .await
            .expect("listed");
        let text = row.text().await.expect("text");
        assert!(text.contains("every account tagged wave"), "{text}");
        client
            .goto(&format!("{base}/ui/#/campaigns/wave"))
            .await
            .expect("goto");
        client
            .wait()
            .for_element(Locator::Css("#by-account tbody tr"))
            .await
            .expect("the breakdown");
        for part in parts.as_array().expect("parts") {
            let appid = part["appid"].as_str().expect("appid");
            let cells = client
                .find(Locator::Css(&format!(
                    "#by-account tr[data-appid='{appid}']"
                )))
                .await
                .expect("its row")
                .text()
                .await
                .expect("text");
            let delivered = part["delivered"].as_u64().expect("delivered");
            assert!(delivered > 0, "{part}");
            assert!(
                cells.contains(&format!("{delivered} of {delivered}"))
                    && cells.to_lowercase().contains("finished"),
                "{appid}: {cells}"
            );
        }
        unlabelled(&client, "campaign across accounts").await;
        screenshot(&client, "campaign-across-accounts").await;
        only_the_server(&client, &base).await;
        client.close().await.expect("close");
    });
}
