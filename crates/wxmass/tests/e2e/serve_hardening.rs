//! `wxmass serve` as an attacker meets it: the real binary on loopback, fed
//! hand-made requests over plain TCP. One test per way it was fooled,
//! starved or slowed before: the plaintext downgrade, a verification query
//! reused for a push, replays across a restart and at now+290 s, slow and
//! idle connections, counts that overflow, control characters, and serving
//! without the AppSecret.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{APPID, Proc};
use serde_json::Value;
use wxmass_callback::crypto::{AesKey, MessageCrypto};
use wxmass_callback::signature;

const TOKEN: &str = "hardenToken1";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

/// A running `wxmass serve`, its address, and where its stderr goes.
struct Serve {
    /// Killed when the test drops it.
    _proc: Proc,
    addr: String,
    log: PathBuf,
}

/// Starts `wxmass serve` for `home` with the callback token, `extra` flags
/// and `env`; never with an AppSecret.
fn serve(home: &Path, extra: &[&str], env: &[(&str, &str)]) -> Serve {
    serve_on(home, "127.0.0.1:0", extra, env)
}

fn serve_on(home: &Path, listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Serve {
    let log = home.join(format!("serve-{}.log", now_nanos()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wxmass"));
    cmd.args(["serve", "--listen", listen])
        .args(extra)
        .env_clear()
        .env("WXMASS_HOME", home)
        .env("WXMASS_APPID", APPID)
        .env("WXMASS_CALLBACK_TOKEN", TOKEN)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"));
    let mut child = cmd.spawn().expect("spawn wxmass serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("first line");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        addr.starts_with("127.0.0.1:"),
        "serve did not start: {line:?}; stderr: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Serve {
        _proc: Proc(child),
        addr,
        log,
    }
}

/// Safe mode, as WeChat is set up for production.
fn safe_serve(home: &Path) -> Serve {
    serve(home, &[], &[("WXMASS_CALLBACK_AES_KEY", KEY)])
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

fn job_xml(msg_id: &str, status: &str, sent: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[mphelper]]></FromUserName><CreateTime>1764000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>{msg_id}</MsgID><Status><![CDATA[{status}]]></Status><TotalCount>5</TotalCount><FilterCount>5</FilterCount><SentCount>{sent}</SentCount><ErrorCount>0</ErrorCount></xml>"
    )
}

/// A request's query string and body.
struct Signed {
    query: String,
    body: String,
}

/// A safe-mode push, signed as WeChat signs it.
fn safe(xml: &str, ts: i64, nonce: &str) -> Signed {
    let crypto = MessageCrypto::new(APPID, AesKey::from_encoding_aes_key(KEY).expect("key"));
    let encrypt = crypto.encrypt(xml);
    let ts = ts.to_string();
    Signed {
        query: format!(
            "signature={}&timestamp={ts}&nonce={nonce}&openid=o1&encrypt_type=aes&msg_signature={}",
            signature::url_signature(TOKEN, &ts, nonce),
            signature::msg_signature(TOKEN, &ts, nonce, &encrypt)
        ),
        body: format!(
            "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ),
    }
}

/// A plaintext push: its signature covers token, timestamp and nonce only.
fn plain(xml: &str, ts: i64, nonce: &str) -> Signed {
    let ts = ts.to_string();
    Signed {
        query: format!(
            "signature={}&timestamp={ts}&nonce={nonce}&openid=o1",
            signature::url_signature(TOKEN, &ts, nonce)
        ),
        body: xml.to_owned(),
    }
}

/// One HTTP/1.1 request on a fresh connection; the status and body.
fn request(addr: &str, method: &str, query: &str, body: &str) -> (u16, String) {
    request_to(addr, method, "/", query, body)
}

/// [`request`] to `path`.
fn request_to(addr: &str, method: &str, path: &str, query: &str, body: &str) -> (u16, String) {
    exchange(
        addr,
        &format!("{method} {path}?{query}"),
        "Content-Type: text/xml\r\n",
        body,
    )
}

/// `line` (method and target) with `headers` and `body` on a fresh
/// connection, closed after; the status and body.
fn exchange(addr: &str, line: &str, headers: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "{line} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

fn post(serve: &Serve, req: &Signed) -> (u16, String) {
    request(&serve.addr, "POST", &req.query, &req.body)
}

/// `wxmass status --unknown --json` for `home`.
fn strays(home: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["status", "--unknown", "--json"])
        .env_clear()
        .env("WXMASS_HOME", home)
        .output()
        .expect("run status");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    common::json(&out.stdout)
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn journal_path(home: &Path) -> PathBuf {
    // WXMASS_HOME/data/journal.db is where serve records by default.
    let found = ["data/journal.db", "journal.db"]
        .iter()
        .map(|p| home.join(p))
        .find(|p| p.exists());
    found.unwrap_or_else(|| panic!("no journal under {}", home.display()))
}

fn recorded_msg_ids(home: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(journal_path(home)).expect("open journal");
    let mut stmt = conn
        .prepare("SELECT msg_id FROM wxmass_pushes ORDER BY msg_id")
        .expect("query");
    stmt.query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("ids")
}

#[test]
fn a_plaintext_downgrade_is_refused_and_records_nothing() {
    let home = tempfile::tempdir().expect("home");
    let server = safe_serve(home.path());
    // A forged "send fail, 0 of 5" on a query string as a past push's or a
    // URL verification's: encrypt_type and msg_signature dropped.
    let forged = plain(&job_xml("1000001", "send fail", "0"), now(), "d1");
    let (status, reason) = post(&server, &forged);
    assert_eq!(status, 403, "{reason}");
    assert!(reason.contains("plaintext push refused"), "{reason}");
    // The genuine encrypted report is then recorded as the first.
    let genuine = safe(&job_xml("1000001", "send success", "5"), now(), "d2");
    assert_eq!(post(&server, &genuine), (200, "success".into()));
    assert_eq!(recorded_msg_ids(home.path()), vec![1000001]);
    let strays = strays(home.path());
    assert_eq!(strays.len(), 1, "{strays:?}");
    assert_eq!(strays[0]["status"], "send success");
    assert_eq!(strays[0]["sent_count"], 5);
    assert_eq!(strays[0]["kind"], "unknown job", "no campaign sent it");
}

#[test]
fn a_verification_query_never_carries_a_push() {
    let home = tempfile::tempdir().expect("home");
    // Even with plaintext allowed (the case where the query alone signs a push).
    let server = serve(
        home.path(),
        &["--allow-plaintext"],
        &[("WXMASS_CALLBACK_AES_KEY", KEY)],
    );
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        log.contains("--allow-plaintext"),
        "a warning at start: {log}"
    );
    let ts = now().to_string();
    let query = format!(
        "signature={}&timestamp={ts}&nonce=v1&echostr=4375120948345356249",
        signature::url_signature(TOKEN, &ts, "v1")
    );
    assert_eq!(
        request(&server.addr, "GET", &query, ""),
        (200, "4375120948345356249".into())
    );
    let push = format!(
        "signature={}&timestamp={ts}&nonce=v1",
        signature::url_signature(TOKEN, &ts, "v1")
    );
    let (status, reason) = request(
        &server.addr,
        "POST",
        &push,
        &job_xml("2000001", "send fail", "0"),
    );
    assert_eq!(status, 403, "{reason}");
    assert!(reason.contains("replayed"), "{reason}");
    assert!(recorded_msg_ids(home.path()).is_empty());
}

#[test]
fn a_replay_after_a_restart_is_refused() {
    let home = tempfile::tempdir().expect("home");
    let flags = ["--allow-plaintext"];
    let env = [("WXMASS_CALLBACK_AES_KEY", KEY)];
    let server = serve(home.path(), &flags, &env);
    let ts = now();
    let first = safe(&job_xml("3000001", "send success", "5"), ts, "r1");
    assert_eq!(post(&server, &first).0, 200);
    let listen = server.addr.clone();
    drop(server); // SIGKILL

    let server = serve_on(home.path(), &listen, &flags, &env);
    // WeChat's retry of the same request: answered, not recorded again.
    assert_eq!(post(&server, &first), (200, "success".into()));
    // The captured query with another body, encrypted or not: refused.
    let other = safe(&job_xml("3000002", "send fail", "0"), ts, "r1");
    let forged = plain(&job_xml("3000003", "send fail", "0"), ts, "r1");
    assert_eq!(post(&server, &other).0, 403);
    assert_eq!(post(&server, &forged).0, 403);
    assert_eq!(recorded_msg_ids(home.path()), vec![3000001]);
}

#[test]
fn a_query_is_remembered_until_its_own_timestamp_window_closes() {
    let home = tempfile::tempdir().expect("home");
    let env = [("WXMASS_CALLBACK_AES_KEY", KEY)];
    let flags = ["--allow-plaintext"];
    // Stamped now+290 s: valid until now+590 s, not 300 s after it arrived.
    let server = serve(home.path(), &flags, &env);
    let ts = now() + 290;
    assert_eq!(
        post(
            &server,
            &safe(&job_xml("4000001", "send success", "5"), ts, "f1")
        )
        .0,
        200
    );
    let conn = rusqlite::Connection::open(journal_path(home.path())).expect("journal");
    let expires: i64 = conn
        .query_row(
            "SELECT expires_at FROM wxmass_seen_requests WHERE nonce = 'f1'",
            [],
            |r| r.get(0),
        )
        .expect("the request is in the journal");
    assert_eq!(expires, ts + 300);
    drop(server);

    // The same in real time with a 2 s window: stamped now+1, replayed 2.5 s
    // later (after acceptance + window, before timestamp + window).
    let server = serve(
        home.path(),
        &[&flags[..], &["--timestamp-window", "2"]].concat(),
        &env,
    );
    let ts = now() + 1;
    assert_eq!(
        post(
            &server,
            &safe(&job_xml("4000002", "send success", "5"), ts, "f2")
        )
        .0,
        200
    );
    std::thread::sleep(Duration::from_millis(2500));
    if now() <= ts + 2 {
        let (status, reason) = post(
            &server,
            &plain(&job_xml("4000003", "send fail", "0"), ts, "f2"),
        );
        assert_eq!(status, 403, "{reason}");
        assert!(reason.contains("replayed"), "{reason}");
    }
    assert_eq!(recorded_msg_ids(home.path()), vec![4000001, 4000002]);
}

/// Raises this process's open-file limit, for thousands of sockets.
fn room_for_sockets(n: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    let wanted = limit.maximum.map_or(n, |max| max.min(n));
    if limit.current.is_some_and(|c| c < wanted) {
        limit.current = Some(wanted);
        setrlimit(Resource::Nofile, limit).expect("raise the open-file limit");
    }
}

#[test]
fn idle_and_slow_connections_do_not_delay_a_valid_push() {
    room_for_sockets(12_000);
    let home = tempfile::tempdir().expect("home");
    let server = serve(
        home.path(),
        &[
            "--header-timeout",
            "1",
            "--idle-timeout",
            "1",
            "--body-timeout",
            "1",
            // One client holds them all here (its push too): the per-address
            // cap has a test of its own.
            "--max-connections-per-address",
            "100000",
        ],
        &[("WXMASS_CALLBACK_AES_KEY", KEY)],
    );
    // 5,000 connections from one client: idle ones, half a header, and a
    // 1 GB Content-Length trickled in.
    let mut held = Vec::new();
    let opened = Instant::now();
    for i in 0..5000 {
        let mut stream = TcpStream::connect(&server.addr).expect("connect");
        match i % 3 {
            0 => {}
            1 => {
                let _ = stream.write_all(b"POST /?timestamp=1 HTTP/1.1\r\nHost: x\r\nX-Slow: ");
            }
            _ => {
                let _ = stream.write_all(
                    b"POST /?timestamp=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n<xml>",
                );
            }
        }
        held.push(stream);
    }
    eprintln!("5,000 connections open after {:?}", opened.elapsed());
    let started = Instant::now();
    let push = safe(&job_xml("5000001", "send success", "5"), now(), "s1");
    assert_eq!(post(&server, &push), (200, "success".into()));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "a valid push took {took:?}");

    // Each kind is closed once its limit has passed.
    std::thread::sleep(Duration::from_millis(2500));
    let mut closed = 0;
    for stream in &mut held {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut buf = [0u8; 256];
        // Closed: EOF (or a reset), or the 408 of the body timeout then EOF.
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => closed += 1,
            Ok(n) => {
                let head = String::from_utf8_lossy(&buf[..n]);
                assert!(head.starts_with("HTTP/1.1 408"), "{head}");
                closed += 1;
            }
        }
        if closed >= 300 {
            break;
        }
    }
    assert_eq!(closed, 300, "held connections were closed");
    eprintln!("checked after {:?}", opened.elapsed());
    assert_eq!(recorded_msg_ids(home.path()), vec![5000001]);
}

/// A connection to `addr` from the loopback address `from`: another
/// client, as far as the server can tell.
fn connect_from(runtime: &tokio::runtime::Runtime, from: &str, addr: &str) -> Option<TcpStream> {
    let stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(format!("{from}:0").parse().expect("address"))?;
            socket.connect(addr.parse().expect("address")).await
        })
        .ok()?
        .into_std()
        .ok()?;
    stream.set_nonblocking(false).ok()?;
    Some(stream)
}

/// Whether the server has closed `stream` (EOF, a reset, or a 408 then
/// EOF), waiting up to `patience`.
fn closed_within(stream: &mut TcpStream, patience: Duration) -> bool {
    let until = Instant::now() + patience;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut buf = [0u8; 512];
    while Instant::now() < until {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408's head; the close follows.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return true,
        }
    }
    false
}

/// 5,000 connections from one address trickle headers or a body: the
/// server keeps at most --max-connections-per-address of them and closes
/// the rest at once; those it keeps are closed at the header or body
/// deadline, counted from the request's first byte (the idle timeout is
/// far longer); and pushes from another address are each answered within
/// a second throughout.
#[test]
fn a_flood_from_one_address_leaves_pushes_from_others_answered() {
    room_for_sockets(12_000);
    let home = tempfile::tempdir().expect("home");
    let server = serve(
        home.path(),
        &[
            "--header-timeout",
            "2",
            "--body-timeout",
            "2",
            "--idle-timeout",
            "60",
            "--max-connections-per-address",
            "200",
        ],
        &[("WXMASS_CALLBACK_AES_KEY", KEY)],
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut flood = Vec::new();
    for i in 0..5000 {
        let Some(mut stream) = connect_from(&runtime, "127.0.0.2", &server.addr) else {
            continue;
        };
        let _ = if i % 2 == 0 {
            stream.write_all(b"POST /?timestamp=1 HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        } else {
            stream.write_all(
                b"POST /?timestamp=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n<xml>",
            )
        };
        flood.push(stream);
    }
    assert!(
        flood.len() > 4000,
        "the flood could not connect: {}",
        flood.len()
    );
    // Pushes from 127.0.0.1 while the trickles go on, each within a second.
    for n in 0..10u32 {
        for stream in flood.iter_mut().take(400) {
            let _ = stream.write_all(b"x");
        }
        let started = Instant::now();
        let push = safe(
            &job_xml(&(6_000_001 + n).to_string(), "send success", "5"),
            now(),
            &format!("flood{n}"),
        );
        assert_eq!(post(&server, &push), (200, "success".into()));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "push {n} took {took:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Every flood connection is closed long before the idle timeout: most
    // at once (past the cap), the 200 held at their header or body
    // deadline from their first byte.
    let mut open = 0;
    for stream in &mut flood {
        if !closed_within(stream, Duration::from_secs(15)) {
            open += 1;
        }
    }
    assert_eq!(open, 0, "flood connections still open");
    assert_eq!(recorded_msg_ids(home.path()).len(), 10);
}

/// The same flood against `wxmass server`, which shares the listener: 5,000
/// connections from one address trickle headers to the API or a body to
/// `/callback/{appid}`; meanwhile, from another address, an API call with
/// a token and a signed push to the account's callback are each answered
/// within a second, and every flood connection is closed long before the
/// idle timeout.
#[test]
fn a_flood_from_one_address_leaves_the_servers_api_and_pushes_answered() {
    room_for_sockets(12_000);
    let home = tempfile::tempdir().expect("home");
    let init = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["server", "init-admin", "--name", "alice"])
        .env_clear()
        .env("WXMASS_HOME", home.path())
        .env("WXMASS_ADMIN_PASSWORD", "correct horse battery staple")
        .output()
        .expect("init-admin");
    let admin = String::from_utf8_lossy(&init.stdout)
        .split_whitespace()
        .find(|w| w.starts_with("wxm_"))
        .unwrap_or_else(|| panic!("no token: {}", String::from_utf8_lossy(&init.stderr)))
        .to_owned();
    let (_emulator, emulator_url) = common::emulator(5, &[]);
    let (_server, base) = common::spawn(
        Some(home.path()),
        &[
            "server",
            "--listen",
            "127.0.0.1:0",
            "--header-timeout",
            "2",
            "--body-timeout",
            "2",
            "--idle-timeout",
            "60",
            "--max-connections-per-address",
            "200",
        ],
    );
    let addr = base.trim_start_matches("http://").to_owned();
    let account = serde_json::json!({"appid": APPID, "name": "Newsroom", "account_type": "service",
        "secret": common::SECRET, "callback_token": TOKEN, "aes_key": KEY, "api_base": emulator_url});
    let (status, answer) = api(
        &addr,
        "POST",
        "/api/v1/accounts",
        &admin,
        &account.to_string(),
    );
    assert_eq!(status, 201, "{answer}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut flood = Vec::new();
    for i in 0..5000 {
        let Some(mut stream) = connect_from(&runtime, "127.0.0.2", &addr) else {
            continue;
        };
        let _ = if i % 2 == 0 {
            stream.write_all(b"POST /api/v1/session HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        } else {
            stream.write_all(
                format!("POST /callback/{APPID}?timestamp=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n<xml>").as_bytes(),
            )
        };
        flood.push(stream);
    }
    assert!(
        flood.len() > 4000,
        "the flood could not connect: {}",
        flood.len()
    );
    for n in 0..10u32 {
        for stream in flood.iter_mut().take(400) {
            let _ = stream.write_all(b"x");
        }
        let started = Instant::now();
        let (status, me) = api(&addr, "GET", "/api/v1/me", &admin, "");
        assert_eq!(status, 200, "{me}");
        let push = safe(
            &job_xml(&(7_000_001 + n).to_string(), "send success", "5"),
            now(),
            &format!("serverflood{n}"),
        );
        let (status, body) = request_to(
            &addr,
            "POST",
            &format!("/callback/{APPID}"),
            &push.query,
            &push.body,
        );
        assert_eq!((status, body.as_str()), (200, "success"));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "round {n} took {took:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut open = 0;
    for stream in &mut flood {
        if !closed_within(stream, Duration::from_secs(15)) {
            open += 1;
        }
    }
    assert_eq!(open, 0, "flood connections still open");
}

/// One API call with a bearer token on a fresh connection: status and body.
fn api(addr: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    exchange(
        addr,
        &format!("{method} {path}"),
        &format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"),
        body,
    )
}

#[test]
fn connections_past_the_cap_are_closed_at_once() {
    let home = tempfile::tempdir().expect("home");
    let server = serve(
        home.path(),
        &["--max-connections", "20"],
        &[("WXMASS_CALLBACK_AES_KEY", KEY)],
    );
    let held: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect(&server.addr).expect("connect"))
        .collect();
    // Let serve accept them all.
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = TcpStream::connect(&server.addr).expect("connect");
    extra
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = extra.read(&mut buf);
    assert!(
        matches!(read, Ok(0) | Err(_)) && started.elapsed() < Duration::from_secs(1),
        "the 21st connection was not closed at once: {read:?}"
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let push = safe(&job_xml("6000001", "send success", "5"), now(), "c1");
    assert_eq!(post(&server, &push), (200, "success".into()));
}

#[test]
fn counts_and_ids_out_of_range_are_refused_with_the_field_named() {
    let home = tempfile::tempdir().expect("home");
    let server = safe_serve(home.path());
    let cases = [
        (
            job_xml("7000001", "send success", "18446744073709551615"),
            "SentCount",
        ),
        (
            job_xml("7000002", "send success", "5").replace(
                "<ErrorCount>0</ErrorCount>",
                "<ErrorCount>9223372036854775808</ErrorCount>",
            ),
            "ErrorCount",
        ),
        (job_xml("-5", "send success", "5"), "MsgID"),
        (
            job_xml("18446744073709551615", "send success", "5"),
            "MsgID",
        ),
    ];
    for (i, (xml, field)) in cases.iter().enumerate() {
        let (status, reason) = post(&server, &safe(xml, now(), &format!("o{i}")));
        assert_eq!(status, 400, "{field}: {reason}");
        assert!(reason.contains(field), "{field}: {reason}");
    }
    assert!(recorded_msg_ids(home.path()).is_empty());
}

#[test]
fn control_characters_never_reach_the_log_or_the_journal() {
    let home = tempfile::tempdir().expect("home");
    let server = safe_serve(home.path());
    for (i, status) in [
        "send success\nFORGED job 1 finished: send success (5 of 5 sent)",
        "\u{1b}[31msend success\u{1b}[0m",
        "send\0success",
    ]
    .iter()
    .enumerate()
    {
        let (code, reason) = post(
            &server,
            &safe(&job_xml("8000001", status, "5"), now(), &format!("x{i}")),
        );
        assert_eq!(code, 400, "{reason}");
        assert!(
            reason.contains("Status") || reason.contains("control character"),
            "{reason}"
        );
    }
    assert!(recorded_msg_ids(home.path()).is_empty());
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(!log.contains('\u{1b}') && !log.contains('\0'), "{log:?}");
    assert!(
        !log.lines().any(|l| l.starts_with("FORGED")),
        "a forged log line: {log}"
    );
}

#[test]
fn serve_needs_no_app_secret_and_honours_rust_log() {
    let home = tempfile::tempdir().expect("home");
    // No WXMASS_SECRET anywhere, no profile.
    let server = serve(
        home.path(),
        &[],
        &[("WXMASS_CALLBACK_AES_KEY", KEY), ("RUST_LOG", "debug")],
    );
    let push = safe(&job_xml("9000001", "send success", "5"), now(), "n1");
    assert_eq!(post(&server, &push).0, 200);
    assert_eq!(post(&server, &push).0, 200);
    assert_eq!(recorded_msg_ids(home.path()), vec![9000001]);
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(
        log.contains("job 9000001 finished: send success (5 of 5 sent)"),
        "{log}"
    );
    assert!(
        log.contains("DEBUG"),
        "RUST_LOG=debug shows debug lines: {log}"
    );
    assert!(!log.contains('\u{1b}'), "no colours into a file: {log:?}");
    drop(server);

    // The token and key are named in --help with a warning about `ps`.
    let help = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["serve", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "WXMASS_CALLBACK_TOKEN",
        "WXMASS_CALLBACK_AES_KEY",
        "ps",
        "RUST_LOG",
        "--header-timeout",
        "--idle-timeout",
        "--body-timeout",
        "--max-connections",
        "--allow-plaintext",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}: {help}");
    }
}

#[test]
fn an_existing_journal_readable_by_others_is_made_private() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().expect("home");
    let journal = home.path().join("shared.db");
    {
        let conn = rusqlite::Connection::open(&journal).expect("create");
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x);")
            .expect("wal");
    }
    let wal = home.path().join("shared.db-wal");
    std::fs::write(&wal, b"").expect("wal file");
    for f in [&journal, &wal] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let journal_flag = journal.to_string_lossy().into_owned();
    let server = serve(
        home.path(),
        &["--journal", &journal_flag],
        &[("WXMASS_CALLBACK_AES_KEY", KEY)],
    );
    for f in [&journal, &wal] {
        let mode = std::fs::metadata(f).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    drop(server);
}

#[test]
fn a_bad_aes_key_is_explained_once() {
    let home = tempfile::tempdir().expect("home");
    let bad = format!("{}!", &KEY[..42]);
    let out = Command::new(env!("CARGO_BIN_EXE_wxmass"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("WXMASS_HOME", home.path())
        .env("WXMASS_APPID", APPID)
        .env("WXMASS_CALLBACK_TOKEN", TOKEN)
        .env("WXMASS_CALLBACK_AES_KEY", &bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches("EncodingAESKey").count(), 1, "{err}");
    assert!(err.contains("position 43"), "{err}");
    assert!(!err.contains(&bad), "the key is never shown: {err}");
}

#[test]
fn a_second_different_report_is_a_conflict_and_the_first_is_kept() {
    let home = tempfile::tempdir().expect("home");
    let server = safe_serve(home.path());
    let first = safe(&job_xml("9100001", "send success", "5"), now(), "k1");
    let second = safe(&job_xml("9100001", "send fail", "0"), now(), "k2");
    assert_eq!(post(&server, &first).0, 200);
    assert_eq!(post(&server, &second).0, 200);
    let strays = strays(home.path());
    let kinds: Vec<&str> = strays.iter().filter_map(|s| s["kind"].as_str()).collect();
    assert_eq!(kinds, ["unknown job", "conflict"], "{strays:?}");
    assert_eq!(strays[0]["status"], "send success", "the first is kept");
    assert_eq!(strays[1]["status"], "send fail");
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    assert!(log.contains("CONFLICT"), "{log}");
}
