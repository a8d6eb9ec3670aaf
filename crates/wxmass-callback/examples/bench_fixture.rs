//! Prints the push-path benchmark's request as JSON, so that another
//! implementation (wechatpy, in `bench/callback-vs-wechatpy.sh`) can run the
//! very same workload: the MASSSENDJOBFINISH, or with `template` the
//! TEMPLATESENDJOBFINISH.

// Shared with the bench, which uses more of it than this example does.
#[allow(dead_code)]
#[path = "../benches/fixture.rs"]
mod fixture;

fn main() {
    let f = if std::env::args().nth(1).as_deref() == Some("template") {
        fixture::template_fixture()
    } else {
        fixture::fixture()
    };
    let json = serde_json::json!({
        "token": fixture::TOKEN,
        "appid": fixture::APPID,
        "encoding_aes_key": fixture::ENCODING_AES_KEY,
        "timestamp": fixture::TIMESTAMP,
        "nonce": fixture::NONCE,
        "signature": f.signature,
        "msg_signature": f.msg_signature,
        "body": f.body,
        "plaintext_bytes": f.plaintext.len(),
    });
    println!("{json}");
}
