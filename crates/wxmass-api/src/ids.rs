//! Random identifiers.

use rand::RngExt as _;

/// `n` random bytes as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}
