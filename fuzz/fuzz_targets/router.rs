//! Whole HTTP requests through the router, signed by the harness so that
//! they get past the signature: a message (any bytes) sent in plaintext,
//! safe or compatible mode, then sent again, then its query reused with
//! another body. Whatever the message, the router must answer only the
//! statuses it documents, a retry of an accepted request must be accepted,
//! a reused query with other content must never be, and at most one push
//! may come out.
#![no_main]

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use wxmass_callback::CallbackConfig;
use wxmass_callback::crypto::{AesKey, MessageCrypto, Sealed};
use wxmass_callback::signature::url_signature;

const TOKEN: &str = "fuzzToken";
const APPID: &str = "wx0123456789abcdef";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn post(router: &axum::Router, query: &str, body: Vec<u8>) -> StatusCode {
    let Ok(request) = Request::post(format!("/?{query}")).body(Body::from(body)) else {
        return StatusCode::BAD_REQUEST;
    };
    runtime()
        .block_on(router.clone().oneshot(request))
        .map(|r| r.status())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Some((&nonce, message)) = rest.split_first() else {
        return;
    };
    let Ok(config) = CallbackConfig::builder(TOKEN, APPID)
        .aes_key(KEY)
        .allow_plaintext(true)
        .build()
    else {
        return;
    };
    let (router, mut pushes) = wxmass_callback::router(config);
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string();
    let nonce = format!("n{nonce}");
    let signature = url_signature(TOKEN, &timestamp, &nonce);
    let plain_query = format!("signature={signature}&timestamp={timestamp}&nonce={nonce}");
    let (query, body) = match (mode % 3, std::str::from_utf8(message)) {
        (0, _) | (_, Err(_)) => (plain_query.clone(), message.to_vec()),
        (encrypted, Ok(text)) => {
            let Ok(key) = AesKey::from_encoding_aes_key(KEY) else {
                return;
            };
            let encrypt = MessageCrypto::new(APPID, key).encrypt_with_random(text, *b"0123456789abcdef");
            let sealed = Sealed::sign(TOKEN, encrypt, &timestamp, &nonce);
            let body = if encrypted == 1 {
                sealed.to_push_xml("gh_1")
            } else {
                // Compatible mode: the plaintext fields beside Encrypt.
                format!("<xml><MsgID>1</MsgID><Encrypt><![CDATA[{}]]></Encrypt></xml>", sealed.encrypt)
            };
            let query = format!(
                "{plain_query}&encrypt_type=aes&msg_signature={}",
                sealed.msg_signature
            );
            (query, body.into_bytes())
        }
    };

    let first = post(&router, &query, body.clone());
    let documented = [200, 400, 403, 408, 413, 503];
    assert!(documented.contains(&first.as_u16()), "undocumented status {first}");
    let again = post(&router, &query, body.clone());
    if first == StatusCode::OK {
        assert_eq!(again, StatusCode::OK, "a retry of an accepted request was refused");
    }
    let mut forged = body;
    forged.extend_from_slice(b" ");
    let replay = post(&router, &plain_query, forged);
    if first == StatusCode::OK {
        assert_eq!(replay, StatusCode::FORBIDDEN, "a used query carried other content");
    }
    let mut delivered = 0;
    while pushes.try_recv().is_ok() {
        delivered += 1;
    }
    assert!(delivered <= 1, "{delivered} pushes from one request");
});
