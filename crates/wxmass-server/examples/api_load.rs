//! A load generator for `bench/server-api.sh`: CONNECTIONS concurrent
//! clients keep one request each in flight against a running `wxmass
//! server` for SECONDS, and the requests per second and the p50/p99
//! latencies are printed as JSON.
//!
//! ```text
//! cargo run --release -p wxmass-server --example api_load -- \
//!     status|create URL TOKEN [CONNECTIONS] [SECONDS]
//! ```
//! `status` reads `GET /api/v1/campaigns/load-0`; `create` posts new drafts
//! (`POST /api/v1/campaigns`, ids `load-N-...`) for the account the script
//! made.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [mode, url, token, rest @ ..] = args.as_slice() else {
        return Err("usage: api_load status|create URL TOKEN [CONNECTIONS] [SECONDS]".into());
    };
    let connections: usize = rest.first().map_or(Ok(64), |s| s.parse())?;
    let seconds: u64 = rest.get(1).map_or(Ok(5), |s| s.parse())?;
    let appid = std::env::var("APPID").unwrap_or_else(|_| "wx5e1f0c2a9b84d37e".into());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..connections {
        let (client, url, token, mode) = (client.clone(), url.clone(), token.clone(), mode.clone());
        let (counter, appid) = (counter.clone(), appid.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let request = if mode == "create" {
                    client
                        .post(format!("{url}/api/v1/campaigns"))
                        .json(&serde_json::json!({
                            "id": format!("load-{worker}-{n}"), "appid": appid, "name": "load",
                            "content": {"type": "text", "text": "load"}, "audience": {"kind": "all"}}))
                } else {
                    client.get(format!("{url}/api/v1/campaigns/load-0"))
                };
                let start = Instant::now();
                match request.bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(start.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        });
    }
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    while let Some(done) = tasks.join_next().await {
        let (latencies, e) = done?;
        all.extend(latencies);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        serde_json::json!({
            "mode": mode, "connections": connections, "requests": all.len(), "errors": errors,
            "per_second": all.len() as f64 / elapsed, "p50_ms": at(0.5), "p99_ms": at(0.99),
        })
    );
    Ok(())
}
