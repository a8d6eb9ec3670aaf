//! AES "safe mode" (wechat-api.md §16.4): the EncodingAESKey, decryption of
//! pushes and encryption of replies.
//!
//! The cipher is AES-256-CBC with the IV taken from the first 16 key bytes and
//! WeChat's own PKCS#7 variant that pads to 32-byte blocks (so `cbc`'s 16-byte
//! padding cannot be used; we pad by hand). The plaintext is
//! `random(16) | len(u32 BE) | message | appid`; the appid must be ours.
//!
//! Decryption authenticates nothing by itself: CBC lets a bit flip in one block
//! change the next block predictably. Callers verify `msg_signature` over the
//! `Encrypt` text first ([`crate::open_push`] does both in that order).

use std::fmt;

use aes::cipher::KeyInit;
use aes::{Aes256, Aes256Dec};
use base64_simd::STANDARD;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyIvInit};

use crate::signature;

/// WeChat pads to multiples of this many bytes.
const PAD_BLOCK: usize = 32;
const RANDOM_LEN: usize = 16;
const HEADER_LEN: usize = RANDOM_LEN + 4;

/// Why a key could not be read or a message could not be decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 characters long. The key itself is never
    /// part of the message.
    #[error(
        "EncodingAESKey must be 43 letters and digits (got {0} characters); copy it again from the account's server settings"
    )]
    InvalidKey(usize),
    /// The EncodingAESKey has the right length but a character that is not
    /// a letter or digit (1-based position; the key is never shown).
    #[error(
        "EncodingAESKey has a character that is not a letter or digit at position {0}; copy it again from the account's server settings"
    )]
    InvalidKeyCharacter(usize),
    /// The `Encrypt` text is not base64.
    #[error("Encrypt is not valid base64")]
    Base64,
    /// The ciphertext is empty or not a whole number of AES blocks.
    #[error("ciphertext of {0} bytes is not a whole number of 32-byte blocks")]
    Length(usize),
    /// The padding bytes are not WeChat's PKCS#7 (1..=32, all equal).
    #[error("bad padding: wrong key, or the ciphertext was altered")]
    Padding,
    /// The length field points past the end of the plaintext.
    #[error("bad message length field: wrong key, or the ciphertext was altered")]
    Layout,
    /// The message is not UTF-8.
    #[error("decrypted message is not UTF-8")]
    Utf8,
    /// The trailing appid is not ours.
    #[error("message is for appid {0:?}, not this account")]
    AppIdMismatch(String),
}

/// A decoded EncodingAESKey: 32 bytes. `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 32]);

impl AesKey {
    /// Decodes the 43-character EncodingAESKey from the account's settings.
    ///
    /// ```
    /// use wxmass_callback::crypto::AesKey;
    /// let key = AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
    /// assert_eq!(format!("{key:?}"), "AesKey(***)");
    /// assert!(AesKey::from_encoding_aes_key("too-short").is_err());
    /// ```
    pub fn from_encoding_aes_key(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let trimmed = encoding_aes_key.trim();
        let length = trimmed.chars().count();
        if length != 43 {
            return Err(CryptoError::InvalidKey(length));
        }
        if let Some(at) = trimmed.bytes().position(|b| !is_base64_symbol(b)) {
            return Err(CryptoError::InvalidKeyCharacter(at + 1));
        }
        // The key is base64 without its final '='. The last character may carry
        // non-zero trailing bits (real and made-up keys do); Python's decoder
        // accepts them, and so does the forgiving decoder.
        match base64_simd::forgiving_decode_to_vec(trimmed.as_bytes()) {
            Ok(bytes) => <[u8; 32]>::try_from(bytes.as_slice())
                .map(Self)
                .map_err(|_| CryptoError::InvalidKeyCharacter(43)),
            Err(_) => Err(CryptoError::InvalidKeyCharacter(43)),
        }
    }

    /// A key from raw bytes (tests, generated configurations).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 43-character EncodingAESKey for these bytes.
    pub fn to_encoding_aes_key(&self) -> String {
        let mut s = STANDARD.encode_to_string(self.0);
        s.truncate(43);
        s
    }

    fn decryptor(&self) -> Aes256Dec {
        Aes256Dec::new(&self.0.into())
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AesKey(***)")
    }
}

fn is_base64_symbol(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// Encrypts and decrypts messages for one appid, with the current key and,
/// during a key rotation, the previous one.
///
/// ```
/// use wxmass_callback::crypto::{AesKey, MessageCrypto};
/// let key = AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")?;
/// let crypto = MessageCrypto::new("wx2c2769f8efd9abc2", key);
/// let encrypt = crypto.encrypt("<xml>hi</xml>");
/// assert_eq!(crypto.decrypt(&encrypt)?, "<xml>hi</xml>");
/// # Ok::<(), wxmass_callback::crypto::CryptoError>(())
/// ```
#[derive(Clone)]
pub struct MessageCrypto {
    appid: String,
    current: AesKey,
    /// Decryption round keys, expanded once rather than per message.
    current_dec: Aes256Dec,
    previous: Option<(AesKey, Aes256Dec)>,
}

impl fmt::Debug for MessageCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageCrypto")
            .field("appid", &self.appid)
            .field("current", &self.current)
            .field("previous", &self.previous.as_ref().map(|(key, _)| key))
            .finish()
    }
}

impl MessageCrypto {
    /// Crypto for `appid` with its current key.
    pub fn new(appid: impl Into<String>, current: AesKey) -> Self {
        Self {
            appid: appid.into(),
            current_dec: current.decryptor(),
            current,
            previous: None,
        }
    }

    /// Also accepts messages encrypted with `previous`, the key in force before
    /// the last change in the account's settings. Replies always use the
    /// current key.
    pub fn with_previous_key(mut self, previous: AesKey) -> Self {
        let dec = previous.decryptor();
        self.previous = Some((previous, dec));
        self
    }

    /// The appid messages must carry.
    pub fn appid(&self) -> &str {
        &self.appid
    }

    /// Decrypts an `Encrypt` value to the message it carries, trying the
    /// current key and then the previous one.
    pub fn decrypt(&self, encrypt: &str) -> Result<String, CryptoError> {
        self.decrypt_message(encrypt).map(Decrypted::into_string)
    }

    /// Like [`decrypt`](Self::decrypt), without copying the message out of the
    /// buffer it was decrypted in.
    pub fn decrypt_message(&self, encrypt: &str) -> Result<Decrypted, CryptoError> {
        let ciphertext = STANDARD
            .decode_to_vec(encrypt.trim())
            .map_err(|_| CryptoError::Base64)?;
        if ciphertext.is_empty() || ciphertext.len() % PAD_BLOCK != 0 {
            return Err(CryptoError::Length(ciphertext.len()));
        }
        match &self.previous {
            None => self.decrypt_with(&self.current, &self.current_dec, ciphertext),
            Some((previous, previous_dec)) => {
                match self.decrypt_with(&self.current, &self.current_dec, ciphertext.clone()) {
                    Ok(msg) => Ok(msg),
                    Err(first) => self
                        .decrypt_with(previous, previous_dec, ciphertext)
                        .map_err(|_| first),
                }
            }
        }
    }

    fn decrypt_with(
        &self,
        key: &AesKey,
        dec: &Aes256Dec,
        mut buf: Vec<u8>,
    ) -> Result<Decrypted, CryptoError> {
        let decryptor = cbc::Decryptor::<Aes256Dec>::inner_iv_init(dec.clone(), &key.iv().into());
        let total = buf.len();
        let len = decryptor
            .decrypt_padded::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::Length(total))?
            .len();
        buf.truncate(len);
        let unpadded = unpad(&buf)?;
        if unpadded < HEADER_LEN {
            return Err(CryptoError::Layout);
        }
        let mut len_bytes = [0u8; 4];
        len_bytes.copy_from_slice(&buf[RANDOM_LEN..HEADER_LEN]);
        let msg_len = u32::from_be_bytes(len_bytes) as usize;
        let msg_end = HEADER_LEN
            .checked_add(msg_len)
            .filter(|end| *end <= unpadded)
            .ok_or(CryptoError::Layout)?;
        let appid = &buf[msg_end..unpadded];
        if appid != self.appid.as_bytes() {
            let shown: String = String::from_utf8_lossy(appid).chars().take(32).collect();
            return Err(CryptoError::AppIdMismatch(shown));
        }
        // Blank out the random prefix and the length so that the buffer becomes
        // a `String` after one UTF-8 check, with no copy.
        buf.truncate(msg_end);
        buf[..HEADER_LEN].fill(b' ');
        let text = String::from_utf8(buf).map_err(|_| CryptoError::Utf8)?;
        Ok(Decrypted { text })
    }

    /// Encrypts `msg` with a fresh random prefix, returning the base64 `Encrypt`.
    pub fn encrypt(&self, msg: &str) -> String {
        use rand::RngExt as _;
        let random: [u8; RANDOM_LEN] = rand::rng().random();
        self.encrypt_with_random(msg, random)
    }

    /// Encrypts with a given random prefix: for test vectors and reproducible
    /// fixtures only, since a fixed prefix leaks which messages are equal.
    pub fn encrypt_with_random(&self, msg: &str, random: [u8; RANDOM_LEN]) -> String {
        let body_len = HEADER_LEN + msg.len() + self.appid.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        buf.extend_from_slice(msg.as_bytes());
        buf.extend_from_slice(self.appid.as_bytes());
        buf.resize(body_len + pad, pad as u8);
        let key = &self.current;
        let encryptor = cbc::Encryptor::<Aes256>::new(&key.0.into(), &key.iv().into());
        let total = buf.len();
        let ciphertext = encryptor
            .encrypt_padded::<NoPadding>(&mut buf, total)
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        STANDARD.encode_to_string(ciphertext)
    }

    /// Encrypts and signs `msg`: what a safe-mode reply or push carries.
    pub fn seal(&self, token: &str, msg: &str, timestamp: &str, nonce: &str) -> Sealed {
        let encrypt = self.encrypt(msg);
        Sealed::sign(token, encrypt, timestamp, nonce)
    }
}

/// A decrypted message, still in the buffer it was decrypted in (behind
/// 20 bytes of blanks where the random prefix and length were).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decrypted {
    text: String,
}

impl Decrypted {
    /// The message.
    pub fn as_str(&self) -> &str {
        // The header is ASCII blanks, so HEADER_LEN is a char boundary.
        self.text.get(HEADER_LEN..).unwrap_or_default()
    }

    /// The message as a `String`.
    pub fn into_string(mut self) -> String {
        self.text.drain(..HEADER_LEN.min(self.text.len()));
        self.text
    }
}

/// Returns the length without WeChat's 32-byte PKCS#7 padding.
fn unpad(buf: &[u8]) -> Result<usize, CryptoError> {
    let pad = *buf.last().ok_or(CryptoError::Padding)? as usize;
    if pad == 0 || pad > PAD_BLOCK || pad > buf.len() {
        return Err(CryptoError::Padding);
    }
    if buf[buf.len() - pad..].iter().any(|&b| b as usize != pad) {
        return Err(CryptoError::Padding);
    }
    Ok(buf.len() - pad)
}

/// An encrypted, signed message: the four values of a safe-mode reply, or of
/// the `Encrypt` element and `msg_signature` parameter of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// Base64 ciphertext.
    pub encrypt: String,
    /// `msg_signature` over token, timestamp, nonce and `encrypt`.
    pub msg_signature: String,
    /// Unix seconds, as text.
    pub timestamp: String,
    /// The nonce.
    pub nonce: String,
}

impl Sealed {
    /// Signs an `Encrypt` value.
    pub fn sign(token: &str, encrypt: String, timestamp: &str, nonce: &str) -> Self {
        let msg_signature = signature::msg_signature(token, timestamp, nonce, &encrypt);
        Self {
            encrypt,
            msg_signature,
            timestamp: timestamp.to_owned(),
            nonce: nonce.to_owned(),
        }
    }

    /// The passive-reply XML of §16.4.
    pub fn to_reply_xml(&self) -> String {
        format!(
            "<xml>\n<Encrypt><![CDATA[{}]]></Encrypt>\n<MsgSignature><![CDATA[{}]]></MsgSignature>\n<TimeStamp>{}</TimeStamp>\n<Nonce><![CDATA[{}]]></Nonce>\n</xml>",
            self.encrypt,
            self.msg_signature,
            crate::xml::escape_text(&self.timestamp),
            crate::xml::cdata_safe(&self.nonce)
        )
    }

    /// The body of a safe-mode push to a server: `ToUserName` and `Encrypt`.
    pub fn to_push_xml(&self, to_user_name: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[{}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt></xml>",
            crate::xml::cdata_safe(to_user_name),
            self.encrypt
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";

    fn key(s: &str) -> AesKey {
        AesKey::from_encoding_aes_key(s).expect("test key is valid")
    }

    fn random(s: &str) -> [u8; 16] {
        s.as_bytes().try_into().expect("16 bytes")
    }

    #[test]
    fn key_decoding_matches_the_reference() {
        let k = key(KEY_A);
        assert_eq!(
            hex::encode(k.0),
            "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"
        );
        assert_eq!(hex::encode(k.iv()), "69b71d79f8218a39259a7a29aabb2dba");
        // The canonical form of KEY_A has its trailing bits cleared (G -> E).
        assert_eq!(
            k.to_encoding_aes_key(),
            "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFE"
        );
        assert_eq!(key(&"A".repeat(43)).0, [0u8; 32]);
    }

    #[test]
    fn keys_with_trailing_bits_are_accepted() {
        // 'G' (000110) carries the non-zero bits "10" past the 256th; E, F, G
        // and H differ only there, so all four decode to the same key.
        for last in ['E', 'F', 'G', 'H'] {
            let k = key(&format!("{}{last}", &KEY_A[..42]));
            assert_eq!(k, key(KEY_A));
        }
        assert_ne!(key(&format!("{}I", &KEY_A[..42])), key(KEY_A));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!(
            AesKey::from_encoding_aes_key("abc"),
            Err(CryptoError::InvalidKey(3))
        );
        assert!(AesKey::from_encoding_aes_key(&format!("{}=", &KEY_A[..42])).is_err());
        assert!(AesKey::from_encoding_aes_key(&format!("{KEY_A}A")).is_err());
    }

    #[test]
    fn vector_a_encrypts_exactly() {
        let crypto = MessageCrypto::new("wxb11529c136998cb6", key(KEY_A));
        let a1 = crypto.encrypt_with_random("我是中文abcd123", random("aaaabbbbccccdddd"));
        assert_eq!(
            a1,
            "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
        );
        assert_eq!(crypto.decrypt(&a1).as_deref(), Ok("我是中文abcd123"));
        assert_eq!(
            signature::msg_signature("pamtest", "1409304348", "xxxxxx", &a1),
            "82c962d39941aa48552f90ef55aa323dc620cc10"
        );
    }

    #[test]
    fn padding_is_to_32_byte_blocks() {
        let crypto = MessageCrypto::new("wx", key(KEY_A));
        // 16 + 4 + 10 + 2 = 32 bytes: already aligned, so a full block of 32 × 0x20.
        let enc = crypto.encrypt_with_random("0123456789", [0; 16]);
        let raw = STANDARD.decode_to_vec(&enc).expect("base64");
        assert_eq!(raw.len(), 64);
        assert_eq!(crypto.decrypt(&enc).as_deref(), Ok("0123456789"));
    }

    #[test]
    fn wrong_appid_is_refused() {
        let theirs = MessageCrypto::new("wxother", key(KEY_A));
        let ours = MessageCrypto::new("wxours", key(KEY_A));
        assert_eq!(
            ours.decrypt(&theirs.encrypt("<xml/>")),
            Err(CryptoError::AppIdMismatch("wxother".into()))
        );
    }

    #[test]
    fn previous_key_still_decrypts_but_replies_use_the_current_one() {
        let old = key(KEY_A);
        let new = key(&"B".repeat(43));
        let sender = MessageCrypto::new("wx1", old.clone());
        let enc = sender.encrypt("<xml>rotating</xml>");
        let receiver = MessageCrypto::new("wx1", new.clone()).with_previous_key(old);
        assert_eq!(receiver.decrypt(&enc).as_deref(), Ok("<xml>rotating</xml>"));
        let only_new = MessageCrypto::new("wx1", new);
        assert!(only_new.decrypt(&enc).is_err());
        assert_eq!(only_new.decrypt(&receiver.encrypt("x")).as_deref(), Ok("x"));
    }

    #[test]
    fn malformed_ciphertexts_are_errors_not_panics() {
        let crypto = MessageCrypto::new("wx", key(KEY_A));
        assert_eq!(crypto.decrypt("not base64!"), Err(CryptoError::Base64));
        assert_eq!(crypto.decrypt(""), Err(CryptoError::Length(0)));
        assert_eq!(
            crypto.decrypt(&STANDARD.encode_to_string([0u8; 16])),
            Err(CryptoError::Length(16))
        );
        // Random blocks decrypt to garbage whose padding or layout is wrong.
        for fill in 0u8..8 {
            let err = crypto.decrypt(&STANDARD.encode_to_string([fill; 64]));
            assert!(err.is_err(), "{fill}: {err:?}");
        }
    }

    #[test]
    fn sealed_reply_has_the_documented_layout() {
        let sealed = Sealed::sign("tok", "ENC".into(), "1411525903", "461056294");
        let xml = sealed.to_reply_xml();
        assert!(xml.contains("<Encrypt><![CDATA[ENC]]></Encrypt>"));
        assert!(xml.contains("<TimeStamp>1411525903</TimeStamp>"));
        assert!(xml.contains("<Nonce><![CDATA[461056294]]></Nonce>"));
        assert!(xml.contains(&format!(
            "<MsgSignature><![CDATA[{}]]></MsgSignature>",
            signature::msg_signature("tok", "1411525903", "461056294", "ENC")
        )));
    }
}
