//! Identifiers shaped like WeChat's: 28-character openids that share an
//! account prefix, long random media ids and tokens, and increasing msg_ids.
//!
//! Seeded followers get openids that encode their index (through an
//! invertible mix, so they look random), which lets a million followers live
//! in a plain vector with no openid → index map.

use rand::RngExt as _;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Maps follower indices to openids and back, for one account.
#[derive(Debug, Clone)]
pub struct OpenIdCodec {
    prefix: [u8; 6],
    salt: u64,
}

impl OpenIdCodec {
    /// The codec for an appid: the prefix and salt derive from it, so an
    /// account's openids are stable from run to run.
    pub fn for_appid(appid: &str) -> Self {
        let h = mix(fnv1a(appid.as_bytes()));
        let mut prefix = [b'o'; 6];
        for (i, slot) in prefix.iter_mut().enumerate().skip(1) {
            *slot = ALPHABET[((h >> (i * 6)) & 63) as usize];
        }
        Self {
            prefix,
            salt: mix(h ^ 0x9e37_79b9_7f4a_7c15),
        }
    }

    /// The openid of the follower at `index`.
    pub fn encode(&self, index: u32) -> String {
        // Every byte comes from ALPHABET or the prefix, which is ASCII.
        String::from_utf8_lossy(&self.encode_bytes(index)).into_owned()
    }

    fn encode_bytes(&self, index: u32) -> [u8; 28] {
        let mut out = [0u8; 28];
        out[..6].copy_from_slice(&self.prefix);
        write_base64(&mut out[6..17], mix(u64::from(index) ^ self.salt));
        write_base64(
            &mut out[17..28],
            mix(u64::from(index).wrapping_add(self.salt)),
        );
        out
    }

    /// The index encoded in `openid`, if it is one of ours. (Runs for each
    /// openid of every mass/send: it allocates nothing.)
    pub fn decode(&self, openid: &str) -> Option<u32> {
        let bytes = openid.as_bytes();
        if bytes.len() != 28 || bytes[..6] != self.prefix {
            return None;
        }
        let index = unmix(read_base64(&bytes[6..17])?) ^ self.salt;
        let index = u32::try_from(index).ok()?;
        (self.encode_bytes(index) == bytes).then_some(index)
    }
}

/// A random id of `len` characters of `[A-Za-z0-9_-]` (media ids, tokens).
pub fn random_id(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..64)] as char)
        .collect()
}

/// A random 16-character nonce of digits, as WeChat's pushes carry.
pub fn nonce() -> String {
    rand::rng()
        .random_range(100_000_000u64..10_000_000_000)
        .to_string()
}

/// FNV-1a, for stable per-account derivations (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A hasher for keys the emulator makes itself (follower indices, content
/// digests) and for openids it only compares: a multiply per word where
/// SipHash's defence against chosen keys buys nothing, in a ledger a
/// million deliveries long.
#[derive(Debug, Default, Clone, Copy)]
pub struct IntHasher(u64);

/// Builds [`IntHasher`]s.
pub type IntHashing = std::hash::BuildHasherDefault<IntHasher>;

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.write_u64(u64::from_le_bytes(w));
        }
        let mut last = [0u8; 8];
        last[..words.remainder().len()].copy_from_slice(words.remainder());
        self.write_u64(u64::from_le_bytes(last));
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(23) ^ n).wrapping_mul(K1);
    }
}

const K1: u64 = 0xbf58_476d_1ce4_e5b9;
const K2: u64 = 0x94d0_49bb_1331_11eb;

/// An invertible 64-bit mix (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(K1);
    x = (x ^ (x >> 27)).wrapping_mul(K2);
    x ^ (x >> 31)
}

fn unmix(mut x: u64) -> u64 {
    x = unshift(x, 31).wrapping_mul(inverse(K2));
    x = unshift(x, 27).wrapping_mul(inverse(K1));
    unshift(x, 30)
}

/// Inverse of `x ^ (x >> shift)`.
fn unshift(y: u64, shift: u32) -> u64 {
    let mut x = y;
    let mut s = shift;
    while s < 64 {
        x = y ^ (x >> shift);
        s += shift;
    }
    x
}

/// Multiplicative inverse of an odd number modulo 2^64 (Newton's method).
fn inverse(k: u64) -> u64 {
    let mut x = k;
    for _ in 0..5 {
        x = x.wrapping_mul(2u64.wrapping_sub(k.wrapping_mul(x)));
    }
    x
}

fn write_base64(out: &mut [u8], mut v: u64) {
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v & 63) as usize];
        v >>= 6;
    }
}

fn read_base64(chars: &[u8]) -> Option<u64> {
    chars.iter().try_fold(0u64, |acc, &c| {
        let d = DIGITS[usize::from(c)];
        (d != NOT_A_DIGIT).then_some((acc << 6) | u64::from(d))
    })
}

/// Each byte's value in ALPHABET, or `NOT_A_DIGIT`.
const DIGITS: [u8; 256] = {
    let mut digits = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < 64 {
        digits[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    digits
};
const NOT_A_DIGIT: u8 = 0xff;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_is_invertible() {
        for x in [0u64, 1, 42, u64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(unmix(mix(x)), x);
        }
    }

    #[test]
    fn openids_round_trip_and_look_real() {
        let codec = OpenIdCodec::for_appid("wx0123456789abcdef");
        let a = codec.encode(0);
        let b = codec.encode(1);
        assert_eq!(a.len(), 28);
        assert!(a.starts_with('o'));
        assert_eq!(a[..6], b[..6], "an account's openids share a prefix");
        assert_ne!(a[6..], b[6..]);
        for i in [0u32, 1, 999_999, u32::MAX] {
            assert_eq!(codec.decode(&codec.encode(i)), Some(i));
        }
        assert_eq!(codec.decode("o6_bmjrPTlm6_2sgVt7hMZOPfL2M"), None);
        let other = OpenIdCodec::for_appid("wxffffffffffffffff");
        assert_eq!(other.decode(&a), None);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
