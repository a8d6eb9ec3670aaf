//! A token storm: the access token is invalidated, then N calls start at
//! once, several rounds. Prints how many tokens the client fetched in each
//! round (goal: 1) as JSON.
//!
//! `bench/token-storm.sh` starts the emulator and runs this and wechatpy.
//! Alone: `WXMASS_BENCH_URL=http://127.0.0.1:8085 WXMASS_BENCH_MSG_ID=1000000001 \
//!   cargo run --release -p wxmass-api --example token_storm`

use std::time::Instant;

use serde_json::Value;
use wxmass_api::Client;

const APPID: &str = "wx5e1f0c2a9b84d37e";
const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Token fetches the emulator has served, of every kind.
async fn fetches(http: &reqwest::Client, url: &str) -> Result<u64, reqwest::Error> {
    let stats: Value = http
        .get(format!("{url}/_emulator/stats"))
        .send()
        .await?
        .json()
        .await?;
    let f = &stats["token_fetches"];
    Ok(["classic", "stable", "stable_forced"]
        .iter()
        .map(|k| f[k].as_u64().unwrap_or(0))
        .sum())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = env("WXMASS_BENCH_URL", "http://127.0.0.1:8085");
    let msg_id: i64 = env("WXMASS_BENCH_MSG_ID", "1000000001").parse()?;
    let calls: usize = env("WXMASS_BENCH_CALLS", "1000").parse()?;

    let rounds: usize = env("WXMASS_BENCH_ROUNDS", "5").parse()?;

    let client = Client::builder(APPID, SECRET).base_url(&url).build()?;
    client.mass().get(msg_id).await?; // a token, cached
    let http = reqwest::Client::new();
    let mut fetched = Vec::new();
    let mut succeeded = calls;
    let start = Instant::now();
    for _ in 0..rounds {
        // Every token the emulator issued expires: the cached one is now
        // stale, and only WeChat knows it.
        http.post(format!("{url}/_emulator/clock"))
            .body(r#"{"advance_seconds": 7300}"#)
            .send()
            .await?
            .error_for_status()?;
        let before = fetches(&http, &url).await?;
        let tasks: Vec<_> = (0..calls)
            .map(|_| {
                let client = client.clone();
                tokio::spawn(async move { client.mass().get(msg_id).await.is_ok() })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(task.await?);
        }
        succeeded = succeeded.min(ok);
        fetched.push(fetches(&http, &url).await? - before);
    }
    let seconds = start.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "{}",
        serde_json::json!({"calls": calls, "rounds": rounds, "succeeded": succeeded, "token_fetches": fetched, "seconds": seconds})
    );
    Ok(())
}
