//! A load generator for a push receiver: distinct, valid safe-mode
//! MASSSENDJOBFINISH pushes (each its own MsgID and nonce, the ~1 KB report
//! of the `push_path` bench), made ahead of time, then posted over keep-alive
//! connections as fast as the receiver answers. Prints JSON: pushes answered
//! `success`, failures, seconds, pushes per second.
//!
//! ```text
//! cargo run --release -p wxmass-callback --example push_load -- \
//!     URL TOKEN ENCODING_AES_KEY APPID PUSHES CONNECTIONS
//! ```
//! `bench/serve-ingest.sh` runs it against `wxmass serve` and against a
//! Python receiver, with the fixture's token, key and appid.

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
    eprintln!("usage: push_load URL TOKEN ENCODING_AES_KEY APPID PUSHES CONNECTIONS");
    std::process::exit(2)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, key, appid, pushes, connections] = args.as_slice() else {
        usage()
    };
    let (Ok(pushes), Ok(connections)) = (pushes.parse::<usize>(), connections.parse::<usize>())
    else {
        usage()
    };
    let Some(addr) = url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/').to_owned())
    else {
        usage()
    };
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
            let sealed = Sealed::sign(token, crypto.encrypt(&xml), &timestamp, &nonce);
            let body = sealed.to_push_xml("gh_4d00ed8d6399");
            format!(
                "POST /?signature={}&timestamp={timestamp}&nonce={nonce}&openid=o1&encrypt_type=aes&msg_signature={} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
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
