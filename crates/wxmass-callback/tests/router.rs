//! The router over real HTTP on 127.0.0.1:0: URL verification, the three
//! modes, duplicate pushes, a slow handler, a full queue, and every hostile
//! case, each asserting the status code.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aes::Aes256;
use base64_simd::STANDARD;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeEncrypt, KeyIvInit};
use wxmass_callback::crypto::{AesKey, MessageCrypto};
use wxmass_callback::signature;
use wxmass_callback::{
    CallbackConfig, CallbackConfigBuilder, Push, PushHandler, PushReceiver, RecordFuture,
    SeenRequest,
};

const TOKEN: &str = "wxmassToken1";
const APPID: &str = "wx0123456789abcdef";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OLD_KEY: &str = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";

struct Server {
    base: String,
    http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(router: axum::Router) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server {
        base: format!("http://{addr}/"),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client"),
        task,
    }
}

fn builder() -> CallbackConfigBuilder {
    CallbackConfig::builder(TOKEN, APPID).aes_key(KEY)
}

async fn start(config: CallbackConfig) -> (Server, PushReceiver) {
    let (router, rx) = wxmass_callback::router(config);
    (serve(router).await, rx)
}

fn now() -> String {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
        .to_string()
}

fn job_xml(msg_id: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[mphelper]]></FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>{msg_id}</MsgID><Status><![CDATA[send success]]></Status><TotalCount>3</TotalCount><FilterCount>3</FilterCount><SentCount>3</SentCount><ErrorCount>0</ErrorCount></xml>"
    )
}

/// A signed request, ready to send.
struct Signed {
    query: Vec<(&'static str, String)>,
    body: String,
}

fn plain(body: &str, ts: &str, nonce: &str) -> Signed {
    Signed {
        query: vec![
            ("signature", signature::url_signature(TOKEN, ts, nonce)),
            ("timestamp", ts.into()),
            ("nonce", nonce.into()),
            ("openid", "o1".into()),
        ],
        body: body.into(),
    }
}

/// A safe-mode request carrying `encrypt` (any text) with a valid signature.
fn safe_with(encrypt: &str, ts: &str, nonce: &str) -> Signed {
    Signed {
        query: vec![
            ("signature", signature::url_signature(TOKEN, ts, nonce)),
            ("timestamp", ts.into()),
            ("nonce", nonce.into()),
            ("encrypt_type", "aes".into()),
            (
                "msg_signature",
                signature::msg_signature(TOKEN, ts, nonce, encrypt),
            ),
        ],
        body: format!(
            "<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        ),
    }
}

fn crypto(key: &str, appid: &str) -> MessageCrypto {
    MessageCrypto::new(appid, AesKey::from_encoding_aes_key(key).expect("key"))
}

fn safe(xml: &str, ts: &str, nonce: &str) -> Signed {
    safe_with(&crypto(KEY, APPID).encrypt(xml), ts, nonce)
}

impl Server {
    async fn post(&self, req: &Signed) -> (u16, String) {
        let resp = self
            .http
            .post(&self.base)
            .query(&req.query)
            .body(req.body.clone())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }

    async fn post_raw(&self, query: &[(&str, String)], body: Vec<u8>) -> u16 {
        self.http
            .post(&self.base)
            .query(query)
            .body(body)
            .send()
            .await
            .expect("request")
            .status()
            .as_u16()
    }

    async fn get(&self, query: &[(&str, &str)]) -> (u16, String) {
        let resp = self
            .http
            .get(&self.base)
            .query(query)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap_or_default())
    }
}

fn job_id(push: Option<Push>) -> i64 {
    match push {
        Some(Push::MassSendJobFinish(job)) => job.msg_id,
        other => panic!("expected a job report, got {other:?}"),
    }
}

fn nothing_delivered(rx: &mut PushReceiver) {
    assert!(rx.try_recv().is_err(), "nothing should have been delivered");
}

#[tokio::test]
async fn url_verification_echoes_echostr() {
    let (server, _rx) = start(builder().build().expect("config")).await;
    let ts = now();
    let sig = signature::url_signature(TOKEN, &ts, "1514711492");
    let ok = [
        ("signature", sig.as_str()),
        ("timestamp", ts.as_str()),
        ("nonce", "1514711492"),
        ("echostr", "4375120948345356249"),
    ];
    assert_eq!(server.get(&ok).await, (200, "4375120948345356249".into()));

    let mut bad = ok;
    bad[0].1 = "f464b24fc39322e44b38aa78f5edd27bd1441696";
    assert_eq!(server.get(&bad).await.0, 403);

    let stale_ts = (ts.parse::<i64>().expect("ts") - 301).to_string();
    let stale_sig = signature::url_signature(TOKEN, &stale_ts, "1");
    let stale = [
        ("signature", stale_sig.as_str()),
        ("timestamp", stale_ts.as_str()),
        ("nonce", "1"),
        ("echostr", "x"),
    ];
    assert_eq!(server.get(&stale).await.0, 403);
    assert_eq!(server.get(&ok[..3]).await.0, 403, "no echostr");
    assert_eq!(server.get(&[]).await.0, 403, "no parameters");
}

#[tokio::test]
async fn plaintext_mode_delivers_the_push() {
    let config = CallbackConfig::builder(TOKEN, APPID)
        .build()
        .expect("config");
    let (server, mut rx) = start(config).await;
    let (status, body) = server.post(&plain(&job_xml(11), &now(), "n1")).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    assert_eq!(job_id(rx.recv().await), 11);

    // No key configured: an encrypted push cannot be read.
    assert_eq!(server.post(&safe(&job_xml(12), &now(), "n2")).await.0, 400);
    nothing_delivered(&mut rx);
}

#[tokio::test]
async fn compatible_mode_trusts_only_the_encrypted_copy() {
    let (server, mut rx) = start(builder().build().expect("config")).await;
    let ts = now();
    let mut req = safe(&job_xml(21), &ts, "n1");
    // The plaintext copy says 99; it is unsigned, so it must be ignored.
    req.body = req.body.replace(
        "<Encrypt>",
        "<MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>99</MsgID><Encrypt>",
    );
    assert_eq!(server.post(&req).await, (200, "success".into()));
    assert_eq!(job_id(rx.recv().await), 21);
}

#[tokio::test]
async fn safe_mode_delivers_and_accepts_the_previous_key() {
    let config = builder().previous_aes_key(OLD_KEY).build().expect("config");
    let (server, mut rx) = start(config).await;
    assert_eq!(server.post(&safe(&job_xml(31), &now(), "n1")).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 31);

    let old = crypto(OLD_KEY, APPID).encrypt(&job_xml(32));
    assert_eq!(server.post(&safe_with(&old, &now(), "n2")).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 32);

    // With a key configured, plaintext is refused: its signature does not
    // cover the body.
    assert_eq!(server.post(&plain(&job_xml(33), &now(), "n3")).await.0, 403);
    nothing_delivered(&mut rx);
}

/// The downgrade: a signed query string seen once (here a URL
/// verification's) with `encrypt_type` and `msg_signature` dropped and a
/// forged plaintext body attached.
#[tokio::test]
async fn a_plaintext_downgrade_is_refused_unless_allowed() {
    let (server, mut rx) = start(builder().build().expect("config")).await;
    let forged = plain(&job_xml(34), &now(), "n1");
    let (status, reason) = server.post(&forged).await;
    assert_eq!(status, 403);
    assert!(reason.contains("plaintext push refused"), "{reason}");
    nothing_delivered(&mut rx);

    // The documented escape hatch takes it.
    let (server, mut rx) = start(builder().allow_plaintext(true).build().expect("config")).await;
    assert_eq!(server.post(&forged).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 34);
}

/// With plaintext allowed, a verification query reused for a push, or an
/// encrypted push's query reused in plaintext, is a replay.
#[tokio::test]
async fn a_used_query_carries_nothing_else_in_any_mode() {
    let (server, mut rx) = start(builder().allow_plaintext(true).build().expect("config")).await;
    let ts = now();
    let verify = [
        ("signature", signature::url_signature(TOKEN, &ts, "v1")),
        ("timestamp", ts.clone()),
        ("nonce", "v1".into()),
        ("echostr", "12345".into()),
    ];
    let verify: Vec<(&str, &str)> = verify.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(server.get(&verify).await, (200, "12345".into()));
    assert_eq!(server.get(&verify).await.0, 200, "WeChat may verify twice");
    assert_eq!(server.post(&plain(&job_xml(35), &ts, "v1")).await.0, 403);

    assert_eq!(server.post(&safe(&job_xml(36), &ts, "e1")).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 36);
    assert_eq!(server.post(&plain(&job_xml(37), &ts, "e1")).await.0, 403);
    nothing_delivered(&mut rx);
}

#[tokio::test]
async fn duplicate_pushes_reach_the_handler_once() {
    let (server, mut rx) = start(builder().build().expect("config")).await;
    let ts = now();
    let first = safe(&job_xml(41), &ts, "n1");
    assert_eq!(server.post(&first).await.0, 200);
    // WeChat's retry: the identical request.
    assert_eq!(server.post(&first).await, (200, "success".into()));
    // A retry signed afresh, with a new nonce and ciphertext: same MsgID.
    assert_eq!(server.post(&safe(&job_xml(41), &now(), "n2")).await.0, 200);
    // An event without MsgID is keyed on FromUserName + CreateTime.
    let subscribe = "<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>5</CreateTime><MsgType>event</MsgType><Event>subscribe</Event></xml>";
    assert_eq!(server.post(&safe(subscribe, &now(), "n3")).await.0, 200);
    assert_eq!(server.post(&safe(subscribe, &now(), "n4")).await.0, 200);

    assert_eq!(job_id(rx.recv().await), 41);
    match rx.recv().await {
        Some(Push::Other(p)) => assert_eq!(p.event(), Some("subscribe")),
        other => panic!("expected subscribe, got {other:?}"),
    }
    nothing_delivered(&mut rx);
}

#[tokio::test]
async fn plaintext_replay_with_another_body_is_refused() {
    let config = CallbackConfig::builder(TOKEN, APPID)
        .build()
        .expect("config");
    let (server, mut rx) = start(config).await;
    let ts = now();
    assert_eq!(server.post(&plain(&job_xml(51), &ts, "n")).await.0, 200);
    // Same query string, forged body.
    assert_eq!(server.post(&plain(&job_xml(52), &ts, "n")).await.0, 403);
    assert_eq!(job_id(rx.recv().await), 51);
    nothing_delivered(&mut rx);
}

struct Slow {
    started: Arc<AtomicUsize>,
}

impl PushHandler for Slow {
    async fn handle(&self, _push: Push) {
        self.started.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

#[tokio::test]
async fn a_slow_handler_does_not_delay_the_answer() {
    let started = Arc::new(AtomicUsize::new(0));
    let router = wxmass_callback::router_with_handler(
        builder().build().expect("config"),
        Slow {
            started: started.clone(),
        },
    )
    .expect("inside a runtime");
    let mut server = serve(router).await;
    // Far below the handler's 60 s, and inside WeChat's 5 s.
    server.http = reqwest::Client::builder()
        .timeout(Duration::from_secs(4))
        .build()
        .expect("client");
    for id in 61..64 {
        let nonce = format!("n{id}");
        assert_eq!(
            server.post(&safe(&job_xml(id), &now(), &nonce)).await.0,
            200
        );
    }
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "one push in the handler, the rest queued"
    );
}

#[test]
fn a_handler_needs_a_runtime() {
    struct Nop;
    impl PushHandler for Nop {
        async fn handle(&self, _push: Push) {}
    }
    let config = builder().build().expect("config");
    assert!(wxmass_callback::router_with_handler(config, Nop).is_err());
}

#[tokio::test]
async fn a_full_queue_answers_503_and_the_retry_gets_through() {
    let config = builder()
        .queue_capacity(1)
        .enqueue_timeout(Duration::from_millis(50))
        .build()
        .expect("config");
    let (server, mut rx) = start(config).await;
    let second = safe(&job_xml(72), &now(), "n2");
    assert_eq!(server.post(&safe(&job_xml(71), &now(), "n1")).await.0, 200);
    assert_eq!(server.post(&second).await.0, 503);
    assert_eq!(job_id(rx.recv().await), 71);
    // WeChat retries the same request; it was forgotten, so it is accepted now.
    assert_eq!(server.post(&second).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 72);
}

/// Encrypts `plaintext` as is, with no padding added: for forging bad padding.
fn encrypt_raw(plaintext: &[u8]) -> String {
    let key = AesKey::from_encoding_aes_key(KEY).expect("key");
    let raw: [u8; 32] = {
        let encoded = format!("{}=", key.to_encoding_aes_key());
        STANDARD
            .decode_to_vec(encoded)
            .expect("decodes")
            .try_into()
            .expect("32 bytes")
    };
    let mut buf = plaintext.to_vec();
    let len = buf.len();
    let enc = cbc::Encryptor::<Aes256>::new(&raw.into(), &raw[..16].try_into().expect("iv"));
    let out = enc
        .encrypt_padded::<NoPadding>(&mut buf, len)
        .expect("aligned");
    STANDARD.encode_to_string(out)
}

#[tokio::test]
async fn hostile_input_gets_4xx_and_is_never_delivered() {
    // Plaintext allowed, so that hostile plaintext bodies reach the parser.
    let config = builder()
        .max_body_bytes(4096)
        .allow_plaintext(true)
        .build()
        .expect("config");
    let (server, mut rx) = start(config).await;
    let ts = now();

    // Body over the limit: 413.
    let huge = format!("<xml><A>{}</A></xml>", "a".repeat(5000));
    assert_eq!(server.post(&plain(&huge, &ts, "big")).await.0, 413);

    // DOCTYPE and entities, in the envelope and inside the ciphertext: 400.
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>"#;
    assert_eq!(server.post(&plain(bomb, &ts, "b1")).await.0, 400);
    assert_eq!(server.post(&safe(bomb, &ts, "b2")).await.0, 400);
    let undefined = "<xml><MsgType>&x;</MsgType></xml>";
    assert_eq!(server.post(&plain(undefined, &ts, "b3")).await.0, 400);

    // Malformed XML: 400.
    assert_eq!(
        server.post(&plain("<xml><A></xml>", &ts, "m1")).await.0,
        400
    );
    assert_eq!(server.post(&safe("<xml><A>", &ts, "m2")).await.0, 400);
    // Not UTF-8: 400.
    let q = plain("", &ts, "u").query;
    assert_eq!(server.post_raw(&q, vec![0xff, 0xfe, 0x3c]).await, 400);
    // A job report whose MsgID is not a number: 400.
    let bad_job = job_xml(1).replace("<MsgID>1</MsgID>", "<MsgID>x</MsgID>");
    assert_eq!(server.post(&safe(&bad_job, &ts, "j")).await.0, 400);
    // Numbers out of range are refused, never wrapped; control characters
    // never get through.
    for (n, (from, to)) in [
        (
            "<TotalCount>3</TotalCount>",
            "<TotalCount>18446744073709551615</TotalCount>",
        ),
        (
            "<ErrorCount>0</ErrorCount>",
            "<ErrorCount>9223372036854775808</ErrorCount>",
        ),
        (
            "<SentCount>3</SentCount>",
            "<SentCount>4294967296</SentCount>",
        ),
        ("<MsgID>1</MsgID>", "<MsgID>-5</MsgID>"),
        ("<MsgID>1</MsgID>", "<MsgID>9223372036854775808</MsgID>"),
        ("send success", "send success\nforged line"),
        ("send success", "send \u{1b}[31msuccess"),
        (
            "<Status><![CDATA[send success]]></Status>",
            "<Status>send &#27;[31msuccess</Status>",
        ),
        ("mphelper", "mp\0helper"),
    ]
    .iter()
    .enumerate()
    {
        let job = job_xml(1).replace(from, to);
        assert_ne!(job, job_xml(1));
        let (status, reason) = server.post(&safe(&job, &ts, &format!("r{n}"))).await;
        assert_eq!(status, 400, "{to}: {reason}");
        assert!(
            !reason.contains('\u{1b}') && !reason.contains('\0'),
            "{reason:?}"
        );
    }

    // Malformed base64 and bad padding, correctly signed: 400.
    assert_eq!(
        server
            .post(&safe_with("%%%not base64%%%", &ts, "c1"))
            .await
            .0,
        400
    );
    assert_eq!(server.post(&safe_with("QUJD", &ts, "c2")).await.0, 400);
    let mut bad_pad = vec![b'a'; 64];
    bad_pad[63] = 33;
    assert_eq!(
        server
            .post(&safe_with(&encrypt_raw(&bad_pad), &ts, "c3"))
            .await
            .0,
        400
    );
    bad_pad[63] = 0;
    assert_eq!(
        server
            .post(&safe_with(&encrypt_raw(&bad_pad), &ts, "c4"))
            .await
            .0,
        400
    );
    // Length field past the end: 400.
    let mut bad_len = vec![0u8; 32];
    bad_len[16..20].copy_from_slice(&1000u32.to_be_bytes());
    bad_len[31] = 1;
    assert_eq!(
        server
            .post(&safe_with(&encrypt_raw(&bad_len), &ts, "c5"))
            .await
            .0,
        400
    );

    // Wrong appid: 403.
    let other = crypto(KEY, "wxffffffffffffffff").encrypt(&job_xml(81));
    assert_eq!(server.post(&safe_with(&other, &ts, "a1")).await.0, 403);

    // Stale and future timestamps: 403; a non-numeric one: 400.
    let old = (ts.parse::<i64>().expect("ts") - 3600).to_string();
    assert_eq!(server.post(&safe(&job_xml(82), &old, "t1")).await.0, 403);
    let future = (ts.parse::<i64>().expect("ts") + 3600).to_string();
    assert_eq!(server.post(&safe(&job_xml(83), &future, "t2")).await.0, 403);
    assert_eq!(server.post(&safe(&job_xml(84), "soon", "t3")).await.0, 400);

    // Bad signatures: 403.
    let mut req = safe(&job_xml(85), &ts, "s1");
    req.query[4].1 = "0".repeat(40);
    assert_eq!(server.post(&req).await.0, 403, "bad msg_signature");
    let mut req = safe(&job_xml(86), &ts, "s2");
    req.query.remove(4);
    assert_eq!(server.post(&req).await.0, 403, "missing msg_signature");
    let mut req = safe(&job_xml(87), &ts, "s3");
    req.query[0].1 = "0".repeat(40);
    assert_eq!(
        server.post(&req).await.0,
        403,
        "bad signature beside a good msg_signature"
    );
    let mut req = plain(&job_xml(88), &ts, "s4");
    req.query.remove(0);
    assert_eq!(
        server.post(&req).await.0,
        403,
        "plaintext without signature"
    );
    let mut req = plain(&job_xml(89), &ts, "s5");
    req.query[0].1 = signature::url_signature("otherToken", &ts, "s5");
    assert_eq!(server.post(&req).await.0, 403, "signed with another token");

    // Encrypted push without Encrypt, or an unknown encrypt_type: 400.
    let mut req = safe(&job_xml(90), &ts, "e1");
    req.body = job_xml(90);
    assert_eq!(server.post(&req).await.0, 400);
    let mut req = safe(&job_xml(91), &ts, "e2");
    req.query[3].1 = "rot13".into();
    assert_eq!(server.post(&req).await.0, 400);

    nothing_delivered(&mut rx);
    // And the receiver still works after all that.
    assert_eq!(server.post(&safe(&job_xml(99), &now(), "ok")).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 99);
}

#[tokio::test]
async fn router_mounts_under_a_path() {
    let (router, mut rx) = wxmass_callback::router(builder().build().expect("config"));
    let app = axum::Router::new().nest("/wechat", router);
    let mut server = serve(app).await;
    server.base.push_str("wechat");
    assert_eq!(server.post(&safe(&job_xml(101), &now(), "n")).await.0, 200);
    assert_eq!(job_id(rx.recv().await), 101);
}

struct FlakyRecorder {
    calls: Arc<AtomicUsize>,
    recorded: Arc<std::sync::Mutex<Vec<i64>>>,
}

impl wxmass_callback::PushRecorder for FlakyRecorder {
    fn record(&self, push: Push, _request: SeenRequest) -> wxmass_callback::RecordFuture {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let recorded = self.recorded.clone();
        Box::pin(async move {
            if n == 0 {
                return Err(wxmass_callback::RecordError::Store("disk full".into()));
            }
            if let Push::MassSendJobFinish(job) = push {
                recorded
                    .lock()
                    .map_err(|_| wxmass_callback::RecordError::Store("poisoned".into()))?
                    .push(job.msg_id);
            }
            Ok(())
        })
    }
}

#[tokio::test]
async fn a_recorder_is_done_before_the_answer_and_a_failure_is_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let recorded = Arc::new(std::sync::Mutex::new(Vec::new()));
    let router = wxmass_callback::router_with_recorder(
        builder().build().expect("config"),
        FlakyRecorder {
            calls: calls.clone(),
            recorded: recorded.clone(),
        },
    );
    let server = serve(router).await;
    let push = safe(&job_xml(111), &now(), "r1");
    assert_eq!(
        server.post(&push).await.0,
        503,
        "not recorded: WeChat must retry"
    );
    assert_eq!(server.post(&push).await, (200, "success".into()));
    assert_eq!(
        server.post(&push).await.0,
        200,
        "a retry of a recorded push"
    );
    assert_eq!(*recorded.lock().expect("lock"), vec![111]);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// Keeps what it records in memory, as a journal would on disk, and hands
/// the requests back to the next router, as a journal would after a restart.
#[derive(Clone, Default)]
struct MemoryRecorder {
    delay: Duration,
    pushes: Arc<std::sync::Mutex<Vec<i64>>>,
    requests: Arc<std::sync::Mutex<Vec<SeenRequest>>>,
}

impl wxmass_callback::PushRecorder for MemoryRecorder {
    fn record(&self, push: Push, request: SeenRequest) -> RecordFuture {
        let this = self.clone();
        Box::pin(async move {
            tokio::time::sleep(this.delay).await;
            if let Push::MassSendJobFinish(job) = push {
                this.pushes
                    .lock()
                    .map_err(|_| wxmass_callback::RecordError::Store("poisoned".into()))?
                    .push(job.msg_id);
            }
            this.requests
                .lock()
                .map_err(|_| wxmass_callback::RecordError::Store("poisoned".into()))?
                .push(request);
            Ok(())
        })
    }

    fn seen_requests(&self) -> Vec<SeenRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[tokio::test]
async fn a_replay_after_a_restart_is_refused() {
    let recorder = MemoryRecorder::default();
    let config = || builder().allow_plaintext(true).build().expect("config");
    let server = serve(wxmass_callback::router_with_recorder(
        config(),
        recorder.clone(),
    ))
    .await;
    let ts = now();
    assert_eq!(server.post(&safe(&job_xml(121), &ts, "r")).await.0, 200);
    drop(server);

    // A new process: the guard starts from what the recorder kept.
    let server = serve(wxmass_callback::router_with_recorder(
        config(),
        recorder.clone(),
    ))
    .await;
    assert_eq!(server.post(&safe(&job_xml(122), &ts, "r")).await.0, 403);
    assert_eq!(server.post(&plain(&job_xml(123), &ts, "r")).await.0, 403);
    assert_eq!(*recorder.pushes.lock().expect("lock"), vec![121]);
}

#[tokio::test]
async fn a_copy_that_arrives_while_the_first_is_recorded_waits_for_it() {
    let recorder = MemoryRecorder {
        delay: Duration::from_millis(300),
        ..MemoryRecorder::default()
    };
    let server = serve(wxmass_callback::router_with_recorder(
        builder().build().expect("config"),
        recorder.clone(),
    ))
    .await;
    let push = safe(&job_xml(131), &now(), "c");
    let started = std::time::Instant::now();
    let (a, b) = tokio::join!(server.post(&push), server.post(&push));
    assert_eq!((a.0, b.0), (200, 200));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "answered before recording"
    );
    assert_eq!(*recorder.pushes.lock().expect("lock"), vec![131]);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let config = builder()
        .body_timeout(Duration::from_millis(200))
        .build()
        .expect("config");
    let (server, mut rx) = start(config).await;
    let req = safe(&job_xml(141), &now(), "b");
    let query: Vec<String> = req.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let addr = server
        .base
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /?{} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        query.join("&"),
        req.body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    stream
        .write_all(&req.body.as_bytes()[..10])
        .await
        .expect("part");
    let mut answer = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    nothing_delivered(&mut rx);
}
