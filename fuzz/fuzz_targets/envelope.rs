//! Push bodies through the whole stateless path. The query is signed over
//! whatever `Encrypt` the body holds, so inputs get past the signature check
//! and reach decryption and event parsing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass_callback::signature::{msg_signature, url_signature};
use wxmass_callback::{CallbackConfig, Envelope, PushQuery, Rejection, open_push};

const TOKEN: &str = "fuzzToken";

fuzz_target!(|data: &[u8]| {
    let builder = CallbackConfig::builder(TOKEN, "wx0123456789abcdef")
        .aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
        .disable_timestamp_check();
    let (Ok(strict), Ok(config)) = (
        builder.clone().build(),
        builder.allow_plaintext(true).build(),
    ) else {
        return;
    };
    let mut query = PushQuery {
        signature: Some(url_signature(TOKEN, "1", "n")),
        timestamp: Some("1".into()),
        nonce: Some("n".into()),
        ..PushQuery::default()
    };
    // Plaintext mode: refused outright with a key configured, whatever the
    // body; read when allowed.
    if data.len() <= 64 * 1024 {
        assert!(
            matches!(
                open_push(&strict, &query, data, 1),
                Err(Rejection::PlaintextRefused)
            ),
            "a plaintext push got past a receiver with a key"
        );
    }
    let _ = open_push(&config, &query, data, 1);
    // Safe mode, signed over the body's Encrypt if there is one.
    if let Ok(body) = std::str::from_utf8(data) {
        if let Ok(envelope) = Envelope::parse(body) {
            if let Some(encrypt) = envelope.encrypt() {
                query.encrypt_type = Some("aes".into());
                query.msg_signature = Some(msg_signature(TOKEN, "1", "n", encrypt));
                let _ = open_push(&config, &query, data, 1);
            }
        }
    }
});
