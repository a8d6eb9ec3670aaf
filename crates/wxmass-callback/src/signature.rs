//! The SHA-1 signatures WeChat puts on its requests (wechat-api.md §16.1–§16.3),
//! and the timestamp window. The replay guard that remembers used queries is
//! in [`crate::replay`].
//!
//! Both signatures are `hex(sha1(concat(sort([token, timestamp, nonce, ...]))))`:
//! `signature` over three parts on every request, `msg_signature` over four (the
//! fourth is the base64 `Encrypt` text) in compatible and safe mode. A received
//! signature is compared with ours in constant time, so timing says nothing
//! about how many leading characters were right.

use std::time::Duration;

use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

/// A SHA-1 digest, 20 bytes.
pub type Sha1Digest = [u8; 20];

/// Why a request's signature or timestamp was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A query parameter the mode needs is absent.
    #[error("missing query parameter `{0}`")]
    Missing(&'static str),
    /// The signature does not match the token and parameters.
    #[error("`{0}` does not match: wrong token, or the request was altered")]
    Mismatch(&'static str),
    /// The timestamp is not a decimal number of seconds.
    #[error("timestamp is not a number of seconds")]
    BadTimestamp,
    /// The timestamp lies outside the accepted window.
    #[error("timestamp {timestamp} is {skew} s away from now, outside the {window} s window")]
    Stale {
        /// The request's timestamp.
        timestamp: i64,
        /// Seconds between it and now.
        skew: i64,
        /// The window in seconds.
        window: u64,
    },
    /// The same (timestamp, nonce, signature) came before with another body.
    #[error("replayed signature with a different body")]
    Replay,
}

/// `sha1(concat(sort(parts)))`, as raw bytes.
pub fn digest(parts: &[&str]) -> Sha1Digest {
    // WeChat signs three or four parts: sort references on the stack and hash
    // them in order, without joining them into a new string.
    let mut stack: [&str; 8] = [""; 8];
    let mut heap: Vec<&str>;
    let sorted: &mut [&str] = if parts.len() <= stack.len() {
        stack[..parts.len()].copy_from_slice(parts);
        &mut stack[..parts.len()]
    } else {
        heap = parts.to_vec();
        &mut heap
    };
    // Insertion sort: for three or four items it beats the general sort.
    for i in 1..sorted.len() {
        let mut j = i;
        while j > 0 && sorted[j - 1] > sorted[j] {
            sorted.swap(j - 1, j);
            j -= 1;
        }
    }
    let mut hasher = Sha1::new();
    for part in sorted.iter() {
        hasher.update(part.as_bytes());
    }
    hasher.finalize().into()
}

/// The lower-case hex signature of `parts`, as WeChat computes it.
///
/// ```
/// use wxmass_callback::signature::sign;
/// // The official URL-verification example (wechat-api.md §16.1).
/// assert_eq!(
///     sign(&["AAAAA", "1714036504", "1514711492"]),
///     "f464b24fc39322e44b38aa78f5edd27bd1441696"
/// );
/// ```
pub fn sign(parts: &[&str]) -> String {
    to_hex(&digest(parts))
}

/// `signature` for URL verification and plaintext pushes.
pub fn url_signature(token: &str, timestamp: &str, nonce: &str) -> String {
    sign(&[token, timestamp, nonce])
}

/// `msg_signature` for encrypted pushes and replies.
pub fn msg_signature(token: &str, timestamp: &str, nonce: &str, encrypt: &str) -> String {
    sign(&[token, timestamp, nonce, encrypt])
}

/// Whether `received` (hex, either case) is the signature of `parts`.
///
/// The comparison of digests runs in constant time.
pub fn matches(received: &str, parts: &[&str]) -> bool {
    let Some(received) = parse_hex_digest(received) else {
        return false;
    };
    digest(parts).ct_eq(&received).into()
}

/// Checks `received` against `parts`, naming the parameter on failure.
pub fn verify(
    name: &'static str,
    received: Option<&str>,
    parts: &[&str],
) -> Result<Sha1Digest, SignatureError> {
    let received = received.ok_or(SignatureError::Missing(name))?;
    let Some(received_digest) = parse_hex_digest(received) else {
        return Err(SignatureError::Mismatch(name));
    };
    if bool::from(digest(parts).ct_eq(&received_digest)) {
        Ok(received_digest)
    } else {
        Err(SignatureError::Mismatch(name))
    }
}

/// Parses `timestamp` and checks that it is within `window` of `now` (Unix
/// seconds). `window = None` accepts any time.
pub fn check_timestamp(
    timestamp: &str,
    now: i64,
    window: Option<Duration>,
) -> Result<i64, SignatureError> {
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    if let Some(window) = window {
        let skew = now.saturating_sub(ts).saturating_abs();
        if skew as u128 > window.as_secs() as u128 {
            return Err(SignatureError::Stale {
                timestamp: ts,
                skew,
                window: window.as_secs(),
            });
        }
    }
    Ok(ts)
}

fn parse_hex_digest(hex: &str) -> Option<Sha1Digest> {
    let bytes = hex.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (hex_value(pair[0])? << 4) | hex_value(pair[1])?;
    }
    Some(out)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xf) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature table of wechat-api.md §16.6.
    #[test]
    fn signature_table_vectors() {
        let table = [
            (
                "AAAAA",
                "1714036504",
                "1514711492",
                "f464b24fc39322e44b38aa78f5edd27bd1441696",
            ),
            (
                "AAAAA",
                "1714037059",
                "486452656",
                "899cf89e464efb63f54ddac96b0a0a235f53aa78",
            ),
            (
                "test",
                "1410685589",
                "test",
                "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff",
            ),
            (
                "pamtest",
                "1409304348",
                "xxxxxx",
                "76480565cbe296026c53aaacd1ad523a1ddba24f",
            ),
        ];
        for (token, ts, nonce, expected) in table {
            assert_eq!(url_signature(token, ts, nonce), expected);
            assert!(matches(expected, &[token, ts, nonce]));
            assert!(matches(&expected.to_uppercase(), &[token, ts, nonce]));
        }
    }

    #[test]
    fn wrong_or_malformed_signatures_do_not_match() {
        let parts = ["AAAAA", "1714036504", "1514711492"];
        assert!(!matches("f464b24fc39322e44b38aa78f5edd27bd1441697", &parts));
        assert!(!matches("f464b24fc39322e44b38aa78f5edd27bd144169", &parts));
        assert!(!matches("", &parts));
        assert!(!matches("zz64b24fc39322e44b38aa78f5edd27bd1441696", &parts));
        assert_eq!(
            verify("signature", None, &parts),
            Err(SignatureError::Missing("signature"))
        );
    }

    #[test]
    fn timestamp_window() {
        let w = Some(Duration::from_secs(300));
        assert_eq!(check_timestamp("1000", 1300, w), Ok(1000));
        assert_eq!(check_timestamp("1600", 1300, w), Ok(1600));
        assert!(matches!(
            check_timestamp("999", 1300, w),
            Err(SignatureError::Stale { skew: 301, .. })
        ));
        assert_eq!(
            check_timestamp("12a", 1300, w),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(check_timestamp("1", 1_000_000, None), Ok(1));
        assert!(check_timestamp(&i64::MIN.to_string(), i64::MAX, w).is_err());
    }
}
