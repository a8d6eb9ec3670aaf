//! `mass().get()` requests/s through wxmass-api and through bare reqwest, on
//! the same emulator, with the same concurrency, in the same run.
//!
//! `bench/client-vs-peers.sh` starts the emulator and runs this and wechatpy.
//! Alone: `WXMASS_BENCH_URL=http://127.0.0.1:8085 WXMASS_BENCH_MSG_ID=1000000001 \
//!   cargo run --release -p wxmass-api --example client_bench`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use wxmass_api::Client;

const APPID: &str = "wx5e1f0c2a9b84d37e";
const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Runs `task` on `concurrency` workers for `duration`; returns calls per second.
async fn measure<F, Fut>(concurrency: usize, duration: Duration, task: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let task = Arc::new(task);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (task, done) = (task.clone(), done.clone());
            tokio::spawn(async move {
                while start.elapsed() < duration {
                    assert!(task().await, "a call failed");
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = env("WXMASS_BENCH_URL", "http://127.0.0.1:8085");
    let msg_id: i64 = env("WXMASS_BENCH_MSG_ID", "1000000001").parse()?;
    let seconds: u64 = env("WXMASS_BENCH_SECONDS", "10").parse()?;
    let concurrency: usize = env("WXMASS_BENCH_CONCURRENCY", "64").parse()?;
    let duration = Duration::from_secs(seconds);

    let client = Client::builder(APPID, SECRET).base_url(&url).build()?;
    client.mass().get(msg_id).await?; // warm: token and connections
    let token = client.access_token().await?.expose().to_owned();

    // Bare reqwest: the same request and a JSON parse of the answer; no token
    // management, no errcode check, no retries.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let endpoint = format!("{url}/cgi-bin/message/mass/get?access_token={token}");
    let body = format!("{{\"msg_id\":{msg_id}}}");
    // Alternate short rounds so that both see the same machine: the
    // emulator shares its two cores with the client under test.
    let rounds = 5u32;
    let round = duration / rounds;
    let (mut bare, mut ours) = (0.0, 0.0);
    for _ in 0..rounds {
        let (h, e, b) = (http.clone(), endpoint.clone(), body.clone());
        bare += measure(concurrency, round, move || {
            let (http, endpoint, body) = (h.clone(), e.clone(), b.clone());
            async move {
                match http.post(&endpoint).body(body).send().await {
                    // Read and parse the answer, as any real caller must.
                    Ok(r) => match r.bytes().await {
                        Ok(b) => serde_json::from_slice::<serde_json::Value>(&b).is_ok(),
                        Err(_) => false,
                    },
                    Err(_) => false,
                }
            }
        })
        .await;
        let c = client.clone();
        ours += measure(concurrency, round, move || {
            let client = c.clone();
            async move { client.mass().get(msg_id).await.is_ok() }
        })
        .await;
    }
    let (bare, ours) = (bare / f64::from(rounds), ours / f64::from(rounds));
    println!(
        "{{\"wxmass_api\": {ours:.0}, \"reqwest\": {bare:.0}, \"concurrency\": {concurrency}}}"
    );
    Ok(())
}
