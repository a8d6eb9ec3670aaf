//! Helpers for the CLI tests: real `wxmass` processes (the emulator too, as
//! `wxmass emulator`) on loopback, each test with its own WXMASS_HOME.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const APPID: &str = "wx5e1f0c2a9b84d37e";
pub const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";
/// The password of every user the server tests make.
pub const PASSWORD: &str = "correct horse battery staple";
/// The callback token and EncodingAESKey of the server tests' account.
pub const CALLBACK_TOKEN: &str = "servetoken";
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// `wxmass server init-admin --name NAME` on `home`'s store, with
/// [`PASSWORD`].
pub fn init_admin(home: &Path, name: &str) -> std::process::Output {
    init_admin_on(home, None, name)
}

/// The same on `database` (`postgres://...`) when given.
pub fn init_admin_on(home: &Path, database: Option<&str>, name: &str) -> std::process::Output {
    let mut cmd = wxmass_std(home, "http://127.0.0.1:9");
    if let Some(database) = database {
        cmd.args(["--database", database]);
    }
    cmd.args(["server", "init-admin", "--name", name])
        .env("WXMASS_ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .output()
        .expect("run init-admin")
}

/// The first admin of `home`'s store, alice; its API token.
pub fn first_admin(home: &Path) -> String {
    first_admin_on(home, None)
}

/// The same on `database` (`postgres://...`) when given.
pub fn first_admin_on(home: &Path, database: Option<&str>) -> String {
    let first = init_admin_on(home, database, "alice");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    String::from_utf8_lossy(&first.stdout).trim().to_owned()
}

/// What `wxmass server --platform` reads from its environment to act as
/// the emulated platform at `emulator_url`.
pub fn platform_env(emulator_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("WXMASS_API_BASE", emulator_url.to_owned()),
        (
            "WXMASS_PLATFORM_SECRET",
            wxmass_emulator::PLATFORM_SECRET.to_owned(),
        ),
        (
            "WXMASS_PLATFORM_TOKEN",
            wxmass_emulator::PLATFORM_TOKEN.to_owned(),
        ),
        (
            "WXMASS_PLATFORM_AES_KEY",
            wxmass_emulator::PLATFORM_AES_KEY.to_owned(),
        ),
    ]
}

/// Points the emulated platform at the server at `base` (its event URL and
/// message URL), and waits until the server took its first ticket.
pub fn point_platform_at(emulator_url: &str, base: &str) {
    admin(
        emulator_url,
        "POST",
        "/_emulator/platform/urls",
        &serde_json::json!({"event_url": format!("{base}/platform/events"),
                            "message_url": format!("{base}/platform/callback/$APPID$")})
        .to_string(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !admin(emulator_url, "GET", "/_emulator/pushes", "")["pushes"]
        .as_array()
        .is_some_and(|p| {
            p.iter()
                .any(|p| p["event"] == "component_verify_ticket" && p["accepted"] == true)
        })
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the ticket never reached the server"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// A child process, killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `wxmass ARGS` (with the emulator's account in the environment, and
/// `home` as WXMASS_HOME if given) and returns the URL its first line names.
pub fn spawn(home: Option<&Path>, args: &[&str]) -> (Proc, String) {
    spawn_env(home, args, &[])
}

/// [`spawn`] with more environment variables.
pub fn spawn_env(home: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> (Proc, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
    cmd.args(args)
        .env_clear()
        .env("WXMASS_APPID", APPID)
        .env("WXMASS_SECRET", SECRET)
        .envs(env.iter().copied());
    if let Some(home) = home {
        cmd.env("WXMASS_HOME", home);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wxmass");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let url = line.trim().rsplit(' ').next().expect("url").to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:"),
        "unexpected first line {line:?}"
    );
    (Proc(child), url)
}

/// `wxmass emulator` with `followers` over two tags, jobs finishing in 20 ms.
pub fn emulator(followers: u32, extra: &[&str]) -> (Proc, String) {
    emulator_with(
        None,
        followers,
        2,
        &[&["--job-delay-ms", "20"], extra].concat(),
    )
}

/// [`emulator`] pushing every report to `callback` (a server's
/// `/callback/{appid}`) in safe mode, with [`CALLBACK_TOKEN`] and [`AES_KEY`].
pub fn emulator_pushing(callback: &str, followers: u32, extra: &[&str]) -> (Proc, String) {
    let pushing = [
        "--callback-url",
        callback,
        "--callback-token",
        CALLBACK_TOKEN,
        "--callback-aes-key",
        AES_KEY,
        "--callback-mode",
        "safe",
    ];
    emulator(followers, &[extra, &pushing].concat())
}

/// `wxmass emulator` on a port the OS picks, with `followers` over `tags`
/// tags, `home` as WXMASS_HOME if given, and `extra` flags appended.
pub fn emulator_with(
    home: Option<&Path>,
    followers: u32,
    tags: u32,
    extra: &[&str],
) -> (Proc, String) {
    let (followers, tags) = (followers.to_string(), tags.to_string());
    let mut args = vec!["emulator", "--listen", "127.0.0.1:0", "--tags", &tags];
    args.extend(["--followers", followers.as_str()]);
    args.extend_from_slice(extra);
    spawn(home, &args)
}

/// A call to the emulator's admin API (plain HTTP/1.1 over std TCP).
pub fn admin(url: &str, method: &str, path: &str, body: &str) -> Value {
    let addr = url.trim_start_matches("http://");
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
    // Chunked or not, the JSON object runs from the first '{' to the last '}'.
    let start = body.find('{').unwrap_or(0);
    let end = body.rfind('}').map_or(body.len(), |e| e + 1);
    serde_json::from_str(&body[start..end]).unwrap_or(Value::Null)
}

/// `wxmass` for `home`, talking to the emulator at `url`.
pub fn wxmass_std(home: &Path, url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
    cmd.env_clear()
        .env("WXMASS_HOME", home)
        .env("WXMASS_APPID", APPID)
        .env("WXMASS_SECRET", SECRET)
        .env("WXMASS_API_BASE", url);
    cmd
}

/// The same, for assertions.
pub fn wxmass(home: &Path, url: &str) -> assert_cmd::Command {
    assert_cmd::Command::from_std(wxmass_std(home, url))
}

/// Parses `--json` output.
pub fn json(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

/// Every follower's openid, written by `wxmass followers --out` to
/// `followers.txt` in `home`; returns the file.
pub fn follower_list(home: &Path, url: &str) -> PathBuf {
    let list = home.join("followers.txt");
    let status = wxmass_std(home, url)
        .args(["followers", "--out"])
        .arg(&list)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run wxmass followers");
    assert!(status.success(), "wxmass followers --out failed");
    list
}

/// Runs a command that must succeed and parses its `--json` output.
pub fn success_json(cmd: &mut assert_cmd::Command) -> Value {
    json(&cmd.assert().success().get_output().stdout)
}

/// Makes a one-article draft at the emulator and free-publishes it, as
/// another tool would; its publish_id.
pub fn publish_a_draft(emu_url: &str, title: &str) -> i64 {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = wxmass_api::Client::builder(APPID, SECRET)
            .base_url(emu_url)
            .build()
            .expect("client");
        const JPEG: &[u8] = &[
            0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1,
        ];
        let (thumb, _) = client
            .media()
            .add_material(wxmass_api::MediaKind::Thumb, "c.jpg", JPEG, None)
            .await
            .expect("thumb");
        let draft = client
            .news()
            .add_draft(&[wxmass_api::Article::new(title, &thumb, "<p>x</p>")])
            .await
            .expect("draft");
        client
            .publish()
            .submit(&draft)
            .await
            .expect("submit")
            .publish_id
    })
}

/// A small picture of one colour, as PNG or JPEG (by the extension).
pub fn picture(path: &Path, rgb: [u8; 3]) {
    let image = image::RgbImage::from_pixel(64, 48, image::Rgb(rgb));
    let format = if path.extension().is_some_and(|e| e == "jpg") {
        image::ImageFormat::Jpeg
    } else {
        image::ImageFormat::Png
    };
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .expect("encode");
    std::fs::write(path, out).expect("write picture");
}

/// One call: (status, JSON body or Null).
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    let (status, _, body) = call_with(base, method, path, &headers, body);
    (status, body)
}

/// One call with `headers`: (status, the answer's headers, JSON body or Null).
pub fn call_with(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // A hung server fails the test instead of stalling it.
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .expect("client");
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = client.request(method, format!("{base}{path}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    })
}

/// A load balancer in front of `servers`, as WeChat's pushes meet them in
/// production: each connection goes to the first server that takes it, so
/// a killed server's share goes to the others. Its URL; it serves until
/// the test's process ends.
pub fn balancer(servers: &[&str]) -> String {
    use std::net::{TcpListener, TcpStream};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let servers: Vec<String> = servers
        .iter()
        .map(|s| s.trim_start_matches("http://").to_owned())
        .collect();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Some(server) = servers.iter().find_map(|s| TcpStream::connect(s).ok()) else {
                continue;
            };
            let pipe = |mut from: TcpStream, mut to: TcpStream| {
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Write);
                });
            };
            if let (Ok(c), Ok(s)) = (client.try_clone(), server.try_clone()) {
                pipe(c, s);
                pipe(server, client);
            }
        }
    });
    url
}
