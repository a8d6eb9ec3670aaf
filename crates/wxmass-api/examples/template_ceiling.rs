//! The emulator's own ceiling for `message/template/send`: bare reqwest, 64
//! requests in flight, one template message to each follower listed (each
//! with a `client_msg_id`, as a careful sender sends), nothing recorded. What
//! `bench/fanout.sh` measures wxmass's fan-out against.
//!
//! `WXMASS_BENCH_URL=http://127.0.0.1:8085 WXMASS_BENCH_TEMPLATE=ID \
//!   WXMASS_BENCH_OPENIDS=followers.txt cargo run --release -p wxmass-api --example template_ceiling`
//! prints `{"sent": N, "seconds": S, "per_second": R}`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use wxmass_api::Client;

const APPID: &str = "wx5e1f0c2a9b84d37e";
const SECRET: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn env(name: &str) -> Result<String, Box<dyn std::error::Error>> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = env("WXMASS_BENCH_URL")?;
    let template = env("WXMASS_BENCH_TEMPLATE")?;
    let openids: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(env("WXMASS_BENCH_OPENIDS")?)?
            .lines()
            .map(str::to_owned)
            .collect(),
    );
    let client = Client::builder(APPID, SECRET).base_url(&url).build()?;
    let token = client.access_token().await?.expose().to_owned();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let endpoint = Arc::new(format!(
        "{url}/cgi-bin/message/template/send?access_token={token}"
    ));
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..64)
        .map(|_| {
            let (http, endpoint, openids, next) = (
                http.clone(),
                endpoint.clone(),
                openids.clone(),
                next.clone(),
            );
            let template = template.clone();
            tokio::spawn(async move {
                let mut sent = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(openid) = openids.get(i) else {
                        return sent;
                    };
                    let body = serde_json::json!({
                        "touser": openid, "template_id": template, "client_msg_id": format!("c{i}"),
                        "data": {"thing1": {"value": "钢笔"}, "thing2": {"value": "顺丰速运"},
                                 "character_string3": {"value": "SF1234567890"},
                                 "time4": {"value": "2026-12-06 10:00"}}});
                    let ok = match http.post(endpoint.as_str()).json(&body).send().await {
                        Ok(r) => r
                            .bytes()
                            .await
                            .ok()
                            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                            .is_some_and(|v| v["errcode"] == 0),
                        Err(_) => false,
                    };
                    sent += usize::from(ok);
                }
            })
        })
        .collect();
    let mut sent = 0;
    for w in workers {
        sent += w.await?;
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"sent": sent, "seconds": seconds, "per_second": sent as f64 / seconds})
    );
    Ok(())
}
