//! One request, checked and opened without touching any state: the signature
//! and timestamp checks, the outer XML, decryption, and the typed push.
//!
//! This is the whole per-push cost, and what the benchmark measures; the
//! router in [`crate::server`] adds the replay guard, the duplicate filter and
//! the queue around it.

use axum::http::StatusCode;
use serde::Deserialize;
use sha1::{Digest, Sha1};

use crate::config::CallbackConfig;
use crate::crypto::CryptoError;
use crate::event::{EventError, Push};
use crate::signature::{self, Sha1Digest, SignatureError};
use crate::xml::{Document, XmlError};

/// The query parameters WeChat adds to the callback URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct PushQuery {
    /// `sha1(sort(token, timestamp, nonce))`.
    pub signature: Option<String>,
    /// Unix seconds.
    pub timestamp: Option<String>,
    /// A random number.
    pub nonce: Option<String>,
    /// The challenge of a URL verification (GET only).
    pub echostr: Option<String>,
    /// `aes` in compatible and safe mode.
    pub encrypt_type: Option<String>,
    /// `sha1(sort(token, timestamp, nonce, Encrypt))` in compatible and safe mode.
    pub msg_signature: Option<String>,
    /// The follower's openid, on some pushes.
    pub openid: Option<String>,
}

/// Why a request was refused, with the HTTP status it gets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The body exceeds the configured limit.
    #[error("body larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read from the connection.
    #[error("body could not be read: {0}")]
    BodyUnreadable(String),
    /// The body did not arrive in time.
    #[error("body not received within {0:?}")]
    BodyTimeout(std::time::Duration),
    /// The body is not UTF-8.
    #[error("body is not UTF-8")]
    NotUtf8,
    /// The query string is malformed.
    #[error("malformed query string")]
    BadQuery,
    /// Signature, timestamp or replay check failed.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The outer XML was refused.
    #[error("envelope: {0}")]
    Xml(#[from] XmlError),
    /// A push of another account than the one the receiver is pinned to.
    #[error("a push to {0:?}, not this account's")]
    OtherAccount(String),
    /// `encrypt_type=aes` but the body has no `<Encrypt>`.
    #[error("encrypted push without an <Encrypt> element")]
    MissingEncrypt,
    /// An `encrypt_type` other than `aes` or `raw`.
    #[error("unsupported encrypt_type {0:?}")]
    UnknownEncryptType(String),
    /// An encrypted push, but no EncodingAESKey is configured.
    #[error("encrypted push, but no EncodingAESKey is configured")]
    NoKeyConfigured,
    /// A plaintext push to a receiver with an EncodingAESKey.
    #[error(
        "plaintext push refused: an EncodingAESKey is configured, so only encrypted pushes (safe or compatible mode) are taken"
    )]
    PlaintextRefused,
    /// Decryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The (decrypted) push could not be read.
    #[error("push: {0}")]
    Event(#[from] EventError),
    /// The handler's queue stayed full: WeChat should retry later.
    #[error("push queue is full; the handler is not keeping up")]
    QueueFull,
    /// The application's recorder failed: WeChat should retry later.
    #[error("push could not be recorded: {0}")]
    NotRecorded(#[from] RecordError),
}

/// Why a [`crate::PushRecorder`] did not record a request. Each is
/// answered 503, so that WeChat retries it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The store failed the write; the text says why (it is logged).
    #[error("{0}")]
    Store(String),
    /// The recorder is shutting down.
    #[error("the recorder has stopped")]
    Stopped,
    /// Recording took longer than the enqueue timeout.
    #[error("recording took too long")]
    TimedOut,
    /// An earlier copy of the same request is being recorded and was not
    /// accepted in time.
    #[error("an earlier copy of this request was not accepted; retry later")]
    EarlierCopyPending,
}

impl Rejection {
    /// The HTTP status for this rejection: 413 for size, 403 for anything
    /// that fails authentication, 503 for a full queue, 400 for the rest.
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Rejection::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Rejection::Signature(SignatureError::BadTimestamp) => StatusCode::BAD_REQUEST,
            Rejection::Signature(_)
            | Rejection::PlaintextRefused
            | Rejection::OtherAccount(_)
            | Rejection::Crypto(CryptoError::AppIdMismatch(_)) => StatusCode::FORBIDDEN,
            Rejection::QueueFull | Rejection::NotRecorded(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The outer XML of a push: the root element and, in compatible and safe
/// mode, the `Encrypt` text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The parsed body.
    pub doc: Document<'a>,
}

impl<'a> Envelope<'a> {
    /// Parses a push body.
    pub fn parse(body: &'a str) -> Result<Envelope<'a>, Rejection> {
        Ok(Envelope {
            doc: Document::parse(body)?,
        })
    }

    /// The `Encrypt` text, if present.
    pub fn encrypt(&self) -> Option<&str> {
        self.doc.root().child_text("Encrypt")
    }
}

/// Identifies a signed request for the replay guard.
///
/// Both signatures cover the token, `timestamp` and `nonce`; the token is
/// fixed, so (timestamp, nonce) names the signed query whatever the mode.
/// `content` says what the request carried: the `msg_signature` (which
/// covers `Encrypt`) of an encrypted push, a digest of a plaintext body, or
/// a mark for a URL verification. The same query with other content is a
/// replay, across modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayKey<'q> {
    /// The request's timestamp.
    pub timestamp: i64,
    /// Its nonce.
    pub nonce: &'q str,
    /// What the request carried.
    pub content: Sha1Digest,
}

/// A URL verification that passed: the challenge to echo, and the key under
/// which the replay guard remembers the query, so that it can never carry a
/// push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUrl<'q> {
    /// The `echostr` to answer with.
    pub echostr: &'q str,
    /// For the replay guard.
    pub replay_key: ReplayKey<'q>,
}

/// A push that passed every stateless check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedPush<'q> {
    /// The push.
    pub push: Push,
    /// Whether it came encrypted.
    pub encrypted: bool,
    /// For the replay guard.
    pub replay_key: ReplayKey<'q>,
}

/// Checks a URL-verification request and returns the `echostr` to echo.
pub fn verify_url<'q>(
    config: &CallbackConfig,
    query: &'q PushQuery,
    now_unix: i64,
) -> Result<VerifiedUrl<'q>, Rejection> {
    let (timestamp, nonce) = timestamp_and_nonce(query)?;
    let ts = signature::check_timestamp(timestamp, now_unix, config.timestamp_window)?;
    let token = config.token.expose();
    signature::verify(
        "signature",
        query.signature.as_deref(),
        &[token, timestamp, nonce],
    )?;
    let echostr = query
        .echostr
        .as_deref()
        .ok_or(Rejection::Signature(SignatureError::Missing("echostr")))?;
    let mut content = Sha1::new();
    content.update(b"URL verification\0");
    content.update(echostr.as_bytes());
    Ok(VerifiedUrl {
        echostr,
        replay_key: ReplayKey {
            timestamp: ts,
            nonce,
            content: content.finalize().into(),
        },
    })
}

/// Verifies, decrypts and parses one push. Authentication comes first: the
/// body is parsed only far enough to find `Encrypt`, and nothing is decrypted
/// before `msg_signature` matches.
pub fn open_push<'q>(
    config: &CallbackConfig,
    query: &'q PushQuery,
    body: &[u8],
    now_unix: i64,
) -> Result<OpenedPush<'q>, Rejection> {
    if body.len() > config.max_body_bytes {
        return Err(Rejection::BodyTooLarge {
            limit: config.max_body_bytes,
        });
    }
    let (timestamp, nonce) = timestamp_and_nonce(query)?;
    let ts = signature::check_timestamp(timestamp, now_unix, config.timestamp_window)?;
    let token = config.token.expose();
    let encrypted = match query.encrypt_type.as_deref() {
        None | Some("") | Some("raw") => false,
        Some("aes") => true,
        Some(other) => {
            return Err(Rejection::UnknownEncryptType(
                other.chars().take(16).collect(),
            ));
        }
    };
    if !encrypted && !config.accepts_plaintext() {
        return Err(Rejection::PlaintextRefused);
    }
    let body = std::str::from_utf8(body).map_err(|_| Rejection::NotUtf8)?;

    if !encrypted {
        signature::verify(
            "signature",
            query.signature.as_deref(),
            &[token, timestamp, nonce],
        )?;
        // The body is the message itself: XML that does not parse is refused
        // as the envelope, as in the encrypted modes.
        let push = Push::parse(body).map_err(|e| match e {
            EventError::Xml(xml) => Rejection::Xml(xml),
            other => Rejection::Event(other),
        })?;
        check_account(config, &push)?;
        return Ok(OpenedPush {
            push,
            encrypted,
            replay_key: ReplayKey {
                timestamp: ts,
                nonce,
                // The signature does not cover the body: pin the body itself.
                content: Sha1::digest(body.as_bytes()).into(),
            },
        });
    }

    let crypto = config.crypto.as_ref().ok_or(Rejection::NoKeyConfigured)?;
    // WeChat sends `signature` alongside `msg_signature`; when present it must
    // be right too, but `msg_signature` is the one that covers the content and
    // is never optional.
    if query.signature.is_some() {
        signature::verify(
            "signature",
            query.signature.as_deref(),
            &[token, timestamp, nonce],
        )?;
    }
    let envelope = Envelope::parse(body)?;
    let encrypt = envelope.encrypt().ok_or(Rejection::MissingEncrypt)?;
    let msg_signature = signature::verify(
        "msg_signature",
        query.msg_signature.as_deref(),
        &[token, timestamp, nonce, encrypt],
    )?;
    let message = crypto.decrypt_message(encrypt)?;
    let push = Push::parse(message.as_str())?;
    check_account(config, &push)?;
    Ok(OpenedPush {
        push,
        encrypted,
        replay_key: ReplayKey {
            timestamp: ts,
            nonce,
            // msg_signature covers Encrypt; the plaintext copy of a
            // compatible-mode body is never read, so there is nothing else
            // to pin.
            content: msg_signature,
        },
    })
}

/// A receiver pinned to one account takes that account's pushes only.
fn check_account(config: &CallbackConfig, push: &Push) -> Result<(), Rejection> {
    match &config.account {
        Some(account) if push.to_user_name() != account => Err(Rejection::OtherAccount(
            push.to_user_name().chars().take(32).collect(),
        )),
        _ => Ok(()),
    }
}

fn timestamp_and_nonce(query: &PushQuery) -> Result<(&str, &str), Rejection> {
    let timestamp = query
        .timestamp
        .as_deref()
        .ok_or(SignatureError::Missing("timestamp"))?;
    let nonce = query
        .nonce
        .as_deref()
        .ok_or(SignatureError::Missing("nonce"))?;
    Ok((timestamp, nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plaintext(body: &str) -> Result<Push, Rejection> {
        let config = CallbackConfig::builder("token", "wx0123456789abcdef")
            .build()
            .expect("config");
        let (timestamp, nonce) = ("1764000000", "42");
        let query = PushQuery {
            signature: Some(signature::url_signature("token", timestamp, nonce)),
            timestamp: Some(timestamp.into()),
            nonce: Some(nonce.into()),
            ..PushQuery::default()
        };
        open_push(&config, &query, body.as_bytes(), 1_764_000_000).map(|opened| opened.push)
    }

    #[test]
    fn plaintext_bodies_are_refused_as_xml_or_as_events() {
        assert!(matches!(
            plaintext("<xml><a></xml>"),
            Err(Rejection::Xml(_))
        ));
        let bad_id = "<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>12ab</MsgID></xml>";
        assert!(matches!(
            plaintext(bad_id),
            Err(Rejection::Event(EventError::Field {
                element: "MsgID",
                ..
            }))
        ));
        let good = bad_id.replace("12ab", "12");
        assert!(matches!(plaintext(&good), Ok(Push::MassSendJobFinish(job)) if job.msg_id == 12));
    }

    /// A platform's receiver for one account takes that account's pushes,
    /// and refuses (403) another's, though sealed with the same key.
    #[test]
    fn a_pinned_receiver_refuses_another_accounts_push() {
        use crate::crypto::{AesKey, MessageCrypto};
        let key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
        let platform = "wx134c8103faa5a59e";
        let config = CallbackConfig::builder("token", platform)
            .aes_key(key)
            .account("gh_aaaaaaaaaaaa")
            .build()
            .expect("config");
        let crypto = MessageCrypto::new(platform, AesKey::from_encoding_aes_key(key).expect("key"));
        let open = |to: &str| {
            let xml = format!(
                "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName><CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hi]]></Content></xml>"
            );
            let sealed = crypto.seal("token", &xml, "1764000000", "42");
            let query = PushQuery {
                timestamp: Some("1764000000".into()),
                nonce: Some("42".into()),
                encrypt_type: Some("aes".into()),
                msg_signature: Some(sealed.msg_signature.clone()),
                ..PushQuery::default()
            };
            let body = sealed.to_push_xml(to);
            open_push(&config, &query, body.as_bytes(), 1_764_000_000).map(|o| o.push)
        };
        assert!(open("gh_aaaaaaaaaaaa").is_ok());
        let refused = open("gh_bbbbbbbbbbbb").expect_err("another account's");
        assert_eq!(refused, Rejection::OtherAccount("gh_bbbbbbbbbbbb".into()));
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    }
}
