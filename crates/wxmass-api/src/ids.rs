//! Identifiers: random ones, and what an AppID looks like.

use rand::RngExt as _;

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// Whether `s` has an AppID's shape: `wx` and 16 letters or digits (an
/// account's, or a third-party platform's component appid).
pub fn is_appid(s: &str) -> bool {
    s.len() == 18 && s.starts_with("wx") && s.bytes().all(|b| b.is_ascii_alphanumeric())
}
