//! Decryption of arbitrary `Encrypt` text, and of arbitrary ciphertext bytes
//! (base64-encoded first, so every input reaches AES and the unpadding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wxmass_callback::crypto::{AesKey, MessageCrypto};

fuzz_target!(|data: &[u8]| {
    let crypto = MessageCrypto::new("wx0123456789abcdef", AesKey::from_bytes([7; 32]))
        .with_previous_key(AesKey::from_bytes([9; 32]));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crypto.decrypt(text);
        let _ = AesKey::from_encoding_aes_key(text);
    }
    let encoded = base64_encode(data);
    if let Ok(message) = crypto.decrypt(&encoded) {
        // Whatever decrypts must re-encrypt and decrypt to itself.
        assert_eq!(crypto.decrypt(&crypto.encrypt(&message)).as_deref(), Ok(message.as_str()));
    }
});

fn base64_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}
