#![allow(dead_code)]
#[path = "../benches/fixture.rs"]
mod fixture;
use std::hint::black_box;
use std::time::Instant;
use wxmass_callback::*;
fn time<F: FnMut() -> usize>(name: &str, mut f: F) {
    let n = 400_000;
    for _ in 0..n / 10 {
        black_box(f());
    }
    let t = Instant::now();
    let mut c = 0;
    for _ in 0..n {
        c += black_box(f());
    }
    println!(
        "{name:>22}: {:.3} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    black_box(c);
}
fn main() {
    let f = fixture::fixture();
    let config = CallbackConfig::builder(fixture::TOKEN, fixture::APPID)
        .aes_key(fixture::ENCODING_AES_KEY)
        .build()
        .unwrap();
    let query = PushQuery {
        signature: Some(f.signature.clone()),
        timestamp: Some(fixture::TIMESTAMP.into()),
        nonce: Some(fixture::NONCE.into()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(f.msg_signature.clone()),
        ..PushQuery::default()
    };
    let now: i64 = fixture::TIMESTAMP.parse().unwrap();
    let doc = xml::Document::parse(&f.body).unwrap();
    let enc = doc.root().child_text("Encrypt").unwrap().to_string();
    let crypto = config.crypto().unwrap().clone();
    time("full open_push", || {
        open_push(&config, &query, f.body.as_bytes(), now)
            .map(|_| 1)
            .unwrap_or(0)
    });
    time("utf8 body", || {
        std::str::from_utf8(f.body.as_bytes()).unwrap().len()
    });
    time("signature", || {
        signature::verify(
            "signature",
            Some(&f.signature),
            &[fixture::TOKEN, fixture::TIMESTAMP, fixture::NONCE],
        )
        .map(|_| 1)
        .unwrap_or(0)
    });
    time("envelope parse", || {
        xml::Document::parse(&f.body)
            .unwrap()
            .root()
            .child_text("Encrypt")
            .unwrap()
            .len()
    });
    time("msg_signature", || {
        signature::verify(
            "m",
            Some(&f.msg_signature),
            &[fixture::TOKEN, fixture::TIMESTAMP, fixture::NONCE, &enc],
        )
        .map(|_| 1)
        .unwrap_or(0)
    });
    time("decrypt_message", || {
        crypto.decrypt_message(&enc).unwrap().as_str().len()
    });
    time("base64", || {
        base64_simd::STANDARD.decode_to_vec(&enc).unwrap().len()
    });
    time("document parse", || {
        xml::Document::parse(&f.plaintext)
            .unwrap()
            .root()
            .children()
            .count()
    });
    time("push parse", || match Push::parse(&f.plaintext).unwrap() {
        Push::MassSendJobFinish(j) => j.sent_count as usize,
        _ => 0,
    });
}
