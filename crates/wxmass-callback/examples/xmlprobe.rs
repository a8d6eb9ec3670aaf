#![allow(dead_code)]
#[path = "../benches/fixture.rs"]
mod fixture;
use sha1::Digest as _;
use std::time::Instant;
fn time<F: FnMut() -> usize>(name: &str, mut f: F) {
    let n = 200_000;
    let t = Instant::now();
    let mut c = 0;
    for _ in 0..n {
        c += f();
    }
    println!(
        "{name}: {:.3} us ({c})",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
fn main() {
    let f = fixture::fixture();
    let root = wxmass_callback::xml::Element::parse(&f.body).unwrap();
    let enc = root.child_text("Encrypt").unwrap().to_string();
    let key =
        wxmass_callback::crypto::AesKey::from_encoding_aes_key(fixture::ENCODING_AES_KEY).unwrap();
    let crypto = wxmass_callback::crypto::MessageCrypto::new(fixture::APPID, key);
    time("sha1 msg_signature", || {
        wxmass_callback::signature::digest(&[
            fixture::TOKEN,
            fixture::TIMESTAMP,
            fixture::NONCE,
            &enc,
        ])[0] as usize
    });
    time("sha1 raw", || {
        sha1::Sha1::digest(enc.as_bytes())[0] as usize
    });
    time("base64", || {
        base64_simd::STANDARD.decode_to_vec(&enc).unwrap().len()
    });
    time("decrypt total", || crypto.decrypt(&enc).unwrap().len());
    time("outer parse", || {
        wxmass_callback::xml::Element::parse(&f.body)
            .unwrap()
            .children
            .len()
    });
    time("inner tree", || {
        wxmass_callback::xml::Element::parse(&f.plaintext)
            .unwrap()
            .children
            .len()
    });
    time("inner push", || {
        match wxmass_callback::Push::parse(&f.plaintext).unwrap() {
            wxmass_callback::Push::MassSendJobFinish(j) => j.sent_count as usize,
            _ => 0,
        }
    });
    time("utf8 body", || {
        std::str::from_utf8(f.body.as_bytes()).unwrap().len()
    });
}
