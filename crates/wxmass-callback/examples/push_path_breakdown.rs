//! Where the push path spends its time: the full `open_push` and each of its
//! steps timed alone on the benchmark's request. A profiling aid for
//! docs/benchmarks.md, not a benchmark (the figures of record come from
//! criterion and `bench/callback-vs-wechatpy.sh`).
//!
//! `taskset -c 0 cargo run --release -p wxmass-callback --example push_path_breakdown`

use std::hint::black_box;
use std::time::Instant;

use wxmass_callback::{Push, open_push, signature, xml};

// Shared with the bench, which uses more of it than this example does.
#[allow(dead_code)]
#[path = "../benches/fixture.rs"]
mod fixture;

fn time(name: &str, mut step: impl FnMut() -> usize) {
    const RUNS: u32 = 400_000;
    for _ in 0..RUNS / 10 {
        black_box(step());
    }
    let start = Instant::now();
    for _ in 0..RUNS {
        black_box(step());
    }
    let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(RUNS);
    println!("{name:>28}: {micros:.3} µs");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let f = fixture::fixture();
    let config = f.config();
    let query = f.query();
    let now = f.now();
    let envelope = xml::Document::parse(&f.body)?;
    let encrypt = envelope
        .root()
        .child_text("Encrypt")
        .ok_or("fixture has no Encrypt")?
        .to_owned();
    let crypto = config.crypto().ok_or("no key")?.clone();
    let parts = [fixture::TOKEN, fixture::TIMESTAMP, fixture::NONCE];
    let parts4 = [fixture::TOKEN, fixture::TIMESTAMP, fixture::NONCE, &encrypt];

    println!(
        "request: {} byte body, {} byte message",
        f.body.len(),
        f.plaintext.len()
    );
    time("open_push (all of it)", || {
        open_push(&config, &query, f.body.as_bytes(), now).map_or(0, |_| 1)
    });
    time("UTF-8 check of the body", || {
        std::str::from_utf8(f.body.as_bytes()).map_or(0, str::len)
    });
    time("signature", || {
        signature::verify("signature", Some(&f.signature), &parts).map_or(0, |_| 1)
    });
    time("envelope XML", || {
        xml::Document::parse(&f.body).map_or(0, |d| d.root().children().count())
    });
    time("msg_signature (SHA-1)", || {
        signature::verify("msg_signature", Some(&f.msg_signature), &parts4).map_or(0, |_| 1)
    });
    time("decrypt (base64 + AES)", || {
        crypto
            .decrypt_message(&encrypt)
            .map_or(0, |m| m.as_str().len())
    });
    time("  of which base64", || {
        base64_simd::STANDARD
            .decode_to_vec(&encrypt)
            .map_or(0, |v| v.len())
    });
    let sent = |push: Result<Push, _>| match push {
        Ok(Push::MassSendJobFinish(job)) => job.sent_count as usize,
        _ => 0,
    };
    time("message, fast path", || sent(Push::parse(&f.plaintext)));
    time("message, general reader", || {
        sent(
            xml::Document::parse(&f.plaintext)
                .map_err(Into::into)
                .and_then(|doc| Push::from_document(&doc)),
        )
    });
    time("  of which the XML document", || {
        xml::Document::parse(&f.plaintext).map_or(0, |d| d.root().children().count())
    });
    Ok(())
}
