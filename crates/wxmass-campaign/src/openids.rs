//! A batch's openids as one compact blob. WeChat's openids are 28
//! characters of `[A-Za-z0-9_-]` that share an account prefix, so a batch
//! is stored as the shared prefix once and 6 bits per remaining character:
//! a million followers take about 17 MB instead of 29 MB of text (and
//! instead of a million rows). Anything else is stored as plain lines.
//!
//! Layout: a tag byte, then
//! - `0`: the openids joined by `\n` (the form the schema 1 upgrade writes);
//! - `1`: prefix length (u8), the prefix, suffix length (u8), then every
//!   suffix's characters as 6-bit codes, packed big-endian, the last byte
//!   padded with zero bits. The count follows from the length (suffixes
//!   are at least 2 characters, so padding never reads as one more).

use crate::error::{Error, Result};

const PLAIN: u8 = 0;
const PACKED: u8 = 1;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Each byte's 6-bit code, or `NONE` for bytes outside the alphabet (a
/// table: the packing loop runs once per character of a million openids).
const CODES: [u8; 256] = {
    let mut codes = [NONE; 256];
    let mut i = 0;
    while i < 64 {
        codes[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    codes
};
const NONE: u8 = 0xff;

/// The blob for a batch (at least one openid; none contains `\n`).
pub fn encode(openids: &[String]) -> Vec<u8> {
    packed(openids).unwrap_or_else(|| {
        let mut out = vec![PLAIN];
        for (i, o) in openids.iter().enumerate() {
            if i > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(o.as_bytes());
        }
        out
    })
}

/// The packed form, when every openid has one length, the shared prefix
/// and only alphabet characters after it.
fn packed(openids: &[String]) -> Option<Vec<u8>> {
    let first = openids.first()?.as_bytes();
    let len = first.len();
    let mut prefix = len.min(255);
    for o in openids {
        let o = o.as_bytes();
        if o.len() != len {
            return None;
        }
        prefix = first[..prefix]
            .iter()
            .zip(o)
            .take_while(|(a, b)| a == b)
            .count();
    }
    // Suffixes of at least 2 characters, so that padding can never pass
    // for one more openid.
    let prefix = prefix.min(len.saturating_sub(2));
    let suffix = len - prefix;
    if !(2..=255).contains(&suffix) {
        return None;
    }
    let mut out = Vec::with_capacity(3 + prefix + (openids.len() * suffix * 6).div_ceil(8));
    out.extend([PACKED, prefix as u8]);
    out.extend_from_slice(&first[..prefix]);
    out.push(suffix as u8);
    // Bits gather in a u64 and leave four bytes at a time.
    let (mut acc, mut bits) = (0u64, 0u32);
    for o in openids {
        for &c in &o.as_bytes()[prefix..] {
            let code = CODES[usize::from(c)];
            if code == NONE {
                return None;
            }
            acc = (acc << 6) | u64::from(code);
            bits += 6;
            if bits >= 32 {
                bits -= 32;
                out.extend_from_slice(&((acc >> bits) as u32).to_be_bytes());
                acc &= (1 << bits) - 1;
            }
        }
    }
    while bits >= 8 {
        bits -= 8;
        out.push((acc >> bits) as u8);
    }
    if bits > 0 {
        out.push((acc << (8 - bits)) as u8);
    }
    Some(out)
}

/// The openids of batch `index` of `campaign` as the journal holds them
/// (`None`: the batch has none, a send to all or a tag).
pub fn decode_batch(blob: Option<&[u8]>, campaign: &str, index: u32) -> Result<Vec<String>> {
    match blob {
        None => Ok(Vec::new()),
        Some(blob) => decode(blob).ok_or_else(|| Error::Store {
            advice: format!(
                "batch {} of campaign {campaign:?} holds openids this build cannot read",
                index + 1
            ),
            source: None,
        }),
    }
}

/// The openids of a blob, or `None` if it is not one.
pub fn decode(blob: &[u8]) -> Option<Vec<String>> {
    let (&tag, rest) = blob.split_first()?;
    match tag {
        PLAIN => std::str::from_utf8(rest)
            .ok()
            .map(|s| s.split('\n').map(str::to_owned).collect()),
        PACKED => {
            let (&prefix_len, rest) = rest.split_first()?;
            let prefix = std::str::from_utf8(rest.get(..usize::from(prefix_len))?).ok()?;
            let rest = &rest[usize::from(prefix_len)..];
            let (&suffix, packed) = rest.split_first()?;
            let suffix = usize::from(suffix);
            if suffix < 2 {
                return None;
            }
            let count = packed.len() * 8 / 6 / suffix;
            // Every byte is needed, and the padding is less than a byte.
            if (count * suffix * 6).div_ceil(8) != packed.len() {
                return None;
            }
            // Every suffix character first, into one buffer (four from each
            // three bytes), then each openid cut from it: no per-character
            // branch on the bits left, no per-openid UTF-8 check.
            let chars = count * suffix;
            let mut codes = Vec::with_capacity(chars + 3);
            let mut triples = packed.chunks_exact(3);
            for t in &mut triples {
                let v = u32::from(t[0]) << 16 | u32::from(t[1]) << 8 | u32::from(t[2]);
                codes.extend([
                    ALPHABET[(v >> 18) as usize & 63],
                    ALPHABET[(v >> 12) as usize & 63],
                    ALPHABET[(v >> 6) as usize & 63],
                    ALPHABET[v as usize & 63],
                ]);
            }
            let (mut acc, mut bits) = (0u32, 0u32);
            for &b in triples.remainder() {
                acc = (acc << 8) | u32::from(b);
                bits += 8;
                while bits >= 6 && codes.len() < chars {
                    bits -= 6;
                    codes.push(ALPHABET[((acc >> bits) & 63) as usize]);
                }
            }
            codes.truncate(chars);
            if codes.len() != chars {
                return None;
            }
            // The alphabet is ASCII.
            let codes = std::str::from_utf8(&codes).ok()?;
            let mut out = Vec::with_capacity(count);
            for i in 0..count {
                let mut openid = String::with_capacity(prefix.len() + suffix);
                openid.push_str(prefix);
                openid.push_str(codes.get(i * suffix..(i + 1) * suffix)?);
                out.push(openid);
            }
            Some(out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn real_openids_pack_to_about_17_bytes() {
        let ids = strings(&[
            "o6_bmjrPTlm6_2sgVt7hMZOPfL2M",
            "o6_bmasdasdsad6_2sgVt7hMZOPfL",
            "o6_bmjrPTlm6_2sgVt7hMZOPfL2N",
        ]);
        // One of another length: plain.
        assert_eq!(encode(&ids)[0], PLAIN);
        let same: Vec<String> = ids.iter().filter(|o| o.len() == 28).cloned().collect();
        let blob = encode(&same);
        assert_eq!(blob[0], PACKED);
        assert_eq!(decode(&blob), Some(same));
        let thousand: Vec<String> = (0..1000)
            .map(|i| format!("o6_bm{:0>23}", format!("{i:x}")))
            .collect();
        let blob = encode(&thousand);
        assert!(blob.len() < 1000 * 18, "{} bytes", blob.len());
        assert_eq!(decode(&blob), Some(thousand));
    }

    #[test]
    fn garbage_is_refused_not_misread() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[9, 1, 2]), None);
        assert_eq!(decode(&[PACKED, 3, b'a']), None);
        assert_eq!(decode(&[PACKED, 0, 0, 1]), None);
        // Two extra bytes after the last openid.
        let mut blob = encode(&strings(&["oAAAA", "oBBBB"]));
        blob.extend([0, 0]);
        assert_eq!(decode(&blob), None);
    }

    proptest! {
        #[test]
        fn any_batch_round_trips(ids in proptest::collection::vec("[A-Za-z0-9_-]{1,40}|o6_bm[A-Za-z0-9_-]{23}", 1..50)) {
            prop_assert_eq!(decode(&encode(&ids)), Some(ids));
        }

        #[test]
        fn same_length_batches_pack(ids in proptest::collection::vec("o6_bm[A-Za-z0-9_-]{23}", 1..50)) {
            let blob = encode(&ids);
            prop_assert_eq!(blob[0], PACKED);
            prop_assert_eq!(decode(&blob), Some(ids));
        }
    }
}
