//! A load generator for a push receiver: distinct, valid safe-mode
//! MASSSENDJOBFINISH pushes (each its own MsgID and nonce, the ~1 KB report
//! of the `push_path` bench), made ahead of time, then posted over keep-alive
//! connections as fast as the receiver answers. Prints JSON: pushes answered
//! `success`, failures, seconds, pushes per second.
//!
//! ```text
//! cargo run --release -p wxmass-callback --example push_load -- \
//!     URL TOKEN ENCODING_AES_KEY APPID PUSHES CONNECTIONS [ACCOUNTS_FILE]
//! ```
//! `bench/serve-ingest.sh` runs it against `wxmass serve` and against a
//! Python receiver, with the fixture's token, key and appid.
//!
//! URL's path is where the pushes go (`/` when none). With ACCOUNTS_FILE
//! (lines `APPID ORIGINAL_ID`), the pushes go round the accounts, each to
//! the path with `$APPID$` replaced and naming the account's original id:
//! a third-party platform's message URL (`bench/platform.sh`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wxmass_callback::crypto::{AesKey, MessageCrypto, Sealed};
use wxmass_callback::signature;

#[allow(dead_code)]
#[path = "../benches/fixture.rs"]
mod fixture;

fn usage() -> ! {
    eprintln!(
        "usage: push_load URL TOKEN ENCODING_AES_KEY APPID PUSHES CONNECTIONS [ACCOUNTS_FILE]"
    );
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, token, key, appid, pushes, connections, accounts_file) = match args.as_slice() {
        [url, token, key, appid, pushes, connections] => {
            (url, token, key, appid, pushes, connections, None)
        }
        [url, token, key, appid, pushes, connections, file] => {
            (url, token, key, appid, pushes, connections, Some(file))
        }
        _ => usage(),
    };
    let (Ok(pushes), Ok(connections)) = (pushes.parse::<usize>(), connections.parse::<usize>())
    else {
        usage()
    };
    let Some(rest) = url.strip_prefix("http://") else {
        usage()
    };
    let (addr, path) = match rest.split_once('/') {
        Some((addr, path)) => (addr.to_owned(), format!("/{path}")),
        None => (rest.to_owned(), "/".to_owned()),
    };
    // (path, original id) of each account the pushes go round.
    let accounts: Vec<(String, String)> = match accounts_file {
        None => vec![(path.clone(), "gh_4d00ed8d6399".to_owned())],
        Some(file) => std::fs::read_to_string(file)
            .unwrap_or_else(|e| {
                eprintln!("{file}: {e}");
                std::process::exit(2)
            })
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(appid, gh)| (path.replace("$APPID$", appid), gh.trim().to_owned()))
            .collect(),
    };
    if accounts.is_empty() {
        usage()
    }
    let Ok(key) = AesKey::from_encoding_aes_key(key) else {
        usage()
    };
    let crypto = MessageCrypto::new(appid.clone(), key);

    // Every request made before the clock starts: the receiver is measured,
    // not this process's AES and SHA-1.
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    let template = fixture::plaintext();
    let requests: Vec<Vec<u8>> = (0..pushes)
        .map(|i| {
            let msg_id = 5_000_000_000u64 + i as u64;
            let xml = template.replace(
                "<MsgID>3147494552</MsgID>",
                &format!("<MsgID>{msg_id}</MsgID>"),
            );
            let nonce = format!("{}", 1_000_000_000u64 + i as u64);
            let (path, original_id) = &accounts[i % accounts.len()];
            let xml = xml.replace(
                "<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>",
                &format!("<ToUserName><![CDATA[{original_id}]]></ToUserName>"),
            );
            let sealed = Sealed::sign(token, crypto.encrypt(&xml), &timestamp, &nonce);
            let body = sealed.to_push_xml(original_id);
            format!(
                "POST {path}?signature={}&timestamp={timestamp}&nonce={nonce}&openid=o1&encrypt_type=aes&msg_signature={} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                signature::url_signature(token, &timestamp, &nonce),
                sealed.msg_signature,
                body.len()
            )
            .into_bytes()
        })
        .collect();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let succeeded = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));

    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections.max(1) {
        let (requests, next) = (requests.clone(), next.clone());
        let (succeeded, failed) = (succeeded.clone(), failed.clone());
        let addr = addr.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = None;
            let mut buf = vec![0u8; 4096];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    break;
                };
                if stream.is_none() {
                    stream = TcpStream::connect(&addr).await.ok();
                }
                let ok = match stream.as_mut() {
                    Some(s) => exchange(s, request, &mut buf).await,
                    None => false,
                };
                if ok {
                    succeeded.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    stream = None;
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let succeeded = succeeded.load(Ordering::Relaxed);
    println!(
        "{}",
        serde_json::json!({
            "pushes": succeeded,
            "failed": failed.load(Ordering::Relaxed),
            "connections": connections,
            "seconds": seconds,
            "pushes_per_sec": succeeded as f64 / seconds,
        })
    );
}

/// Sends one request and reads its answer; true for a 200 `success`.
async fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut [u8]) -> bool {
    if stream.write_all(request).await.is_err() {
        return false;
    }
    let mut filled = 0;
    loop {
        let Ok(n) = stream.read(&mut buf[filled..]).await else {
            return false;
        };
        if n == 0 {
            return false;
        }
        filled += n;
        let head = &buf[..filled];
        let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
            if filled == buf.len() {
                return false;
            }
            continue;
        };
        let text = String::from_utf8_lossy(&head[..end]);
        let length = text
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())
                    .flatten()
            })
            .unwrap_or(0);
        if filled >= end + 4 + length {
            return text.starts_with("HTTP/1.1 200")
                && &head[end + 4..end + 4 + length] == b"success";
        }
        if filled == buf.len() {
            return false;
        }
    }
}
