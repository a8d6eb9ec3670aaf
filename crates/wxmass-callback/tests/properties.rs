//! Property tests: encryption round-trips anything, and no single-bit change to
//! a sealed push or its signature gets through.

use base64_simd::STANDARD;
use proptest::prelude::*;
use wxmass_callback::crypto::{AesKey, MessageCrypto, Sealed};
use wxmass_callback::xml::cdata_safe;
use wxmass_callback::{CallbackConfig, Push, PushQuery, open_push};

const TIMESTAMP: &str = "1700000000";
const NOW: i64 = 1_700_000_000;

fn push_xml(content: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{}]]></Content></xml>",
        cdata_safe(content)
    )
}

fn setup(token: &str, key: [u8; 32], appid: &str) -> (CallbackConfig, MessageCrypto) {
    let key = AesKey::from_bytes(key);
    let config = CallbackConfig::builder(token, appid)
        .aes_key(key.to_encoding_aes_key())
        .build()
        .expect("valid config");
    (config, MessageCrypto::new(appid, key))
}

fn query(sealed: &Sealed) -> PushQuery {
    PushQuery {
        timestamp: Some(sealed.timestamp.clone()),
        nonce: Some(sealed.nonce.clone()),
        encrypt_type: Some("aes".into()),
        msg_signature: Some(sealed.msg_signature.clone()),
        ..PushQuery::default()
    }
}

fn open(config: &CallbackConfig, query: &PushQuery, encrypt: &str) -> Option<Push> {
    let body = format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    );
    open_push(config, query, body.as_bytes(), NOW)
        .ok()
        .map(|o| o.push)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn encrypt_then_decrypt_round_trips(msg in any::<String>(), appid in any::<String>(), key in any::<[u8; 32]>()) {
        let crypto = MessageCrypto::new(appid, AesKey::from_bytes(key));
        let encrypt = crypto.encrypt(&msg);
        prop_assert_eq!(crypto.decrypt(&encrypt), Ok(msg));
    }

    #[test]
    fn single_bit_flip_of_the_ciphertext_is_rejected(
        content in "\\PC{0,300}",
        token in "[A-Za-z0-9]{3,32}",
        appid in "wx[0-9a-f]{16}",
        key in any::<[u8; 32]>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (config, crypto) = setup(&token, key, &appid);
        let sealed = crypto.seal(&token, &push_xml(&content), TIMESTAMP, "12345");
        let q = query(&sealed);
        let opened = open(&config, &q, &sealed.encrypt);
        prop_assert!(opened.is_some(), "the untouched push opens");

        let mut raw = STANDARD.decode_to_vec(&sealed.encrypt).expect("base64");
        let i = bit.index(raw.len() * 8);
        raw[i / 8] ^= 1 << (i % 8);
        prop_assert!(open(&config, &q, &STANDARD.encode_to_string(&raw)).is_none());
    }

    #[test]
    fn single_bit_flip_of_the_encrypt_text_is_rejected(
        content in "\\PC{0,100}",
        key in any::<[u8; 32]>(),
        bit in any::<prop::sample::Index>(),
    ) {
        let (config, crypto) = setup("token123", key, "wx0123456789abcdef");
        let sealed = crypto.seal("token123", &push_xml(&content), TIMESTAMP, "n");
        let mut text = sealed.encrypt.clone().into_bytes();
        let i = bit.index(text.len() * 8);
        text[i / 8] ^= 1 << (i % 8);
        // A flip can make invalid UTF-8 or XML; either way it must not open.
        if let Ok(text) = String::from_utf8(text) {
            prop_assert!(open(&config, &query(&sealed), &text).is_none());
        }
    }

    #[test]
    fn single_bit_flip_of_the_signature_is_rejected(
        content in "\\PC{0,100}",
        key in any::<[u8; 32]>(),
        bit in 0usize..160,
    ) {
        let (config, crypto) = setup("token123", key, "wx0123456789abcdef");
        let sealed = crypto.seal("token123", &push_xml(&content), TIMESTAMP, "n");
        let mut digest = hex::decode(&sealed.msg_signature).expect("hex");
        digest[bit / 8] ^= 1 << (bit % 8);
        let mut q = query(&sealed);
        q.msg_signature = Some(hex::encode(digest));
        prop_assert!(open(&config, &q, &sealed.encrypt).is_none());
    }

    #[test]
    fn arbitrary_bodies_never_panic(body in any::<Vec<u8>>(), encrypted in any::<bool>()) {
        let (config, _) = setup("token123", [7; 32], "wx0123456789abcdef");
        let q = PushQuery {
            timestamp: Some(TIMESTAMP.into()),
            nonce: Some("n".into()),
            signature: Some("0".repeat(40)),
            encrypt_type: encrypted.then(|| "aes".to_string()),
            msg_signature: Some("0".repeat(40)),
            ..PushQuery::default()
        };
        prop_assert!(open_push(&config, &q, &body, NOW).is_err());
    }
}
